//! The responsibility annex (`demarc annex --format json`), its comparison with a contract and
//! with an older annex, and the incident list (`demarc incidents --format json`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use demarc_engine as engine;
use demarc_model::Duty;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::v1::ContactV1;

pub const ANNEX: &str = "demarc.annex/v1";
pub const ANNEX_DIFF: &str = "demarc.annex-diff/v1";
pub const INCIDENTS: &str = "demarc.incidents/v1";

fn dur(d: Option<demarc_model::Duration>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// One duty the party holds on a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnexDutyV1 {
    pub control: String,
    pub control_name: String,
    pub duty: Duty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
    /// The clause of the party's contracts that decides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clause: Option<String>,
    /// The rule or catalog entry that decides it.
    pub decided_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// No clause of the party's contracts covers it: write one before signing.
    pub to_be_agreed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contested: Vec<String>,
}

/// A duty on the party's controls that the customer (or the provider) keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeptDutyV1 {
    pub control: String,
    pub duty: Duty,
    pub customer: Vec<String>,
    pub unassigned: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provider: Vec<String>,
}

/// Assets of one service and environment on which the party holds the same duties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnexSystemV1 {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub assets: Vec<String>,
    pub duties: Vec<AnnexDutyV1>,
    pub customer_keeps: Vec<KeptDutyV1>,
}

/// A clause of the party's contracts and what it decides in the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnexClauseV1 {
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<Duty>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sla: BTreeMap<Duty, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
    /// Assets on which it decides at least one duty.
    pub assets: usize,
    pub cells: usize,
    /// It decides no duty on any asset.
    pub covers_no_system: bool,
    pub in_force: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnexContractV1 {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "ref")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<NaiveDate>,
    pub clauses: Vec<AnnexClauseV1>,
}

/// A log handed from its source (who enables it) to its reader (who monitors it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogShareV1 {
    pub log: String,
    pub log_name: String,
    pub from: Vec<String>,
    /// Nobody is named to turn the log on.
    pub from_unassigned: bool,
    pub to: Vec<String>,
    /// How often it is read or handed over; absent when nothing is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    pub assets: Vec<String>,
}

/// Evidence the party must provide for one control, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceDueV1 {
    pub control: String,
    pub control_name: String,
    pub duties: Vec<Duty>,
    pub organisation: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
    pub assets: Vec<String>,
    /// The day the current evidence stops counting: the next delivery is due by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<NaiveDate>,
    pub expired: Vec<String>,
    pub missing: Vec<String>,
}

/// A duty of the party that a contract's clauses leave out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeftOutV1 {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    pub assets: Vec<String>,
    pub control: String,
    pub duty: Duty,
    pub decided_by: String,
}

/// `--compare CONTRACT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ComparisonV1 {
    pub contract: String,
    pub left_out: Vec<LeftOutV1>,
    /// Clauses of the contract that cover none of the party's duties.
    pub unused_clauses: Vec<String>,
}

/// `demarc annex --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnexV1 {
    /// `demarc.annex/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    /// `shieldco` or `acme/secops`.
    pub party: String,
    pub party_name: String,
    /// mssp, vendor, provider, customer or team.
    pub kind: String,
    pub customer: String,
    pub customer_name: String,
    pub contracts: Vec<AnnexContractV1>,
    pub systems: Vec<AnnexSystemV1>,
    /// Duties (per system) no clause covers.
    pub to_be_agreed: usize,
    pub logs: Vec<LogShareV1>,
    pub contacts: Vec<ContactV1>,
    pub customer_contacts: Vec<ContactV1>,
    pub escalation: Vec<String>,
    pub evidence: Vec<EvidenceDueV1>,
    pub review_cadence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_review: Option<NaiveDate>,
    pub next_review: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<ComparisonV1>,
}

fn contact(c: &engine::Contact) -> ContactV1 {
    ContactV1 {
        party: c.party.clone(),
        team: c.team.clone(),
        name: c.name.clone(),
        contact: c.contact.clone(),
        phone: c.phone.clone(),
    }
}

impl AnnexV1 {
    pub fn new(
        res: &engine::Resolution,
        a: &engine::Annex,
        compare: Option<&engine::Comparison>,
    ) -> Self {
        AnnexV1 {
            schema: ANNEX.into(),
            estate: res.estate().name.clone(),
            as_of: res.as_of(),
            party: match &a.team {
                Some(t) => format!("{}/{t}", a.party),
                None => a.party.clone(),
            },
            party_name: a.name.clone(),
            kind: a.kind.clone(),
            customer: a.customer.clone(),
            customer_name: a.customer_name.clone(),
            contracts: a
                .contracts
                .iter()
                .map(|c| AnnexContractV1 {
                    id: c.id.clone(),
                    reference: c.reference.clone(),
                    effective: c.effective,
                    expires: c.expires,
                    clauses: c
                        .clauses
                        .iter()
                        .map(|cl| AnnexClauseV1 {
                            id: cl.id.clone(),
                            text: cl.text.clone(),
                            controls: cl.controls.clone(),
                            duties: cl.duties.clone(),
                            sla: cl.sla.iter().map(|(d, s)| (*d, s.to_string())).collect(),
                            cadence: dur(cl.cadence),
                            assets: cl.assets,
                            cells: cl.cells,
                            covers_no_system: cl.assets == 0,
                            in_force: cl.active,
                            state: cl.state.clone(),
                        })
                        .collect(),
                })
                .collect(),
            systems: a
                .systems
                .iter()
                .map(|s| AnnexSystemV1 {
                    service: s.service.clone(),
                    env: s.env.clone(),
                    provider: s.provider.clone(),
                    assets: s.assets.clone(),
                    duties: s
                        .duties
                        .iter()
                        .map(|d| AnnexDutyV1 {
                            control: d.control.clone(),
                            control_name: d.control_name.clone(),
                            duty: d.duty,
                            sla: dur(d.sla),
                            cadence: dur(d.cadence),
                            clause: d.clause.clone(),
                            decided_by: d.decided_by.clone(),
                            at: d.at.clone(),
                            to_be_agreed: d.to_be_agreed,
                            shared_with: d.shared_with.clone(),
                            via: d.via.clone(),
                            contested: d.contested.clone(),
                        })
                        .collect(),
                    customer_keeps: s
                        .keeps
                        .iter()
                        .map(|k| KeptDutyV1 {
                            control: k.control.clone(),
                            duty: k.duty,
                            customer: k.who.clone(),
                            unassigned: k.unassigned,
                            provider: k.provider.clone(),
                        })
                        .collect(),
                })
                .collect(),
            to_be_agreed: a.to_be_agreed(),
            logs: a
                .logs
                .iter()
                .map(|l| LogShareV1 {
                    log: l.control.clone(),
                    log_name: l.control_name.clone(),
                    from: l.from.clone(),
                    from_unassigned: l.from_unassigned,
                    to: l.to.clone(),
                    every: dur(l.every),
                    assets: l.assets.clone(),
                })
                .collect(),
            contacts: a.contacts.iter().map(contact).collect(),
            customer_contacts: a.customer_contacts.iter().map(contact).collect(),
            escalation: a.escalation.clone(),
            evidence: a
                .evidence
                .iter()
                .map(|e| EvidenceDueV1 {
                    control: e.control.clone(),
                    control_name: e.control_name.clone(),
                    duties: e.duties.clone(),
                    organisation: e.organisation,
                    cadence: dur(e.cadence),
                    assets: e.assets.clone(),
                    next_due: e.next_due,
                    expired: e.expired.clone(),
                    missing: e.missing.clone(),
                })
                .collect(),
            review_cadence: a.review_cadence.to_string(),
            last_review: a.last_review,
            next_review: a.next_review,
            compare: compare.map(|c| ComparisonV1 {
                contract: c.contract.clone(),
                left_out: c
                    .left_out
                    .iter()
                    .map(|l| LeftOutV1 {
                        service: l.service.clone(),
                        env: l.env.clone(),
                        assets: l.assets.clone(),
                        control: l.control.clone(),
                        duty: l.duty,
                        decided_by: l.decided_by.clone(),
                    })
                    .collect(),
                unused_clauses: c.unused.clone(),
            }),
        }
    }
}

/// One change in the schedule between two annexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnexChangeV1 {
    /// `added`, `dropped`, `sla`, `cadence`, `clause` (the deciding clause changed, or the
    /// duty became or stopped being "to be agreed").
    pub change: String,
    pub control: String,
    pub duty: Duty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    pub assets: Vec<String>,
}

/// `demarc annex --diff OLD --format json`: what changed in the party's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnexDiffV1 {
    /// `demarc.annex-diff/v1`.
    pub schema: String,
    pub party: String,
    pub old_as_of: NaiveDate,
    pub new_as_of: NaiveDate,
    pub changes: Vec<AnnexChangeV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_cadence: Option<AnnexChangeV1>,
}

type DutyFacts = (Option<String>, Option<String>, Option<String>);

fn flatten(a: &AnnexV1) -> BTreeMap<(String, Duty, String), DutyFacts> {
    let mut out = BTreeMap::new();
    for s in &a.systems {
        for d in &s.duties {
            for asset in &s.assets {
                out.insert(
                    (d.control.clone(), d.duty, asset.clone()),
                    (
                        d.sla.clone(),
                        d.cadence.clone(),
                        Some(d.clause.clone().unwrap_or_else(|| "to be agreed".into())),
                    ),
                );
            }
        }
    }
    out
}

/// What changed from `old` to `new` (the same party's annexes): duties added and dropped,
/// SLAs, cadences and deciding clauses changed, one entry per change over all its assets.
pub fn annex_diff(old: &AnnexV1, new: &AnnexV1) -> AnnexDiffV1 {
    let (o, n) = (flatten(old), flatten(new));
    type ChangeKey = (String, Duty, String, Option<String>, Option<String>);
    let mut changes: BTreeMap<ChangeKey, Vec<String>> = BTreeMap::new();
    let mut push =
        |kind: &str, k: &(String, Duty, String), old: Option<String>, new: Option<String>| {
            changes
                .entry((kind.to_string(), k.1, k.0.clone(), old, new))
                .or_default()
                .push(k.2.clone());
        };
    for (k, v) in &n {
        match o.get(k) {
            None => push("added", k, None, v.2.clone()),
            Some(ov) => {
                if ov.0 != v.0 {
                    push("sla", k, ov.0.clone(), v.0.clone());
                }
                if ov.1 != v.1 {
                    push("cadence", k, ov.1.clone(), v.1.clone());
                }
                if ov.2 != v.2 {
                    push("clause", k, ov.2.clone(), v.2.clone());
                }
            }
        }
    }
    for (k, v) in &o {
        if !n.contains_key(k) {
            push("dropped", k, v.2.clone(), None);
        }
    }
    let order = |c: &str| match c {
        "added" => 0,
        "dropped" => 1,
        "sla" => 2,
        "cadence" => 3,
        _ => 4,
    };
    let mut list: Vec<AnnexChangeV1> = changes
        .into_iter()
        .map(|((change, duty, control, old, new), mut assets)| {
            assets.sort();
            AnnexChangeV1 {
                change,
                control,
                duty,
                old,
                new,
                assets,
            }
        })
        .collect();
    list.sort_by(|a, b| {
        (order(&a.change), &a.control, a.duty).cmp(&(order(&b.change), &b.control, b.duty))
    });
    AnnexDiffV1 {
        schema: ANNEX_DIFF.into(),
        party: new.party.clone(),
        old_as_of: old.as_of,
        new_as_of: new.as_of,
        changes: list,
        review_cadence: (old.review_cadence != new.review_cadence).then(|| AnnexChangeV1 {
            change: "review-cadence".into(),
            control: String::new(),
            duty: Duty::Audit,
            old: Some(old.review_cadence.clone()),
            new: Some(new.review_cadence.clone()),
            assets: Vec::new(),
        }),
    }
}

/// Who held the failed duty on one asset on the incident's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentHolderV1 {
    pub asset: String,
    pub who: Vec<String>,
    pub unassigned: bool,
    pub assumed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contested: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
}

/// A time taken against the SLA a clause set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TimingV1 {
    pub minutes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_from: Option<String>,
    /// `false`: the SLA was missed; absent when no SLA is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
}

/// One incident and its facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentV1 {
    pub id: String,
    pub date: NaiveDate,
    pub summary: String,
    pub control: String,
    pub control_name: String,
    pub duty: Duty,
    pub assets: Vec<String>,
    pub at: String,
    pub holders: Vec<IncidentHolderV1>,
    /// `responsibility` (unassigned, contested or off the map on the day) or `execution`.
    pub failure: String,
    pub why: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect: Option<TimingV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond: Option<TimingV1>,
    pub changes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// The post-incident review is open (DM019).
    pub review_open: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_off: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_off_by: Option<String>,
    /// Earlier incidents of the same control and duty.
    pub repeats: Vec<String>,
}

/// `demarc incidents --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentsV1 {
    /// `demarc.incidents/v1`.
    pub schema: String,
    pub estate: String,
    pub as_of: NaiveDate,
    pub incidents: Vec<IncidentV1>,
}

fn timing(t: &Option<engine::Timing>) -> Option<TimingV1> {
    t.as_ref().map(|t| TimingV1 {
        minutes: t.minutes,
        sla: dur(t.sla),
        sla_from: t.sla_from.clone(),
        met: t.met,
    })
}

impl IncidentsV1 {
    pub fn new(res: &engine::Resolution, list: &[engine::IncidentFacts]) -> Self {
        IncidentsV1 {
            schema: INCIDENTS.into(),
            estate: res.estate().name.clone(),
            as_of: res.as_of(),
            incidents: list
                .iter()
                .map(|i| IncidentV1 {
                    id: i.id.clone(),
                    date: i.date,
                    summary: i.summary.clone(),
                    control: i.control.clone(),
                    control_name: i.control_name.clone(),
                    duty: i.duty,
                    assets: i.assets.clone(),
                    at: i.at.clone(),
                    holders: i
                        .holders
                        .iter()
                        .map(|h| IncidentHolderV1 {
                            asset: h.asset.clone(),
                            who: h.who.clone(),
                            unassigned: h.unassigned,
                            assumed: h.assumed,
                            contested: h.contested.clone(),
                            basis: h.basis.clone(),
                            at: h.at.clone(),
                            not_applicable: h.not_applicable.clone(),
                        })
                        .collect(),
                    failure: i.failure.as_str().into(),
                    why: i.why.clone(),
                    detect: timing(&i.detect),
                    respond: timing(&i.respond),
                    changes: i.changes.clone(),
                    review: i.review.clone(),
                    review_open: i.signed_off.is_none(),
                    signed_off: i.signed_off.as_ref().map(|s| s.date),
                    signed_off_by: i.signed_off.as_ref().map(|s| s.by.clone()),
                    repeats: i.repeats.clone(),
                })
                .collect(),
        }
    }
}
