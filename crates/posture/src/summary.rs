//! Counting attributed findings: totals, and open findings per group (party, control, asset
//! or severity), in memory that grows with the groups, not the findings.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::attribute::{Attribution, Attributor, Route};
use crate::finding::{Finding, Severity, Status};

/// What to group open findings by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Party,
    Control,
    Asset,
    Severity,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Party => "party",
            GroupBy::Control => "control",
            GroupBy::Asset => "asset",
            GroupBy::Severity => "severity",
        }
    }
}

/// Counts of findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub total: u64,
    pub open: u64,
    pub passed: u64,
    pub manual: u64,
    pub suppressed: u64,
    pub resolved: u64,
    /// Open findings per severity, critical first (see [`Severity::ALL`]).
    pub open_by_severity: [u64; 5],
    /// Open findings past their due date.
    pub overdue: u64,
    /// Open findings with a due date (an SLA applies).
    pub with_sla: u64,
    /// Open findings per route.
    pub provider: u64,
    pub unassigned: u64,
    pub not_applicable: u64,
    pub no_control: u64,
    pub undeclared_asset: u64,
}

impl Tally {
    pub fn open_at_least(&self, s: Severity) -> u64 {
        Severity::ALL
            .iter()
            .zip(self.open_by_severity)
            .filter(|(x, _)| **x >= s)
            .map(|(_, n)| n)
            .sum()
    }
}

/// One group of open findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub key: String,
    /// The route its findings take (for party groups: provider, responsible, …).
    pub route: Route,
    /// For party groups: the party and team.
    pub party: Option<String>,
    pub team: Option<String>,
    pub tally: Tally,
    pub earliest_due: Option<NaiveDate>,
    pub most_days_overdue: i64,
}

/// The running summary.
#[derive(Debug, Clone)]
pub struct Summary {
    pub by: GroupBy,
    pub tally: Tally,
    pub groups: BTreeMap<String, Group>,
}

/// The compact facts of one finding that the summary needs (made on a worker thread).
#[derive(Debug, Clone)]
pub struct Fact {
    pub status: Status,
    pub severity: Severity,
    pub route: Route,
    pub overdue: bool,
    pub days_overdue: i64,
    pub due: Option<NaiveDate>,
    pub key: String,
    pub party: Option<String>,
    pub team: Option<String>,
}

impl Fact {
    pub fn new(by: GroupBy, at: &Attributor<'_>, f: &Finding, a: &Attribution) -> Fact {
        let res = at.resolution();
        let key = match by {
            GroupBy::Party => a.owner_label().unwrap_or_else(|| placeholder(a.route)),
            GroupBy::Control => a
                .control
                .map(|c| res.catalog().controls[c].id.clone())
                .unwrap_or_else(|| "(no control)".into()),
            GroupBy::Asset => a
                .asset
                .map(|x| res.asset(x).id.value.clone())
                .unwrap_or_else(|| "(undeclared asset)".into()),
            GroupBy::Severity => f.severity.as_str().to_string(),
        };
        Fact {
            status: f.status,
            severity: f.severity,
            route: a.route,
            overdue: a.overdue,
            days_overdue: a.days_overdue,
            due: a.due,
            key,
            party: a.party.clone(),
            team: a.team.clone(),
        }
    }
}

/// The group name of findings nobody holds.
pub fn placeholder(route: Route) -> String {
    match route {
        Route::UndeclaredAsset => "(undeclared asset)",
        Route::NoControl => "(no control)",
        Route::NotApplicable => "(control not applicable)",
        _ => "(nobody)",
    }
    .to_string()
}

fn count(t: &mut Tally, x: &Fact) {
    t.total += 1;
    match x.status {
        Status::Open => {}
        Status::Passed => {
            t.passed += 1;
            return;
        }
        Status::Manual => {
            t.manual += 1;
            return;
        }
        Status::Suppressed => {
            t.suppressed += 1;
            return;
        }
        Status::Resolved => {
            t.resolved += 1;
            return;
        }
    }
    t.open += 1;
    let i = Severity::ALL
        .iter()
        .position(|s| *s == x.severity)
        .unwrap_or(4);
    t.open_by_severity[i] += 1;
    if x.overdue {
        t.overdue += 1;
    }
    if x.due.is_some() {
        t.with_sla += 1;
    }
    match x.route {
        Route::Provider => t.provider += 1,
        Route::Unassigned => t.unassigned += 1,
        Route::NotApplicable => t.not_applicable += 1,
        Route::NoControl => t.no_control += 1,
        Route::UndeclaredAsset => t.undeclared_asset += 1,
        Route::Responsible => {}
    }
}

impl Summary {
    pub fn new(by: GroupBy) -> Summary {
        Summary {
            by,
            tally: Tally::default(),
            groups: BTreeMap::new(),
        }
    }

    /// Counts one finding; open ones also count in their group.
    pub fn add(&mut self, x: &Fact) {
        count(&mut self.tally, x);
        if x.status != Status::Open {
            return;
        }
        let g = self.groups.entry(x.key.clone()).or_insert_with(|| Group {
            key: x.key.clone(),
            route: x.route,
            party: x.party.clone(),
            team: x.team.clone(),
            tally: Tally::default(),
            earliest_due: None,
            most_days_overdue: 0,
        });
        count(&mut g.tally, x);
        if let Some(d) = x.due {
            g.earliest_due = Some(g.earliest_due.map_or(d, |e| e.min(d)));
        }
        g.most_days_overdue = g.most_days_overdue.max(x.days_overdue);
    }

    /// Groups, the most urgent first: most overdue, then most critical and high, then key.
    pub fn ordered(&self) -> Vec<&Group> {
        let mut v: Vec<&Group> = self.groups.values().collect();
        v.sort_by(|a, b| {
            b.tally
                .overdue
                .cmp(&a.tally.overdue)
                .then(b.tally.open_by_severity.cmp(&a.tally.open_by_severity))
                .then(a.key.cmp(&b.key))
        });
        v
    }
}
