//! Gap analysis: what is missing, contested, expired or unproven in a resolved estate.
//!
//! Gaps are grouped so that one gap is one thing to fix: the same problem on the same control
//! and duties across many assets is one gap listing those assets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use demarc_catalog::FrameworkKind;
use demarc_model::Duty;
use serde::Serialize;

use crate::cell::Cell;
use crate::cell::{Ownership, Role};
use crate::resolve::{Class, Resolution, RuleKind, ServiceKind, Table};

/// How urgent a gap is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|x| x.as_str() == s)
    }
    fn down(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            _ => Severity::Info,
        }
    }
}

/// The stable gap codes. Codes never change meaning; new kinds get new codes.
pub mod codes {
    pub const UNASSIGNED: &str = "DM001";
    pub const CONTESTED: &str = "DM002";
    pub const UNSPLIT: &str = "DM003";
    pub const EXPIRED_RULE: &str = "DM004";
    pub const EXPIRING: &str = "DM005";
    pub const ATTESTATION_EXPIRED: &str = "DM006";
    pub const ATTESTATION_MISSING: &str = "DM007";
    pub const REVIEW_STALE: &str = "DM008";
    pub const ADDED_SINCE_REVIEW: &str = "DM009";
    pub const EVIDENCE_MISSING: &str = "DM010";
    pub const EVIDENCE_EXPIRED: &str = "DM011";
    pub const SEPARATION_OF_DUTIES: &str = "DM012";
    pub const UNKNOWN_SERVICE: &str = "DM013";

    /// Every code with its short name, for docs and `--help`.
    pub const ALL: [(&str, &str); 13] = [
        (UNASSIGNED, "unassigned"),
        (CONTESTED, "contested"),
        (UNSPLIT, "shared-unsplit"),
        (EXPIRED_RULE, "expired"),
        (EXPIRING, "expiring"),
        (ATTESTATION_EXPIRED, "attestation-expired"),
        (ATTESTATION_MISSING, "attestation-missing"),
        (REVIEW_STALE, "review-stale"),
        (ADDED_SINCE_REVIEW, "added-since-review"),
        (EVIDENCE_MISSING, "evidence-missing"),
        (EVIDENCE_EXPIRED, "evidence-expired"),
        (SEPARATION_OF_DUTIES, "separation-of-duties"),
        (UNKNOWN_SERVICE, "unknown-service"),
    ];

    pub fn name(code: &str) -> &'static str {
        ALL.iter()
            .find(|(c, _)| *c == code)
            .map(|(_, n)| *n)
            .unwrap_or("gap")
    }
}

/// One thing to fix.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub code: &'static str,
    pub kind: &'static str,
    /// Stable identity for baselines: code plus what it concerns.
    pub key: String,
    pub severity: Severity,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<Duty>,
    /// Assets concerned, sorted by id (possibly cut to the first N; see `asset_count`).
    pub assets: Vec<String>,
    /// How many assets the gap concerns in all.
    pub asset_count: usize,
    /// Number of asset × control × duty cells concerned.
    pub cells: usize,
    /// The rules and documents behind it.
    pub basis: Vec<String>,
    pub fix: String,
}

/// Counts for dashboards and CI summaries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub assets: usize,
    pub cells: usize,
    pub ownership: BTreeMap<&'static str, usize>,
    pub assumed_cells: usize,
    pub unassigned_cells: usize,
    pub gaps: usize,
    pub by_severity: BTreeMap<&'static str, usize>,
    pub by_code: BTreeMap<&'static str, usize>,
    /// Equivalence classes and distinct cell tables: how much work resolution did.
    pub classes: usize,
    pub tables: usize,
}

/// The result of analysing a resolution.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub as_of: NaiveDate,
    pub gaps: Vec<Gap>,
    pub summary: Summary,
}

/// Data classes whose exposure is regulated or directly exploitable: cardholder and health
/// data, secrets and credentials.
const REGULATED: [&str; 5] = ["pci", "phi", "health", "secret", "credentials"];
/// Other data classes that make an asset sensitive.
const SENSITIVE: [&str; 4] = ["pii", "confidential", "restricted", "financial"];

/// How bad a gap on these assets would be: production holding regulated data is critical
/// (an unowned duty there is how breaches of cardholder or health data happen), production
/// with other sensitive data is high, either alone is medium, the rest low.
fn exposure(class: &Class) -> Severity {
    let prod = class
        .env
        .as_deref()
        .is_some_and(|e| matches!(e, "prod" | "production" | "prd"));
    let has = |list: &[&str]| class.data.iter().any(|d| list.contains(&d.as_str()));
    let regulated = has(&REGULATED);
    let sensitive = regulated || has(&SENSITIVE);
    match (prod, regulated, sensitive) {
        (true, true, _) => Severity::Critical,
        (true, false, true) => Severity::High,
        (true, false, false) | (false, _, true) => Severity::Medium,
        (false, _, false) => Severity::Low,
    }
}

type DutySets = (Vec<Duty>, Vec<Duty>, Vec<Duty>);
/// Provider → (cells it performs per asset, controls, declared in the estate), for one table.
type ProviderCells = BTreeMap<String, (usize, BTreeSet<usize>, bool)>;
/// What a lapsed rule would have covered: classes, cells, who owns them now, duties, severity.
type LapsedCover = (Vec<u32>, usize, BTreeSet<String>, BTreeSet<Duty>, Severity);

/// Collects assets and the worst severity under one grouping key.
struct Group {
    code: &'static str,
    key: String,
    severity: Severity,
    /// Whole classes concerned (expanded to assets once, at the end).
    classes: BTreeSet<u32>,
    /// Individual assets concerned (evidence, review).
    assets: Vec<u32>,
    cells: usize,
    title: String,
    control: Option<String>,
    duties: Vec<Duty>,
    basis: BTreeSet<String>,
    fix: String,
}

/// Which assets a gap concerns: whole classes are kept as classes so that a gap over half a
/// million assets costs one entry per class, not one per asset, until it is rendered.
enum Members<'a> {
    None,
    Class(u32),
    Classes(&'a [u32]),
    Assets(&'a [u32]),
}

/// Gaps found so far, one per (code, key).
#[derive(Default)]
struct Groups {
    index: HashMap<(&'static str, String), usize>,
    list: Vec<Group>,
}

impl Groups {
    /// The group for (code, key), created with `make` (title, control, duties, fix) if new.
    fn slot(
        &mut self,
        code: &'static str,
        key: String,
        make: impl FnOnce() -> (String, Option<String>, Vec<Duty>, String),
    ) -> usize {
        if let Some(&g) = self.index.get(&(code, key.clone())) {
            return g;
        }
        let (title, control, duties, fix) = make();
        self.list.push(Group {
            code,
            key: key.clone(),
            severity: Severity::Info,
            classes: BTreeSet::new(),
            assets: Vec::new(),
            cells: 0,
            title,
            control,
            duties,
            basis: BTreeSet::new(),
            fix,
        });
        self.index.insert((code, key), self.list.len() - 1);
        self.list.len() - 1
    }

    /// Adds members to group `g` at `severity`, counting `cells_per_member` cells for each asset.
    fn join(
        &mut self,
        res: &Resolution,
        g: usize,
        severity: Severity,
        members: Members,
        cells_per_member: usize,
    ) {
        let g = &mut self.list[g];
        g.severity = g.severity.max(severity);
        let count = match members {
            Members::None => 0,
            Members::Class(c) => {
                g.classes.insert(c);
                res.classes[c as usize].members.len()
            }
            Members::Classes(cs) => {
                g.classes.extend(cs.iter().copied());
                cs.iter()
                    .map(|&c| res.classes[c as usize].members.len())
                    .sum()
            }
            Members::Assets(a) => {
                g.assets.extend_from_slice(a);
                a.len()
            }
        };
        g.cells += count * cells_per_member;
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        res: &Resolution,
        code: &'static str,
        key: String,
        severity: Severity,
        members: Members,
        cells_per_member: usize,
        make: impl FnOnce() -> (String, Option<String>, Vec<Duty>, String),
        basis: impl IntoIterator<Item = String>,
    ) {
        let g = self.slot(code, key, make);
        self.join(res, g, severity, members, cells_per_member);
        self.list[g].basis.extend(basis);
    }

    fn get_mut(&mut self, code: &'static str, key: &str) -> Option<&mut Group> {
        let g = *self.index.get(&(code, key.to_string()))?;
        Some(&mut self.list[g])
    }
}

/// How a cell-level gap's severity follows from the exposure of the assets it concerns.
#[derive(Debug, Clone, Copy)]
enum Rate {
    /// The exposure itself, at least this.
    AtLeast(Severity),
    /// One step below the exposure, at least this.
    DownAtLeast(Severity),
    Fixed(Severity),
}

impl Rate {
    fn apply(self, exposure: Severity) -> Severity {
        match self {
            Rate::AtLeast(s) => exposure.max(s),
            Rate::DownAtLeast(s) => exposure.down().max(s),
            Rate::Fixed(s) => s,
        }
    }
}

/// A cell-level gap of one table, found once and then joined by every class using the table.
struct Finding {
    group: usize,
    rate: Rate,
    cells_per_member: usize,
}

/// What the cells of one table contribute to the expired-rule gaps (DM004).
struct LapsedFinding {
    rule: usize,
    cells_per_member: usize,
    now: BTreeSet<String>,
    duties: BTreeSet<Duty>,
}

/// The cell-level gaps of `table` (DM001, DM002, DM003, DM012, DM013), registered in `groups`
/// with their titles, fixes and basis. Computed once per table: every class of assets that
/// uses the table has exactly these gaps, only with its own exposure.
fn table_findings(res: &Resolution, table: &Table, groups: &mut Groups) -> Vec<Finding> {
    let estate = res.estate;
    let catalog = res.catalog;
    let mut out = Vec::new();
    if table.kind == ServiceKind::Unknown {
        let suggestion = demarc_model::suggest(
            &table.service,
            catalog
                .services
                .iter()
                .map(|s| s.id.as_str())
                .chain(catalog.models.iter().map(|m| m.id.as_str())),
        );
        let service = table.service.clone();
        let cells = table.cells.len();
        let g = groups.slot(codes::UNKNOWN_SERVICE, service.clone(), || {
            let fix = match suggestion {
                Some(s) => format!("did you mean `{s}`? Otherwise define `{service}` under `services:` with the generic model it follows (iaas, paas, saas, …)"),
                None => format!("define `{service}` under `services:` with the generic model it follows (iaas, caas, paas, faas, dbaas, saas) and its provider, or use a catalog service id (`demarc catalog list`)"),
            };
            (format!("unknown service type `{service}`: the provider model is unclear, so the customer is assumed responsible for all {cells} duties"), None, vec![], fix)
        });
        out.push(Finding {
            group: g,
            rate: Rate::AtLeast(Severity::Medium),
            cells_per_member: cells,
        });
        // Every cell of an unknown service is unassigned by construction; DM013 says it once.
        return out;
    }
    // control → (unassigned, unsplit, contested) duties
    let mut per_control: BTreeMap<usize, DutySets> = BTreeMap::new();
    for cell in &table.cells {
        let e = per_control.entry(cell.control).or_default();
        if cell.unassigned {
            e.0.push(cell.duty);
        }
        if cell.unsplit {
            e.1.push(cell.duty);
        }
        if !cell.contested.is_empty() {
            e.2.push(cell.duty);
        }
    }
    let cells_of = |ci: usize, duties: &[Duty]| -> Vec<&Cell> {
        table
            .cells
            .iter()
            .filter(|c| c.control == ci && duties.contains(&c.duty))
            .map(|c| &**c)
            .collect()
    };
    for (ci, (unassigned, unsplit, contested)) in per_control {
        let control = &catalog.controls[ci];
        if !unassigned.is_empty() {
            let cells = cells_of(ci, &unassigned);
            let key = format!("{}:{}", control.id, duty_list(&unassigned));
            let g = groups.slot(codes::UNASSIGNED, key, || {
                (
                    format!(
                        "{} ({}) falls to {} but nobody is named to do it",
                        control.name,
                        duty_list(&unassigned),
                        estate.customer.value
                    ),
                    Some(control.id.clone()),
                    unassigned.clone(),
                    format!(
                        "name an owner in writing: an assignment such as `{{scope: <these assets>, controls: [{}], duties: [{}], to: {}/<team>}}`, or a contract clause if a third party does it",
                        control.id,
                        unassigned.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", "),
                        estate.customer.value
                    ),
                )
            });
            groups.list[g].basis.extend(cells.iter().flat_map(|c| {
                c.basis
                    .iter()
                    .take(1)
                    .map(|b| with_url(&b.rule, b.url.as_deref()))
            }));
            out.push(Finding {
                group: g,
                rate: Rate::AtLeast(Severity::Low),
                cells_per_member: unassigned.len(),
            });
        }
        if !unsplit.is_empty() {
            let cells = cells_of(ci, &unsplit);
            let key = format!("{}:{}", control.id, duty_list(&unsplit));
            let who: BTreeSet<String> = cells.iter().map(|c| c.responsible_label()).collect();
            let g = groups.slot(codes::UNSPLIT, key, || {
                (
                    format!(
                        "{} ({}) is shared by {} with no written split of who does what",
                        control.name,
                        duty_list(&unsplit),
                        who.into_iter().collect::<Vec<_>>().join("; ")
                    ),
                    Some(control.id.clone()),
                    unsplit.clone(),
                    "add `split:` to the rule with one line per owner saying what that owner does"
                        .into(),
                )
            });
            groups.list[g]
                .basis
                .extend(cells.iter().flat_map(|c| c.basis.iter().take(1).map(cite)));
            out.push(Finding {
                group: g,
                rate: Rate::DownAtLeast(Severity::Low),
                cells_per_member: unsplit.len(),
            });
        }
        if !contested.is_empty() {
            let cells = cells_of(ci, &contested);
            let winner = cells[0].responsible_label();
            let others = cells[0].contested.join(", ");
            let key = format!("{}:{}:{}", control.id, duty_list(&contested), others);
            let g = groups.slot(codes::CONTESTED, key, || {
                (
                    format!("{} ({}) is claimed by rules of equal rank naming different owners: {winner} and {others}", control.name, duty_list(&contested)),
                    Some(control.id.clone()),
                    contested.clone(),
                    "decide one owner: remove or narrow one of the rules (a narrower scope wins), or add an override with the reason".into(),
                )
            });
            groups.list[g].basis.extend(
                cells
                    .iter()
                    .flat_map(|c| c.basis.iter().filter(|b| b.at.is_some()).map(cite)),
            );
            out.push(Finding {
                group: g,
                rate: Rate::AtLeast(Severity::Medium),
                cells_per_member: contested.len(),
            });
        }
    }

    // Separation of duties: the same named, non-provider owner configures and audits.
    let mut by_control: BTreeMap<usize, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for cell in &table.cells {
        if !matches!(cell.duty, Duty::Configure | Duty::Audit) {
            continue;
        }
        let e = by_control.entry(cell.control).or_default();
        for a in cell
            .responsible
            .iter()
            .filter(|a| a.named && a.role != Role::Provider)
        {
            if cell.duty == Duty::Configure {
                e.0.insert(a.label())
            } else {
                e.1.insert(a.label())
            };
        }
    }
    for (ci, (configure, audit)) in by_control {
        for who in configure.intersection(&audit) {
            let control = &catalog.controls[ci];
            let g = groups.slot(codes::SEPARATION_OF_DUTIES, format!("{}:{who}", control.id), || {
                (
                    format!("{who} both configures and audits {}: nobody independent checks the work", control.name),
                    Some(control.id.clone()),
                    vec![Duty::Configure, Duty::Audit],
                    format!("give the audit duty of `{}` to another team or party (e.g. internal audit or the MSSP)", control.id),
                )
            });
            let basis: Vec<String> = table
                .cells
                .iter()
                .filter(|c| c.control == ci && matches!(c.duty, Duty::Configure | Duty::Audit))
                .flat_map(|c| {
                    c.basis
                        .iter()
                        .filter(|b| b.at.is_some())
                        .take(1)
                        .map(|b| format!("{}: {}", c.duty, cite(b)))
                })
                .collect();
            groups.list[g].basis.extend(basis);
            out.push(Finding {
                group: g,
                rate: Rate::Fixed(Severity::Medium),
                cells_per_member: 2,
            });
        }
    }
    out
}

/// A basis step as one line: the rule and where it is written.
fn cite(b: &crate::Basis) -> String {
    match &b.at {
        Some(a) => format!("{} at {a}", b.rule),
        None => b.rule.clone(),
    }
}

/// What the cells of `table` would have had from rules that have lapsed.
fn table_lapsed(res: &Resolution, table: &Table) -> Vec<LapsedFinding> {
    let mut by_rule: BTreeMap<usize, LapsedFinding> = BTreeMap::new();
    for cell in &table.cells {
        for &r in &cell.lapsed {
            let e = by_rule.entry(r).or_insert_with(|| LapsedFinding {
                rule: r,
                cells_per_member: 0,
                now: BTreeSet::new(),
                duties: BTreeSet::new(),
            });
            e.cells_per_member += 1;
            e.now.insert(format!(
                "{} {} → {}",
                res.control(cell).id,
                cell.duty,
                cell.responsible_label()
            ));
            e.duties.insert(cell.duty);
        }
    }
    by_rule.into_values().collect()
}

/// Knobs for [`analyse_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyseOptions {
    /// List at most this many asset ids per gap (`asset_count` stays exact). `None`: all.
    pub max_assets_per_gap: Option<usize>,
}

/// Analyses a resolution, listing every asset of every gap.
pub fn analyse(res: &Resolution) -> Analysis {
    analyse_with(res, AnalyseOptions::default())
}

/// Analyses a resolution. Pure: the date comes from the resolution.
pub fn analyse_with(res: &Resolution, options: AnalyseOptions) -> Analysis {
    let mut groups = Groups::default();
    let estate = res.estate;
    let as_of = res.as_of;

    // Cell-level gaps: found once per table, then joined by each class with its exposure.
    let mut findings: Vec<Option<Vec<Finding>>> = (0..res.tables.len()).map(|_| None).collect();
    for (class_idx, class) in res.classes.iter().enumerate() {
        let found = findings[class.table]
            .get_or_insert_with(|| table_findings(res, &res.tables[class.table], &mut groups));
        let exp = exposure(class);
        for f in found.iter() {
            groups.join(
                res,
                f.group,
                f.rate.apply(exp),
                Members::Class(class_idx as u32),
                f.cells_per_member,
            );
        }
    }

    expired_rules(res, &mut groups);
    attestations(res, &mut groups);
    reviews(res, &mut groups);
    evidence(res, &mut groups);

    // Rank of each asset in id order, so gap asset lists sort without comparing strings.
    let mut rank = vec![0u32; estate.assets.len()];
    for (r, &i) in res.order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let limit = options.max_assets_per_gap.unwrap_or(usize::MAX);
    let mut gaps: Vec<Gap> = groups
        .list
        .into_iter()
        .map(|mut g| {
            let (asset_count, members) = members_in_order(res, &rank, &mut g, limit);
            Gap {
                code: g.code,
                kind: codes::name(g.code),
                key: format!("{}:{}", g.code, g.key),
                severity: g.severity,
                title: g.title,
                control: g.control,
                duties: g.duties,
                asset_count,
                assets: members
                    .iter()
                    .map(|&i| estate.assets[i as usize].id.value.clone())
                    .collect(),
                cells: g.cells,
                basis: g.basis.into_iter().collect(),
                fix: g.fix,
            }
        })
        .collect();
    gaps.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(b.code))
            .then(a.key.cmp(&b.key))
    });

    let mut summary = Summary {
        assets: estate.assets.len(),
        cells: res.cell_count(),
        classes: res.classes.len(),
        tables: res.tables.len(),
        gaps: gaps.len(),
        ..Summary::default()
    };
    for o in [
        Ownership::CspOwned,
        Ownership::CscOwned,
        Ownership::Shared,
        Ownership::ThirdParty,
    ] {
        summary.ownership.insert(o.as_str(), 0);
    }
    for class in &res.classes {
        let n = class.members.len();
        for cell in &res.tables[class.table].cells {
            *summary
                .ownership
                .entry(cell.ownership.as_str())
                .or_default() += n;
            summary.assumed_cells += n * usize::from(cell.assumed);
            summary.unassigned_cells += n * usize::from(cell.unassigned);
        }
    }
    for s in Severity::ALL {
        summary
            .by_severity
            .insert(s.as_str(), gaps.iter().filter(|g| g.severity == s).count());
    }
    for g in &gaps {
        *summary.by_code.entry(g.code).or_default() += 1;
    }
    Analysis {
        as_of,
        gaps,
        summary,
    }
}

/// How many assets a group concerns, and the first `limit` of them in id order.
///
/// Classes are disjoint and their members are already in id order, so the first few assets of
/// a gap over a million come from a k-way merge instead of sorting the million.
fn members_in_order(
    res: &Resolution,
    rank: &[u32],
    g: &mut Group,
    limit: usize,
) -> (usize, Vec<u32>) {
    let mut loose = std::mem::take(&mut g.assets);
    loose.sort_unstable_by_key(|&i| rank[i as usize]);
    loose.dedup();
    if !loose.is_empty() && !g.classes.is_empty() {
        // An asset could be listed both alone and through its class: merge the slow way.
        for c in &g.classes {
            loose.extend_from_slice(&res.classes[*c as usize].members);
        }
        loose.sort_unstable_by_key(|&i| rank[i as usize]);
        loose.dedup();
        let count = loose.len();
        loose.truncate(limit);
        return (count, loose);
    }
    let lists: Vec<&[u32]> = g
        .classes
        .iter()
        .map(|&c| res.classes[c as usize].members.as_slice())
        .chain(std::iter::once(loose.as_slice()))
        .filter(|l| !l.is_empty())
        .collect();
    let count: usize = lists.iter().map(|l| l.len()).sum();
    let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(u32, usize, usize)>> = lists
        .iter()
        .enumerate()
        .map(|(li, l)| std::cmp::Reverse((rank[l[0] as usize], li, 0)))
        .collect();
    let mut out = Vec::with_capacity(count.min(limit));
    while out.len() < limit {
        let Some(std::cmp::Reverse((_, li, pos))) = heap.pop() else {
            break;
        };
        out.push(lists[li][pos]);
        if let Some(&next) = lists[li].get(pos + 1) {
            heap.push(std::cmp::Reverse((rank[next as usize], li, pos + 1)));
        }
    }
    (count, out)
}

fn duty_list(d: &[Duty]) -> String {
    d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
}

fn with_url(rule: &str, url: Option<&str>) -> String {
    match url {
        Some(u) => format!("{rule} <{u}>"),
        None => rule.to_string(),
    }
}

/// DM004/DM005: rules that stopped counting, and contracts about to.
fn expired_rules(res: &Resolution, groups: &mut Groups) {
    let estate = res.estate;
    // Which assets and cells each lapsed rule would have covered, and who owns them now.
    let mut lapsed: HashMap<usize, LapsedCover> = HashMap::new();
    let mut per_table: Vec<Option<Vec<LapsedFinding>>> =
        (0..res.tables.len()).map(|_| None).collect();
    for (class_idx, class) in res.classes.iter().enumerate() {
        let found = per_table[class.table]
            .get_or_insert_with(|| table_lapsed(res, &res.tables[class.table]));
        for f in found.iter() {
            let e = lapsed.entry(f.rule).or_insert_with(|| {
                (
                    Vec::new(),
                    0,
                    BTreeSet::new(),
                    BTreeSet::new(),
                    Severity::Medium,
                )
            });
            e.0.push(class_idx as u32);
            e.1 += class.members.len() * f.cells_per_member;
            e.2.extend(f.now.iter().cloned());
            e.3.extend(f.duties.iter().copied());
            e.4 = e.4.max(exposure(class));
        }
    }
    for (i, rule) in res.rules.iter().enumerate() {
        let Some(ended) = rule.ended else { continue };
        let (members, cells, now, duties, sev) = lapsed.remove(&i).unwrap_or_default();

        let what = match rule.kind {
            RuleKind::Clause => "contract clause",
            RuleKind::Override => "override",
            RuleKind::Assignment => "assignment",
        };
        // A lapsed rule that no longer covers any asset is housekeeping, not a risk.
        let sev = if cells == 0 {
            Severity::Info
        } else {
            sev.max(Severity::High)
        };
        let mut basis = vec![format!(
            "{} at {} ended {ended}",
            rule.name,
            estate.cite(rule.at)
        )];
        basis.extend(now.iter().take(20).map(|n| format!("now: {n}")));
        if now.len() > 20 {
            basis.push(format!("… and {} more cells", now.len() - 20));
        }
        groups.add(res, codes::EXPIRED_RULE, rule.name.clone(), sev, Members::Classes(&members), 0, || {
            (
                format!("{} ({what}) ended on {ended}; the {cells} asset × control × duty cells it covered fell back to the catalog and assignments", rule.name),
                None,
                duties.into_iter().collect(),
                "renew or replace the agreement and update `expires`, or assign the duties it covered to someone in writing".into(),
            )
        }, basis);
        if let Some(g) = groups.get_mut(codes::EXPIRED_RULE, &rule.name) {
            g.cells = cells;
        }
    }
    let warn = res.estate.settings.expiry_warning.days();
    for c in &estate.contracts {
        if let Some(exp) = c.expires {
            let left = (exp - res.as_of).num_days();
            if left > 0 && left <= warn {
                groups.add(
                    res,
                    codes::EXPIRING,
                    format!("contract {}", c.id.value),
                    Severity::Low,
                    Members::None,
                    0,
                    || {
                        (
                            format!(
                                "contract {} with {} ends on {exp} ({left} days)",
                                c.id.value, c.party.value
                            ),
                            None,
                            vec![],
                            "start the renewal now, or plan who takes its duties back".into(),
                        )
                    },
                    [format!(
                        "contract {} at {}",
                        c.id.value,
                        estate.cite(c.id.loc)
                    )],
                );
            }
        }
    }
    // Clauses that end before their contract, and overrides with an end date: the contract
    // warning above does not cover them.
    for (i, rule) in res.rules.iter().enumerate() {
        let Some(ends) = rule.ends else { continue };
        let left = (ends - res.as_of).num_days();
        if !rule.active || left <= 0 || left > warn {
            continue;
        }
        let what = match rule.kind {
            RuleKind::Clause => {
                let contract_end = estate
                    .contracts
                    .iter()
                    .find(|c| c.clauses.iter().any(|cl| cl.id.loc == rule.at))
                    .and_then(|c| c.expires);
                if contract_end == Some(ends) {
                    continue;
                }
                "contract clause"
            }
            RuleKind::Override => "override",
            RuleKind::Assignment => continue,
        };
        let members: Vec<u32> = res
            .classes
            .iter()
            .enumerate()
            .filter(|(_, c)| res.tables[c.table].rules.contains(&i))
            .map(|(ci, _)| ci as u32)
            .collect();
        groups.add(
            res,
            codes::EXPIRING,
            rule.name.clone(),
            Severity::Low,
            Members::Classes(&members),
            0,
            || {
                (
                    format!("{} ({what}) ends on {ends} ({left} days)", rule.name),
                    None,
                    vec![],
                    "renew it and update `expires`, or plan who takes its duties back".into(),
                )
            },
            [format!("{} at {}", rule.name, estate.cite(rule.at))],
        );
    }
}

/// DM006/DM007 (and DM005 for attestations): can the customer rely on what it inherits?
fn attestations(res: &Resolution, groups: &mut Groups) {
    let estate = res.estate;
    let catalog = res.catalog;
    let required: Vec<&str> = estate
        .settings
        .frameworks
        .iter()
        .map(|f| f.value.as_str())
        .filter(|f| {
            catalog
                .framework(f)
                .is_some_and(|fw| fw.kind != FrameworkKind::Mapping)
        })
        .collect();
    // provider → (assets, inherited cells, controls)
    let mut inherited: BTreeMap<String, (BTreeSet<u32>, usize, BTreeSet<usize>, bool)> =
        BTreeMap::new();
    // Per table, once: provider → (inherited cells per asset, controls, declared).
    let mut per_table: Vec<Option<ProviderCells>> = (0..res.tables.len()).map(|_| None).collect();
    for (class_idx, class) in res.classes.iter().enumerate() {
        let found = per_table[class.table].get_or_insert_with(|| {
            let mut m = ProviderCells::new();
            for cell in &res.tables[class.table].cells {
                for a in cell.responsible.iter().filter(|a| a.role == Role::Provider) {
                    for party in std::iter::once(&a.party).chain(a.via.iter()) {
                        let e = m.entry(party.clone()).or_insert_with(|| {
                            (
                                0,
                                BTreeSet::new(),
                                a.declared || estate.parties.contains_key(party),
                            )
                        });
                        e.0 += 1;
                        e.1.insert(cell.control);
                    }
                }
            }
            m
        });
        for (party, (cells, controls, declared)) in found.iter() {
            let e = inherited
                .entry(party.clone())
                .or_insert_with(|| (BTreeSet::new(), 0, BTreeSet::new(), *declared));
            e.0.insert(class_idx as u32);
            e.1 += class.members.len() * cells;
            e.2.extend(controls.iter().copied());
        }
    }
    let warn = estate.settings.expiry_warning.days();
    for (provider, (assets, cells, controls, declared)) in inherited {
        if provider == "self" {
            continue;
        }
        let members: Vec<u32> = assets.into_iter().collect();
        let atts: &[demarc_model::Attestation] = estate
            .parties
            .get(&provider)
            .map(|p| p.attestations.as_slice())
            .unwrap_or(&[]);
        let frameworks: Vec<Option<&str>> = if required.is_empty() {
            vec![None]
        } else {
            required.iter().map(|f| Some(*f)).collect()
        };
        for fw in frameworks {
            // Controls the framework covers: its own mapping, or 800-53 for FedRAMP.
            let mapped = |ci: &usize| match fw {
                None => true,
                Some(f) => {
                    let key = if f == "fedramp" { "nist-800-53" } else { f };
                    catalog.controls[*ci]
                        .mappings
                        .get(key)
                        .is_some_and(|m| !m.is_empty())
                        || f == "csa-star"
                }
            };
            let relevant = controls.iter().filter(|c| mapped(c)).count();
            if relevant == 0 {
                continue;
            }
            let candidates: Vec<&demarc_model::Attestation> = atts
                .iter()
                .filter(|a| fw.is_none_or(|f| a.framework.value == f))
                .collect();
            let best = candidates
                .iter()
                .filter_map(|a| a.valid_until().map(|d| (d, *a)))
                .max_by_key(|(d, _)| *d);
            // Without `settings.frameworks` any attestation will do; the key says `any`.
            let fw_name = fw.unwrap_or("any");
            let key = format!("{provider}:{fw_name}");
            match best {
                Some((until, a)) if until > res.as_of => {
                    let left = (until - res.as_of).num_days();
                    if left <= warn {
                        groups.add(res, codes::EXPIRING, format!("attestation {key}"), Severity::Low, Members::None, 0, || {
                            (format!("{provider}'s {} attestation can be relied on until {until} ({left} days)", a.framework.value), None, vec![], format!("ask {provider} for the new report or a bridge letter"))
                        }, [format!("attestation at {}", estate.cite(a.framework.loc))]);
                    }
                }
                Some((until, a)) => {
                    groups.add(res, codes::ATTESTATION_EXPIRED, key, Severity::High, Members::Classes(&members), 0, || {
                        (
                            format!("{provider}'s {} attestation lapsed on {until}, yet the customer inherits {relevant} controls from {provider}", a.framework.value),
                            None,
                            vec![],
                            format!("obtain {provider}'s current {} report (or a bridge letter) and update the attestation's dates", a.framework.value),
                        )
                    }, [format!("attestation at {}", estate.cite(a.framework.loc))]);
                    set_cells(
                        groups,
                        codes::ATTESTATION_EXPIRED,
                        &format!("{provider}:{fw_name}"),
                        cells,
                    );
                }
                None => {
                    let fix = if declared && fw.is_none() {
                        format!(
                            "record {provider}'s attestations (a SOC 2 report, an ISO 27001 certificate, …) under `parties.{provider}.attestations`, and list the frameworks the customer is held to under `settings.frameworks`"
                        )
                    } else if declared {
                        format!(
                            "record {provider}'s {fw_name} attestation under `parties.{provider}.attestations` (framework and `expires` or `period_end`)"
                        )
                    } else {
                        format!(
                            "add party `{provider}` (kind: provider) with its attestations; the estate relies on it but does not declare it"
                        )
                    };
                    groups.add(res, codes::ATTESTATION_MISSING, key, Severity::Medium, Members::Classes(&members), 0, || {
                        let what = match fw {
                            Some(f) => format!("no {f} attestation"),
                            None => "no attestation of any kind".to_string(),
                        };
                        (format!("{what} on file for {provider}, yet the customer inherits {relevant} controls from it"), None, vec![], fix)
                    }, []);
                    set_cells(
                        groups,
                        codes::ATTESTATION_MISSING,
                        &format!("{provider}:{fw_name}"),
                        cells,
                    );
                }
            }
        }
    }
}

fn set_cells(groups: &mut Groups, code: &'static str, key: &str, cells: usize) {
    if let Some(g) = groups.get_mut(code, key) {
        g.cells = cells;
    }
}

/// DM008/DM009: is the model still looked at?
fn reviews(res: &Resolution, groups: &mut Groups) {
    let estate = res.estate;
    let cadence = estate.settings.review_cadence;
    let last = estate.reviews.iter().max_by_key(|r| r.date);
    match last {
        None => groups.add(res, codes::REVIEW_STALE, "never".into(), Severity::Medium, Members::None, 0, || {
            ("the responsibility model has never been reviewed".into(), None, vec![], "review it with the owners and record `reviews: [{date: YYYY-MM-DD, by: name}]`".into())
        }, []),
        Some(r) => {
            let age = (res.as_of - r.date).num_days();
            if age > cadence.days() {
                groups.add(res, codes::REVIEW_STALE, "stale".into(), Severity::Medium, Members::None, 0, || {
                    (
                        format!("last review was {age} days ago ({} by {}); the cadence is {cadence}", r.date, r.by),
                        None,
                        vec![],
                        "review the model with its owners and add the review to `reviews`".into(),
                    )
                }, [format!("settings.review_cadence = {cadence}")]);
            }
            let added: Vec<u32> = res.order.iter().copied().filter(|&i| estate.assets[i as usize].added.is_some_and(|d| d > r.date)).collect();
            if !added.is_empty() {
                let services: BTreeSet<&str> = added.iter().map(|&i| estate.assets[i as usize].service.as_str()).collect();
                let last_date = r.date;
                groups.add(res, codes::ADDED_SINCE_REVIEW, "assets".into(), Severity::Low, Members::Assets(&added), 0, || {
                    (
                        format!(
                            "{} ({}) {} added after the last review on {last_date}",
                            if added.len() == 1 { "1 asset".to_string() } else { format!("{} assets", added.len()) },
                            services.into_iter().collect::<Vec<_>>().join(", "),
                            if added.len() == 1 { "was" } else { "were" }
                        ),
                        None,
                        vec![],
                        "review who owns the new assets' duties and record the review".into(),
                    )
                }, []);
            }
        }
    }
}

/// DM010/DM011: controls that need proof have current proof.
fn evidence(res: &Resolution, groups: &mut Groups) {
    let estate = res.estate;
    let catalog = res.catalog;
    let mut needs: Vec<bool> = catalog.controls.iter().map(|c| c.evidence).collect();
    for r in &estate.settings.require_evidence {
        if let Some(i) = catalog.control_position(r) {
            needs[i] = true;
        }
    }
    // control → (asset → latest valid-until), and control → org-wide latest valid-until.
    let mut per_asset: HashMap<&str, HashMap<&str, NaiveDate>> = HashMap::new();
    let mut org_wide: HashMap<&str, NaiveDate> = HashMap::new();
    for e in &estate.evidence {
        let until = e.valid_until();
        match &e.asset {
            Some(a) => {
                let slot = per_asset
                    .entry(e.control.as_str())
                    .or_default()
                    .entry(a.as_str())
                    .or_insert(until);
                *slot = (*slot).max(until);
            }
            None => {
                let slot = org_wide.entry(e.control.as_str()).or_insert(until);
                *slot = (*slot).max(until);
            }
        }
    }
    for (class_idx, class) in res.classes.iter().enumerate() {
        let table = &res.tables[class.table];
        if table.kind == ServiceKind::Unknown {
            continue;
        }
        let mut seen = BTreeSet::new();
        for cell in &table.cells {
            if !needs[cell.control]
                || !cell.responsible.iter().any(|a| a.role != Role::Provider)
                || !seen.insert(cell.control)
            {
                continue;
            }
            let control = &catalog.controls[cell.control];
            let org = org_wide.get(control.id.as_str()).copied();
            let assets = per_asset.get(control.id.as_str());
            let (mut missing, mut expired) = (Vec::new(), Vec::new());
            for &m in &class.members {
                let own = assets
                    .and_then(|a| a.get(estate.assets[m as usize].id.as_str()))
                    .copied();
                match own.max(org) {
                    None => missing.push(m),
                    Some(d) if d <= res.as_of => expired.push(m),
                    Some(_) => {}
                }
            }
            let exp = exposure(class);
            // A class where every asset lacks evidence is kept whole, like the cell-level gaps.
            let whole = [class_idx as u32];
            let members = if missing.len() == class.members.len() {
                Members::Classes(&whole)
            } else {
                Members::Assets(&missing)
            };
            if !missing.is_empty() {
                groups.add(res, codes::EVIDENCE_MISSING, control.id.clone(), exp.down().max(Severity::Low), members, 1, || {
                    (
                        format!("no evidence on file for {} on assets where the customer does it", control.name),
                        Some(control.id.clone()),
                        vec![],
                        format!("record it: `evidence: [{{control: {}, asset: <id>, ref: <link>, collected: YYYY-MM-DD, valid_for: 90d}}]`", control.id),
                    )
                }, []);
            }
            if !expired.is_empty() {
                groups.add(res, codes::EVIDENCE_EXPIRED, control.id.clone(), exp.down().max(Severity::Low), Members::Assets(&expired), 1, || {
                    (
                        format!("evidence for {} has expired", control.name),
                        Some(control.id.clone()),
                        vec![],
                        "repeat the activity (e.g. the restore test or review) and record the new evidence".into(),
                    )
                }, []);
            }
        }
    }
}
