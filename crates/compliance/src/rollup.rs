//! Projects a resolved estate onto a framework: for every requirement, who carries it across
//! the assets in scope, whether an attestation backs what is inherited, whether the evidence
//! is in, and whether it is ready.
//!
//! The rollup counts per class of assets (assets that look the same to every rule) and per
//! table of shared cells, never per asset × cell: its cost is classes × mapped cells plus
//! the evidence on file, a small fraction of resolution at any estate size.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::{Catalog, FrameworkKind, ProgramScope, Relation};
use demarc_engine::{Cell, Resolution, Role};
use demarc_model::Duty;

use crate::frameworks::{Baseline, FEDRAMP_20X, Library, Requirement, RequirementSet};

/// What to roll up.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    pub framework: &'a str,
    pub baseline: Option<&'a Baseline>,
    /// Only assets in this environment.
    pub env: Option<&'a str>,
    /// Only assets holding this data class.
    pub data: Option<&'a str>,
    /// Warn this many days before an attestation or contract ends.
    pub warn_days: i64,
}

/// How a requirement is carried, in CSA CCM SSRM / FedRAMP origination terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origination {
    /// Every cell of every mapped control is the provider's: inherited.
    Inherited,
    /// Provider and customer side both carry part of it.
    Shared,
    /// The customer carries it: its own teams, or a third party it hired.
    Customer,
    /// No asset in scope has a mapped control.
    NotApplicable,
    /// No demarc control maps to the requirement.
    NotAddressed,
}

impl Origination {
    pub fn as_str(self) -> &'static str {
        match self {
            Origination::Inherited => "inherited",
            Origination::Shared => "shared",
            Origination::Customer => "customer",
            Origination::NotApplicable => "not-applicable",
            Origination::NotAddressed => "not-addressed",
        }
    }
    /// The FedRAMP CIS control-origination wording.
    pub fn fedramp(self) -> &'static str {
        match self {
            Origination::Inherited => "Inherited from pre-existing authorization",
            Origination::Shared => "Shared (service provider and customer responsibility)",
            Origination::Customer => "Configured by customer",
            Origination::NotApplicable => "Not applicable",
            Origination::NotAddressed => "Not addressed by the catalog",
        }
    }
}

/// One party's share of a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// `aws`, `acme/dba`, `shieldco`.
    pub label: String,
    pub party: String,
    pub role: Role,
    /// Asset × control × duty cells it is responsible for (alone or in a share).
    pub cells: usize,
    pub duties: BTreeSet<Duty>,
    /// What this side does where the cell is shared, as written (a few distinct texts).
    pub does: Vec<String>,
}

/// Whether an attestation backs what a requirement inherits from providers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Backing {
    /// Inherited (provider-side) cells.
    pub cells: usize,
    /// Of those, backed by an in-date attestation that covers the framework and the service.
    pub backed: usize,
    /// The attestations relied on: `aws soc2 until 2027-03-31`.
    pub by: BTreeSet<String>,
    /// Why the rest is not backed, one line per provider/service/reason.
    pub unbacked: BTreeSet<String>,
}

/// Evidence for the mapped controls that need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EvidenceState {
    /// Assets × controls that need evidence (customer or third-party side).
    pub needed: usize,
    pub missing: usize,
    pub expired: usize,
}

impl EvidenceState {
    pub fn status(&self) -> &'static str {
        match (self.needed, self.missing, self.expired) {
            (0, _, _) => "not-required",
            (_, 0, 0) => "complete",
            (n, m, _) if m == n => "missing",
            (n, _, e) if e == n => "expired",
            _ => "partial",
        }
    }
}

/// Something a requirement rests on that has lapsed or will soon.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Risk {
    /// The last day it can be relied on.
    pub date: NaiveDate,
    /// True when the date has passed.
    pub lapsed: bool,
    /// `attestation soc2 of aws`, `contract shieldco-msa §4.2`.
    pub what: String,
}

/// A mapped control, with how it relates and (for 20x indicators) through which control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedControl {
    pub control: String,
    pub relation: Relation,
    /// The SP 800-53 control an indicator links to, through which the control maps.
    pub via: Option<String>,
    /// The statement part the control maps to, when it maps to a part only.
    pub part: Option<String>,
}

/// One statement part of a requirement and what maps to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    pub id: String,
    pub label: String,
    pub prose: String,
    /// Controls that map to this part itself.
    pub controls: Vec<String>,
    /// `part` (mapped to the part), `control` (the whole control is mapped), `none`.
    pub covered_by: &'static str,
}

/// A requirement's rollup.
#[derive(Debug, Clone)]
pub struct Row {
    pub requirement: Requirement,
    pub origination: Origination,
    pub controls: Vec<MappedControl>,
    /// Assets in scope that have at least one mapped control.
    pub assets: usize,
    /// Cells of the mapped controls across those assets.
    pub cells: usize,
    /// Cells by SSRM ownership.
    pub ownership: BTreeMap<&'static str, usize>,
    pub shares: Vec<Share>,
    pub backing: Backing,
    pub evidence: EvidenceState,
    /// Cells with nobody named, owners contesting, or a share without a written split.
    pub unassigned: usize,
    pub contested: usize,
    pub unsplit: usize,
    pub risks: Vec<Risk>,
    pub ready: bool,
    /// Why it is not ready, each with the fix.
    pub blockers: Vec<String>,
    pub parts: Vec<PartRow>,
}

impl Row {
    /// True when `party` (a party key, or `party/team`) carries part of it.
    pub fn carried_by(&self, party: &str) -> bool {
        self.shares.iter().any(|s| {
            s.label == party || s.party == party || s.label.starts_with(&format!("{party}/"))
        })
    }
}

/// Readiness of one party across the requirements it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyReadiness {
    pub label: String,
    pub role: Role,
    /// Requirements it carries part of.
    pub requirements: usize,
    pub ready: usize,
    pub cells: usize,
}

/// Counts over the requirements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub requirements: usize,
    pub not_addressed: usize,
    pub not_applicable: usize,
    pub inherited: usize,
    pub shared: usize,
    pub customer: usize,
    pub ready: usize,
    /// Requirements with something lapsed or about to lapse under them.
    pub at_risk: usize,
    /// Inherited cells backed by an in-date attestation, of all inherited cells.
    pub backed_cells: usize,
    pub inherited_cells: usize,
    /// Cells of applicable requirements by who carries them: the provider alone, provider
    /// and customer together, the customer's side alone (its teams or a third party). A
    /// requirement spread over many assets is rarely wholly inherited, so these weights say
    /// how much of the work is the provider's where requirement counts cannot.
    pub cells_provider: usize,
    pub cells_shared: usize,
    pub cells_customer: usize,
}

impl Summary {
    /// Requirements that apply to the estate: addressed and with assets in scope.
    pub fn applicable(&self) -> usize {
        self.inherited + self.shared + self.customer
    }
    /// Ready share of applicable requirements, in percent.
    pub fn readiness(&self) -> f64 {
        pct(self.ready, self.applicable())
    }
}

pub fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        (n as f64 * 1000.0 / d as f64).round() / 10.0
    }
}

/// A framework rolled up over an estate.
#[derive(Debug, Clone)]
pub struct Rollup {
    pub framework: String,
    pub framework_name: String,
    pub edition: String,
    pub source: String,
    pub baseline: Option<(String, String)>,
    pub as_of: NaiveDate,
    pub assets: usize,
    pub rows: Vec<Row>,
    pub summary: Summary,
    pub parties: Vec<PartyReadiness>,
    /// `(control, requirement)` pairs the catalog maps but the framework does not list
    /// (a typo or an edition mismatch in a catalog overlay).
    pub unknown_mappings: Vec<(String, String)>,
}

/// An error choosing what to roll up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupError {
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for RollupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; {}", self.message, self.help)
    }
}

/// The framework ids demarc can roll up, for error messages.
pub fn framework_choices(lib: &Library) -> String {
    lib.framework_ids().collect::<Vec<_>>().join(", ")
}

/// The catalog framework whose control mappings feed `framework`: FedRAMP baselines are SP
/// 800-53 controls, and 20x indicators link to SP 800-53 controls.
fn mapping_framework(framework: &str) -> &str {
    match framework {
        "fedramp" | FEDRAMP_20X => "nist-800-53",
        f => f,
    }
}

/// The attestation frameworks that vouch for a framework's requirements: the framework
/// itself when providers are attested against it, and those whose `attests:` names it or
/// everything (catalog data, never names in code).
fn backing_frameworks(catalog: &Catalog, framework: &str) -> Vec<String> {
    let target = mapping_framework(framework);
    catalog
        .frameworks
        .iter()
        .filter(|f| f.kind != FrameworkKind::Mapping)
        .filter(|f| {
            f.id == framework
                || f.id == target
                || match &f.attests {
                    demarc_catalog::AttestScope::All => true,
                    demarc_catalog::AttestScope::Framework(t) => {
                        t.as_str() == target || t.as_str() == framework
                    }
                    demarc_catalog::AttestScope::Own => false,
                }
        })
        .map(|f| f.id.clone())
        .collect()
}

/// Baseline levels from low to high, so a higher authorization covers a lower baseline.
fn level_rank(level: &str) -> u8 {
    match level {
        "li-saas" | "low" => 1,
        "moderate" => 2,
        "high" => 3,
        _ => 0,
    }
}

fn glob_match(pattern: &str, s: &str) -> bool {
    if !pattern.contains(['*', '?', '[']) {
        return pattern == s;
    }
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(s))
        .unwrap_or(false)
}

/// The backing of one table's inherited cells.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TableBacking {
    Backed {
        by: String,
        until: Option<NaiveDate>,
    },
    /// Why nothing backs it, and the attestations that would have but lapsed (as dated
    /// risks for what they used to back).
    Unbacked { why: String, lapsed: Vec<Risk> },
}

impl TableBacking {
    fn unbacked(why: String) -> TableBacking {
        TableBacking::Unbacked {
            why,
            lapsed: Vec::new(),
        }
    }
}

struct Ctx<'a> {
    res: &'a Resolution,
    catalog: &'a Catalog,
    backers: Vec<String>,
    needed_level: u8,
    warn_until: NaiveDate,
}

impl Ctx<'_> {
    fn backing(&self, provider: Option<&str>, service: &str) -> TableBacking {
        let Some(pkey) = provider else {
            return TableBacking::unbacked(format!("{service}: no provider is known"));
        };
        let base_service = service.split_once('#').map_or(service, |(s, _)| s);
        let Some(party) = self.res.estate().parties.get(pkey) else {
            return TableBacking::unbacked(format!(
                "{pkey} ({base_service}): the provider is not a party of the estate, so none of its attestations is recorded"
            ));
        };
        if self.backers.is_empty() {
            return TableBacking::unbacked(
                "no attestation framework vouches for this framework".to_string(),
            );
        }
        let as_of = self.res.as_of();
        let mut reasons: Vec<String> = Vec::new();
        let mut lapsed: Vec<Risk> = Vec::new();
        let mut best: Option<(Option<NaiveDate>, String)> = None;
        for att in &party.attestations {
            let fw = att.framework.as_str();
            if !self.backers.iter().any(|b| b == fw) {
                continue;
            }
            let until = att.valid_until();
            if let Some(u) = until.filter(|u| *u < as_of) {
                reasons.push(format!("{pkey} {fw} attestation lapsed on {u}"));
                lapsed.push(Risk {
                    date: u,
                    lapsed: true,
                    what: format!("attestation {pkey} {fw}"),
                });
                continue;
            }
            // The service must be within what the attestation covers: the estate's own
            // list when it gives one, else the provider's scope list for the program.
            let listed = !att.services.is_empty();
            if listed {
                if !att.services.iter().any(|p| glob_match(p, base_service)) {
                    reasons.push(format!(
                        "{pkey} {fw} attestation does not list {base_service} under `services`"
                    ));
                    continue;
                }
            } else {
                let programs: Vec<&demarc_catalog::Program> = self
                    .catalog
                    .programs()
                    .iter()
                    .filter(|p| p.framework == fw)
                    .filter(|p| {
                        p.level
                            .as_deref()
                            .is_none_or(|l| level_rank(l) >= self.needed_level)
                    })
                    .collect();
                if !programs.is_empty() {
                    let mut inside = false;
                    let mut why = String::new();
                    for p in &programs {
                        match self.catalog.program_scope(service, &p.id) {
                            ProgramScope::In(_) => {
                                inside = true;
                                break;
                            }
                            ProgramScope::Out(src) => {
                                why = format!(
                                    "{base_service} is not on {pkey}'s {} scope list ({}, read {})",
                                    p.name,
                                    src.link(),
                                    src.checked
                                );
                            }
                            ProgramScope::Unknown => {
                                if why.is_empty() {
                                    why = format!(
                                        "{base_service}: the catalog does not record whether {pkey}'s {} covers it; list it under the attestation's `services` if it does",
                                        p.name
                                    );
                                }
                            }
                        }
                    }
                    if !inside {
                        reasons.push(why);
                        continue;
                    }
                }
            }
            let label = format!(
                "{pkey} {fw}{}",
                until.map(|u| format!(" until {u}")).unwrap_or_default()
            );
            if best.as_ref().is_none_or(|(b, _)| until > *b) {
                best = Some((until, label));
            }
        }
        match best {
            Some((until, by)) => TableBacking::Backed { by, until },
            None if reasons.is_empty() => TableBacking::unbacked(format!(
                "{pkey} has no {} attestation on record for {base_service}",
                self.backers.join("/")
            )),
            None => TableBacking::Unbacked {
                why: reasons.join("; "),
                lapsed,
            },
        }
    }
}

/// Per-control accumulation over the classes in scope.
#[derive(Default)]
struct ControlAgg {
    assets: usize,
    cells: usize,
    ownership: BTreeMap<&'static str, usize>,
    shares: BTreeMap<String, Share>,
    backing: Backing,
    unassigned: usize,
    contested: usize,
    unsplit: usize,
    risks: BTreeSet<Risk>,
    evidence: EvidenceState,
}

/// Requirement id → the controls that map to it (with relation, and the SP 800-53 link an
/// indicator maps through), and the `(control, requirement)` mappings to ids the framework
/// does not list.
type MappingIndex = HashMap<String, Vec<(usize, MappedControl)>>;

fn mapping_index(
    lib: &Library,
    catalog: &Catalog,
    framework: &str,
    set: &RequirementSet,
    reqs: &[Requirement],
) -> (MappingIndex, Vec<(String, String)>) {
    let mfw = mapping_framework(framework);
    let mut by_req: HashMap<String, Vec<(usize, MappedControl)>> = HashMap::new();
    let mut unknown_mappings = Vec::new();
    let nist_based = mfw == "nist-800-53";
    for (ci, c) in catalog.controls.iter().enumerate() {
        let Some(list) = c.mappings.get(mfw) else {
            continue;
        };
        for m in list {
            let rid = m.requirement.as_str();
            let (base, part) = match rid.split_once("_smt") {
                Some((b, _)) if nist_based => (b, Some(rid.to_string())),
                _ => (rid, None),
            };
            let known = if nist_based {
                lib.nist.contains(base)
            } else {
                set.get(base).is_some()
            };
            if !known {
                unknown_mappings.push((c.id.clone(), rid.to_string()));
                continue;
            }
            by_req.entry(base.to_string()).or_default().push((
                ci,
                MappedControl {
                    control: c.id.clone(),
                    relation: m.relation,
                    via: None,
                    part,
                },
            ));
        }
    }
    if framework == FEDRAMP_20X {
        // An indicator maps through the SP 800-53 controls it links to.
        let mut ksi: HashMap<String, Vec<(usize, MappedControl)>> = HashMap::new();
        for r in reqs {
            let mut list: Vec<(usize, MappedControl)> = Vec::new();
            for link in &r.links {
                for (ci, m) in by_req.get(link).into_iter().flatten() {
                    if list.iter().any(|(c, _)| c == ci) {
                        continue;
                    }
                    list.push((
                        *ci,
                        MappedControl {
                            control: m.control.clone(),
                            relation: Relation::Intersects,
                            via: Some(demarc_catalog::nist_800_53_label(link)),
                            part: None,
                        },
                    ));
                }
            }
            ksi.insert(r.id.clone(), list);
        }
        by_req = ksi;
    }
    (by_req, unknown_mappings)
}

/// How much of a framework (or baseline) the catalog addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub framework: String,
    pub baseline: Option<String>,
    pub requirements: usize,
    /// Requirements at least one control maps to.
    pub mapped: usize,
    /// Requirements listed as not addressed, with a reason.
    pub explained: usize,
    /// Requirements neither mapped nor explained.
    pub unexplained: Vec<String>,
    /// Requirements both mapped and listed as not addressed (a contradiction in the data).
    pub contradictory: Vec<String>,
    pub unknown_mappings: Vec<(String, String)>,
}

impl Coverage {
    pub fn mapped_pct(&self) -> f64 {
        pct(self.mapped, self.requirements)
    }
}

/// The catalog's coverage of a framework, or of one of its baselines.
pub fn coverage(
    lib: &Library,
    catalog: &Catalog,
    framework: &str,
    baseline: Option<&Baseline>,
) -> Option<Coverage> {
    let set = lib.framework(framework)?;
    let reqs: Vec<Requirement> = match baseline {
        Some(b) => b
            .profile
            .controls
            .iter()
            .filter_map(|id| set.get(id).cloned())
            .collect(),
        None => set.requirements.clone(),
    };
    let (by_req, unknown_mappings) = mapping_index(lib, catalog, framework, set, &reqs);
    let mut c = Coverage {
        framework: framework.to_string(),
        baseline: baseline.map(|b| b.id.clone()),
        requirements: reqs.len(),
        mapped: 0,
        explained: 0,
        unexplained: Vec::new(),
        contradictory: Vec::new(),
        unknown_mappings,
    };
    for r in &reqs {
        let mapped = by_req.get(&r.id).is_some_and(|m| !m.is_empty());
        match (mapped, r.not_addressed.is_some()) {
            (true, true) => {
                c.mapped += 1;
                // A 20x indicator has no reasons of its own; only data files can contradict.
                c.contradictory.push(r.id.clone());
            }
            (true, false) => c.mapped += 1,
            (false, true) => c.explained += 1,
            (false, false) => {
                if framework == FEDRAMP_20X {
                    c.explained += 1;
                } else {
                    c.unexplained.push(r.id.clone());
                }
            }
        }
    }
    Some(c)
}

/// Rolls `res` up onto `opts.framework`.
pub fn rollup(lib: &Library, res: &Resolution, opts: &Options) -> Result<Rollup, RollupError> {
    let catalog = res.catalog();
    let set: &RequirementSet = lib.framework(opts.framework).ok_or_else(|| RollupError {
        message: format!("`{}` is not a framework demarc can roll up", opts.framework),
        help: format!("choose one of: {}", framework_choices(lib)),
    })?;
    // The requirements in view, in framework order (a baseline selects and fills parameters).
    let mut reqs: Vec<Requirement> = match opts.baseline {
        Some(b) => b
            .profile
            .controls
            .iter()
            .filter_map(|id| lib.nist_with_params(id, Some(b)))
            .collect(),
        None => set.requirements.clone(),
    };
    if opts.framework == "fedramp" && opts.baseline.is_none() {
        return Err(RollupError {
            message: "FedRAMP requirements are a baseline of SP 800-53".into(),
            help: "choose --baseline low, moderate, high or li-saas".into(),
        });
    }
    let (mut by_req, unknown_mappings) = mapping_index(lib, catalog, opts.framework, set, &reqs);
    let mapped_controls: BTreeSet<usize> = by_req.values().flatten().map(|(ci, _)| *ci).collect();

    // Classes in scope, grouped by table with their asset counts.
    let classes: Vec<demarc_engine::ClassInfo> = res.classes().collect();
    let in_scope: Vec<bool> = classes
        .iter()
        .map(|c| {
            opts.env.is_none_or(|e| c.env == Some(e))
                && opts
                    .data
                    .is_none_or(|d| c.data.iter().any(|x| x.as_str() == d))
        })
        .collect();
    let mut table_assets: BTreeMap<usize, (usize, usize)> = BTreeMap::new(); // table → (assets, a class)
    for (i, c) in classes.iter().enumerate() {
        if in_scope[i] {
            let e = table_assets.entry(c.table.index()).or_insert((0, i));
            e.0 += c.assets;
        }
    }
    let assets_in_scope: usize = table_assets.values().map(|v| v.0).sum();

    let backers = backing_frameworks(catalog, opts.framework);
    let needed_level = opts.baseline.map_or(0, |b| level_rank(&b.id));
    let ctx = Ctx {
        res,
        catalog,
        backers,
        needed_level,
        warn_until: demarc_model::add_days(
            res.as_of(),
            demarc_model::Duration::from_days(opts.warn_days.max(0) as u64),
        ),
    };
    let mut aggs: HashMap<usize, ControlAgg> = HashMap::new();
    let mapped: Vec<bool> = (0..catalog.controls.len())
        .map(|ci| mapped_controls.contains(&ci))
        .collect();
    // Pass 1, per table: the assets each mapped control applies to, and the weight (assets)
    // of every distinct cell under each distinct backing. Tables share their cells, so the
    // expensive per-cell work below runs once per distinct cell, not once per table.
    let mut backings: Vec<TableBacking> = Vec::new();
    // FxHash: a million-asset estate has millions of (cell, backing) visits here.
    let mut weights: rustc_hash::FxHashMap<(*const Cell, u32), (usize, &Arc<Cell>)> =
        Default::default();
    let mut stamp: Vec<usize> = vec![usize::MAX; catalog.controls.len()];
    for (k, &(n, class_ix)) in table_assets.values().enumerate() {
        let class = &classes[class_ix];
        let backing = ctx.backing(class.provider, class.service);
        let b = match backings.iter().position(|x| *x == backing) {
            Some(i) => i,
            None => {
                backings.push(backing);
                backings.len() - 1
            }
        } as u32;
        for cell in res.table_cells(class.table) {
            let ci = res.control_index(cell);
            if !mapped[ci] {
                continue;
            }
            if stamp[ci] != k {
                stamp[ci] = k;
                aggs.entry(ci).or_default().assets += n;
            }
            weights.entry((Arc::as_ptr(cell), b)).or_insert((0, cell)).0 += n;
        }
    }
    // Pass 2, per distinct cell and backing.
    let rule_ends: HashMap<&demarc_engine::RuleId, (String, Option<NaiveDate>)> = res
        .rules()
        .map(|r| (r.id, (format!("{} {}", r.kind.as_str(), r.name), r.ends)))
        .collect();
    let mut lapsed_attestations: BTreeMap<usize, BTreeSet<Risk>> = BTreeMap::new();
    for ((_, b), (n, cell)) in weights {
        let ci = res.control_index(cell);
        let backing = &backings[b as usize];
        let agg = aggs.entry(ci).or_default();
        agg.cells += n;
        *agg.ownership.entry(cell.ownership.as_str()).or_default() += n;
        if cell.unassigned {
            agg.unassigned += n;
        }
        if !cell.contested.is_empty() {
            agg.contested += n;
        }
        if cell.unsplit {
            agg.unsplit += n;
        }
        for a in &cell.responsible {
            let label = a.label();
            let s = agg.shares.entry(label).or_insert_with_key(|label| Share {
                label: label.clone(),
                party: a.party.clone(),
                role: a.role,
                cells: 0,
                duties: BTreeSet::new(),
                does: Vec::new(),
            });
            s.cells += n;
            s.duties.insert(cell.duty);
            if let Some(d) = &a.does {
                keep_does(&mut s.does, d);
            }
            if a.role == Role::Provider {
                agg.backing.cells += n;
                match backing {
                    TableBacking::Backed { by, until } => {
                        agg.backing.backed += n;
                        agg.backing.by.insert(by.clone());
                        if let Some(u) = until
                            && *u <= ctx.warn_until
                        {
                            agg.risks.insert(Risk {
                                date: *u,
                                lapsed: false,
                                what: format!("attestation {by}"),
                            });
                        }
                    }
                    TableBacking::Unbacked { why, lapsed } => {
                        agg.backing.unbacked.insert(why.clone());
                        // A lapsed attestation is a dated risk for what it used to back.
                        lapsed_attestations
                            .entry(ci)
                            .or_default()
                            .extend(lapsed.iter().cloned());
                    }
                }
            }
        }
        // Lapsed rules (an ended contract) and deciding rules about to end.
        if let Some(r) = cell_risk(res, cell, &rule_ends, ctx.warn_until) {
            agg.risks.insert(r);
        }
    }
    for (ci, risks) in lapsed_attestations {
        if let Some(agg) = aggs.get_mut(&ci) {
            agg.risks.extend(risks);
        }
    }
    // Evidence, counted like the evidence gaps.
    for ev in res.evidence_coverage() {
        if !in_scope[ev.class] {
            continue;
        }
        let Some(ci) = catalog.control_position(ev.control) else {
            continue;
        };
        if let Some(agg) = aggs.get_mut(&ci) {
            agg.evidence.needed += ev.assets;
            agg.evidence.missing += ev.missing;
            agg.evidence.expired += ev.expired;
        }
    }

    // Requirements.
    let mut rows = Vec::with_capacity(reqs.len());
    for r in reqs.drain(..) {
        let mapped: Vec<(usize, MappedControl)> = by_req.remove(&r.id).unwrap_or_default();
        rows.push(requirement_row(r, mapped, &aggs, opts.framework));
    }
    let mut summary = Summary {
        requirements: rows.len(),
        ..Summary::default()
    };
    let mut parties: BTreeMap<String, PartyReadiness> = BTreeMap::new();
    for row in &rows {
        match row.origination {
            Origination::NotAddressed => summary.not_addressed += 1,
            Origination::NotApplicable => summary.not_applicable += 1,
            Origination::Inherited => summary.inherited += 1,
            Origination::Shared => summary.shared += 1,
            Origination::Customer => summary.customer += 1,
        }
        if row.ready {
            summary.ready += 1;
        }
        if !row.risks.is_empty() {
            summary.at_risk += 1;
        }
        summary.backed_cells += row.backing.backed;
        summary.inherited_cells += row.backing.cells;
        if matches!(
            row.origination,
            Origination::Inherited | Origination::Shared | Origination::Customer
        ) {
            for (k, v) in &row.ownership {
                match *k {
                    "csp-owned" => summary.cells_provider += v,
                    "shared" => summary.cells_shared += v,
                    _ => summary.cells_customer += v,
                }
            }
        }
        for s in &row.shares {
            let p = parties
                .entry(s.label.clone())
                .or_insert_with(|| PartyReadiness {
                    label: s.label.clone(),
                    role: s.role,
                    requirements: 0,
                    ready: 0,
                    cells: 0,
                });
            p.requirements += 1;
            p.cells += s.cells;
            if row.ready {
                p.ready += 1;
            }
        }
    }
    let fw = catalog.framework(opts.framework);
    Ok(Rollup {
        framework: opts.framework.to_string(),
        framework_name: fw
            .map(|f| f.name.clone())
            .unwrap_or_else(|| set.source.clone()),
        edition: set.edition.clone(),
        source: set.source.clone(),
        baseline: opts.baseline.map(|b| (b.id.clone(), b.title.clone())),
        as_of: res.as_of(),
        assets: assets_in_scope,
        rows,
        summary,
        parties: parties.into_values().collect(),
        unknown_mappings,
    })
}

/// What a cell rests on that lapsed or lapses soon: a lapsed rule (an ended contract) that
/// would have decided it, or the deciding rule's end within the warning window.
fn cell_risk(
    res: &Resolution,
    cell: &Cell,
    rule_ends: &HashMap<&demarc_engine::RuleId, (String, Option<NaiveDate>)>,
    warn_until: NaiveDate,
) -> Option<Risk> {
    if let Some(id) = res.lapsed_rules(cell).next()
        && let Some((name, Some(end))) = rule_ends.get(id)
    {
        return Some(Risk {
            date: *end,
            lapsed: true,
            what: name.clone(),
        });
    }
    let id = res.deciding_rule(cell)?;
    let (name, end) = rule_ends.get(id)?;
    let end = (*end)?;
    (end <= warn_until).then(|| Risk {
        date: end,
        lapsed: end < res.as_of(),
        what: name.clone(),
    })
}

fn requirement_row(
    r: Requirement,
    mapped: Vec<(usize, MappedControl)>,
    aggs: &HashMap<usize, ControlAgg>,
    framework: &str,
) -> Row {
    let mut row = Row {
        origination: Origination::NotAddressed,
        controls: Vec::new(),
        assets: 0,
        cells: 0,
        ownership: BTreeMap::new(),
        shares: Vec::new(),
        backing: Backing::default(),
        evidence: EvidenceState::default(),
        unassigned: 0,
        contested: 0,
        unsplit: 0,
        risks: Vec::new(),
        ready: false,
        blockers: Vec::new(),
        parts: Vec::new(),
        requirement: r,
    };
    // Parts: a control mapped to the whole requirement covers every part.
    let whole: Vec<&str> = mapped
        .iter()
        .filter(|(_, m)| m.part.is_none())
        .map(|(_, m)| m.control.as_str())
        .collect();
    row.parts = row
        .requirement
        .parts
        .iter()
        .map(|p| {
            let own: Vec<String> = mapped
                .iter()
                .filter(|(_, m)| {
                    m.part
                        .as_deref()
                        .is_some_and(|mp| mp == p.id || p.id.starts_with(&format!("{mp}.")))
                })
                .map(|(_, m)| m.control.clone())
                .collect();
            PartRow {
                id: p.id.clone(),
                label: p.label.clone(),
                prose: p.prose.clone(),
                covered_by: if !own.is_empty() {
                    "part"
                } else if !whole.is_empty() {
                    "control"
                } else {
                    "none"
                },
                controls: own,
            }
        })
        .collect();
    if mapped.is_empty() {
        if row.requirement.not_addressed.is_none() {
            row.requirement.not_addressed = Some(match framework {
                FEDRAMP_20X => {
                    "none of the SP 800-53 controls it links to is mapped by a demarc control"
                        .to_string()
                }
                _ => "no demarc control maps to it and no reason is recorded".to_string(),
            });
        }
        row.blockers
            .push("not addressed by the catalog: handle it outside demarc".into());
        return row;
    }
    let mut shares: BTreeMap<String, Share> = BTreeMap::new();
    let mut risks: BTreeSet<Risk> = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for (ci, m) in &mapped {
        row.controls.push(m.clone());
        if !seen.insert(*ci) {
            continue;
        }
        let Some(a) = aggs.get(ci) else { continue };
        row.assets = row.assets.max(a.assets);
        row.cells += a.cells;
        for (k, v) in &a.ownership {
            *row.ownership.entry(k).or_default() += v;
        }
        for (k, s) in &a.shares {
            let e = shares.entry(k.clone()).or_insert_with(|| Share {
                cells: 0,
                duties: BTreeSet::new(),
                does: Vec::new(),
                ..s.clone()
            });
            e.cells += s.cells;
            e.duties.extend(s.duties.iter().copied());
            for d in &s.does {
                keep_does(&mut e.does, d);
            }
        }
        row.backing.cells += a.backing.cells;
        row.backing.backed += a.backing.backed;
        row.backing.by.extend(a.backing.by.iter().cloned());
        row.backing
            .unbacked
            .extend(a.backing.unbacked.iter().cloned());
        row.unassigned += a.unassigned;
        row.contested += a.contested;
        row.unsplit += a.unsplit;
        risks.extend(a.risks.iter().cloned());
        row.evidence.needed += a.evidence.needed;
        row.evidence.missing += a.evidence.missing;
        row.evidence.expired += a.evidence.expired;
    }
    let mut shares: Vec<Share> = shares.into_values().collect();
    shares.sort_by(|a, b| b.cells.cmp(&a.cells).then(a.label.cmp(&b.label)));
    row.shares = shares;
    row.risks = risks.into_iter().collect();
    if row.cells == 0 {
        row.origination = Origination::NotApplicable;
        return row;
    }
    let csp = row.ownership.get("csp-owned").copied().unwrap_or(0);
    let shared = row.ownership.get("shared").copied().unwrap_or(0);
    row.origination = if csp == row.cells {
        Origination::Inherited
    } else if csp == 0 && shared == 0 {
        Origination::Customer
    } else {
        Origination::Shared
    };
    if row.unassigned > 0 {
        row.blockers.push(format!(
            "{} cells have nobody named on the customer's side: assign an owner (assignments or a contract clause)",
            row.unassigned
        ));
    }
    if row.contested > 0 {
        row.blockers.push(format!(
            "{} cells are claimed by more than one owner: settle who does it",
            row.contested
        ));
    }
    if row.unsplit > 0 {
        row.blockers.push(format!(
            "{} shared cells have no written split: say what each side does",
            row.unsplit
        ));
    }
    if row.backing.backed < row.backing.cells {
        row.blockers.push(format!(
            "{} of {} inherited cells are not backed by an in-date attestation ({})",
            row.backing.cells - row.backing.backed,
            row.backing.cells,
            row.backing
                .unbacked
                .iter()
                .take(2)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if row.evidence.missing + row.evidence.expired > 0 {
        row.blockers.push(format!(
            "evidence: {} missing and {} expired of {} needed: record current evidence",
            row.evidence.missing, row.evidence.expired, row.evidence.needed
        ));
    }
    if row.risks.iter().any(|r| r.lapsed) {
        row.blockers.push(format!(
            "rests on something that lapsed: {}",
            row.risks
                .iter()
                .filter(|r| r.lapsed)
                .map(|r| format!("{} ({})", r.what, r.date))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    row.ready = row.blockers.is_empty();
    row
}

/// Keeps the rows a party carries (`--mine`): the "which inherited controls are still mine"
/// question. Shares of other parties stay on each row, so the split is still visible.
pub fn only_carried_by(rollup: &mut Rollup, party: &str) {
    rollup.rows.retain(|r| r.carried_by(party));
}

/// Why this framework's shares differ from another's, in a few lines: what it leaves out,
/// how coarse its requirements are, and what its inheritance rests on.
pub fn cross_notes(r: &Rollup) -> Vec<String> {
    let s = &r.summary;
    let mut notes = Vec::new();
    if s.not_addressed > 0 {
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for row in &r.rows {
            if row.origination == Origination::NotAddressed
                && let Some(n) = &row.requirement.not_addressed
            {
                *reasons.entry(n.as_str()).or_default() += 1;
            }
        }
        let mut top: Vec<(&str, usize)> = reasons.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        notes.push(format!(
            "{} of {} requirements are outside the catalog and count in no share{}",
            s.not_addressed,
            s.requirements,
            top.first()
                .map(|(why, n)| format!(" (most often, {n}×: {why})"))
                .unwrap_or_default()
        ));
    }
    if s.not_applicable > 0 {
        notes.push(format!(
            "{} requirements map only to controls no asset in scope has",
            s.not_applicable
        ));
    }
    let applicable: Vec<&Row> = r
        .rows
        .iter()
        .filter(|row| {
            matches!(
                row.origination,
                Origination::Inherited | Origination::Shared | Origination::Customer
            )
        })
        .collect();
    if !applicable.is_empty() {
        let controls: BTreeSet<&str> = applicable
            .iter()
            .flat_map(|row| row.controls.iter().map(|m| m.control.as_str()))
            .collect();
        let per = applicable
            .iter()
            .map(|row| {
                row.controls
                    .iter()
                    .map(|m| m.control.as_str())
                    .collect::<BTreeSet<_>>()
                    .len()
            })
            .sum::<usize>() as f64
            / applicable.len() as f64;
        notes.push(format!(
            "its {} applicable requirements rest on {} demarc controls, {:.1} per requirement: a requirement is inherited only when every mapped control is wholly the provider's, so broader requirements come out shared more often",
            applicable.len(),
            controls.len(),
            per
        ));
    }
    if s.inherited_cells > 0 && s.backed_cells < s.inherited_cells {
        notes.push(format!(
            "{} of {} inherited cells have no in-date attestation for this framework behind them",
            s.inherited_cells - s.backed_cells,
            s.inherited_cells
        ));
    }
    notes
}

/// Keeps the three alphabetically first distinct texts of what a side does. Cells arrive in
/// hash order, so "the first three seen" would differ from run to run; the first three in
/// sort order are the same whatever the order.
fn keep_does(does: &mut Vec<String>, d: &str) {
    if let Err(at) = does.binary_search_by(|x| x.as_str().cmp(d)) {
        does.insert(at, d.to_string());
        does.truncate(3);
    }
}
