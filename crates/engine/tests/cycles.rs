//! `runs_on` chains that go round in a circle are refused, with the circle spelled out.

use demarc_catalog::Catalog;
use demarc_model::{load_sources, validate};

#[test]
fn a_runs_on_circle_of_three_is_an_error_naming_the_circle() {
    let e = load_sources(vec![(
        "e.yaml".into(),
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n  a: {kind: vendor, name: A, runs_on: [{party: b}]}\n  b: {kind: vendor, name: B, runs_on: [{party: c}]}\n  c: {kind: provider, name: C, runs_on: [{party: a}]}\n".into(),
    )])
    .unwrap();
    let err = validate(&e, Catalog::builtin()).unwrap_err().to_string();
    assert!(
        err.contains("`runs_on` goes round in a circle: a → b → c → a"),
        "{err}"
    );
    assert!(err.contains("e.yaml:6:"), "{err}");
}

#[test]
fn a_chain_without_a_circle_is_fine() {
    let e = load_sources(vec![(
        "e.yaml".into(),
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n  a: {kind: vendor, name: A, runs_on: [{party: b}, {party: c}]}\n  b: {kind: vendor, name: B, runs_on: [{party: c}]}\n  c: {kind: provider, name: C}\n".into(),
    )])
    .unwrap();
    validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
}

/// Two hosts covering the same layer: the answer does not depend on which is listed first.
#[test]
fn two_hosts_for_one_layer_resolve_the_same_in_either_order() {
    use std::sync::Arc;
    let cell = |hosts: &str| {
        let e = load_sources(vec![(
            "e.yaml".into(),
            format!("version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {{kind: customer, name: Acme}}\n  vendor: {{kind: provider, name: V, runs_on: [{hosts}]}}\n  aws: {{kind: provider, name: AWS}}\n  gcp: {{kind: provider, name: GCP}}\nservices:\n  saas:v: {{model: saas, provider: vendor}}\nassets:\n  - {{id: x, service: saas:v}}\n"),
        )])
        .unwrap();
        validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
        let res = demarc_engine::resolve(
            Arc::new(e),
            Catalog::builtin_shared(),
            "2026-11-23".parse().unwrap(),
        );
        let x = res.find_asset("x").unwrap();
        res.cells_of(x)
            .iter()
            .find(|c| res.control_of(c).layer == "physical-datacenter")
            .map(|c| c.responsible[0].via.clone())
            .unwrap()
    };
    let a = cell("{party: gcp}, {party: aws}");
    let b = cell("{party: aws}, {party: gcp}");
    assert_eq!(a, b);
    assert_eq!(a, ["aws"]);
}
