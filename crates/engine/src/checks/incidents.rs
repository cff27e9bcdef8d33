//! Incidents that wait for their post-incident review (DM019), and duties that fail again
//! (DM020). Both read only the recorded incidents and reviews: who held the duty on the day is
//! `Resolution::incidents`'s question, not a gap's.

use std::collections::BTreeMap;

use demarc_model::{Duty, Incident};

use crate::analyse::{Check, CodeInfo, Draft, Findings, Hit, Members, Severity, text};
use crate::resolve::Resolution;

pub const INCIDENT_REVIEW_OPEN: &str = "DM019";
pub const INCIDENT_REPEATED: &str = "DM020";

/// How far back DM020 looks for earlier failures of the same control and duty.
pub const REPEAT_WINDOW_DAYS: i64 = 365;

pub struct Incidents;

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: INCIDENT_REVIEW_OPEN,
        name: "incident-review-open",
        severity: "medium",
        summary: "an incident has no review dated on or after it that signs it off (`reviews: [{incidents: [ID]}]`)",
    },
    CodeInfo {
        code: INCIDENT_REPEATED,
        name: "incident-repeated",
        severity: "medium",
        summary: "the same control and duty failed in two or more incidents within a year",
    },
];

fn asset_ixs(res: &Resolution, inc: &[&Incident]) -> Vec<u32> {
    let mut ids: Vec<&str> = inc
        .iter()
        .flat_map(|i| i.assets.iter().map(|a| a.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| res.find_asset(id).ok())
        .map(|a| a.index() as u32)
        .collect()
}

impl Check for Incidents {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let estate = res.estate();
        let as_of = res.as_of;
        let mut happened: Vec<&Incident> = estate
            .incidents
            .iter()
            .map(|i| &i.value)
            .filter(|i| i.date <= as_of)
            .collect();
        happened.sort_by(|a, b| (a.date, a.id.as_str()).cmp(&(b.date, b.id.as_str())));
        for inc in &happened {
            let signed = estate.reviews.iter().any(|r| {
                r.date >= inc.date
                    && r.date <= as_of
                    && r.incidents.iter().any(|i| i.as_str() == inc.id.as_str())
            });
            if signed {
                continue;
            }
            let members = asset_ixs(res, &[inc]);
            let at = estate.cite(
                estate
                    .incidents
                    .iter()
                    .find(|i| i.id.as_str() == inc.id.as_str())
                    .map(|i| i.loc)
                    .unwrap_or_default(),
            );
            let days = as_of.signed_duration_since(inc.date).num_days();
            let (id, date, control, duty) = (
                inc.id.value.clone(),
                inc.date,
                inc.control.value.clone(),
                inc.duty,
            );
            out.hit(
                Hit {
                    code: INCIDENT_REVIEW_OPEN,
                    key: format!("incident:{id}"),
                    severity: Severity::Medium,
                    members: Members::Assets(&members),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "the post-incident review of {id} ({control} {duty} failed on {date}) is open after {days} days"
                    )),
                    fix: text(format!(
                        "review who holds {control} {duty} with its owners, change the map, record the changes under the incident's `changes`, and sign it off: `reviews: [{{date: YYYY-MM-DD, by: name, incidents: [{id}]}}]`"
                    )),
                    control: Some(control.clone()),
                },
                [format!("incident {id} at {at}")],
            );
        }
        let mut by_duty: BTreeMap<(&str, Duty), Vec<&Incident>> = BTreeMap::new();
        for inc in &happened {
            if as_of.signed_duration_since(inc.date).num_days() < REPEAT_WINDOW_DAYS {
                by_duty
                    .entry((inc.control.as_str(), inc.duty))
                    .or_default()
                    .push(inc);
            }
        }
        for ((control, duty), list) in by_duty {
            if list.len() < 2 {
                continue;
            }
            let members = asset_ixs(res, &list);
            let told: Vec<String> = list
                .iter()
                .map(|i| format!("{} on {}", i.id.value, i.date))
                .collect();
            let n = list.len();
            let control = control.to_string();
            out.hit(
                Hit {
                    code: INCIDENT_REPEATED,
                    key: format!("{control}/{duty}"),
                    severity: Severity::Medium,
                    members: Members::Assets(&members),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "{control} {duty} failed in {n} incidents within a year: {}",
                        told.join(", ")
                    )),
                    fix: text(format!(
                        "look at {control} {duty} as a whole, not incident by incident: who holds it on every asset, its cadence, and the evidence that it is done"
                    )),
                    control: Some(control.clone()),
                },
                told.iter().map(|t| format!("incident {t}")).collect::<Vec<_>>(),
            );
        }
    }
}
