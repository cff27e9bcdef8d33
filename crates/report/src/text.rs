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

/// The gap list of `demarc check` for a terminal or a pipe. On a terminal at least
/// [`WIDE_TABLE`](crate::WIDE_TABLE) columns wide where it fits without splitting a word, the
/// table of [`gaps_grid`]; otherwise (narrower, or piped) the compact layout: one line per gap
/// (severity, code, control, duties, assets), the gap and its fix on indented lines below,
/// wrapped at spaces only so ids and YAML snippets can be copied whole.
pub fn gaps_table(analysis: &Analysis, wide: bool, term: crate::Term) -> String {
    let grid = gaps_grid(analysis, wide);
    if term
        .width
        .is_some_and(|w| w >= crate::WIDE_TABLE && grid.fits(w))
    {
        return grid.render_for(crate::Format::Table, term);
    }
    let width = term.wrap_width();
    let mut out = String::new();
    for r in &grid.rows {
        let [sev, code, control, duties, assets, title, fix] =
            [0, 1, 2, 3, 4, 5, 6].map(|k| r[k].as_str());
        let head = format!(
            "{sev} {code} · {}{} · {assets}",
            if control.is_empty() { "-" } else { control },
            if duties.is_empty() {
                String::new()
            } else {
                format!(" ({duties})")
            },
        );
        let head = crate::wrap(&head, width, 4);
        let head = match head.split_once(sev) {
            Some(("", rest)) if term.color => format!("{}{rest}", crate::paint(sev, true, false)),
            _ => head,
        };
        out.push_str(&head);
        out.push('\n');
        out.push_str("    ");
        out.push_str(&crate::wrap(title, width, 4));
        out.push('\n');
        if !fix.is_empty() {
            out.push_str("    fix: ");
            out.push_str(&crate::wrap(fix, width, 9));
            out.push('\n');
        }
    }
    out
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

/// The columns of `demarc matrix --rows` with `filter`: [`ROW_HEADERS`], and with
/// `--problems` a `problem` column after `duty` saying which problem each row has
/// (`unassigned`, `contested`, `unsplit`, joined with `+` when several).
pub fn row_headers(filter: &CellFilter) -> Vec<&'static str> {
    let mut h = ROW_HEADERS.to_vec();
    if filter.problems_only {
        h.insert(5, "problem");
    }
    h
}

/// What is wrong with a cell, for the `problem` column: `unassigned`, `contested`, `unsplit`,
/// joined with `+` when several; empty when nothing is.
pub fn problem_label(c: &Cell) -> String {
    crate::html::problems_of(c).join("+")
}

/// The asset × control × duty rows of `demarc matrix --rows`.
pub fn matrix_rows(res: &Resolution, assets: &[AssetIx], filter: &CellFilter) -> Grid {
    let mut g = Grid::new(row_headers(filter));
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
    let mut per_table: Vec<Option<std::rc::Rc<Vec<Vec<String>>>>> = vec![None; res.table_count()];
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
                            let mut tail = vec![
                                control.id.clone(),
                                control.layer.clone(),
                                c.duty.to_string(),
                            ];
                            if filter.problems_only {
                                tail.push(problem_label(c));
                            }
                            tail.extend([
                                c.ownership.as_str().to_string(),
                                c.responsible_label(),
                                res.accountable().to_string(),
                                deciding_basis(c),
                            ]);
                            tail
                        })
                        .collect(),
                )
            })
            .clone();
        let a = res.asset(i);
        let (id, service) = (a.id.value.clone(), a.service.to_string());
        (0..tails.len()).map(move |k| {
            let mut row = Vec::with_capacity(ROW_HEADERS.len() + 1);
            row.push(id.clone());
            row.push(service.clone());
            row.extend(tails[k].iter().cloned());
            row
        })
    })
}

/// The rule that decided a cell, in one line.
pub fn deciding_basis(c: &Cell) -> String {
    c.decisive().map(|b| b.rule.to_string()).unwrap_or_default()
}

/// The label `explain` and the HTML report give a basis step's kind.
pub fn basis_kind_label(kind: BasisKind) -> &'static str {
    match kind {
        BasisKind::Override => "override",
        BasisKind::Contract => "contract",
        BasisKind::Assignment => "assignment",
        BasisKind::ServiceCatalog => "catalog (service)",
        BasisKind::GenericModel => "catalog (model)",
        BasisKind::Default => "default",
        BasisKind::Superseded => "lost",
        BasisKind::Lapsed => "lapsed",
    }
}

/// A cell's basis in the order people read it: the decisive step first, then the other steps
/// that applied (the provider's document for its side of a shared duty), then the rules that
/// lost, then the ones that lapsed. The engine's own order (and the JSON's) is unchanged.
pub fn basis_in_reading_order(c: &Cell) -> Vec<&demarc_engine::Basis> {
    let decisive = c.decisive().map(|b| b as *const demarc_engine::Basis);
    let rank = |b: &demarc_engine::Basis| {
        if Some(b as *const _) == decisive {
            0
        } else {
            match b.kind {
                BasisKind::Superseded => 2,
                BasisKind::Lapsed => 3,
                _ => 1,
            }
        }
    };
    let mut v: Vec<&demarc_engine::Basis> = c.basis.iter().collect();
    v.sort_by_key(|b| rank(b));
    v
}

/// Splits a basis step's trailing note, `rule text (note)`, into the rule and the note. A
/// rule without a trailing parenthesis has no note.
fn split_note(rule: &str) -> (&str, Option<&str>) {
    if !rule.ends_with(')') {
        return (rule, None);
    }
    let mut depth = 0usize;
    for (i, ch) in rule.char_indices().rev() {
        match ch {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    let head = rule[..i].trim_end();
                    return if head.is_empty() {
                        (rule, None)
                    } else {
                        (head, Some(&rule[i + 1..rule.len() - 1]))
                    };
                }
            }
            _ => {}
        }
    }
    (rule, None)
}

fn is_loser_note(n: &str) -> bool {
    [
        "less specific than ",
        "equally specific as ",
        "outranked by ",
        "the provider owns",
    ]
    .iter()
    .any(|p| n.starts_with(p))
}

/// Why a rule lost, in plain words, from the engine's note: which rule won and the scores.
fn loser_reason(note: &str) -> String {
    if let Some(rest) = note.strip_prefix("less specific than ")
        && let Some((winner, scores)) = rest.rsplit_once(" (specificity ")
        && let Some((mine, best)) = scores.trim_end_matches(')').split_once(" < ")
    {
        return format!(
            "lost to {winner}, whose scope is more specific (specificity {best} against this rule's {mine})"
        );
    }
    if let Some(rest) = note.strip_prefix("equally specific as ")
        && let Some((winner, tail)) = rest.split_once(" (")
        && let Some((score, why)) = tail.split_once("); ")
    {
        return format!(
            "lost a tie to {winner}: both have specificity {score}, and {}",
            why.trim_start_matches("the tie goes to ").replace(
                "the rule that sorts first by name and content",
                "the rule that sorts first by name and content wins"
            )
        );
    }
    note.to_string()
}

/// How a responsible party stands to the customer, for `explain`.
fn role_words(a: &demarc_engine::Assignee, customer: &str) -> String {
    use demarc_engine::Role;
    let what = match a.role {
        Role::Provider => "provider".to_string(),
        Role::Customer if a.party == customer && a.team.is_some() => {
            "the customer's own team".to_string()
        }
        Role::Customer => "the customer".to_string(),
        Role::Mssp => format!("MSSP working for {customer}"),
        Role::Vendor => format!("vendor working for {customer}"),
    };
    if a.named {
        what
    } else {
        format!("{what}; UNASSIGNED: nobody named in writing")
    }
}

/// `demarc explain`: the full chain of rules for one cell, the decisive rule first.
pub fn explain_text(e: &Explanation) -> String {
    let (a, c, control) = (e.asset, &**e.cell, e.control);
    // `shared (shared)` says nothing twice: the FedRAMP wording only where it differs.
    let ownership = match c.ownership.origination() {
        o if o == c.ownership.as_str() => o.to_string(),
        o => format!("{} ({o})", c.ownership.as_str()),
    };
    let mut out = format!(
        "{} × {} ({}) × {}\n  service:     {}\n  layer:       {}\n  ownership:   {ownership}\n",
        a.id.value, control.id, control.name, c.duty, a.service.value, control.layer,
    );
    for (n, r) in c.responsible.iter().enumerate() {
        out.push_str(&format!(
            "  {} {} ({})\n",
            if n == 0 {
                "responsible:"
            } else {
                "           +"
            },
            r.label(),
            role_words(r, e.accountable)
        ));
        if let Some(d) = &r.does {
            out.push_str(&format!("               does: {d}\n"));
        }
        if !r.declared {
            out.push_str(&format!(
                "               note: `{}` is not a party in the estate\n",
                r.party
            ));
        }
    }
    out.push_str(&format!(
        "  accountable: {} (accountability never leaves the customer)\n",
        e.accountable
    ));
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
            "  status:      CONTESTED — equally specific rules also name {}\n",
            c.contested.join(", ")
        ));
    }
    if c.unsplit {
        out.push_str(
            "  status:      SHARED WITHOUT A SPLIT — nobody wrote down what each owner does\n",
        );
    }
    if let Some(d) = e.decisive {
        out.push_str(&format!(
            "  decided by:  {} [{}]\n",
            split_note(&d.rule).0,
            basis_kind_label(d.kind)
        ));
    }
    out.push_str(
        "  basis (decisive rule first, then the other rules that applied, then those that lost or lapsed):\n",
    );
    let decisive = e.decisive.map(|b| b as *const demarc_engine::Basis);
    for (i, b) in basis_in_reading_order(c).into_iter().enumerate() {
        let marker = if Some(b as *const _) == decisive {
            " (decisive)"
        } else {
            ""
        };
        match b.kind {
            BasisKind::Superseded => {
                let (rule, note) = match split_note(&b.rule) {
                    (rule, Some(n)) if is_loser_note(n) => (rule, Some(loser_reason(n))),
                    // A provider document set aside by an override: its own parenthesis is
                    // its citation, not why it lost.
                    _ => (
                        &*b.rule,
                        e.decisive
                            .filter(|d| d.kind == BasisKind::Override)
                            .map(|d| format!("set aside by {}", split_note(&d.rule).0)),
                    ),
                };
                out.push_str(&format!("    {}. [lost] {rule}\n", i + 1));
                if let Some(n) = note {
                    out.push_str(&format!("       why: {n}\n"));
                }
            }
            kind => out.push_str(&format!(
                "    {}. [{}]{marker} {}\n",
                i + 1,
                basis_kind_label(kind),
                b.rule
            )),
        }
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
