//! Regression tests for known defects.

use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use demarc_engine::{Cell, Resolution};
use demarc_model::{Duty, load_sources, validate};

const HEAD: &str = r#"version: 1
estate: t
customer: acme
parties:
  acme: {kind: customer, name: Acme, teams: {platform: {}, dba: {}, secops: {}}}
  aws: {kind: provider, name: AWS}
  shieldco: {kind: mssp, name: ShieldCo}
"#;

fn resolve(files: Vec<(&str, String)>) -> Arc<Resolution> {
    let files: Vec<(std::path::PathBuf, String)> =
        files.into_iter().map(|(n, t)| (n.into(), t)).collect();
    let e = load_sources(files).unwrap_or_else(|d| panic!("{d}"));
    validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    demarc_engine::resolve(
        Arc::new(e),
        Catalog::builtin_shared(),
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    )
}

/// The whole cell minus `file:line` citations, which move when rules move.
fn whole(res: &Resolution, asset: &str, control: &str, duty: Duty) -> String {
    let a = res.find_asset(asset).unwrap();
    let mut c: Cell = (**res.cell(a, control, duty).unwrap()).clone();
    // Where a rule is written moves with the arrangement; what it says must not.
    for b in &mut c.basis {
        b.at = None;
        b.origin = demarc_model::Origin::Unknown;
    }
    format!("{c:?} deciding={:?}", res.deciding_rule(&c))
}

/// Two rules, each written first in one run and second in the other, in one file and then
/// in two files given in both orders: every arrangement must give the same cell.
fn arrangements(first: &str, second: &str) -> Vec<Vec<(&'static str, String)>> {
    let assets = "assets:\n  - {id: db, service: aws:rds, env: prod, data: [pii]}\n  - {id: vm, service: aws:ec2, env: prod, data: [pii]}\n";
    let one = |a: &str, b: &str| {
        vec![(
            "e.yaml",
            format!("{HEAD}{assets}assignments:\n  - {a}\n  - {b}\n"),
        )]
    };
    let two = |a: &str, b: &str| {
        vec![
            ("a.yaml", format!("{HEAD}{assets}assignments:\n  - {a}\n")),
            ("b.yaml", format!("assignments:\n  - {b}\n")),
        ]
    };
    vec![
        one(first, second),
        one(second, first),
        two(first, second),
        two(second, first),
        two(first, second).into_iter().rev().collect(),
        two(second, first).into_iter().rev().collect(),
    ]
}

fn assert_same_everywhere(first: &str, second: &str, cells: &[(&str, &str, Duty)]) {
    let runs: Vec<Arc<Resolution>> = arrangements(first, second)
        .into_iter()
        .map(resolve)
        .collect();
    for &(asset, control, duty) in cells {
        let base = whole(&runs[0], asset, control, duty);
        for (i, r) in runs.iter().enumerate().skip(1) {
            assert_eq!(
                whole(r, asset, control, duty),
                base,
                "{asset} {control} {duty}: arrangement {i} differs from arrangement 0"
            );
        }
    }
}

#[test]
fn equal_assignments_to_one_team_with_different_splits_resolve_the_same_in_any_order() {
    // Same scope, same owner, different `split` text: same name and same content id, so
    // only what the split says can order them.
    let a = "{scope: {env: prod}, controls: [backup], to: acme/dba, split: {acme/dba: takes nightly snapshots}}";
    let b = "{scope: {env: prod}, controls: [backup], to: acme/dba, split: {acme/dba: restores on request}}";
    assert_same_everywhere(
        a,
        b,
        &[
            ("db", "backup", Duty::Configure),
            ("db", "backup", Duty::Audit),
            ("vm", "backup", Duty::Configure),
        ],
    );
    // And the winner's text is what the cell says the team does.
    let res = resolve(arrangements(a, b).remove(1));
    let db = res.find_asset("db").unwrap();
    let c = res.cell(db, "backup", Duty::Configure).unwrap();
    let does: Vec<Option<&str>> = c.responsible.iter().map(|r| r.does.as_deref()).collect();
    assert!(
        does.contains(&Some("restores on request"))
            || does.contains(&Some("takes nightly snapshots")),
        "{does:?}"
    );
    assert!(c.contested.is_empty(), "one owner is not a contest");
}

#[test]
fn equal_assignments_to_one_team_under_different_scopes_resolve_the_same_in_any_order() {
    // Different scopes of equal specificity (env vs data), same owner, different splits.
    let a = "{scope: {env: prod}, controls: [os-patching], to: acme/dba, split: {acme/dba: patches monthly}}";
    let b = "{scope: {data: [pii]}, controls: [os-patching], to: acme/dba, split: {acme/dba: patches weekly}}";
    assert_same_everywhere(a, b, &[("vm", "os-patching", Duty::Patch)]);
    // Shared owners with different splits, too.
    let a = "{scope: {env: prod}, controls: [backup], to: [acme/platform, shieldco], split: {acme/platform: schedules, shieldco: verifies}}";
    let b = "{scope: {env: prod}, controls: [backup], to: [acme/platform, shieldco], split: {acme/platform: verifies, shieldco: schedules}}";
    assert_same_everywhere(
        a,
        b,
        &[
            ("db", "backup", Duty::Configure),
            ("vm", "backup", Duty::Configure),
        ],
    );
}

/// Loads, validates, resolves and analyses; the gap codes found, or the located refusal.
fn analyse_huge(extra: &str, evidence: &str) -> Result<Vec<&'static str>, String> {
    let text = format!("{HEAD}{extra}assets:\n  - {{id: db, service: aws:rds}}\n{evidence}");
    let e = match load_sources(vec![("e.yaml".into(), text)]) {
        Ok(e) => e,
        // The model may refuse the duration: then it must say where.
        Err(d) => return Err(d.to_string()),
    };
    if let Err(d) = validate(&e, Catalog::builtin()) {
        return Err(d.to_string());
    }
    let res = demarc_engine::resolve(
        Arc::new(e),
        Catalog::builtin_shared(),
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    );
    let a = demarc_engine::analyse(&res);
    Ok(a.gaps.iter().map(|g| g.code).collect())
}

#[test]
fn a_huge_evidence_validity_does_not_panic_the_analysis() {
    let r = std::panic::catch_unwind(|| {
        analyse_huge(
            "",
            "evidence:\n  - {control: backup, asset: db, ref: x, collected: 2026-09-01, valid_for: 300000y}\n",
        )
    });
    match r {
        // Evidence valid for 300,000 years is current: no missing or expired evidence.
        Ok(Ok(codes)) => assert!(
            !codes.contains(&"DM011"),
            "evidence valid for 300000y is not expired: {codes:?}"
        ),
        Ok(Err(msg)) => assert!(
            msg.contains("e.yaml:") && msg.contains("too long"),
            "a refused duration is located and says why: {msg}"
        ),
        Err(_) => panic!("`valid_for: 300000y` panicked the analysis"),
    }
}

#[test]
fn a_huge_review_cadence_does_not_panic_the_analysis() {
    let r = std::panic::catch_unwind(|| {
        analyse_huge(
            "settings: {review_cadence: 300000y}\nreviews: [{date: 2026-08-01, by: x}]\n",
            "",
        )
    });
    match r {
        // A review from August cannot be stale under a 300,000-year cadence.
        Ok(Ok(codes)) => assert!(!codes.contains(&"DM008"), "{codes:?}"),
        Ok(Err(msg)) => assert!(
            msg.contains("e.yaml:"),
            "a refused duration is located: {msg}"
        ),
        Err(_) => panic!("`review_cadence: 300000y` panicked the analysis"),
    }
}

#[test]
fn the_same_owners_listed_in_another_order_do_not_contest_a_cell() {
    let a = "{scope: {env: prod}, controls: [backup], to: [acme/platform, shieldco]}";
    let b = "{scope: {env: prod}, controls: [backup], to: [shieldco, acme/platform]}";
    for files in arrangements(a, b) {
        let res = resolve(files);
        let db = res.find_asset("db").unwrap();
        let c = res.cell(db, "backup", Duty::Configure).unwrap();
        assert!(
            c.contested.is_empty(),
            "contested by itself: {:?}",
            c.contested
        );
        assert!(
            !demarc_engine::analyse(&res)
                .gaps
                .iter()
                .any(|g| g.code == "DM002"),
            "no DM002 for one set of owners"
        );
    }
    // A genuinely different set of owners still contests.
    let c2 = "{scope: {env: prod}, controls: [backup], to: [acme/dba, shieldco]}";
    let res = resolve(arrangements(a, c2).remove(0));
    let db = res.find_asset("db").unwrap();
    let c = res.cell(db, "backup", Duty::Configure).unwrap();
    assert_eq!(c.contested.len(), 1, "{:?}", c.contested);
}
