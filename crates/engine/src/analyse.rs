//! Gap analysis: what is missing, contested, expired or unproven in a resolved estate.
//!
//! The work is done by [`Check`]s, one module per family under `checks/`, each declaring the
//! codes it owns ([`CodeInfo`]). This module holds what they share: the severity scale, the
//! [`Findings`] they report into (grouped so that one gap is one thing to fix), and the step
//! that turns findings into sorted [`Gap`]s with a [`Summary`].
//!
//! A gap's identity ([`Gap::key`]) is its code plus the ids it concerns (a control, a rule id,
//! a party and framework, a service), never its wording. It is stable across unrelated edits,
//! so baselines and suppressions can rely on it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use demarc_model::Duty;

use crate::cell::Ownership;
use crate::checks;
use crate::resolve::{Class, Resolution};

/// How urgent a gap is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
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
    /// One step less urgent (never below info).
    pub fn down(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            _ => Severity::Info,
        }
    }
}

/// One gap code: what a check reports, documented once. `docs/gaps.md`'s code table is
/// generated from these (and a test fails when it drifts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// `DM001`. Never reused, never changes meaning.
    pub code: &'static str,
    /// `unassigned`: the `kind` in JSON output.
    pub name: &'static str,
    /// How its severity is set, for the docs.
    pub severity: &'static str,
    /// What it means, in one line.
    pub summary: &'static str,
}

/// A family of gap checks. Checks are pure: they read the resolution and report findings.
/// Later crates (compliance, posture) add their own checks through
/// [`analyse_with_checks`] without editing this crate.
pub trait Check: Send + Sync {
    /// The codes this check reports.
    fn codes(&self) -> &'static [CodeInfo];
    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>);
}

/// The stable gap codes of the built-in checks.
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
    pub const UNMATCHED_RULE: &str = crate::checks::UNMATCHED_RULE;
    pub const FUTURE_DATE: &str = crate::checks::FUTURE_DATE;
    pub const ACCEPTANCE_UNMATCHED: &str = crate::checks::ACCEPTANCE_UNMATCHED;
    pub const OUT_OF_SCOPE: &str = crate::checks::OUT_OF_SCOPE;
    pub const SCOPE_UNKNOWN: &str = crate::checks::SCOPE_UNKNOWN;
    pub const INCIDENT_REVIEW_OPEN: &str = crate::checks::INCIDENT_REVIEW_OPEN;
    pub const INCIDENT_REPEATED: &str = crate::checks::INCIDENT_REPEATED;

    /// Every built-in code with its documentation, in code order.
    pub fn all() -> Vec<super::CodeInfo> {
        let mut v: Vec<super::CodeInfo> = crate::checks::builtin()
            .iter()
            .flat_map(|c| c.codes().iter().copied())
            .chain(crate::checks::drift::CODES.iter().copied())
            .collect();
        v.sort_by_key(|c| c.code);
        v
    }

    /// The short name of a code (`unassigned`), or `gap` for a code no check declares.
    pub fn name(code: &str) -> &'static str {
        all()
            .into_iter()
            .find(|c| c.code == code)
            .map(|c| c.name)
            .unwrap_or("gap")
    }
}

/// One thing to fix.
#[derive(Debug, Clone)]
pub struct Gap {
    pub code: &'static str,
    pub kind: &'static str,
    /// Stable identity for baselines: the code plus the ids it concerns.
    pub key: String,
    pub severity: Severity,
    pub title: String,
    pub control: Option<String>,
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
    /// The fix this gap shares with others (same code, same assets, same missing owner or
    /// party): `group:DM001:acme:3f9c0a1b2c3d4e5f`, derived from the code, the owner and the
    /// asset ids, so it is stable too. `None` for codes whose gaps are fixed one by one.
    pub group: Option<String>,
    /// In [`Analysis::fixes`]: the controls of every gap the fix closes. Empty otherwise.
    pub controls: Vec<String>,
    /// In [`Analysis::fixes`]: the keys of the gaps one fix closes (more than one only for a
    /// grouped fix). Empty otherwise.
    pub members: Vec<String>,
    /// The risk acceptance in force for this gap, if any: it does not count for `--fail-on`.
    pub accepted: Option<Accepted>,
    /// Against a baseline ([`Analysis::compare_with_baseline`]): whether the key is not in it.
    pub new: Option<bool>,
    /// The title and fix that name every gap of the group (set with `group`).
    pub group_text: Option<(String, String)>,
}

/// A risk acceptance that covers a gap (`accepted:` in the estate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The `gap:` pattern as written (`DM003:waf`, `DM010:*`).
    pub pattern: String,
    pub reason: String,
    pub approved_by: String,
    /// The day it ends; from then on the gap counts again.
    pub expires: NaiveDate,
    /// `file:line` of the acceptance.
    pub at: String,
}

/// Counts for dashboards and CI summaries.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub assets: usize,
    pub cells: usize,
    pub ownership: BTreeMap<&'static str, usize>,
    pub assumed_cells: usize,
    pub unassigned_cells: usize,
    /// Open gaps (not accepted); `by_severity` and `by_code` count these.
    pub gaps: usize,
    pub by_severity: BTreeMap<&'static str, usize>,
    pub by_code: BTreeMap<&'static str, usize>,
    /// Gaps covered by a risk acceptance in force (not in `gaps`).
    pub accepted: usize,
    /// Open gaps whose key is not in the baseline, when compared with one.
    pub new: Option<usize>,
    /// Distinct fixes: open gaps that one fix closes count once.
    pub fixes: usize,
    /// Equivalence classes and distinct cell tables: how much work resolution did.
    pub classes: usize,
    pub tables: usize,
}

/// The result of analysing a resolution.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub as_of: NaiveDate,
    pub gaps: Vec<Gap>,
    pub summary: Summary,
}

/// How bad a gap on these assets would be: production holding regulated data is critical
/// (an unowned duty there is how breaches of cardholder or health data happen), production
/// with other sensitive data is high, either alone is medium, the rest low. Which environment
/// names mean production and which data classes are regulated or sensitive is catalog data
/// (`exposure.yaml`), not code.
pub(crate) fn exposure(catalog: &demarc_catalog::Catalog, class: &Class) -> Severity {
    let prod = class
        .env
        .as_deref()
        .is_some_and(|e| catalog.is_production_env(e));
    let regulated = class.data.iter().any(|d| catalog.is_regulated_data(d));
    let sensitive = regulated || class.data.iter().any(|d| catalog.is_sensitive_data(d));
    match (prod, regulated, sensitive) {
        (true, true, _) => Severity::Critical,
        (true, false, true) => Severity::High,
        (true, false, false) | (false, _, true) => Severity::Medium,
        (false, _, false) => Severity::Low,
    }
}

/// Renders a gap's title or fix from the duties it ends up with: a gap keyed by control
/// gathers duties from several tables, so its wording is made once, at the end.
pub type Text<'r> = Box<dyn Fn(&[Duty]) -> String + 'r>;

/// A fixed text.
pub fn text<'r>(s: impl Into<String>) -> Text<'r> {
    let s = s.into();
    Box::new(move |_| s.clone())
}

/// What a new gap says, given when it is first reported.
pub struct Draft<'r> {
    pub title: Text<'r>,
    pub fix: Text<'r>,
    pub control: Option<String>,
}

/// Which assets a finding concerns: whole classes are kept as classes so that a gap over half
/// a million assets costs one entry per class, not one per asset, until it is rendered.
pub enum Members<'a> {
    None,
    /// Every asset of one class (by class index).
    Class(u32),
    Classes(&'a [u32]),
    /// Individual assets (by asset index).
    Assets(&'a [u32]),
}

/// One report into a gap: which gap (code and key), how bad for these members, and how many
/// cells each member adds.
pub struct Hit<'a> {
    pub code: &'static str,
    pub key: String,
    pub severity: Severity,
    pub members: Members<'a>,
    pub cells_per_member: usize,
}

/// Collects assets and the worst severity under one gap identity.
struct Group<'r> {
    code: &'static str,
    key: String,
    severity: Severity,
    classes: BTreeSet<u32>,
    assets: Vec<u32>,
    cells: usize,
    duties: BTreeSet<Duty>,
    basis: BTreeSet<String>,
    draft: Draft<'r>,
    grouping: Option<Grouping<'r>>,
}

/// Renders the title or fix of a grouped gap from the controls (ids, sorted) and duties of
/// all its members.
pub type GroupText<'r> = Box<dyn Fn(&[String], &[Duty]) -> String + 'r>;

/// How a gap joins others that one fix closes: gaps of the same code, over the same assets,
/// with the same `owner` (the party missing, or the one holding both duties) form one group.
pub struct Grouping<'r> {
    pub owner: String,
    pub title: GroupText<'r>,
    pub fix: GroupText<'r>,
}

/// A handle on one gap being collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapRef(usize);

/// The gaps found so far, one per (code, key).
pub struct Findings<'r> {
    res: &'r Resolution,
    index: HashMap<(&'static str, String), usize>,
    list: Vec<Group<'r>>,
}

impl<'r> Findings<'r> {
    fn new(res: &'r Resolution) -> Self {
        Findings {
            res,
            index: HashMap::new(),
            list: Vec::new(),
        }
    }

    /// The gap for (code, key), created from `draft` if it is new.
    pub fn gap(
        &mut self,
        code: &'static str,
        key: impl Into<String>,
        draft: impl FnOnce() -> Draft<'r>,
    ) -> GapRef {
        let key = key.into();
        if let Some(&g) = self.index.get(&(code, key.clone())) {
            return GapRef(g);
        }
        self.list.push(Group {
            code,
            key: key.clone(),
            severity: Severity::Info,
            classes: BTreeSet::new(),
            assets: Vec::new(),
            cells: 0,
            duties: BTreeSet::new(),
            basis: BTreeSet::new(),
            draft: draft(),
            grouping: None,
        });
        self.index.insert((code, key), self.list.len() - 1);
        GapRef(self.list.len() - 1)
    }

    /// Adds members to a gap at `severity` (the gap keeps the worst), counting
    /// `cells_per_member` cells for each of their assets.
    pub fn join(
        &mut self,
        g: GapRef,
        severity: Severity,
        members: Members,
        cells_per_member: usize,
    ) {
        let res = self.res;
        let g = &mut self.list[g.0];
        g.severity = g.severity.max(severity);
        let count = match members {
            Members::None => 0,
            Members::Class(c) => {
                g.classes.insert(c);
                res.prepared.classes[c as usize].members.len()
            }
            Members::Classes(cs) => {
                g.classes.extend(cs.iter().copied());
                cs.iter()
                    .map(|&c| res.prepared.classes[c as usize].members.len())
                    .sum()
            }
            Members::Assets(a) => {
                g.assets.extend_from_slice(a);
                a.len()
            }
        };
        g.cells += count * cells_per_member;
    }

    /// Reports one hit: the gap is created from `draft` if new, then joined.
    pub fn hit(
        &mut self,
        hit: Hit,
        draft: impl FnOnce() -> Draft<'r>,
        basis: impl IntoIterator<Item = String>,
    ) -> GapRef {
        let g = self.gap(hit.code, hit.key, draft);
        self.join(g, hit.severity, hit.members, hit.cells_per_member);
        self.add_basis(g, basis);
        g
    }

    pub fn add_basis(&mut self, g: GapRef, basis: impl IntoIterator<Item = String>) {
        self.list[g.0].basis.extend(basis);
    }
    pub fn add_duties(&mut self, g: GapRef, duties: impl IntoIterator<Item = Duty>) {
        self.list[g.0].duties.extend(duties);
    }
    /// Lets the gap be fixed together with others of its code over the same assets and with
    /// the same owner (see [`Grouping`]). The first call wins.
    pub fn groupable(&mut self, g: GapRef, grouping: impl FnOnce() -> Grouping<'r>) {
        let slot = &mut self.list[g.0].grouping;
        if slot.is_none() {
            *slot = Some(grouping());
        }
    }
    /// Sets the cell count outright, for gaps whose cells are not per member.
    pub fn set_cells(&mut self, g: GapRef, cells: usize) {
        self.list[g.0].cells = cells;
    }
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

/// Analyses a resolution with the built-in checks. Pure: the date comes from the resolution.
pub fn analyse_with(res: &Resolution, options: AnalyseOptions) -> Analysis {
    analyse_with_checks(res, options, &[])
}

/// Analyses a resolution with the built-in checks and `extra` ones.
pub fn analyse_with_checks(
    res: &Resolution,
    options: AnalyseOptions,
    extra: &[&dyn Check],
) -> Analysis {
    let mut findings = Findings::new(res);
    for check in checks::builtin() {
        check.run(res, &mut findings);
    }
    for check in extra {
        check.run(res, &mut findings);
    }
    let estate = res.estate();

    // Rank of each asset in id order, so gap asset lists sort without comparing strings.
    let mut rank = vec![0u32; estate.assets.len()];
    for (r, &i) in res.prepared.order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let limit = options.max_assets_per_gap.unwrap_or(usize::MAX);
    let names: HashMap<&str, &str> = codes::all()
        .into_iter()
        .chain(extra.iter().flat_map(|c| c.codes().iter().copied()))
        .map(|c| (c.code, c.name))
        .collect();
    // Buckets of gaps one fix closes: same code, same owner, same classes and assets.
    type Bucket = (&'static str, String, Vec<u32>, Vec<u32>);
    let mut buckets: BTreeMap<Bucket, Vec<usize>> = BTreeMap::new();
    let mut groupings: Vec<Option<Grouping>> = Vec::with_capacity(findings.list.len());
    for (i, g) in findings.list.iter_mut().enumerate() {
        let grouping = g.grouping.take();
        if let Some(gr) = &grouping {
            let mut loose = g.assets.clone();
            loose.sort_unstable();
            loose.dedup();
            buckets
                .entry((
                    g.code,
                    gr.owner.clone(),
                    g.classes.iter().copied().collect(),
                    loose,
                ))
                .or_default()
                .push(i);
        }
        groupings.push(grouping);
    }
    let mut gaps: Vec<Gap> = findings
        .list
        .into_iter()
        .map(|mut g| {
            let (asset_count, members) = members_in_order(res, &rank, &mut g, limit);
            let duties: Vec<Duty> = g.duties.iter().copied().collect();
            Gap {
                code: g.code,
                kind: names.get(g.code).copied().unwrap_or("gap"),
                key: format!("{}:{}", g.code, g.key),
                severity: g.severity,
                title: (g.draft.title)(&duties),
                fix: (g.draft.fix)(&duties),
                control: g.draft.control,
                duties,
                asset_count,
                assets: members
                    .iter()
                    .map(|&i| estate.assets[i as usize].id.value.clone())
                    .collect(),
                cells: g.cells,
                basis: g.basis.into_iter().collect(),
                group: None,
                controls: Vec::new(),
                members: Vec::new(),
                accepted: None,
                new: None,
                group_text: None,
            }
        })
        .collect();
    // A group's identity is the multiset of its asset ids. It is hashed without sorting (or
    // even gathering) a million id strings: each asset id gets a well-mixed hash, summed once
    // per class, and a group adds up its classes' sums and its loose assets.
    let mix = |mut z: u64| {
        // splitmix64's finaliser: spreads FNV's bits so that sums do not cancel.
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let asset_hash = |a: u32| mix(crate::rules::fnv1a(estate.assets[a as usize].id.as_bytes()));
    let mut class_sums: Vec<Option<u64>> = vec![None; res.prepared.classes.len()];
    for ((code, owner, classes, loose), list) in buckets {
        let mut sum = 0u64;
        let mut count = 0u64;
        for &c in &classes {
            let members = &res.prepared.classes[c as usize].members;
            let s = *class_sums[c as usize].get_or_insert_with(|| {
                members
                    .iter()
                    .fold(0u64, |acc, &a| acc.wrapping_add(asset_hash(a)))
            });
            sum = sum.wrapping_add(s);
            count += members.len() as u64;
        }
        for &a in &loose {
            // An asset listed alone and through its class counts once.
            let class = res.prepared.asset_class[a as usize];
            if classes.binary_search(&class).is_err() {
                sum = sum.wrapping_add(asset_hash(a));
                count += 1;
            }
        }
        let key = format!("group:{code}:{owner}:{:016x}", mix(sum ^ mix(count)));
        let mut controls: Vec<String> = list
            .iter()
            .filter_map(|&i| gaps[i].control.clone())
            .collect();
        controls.sort();
        controls.dedup();
        let duties: Vec<Duty> = list
            .iter()
            .flat_map(|&i| gaps[i].duties.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let gr = groupings[list[0]]
            .as_ref()
            .expect("bucketed gaps have a grouping");
        let text = ((gr.title)(&controls, &duties), (gr.fix)(&controls, &duties));
        for &i in &list {
            gaps[i].group = Some(key.clone());
            gaps[i].group_text = Some(text.clone());
        }
    }
    crate::checks::acceptance::apply(res, &mut gaps);
    gaps.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.code.cmp(b.code))
            .then(a.key.cmp(&b.key))
    });

    let mut summary = Summary {
        assets: estate.assets.len(),
        cells: res.cell_count(),
        classes: res.class_count(),
        tables: res.table_count(),
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
    for class in &res.prepared.classes {
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
    let mut analysis = Analysis {
        as_of: res.as_of,
        gaps,
        summary,
    };
    analysis.count();
    analysis
}

impl Analysis {
    /// Recounts the summary's gap counts from the gaps.
    fn count(&mut self) {
        let s = &mut self.summary;
        let open = || self.gaps.iter().filter(|g| g.accepted.is_none());
        s.gaps = open().count();
        s.accepted = self.gaps.len() - s.gaps;
        s.by_severity.clear();
        s.by_code.clear();
        for sev in Severity::ALL {
            s.by_severity
                .insert(sev.as_str(), open().filter(|g| g.severity == sev).count());
        }
        for g in open() {
            *s.by_code.entry(g.code).or_default() += 1;
        }
        s.new = self
            .gaps
            .first()
            .and_then(|g| g.new)
            .map(|_| open().filter(|g| g.new == Some(true)).count());
        let mut groups = BTreeSet::new();
        s.fixes = open()
            .filter(|g| match &g.group {
                Some(k) => groups.insert((k.clone(), g.new)),
                None => true,
            })
            .count();
    }

    /// Marks every gap as new or known against the keys of a previous run (`check --baseline`):
    /// a gap is new when its key is not among them.
    pub fn compare_with_baseline(&mut self, known: &BTreeSet<String>) {
        for g in &mut self.gaps {
            g.new = Some(!known.contains(&g.key));
        }
        self.count();
    }

    /// The gaps a CI gate fails on at `threshold`: open (not accepted), at or above it, and
    /// new when compared with a baseline. Per gap key, never per fix.
    pub fn failing(&self, threshold: Severity) -> impl Iterator<Item = &Gap> {
        self.gaps.iter().filter(move |g| {
            g.accepted.is_none() && g.severity >= threshold && g.new != Some(false)
        })
    }

    /// One entry per thing to fix, for people: gaps that one fix closes (the same `group`,
    /// acceptance and baseline status) are merged into one whose `controls` and `members`
    /// list them, with a title and fix naming them all; its `key` is the group key (a single
    /// gap keeps its own). Accepted gaps come last, their title saying by whom and until
    /// when; against a baseline each title starts with `[new]` or `[known]`.
    pub fn fixes(&self) -> Analysis {
        let mut out: Vec<Gap> = Vec::new();
        let mut index: HashMap<(String, bool, Option<bool>), usize> = HashMap::new();
        for g in &self.gaps {
            let slot = g
                .group
                .as_ref()
                .map(|k| (k.clone(), g.accepted.is_some(), g.new));
            if let Some(k) = &slot
                && let Some(&i) = index.get(k)
            {
                let f = &mut out[i];
                f.severity = f.severity.max(g.severity);
                f.cells += g.cells;
                f.members.push(g.key.clone());
                f.controls.extend(g.control.clone());
                f.controls.sort();
                f.controls.dedup();
                let mut duties: BTreeSet<Duty> = f.duties.iter().copied().collect();
                duties.extend(g.duties.iter().copied());
                f.duties = duties.into_iter().collect();
                let mut basis: BTreeSet<String> = f.basis.drain(..).collect();
                basis.extend(g.basis.iter().cloned());
                f.basis = basis.into_iter().collect();
                f.key = f.group.clone().unwrap_or_default();
                if let Some((title, fix)) = &g.group_text {
                    f.title = title.clone();
                    f.fix = fix.clone();
                }
                f.control = Some(f.controls.join(", "));
                continue;
            }
            let mut f = g.clone();
            f.members = vec![g.key.clone()];
            f.controls = g.control.iter().cloned().collect();
            if let Some(k) = slot {
                index.insert(k, out.len());
            }
            out.push(f);
        }
        for f in &mut out {
            let mut prefix = String::new();
            match f.new {
                Some(true) => prefix.push_str("[new] "),
                Some(false) => prefix.push_str("[known] "),
                None => {}
            }
            if let Some(a) = &f.accepted {
                prefix.push_str(&format!(
                    "[accepted until {}, approved by {}: {}] ",
                    a.expires, a.approved_by, a.reason
                ));
            }
            f.title = format!("{prefix}{}", f.title);
        }
        // Stable: the gaps are in severity order already; accepted ones go last.
        out.sort_by_key(|f| f.accepted.is_some());
        let mut a = Analysis {
            as_of: self.as_of,
            gaps: out,
            summary: self.summary.clone(),
        };
        a.summary.fixes = a.gaps.iter().filter(|g| g.accepted.is_none()).count();
        a
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
    let classes = &res.prepared.classes;
    let mut loose = std::mem::take(&mut g.assets);
    loose.sort_unstable_by_key(|&i| rank[i as usize]);
    loose.dedup();
    if !loose.is_empty() && !g.classes.is_empty() {
        // An asset could be listed both alone and through its class: merge the slow way.
        for c in &g.classes {
            loose.extend_from_slice(&classes[*c as usize].members);
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
        .map(|&c| classes[c as usize].members.as_slice())
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

/// `configure, patch`.
pub(crate) fn duty_list(d: &[Duty]) -> String {
    d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
}

/// A basis step as one line: the rule and where it is written.
pub(crate) fn cite(b: &crate::Basis) -> String {
    match &b.at {
        Some(a) => format!("{} at {a}", b.rule),
        None => b.rule.to_string(),
    }
}

pub(crate) fn with_url(rule: &str, url: Option<&str>) -> String {
    match url {
        Some(u) => format!("{rule} <{u}>"),
        None => rule.to_string(),
    }
}
