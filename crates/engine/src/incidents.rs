//! Incidents against the map: for each recorded incident, who held the failed duty on the
//! incident's date (the estate resolved as of that day, with the deciding rule), how long
//! detection and response took against the SLA a clause sets, whether it was a
//! responsibility failure (nobody named, or owners contested) or an execution failure, whether
//! a review has signed it off, and whether the same control and duty failed before.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use demarc_model::{Duration, Duty, Incident};

use crate::cell::Cell;
use crate::resolve::Resolution;

/// Whether the map or the work failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureKind {
    /// The duty was unassigned, contested or off the map on the incident's date: nobody
    /// could have been held to it.
    Responsibility,
    /// Someone was named for the duty and it was still not done.
    Execution,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Responsibility => "responsibility",
            FailureKind::Execution => "execution",
        }
    }
}

/// Who held the failed duty on one asset on the incident's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentHolder {
    pub asset: String,
    /// Everyone responsible (`acme (unassigned)`, `shieldco`, `aws + acme/dba`); empty when the
    /// control does not apply to the asset.
    pub who: Vec<String>,
    pub unassigned: bool,
    pub assumed: bool,
    pub contested: Vec<String>,
    /// The deciding rule (or catalog entry), as its basis line names it.
    pub basis: Option<String>,
    /// Where the deciding rule is written.
    pub at: Option<String>,
    /// Why the control has no cell on the asset, when it has none.
    pub not_applicable: Option<String>,
}

/// A measured time against the SLA a clause set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Minutes taken.
    pub minutes: i64,
    pub sla: Option<Duration>,
    /// The rule that set the SLA (`contract shieldco-msa §4.1`) and the control×duty it is on.
    pub sla_from: Option<String>,
    /// `Some(false)`: the SLA was missed.
    pub met: Option<bool>,
}

/// A review that signed an incident off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOff {
    pub date: NaiveDate,
    pub by: String,
}

/// The facts of one incident, as of its date and as of the resolution's date.
#[derive(Debug, Clone)]
pub struct IncidentFacts {
    pub id: String,
    pub date: NaiveDate,
    pub summary: String,
    pub control: String,
    pub control_name: String,
    pub duty: Duty,
    pub assets: Vec<String>,
    /// `file:line` where it is recorded.
    pub at: String,
    pub holders: Vec<IncidentHolder>,
    pub failure: FailureKind,
    /// Why it is that kind of failure, in one sentence.
    pub why: String,
    pub detect: Option<Timing>,
    pub respond: Option<Timing>,
    pub changes: Vec<String>,
    pub review: Option<String>,
    /// The first review on or after the incident's date that lists it; `None`: still open.
    pub signed_off: Option<SignOff>,
    /// Earlier incidents (up to the resolution's date) of the same control and duty.
    pub repeats: Vec<String>,
}

/// The SLA of a duty on an asset: the failed control's own cell for that duty when a clause
/// gave it one, else the strictest SLA any clause sets for that duty on the asset.
fn sla_for(
    res: &Resolution,
    cells: &[Arc<Cell>],
    control: usize,
    duty: Duty,
) -> Option<(Duration, String)> {
    let label = |c: &Cell| {
        let rule = c.decisive().map(|b| b.rule.to_string()).unwrap_or_default();
        format!("{rule} ({} {})", res.control_of(c).id, c.duty)
    };
    if let Some(c) = cells
        .iter()
        .find(|c| c.control == control && c.duty == duty && c.sla.is_some())
    {
        return Some((c.sla.expect("checked"), label(c)));
    }
    cells
        .iter()
        .filter(|c| c.duty == duty && c.sla.is_some())
        .min_by_key(|c| (c.sla, c.control))
        .map(|c| (c.sla.expect("checked"), label(c)))
}

fn timing(
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    sla: Option<(Duration, String)>,
) -> Option<Timing> {
    let minutes = to?.signed_duration_since(from?).num_minutes();
    let (sla, sla_from) = match sla {
        Some((d, f)) => (Some(d), Some(f)),
        None => (None, None),
    };
    Some(Timing {
        minutes,
        met: sla.map(|s| minutes.max(0) as u64 <= s.minutes()),
        sla,
        sla_from,
    })
}

impl Resolution {
    /// Every incident dated on or before the resolution's date, oldest first (then by id),
    /// each resolved as of its own date. Incidents after the date have not happened yet and
    /// are left out.
    pub fn incidents(&self) -> Vec<IncidentFacts> {
        let estate = self.estate();
        let mut list: Vec<&Incident> = estate
            .incidents
            .iter()
            .map(|i| &i.value)
            .filter(|i| i.date <= self.as_of)
            .collect();
        list.sort_by(|a, b| (a.date, a.id.as_str()).cmp(&(b.date, b.id.as_str())));
        let mut at_date: BTreeMap<NaiveDate, Arc<Resolution>> = BTreeMap::new();
        let mut earlier: BTreeMap<(String, Duty), Vec<String>> = BTreeMap::new();
        let mut out = Vec::new();
        for inc in list {
            let then = at_date
                .entry(inc.date)
                .or_insert_with(|| self.prepared.resolve(inc.date))
                .clone();
            let ci = then.catalog().control_position(&inc.control);
            let control_name = ci
                .map(|i| then.catalog().controls[i].name.clone())
                .unwrap_or_else(|| inc.control.value.clone());
            let mut holders = Vec::new();
            let mut detect_sla: Option<(Duration, String)> = None;
            let mut respond_sla: Option<(Duration, String)> = None;
            let strictest = |slot: &mut Option<(Duration, String)>,
                             new: Option<(Duration, String)>| {
                if let Some(n) = new
                    && slot.as_ref().is_none_or(|s| n.0 < s.0)
                {
                    *slot = Some(n);
                }
            };
            for a in &inc.assets {
                let Ok(ax) = then.find_asset(a) else { continue };
                match then.cell(ax, &inc.control, inc.duty) {
                    Ok(cell) => {
                        let d = cell.decisive();
                        holders.push(IncidentHolder {
                            asset: a.value.clone(),
                            who: cell
                                .responsible
                                .iter()
                                .map(|r| {
                                    if r.named {
                                        r.label()
                                    } else {
                                        format!("{} (unassigned)", r.label())
                                    }
                                })
                                .collect(),
                            unassigned: cell.unassigned,
                            assumed: cell.assumed,
                            contested: cell.contested.clone(),
                            basis: d.map(|b| b.rule.to_string()),
                            at: d.and_then(|b| b.at.clone()),
                            not_applicable: None,
                        });
                    }
                    Err(e) => holders.push(IncidentHolder {
                        asset: a.value.clone(),
                        who: Vec::new(),
                        unassigned: false,
                        assumed: false,
                        contested: Vec::new(),
                        basis: None,
                        at: None,
                        not_applicable: Some(format!("{e}: {}", e.help())),
                    }),
                }
                if let Some(ci) = ci {
                    let cells = then.cells_of(ax);
                    strictest(&mut detect_sla, sla_for(&then, cells, ci, Duty::Monitor));
                    strictest(&mut respond_sla, sla_for(&then, cells, ci, Duty::Respond));
                }
            }
            let unassigned: Vec<&str> = holders
                .iter()
                .filter(|h| h.unassigned)
                .map(|h| h.asset.as_str())
                .collect();
            let contested: Vec<&str> = holders
                .iter()
                .filter(|h| !h.contested.is_empty())
                .map(|h| h.asset.as_str())
                .collect();
            let off_map: Vec<&str> = holders
                .iter()
                .filter(|h| h.not_applicable.is_some())
                .map(|h| h.asset.as_str())
                .collect();
            let duty_name = format!("{} {}", inc.control.value, inc.duty);
            let (failure, why) = if !unassigned.is_empty() {
                (
                    FailureKind::Responsibility,
                    format!(
                        "on {} nobody was named for {duty_name} on {}",
                        inc.date,
                        unassigned.join(", ")
                    ),
                )
            } else if !contested.is_empty() {
                (
                    FailureKind::Responsibility,
                    format!(
                        "on {} owners contested {duty_name} on {}",
                        inc.date,
                        contested.join(", ")
                    ),
                )
            } else if !off_map.is_empty() {
                (
                    FailureKind::Responsibility,
                    format!(
                        "on {} the map had no {duty_name} duty for {}",
                        inc.date,
                        off_map.join(", ")
                    ),
                )
            } else {
                let who: Vec<String> = {
                    let mut w: Vec<String> =
                        holders.iter().flat_map(|h| h.who.iter().cloned()).collect();
                    w.sort();
                    w.dedup();
                    w
                };
                (
                    FailureKind::Execution,
                    format!(
                        "on {} {duty_name} was {}'s in writing, and it was not done",
                        inc.date,
                        who.join(" + ")
                    ),
                )
            };
            let signed_off = estate
                .reviews
                .iter()
                .filter(|r| {
                    r.date >= inc.date
                        && r.date <= self.as_of
                        && r.incidents.iter().any(|i| i.as_str() == inc.id.as_str())
                })
                .min_by_key(|r| r.date)
                .map(|r| SignOff {
                    date: r.date,
                    by: r.by.clone(),
                });
            let key = (inc.control.value.clone(), inc.duty);
            let repeats = earlier.get(&key).cloned().unwrap_or_default();
            earlier.entry(key).or_default().push(inc.id.value.clone());
            let loc = estate
                .incidents
                .iter()
                .find(|i| i.id.as_str() == inc.id.as_str())
                .map(|i| i.loc)
                .unwrap_or_default();
            out.push(IncidentFacts {
                id: inc.id.value.clone(),
                date: inc.date,
                summary: inc.summary.clone(),
                control: inc.control.value.clone(),
                control_name,
                duty: inc.duty,
                assets: inc.assets.iter().map(|a| a.value.clone()).collect(),
                at: estate.cite(loc),
                holders,
                failure,
                why,
                detect: timing(
                    inc.started.as_ref().map(|t| t.value),
                    inc.detected.as_ref().map(|t| t.value),
                    detect_sla,
                ),
                respond: timing(
                    inc.detected.as_ref().map(|t| t.value),
                    inc.responded.as_ref().map(|t| t.value),
                    respond_sla,
                ),
                changes: inc.changes.clone(),
                review: inc.review.clone(),
                signed_off,
                repeats,
            });
        }
        out
    }
}
