//! Framework requirement catalogs as data: NIST SP 800-53 from the OSCAL catalog, FedRAMP
//! baselines as OSCAL profiles resolved here, FedRAMP 20x indicators from the Consolidated
//! Rules, and the licensed frameworks as id lists with our own one-line titles.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::ksi::KsiSet;
use crate::oscal::{Imported, OscalCatalog, OscalError, ResolvedProfile, resolve_profile};

/// The NIST catalog and baseline profiles shipped with demarc, by file name.
pub const NIST_CATALOG_FILE: &str = "NIST_SP-800-53_rev5_catalog.json";
const NIST_CATALOG: &str = include_str!("../data/oscal/NIST_SP-800-53_rev5_catalog.json");

/// `(framework, baseline, file, text)` of every shipped baseline profile.
pub const PROFILES: &[(&str, &str, &str, &str)] = &[
    (
        "nist-800-53",
        "low",
        "NIST_SP-800-53_rev5_LOW-baseline_profile.json",
        include_str!("../data/oscal/NIST_SP-800-53_rev5_LOW-baseline_profile.json"),
    ),
    (
        "nist-800-53",
        "moderate",
        "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json",
        include_str!("../data/oscal/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"),
    ),
    (
        "nist-800-53",
        "high",
        "NIST_SP-800-53_rev5_HIGH-baseline_profile.json",
        include_str!("../data/oscal/NIST_SP-800-53_rev5_HIGH-baseline_profile.json"),
    ),
    (
        "nist-800-53",
        "privacy",
        "NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json",
        include_str!("../data/oscal/NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json"),
    ),
    (
        "fedramp",
        "low",
        "FedRAMP_rev5_LOW-baseline_profile.json",
        include_str!("../data/oscal/FedRAMP_rev5_LOW-baseline_profile.json"),
    ),
    (
        "fedramp",
        "moderate",
        "FedRAMP_rev5_MODERATE-baseline_profile.json",
        include_str!("../data/oscal/FedRAMP_rev5_MODERATE-baseline_profile.json"),
    ),
    (
        "fedramp",
        "high",
        "FedRAMP_rev5_HIGH-baseline_profile.json",
        include_str!("../data/oscal/FedRAMP_rev5_HIGH-baseline_profile.json"),
    ),
    (
        "fedramp",
        "li-saas",
        "FedRAMP_rev5_LI-SaaS-baseline_profile.json",
        include_str!("../data/oscal/FedRAMP_rev5_LI-SaaS-baseline_profile.json"),
    ),
];

/// The requirement lists written as data (`data/frameworks/*.yaml`).
const FRAMEWORK_FILES: &[(&str, &str)] = &[
    ("soc2.yaml", include_str!("../data/frameworks/soc2.yaml")),
    (
        "iso27001.yaml",
        include_str!("../data/frameworks/iso27001.yaml"),
    ),
    (
        "pci-dss.yaml",
        include_str!("../data/frameworks/pci-dss.yaml"),
    ),
    ("hipaa.yaml", include_str!("../data/frameworks/hipaa.yaml")),
    (
        "cis-v8.yaml",
        include_str!("../data/frameworks/cis-v8.yaml"),
    ),
    (
        "csa-ccm.yaml",
        include_str!("../data/frameworks/csa-ccm.yaml"),
    ),
    (
        "nist-800-53.yaml",
        include_str!("../data/frameworks/nist-800-53.yaml"),
    ),
];

/// The frameworks whose requirements are the SP 800-53 controls.
const NIST_BASED: &[&str] = &["nist-800-53", "fedramp"];
/// The framework of the FedRAMP 20x Key Security Indicators.
pub const FEDRAMP_20X: &str = "fedramp-20x";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: u32,
    framework: String,
    #[serde(default)]
    edition: Option<String>,
    #[serde(default)]
    groups: BTreeMap<String, String>,
    #[serde(default)]
    requirements: Vec<RawRequirement>,
    #[serde(default)]
    not_addressed: Vec<RawNotAddressed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    id: String,
    title: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    not_addressed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotAddressed {
    #[serde(default, rename = "match")]
    pattern: Option<String>,
    #[serde(default)]
    ids: Vec<String>,
    reason: String,
}

/// What kind of requirement a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequirementKind {
    /// An SP 800-53 base control.
    Control,
    /// An SP 800-53 control enhancement.
    Enhancement,
    /// A FedRAMP 20x Key Security Indicator.
    Indicator,
    /// A requirement, criterion, safeguard or specification of another framework.
    Requirement,
}

impl RequirementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementKind::Control => "control",
            RequirementKind::Enhancement => "enhancement",
            RequirementKind::Indicator => "indicator",
            RequirementKind::Requirement => "requirement",
        }
    }
}

/// One statement part of a requirement (SP 800-53 `ac-2_smt.a`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementPart {
    pub id: String,
    pub label: String,
    /// The prose, with parameters filled in from the baseline where it sets them.
    pub prose: String,
    pub depth: u8,
}

/// One requirement of a framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Normalised id (`ac-2.1`, `A.8.8`, `KSI-IAM-MFA`).
    pub id: String,
    /// As people write it (`AC-2(1)`).
    pub label: String,
    pub title: String,
    pub group: Option<String>,
    pub kind: RequirementKind,
    /// `required` / `addressable` (HIPAA), when the framework says.
    pub qualifier: Option<String>,
    /// The statement (NIST's or FedRAMP's public-domain text; none for licensed frameworks).
    pub statement: Option<String>,
    pub parts: Vec<RequirementPart>,
    /// For an indicator: the SP 800-53 controls it links to.
    pub links: Vec<String>,
    /// Why demarc's control catalog does not address it, when it does not.
    pub not_addressed: Option<String>,
}

/// A framework's requirements, in the framework's order.
#[derive(Debug, Clone)]
pub struct RequirementSet {
    pub framework: String,
    pub edition: String,
    /// Where the list comes from.
    pub source: String,
    pub groups: Vec<(String, String)>,
    pub requirements: Vec<Requirement>,
    index: BTreeMap<String, usize>,
}

impl RequirementSet {
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.index.get(id).map(|&i| &self.requirements[i])
    }
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }
    pub fn len(&self) -> usize {
        self.requirements.len()
    }
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
    fn build(
        framework: &str,
        edition: String,
        source: String,
        groups: Vec<(String, String)>,
        requirements: Vec<Requirement>,
    ) -> Result<RequirementSet, String> {
        let mut index = BTreeMap::new();
        for (i, r) in requirements.iter().enumerate() {
            if index.insert(r.id.clone(), i).is_some() {
                return Err(format!(
                    "{framework}: requirement `{}` is listed twice",
                    r.id
                ));
            }
        }
        Ok(RequirementSet {
            framework: framework.to_string(),
            edition,
            source,
            groups,
            requirements,
            index,
        })
    }
}

/// A baseline: the requirements of a framework that an impact level or profile selects.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub framework: String,
    /// `moderate`, or the profile's file name for a user profile.
    pub id: String,
    pub title: String,
    pub profile: ResolvedProfile,
}

/// Every framework's requirements, built once from the shipped data.
pub struct Library {
    pub nist: OscalCatalog,
    pub ksi: KsiSet,
    sets: BTreeMap<String, RequirementSet>,
    /// Each shipped profile, resolved on first use (one per slot of [`PROFILES`]): asking for
    /// FedRAMP moderate does not parse the other seven profiles.
    baselines: [OnceLock<Result<Baseline, OscalError>>; PROFILES.len()],
}

/// An error choosing a framework or baseline: the message and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceError {
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for ChoiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; {}", self.message, self.help)
    }
}

fn glob_match(pattern: &str, id: &str) -> bool {
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(id))
        .unwrap_or(false)
}

impl Library {
    /// The shipped library, parsed on first use (the NIST catalog is 10 MB of JSON, so only
    /// commands that need requirements pay for it).
    pub fn builtin() -> Result<&'static Library, OscalError> {
        static LIB: OnceLock<Result<Library, OscalError>> = OnceLock::new();
        LIB.get_or_init(Library::load)
            .as_ref()
            .map_err(Clone::clone)
    }

    fn load() -> Result<Library, OscalError> {
        let nist = OscalCatalog::parse(NIST_CATALOG_FILE, NIST_CATALOG)?;
        let ksi = KsiSet::builtin()?;
        let data_err = |file: &str, message: String| OscalError {
            document: format!("crates/compliance/data/frameworks/{file}"),
            at: String::new(),
            message,
            help: "fix the shipped framework data".into(),
        };
        let mut sets = BTreeMap::new();
        let mut nist_not_addressed: Vec<RawNotAddressed> = Vec::new();
        for (file, text) in FRAMEWORK_FILES {
            let raw: RawFile =
                serde_saphyr::from_str(text).map_err(|e| data_err(file, e.to_string()))?;
            if raw.version != 1 {
                return Err(data_err(file, format!("version {} is not 1", raw.version)));
            }
            if raw.framework == "nist-800-53" {
                nist_not_addressed = raw.not_addressed;
                continue;
            }
            let mut reqs = Vec::with_capacity(raw.requirements.len());
            for r in raw.requirements {
                let not_addressed = r.not_addressed.or_else(|| {
                    raw.not_addressed
                        .iter()
                        .find(|n| {
                            n.ids.iter().any(|i| i == &r.id)
                                || n.pattern.as_deref().is_some_and(|p| glob_match(p, &r.id))
                        })
                        .map(|n| n.reason.clone())
                });
                reqs.push(Requirement {
                    label: r.id.clone(),
                    id: r.id,
                    title: r.title,
                    group: r.group,
                    kind: RequirementKind::Requirement,
                    qualifier: r.kind,
                    statement: None,
                    parts: Vec::new(),
                    links: Vec::new(),
                    not_addressed,
                });
            }
            let set = RequirementSet::build(
                &raw.framework,
                raw.edition.unwrap_or_default(),
                format!("demarc framework data {file} (ids and our own titles)"),
                raw.groups.into_iter().collect(),
                reqs,
            )
            .map_err(|e| data_err(file, e))?;
            sets.insert(raw.framework.clone(), set);
        }
        // SP 800-53: every active control and enhancement, with its statement parts.
        let empty = BTreeMap::new();
        let nist_reqs: Vec<Requirement> = nist
            .active()
            .map(|c| {
                let not_addressed = nist_not_addressed
                    .iter()
                    .find(|n| {
                        n.ids.iter().any(|i| {
                            demarc_catalog::normalise_nist_800_53(i).as_deref() == Ok(&c.id)
                        }) || n.pattern.as_deref().is_some_and(|p| glob_match(p, &c.id))
                    })
                    .map(|n| n.reason.clone());
                nist_requirement(&nist, c, &empty, not_addressed)
            })
            .collect();
        let families: Vec<(String, String)> = nist.families.clone();
        let edition = nist.info.version.clone().unwrap_or_default();
        let source = format!(
            "{} {} (OSCAL {})",
            nist.info.title,
            edition,
            nist.info.oscal_version.as_deref().unwrap_or("?")
        );
        for fw in NIST_BASED {
            let set = RequirementSet::build(
                fw,
                edition.clone(),
                source.clone(),
                families.clone(),
                nist_reqs.clone(),
            )
            .map_err(|e| data_err("nist-800-53.yaml", e))?;
            sets.insert(fw.to_string(), set);
        }
        // FedRAMP 20x: the indicators, each linked to SP 800-53 controls.
        let ksi_reqs: Vec<Requirement> = ksi
            .indicators
            .iter()
            .map(|i| Requirement {
                id: i.id.clone(),
                label: i.id.clone(),
                title: i.name.clone(),
                group: Some(i.theme.clone()),
                kind: RequirementKind::Indicator,
                qualifier: None,
                statement: i.statement.clone().or_else(|| {
                    i.by_class
                        .iter()
                        .map(|(k, s)| format!("Class {}: {s}", k.to_ascii_uppercase()))
                        .reduce(|a, b| a + " " + &b)
                }),
                parts: Vec::new(),
                links: i.controls.clone(),
                not_addressed: None,
            })
            .collect();
        let set = RequirementSet::build(
            FEDRAMP_20X,
            ksi.version.clone(),
            format!("{} {}", ksi.title, ksi.version),
            ksi.themes
                .iter()
                .map(|t| (t.id.clone(), t.name.clone()))
                .collect(),
            ksi_reqs,
        )
        .map_err(|e| data_err("cr26", e))?;
        sets.insert(FEDRAMP_20X.to_string(), set);
        Ok(Library {
            nist,
            ksi,
            sets,
            baselines: std::array::from_fn(|_| OnceLock::new()),
        })
    }

    /// The requirement set of a framework id.
    pub fn framework(&self, id: &str) -> Option<&RequirementSet> {
        self.sets.get(id)
    }

    /// Framework ids with requirement lists.
    pub fn framework_ids(&self) -> impl Iterator<Item = &str> {
        self.sets.keys().map(String::as_str)
    }

    /// The baselines a framework offers (`low`, `moderate`, …).
    pub fn baselines(&self, framework: &str) -> Vec<&'static str> {
        PROFILES
            .iter()
            .filter(|p| p.0 == framework)
            .map(|p| p.1)
            .collect()
    }

    /// The default baseline: FedRAMP is always read at a baseline (moderate unless chosen).
    pub fn default_baseline(&self, framework: &str) -> Option<&'static str> {
        (framework == "fedramp").then_some("moderate")
    }

    /// What an import's file name refers to among the shipped catalog and profiles.
    fn lookup_file(&self, file: &str) -> Option<Imported<'_>> {
        if file == NIST_CATALOG_FILE {
            return Some(Imported::Catalog(&self.nist));
        }
        PROFILES
            .iter()
            .find(|p| p.2 == file)
            .map(|p| Imported::Profile {
                name: p.2.to_string(),
                json: p.3.to_string(),
            })
    }

    /// A shipped baseline of a framework, resolved from its OSCAL profile.
    pub fn baseline(&self, framework: &str, baseline: &str) -> Result<&Baseline, ChoiceError> {
        let slot = PROFILES
            .iter()
            .position(|(fw, b, _, _)| *fw == framework && *b == baseline);
        let resolved = slot.map(|i| {
            self.baselines[i].get_or_init(|| {
                let (fw, b, file, json) = PROFILES[i];
                resolve_profile(file, json, &|f| self.lookup_file(f)).map(|profile| Baseline {
                    framework: fw.to_string(),
                    id: b.to_string(),
                    title: profile.info.title.clone(),
                    profile,
                })
            })
        });
        match resolved {
            Some(Ok(b)) => Ok(b),
            Some(Err(e)) => Err(ChoiceError {
                message: format!(
                    "the shipped {framework} {baseline} baseline does not resolve: {e}"
                ),
                help: "report this as a bug".into(),
            }),
            None => {
                let offered = self.baselines(framework);
                Err(ChoiceError {
                    message: format!("{framework} has no `{baseline}` baseline"),
                    help: if offered.is_empty() {
                        format!("{framework} has no baselines; leave out --baseline")
                    } else {
                        format!("choose one of: {}", offered.join(", "))
                    },
                })
            }
        }
    }

    /// Resolves a user's OSCAL profile against the shipped SP 800-53 catalog (or shipped
    /// profiles it imports).
    pub fn user_profile(&self, name: &str, json: &str) -> Result<Baseline, OscalError> {
        let profile = resolve_profile(name, json, &|f| self.lookup_file(f))?;
        if profile.controls.is_empty() {
            return Err(OscalError {
                document: name.to_string(),
                at: "profile.imports".into(),
                message: "the profile selects no controls from the SP 800-53 catalog".into(),
                help: "check the profile's include-controls ids (OSCAL form, e.g. ac-2.1)".into(),
            });
        }
        Ok(Baseline {
            framework: "nist-800-53".into(),
            id: name.to_string(),
            title: profile.info.title.clone(),
            profile,
        })
    }

    /// A requirement of a NIST-based framework with the baseline's parameter values filled
    /// into its statement.
    pub fn nist_with_params(&self, id: &str, baseline: Option<&Baseline>) -> Option<Requirement> {
        let c = self.nist.control(id)?;
        let empty = BTreeMap::new();
        let values = baseline.map(|b| &b.profile.params).unwrap_or(&empty);
        let na = self
            .sets
            .get("nist-800-53")
            .and_then(|s| s.get(id))
            .and_then(|r| r.not_addressed.clone());
        Some(nist_requirement(&self.nist, c, values, na))
    }
}

fn nist_requirement(
    nist: &OscalCatalog,
    c: &crate::oscal::OscalControl,
    values: &BTreeMap<String, String>,
    not_addressed: Option<String>,
) -> Requirement {
    Requirement {
        id: c.id.clone(),
        label: c.label.clone(),
        title: c.title.clone(),
        group: Some(c.family.clone()),
        kind: if c.parent.is_some() {
            RequirementKind::Enhancement
        } else {
            RequirementKind::Control
        },
        qualifier: None,
        statement: (!c.statement.is_empty()).then(|| nist.render(&c.statement, values)),
        parts: c
            .parts
            .iter()
            .map(|p| RequirementPart {
                id: p.id.clone(),
                label: p.label.clone(),
                prose: nist.render(&p.prose, values),
                depth: p.depth,
            })
            .collect(),
        links: Vec::new(),
        not_addressed,
    }
}
