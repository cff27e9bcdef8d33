//! Gap analysis: what is missing, contested, expired or unproven in a resolved estate.
//!
//! Gaps are grouped so that one gap is one thing to fix: the same problem on the same control
//! and duties across many assets is one gap listing those assets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use demarc_catalog::FrameworkKind;
use demarc_model::Duty;
use serde::Serialize;

use crate::cell::{Ownership, Role};
use crate::resolve::{Class, Resolution, RuleKind, ServiceKind};

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

const SENSITIVE: [&str; 9] = [
    "pii",
    "pci",
    "phi",
    "secret",
    "confidential",
    "restricted",
    "financial",
    "health",
    "credentials",
];

fn exposure(class: &Class) -> Severity {
    let prod = class
        .env
        .as_deref()
        .is_some_and(|e| matches!(e, "prod" | "production" | "prd"));
    let sensitive = class.data.iter().any(|d| SENSITIVE.contains(&d.as_str()));
    match (prod, sensitive) {
        (true, true) => Severity::High,
        (true, false) | (false, true) => Severity::Medium,
        (false, false) => Severity::Low,
    }
}

type DutySets = (Vec<Duty>, Vec<Duty>, Vec<Duty>);
/// What a lapsed rule would have covered: classes, cells, who owns them now, duties, severity.
type LapsedCover = (Vec<u32>, usize, BTreeSet<String>, BTreeSet<Duty>, Severity);

/// Collects assets and the worst severity under one grouping key.
struct Group {
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

#[derive(Default)]
struct Groups {
    map: BTreeMap<(&'static str, String), Group>,
}

impl Groups {
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
        let g = self.map.entry((code, key)).or_insert_with(|| {
            let (title, control, duties, fix) = make();
            Group {
                severity,
                classes: BTreeSet::new(),
                assets: Vec::new(),
                cells: 0,
                title,
                control,
                duties,
                basis: BTreeSet::new(),
                fix,
            }
        });
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
        g.basis.extend(basis);
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

/// Analyses a resolution. Pure: the date comes from the resolution.
pub fn analyse_with(res: &Resolution, options: AnalyseOptions) -> Analysis {
    let mut groups = Groups::default();
    let estate = res.estate;
    let catalog = res.catalog;
    let as_of = res.as_of;

    // Per class: cell-level gaps.
    for (class_idx, class) in res.classes.iter().enumerate() {
        let class_idx = class_idx as u32;
        let table = &res.tables[class.table];
        let exp = exposure(class);
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
            groups.add(res, codes::UNKNOWN_SERVICE, service.clone(), exp.max(Severity::Medium), Members::Class(class_idx), cells, || {
                let fix = match suggestion {
                    Some(s) => format!("did you mean `{s}`? Otherwise define `{service}` under `services:` with the generic model it follows (iaas, paas, saas, …)"),
                    None => format!("define `{service}` under `services:` with the generic model it follows (iaas, caas, paas, faas, dbaas, saas) and its provider, or use a catalog service id (`demarc catalog list`)"),
                };
                (format!("unknown service type `{service}`: the provider model is unclear, so the customer is assumed responsible for all {cells} duties"), None, vec![], fix)
            }, []);
            // Every cell of an unknown service is unassigned by construction; DM013 says it once.
            continue;
        }
        // Unassigned, unsplit and contested cells, per control.
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
        for (ci, (unassigned, unsplit, contested)) in per_control {
            let control = &catalog.controls[ci];
            fn cells_of<'t>(
                cells: &'t [crate::Cell],
                ci: usize,
                duties: &'t [Duty],
            ) -> impl Iterator<Item = &'t crate::Cell> {
                cells
                    .iter()
                    .filter(move |c| c.control == ci && duties.contains(&c.duty))
            }
            if !unassigned.is_empty() {
                let assumed = cells_of(&table.cells, ci, &unassigned).any(|c| c.assumed);
                let key = format!("{}:{}", control.id, duty_list(&unassigned));
                let basis: Vec<String> = cells_of(&table.cells, ci, &unassigned)
                    .flat_map(|c| {
                        c.basis
                            .iter()
                            .take(1)
                            .map(|b| with_url(&b.rule, b.url.as_deref()))
                    })
                    .collect();
                let sev = if assumed { exp } else { exp.max(Severity::Low) };
                groups.add(res, codes::UNASSIGNED, key, sev, Members::Class(class_idx), unassigned.len(), || {
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
                }, basis);
            }
            if !unsplit.is_empty() {
                let key = format!("{}:{}", control.id, duty_list(&unsplit));
                let who: BTreeSet<String> = cells_of(&table.cells, ci, &unsplit)
                    .map(|c| c.responsible_label())
                    .collect();
                let basis: Vec<String> = cells_of(&table.cells, ci, &unsplit)
                    .flat_map(|c| {
                        c.basis.iter().take(1).map(|b| {
                            format!(
                                "{}{}",
                                b.rule,
                                b.at.as_ref()
                                    .map(|a| format!(" at {a}"))
                                    .unwrap_or_default()
                            )
                        })
                    })
                    .collect();
                groups.add(res, codes::UNSPLIT, key, exp.down().max(Severity::Low), Members::Class(class_idx), unsplit.len(), || {
                    (
                        format!("{} ({}) is shared by {} with no written split of who does what", control.name, duty_list(&unsplit), who.into_iter().collect::<Vec<_>>().join("; ")),
                        Some(control.id.clone()),
                        unsplit.clone(),
                        "add `split:` to the rule with one line per owner saying what that owner does".into(),
                    )
                }, basis);
            }
            if !contested.is_empty() {
                let sample = cells_of(&table.cells, ci, &contested)
                    .next()
                    .expect("contested cell");
                let winner = sample.responsible_label();
                let others = sample.contested.join(", ");
                let key = format!("{}:{}:{}", control.id, duty_list(&contested), others);
                let basis: Vec<String> = cells_of(&table.cells, ci, &contested)
                    .flat_map(|c| {
                        c.basis
                            .iter()
                            .filter(|b| b.at.is_some())
                            .map(|b| format!("{} at {}", b.rule, b.at.as_deref().unwrap_or("")))
                    })
                    .collect();
                groups.add(res, codes::CONTESTED, key, exp.max(Severity::Medium), Members::Class(class_idx), contested.len(), || {
                    (
                        format!("{} ({}) is claimed by rules of equal rank naming different owners: {winner} and {others}", control.name, duty_list(&contested)),
                        Some(control.id.clone()),
                        contested.clone(),
                        "decide one owner: remove or narrow one of the rules (a narrower scope wins), or add an override with the reason".into(),
                    )
                }, basis);
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
                let basis: Vec<String> = table
                    .cells
                    .iter()
                    .filter(|c| c.control == ci && matches!(c.duty, Duty::Configure | Duty::Audit))
                    .flat_map(|c| {
                        c.basis.iter().filter(|b| b.at.is_some()).take(1).map(|b| {
                            format!(
                                "{}: {} at {}",
                                c.duty,
                                b.rule,
                                b.at.as_deref().unwrap_or("")
                            )
                        })
                    })
                    .collect();
                groups.add(res, codes::SEPARATION_OF_DUTIES, format!("{}:{who}", control.id), Severity::Medium, Members::Class(class_idx), 2, || {
                    (
                        format!("{who} both configures and audits {}: nobody independent checks the work", control.name),
                        Some(control.id.clone()),
                        vec![Duty::Configure, Duty::Audit],
                        format!("give the audit duty of `{}` to another team or party (e.g. internal audit or the MSSP)", control.id),
                    )
                }, basis);
            }
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
        .map
        .into_iter()
        .map(|((code, key), mut g)| {
            let mut members = std::mem::take(&mut g.assets);
            for c in &g.classes {
                members.extend_from_slice(&res.classes[*c as usize].members);
            }
            members.sort_unstable_by_key(|&i| rank[i as usize]);
            members.dedup();
            (code, key, g, members)
        })
        .map(|(code, key, g, members)| Gap {
            code,
            kind: codes::name(code),
            key: format!("{code}:{key}"),
            severity: g.severity,
            title: g.title,
            control: g.control,
            duties: g.duties,
            asset_count: members.len(),
            assets: members
                .iter()
                .take(limit)
                .map(|&i| estate.assets[i as usize].id.value.clone())
                .collect(),
            cells: g.cells,
            basis: g.basis.into_iter().collect(),
            fix: g.fix,
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
    for (class_idx, class) in res.classes.iter().enumerate() {
        let table = &res.tables[class.table];
        for cell in &table.cells {
            for &r in &cell.lapsed {
                let e = lapsed.entry(r).or_insert_with(|| {
                    (
                        Vec::new(),
                        0,
                        BTreeSet::new(),
                        BTreeSet::new(),
                        Severity::Medium,
                    )
                });
                if e.0.last() != Some(&(class_idx as u32)) {
                    e.0.push(class_idx as u32);
                }
                e.1 += class.members.len();
                e.2.insert(format!(
                    "{} {} → {}",
                    res.control(cell).id,
                    cell.duty,
                    cell.responsible_label()
                ));
                e.3.insert(cell.duty);
                e.4 = e.4.max(exposure(class));
            }
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
        let sev = if cells == 0 {
            Severity::Low
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
                format!("{} ({what}) ended on {ended}; its {cells} duties fell back to the catalog and assignments", rule.name),
                None,
                duties.into_iter().collect(),
                "renew or replace the agreement and update `expires`, or assign the duties it covered to someone in writing".into(),
            )
        }, basis);
        if let Some(g) = groups
            .map
            .get_mut(&(codes::EXPIRED_RULE, rule.name.clone()))
        {
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
    for (class_idx, class) in res.classes.iter().enumerate() {
        let table = &res.tables[class.table];
        for cell in &table.cells {
            for a in cell.responsible.iter().filter(|a| a.role == Role::Provider) {
                for party in std::iter::once(&a.party).chain(a.via.iter()) {
                    let e = inherited.entry(party.clone()).or_insert_with(|| {
                        (
                            BTreeSet::new(),
                            0,
                            BTreeSet::new(),
                            a.declared || estate.parties.contains_key(party),
                        )
                    });
                    e.0.insert(class_idx as u32);
                    e.1 += class.members.len();
                    e.2.insert(cell.control);
                }
            }
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
            let fw_name = fw.unwrap_or("any framework");
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
                    let fix = if declared {
                        format!(
                            "record {provider}'s {fw_name} attestation under `parties.{provider}.attestations` (framework and `expires` or `period_end`)"
                        )
                    } else {
                        format!(
                            "add party `{provider}` (kind: provider) with its attestations; the estate relies on it but does not declare it"
                        )
                    };
                    groups.add(res, codes::ATTESTATION_MISSING, key, Severity::Medium, Members::Classes(&members), 0, || {
                        (format!("no {fw_name} attestation on file for {provider}, yet the customer inherits {relevant} controls from it"), None, vec![], fix)
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
    if let Some(g) = groups.map.get_mut(&(code, key.to_string())) {
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
                        format!("{} assets ({}) were added after the last review on {last_date}", added.len(), services.into_iter().collect::<Vec<_>>().join(", ")),
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
    for class in &res.classes {
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
            if !missing.is_empty() {
                groups.add(res, codes::EVIDENCE_MISSING, control.id.clone(), exp.down().max(Severity::Low), Members::Assets(&missing), 1, || {
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
