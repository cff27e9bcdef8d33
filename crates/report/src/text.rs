//! Builders for each command's output, as [`Grid`]s or text.

use std::collections::BTreeMap;

use demarc_api::{CallSheetV1, TriageV1};
use demarc_engine::{Analysis, AssetIx, BasisKind, Cell, Explanation, Resolution};
use demarc_model::Duty;

use crate::Grid;

/// The gap list of `demarc check`.
pub fn gaps_grid(analysis: &Analysis, wide: bool) -> Grid {
    let mut g = Grid::new([
        "severity", "code", "control", "duties", "assets", "gap", "fix",
    ]);
    let n = if wide { usize::MAX } else { 4 };
    for gap in &analysis.gaps {
        g.row([
            gap.severity.as_str().to_string(),
            format!("{} {}", gap.code, gap.kind),
            gap.control.clone().unwrap_or_default(),
            gap.duties
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if gap.asset_count > gap.assets.len() && wide {
                format!(
                    "{} (+{} more)",
                    gap.assets.join(", "),
                    gap.asset_count - gap.assets.len()
                )
            } else if gap.asset_count > n.min(gap.assets.len()) && !wide {
                format!(
                    "{}, +{} more",
                    gap.assets[..n.min(gap.assets.len())].join(", "),
                    gap.asset_count - n.min(gap.assets.len())
                )
            } else {
                gap.assets.join(", ")
            },
            gap.title.clone(),
            gap.fix.clone(),
        ]);
    }
    g
}

/// Header lines of `demarc check`.
pub fn summary_text(res: &Resolution, analysis: &Analysis) -> String {
    let s = &analysis.summary;
    let own = |k: &str| s.ownership.get(k).copied().unwrap_or(0);
    let sev = |k: &str| s.by_severity.get(k).copied().unwrap_or(0);
    format!(
        "estate {} as of {} — accountable: {}\n\
         {} assets, {} cells: {} csp-owned, {} csc-owned, {} shared, {} third-party; {} assumed, {} unassigned\n\
         {} gaps: {} critical, {} high, {} medium, {} low, {} info\n",
        res.estate().name,
        res.as_of(),
        res.accountable(),
        s.assets,
        s.cells,
        own("csp-owned"),
        own("csc-owned"),
        own("shared"),
        own("third-party"),
        s.assumed_cells,
        s.unassigned_cells,
        s.gaps,
        sev("critical"),
        sev("high"),
        sev("medium"),
        sev("low"),
        sev("info"),
    )
}

/// One line per responsible party with how many controls it holds for a duty:
/// `aws ×31; acme/platform ×12; acme (unassigned) ×3`.
pub fn duty_summary(cells: &[std::sync::Arc<Cell>], duty: Duty) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.duty == duty) {
        for a in &c.responsible {
            let label = if a.named {
                a.label()
            } else {
                format!("{} (unassigned)", a.label())
            };
            *counts.entry(label).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .map(|(l, n)| format!("{l} ×{n}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Columns of the asset × duty grid of `demarc matrix`.
pub const MATRIX_HEADERS: [&str; 7] = [
    "asset",
    "service",
    "configure",
    "patch",
    "monitor",
    "respond",
    "audit",
];

/// The asset × duty grid of `demarc matrix`.
pub fn matrix_grid(res: &Resolution, assets: &[AssetIx]) -> Grid {
    let mut g = Grid::new(MATRIX_HEADERS);
    for row in matrix_grid_rows(res, assets) {
        g.row(row);
    }
    g
}

/// The rows of [`matrix_grid`], one at a time. Assets of one table share their duty
/// summaries, so each table is summarised once however many assets use it.
pub fn matrix_grid_rows<'a>(
    res: &'a Resolution,
    assets: &'a [AssetIx],
) -> impl Iterator<Item = Vec<String>> + 'a {
    let mut per_table: Vec<Option<Vec<String>>> = vec![None; res.table_count()];
    assets.iter().map(move |&i| {
        let t = res.table_of(i);
        let sums = per_table[t.index()].get_or_insert_with(|| {
            Duty::ALL
                .iter()
                .map(|&d| duty_summary(res.table_cells(t), d))
                .collect()
        });
        let a = res.asset(i);
        let mut row = Vec::with_capacity(MATRIX_HEADERS.len());
        row.push(a.id.value.clone());
        row.push(a.service.to_string());
        row.extend(sums.iter().cloned());
        row
    })
}

/// Filters for cell rows.
#[derive(Debug, Clone, Default)]
pub struct CellFilter {
    pub control: Option<String>,
    pub duty: Option<Duty>,
    /// Only cells with nobody named, contested or unsplit.
    pub problems_only: bool,
}

impl CellFilter {
    pub fn keep(&self, res: &Resolution, c: &Cell) -> bool {
        self.control
            .as_ref()
            .is_none_or(|id| res.control_of(c).id == *id)
            && self.duty.is_none_or(|d| c.duty == d)
            && (!self.problems_only || c.has_problem())
    }
}

/// Columns of `demarc matrix --rows`.
pub const ROW_HEADERS: [&str; 9] = [
    "asset",
    "service",
    "control",
    "layer",
    "duty",
    "ownership",
    "responsible",
    "accountable",
    "basis",
];

/// The asset × control × duty rows of `demarc matrix --rows`.
pub fn matrix_rows(res: &Resolution, assets: &[AssetIx], filter: &CellFilter) -> Grid {
    let mut g = Grid::new(ROW_HEADERS);
    for row in matrix_rows_iter(res, assets, filter) {
        g.row(row);
    }
    g
}

/// The rows of [`matrix_rows`], one at a time. What a row says about its cell is the same for
/// every asset of a table, so it is formatted once per table.
pub fn matrix_rows_iter<'a>(
    res: &'a Resolution,
    assets: &'a [AssetIx],
    filter: &'a CellFilter,
) -> impl Iterator<Item = Vec<String>> + 'a {
    let mut per_table: Vec<Option<std::rc::Rc<Vec<[String; 7]>>>> = vec![None; res.table_count()];
    assets.iter().flat_map(move |&i| {
        let t = res.table_of(i);
        let tails = per_table[t.index()]
            .get_or_insert_with(|| {
                std::rc::Rc::new(
                    res.table_cells(t)
                        .iter()
                        .filter(|c| filter.keep(res, c))
                        .map(|c| {
                            let control = res.control_of(c);
                            [
                                control.id.clone(),
                                control.layer.clone(),
                                c.duty.to_string(),
                                c.ownership.as_str().to_string(),
                                c.responsible_label(),
                                res.accountable().to_string(),
                                deciding_basis(c),
                            ]
                        })
                        .collect(),
                )
            })
            .clone();
        let a = res.asset(i);
        let (id, service) = (a.id.value.clone(), a.service.to_string());
        (0..tails.len()).map(move |k| {
            let mut row = Vec::with_capacity(ROW_HEADERS.len());
            row.push(id.clone());
            row.push(service.clone());
            row.extend(tails[k].iter().cloned());
            row
        })
    })
}

/// The rule that decided a cell, in one line.
pub fn deciding_basis(c: &Cell) -> String {
    c.decisive().map(|b| b.rule.clone()).unwrap_or_default()
}

/// `demarc explain`: the full chain of rules for one cell.
pub fn explain_text(e: &Explanation) -> String {
    let (a, c, control) = (e.asset, &**e.cell, e.control);
    let mut out = format!(
        "{} × {} ({}) × {}\n  service:     {}\n  layer:       {}\n  ownership:   {} ({})\n  responsible: {}\n  accountable: {} (accountability never leaves the customer)\n",
        a.id.value,
        control.id,
        control.name,
        c.duty,
        a.service.value,
        control.layer,
        c.ownership.as_str(),
        c.ownership.origination(),
        c.responsible_label(),
        e.accountable,
    );
    for r in &c.responsible {
        if let Some(d) = &r.does {
            out.push_str(&format!("    {} does: {d}\n", r.label()));
        }
        if !r.declared {
            out.push_str(&format!(
                "    note: `{}` is not a party in the estate\n",
                r.party
            ));
        }
    }
    if let Some(s) = c.sla {
        out.push_str(&format!("  sla:         {s}\n"));
    }
    if let Some(s) = c.cadence {
        out.push_str(&format!("  cadence:     every {s}\n"));
    }
    if c.assumed {
        out.push_str("  status:      ASSUMED — no provider document decides this; the customer is responsible by default\n");
    }
    if c.unassigned {
        out.push_str(
            "  status:      UNASSIGNED — nobody on the customer side is named in writing\n",
        );
    }
    if !c.contested.is_empty() {
        out.push_str(&format!(
            "  status:      CONTESTED — also claimed for {}\n",
            c.contested.join(", ")
        ));
    }
    if c.unsplit {
        out.push_str(
            "  status:      SHARED WITHOUT A SPLIT — nobody wrote down what each owner does\n",
        );
    }
    out.push_str("  basis (decisive rule last among the applied ones):\n");
    for (i, b) in c.basis.iter().enumerate() {
        let kind = match b.kind {
            BasisKind::Override => "override",
            BasisKind::Contract => "contract",
            BasisKind::Assignment => "assignment",
            BasisKind::ServiceCatalog => "catalog (service)",
            BasisKind::GenericModel => "catalog (model)",
            BasisKind::Default => "default",
            BasisKind::Superseded => "superseded",
            BasisKind::Lapsed => "lapsed",
        };
        out.push_str(&format!("    {}. [{kind}] {}\n", i + 1, b.rule));
        if let Some(at) = &b.at {
            out.push_str(&format!("       at {at}\n"));
        }
        if let Some(u) = &b.url {
            out.push_str(&format!("       source {u}\n"));
        }
    }
    out
}

/// `demarc who <verb> ASSET`: one row per control that has this duty.
pub fn who_grid(res: &Resolution, cells: &[&std::sync::Arc<Cell>]) -> Grid {
    let mut g = Grid::new(["control", "layer", "ownership", "responsible", "basis"]);
    for c in cells {
        let ctl = res.control_of(c);
        g.row([
            ctl.id.clone(),
            ctl.layer.clone(),
            c.ownership.as_str().to_string(),
            c.responsible_label(),
            deciding_basis(c),
        ]);
    }
    g
}

pub fn triage_text(t: &TriageV1) -> String {
    let mut out = format!("triage {} / {} ({})\n", t.asset, t.control, t.duty);
    out.push_str(&format!(
        "  responsible: {}\n",
        t.responsible
            .iter()
            .map(|r| if r.named {
                r.label()
            } else {
                format!("{} (UNASSIGNED: nobody named)", r.label())
            })
            .collect::<Vec<_>>()
            .join(" + ")
    ));
    out.push_str(&format!("  accountable: {}\n", t.accountable));
    out.push_str(&format!(
        "  sla:         {}\n",
        t.sla.as_deref().unwrap_or("none in writing")
    ));
    out.push_str("  contacts:\n");
    for c in &t.contacts {
        out.push_str(&format!(
            "    - {}: {}{}\n",
            c.name,
            c.contact.as_deref().unwrap_or("no contact on file"),
            c.phone
                .as_ref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default()
        ));
    }
    out.push_str("  escalation:\n");
    for (i, e) in t.escalation.iter().enumerate() {
        out.push_str(&format!("    {}. {e}\n", i + 1));
    }
    out.push_str("  basis:\n");
    for b in &t.basis {
        out.push_str(&format!(
            "    - {}{}\n",
            b.rule,
            b.at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()
        ));
    }
    out
}

/// `demarc triage ASSET` without a control: the incident call sheet.
pub fn call_sheet_text(t: &CallSheetV1) -> String {
    let mut out = format!(
        "incident on {} ({}) — call in this order (as of {}):\n",
        t.asset, t.service, t.as_of
    );
    for (n, c) in t.calls.iter().enumerate() {
        let who = match &c.team {
            Some(team) => format!("{}/{team}", c.party),
            None => c.party.clone(),
        };
        out.push_str(&format!(
            "  {}. [{}] {who} — {}: {}{}\n",
            n + 1,
            c.reason,
            c.name,
            c.contact.as_deref().unwrap_or("no contact on file"),
            c.phone
                .as_ref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default()
        ));
        if let Some(sla) = &c.sla {
            out.push_str(&format!(
                "       must respond within {sla} ({})\n",
                c.sla_set_by.as_deref().unwrap_or("in writing")
            ));
        }
        if let Some(b) = &c.on_behalf_of {
            out.push_str(&format!("       works for {b}\n"));
        }
        if !c.responds.is_empty() {
            out.push_str(&format!(
                "       responds for: {}\n",
                first_few(&c.responds)
            ));
        }
        if !c.detects.is_empty() {
            out.push_str(&format!("       detects: {}\n", first_few(&c.detects)));
        }
        for l in &c.attestation_lapsed {
            out.push_str(&format!(
                "       WARNING: {}'s {} attestation lapsed on {}; do not rely on it\n",
                c.party, l.framework, l.valid_until
            ));
        }
        if !c.escalation.is_empty() {
            out.push_str(&format!(
                "       escalation: {}\n",
                c.escalation.join(" → ")
            ));
        }
    }
    out
}

/// `a, b, c, +12 more`: long control lists stay one readable line.
fn first_few(items: &[String]) -> String {
    const N: usize = 6;
    if items.len() <= N {
        items.join(", ")
    } else {
        format!("{}, +{} more", items[..N].join(", "), items.len() - N)
    }
}
