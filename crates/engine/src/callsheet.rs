//! "This asset is breached: whom do I call?" The call sheet of one asset: everyone who detects
//! (monitor) or responds on it, the providers to engage, and the accountable customer, in the
//! order an analyst works down the list.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use demarc_model::{Duration, Duty, PartyKind};

use crate::cell::Role;
use crate::query::{AssetIx, Contact};
use crate::resolve::Resolution;

/// Why someone is on the call sheet, in the order they are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallReason {
    /// Responds to incidents on the asset for some controls.
    Responds,
    /// Detects (monitors) but does not respond.
    Detects,
    /// The provider of the service (or a party it runs on): engaged for its side.
    Provider,
    /// The customer: accountable, always told, even when a contract took the work.
    Accountable,
}

impl CallReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CallReason::Responds => "responds",
            CallReason::Detects => "detects",
            CallReason::Provider => "provider",
            CallReason::Accountable => "accountable",
        }
    }
}

/// One line of a call sheet.
#[derive(Debug, Clone)]
pub struct CallEntry {
    pub reason: CallReason,
    pub role: Role,
    pub contact: Contact,
    /// Controls it responds for on this asset.
    pub responds: Vec<String>,
    /// Controls it monitors on this asset.
    pub detects: Vec<String>,
    /// The fastest response time in writing for this party on this asset, and the rule that
    /// sets it (`contract shieldco-msa §4.1`).
    pub sla: Option<(Duration, String)>,
    /// Works on behalf of this party (a subcontractor, or the host of a SaaS vendor).
    pub on_behalf_of: Option<String>,
    /// Frameworks whose latest attestation by this party has lapsed, with its last valid day:
    /// what it says about its own side can no longer be relied on.
    pub attestation_lapsed: Vec<(String, NaiveDate)>,
    /// Its escalation steps (the team's, then the party's).
    pub escalation: Vec<String>,
}

/// The call sheet of one asset.
#[derive(Debug, Clone)]
pub struct CallSheet {
    pub asset: String,
    pub service: String,
    pub entries: Vec<CallEntry>,
}

#[derive(Default)]
struct Acc {
    role: Option<Role>,
    responds: Vec<String>,
    detects: Vec<String>,
    sla: Option<(Duration, String)>,
    on_behalf_of: Option<String>,
}

impl Resolution {
    /// Everyone to call about an incident on `asset`, in escalation order: those who respond
    /// (fastest written SLA first), those who only detect, the providers to engage, and last
    /// the accountable customer, who stays on the list whoever does the work.
    pub fn call_sheet(&self, a: AssetIx) -> CallSheet {
        let estate = self.estate();
        let mut acc: BTreeMap<(String, Option<String>), Acc> = BTreeMap::new();
        for cell in self.cells_of(a) {
            if !matches!(cell.duty, Duty::Monitor | Duty::Respond) {
                continue;
            }
            let control = self.control_of(cell).id.clone();
            let decided = self
                .prepared
                .rules
                .get(cell.rule.unwrap_or(usize::MAX))
                .map(|r| r.title());
            for r in &cell.responsible {
                let parties = std::iter::once((r.party.clone(), r.team.clone(), None)).chain(
                    r.via
                        .iter()
                        .map(|v| (v.clone(), None, Some(r.party.clone()))),
                );
                for (party, team, behalf) in parties {
                    let e = acc.entry((party.clone(), team)).or_default();
                    let role = if behalf.is_some() {
                        match estate.parties.get(&party).map(|p| p.kind) {
                            Some(PartyKind::Mssp) => Role::Mssp,
                            Some(PartyKind::Vendor) => Role::Vendor,
                            Some(PartyKind::Customer) => Role::Customer,
                            _ => Role::Provider,
                        }
                    } else {
                        r.role
                    };
                    e.role.get_or_insert(role);
                    if e.on_behalf_of.is_none() {
                        e.on_behalf_of = behalf;
                    }
                    let list = if cell.duty == Duty::Respond {
                        &mut e.responds
                    } else {
                        &mut e.detects
                    };
                    if !list.contains(&control) {
                        list.push(control.clone());
                    }
                    // The SLA belongs to the party whose clause sets it, not to whoever works
                    // for it.
                    if let (Some(sla), Some(rule), None, true) = (
                        cell.sla,
                        &decided,
                        &e.on_behalf_of,
                        r.role != Role::Provider,
                    ) && e.sla.as_ref().is_none_or(|(d, _)| sla < *d)
                    {
                        e.sla = Some((sla, rule.clone()));
                    }
                }
            }
        }
        let customer = estate.customer.value.clone();
        acc.entry((customer.clone(), None)).or_default().role = Some(Role::Customer);

        let mut entries: Vec<CallEntry> = acc
            .into_iter()
            .map(|((party, team), e)| {
                let role = e.role.unwrap_or(Role::Provider);
                let reason = if party == customer && team.is_none() {
                    CallReason::Accountable
                } else if role == Role::Provider {
                    CallReason::Provider
                } else if !e.responds.is_empty() {
                    CallReason::Responds
                } else {
                    CallReason::Detects
                };
                let p = estate.parties.get(&party);
                let t = team
                    .as_deref()
                    .and_then(|tm| p.and_then(|p| p.teams.get(tm)));
                let name = t
                    .and_then(|t| t.name.clone())
                    .or_else(|| {
                        p.map(|p| match &team {
                            Some(tm) => format!("{} / {tm}", p.name),
                            None => p.name.clone(),
                        })
                    })
                    .unwrap_or_else(|| party.clone());
                let contact = Contact {
                    party: party.clone(),
                    team: team.clone(),
                    name,
                    contact: t
                        .and_then(|t| t.contact.clone())
                        .or_else(|| p.and_then(|p| p.contact.clone())),
                    phone: t
                        .and_then(|t| t.phone.clone())
                        .or_else(|| p.and_then(|p| p.phone.clone())),
                };
                let escalation = t
                    .map(|t| t.escalation.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .chain(p.map(|p| p.escalation.clone()).unwrap_or_default())
                    .collect();
                let mut latest: BTreeMap<&str, NaiveDate> = BTreeMap::new();
                for x in p.iter().flat_map(|p| &p.attestations) {
                    if let Some(d) = x.valid_until() {
                        let slot = latest.entry(x.framework.as_str()).or_insert(d);
                        *slot = (*slot).max(d);
                    }
                }
                let attestation_lapsed = latest
                    .into_iter()
                    .filter(|(_, d)| *d <= self.as_of)
                    .map(|(f, d)| (f.to_string(), d))
                    .collect();
                CallEntry {
                    reason,
                    role,
                    contact,
                    responds: e.responds,
                    detects: e.detects,
                    sla: e.sla,
                    on_behalf_of: e.on_behalf_of,
                    attestation_lapsed,
                    escalation,
                }
            })
            .collect();
        entries.sort_by(|a, b| {
            a.reason
                .cmp(&b.reason)
                .then_with(|| match (&a.sla, &b.sla) {
                    (Some(x), Some(y)) => x.0.cmp(&y.0),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
                .then_with(|| b.responds.len().cmp(&a.responds.len()))
                .then_with(|| a.contact.party.cmp(&b.contact.party))
                .then_with(|| a.contact.team.cmp(&b.contact.team))
        });
        let asset = self.asset(a);
        CallSheet {
            asset: asset.id.value.clone(),
            service: asset.service.to_string(),
            entries,
        }
    }
}
