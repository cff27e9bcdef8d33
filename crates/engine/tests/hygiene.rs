//! Mistakes that used to pass silently: a rule that matches nothing, and dates after the
//! analysis date that switch the staleness checks off.

use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use demarc_engine::{Analysis, Severity, analyse, resolve};
use demarc_model::{load_sources, validate};

fn check(body: &str, as_of: &str) -> Analysis {
    let text = format!(
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {{kind: customer, name: Acme, teams: {{ops: {{}}}}}}\n  aws: {{kind: provider, name: AWS, attestations: [{{framework: soc2, period_end: 2026-06-30}}]}}\n{body}"
    );
    let e = load_sources(vec![("e.yaml".into(), text)]).unwrap_or_else(|d| panic!("{d}"));
    validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    let as_of: NaiveDate = as_of.parse().unwrap();
    analyse(&resolve(Arc::new(e), Catalog::builtin_shared(), as_of))
}

#[test]
fn a_rule_whose_scope_matches_no_asset_is_reported_where_it_is_written() {
    let a = check(
        "assignments:\n  - {scope: {tags: {team: paymnets}}, controls: [os-patching], to: acme/ops}\n  - {scope: {service: aws:ec2}, controls: [backup], to: acme/ops}\nassets:\n  - {id: vm, service: aws:ec2, tags: {team: payments}}\n",
        "2026-11-23",
    );
    let g: Vec<_> = a.gaps.iter().filter(|g| g.code == "DM014").collect();
    assert_eq!(
        g.len(),
        1,
        "{:?}",
        a.gaps.iter().map(|g| &g.key).collect::<Vec<_>>()
    );
    assert_eq!(g[0].severity, Severity::Low);
    assert!(g[0].key.starts_with("DM014:assignment:"), "{}", g[0].key);
    assert!(g[0].basis[0].ends_with("e.yaml:8"), "{:?}", g[0].basis);
    assert_eq!(g[0].kind, "rule-unmatched");
}

#[test]
fn dates_after_the_analysis_date_are_findings_not_fresh_evidence() {
    let body = "reviews:\n  - {date: 2062-01-15, by: jane}\nevidence:\n  - {control: restore-testing, ref: x, collected: 2062-03-01}\nassets:\n  - {id: vm, service: aws:ec2, added: 2062-02-01}\n";
    let a = check(body, "2026-11-23");
    let keys: Vec<&str> = a
        .gaps
        .iter()
        .filter(|g| g.code == "DM015")
        .map(|g| g.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "DM015:asset-added",
            "DM015:evidence:restore-testing:*",
            "DM015:review:2062-01-15"
        ]
    );
    assert!(
        a.gaps
            .iter()
            .filter(|g| g.code == "DM015")
            .all(|g| g.severity == Severity::Medium)
    );
    // Analysed after those dates, nothing is in the future any more.
    let later = check(body, "2062-06-01");
    assert!(!later.gaps.iter().any(|g| g.code == "DM015"));
}

/// A long clause text is held once, not copied into every cell that cites it: thousands of
/// cells across services would otherwise each carry up to 16 KiB.
#[test]
fn cells_citing_the_same_clause_share_its_text() {
    let text = "x".repeat(16 * 1024);
    let body = format!(
        "  shieldco: {{kind: mssp, name: ShieldCo}}\ncontracts:\n  - id: msa\n    party: shieldco\n    clauses:\n      - {{id: \"1\", text: \"{text}\", duties: [monitor]}}\nassets:\n  - {{id: vm, service: aws:ec2}}\n  - {{id: db, service: aws:rds}}\n"
    );
    let text_yaml = format!(
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {{kind: customer, name: Acme}}\n{body}"
    );
    let e = load_sources(vec![("e.yaml".into(), text_yaml)]).unwrap_or_else(|d| panic!("{d}"));
    validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    let res = resolve(
        Arc::new(e),
        Catalog::builtin_shared(),
        "2026-11-23".parse().unwrap(),
    );
    let cites: Vec<std::sync::Arc<str>> = ["vm", "db"]
        .iter()
        .flat_map(|id| {
            let a = res.find_asset(id).unwrap();
            res.cells_of(a).to_vec()
        })
        .flat_map(|c| c.basis.clone())
        .filter(|b| b.rule.contains(&text))
        .map(|b| b.rule)
        .collect();
    assert!(cites.len() > 20, "{}", cites.len());
    let distinct: std::collections::BTreeSet<*const u8> =
        cites.iter().map(|r| r.as_ptr()).collect();
    // One allocation per way of citing the clause (its notes), not one per cell.
    assert!(
        distinct.len() <= 3,
        "{} copies for {} citations",
        distinct.len(),
        cites.len()
    );
}
