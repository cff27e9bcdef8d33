//! Tabletop exercises: "a bucket was left public, walk me through it." A [`Scenario`] names
//! the assets it hits, the controls whose duties matter (what caused it, who detects, who
//! responds, which logs the investigation needs) and whether the provider must be engaged.
//! [`Resolution::drill`] walks the estate with the query API and returns a [`Drill`]: the
//! exposed assets, who does each duty (or that nobody named does), the call list with SLAs,
//! the state of the logs, the providers to engage and how, the current gaps that would slow
//! the response, and a numbered facilitator's script of injects built from all of it.
//!
//! Pure like the rest of the engine: the date comes from the resolution.

use std::collections::{BTreeMap, BTreeSet};

use demarc_model::Duty;

use crate::analyse::{AnalyseOptions, Gap};
use crate::callsheet::CallReason;
use crate::cell::{Cell, Ownership, Role};
use crate::query::AssetIx;
use crate::resolve::Resolution;

/// Which assets a scenario hits. Every non-empty criterion must match (AND); within one
/// criterion any value matches (OR). No criterion at all: every asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Asset ids.
    pub assets: Vec<String>,
    /// Service ids (`aws:s3`); a trailing `*` matches a prefix (`aws:*`).
    pub services: Vec<String>,
    /// Service models (`iaas`, `saas`, …).
    pub models: Vec<String>,
    /// Data classes the asset holds (`pii`, `pci`).
    pub data: Vec<String>,
    /// Environments (`prod`).
    pub env: Vec<String>,
    /// Tags as `key=value` (or `key` for any value).
    pub tags: Vec<String>,
    /// Controls that must apply to the asset (`endpoint-security`: the asset has endpoints).
    pub controls: Vec<String>,
    /// Only assets whose service has a provider (not self-operated, not unknown).
    pub provided: bool,
}

/// One control × duty that matters in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub control: String,
    pub duty: Duty,
}

impl Need {
    pub fn new(control: &str, duty: Duty) -> Need {
        Need {
            control: control.to_string(),
            duty,
        }
    }
}

/// A tabletop exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// `public-bucket`.
    pub id: String,
    pub title: String,
    /// What happened, read out to open the exercise.
    pub narrative: String,
    pub targets: Targets,
    /// The duties whose failure let it happen (who should have prevented it).
    pub cause: Vec<Need>,
    /// Monitor duties: who would notice.
    pub detect: Vec<Need>,
    /// Respond duties: who acts.
    pub respond: Vec<Need>,
    /// Log controls the investigation needs (their configure duty: enabled; monitor: read).
    pub logs: Vec<String>,
    /// The provider must be engaged whatever the cells say (an outage or breach on its side).
    pub engage_provider: bool,
    /// Extra questions for the facilitator, asked after the generated ones.
    pub questions: Vec<String>,
}

/// Who does one control × duty across the exposed assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyLine {
    pub control: String,
    pub duty: Duty,
    /// One entry per distinct set of owners, with the assets they hold it for.
    pub owners: Vec<OwnerGroup>,
    /// Exposed assets the control (or duty) does not apply to.
    pub not_applicable: Vec<String>,
}

impl DutyLine {
    /// Assets where nobody is named in writing for this duty.
    pub fn unassigned_assets(&self) -> impl Iterator<Item = &String> {
        self.owners
            .iter()
            .filter(|o| o.unassigned)
            .flat_map(|o| &o.assets)
    }
}

/// The owners of a duty on some assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerGroup {
    /// Responsible parties (`acme/secops`, `shieldco → nightwatch`).
    pub who: Vec<String>,
    pub ownership: Ownership,
    /// The customer's side has nobody named in writing.
    pub unassigned: bool,
    /// Nothing decided it: the customer by default.
    pub assumed: bool,
    /// Other owners claimed by rules of equal rank.
    pub contested: Vec<String>,
    pub sla: Option<String>,
    /// Where the decisive rule is written (`file:line`).
    pub basis: Option<String>,
    pub assets: Vec<String>,
}

/// The state of one log the investigation needs, across the exposed assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub control: String,
    /// Who turns it on and keeps it on (configure), by asset.
    pub enabled_by: DutyLine,
    /// Who reads it (monitor), by asset, when the control has that duty.
    pub read_by: Option<DutyLine>,
    /// Assets with current evidence that it is on (`ref` of the evidence), by asset.
    pub evidence: BTreeMap<String, String>,
}

/// Someone on the drill's call list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillCall {
    pub reason: CallReason,
    pub role: Role,
    pub party: String,
    pub team: Option<String>,
    pub name: String,
    pub contact: Option<String>,
    pub phone: Option<String>,
    /// Exposed assets it is on the call sheet of.
    pub assets: Vec<String>,
    /// The fastest written SLA and the rule that sets it.
    pub sla: Option<(demarc_model::Duration, String)>,
    pub attestation_lapsed: Vec<(String, chrono::NaiveDate)>,
    pub escalation: Vec<String>,
}

/// A provider to engage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderLine {
    /// Catalog provider id (`aws`).
    pub provider: String,
    /// The estate party that stands for it, when declared.
    pub party: Option<String>,
    pub name: Option<String>,
    pub contact: Option<String>,
    pub phone: Option<String>,
    pub escalation: Vec<String>,
    pub attestation_lapsed: Vec<(String, chrono::NaiveDate)>,
    pub assets: Vec<String>,
    /// The scenario's control × duty cells where it is (one of) the responsible.
    pub duties: Vec<String>,
    /// Why it must be engaged (`the scenario is on the provider's side`, `responds for …`);
    /// empty when it need not be.
    pub must_engage: Vec<String>,
}

/// One numbered step of the facilitator's script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inject {
    pub title: String,
    /// What the facilitator reads out or asks.
    pub prompt: String,
    /// What the estate says, for the facilitator to check the answers against.
    pub facts: Vec<String>,
    /// Problems the table should find (unassigned duties, missing logs, gaps).
    pub findings: Vec<String>,
}

/// The result of walking an estate through a scenario.
#[derive(Debug, Clone)]
pub struct Drill {
    pub scenario: Scenario,
    /// Exposed assets, in id order, with their service.
    pub assets: Vec<(String, String)>,
    pub cause: Vec<DutyLine>,
    pub detect: Vec<DutyLine>,
    pub respond: Vec<DutyLine>,
    pub logs: Vec<LogLine>,
    pub calls: Vec<DrillCall>,
    pub providers: Vec<ProviderLine>,
    /// Current gaps on the exposed assets and the scenario's controls (or on a party to call).
    pub gaps: Vec<Gap>,
    pub injects: Vec<Inject>,
}

/// An unknown control or duty in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn needs(list: &[(&str, Duty)]) -> Vec<Need> {
    list.iter().map(|(c, d)| Need::new(c, *d)).collect()
}

fn strs(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The built-in scenarios, by id.
pub fn builtin_scenarios() -> Vec<Scenario> {
    use Duty::{Configure, Monitor, Patch, Respond};
    vec![
        Scenario {
            id: "public-bucket".into(),
            title: "A storage bucket was left public".into(),
            narrative: "A researcher emails security@: a storage bucket of ours answers anonymous listing requests, and some of its objects were downloaded from addresses we do not know.".into(),
            targets: Targets {
                services: strs(&["aws:s3", "azure:storage", "azure:blob-storage", "gcp:cloud-storage", "gcp:gcs"]),
                ..Targets::default()
            },
            cause: needs(&[("public-access-blocking", Configure)]),
            detect: needs(&[
                ("public-access-blocking", Monitor),
                ("storage-access-logging", Monitor),
                ("security-monitoring", Monitor),
                ("dlp", Monitor),
            ]),
            respond: needs(&[
                ("public-access-blocking", Respond),
                ("incident-response", Respond),
                ("dlp", Respond),
            ]),
            logs: strs(&["storage-access-logging", "audit-logging", "log-retention"]),
            engage_provider: false,
            questions: strs(&[
                "Which objects were read, by whom, and since when? Which log answers that, and does it go back far enough?",
                "Does any of the exposed data trigger a breach notification (pii, pci), and who decides?",
            ]),
        },
        Scenario {
            id: "vm-unpatched".into(),
            title: "A VM was compromised through a missed OS patch".into(),
            narrative: "The EDR console shows a reverse shell on a production VM; the exploited flaw was patched by the OS vendor two months ago.".into(),
            targets: Targets {
                models: strs(&["iaas"]),
                ..Targets::default()
            },
            cause: needs(&[("os-patching", Patch), ("vulnerability-scanning", Monitor)]),
            detect: needs(&[
                ("intrusion-detection", Monitor),
                ("malware-protection", Monitor),
                ("file-integrity-monitoring", Monitor),
                ("security-monitoring", Monitor),
            ]),
            respond: needs(&[
                ("intrusion-detection", Respond),
                ("malware-protection", Respond),
                ("incident-response", Respond),
                ("forensics", Respond),
            ]),
            logs: strs(&["audit-logging", "log-retention", "network-flow-logging"]),
            engage_provider: false,
            questions: strs(&[
                "Who isolates the VM and who takes the disk snapshot for forensics before anyone rebuilds it?",
                "Which other hosts missed the same patch, and who owns patching them today?",
            ]),
        },
        Scenario {
            id: "saas-leaver".into(),
            title: "A former employee's SaaS account was used".into(),
            narrative: "Three weeks after a salesperson left, their account exported the customer list from a SaaS application.".into(),
            targets: Targets {
                models: strs(&["saas"]),
                ..Targets::default()
            },
            cause: needs(&[
                ("joiner-mover-leaver", Configure),
                ("access-review", Monitor),
                ("identity-federation", Configure),
            ]),
            detect: needs(&[
                ("joiner-mover-leaver", Monitor),
                ("local-authentication", Monitor),
                ("audit-logging", Monitor),
                ("security-monitoring", Monitor),
                ("dlp", Monitor),
            ]),
            respond: needs(&[("incident-response", Respond), ("dlp", Respond)]),
            logs: strs(&["audit-logging", "log-retention"]),
            engage_provider: false,
            questions: strs(&[
                "Who disables the account in every application, including local (non-SSO) logins, and how fast?",
                "Does the application's audit log show what was exported, and who can pull it?",
            ]),
        },
        Scenario {
            id: "provider-breach".into(),
            title: "A provider-side outage or breach".into(),
            narrative: "A provider posts a security bulletin: an attacker reached its control plane in the region we run in; services are degraded and customer data may have been read.".into(),
            targets: Targets {
                provided: true,
                ..Targets::default()
            },
            cause: needs(&[("vendor-risk", Monitor)]),
            detect: needs(&[
                ("security-monitoring", Monitor),
                ("contract-sla-management", Monitor),
                ("capacity-management", Monitor),
            ]),
            respond: needs(&[
                ("incident-response", Respond),
                ("disaster-recovery", Respond),
                ("capacity-management", Respond),
            ]),
            logs: strs(&["audit-logging", "log-retention"]),
            engage_provider: true,
            questions: strs(&[
                "Who reads the provider's bulletins and status page, and who opens the support case?",
                "Which of our obligations (notification deadlines, SLAs to our own customers) start now?",
            ]),
        },
        Scenario {
            id: "leaked-keys".into(),
            title: "Cloud access keys were leaked".into(),
            narrative: "A secret scanner reports long-lived cloud access keys in a public repository, committed nine days ago; the provider's console shows API calls from an unknown network.".into(),
            targets: Targets {
                models: strs(&["iaas", "caas", "paas", "faas", "dbaas"]),
                ..Targets::default()
            },
            cause: needs(&[
                ("secrets-management", Configure),
                ("workload-identity", Configure),
                ("least-privilege", Configure),
            ]),
            detect: needs(&[
                ("secrets-management", Monitor),
                ("audit-logging", Monitor),
                ("security-monitoring", Monitor),
                ("least-privilege", Monitor),
            ]),
            respond: needs(&[("incident-response", Respond), ("alert-triage", Respond)]),
            logs: strs(&[
                "audit-logging",
                "log-retention",
                "network-flow-logging",
                "storage-access-logging",
            ]),
            engage_provider: false,
            questions: strs(&[
                "Who revokes the keys, who rotates what used them, and in which order so nothing breaks?",
                "Which API calls did the keys make? Who can query the audit log for the last nine days?",
            ]),
        },
        Scenario {
            id: "endpoint-ransomware".into(),
            title: "Ransomware on an endpoint".into(),
            narrative: "A laptop's files are encrypted and a ransom note is on screen; the user was signed in to the company's SaaS applications and file shares.".into(),
            targets: Targets {
                controls: strs(&["endpoint-security"]),
                ..Targets::default()
            },
            cause: needs(&[("endpoint-patching", Patch), ("endpoint-security", Configure)]),
            detect: needs(&[
                ("endpoint-security", Monitor),
                ("malware-protection", Monitor),
                ("security-monitoring", Monitor),
            ]),
            respond: needs(&[
                ("endpoint-security", Respond),
                ("incident-response", Respond),
                ("disaster-recovery", Respond),
            ]),
            logs: strs(&["audit-logging", "log-retention"]),
            engage_provider: false,
            questions: strs(&[
                "Who isolates the laptop and revokes its sessions in every application it was signed in to?",
                "Which files synced from the laptop were encrypted, and who restores them from backup?",
            ]),
        },
    ]
}

/// A built-in scenario by id.
pub fn builtin_scenario(id: &str) -> Option<Scenario> {
    builtin_scenarios().into_iter().find(|s| s.id == id)
}

impl Targets {
    fn hits(&self, res: &Resolution, a: AssetIx) -> bool {
        let asset = res.asset(a);
        let info = res.service_of(a);
        let any = |list: &[String], f: &dyn Fn(&str) -> bool| {
            list.is_empty() || list.iter().any(|x| f(x))
        };
        any(&self.assets, &|x| asset.id.as_str() == x)
            && any(&self.services, &|x| match x.strip_suffix('*') {
                Some(p) => info.service.starts_with(p),
                None => info.service == x,
            })
            && any(&self.models, &|x| info.model == Some(x))
            && any(&self.data, &|x| asset.data.iter().any(|d| &**d == x))
            && any(&self.env, &|x| asset.env.as_deref() == Some(x))
            && any(&self.tags, &|x| match x.split_once('=') {
                Some((k, v)) => asset.tags.get(k) == Some(v),
                None => asset.tags.get(x).is_some(),
            })
            && any(&self.controls, &|x| {
                res.cells_of(a).iter().any(|c| res.control_of(c).id == x)
            })
            && (!self.provided || info.provider.is_some())
    }
}

impl Scenario {
    /// Every control the scenario names, once, in the order named.
    pub fn controls(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.cause
            .iter()
            .chain(&self.detect)
            .chain(&self.respond)
            .map(|n| n.control.as_str())
            .chain(self.logs.iter().map(String::as_str))
            .chain(self.targets.controls.iter().map(String::as_str))
            .filter(|c| seen.insert(*c))
            .collect()
    }

    /// Checks that every control and duty exists in the resolution's catalog.
    pub fn check(&self, res: &Resolution) -> Result<(), ScenarioError> {
        let mut problems = Vec::new();
        for c in self.controls() {
            if let Err(e) = res.find_control(c) {
                problems.push(format!("{e} ({})", e.help()));
            }
        }
        for n in self.cause.iter().chain(&self.detect).chain(&self.respond) {
            if let Ok(ctl) = res.find_control(&n.control)
                && !ctl.duties.contains(&n.duty)
            {
                problems.push(format!(
                    "control `{}` has no `{}` duty (its duties are {})",
                    n.control,
                    n.duty,
                    crate::analyse::duty_list(&ctl.duties)
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError(problems.join("\n")))
        }
    }
}

fn group_key(res: &Resolution, cell: &Cell) -> OwnerGroup {
    OwnerGroup {
        who: cell.responsible.iter().map(|r| r.label()).collect(),
        ownership: cell.ownership,
        unassigned: cell.unassigned,
        assumed: cell.assumed,
        contested: cell.contested.clone(),
        sla: cell.sla.map(|d| d.to_string()),
        basis: cell
            .decisive()
            .and_then(|b| b.at.clone())
            .or_else(|| res.deciding_rule(cell).map(ToString::to_string)),
        assets: Vec::new(),
    }
}

fn duty_line(res: &Resolution, assets: &[AssetIx], control: &str, duty: Duty) -> DutyLine {
    let mut owners: Vec<OwnerGroup> = Vec::new();
    let mut not_applicable = Vec::new();
    for &a in assets {
        let id = res.asset(a).id.value.clone();
        match res.cell(a, control, duty) {
            Ok(cell) => {
                let key = group_key(res, cell);
                match owners.iter_mut().find(|o| {
                    OwnerGroup {
                        assets: Vec::new(),
                        ..(*o).clone()
                    } == key
                }) {
                    Some(o) => o.assets.push(id),
                    None => owners.push(OwnerGroup {
                        assets: vec![id],
                        ..key
                    }),
                }
            }
            Err(_) => not_applicable.push(id),
        }
    }
    DutyLine {
        control: control.to_string(),
        duty,
        owners,
        not_applicable,
    }
}

impl Resolution {
    /// Walks the estate through a scenario. Fails only when the scenario names a control or
    /// duty the catalog does not have.
    pub fn drill(&self, scenario: &Scenario) -> Result<Drill, ScenarioError> {
        scenario.check(self)?;
        let hit: Vec<AssetIx> = self
            .assets()
            .filter(|&a| scenario.targets.hits(self, a))
            .collect();
        let ids: BTreeSet<String> = hit
            .iter()
            .map(|&a| self.asset(a).id.value.clone())
            .collect();
        let lines = |list: &[Need]| -> Vec<DutyLine> {
            list.iter()
                .map(|n| duty_line(self, &hit, &n.control, n.duty))
                .collect()
        };
        let cause = lines(&scenario.cause);
        let detect = lines(&scenario.detect);
        let respond = lines(&scenario.respond);

        let estate = self.estate();
        let logs: Vec<LogLine> = scenario
            .logs
            .iter()
            .map(|c| {
                let ctl = self.find_control(c).expect("checked");
                let first = if ctl.duties.contains(&Duty::Configure) {
                    Duty::Configure
                } else {
                    ctl.duties[0]
                };
                let mut evidence = BTreeMap::new();
                for e in estate.evidence.iter().filter(|e| e.control.as_str() == c) {
                    if e.collected > self.as_of() || e.valid_until() <= self.as_of() {
                        continue;
                    }
                    for id in &ids {
                        if e.asset.as_ref().is_none_or(|x| x.as_str() == id) {
                            evidence
                                .entry(id.clone())
                                .or_insert_with(|| e.reference.clone());
                        }
                    }
                }
                LogLine {
                    control: c.clone(),
                    enabled_by: duty_line(self, &hit, c, first),
                    read_by: ctl
                        .duties
                        .contains(&Duty::Monitor)
                        .then(|| duty_line(self, &hit, c, Duty::Monitor)),
                    evidence,
                }
            })
            .collect();

        // The call list: every exposed asset's call sheet, merged by party and team.
        let mut calls: BTreeMap<(String, Option<String>), DrillCall> = BTreeMap::new();
        for &a in &hit {
            let sheet = self.call_sheet(a);
            for e in sheet.entries {
                let key = (e.contact.party.clone(), e.contact.team.clone());
                let sla = e.sla.clone();
                let c = calls.entry(key).or_insert_with(|| DrillCall {
                    reason: e.reason,
                    role: e.role,
                    party: e.contact.party.clone(),
                    team: e.contact.team.clone(),
                    name: e.contact.name.clone(),
                    contact: e.contact.contact.clone(),
                    phone: e.contact.phone.clone(),
                    assets: Vec::new(),
                    sla: None,
                    attestation_lapsed: e.attestation_lapsed.clone(),
                    escalation: e.escalation.clone(),
                });
                c.reason = c.reason.min(e.reason);
                c.assets.push(sheet.asset.clone());
                if let Some((d, r)) = sla
                    && c.sla.as_ref().is_none_or(|(cur, _)| d < *cur)
                {
                    c.sla = Some((d, r));
                }
            }
        }
        let mut calls: Vec<DrillCall> = calls.into_values().collect();
        let sla_days = |c: &DrillCall| c.sla.as_ref().map(|(d, _)| *d);
        calls.sort_by(|a, b| {
            a.reason
                .cmp(&b.reason)
                .then_with(|| match (sla_days(a), sla_days(b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
                .then_with(|| b.assets.len().cmp(&a.assets.len()))
                .then_with(|| a.party.cmp(&b.party))
                .then_with(|| a.team.cmp(&b.team))
        });

        let providers = self.drill_providers(scenario, &hit, &detect, &respond, &calls);

        let controls: BTreeSet<&str> = scenario.controls().into_iter().collect();
        let engaged: BTreeSet<&str> = calls
            .iter()
            .map(|c| c.party.as_str())
            .chain(providers.iter().filter_map(|p| p.party.as_deref()))
            .collect();
        let gaps: Vec<Gap> = self
            .gaps(AnalyseOptions::default())
            .gaps
            .into_iter()
            .filter(|g| {
                if g.assets.is_empty() {
                    // A party-level gap (a lapsed attestation): relevant when that party is
                    // on the call list.
                    return g.key.split(':').any(|p| engaged.contains(p));
                }
                g.assets.iter().any(|a| ids.contains(a))
                    && g.control.as_deref().is_none_or(|c| controls.contains(c))
            })
            .map(|mut g| {
                g.assets.retain(|a| ids.contains(a) || g.asset_count == 0);
                g
            })
            .collect();

        let mut drill = Drill {
            scenario: scenario.clone(),
            assets: hit
                .iter()
                .map(|&a| {
                    let x = self.asset(a);
                    (x.id.value.clone(), x.service.to_string())
                })
                .collect(),
            cause,
            detect,
            respond,
            logs,
            calls,
            providers,
            gaps,
            injects: Vec::new(),
        };
        drill.injects = injects(&drill, self.accountable());
        Ok(drill)
    }

    fn drill_providers(
        &self,
        scenario: &Scenario,
        hit: &[AssetIx],
        detect: &[DutyLine],
        respond: &[DutyLine],
        calls: &[DrillCall],
    ) -> Vec<ProviderLine> {
        let estate = self.estate();
        let mut out: BTreeMap<String, ProviderLine> = BTreeMap::new();
        for &a in hit {
            let info = self.service_of(a);
            let Some(provider) = info.provider else {
                continue;
            };
            let id = self.asset(a).id.value.clone();
            let party = estate
                .parties
                .iter()
                .find(|(k, p)| {
                    k.as_str() == provider || p.provides.iter().any(|x| x.as_str() == provider)
                })
                .map(|(k, _)| k.clone());
            let p = party.as_deref().and_then(|k| estate.parties.get(k));
            let line = out
                .entry(provider.to_string())
                .or_insert_with(|| ProviderLine {
                    provider: provider.to_string(),
                    party: party.clone(),
                    name: p.map(|p| p.name.clone()),
                    contact: p.and_then(|p| p.contact.clone()),
                    phone: p.and_then(|p| p.phone.clone()),
                    escalation: p.map(|p| p.escalation.clone()).unwrap_or_default(),
                    attestation_lapsed: calls
                        .iter()
                        .find(|c| Some(&c.party) == party.as_ref())
                        .map(|c| c.attestation_lapsed.clone())
                        .unwrap_or_default(),
                    assets: Vec::new(),
                    duties: Vec::new(),
                    must_engage: Vec::new(),
                });
            line.assets.push(id.clone());
            let names = |who: &[String]| {
                who.iter().any(|w| {
                    let head = w.split([' ', '/']).next().unwrap_or(w);
                    head == provider || Some(head) == party.as_deref()
                })
            };
            for l in detect.iter().chain(respond) {
                for o in &l.owners {
                    if o.assets.contains(&id) && names(&o.who) {
                        let d = format!("{} {}", l.control, l.duty);
                        if !line.duties.contains(&d) {
                            line.duties.push(d.clone());
                        }
                        if l.duty == Duty::Respond {
                            let why = format!("responds for {d}");
                            if !line.must_engage.contains(&why) {
                                line.must_engage.push(why);
                            }
                        }
                    }
                }
            }
        }
        let mut list: Vec<ProviderLine> = out.into_values().collect();
        for l in &mut list {
            if scenario.engage_provider {
                l.must_engage
                    .insert(0, "the incident is on the provider's side".into());
            }
        }
        list
    }
}

fn first_assets(list: &[String], n: usize) -> String {
    let mut s = list
        .iter()
        .take(n)
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > n {
        s.push_str(&format!(" and {} more", list.len() - n));
    }
    s
}

fn owner_fact(l: &DutyLine, o: &OwnerGroup) -> String {
    let who = if o.who.is_empty() {
        "nobody".to_string()
    } else {
        o.who.join(" + ")
    };
    let mut s = format!(
        "{} {}: {who} ({}) on {}",
        l.control,
        l.duty,
        o.ownership.as_str(),
        first_assets(&o.assets, 6)
    );
    if let Some(sla) = &o.sla {
        s.push_str(&format!(", SLA {sla}"));
    }
    if let Some(b) = &o.basis {
        s.push_str(&format!(" [{b}]"));
    }
    s
}

fn owner_findings(l: &DutyLine, out: &mut Vec<String>) {
    for o in &l.owners {
        if o.unassigned {
            out.push(format!(
                "nobody is named for {} {} on {} ({}): everyone may assume someone else does it",
                l.control,
                l.duty,
                first_assets(&o.assets, 6),
                if o.assumed {
                    "assumed the customer's by default"
                } else {
                    "the customer's side has no named owner"
                }
            ));
        }
        if !o.contested.is_empty() {
            out.push(format!(
                "{} {} on {} is contested with {}: two owners may each wait for the other",
                l.control,
                l.duty,
                first_assets(&o.assets, 6),
                o.contested.join(", ")
            ));
        }
    }
}

fn duty_inject(title: &str, prompt: String, lines: &[DutyLine]) -> Inject {
    let mut facts = Vec::new();
    let mut findings = Vec::new();
    for l in lines {
        for o in &l.owners {
            facts.push(owner_fact(l, o));
        }
        owner_findings(l, &mut findings);
    }
    Inject {
        title: title.into(),
        prompt,
        facts,
        findings,
    }
}

/// The facilitator's script, built from the walk.
fn injects(d: &Drill, accountable: &str) -> Vec<Inject> {
    let s = &d.scenario;
    let mut out = Vec::new();
    let ids: Vec<String> = d.assets.iter().map(|(a, _)| a.clone()).collect();
    out.push(Inject {
        title: "The scenario".into(),
        prompt: format!(
            "{} Which of our assets could this be, and who would know first?",
            s.narrative
        ),
        facts: d
            .assets
            .iter()
            .map(|(a, svc)| format!("`{a}` ({svc})"))
            .collect(),
        findings: if d.assets.is_empty() {
            vec!["no asset of the estate matches the scenario: if it can happen here, the estate is missing the assets it would hit".into()]
        } else {
            Vec::new()
        },
    });
    if !s.cause.is_empty() {
        out.push(duty_inject(
            "How did it happen?",
            "Whose duty was it to prevent this, and did they know it was theirs?".into(),
            &d.cause,
        ));
    }
    out.push(duty_inject(
        "Detection",
        "Who notices, through which alert or report, and how long after it starts?".into(),
        &d.detect,
    ));
    let mut call = Inject {
        title: "Who calls whom".into(),
        prompt: format!(
            "The first responder has confirmed it. Who do they call, in which order, and within what time? When is {accountable} told?"
        ),
        facts: Vec::new(),
        findings: Vec::new(),
    };
    for (n, c) in d.calls.iter().enumerate() {
        let mut f = format!(
            "{}. {} ({}, {})",
            n + 1,
            c.name,
            c.reason.as_str(),
            c.role.as_str()
        );
        if let Some(x) = c.contact.as_ref().or(c.phone.as_ref()) {
            f.push_str(&format!(" <{x}>"));
        }
        if let Some((sla, by)) = &c.sla {
            f.push_str(&format!(", SLA {sla} set by {by}"));
        }
        f.push_str(&format!(" — {}", first_assets(&c.assets, 4)));
        call.facts.push(f);
        if c.contact.is_none() && c.phone.is_none() {
            call.findings
                .push(format!("{} has no contact or phone in the estate", c.name));
        }
        for (fw, until) in &c.attestation_lapsed {
            call.findings.push(format!(
                "{}'s {fw} attestation lapsed on {until}: its side cannot be relied on without fresh assurance",
                c.name
            ));
        }
    }
    if !d.calls.iter().any(|c| c.reason == CallReason::Responds) && !d.assets.is_empty() {
        call.findings.push(
            "nobody but the accountable customer responds on these assets: no responder is named"
                .into(),
        );
    }
    out.push(call);
    out.push(duty_inject(
        "Containment and response",
        "Who contains it and who decides, and does any of them have to wait for someone else?"
            .into(),
        &d.respond,
    ));
    let mut logs = Inject {
        title: "The logs the investigation needs".into(),
        prompt: "Which logs tell us what happened, are they on for these assets, and who can pull them today?".into(),
        facts: Vec::new(),
        findings: Vec::new(),
    };
    for l in &d.logs {
        for o in &l.enabled_by.owners {
            logs.facts
                .push(format!("enabled by: {}", owner_fact(&l.enabled_by, o)));
        }
        owner_findings(&l.enabled_by, &mut logs.findings);
        if let Some(r) = &l.read_by {
            for o in &r.owners {
                logs.facts.push(format!("read by: {}", owner_fact(r, o)));
            }
            owner_findings(r, &mut logs.findings);
        }
        let covered: Vec<String> = l
            .enabled_by
            .owners
            .iter()
            .flat_map(|o| &o.assets)
            .filter(|a| l.evidence.contains_key(*a))
            .cloned()
            .collect();
        let missing: Vec<String> = l
            .enabled_by
            .owners
            .iter()
            .flat_map(|o| &o.assets)
            .filter(|a| !l.evidence.contains_key(*a))
            .cloned()
            .collect();
        if !covered.is_empty() {
            logs.facts.push(format!(
                "{}: current evidence that it is on for {}",
                l.control,
                first_assets(&covered, 6)
            ));
        }
        if !missing.is_empty() {
            logs.findings.push(format!(
                "{}: no current evidence that it is on for {}",
                l.control,
                first_assets(&missing, 6)
            ));
        }
    }
    out.push(logs);
    let mut prov = Inject {
        title: "The provider".into(),
        prompt: "Must a provider be engaged, who opens the case, through which channel, and what will the provider do or not do?".into(),
        facts: Vec::new(),
        findings: Vec::new(),
    };
    for p in &d.providers {
        let name = p.name.clone().unwrap_or_else(|| p.provider.clone());
        let how = p
            .contact
            .as_ref()
            .or(p.phone.as_ref())
            .map(|c| format!(" via {c}"))
            .unwrap_or_default();
        if p.must_engage.is_empty() {
            prov.facts.push(format!(
                "{name}{how}: runs {}; no duty of this scenario is on its side",
                first_assets(&p.assets, 4)
            ));
        } else {
            prov.facts.push(format!(
                "{name}{how}: engage ({}) for {}",
                p.must_engage.join("; "),
                first_assets(&p.assets, 4)
            ));
            if p.party.is_none() {
                prov.findings.push(format!(
                    "{name} must be engaged but is not a party of the estate: no contact, escalation or attestation on file"
                ));
            } else if p.contact.is_none() && p.phone.is_none() {
                prov.findings
                    .push(format!("{name} must be engaged but has no contact on file"));
            }
        }
        for (fw, until) in &p.attestation_lapsed {
            prov.findings
                .push(format!("{name}'s {fw} attestation lapsed on {until}"));
        }
    }
    if d.providers.is_empty() {
        prov.facts
            .push("no exposed asset runs on a provider's service".into());
    }
    out.push(prov);
    out.push(Inject {
        title: "What would slow us down".into(),
        prompt: "These gaps are open today. Which of them would have changed the last hour, and who fixes each?".into(),
        facts: d
            .gaps
            .iter()
            .map(|g| format!("{} {} [{}]: {}", g.code, g.severity.as_str(), g.key, g.title))
            .collect(),
        findings: Vec::new(),
    });
    for q in &s.questions {
        out.push(Inject {
            title: "Discussion".into(),
            prompt: q.clone(),
            facts: Vec::new(),
            findings: Vec::new(),
        });
    }
    out.push(Inject {
        title: "Close".into(),
        prompt: format!(
            "{accountable} stays accountable whoever did the work. Who writes the report, who owns each finding, and when do we run this again?"
        ),
        facts: vec![format!("exposed assets: {}", first_assets(&ids, 10))],
        findings: Vec::new(),
    });
    out
}
