//! What changed between two versions of an estate, in the terms people review a change in:
//! who is responsible for which cells, which gaps opened or closed, and which compliance
//! requirements changed how they are carried. A pure function over two opened versions (a
//! resolution and its memoised gap analysis), so the same comparison serves the API, the
//! History page and tests.

use std::collections::{BTreeMap, BTreeSet};

use demarc_api as api;
use demarc_compliance::Library;
use demarc_compliance::rollup::{self, Options};
use demarc_engine::Resolution;
use demarc_model::Duty;

use crate::state::Opened;

type CellKey = (String, Duty);

fn side(c: &demarc_engine::Cell) -> api::CellSideV1 {
    api::CellSideV1 {
        ownership: c.ownership.into(),
        responsible: c
            .responsible
            .iter()
            .map(|a| api::AssigneeV1::from(a).label())
            .collect(),
        unassigned: c.unassigned,
    }
}

/// Each asset's cells by (control, duty), for the assets of one resolution.
fn cells(res: &Resolution) -> BTreeMap<String, BTreeMap<CellKey, api::CellSideV1>> {
    let mut out = BTreeMap::new();
    for i in res.assets() {
        let mut m = BTreeMap::new();
        for c in res.cells_of(i) {
            m.insert((res.control_of(c).id.clone(), c.duty), side(c));
        }
        out.insert(res.asset(i).id.value.clone(), m);
    }
    out
}

/// `(framework, requirement) → (title, origination, ready)` for the frameworks named.
type Rolled = BTreeMap<(String, String), (String, &'static str, bool)>;

fn roll(lib: &Library, res: &Resolution, frameworks: &[String], notes: &mut Vec<String>) -> Rolled {
    let mut out = Rolled::new();
    let warn_days = res.estate().settings.expiry_warning.days();
    for f in frameworks {
        let r = match rollup::rollup(
            lib,
            res,
            &Options {
                framework: f,
                baseline: None,
                env: None,
                data: None,
                warn_days,
            },
        ) {
            Ok(r) => r,
            Err(e) => {
                let note = format!("{f}: {}", e.message);
                if !notes.contains(&note) {
                    notes.push(note);
                }
                continue;
            }
        };
        for row in r.rows {
            out.insert(
                (f.clone(), row.requirement.label.clone()),
                (
                    row.requirement.title.clone(),
                    row.origination.as_str(),
                    row.ready,
                ),
            );
        }
    }
    out
}

/// [`diff`] with the acceptance changes in full, for the History page: gaps in both versions
/// accepted in `to` but not in `from` (with the acceptance), and the reverse (an acceptance
/// removed or lapsed).
pub struct Compared {
    pub diff: api::DiffV1,
    pub accepted: Vec<api::GapV1>,
    pub unaccepted: Vec<api::GapV1>,
}

/// The difference from `from` (version `from_n`) to `to` (version `to_n`), both resolved on
/// the same day. `limit` cuts the list of changed cells (the count is kept); `lib` is the
/// compliance library, `None` to leave requirements out.
pub fn diff(
    from: &Opened,
    to: &Opened,
    from_n: i64,
    to_n: i64,
    limit: usize,
    lib: Option<&Library>,
) -> api::DiffV1 {
    compare(from, to, from_n, to_n, limit, lib).diff
}

/// [`diff`], keeping the accepted and no-longer-accepted gaps whole.
pub fn compare(
    from: &Opened,
    to: &Opened,
    from_n: i64,
    to_n: i64,
    limit: usize,
    lib: Option<&Library>,
) -> Compared {
    let a = cells(from.res());
    let b = cells(to.res());
    let assets_added: Vec<String> = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    let assets_removed: Vec<String> = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    let mut changes = Vec::new();
    let mut cells_changed = 0usize;
    for (asset, before) in &a {
        let Some(after) = b.get(asset) else { continue };
        let keys: BTreeSet<&CellKey> = before.keys().chain(after.keys()).collect();
        for k in keys {
            let (x, y) = (before.get(k), after.get(k));
            if x == y {
                continue;
            }
            cells_changed += 1;
            if changes.len() < limit {
                changes.push(api::CellChangeV1 {
                    asset: asset.clone(),
                    control: k.0.clone(),
                    duty: k.1,
                    before: x.cloned(),
                    after: y.cloned(),
                });
            }
        }
    }

    // The versions' own analyses: the pages that show their gaps computed them already.
    let ga = from.analysis();
    let gb = to.analysis();
    let keys_a: BTreeMap<&str, &demarc_engine::Gap> =
        ga.gaps.iter().map(|g| (g.key.as_str(), g)).collect();
    let keys_b: BTreeMap<&str, &demarc_engine::Gap> =
        gb.gaps.iter().map(|g| (g.key.as_str(), g)).collect();
    let gaps_opened = gb
        .gaps
        .iter()
        .filter(|g| !keys_a.contains_key(g.key.as_str()))
        .map(api::GapV1::from)
        .collect();
    let gaps_closed = ga
        .gaps
        .iter()
        .filter(|g| !keys_b.contains_key(g.key.as_str()))
        .map(api::GapV1::from)
        .collect();
    // Gaps in both versions whose acceptance turned on (`now`) or off.
    let acceptance_turned = |now: bool| -> Vec<api::GapV1> {
        gb.gaps
            .iter()
            .filter(|g| {
                g.accepted.is_some() == now
                    && keys_a
                        .get(g.key.as_str())
                        .is_some_and(|o| o.accepted.is_some() != now)
            })
            .map(api::GapV1::from)
            .collect()
    };
    let accepted = acceptance_turned(true);
    let unaccepted = acceptance_turned(false);
    let gaps_accepted = accepted.iter().map(|g| g.key.clone()).collect();

    let mut notes = Vec::new();
    let mut requirements = Vec::new();
    if let Some(lib) = lib {
        let mut frameworks: Vec<String> = Vec::new();
        for r in [from.res(), to.res()] {
            for f in &r.estate().settings.frameworks {
                if !frameworks.contains(&f.value) {
                    frameworks.push(f.value.clone());
                }
            }
        }
        let ra = roll(lib, from.res(), &frameworks, &mut notes);
        let rb = roll(lib, to.res(), &frameworks, &mut notes);
        let keys: BTreeSet<&(String, String)> = ra.keys().chain(rb.keys()).collect();
        for k in keys {
            let (x, y) = (ra.get(k), rb.get(k));
            if x.map(|v| (v.1, v.2)) == y.map(|v| (v.1, v.2)) {
                continue;
            }
            requirements.push(api::RequirementChangeV1 {
                framework: k.0.clone(),
                requirement: k.1.clone(),
                title: y.or(x).map(|v| v.0.clone()).unwrap_or_default(),
                before: x.map(|v| v.1.to_string()),
                after: y.map(|v| v.1.to_string()),
                ready_before: x.is_some_and(|v| v.2),
                ready_after: y.is_some_and(|v| v.2),
            });
        }
    }

    let diff = api::DiffV1 {
        schema: "demarc.diff/v1".into(),
        from: from_n,
        to: to_n,
        as_of: to.res().as_of(),
        assets_added,
        assets_removed,
        cells: changes,
        cells_changed,
        gaps_opened,
        gaps_closed,
        gaps_accepted,
        requirements,
        notes,
    };
    Compared {
        diff,
        accepted,
        unaccepted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(yaml: &str, as_of: &str) -> Opened {
        let files = vec![("estate.yaml".to_string(), yaml.as_bytes().to_vec())];
        crate::state::open_files(&files, as_of.parse().unwrap())
            .unwrap_or_else(|e| panic!("{}: {:?}", e.message, e.diagnostics))
    }

    const BASE: &str = "version: 1\nestate: t\ncustomer: me\nparties:\n  me: {kind: customer, name: Me, teams: {ops: {}, dba: {}}}\n  aws: {kind: provider, name: AWS, attestations: [{framework: soc2, expires: 2027-06-30}]}\nassets:\n  - {id: db, service: aws:rds}\n";

    #[test]
    fn an_assignment_changes_cells_and_closes_gaps() {
        let a = resolve(BASE, "2026-11-23");
        let b = resolve(
            &format!(
                "{BASE}  - {{id: web, service: aws:ec2}}\nassignments:\n  - {{scope: {{assets: [db]}}, controls: [backup], to: me/dba}}\n"
            ),
            "2026-11-23",
        );
        let d = diff(&a, &b, 1, 2, 1000, None);
        assert_eq!(d.assets_added, ["web"]);
        assert!(d.assets_removed.is_empty());
        let backup: Vec<&api::CellChangeV1> =
            d.cells.iter().filter(|c| c.control == "backup").collect();
        assert!(!backup.is_empty(), "{:?}", d.cells);
        for c in &backup {
            assert_eq!(c.asset, "db");
            // RDS backup is shared with AWS: the customer's side gains its named team.
            let after = c.after.as_ref().unwrap();
            let before = c.before.as_ref().unwrap();
            assert!(
                after.responsible.contains(&"me/dba".to_string()),
                "{after:?}"
            );
            assert!(
                !before.responsible.contains(&"me/dba".to_string()),
                "{before:?}"
            );
            assert!(before.unassigned && !after.unassigned);
        }
        // Only the assigned control changed on db.
        assert!(d.cells.iter().all(|c| c.control == "backup"));
        assert_eq!(d.cells_changed, d.cells.len());
        // Without the new asset (whose backup nobody owns yet) the unassigned gap closes.
        let only = resolve(
            &format!(
                "{BASE}assignments:\n  - {{scope: {{assets: [db]}}, controls: [backup], to: me/dba}}\n"
            ),
            "2026-11-23",
        );
        let d2 = diff(&a, &only, 1, 2, 1000, None);
        let closed: Vec<(&str, Option<&str>)> = d2
            .gaps_closed
            .iter()
            .map(|g| (g.code.as_str(), g.control.as_deref()))
            .collect();
        assert!(closed.contains(&("DM001", Some("backup"))), "{closed:?}");
        // Naming dba for every duty of backup makes it audit its own work.
        let opened: Vec<&str> = d2.gaps_opened.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(opened, ["DM012:backup:me/dba"]);
        let cut = diff(&a, &b, 1, 2, 1, None);
        assert_eq!((cut.cells.len(), cut.cells_changed), (1, d.cells_changed));
        let same = diff(&a, &a, 1, 1, 10, None);
        assert!(
            same.cells.is_empty() && same.gaps_opened.is_empty() && same.gaps_closed.is_empty()
        );
    }
}
