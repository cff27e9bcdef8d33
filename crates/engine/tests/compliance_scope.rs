//! Regulated data on a service outside the provider's compliance scope for the program the
//! data needs (DM017), and on a service whose scope for it the catalog does not know (DM018).

use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::{Catalog, CatalogBuilder};
use demarc_engine::{Analysis, Severity, analyse, resolve};
use demarc_model::{load_sources, validate};

const OVERLAY: &str = r#"version: 1
provider: acme-cloud
provider_name: Acme Cloud
compliance_scope:
  hipaa: {title: Acme Cloud HIPAA eligible services, url: "https://cloud.acme.example/hipaa", checked: 2026-11-20}
services:
  - id: acme:vault
    name: Acme Vault
    model: paas
    source: {title: Acme Cloud SRM, url: "https://cloud.acme.example/srm", checked: 2026-11-01}
    programs: [hipaa]
  - id: acme:cache
    name: Acme Cache
    model: paas
    source: {title: Acme Cloud SRM, url: "https://cloud.acme.example/srm", checked: 2026-11-01}
"#;

fn catalog() -> Arc<Catalog> {
    Arc::new(
        CatalogBuilder::new()
            .builtin()
            .overlay("overlays/acme.yaml".into(), OVERLAY.into())
            .build()
            .unwrap_or_else(|d| panic!("{d}")),
    )
}

fn check(assets: &str) -> Analysis {
    let text = format!(
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {{kind: customer, name: Acme}}\n  acme-cloud: {{kind: provider, name: Acme Cloud}}\n  aws: {{kind: provider, name: AWS}}\nassets:\n{assets}"
    );
    let e = load_sources(vec![("e.yaml".into(), text)]).unwrap_or_else(|d| panic!("{d}"));
    let cat = catalog();
    validate(&e, &*cat).unwrap_or_else(|d| panic!("{d}"));
    let as_of: NaiveDate = "2026-11-23".parse().unwrap();
    analyse(&resolve(Arc::new(e), cat, as_of))
}

fn codes<'a>(a: &'a Analysis, code: &str) -> Vec<&'a demarc_engine::Gap> {
    a.gaps.iter().filter(|g| g.code == code).collect()
}

#[test]
fn health_data_on_a_service_off_the_providers_hipaa_list_is_a_high_gap_citing_the_list() {
    let a = check(
        "  - {id: notes-cache, service: acme:cache, env: prod, data: [phi]}\n  - {id: notes-vault, service: acme:vault, env: prod, data: [phi]}\n",
    );
    let g = codes(&a, "DM017");
    assert_eq!(
        g.len(),
        1,
        "{:?}",
        a.gaps.iter().map(|g| &g.key).collect::<Vec<_>>()
    );
    let g = g[0];
    assert_eq!(g.key, "DM017:acme:cache:hipaa");
    assert_eq!(g.kind, "out-of-compliance-scope");
    assert_eq!(g.severity, Severity::High);
    assert_eq!(g.assets, ["notes-cache"]);
    assert!(g.title.contains("`phi`"), "{}", g.title);
    assert!(g.title.contains("Acme Cache"), "{}", g.title);
    assert!(
        g.title.contains("https://cloud.acme.example/hipaa"),
        "{}",
        g.title
    );
    assert!(g.title.contains("2026-11-20"), "{}", g.title);
    assert!(g.fix.contains("Acme Cloud"), "{}", g.fix);
    assert!(
        g.basis[0].contains("Acme Cloud HIPAA eligible services"),
        "{:?}",
        g.basis
    );
    // The in-scope vault has no gap, and the provider's HIPAA scope is known: no DM018.
    assert!(codes(&a, "DM018").is_empty());
}

#[test]
fn a_needed_program_without_a_provider_list_is_a_low_unknown_once_per_provider() {
    let a = check(
        "  - {id: cards-cache, service: acme:cache, data: [pci]}\n  - {id: cards-vault, service: acme:vault, data: [pci]}\n",
    );
    assert!(codes(&a, "DM017").is_empty());
    let g = codes(&a, "DM018");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].key, "DM018:acme-cloud:pci-dss");
    assert_eq!(g[0].severity, Severity::Low);
    assert_eq!(g[0].assets, ["cards-cache", "cards-vault"]);
}

#[test]
fn data_that_needs_no_program_and_generic_models_are_left_alone() {
    let a = check(
        "  - {id: crm-cache, service: acme:cache, data: [pii]}\n  - {id: vm, service: iaas, data: [phi]}\n",
    );
    assert!(codes(&a, "DM017").is_empty() && codes(&a, "DM018").is_empty());
}

#[test]
fn the_built_in_aws_hipaa_list_is_used_and_modes_answer_like_their_service() {
    let a = check(
        "  - {id: api, service: aws:app-runner, data: [phi]}\n  - {id: vm, service: aws:ec2, mode: patch-manager, data: [phi]}\n  - {id: fn, service: aws:lambda, data: [phi]}\n",
    );
    let keys: Vec<&str> = codes(&a, "DM017").iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["DM017:aws:app-runner:hipaa"]);
}
