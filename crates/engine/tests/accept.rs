//! Issue 7: one gap per fix, risk acceptances, templates, organisation-level evidence and the
//! severity of an unknown service. Each test failed before the change it protects.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use demarc_engine::{Analysis, BasisKind, Resolution, Severity, analyse};
use demarc_model::{Duty, Estate, load_sources, validate};

const PARTIES: &str = r#"version: 1
estate: t
customer: acme
parties:
  acme:
    kind: customer
    name: Acme
    teams: {platform: {}, dba: {}, secops: {}, audit: {}}
  aws: {kind: provider, name: AWS}
"#;

fn estate(body: &str) -> Estate {
    let e = load_sources(vec![("e.yaml".into(), format!("{PARTIES}{body}"))])
        .unwrap_or_else(|d| panic!("{d}"));
    validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    e
}

fn invalid(body: &str) -> String {
    let e = load_sources(vec![("e.yaml".into(), format!("{PARTIES}{body}"))])
        .unwrap_or_else(|d| panic!("{d}"));
    validate(&e, Catalog::builtin())
        .expect_err("must be rejected")
        .to_string()
}

fn resolve(e: &Estate, as_of: &str) -> Arc<Resolution> {
    demarc_engine::resolve(
        Arc::new(e.clone()),
        Arc::new(Catalog::builtin().clone()),
        as_of.parse::<NaiveDate>().unwrap(),
    )
}

fn gap<'a>(a: &'a Analysis, key: &str) -> &'a demarc_engine::Gap {
    a.gaps
        .iter()
        .find(|g| g.key == key)
        .unwrap_or_else(|| panic!("no gap {key} in {:?}", keys(a)))
}

fn keys(a: &Analysis) -> Vec<&str> {
    a.gaps.iter().map(|g| g.key.as_str()).collect()
}

const ASSETS: &str = "assets:\n  - {id: vm-1, service: aws:ec2, env: prod}\n  - {id: vm-2, service: aws:ec2, env: prod}\nreviews: [{date: 2026-11-01, by: ciso}]\n";

#[test]
fn an_unknown_service_is_at_least_high_so_the_readme_ci_gate_catches_it() {
    let e = estate("assets:\n  - {id: box, service: mainframe-thing, env: dev}\n");
    let a = analyse(&resolve(&e, "2026-11-23"));
    let g = gap(&a, "DM013:mainframe-thing");
    assert_eq!(g.severity, Severity::High);
    assert!(a.failing(Severity::High).any(|g| g.code == "DM013"));
}

#[test]
fn one_missing_assignment_is_one_fix_listing_every_control_with_member_keys_kept() {
    let e = estate(ASSETS);
    let a = analyse(&resolve(&e, "2026-11-23"));
    let dm001: Vec<_> = a.gaps.iter().filter(|g| g.code == "DM001").collect();
    assert!(dm001.len() > 5, "one gap per control: {}", dm001.len());
    // Every member keeps its own key and shares one group key.
    let groups: BTreeSet<_> = dm001.iter().map(|g| g.group.clone().unwrap()).collect();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert!(dm001.iter().any(|g| g.key == "DM001:os-patching"));
    let group = groups.into_iter().next().unwrap();
    assert!(group.starts_with("group:DM001:acme:"), "{group}");

    let fixes = a.fixes();
    let f: Vec<_> = fixes.gaps.iter().filter(|g| g.code == "DM001").collect();
    assert_eq!(f.len(), 1, "one entry per fix");
    let f = f[0];
    assert_eq!(f.key, group);
    assert_eq!(f.members.len(), dm001.len());
    assert!(f.members.contains(&"DM001:os-patching".to_string()));
    assert!(f.controls.contains(&"os-patching".to_string()));
    assert!(
        f.fix.contains("os-patching") && f.fix.contains("controls: ["),
        "{}",
        f.fix
    );
    assert_eq!(f.cells, dm001.iter().map(|g| g.cells).sum::<usize>());
    assert_eq!(a.summary.fixes, a.gaps.len() - dm001.len() + 1);

    // The group key is stable: the same assets and owner, found in another run, give it.
    let again = analyse(&resolve(&e, "2026-11-24"));
    assert_eq!(
        gap(&again, "DM001:os-patching").group.as_deref(),
        Some(&*f.key)
    );
}

#[test]
fn one_blanket_assignment_gives_one_separation_of_duties_fix() {
    let e = estate(&format!(
        "{ASSETS}assignments:\n  - {{to: acme/platform}}\n"
    ));
    let a = analyse(&resolve(&e, "2026-11-23"));
    let sod: Vec<_> = a.gaps.iter().filter(|g| g.code == "DM012").collect();
    assert!(sod.len() > 3, "{}", sod.len());
    let fixes = a.fixes();
    let f: Vec<_> = fixes.gaps.iter().filter(|g| g.code == "DM012").collect();
    assert_eq!(f.len(), 1);
    assert!(f[0].fix.contains("duties: [audit]"), "{}", f[0].fix);
    assert!(f[0].key.starts_with("group:DM012:acme/platform:"));
}

#[test]
fn an_accepted_gap_is_listed_with_its_approval_and_does_not_fail_the_gate() {
    let body = format!(
        "{ASSETS}accepted:\n  - {{gap: \"DM001:*\", reason: legacy hosts retire in Q1, approved_by: ciso, expires: 2027-03-01}}\n"
    );
    let e = estate(&body);
    let a = analyse(&resolve(&e, "2026-11-23"));
    let g = gap(&a, "DM001:os-patching");
    let acc = g.accepted.as_ref().expect("accepted");
    assert_eq!(acc.approved_by, "ciso");
    assert_eq!(acc.reason, "legacy hosts retire in Q1");
    assert_eq!(acc.expires.to_string(), "2027-03-01");
    assert_eq!(acc.at, "e.yaml:15");
    assert!(!a.failing(Severity::Info).any(|g| g.code == "DM001"));
    assert_eq!(a.summary.gaps + a.summary.accepted, a.gaps.len());
    assert!(!a.summary.by_code.contains_key("DM001"));
    let fixes = a.fixes();
    let f = fixes.gaps.iter().find(|g| g.code == "DM001").unwrap();
    assert!(
        f.title.starts_with(
            "[accepted until 2027-03-01, approved by ciso: legacy hosts retire in Q1]"
        ),
        "{}",
        f.title
    );
    // No warning yet: more than `expiry_warning` (30d) ahead.
    assert!(!keys(&a).contains(&"DM005:accepted:DM001:*"));

    // Within the warning window: a DM005 says it ends soon.
    let soon = analyse(&resolve(&e, "2027-02-10"));
    assert!(gap(&soon, "DM001:os-patching").accepted.is_some());
    assert_eq!(gap(&soon, "DM005:accepted:DM001:*").severity, Severity::Low);

    // On its expiry date the gap counts again, and its basis says why.
    let later = analyse(&resolve(&e, "2027-03-01"));
    let g = gap(&later, "DM001:os-patching");
    assert!(g.accepted.is_none());
    assert!(
        g.basis.iter().any(|b| b.contains("ended 2027-03-01")),
        "{:?}",
        g.basis
    );
    assert!(later.failing(Severity::Low).any(|g| g.code == "DM001"));
}

#[test]
fn an_acceptance_that_matches_no_gap_is_reported() {
    let e = estate(&format!(
        "{ASSETS}accepted:\n  - {{gap: \"DM003:wafx\", reason: r, approved_by: ciso, expires: 2027-03-01}}\n"
    ));
    let a = analyse(&resolve(&e, "2026-11-23"));
    let g = gap(&a, "DM016:DM003:wafx");
    assert_eq!(g.severity, Severity::Low);
    assert_eq!(g.kind, "acceptance-unmatched");
}

#[test]
fn an_acceptance_needs_a_gap_key_a_reason_and_an_approver() {
    let msg = invalid(
        "accepted:\n  - {gap: waf, reason: \" \", approved_by: \"\", expires: 2027-01-01}\n",
    );
    assert!(msg.contains("`waf` is not a gap key"), "{msg}");
    assert!(msg.contains("acceptance without a reason"), "{msg}");
    assert!(msg.contains("without `approved_by`"), "{msg}");
}

#[test]
fn a_baseline_leaves_only_new_gaps_failing() {
    let e = estate(ASSETS);
    let mut a = analyse(&resolve(&e, "2026-11-23"));
    let known: BTreeSet<String> = a
        .gaps
        .iter()
        .filter(|g| g.key != "DM001:os-patching")
        .map(|g| g.key.clone())
        .collect();
    a.compare_with_baseline(&known);
    let failing: Vec<_> = a.failing(Severity::Low).map(|g| g.key.as_str()).collect();
    assert_eq!(failing, ["DM001:os-patching"]);
    assert_eq!(gap(&a, "DM001:backup").new, Some(false));
    assert_eq!(a.summary.new, Some(1));
    // The new member of a group is its own entry among the fixes, marked new.
    let fixes = a.fixes();
    let new: Vec<_> = fixes.gaps.iter().filter(|g| g.new == Some(true)).collect();
    assert_eq!(new.len(), 1);
    assert!(new[0].title.starts_with("[new] "), "{}", new[0].title);
}

const TEMPLATES: &str = r#"templates:
  pii:
    owners:
      - {controls: [os-patching], to: acme/platform}
      - {controls: [backup, restore-testing], to: acme/dba}
    review_cadence: 7d
    require_evidence: [malware-protection]
apply:
  - {template: pii, scope: {data: [pii]}}
assets:
  - {id: crm-db, service: aws:ec2, env: prod, data: [pii]}
  - {id: web, service: aws:ec2, env: prod}
reviews: [{date: 2026-11-01, by: ciso}]
"#;

#[test]
fn a_template_assigns_owners_to_every_asset_of_its_class_with_its_basis() {
    let e = estate(TEMPLATES);
    let res = resolve(&e, "2026-11-23");
    let crm = res.find_asset("crm-db").unwrap();
    let c = res.cell(crm, "os-patching", Duty::Patch).unwrap();
    assert!(!c.unassigned);
    assert_eq!(c.responsible[0].label(), "acme/platform");
    let b = c
        .basis
        .iter()
        .find(|b| b.kind == BasisKind::Assignment)
        .unwrap();
    assert!(
        b.rule
            .starts_with("template pii: assignment to acme/platform"),
        "{}",
        b.rule
    );
    assert!(
        b.rule.contains("applied by `apply` at e.yaml:18"),
        "{}",
        b.rule
    );
    assert_eq!(b.at.as_deref(), Some("e.yaml:13"));
    let id = b.rule_id.as_ref().unwrap().to_string();
    assert!(id.starts_with("template:pii/"), "{id}");
    // Content-derived: moving the template in the file keeps the id.
    let moved = estate(&TEMPLATES.replace("templates:\n", "settings: {}\ntemplates:\n"));
    let res2 = resolve(&moved, "2026-11-23");
    let c2 = res2.cell(crm, "os-patching", Duty::Patch).unwrap();
    assert_eq!(
        c2.basis
            .iter()
            .find(|b| b.kind == BasisKind::Assignment)
            .unwrap()
            .rule_id
            .as_ref()
            .unwrap()
            .to_string(),
        id
    );
    // Assets outside the class are untouched.
    let web = res.find_asset("web").unwrap();
    assert!(
        res.cell(web, "os-patching", Duty::Patch)
            .unwrap()
            .unassigned
    );
}

#[test]
fn a_template_sets_review_cadence_and_required_evidence_for_its_class() {
    let e = estate(TEMPLATES);
    let a = analyse(&resolve(&e, "2026-11-23"));
    let g = gap(&a, "DM008:review:template:pii");
    assert_eq!(g.assets, ["crm-db"]);
    let ev = gap(&a, "DM010:malware-protection");
    assert_eq!(ev.assets, ["crm-db"]);
    // The estate's own 90-day cadence is met.
    assert!(!keys(&a).contains(&"DM008:review"));
}

#[test]
fn a_hand_written_assignment_beats_a_template_at_equal_specificity() {
    let e = estate(&format!(
        "{TEMPLATES}assignments:\n  - {{scope: {{data: [pii]}}, controls: [os-patching], to: acme/secops}}\n"
    ));
    let res = resolve(&e, "2026-11-23");
    let crm = res.find_asset("crm-db").unwrap();
    let c = res.cell(crm, "os-patching", Duty::Patch).unwrap();
    assert_eq!(c.responsible[0].label(), "acme/secops");
    assert!(c.contested.is_empty());
    assert!(
        c.basis
            .iter()
            .any(|b| b.kind == BasisKind::Superseded && b.rule.contains("hand-written rule wins"))
    );
}

#[test]
fn a_template_that_does_not_exist_or_conflicts_with_its_scope_is_rejected() {
    let msg = invalid(
        "templates:\n  pii: {review_cadence: 7d}\napply:\n  - {template: pi, scope: {data: [pii]}}\n",
    );
    assert!(msg.contains("pi"), "{msg}");
    assert!(msg.contains("did you mean"), "{msg}");
    let msg = invalid(
        "templates:\n  pii:\n    owners: [{scope: {data: [phi]}, to: acme/dba}]\napply:\n  - {template: pii, scope: {data: [pii]}}\n",
    );
    assert!(msg.contains("both set `data`"), "{msg}");
}

#[test]
fn organisation_level_controls_ask_for_evidence_once_not_per_asset() {
    let e = estate(&format!(
        "{ASSETS}assignments:\n  - {{to: acme/platform}}\n"
    ));
    let a = analyse(&resolve(&e, "2026-11-23"));
    let g = gap(&a, "DM010:security-awareness-training");
    assert!(g.assets.is_empty(), "{:?}", g.assets);
    assert!(g.title.contains("organisation-wide"), "{}", g.title);
    assert!(g.fix.contains("without `asset:`"), "{}", g.fix);
    // Org-wide evidence satisfies it.
    let e = estate(&format!(
        "{ASSETS}assignments:\n  - {{to: acme/platform}}\nevidence:\n  - {{control: security-awareness-training, ref: lms, collected: 2026-06-01}}\n"
    ));
    let a = analyse(&resolve(&e, "2026-11-23"));
    assert!(!keys(&a).contains(&"DM010:security-awareness-training"));
}

#[test]
fn expired_pen_test_evidence_asks_for_a_new_test_not_a_restore_test() {
    let e = estate(&format!(
        "{ASSETS}assignments:\n  - {{to: acme/platform}}\nsettings: {{require_evidence: [penetration-testing]}}\nevidence:\n  - {{control: penetration-testing, asset: vm-1, ref: r, collected: 2025-01-01}}\n  - {{control: penetration-testing, asset: vm-2, ref: r, collected: 2025-01-01}}\n"
    ));
    let a = analyse(&resolve(&e, "2026-11-23"));
    let g = gap(&a, "DM011:penetration-testing");
    assert!(!g.fix.contains("restore"), "{}", g.fix);
    assert!(g.fix.contains("penetration testing again"), "{}", g.fix);
}
