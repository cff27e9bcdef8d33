//! The catalog is data with provenance: these tests hold it to the promises in
//! docs/catalog-format.md.

use std::collections::BTreeSet;

use demarc_catalog::{Catalog, FrameworkKind, Owner};
use demarc_model::Duty;

#[test]
fn the_embedded_catalog_loads_and_meets_its_minimums() {
    let cat = Catalog::builtin();
    assert!(cat.controls.len() >= 60, "{} controls", cat.controls.len());
    assert!(cat.services.len() >= 45, "{} services", cat.services.len());
    assert_eq!(cat.layers.len(), 12);
    assert_eq!(cat.duties.len(), 5);
    let models: BTreeSet<&str> = cat.models.iter().map(|m| m.id.as_str()).collect();
    for m in ["on-prem", "iaas", "caas", "paas", "faas", "dbaas", "saas"] {
        assert!(models.contains(m), "model {m}");
    }
}

#[test]
fn every_service_names_a_public_provider_document() {
    for s in &Catalog::builtin().services {
        assert!(
            s.source.url().is_some_and(|u| u.starts_with("https://")),
            "{}",
            s.id
        );
        assert!(!s.source.title.trim().is_empty(), "{}", s.id);
    }
}

#[test]
fn the_services_practitioners_ask_about_are_there() {
    let cat = Catalog::builtin();
    for id in [
        "aws:ec2",
        "aws:s3",
        "aws:rds",
        "aws:dynamodb",
        "aws:lambda",
        "aws:ecs-fargate",
        "aws:ecs-ec2",
        "aws:eks",
        "aws:elastic-beanstalk",
        "aws:iam",
        "aws:kms",
        "aws:cloudtrail",
        "azure:vm",
        "azure:app-service",
        "azure:functions",
        "azure:sql-database",
        "azure:cosmos-db",
        "azure:aks",
        "azure:storage",
        "azure:key-vault",
        "azure:entra-id",
        "gcp:compute-engine",
        "gcp:cloud-run",
        "gcp:cloud-functions",
        "gcp:gke",
        "gcp:cloud-sql",
        "gcp:cloud-storage",
        "gcp:bigquery",
        "saas:m365",
        "saas:google-workspace",
        "saas:salesforce",
        "saas:github",
        "k8s:self-managed",
    ] {
        assert!(cat.service(id).is_some(), "missing {id}");
    }
}

#[test]
fn every_control_maps_to_frameworks_by_id_only() {
    let cat = Catalog::builtin();
    let mapping: BTreeSet<&str> = cat
        .frameworks
        .iter()
        .filter(|f| f.kind != FrameworkKind::Attestation)
        .map(|f| f.id.as_str())
        .collect();
    for c in &cat.controls {
        assert!(
            !c.description.is_empty() && c.description.len() < 240,
            "{}: one line",
            c.id
        );
        assert!(
            c.mappings.get("nist-800-53").is_some_and(|m| !m.is_empty()),
            "{} has no 800-53 mapping",
            c.id
        );
        for (fw, ids) in &c.mappings {
            assert!(mapping.contains(fw.as_str()), "{}: {fw}", c.id);
            for id in ids.iter().map(|m| m.requirement.as_str()) {
                assert!(
                    id.len() <= 24,
                    "{}: `{id}` looks like text, not an id",
                    c.id
                );
            }
        }
    }
}

/// The vendored list of SP 800-53 rev5 ids (controls, enhancements, statement parts), in
/// OSCAL form, generated from NIST's public-domain OSCAL catalog by scripts/vendor-nist-ids.py.
const NIST_IDS: &str = include_str!("../reference/nist-800-53-rev5-ids.txt");

fn vendored_nist_ids() -> BTreeSet<&'static str> {
    NIST_IDS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
}

#[test]
fn nist_mappings_exist_in_the_nist_catalog() {
    let ids = vendored_nist_ids();
    assert!(ids.len() > 3000, "{} ids", ids.len());
    assert!(ids.contains("ac-2") && ids.contains("ac-2.1") && ids.contains("ac-2_smt.a"));
    let mut checked = 0;
    for c in &Catalog::builtin().controls {
        for m in c.mappings.get("nist-800-53").into_iter().flatten() {
            assert!(
                ids.contains(m.requirement.as_str()),
                "{}: {} is not in SP 800-53 rev5",
                c.id,
                m.requirement
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} NIST mappings");
}

#[test]
fn the_vendored_nist_ids_match_the_oscal_catalog_when_it_is_beside_the_repo() {
    // The NIST SP 800-53 rev5 OSCAL catalog in ../shared, when this checkout has it.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/oscal/content/NIST_SP-800-53_rev5_catalog.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipped: {path} is absent; the vendored id list is checked on its own");
        return;
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn parts(p: &serde_json::Value, ids: &mut BTreeSet<String>) {
        if let Some(id) = p.get("id").and_then(|i| i.as_str())
            && id.contains("_smt")
        {
            ids.insert(id.to_string());
        }
        for q in p
            .get("parts")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            parts(q, ids);
        }
    }
    fn walk(v: &serde_json::Value, ids: &mut BTreeSet<String>) {
        for key in ["groups", "controls"] {
            for c in v.get(key).and_then(|c| c.as_array()).into_iter().flatten() {
                if key == "controls" {
                    ids.insert(c["id"].as_str().unwrap().to_string());
                    for p in c
                        .get("parts")
                        .and_then(|x| x.as_array())
                        .into_iter()
                        .flatten()
                    {
                        if p.get("name").and_then(|n| n.as_str()) == Some("statement") {
                            parts(p, ids);
                        }
                    }
                }
                walk(c, ids);
            }
        }
    }
    let mut ids = BTreeSet::new();
    walk(&json["catalog"], &mut ids);
    let vendored: BTreeSet<String> = vendored_nist_ids().into_iter().map(String::from).collect();
    assert_eq!(
        ids, vendored,
        "regenerate crates/catalog/reference/nist-800-53-rev5-ids.txt with scripts/vendor-nist-ids.py"
    );
}

#[test]
fn the_known_exceptions_hold() {
    let cat = Catalog::builtin();
    let owner = |svc: &str, control: &str, duty: Duty| {
        let s = cat.service(svc).unwrap();
        cat.responsibility(&s.model, Some(s), control, duty)
            .map(|f| f.owner)
    };
    // Managed databases: provider patches the engine; customer owns users and parameters.
    assert_eq!(
        owner("aws:rds", "database-engine-patching", Duty::Patch),
        Some(Owner::Provider)
    );
    assert_eq!(
        owner("aws:rds", "database-users", Duty::Configure),
        Some(Owner::Customer)
    );
    assert_eq!(
        owner("aws:rds", "backup", Duty::Configure),
        Some(Owner::Shared)
    );
    // IaaS: the guest OS is the customer's.
    assert_eq!(
        owner("aws:ec2", "os-patching", Duty::Patch),
        Some(Owner::Customer)
    );
    assert_eq!(
        owner("azure:vm", "os-patching", Duty::Patch),
        Some(Owner::Customer)
    );
    // Serverless: customer owns code and dependencies.
    assert_eq!(
        owner("aws:lambda", "dependency-management", Duty::Patch),
        Some(Owner::Customer)
    );
    // Object storage access logging is off until the customer turns it on.
    assert_eq!(
        owner("aws:s3", "storage-access-logging", Duty::Configure),
        Some(Owner::Customer)
    );
    // SaaS: identities, MFA and access reviews stay with the customer.
    assert_ne!(
        owner("saas:m365", "mfa", Duty::Configure),
        Some(Owner::Provider)
    );
    assert_ne!(
        owner("saas:salesforce", "access-review", Duty::Audit),
        Some(Owner::Provider)
    );
}

#[test]
fn a_broken_catalog_is_rejected_with_the_reason() {
    let bad = [
        ("duties.yaml", "duties: []"),
        (
            "layers.yaml",
            "layers: [{id: data, name: Data, description: d}]",
        ),
        ("frameworks.yaml", "frameworks: []"),
        (
            "controls.yaml",
            "controls: [{id: c1, name: C, layer: nowhere, duties: [patch], description: d}]",
        ),
        ("models.yaml", "models: []"),
    ];
    let err = Catalog::from_files(&bad).unwrap_err();
    assert!(
        err.contains("control `c1` names unknown layer `nowhere`"),
        "{err}"
    );
}

// ---------------------------------------------------------------- facts and layers

use demarc_catalog::{Decision, EntryLevel, Feature};

#[test]
fn the_derivation_rule_maps_facts_to_an_owner_per_duty() {
    use Duty::*;
    use Owner::*;
    // facts → owner of configure, patch, monitor, respond, audit (docs/catalog-format.md).
    let table = [
        (
            Feature::ENFORCED,
            [Provider, Provider, Provider, Provider, Provider],
        ),
        (
            Feature::DEFAULT_ON,
            [Shared, Provider, Customer, Customer, Customer],
        ),
        (
            Feature::OFF_BY_DEFAULT,
            [Customer, Provider, Customer, Customer, Customer],
        ),
        (
            Feature::UNSUPPORTED,
            [Customer, Customer, Customer, Customer, Customer],
        ),
    ];
    for (facts, owners) in table {
        for (duty, want) in [Configure, Patch, Monitor, Respond, Audit]
            .into_iter()
            .zip(owners)
        {
            assert_eq!(facts.owner_for(duty), want, "{facts} {duty}");
        }
    }
}

fn overlay_catalog(service_yaml: &str) -> Result<Catalog, String> {
    let overlay = format!(
        "provider: acme\nprovider_name: Acme\nservices:\n  - id: acme:db\n    name: Acme DB\n    model: dbaas\n    source: {{title: Acme SRM, url: \"https://acme.example/srm\", checked: 2026-11-23}}\n{service_yaml}"
    );
    demarc_catalog::CatalogBuilder::new()
        .builtin()
        .overlay("acme.yaml".into(), overlay)
        .build()
        .map_err(|e| e.to_string())
}

#[test]
fn facts_decide_each_duty_and_an_explicit_duty_still_overrides_them() {
    let cat = overlay_catalog(
        "    controls:\n      encryption-in-transit: {feature: default-on, provider: Serves TLS by default., customer: Keeps TLS required., duties: {audit: shared}}\n      encryption-at-rest: {feature: {enforced: true}, provider: Always encrypts.}\n",
    )
    .unwrap();
    let s = cat.service("acme:db").unwrap();
    let at = |c: &str, d| {
        let f = cat.responsibility(&s.model, Some(s), c, d).unwrap();
        (f.owner, f.decision)
    };
    let tls = Feature::DEFAULT_ON;
    assert_eq!(
        at("encryption-in-transit", Duty::Configure),
        (Owner::Shared, Decision::Facts(tls))
    );
    assert_eq!(
        at("encryption-in-transit", Duty::Monitor),
        (Owner::Customer, Decision::Facts(tls))
    );
    assert_eq!(
        at("encryption-in-transit", Duty::Audit),
        (Owner::Shared, Decision::Duty)
    );
    assert_eq!(
        at("encryption-at-rest", Duty::Configure),
        (Owner::Provider, Decision::Facts(Feature::ENFORCED))
    );
}

#[test]
fn an_entry_with_facts_needs_the_texts_its_derived_owners_need_and_no_owner() {
    let err = overlay_catalog("    controls:\n      encryption-in-transit: {feature: default-on, provider: Serves TLS.}\n").unwrap_err();
    assert!(
        err.contains("with `feature: default-on`") && err.contains("`customer:` text"),
        "{err}"
    );
    let err = overlay_catalog("    controls:\n      encryption-in-transit: {owner: customer, feature: enforced, provider: p, customer: c}\n").unwrap_err();
    assert!(err.contains("`owner:` or `feature:`, not both"), "{err}");
    let err = overlay_catalog(
        "    controls:\n      encryption-in-transit: {feature: always, provider: p}\n",
    )
    .unwrap_err();
    assert!(err.contains("unknown feature `always`"), "{err}");
    let err = overlay_catalog("    controls:\n      encryption-in-transit: {feature: {supported: false, enforced: true}, provider: p, customer: c}\n").unwrap_err();
    assert!(
        err.contains("not supported cannot be on by default or enforced"),
        "{err}"
    );
    let err =
        overlay_catalog("    layers:\n      data: {feature: enforced, provider: p}\n").unwrap_err();
    assert!(
        err.contains("layer `data` has `feature: enforced`"),
        "{err}"
    );
}

#[test]
fn a_customer_actionable_control_is_never_provider_owned_by_a_layer_alone() {
    let cat = Catalog::builtin();
    let iam = cat.service("aws:iam").unwrap();
    // aws:iam says its application layer is the provider's; that says nothing about API
    // security the customer configures: the generic model decides.
    let f = cat
        .responsibility(&iam.model, Some(iam), "api-security", Duty::Configure)
        .unwrap();
    assert_eq!(f.owner, Owner::Customer);
    assert_eq!(f.level, EntryLevel::ModelLayer);
    assert!(f.passed_over_service_layer);
    // The same layer still decides what it covers.
    let f = cat
        .responsibility(
            &iam.model,
            Some(iam),
            "application-code-security",
            Duty::Patch,
        )
        .unwrap();
    assert_eq!(
        (f.owner, f.level),
        (Owner::Provider, EntryLevel::ServiceLayer)
    );
    // A shared network layer does not make configuring TLS shared on a generic VM.
    let f = cat
        .responsibility("iaas", None, "encryption-in-transit", Duty::Configure)
        .unwrap();
    assert_eq!(
        (f.owner, f.layer_said),
        (Owner::Customer, Some(Owner::Shared))
    );
    // For other duties the control is not customer-actionable: the layer decides as written.
    let f = cat
        .responsibility("iaas", None, "encryption-in-transit", Duty::Monitor)
        .unwrap();
    assert_eq!((f.owner, f.layer_said), (Owner::Shared, None));
    // A provider-owned SaaS application layer leaves secrets the customer holds with it.
    let f = cat
        .responsibility("saas", None, "secrets-management", Duty::Configure)
        .unwrap();
    assert_eq!(
        (f.owner, f.layer_said),
        (Owner::Customer, Some(Owner::Provider))
    );
    // An explicit entry for the control can still give the provider its part.
    let f = cat
        .responsibility("saas", None, "encryption-in-transit", Duty::Configure)
        .unwrap();
    assert_eq!(
        (f.owner, f.level),
        (Owner::Provider, EntryLevel::ModelControl)
    );
}

#[test]
fn a_generic_answer_cites_the_models_document_not_the_service_page() {
    let cat = Catalog::builtin();
    let trail = cat.service("aws:cloudtrail").unwrap();
    let f = cat
        .responsibility(
            &trail.model,
            Some(trail),
            "disaster-recovery",
            Duty::Configure,
        )
        .unwrap();
    assert_eq!(
        f.owner,
        Owner::Shared,
        "the customer plans recovery of its trails"
    );
    assert!(!f.level.is_service_specific());
    let paas = cat.model("paas").unwrap();
    assert_eq!(f.source.url(), paas.source.url());
    assert_ne!(f.source.url(), trail.source.url());
    assert!(
        f.why().contains("layer alone does not decide"),
        "{}",
        f.why()
    );
    // An entry that names its own page cites that page.
    let st = cat.service("azure:storage").unwrap();
    let f = cat
        .responsibility(&st.model, Some(st), "disaster-recovery", Duty::Configure)
        .unwrap();
    assert_eq!(
        f.source.url(),
        Some("https://learn.microsoft.com/en-us/azure/storage/common/storage-redundancy")
    );
}

#[test]
fn the_spilled_answers_are_fixed() {
    let cat = Catalog::builtin();
    let owner = |svc: &str, control: &str, duty: Duty| {
        let s = cat.service(svc).unwrap();
        cat.responsibility(&s.model, Some(s), control, duty)
            .map(|f| f.owner)
    };
    use Duty::*;
    // Access keys and service-account keys are the customer's.
    for svc in ["aws:iam", "gcp:iam"] {
        for c in ["secrets-management", "local-authentication"] {
            assert_eq!(owner(svc, c, Configure), Some(Owner::Customer), "{svc} {c}");
        }
    }
    // Storage account keys, Shared Key access, and the redundancy and failover choice.
    assert_eq!(
        owner("azure:storage", "secrets-management", Configure),
        Some(Owner::Customer)
    );
    assert_eq!(
        owner("azure:storage", "local-authentication", Configure),
        Some(Owner::Customer)
    );
    assert_eq!(
        owner("azure:storage", "disaster-recovery", Configure),
        Some(Owner::Shared)
    );
    assert_eq!(
        owner("azure:key-vault", "secrets-management", Configure),
        Some(Owner::Customer)
    );
    // Nothing on a managed service's own application layer makes DR or pen testing the provider's.
    for svc in [
        "aws:cloudtrail",
        "aws:sns",
        "aws:iam",
        "gcp:iam",
        "azure:key-vault",
    ] {
        for c in [
            "disaster-recovery",
            "penetration-testing",
            "api-security",
            "secrets-management",
        ] {
            assert_ne!(owner(svc, c, Configure), Some(Owner::Provider), "{svc} {c}");
        }
    }
    // Settings the provider enforces are its own; customer-managed keys are the customer's.
    assert_eq!(
        owner("azure:cosmos-db", "encryption-in-transit", Configure),
        Some(Owner::Provider)
    );
    assert_eq!(
        owner("azure:storage", "encryption-at-rest", Configure),
        Some(Owner::Provider)
    );
    assert_eq!(
        owner("aws:s3", "encryption-at-rest", Audit),
        Some(Owner::Provider)
    );
    assert_eq!(
        owner("aws:s3", "encryption-at-rest-cmk", Configure),
        Some(Owner::Customer)
    );
    assert_eq!(
        owner("aws:dynamodb", "encryption-at-rest", Configure),
        Some(Owner::Provider)
    );
    // Configuring TLS and flow logs on a customer's network is the customer's, not shared.
    assert_eq!(
        owner("aws:ec2", "encryption-in-transit", Configure),
        Some(Owner::Customer)
    );
    assert_eq!(
        owner("aws:vpc", "network-flow-logging", Configure),
        Some(Owner::Customer)
    );
    assert_eq!(
        owner("aws:rds", "encryption-in-transit", Configure),
        Some(Owner::Customer)
    );
}

#[test]
fn the_embedded_catalog_is_the_one_built_from_the_yaml_files() {
    // build.rs validated data/ and embedded the result; building the same files again at run
    // time (the slow path, for comparison only) gives the very same catalog.
    let files: Vec<(String, &str)> = demarc_catalog::builtin_files()
        .iter()
        .map(|(n, t)| (format!("<builtin>/{n}"), *t))
        .collect();
    let pairs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    let parsed = Catalog::from_files(&pairs).unwrap();
    let embedded = Catalog::builtin();
    let json = |c: &Catalog| {
        serde_json::json!({
            "duties": c.duties, "layers": c.layers, "frameworks": c.frameworks,
            "controls": c.controls, "models": c.models, "services": c.services,
            "providers": c.providers, "hosting": c.hosting_layers(), "exposure": c.exposure(),
        })
    };
    assert_eq!(json(&parsed), json(embedded));
    // Composing with the built-in data starts from the embedded form and still checks it all.
    let composed = demarc_catalog::CatalogBuilder::new()
        .builtin()
        .build()
        .unwrap();
    assert_eq!(json(&composed), json(embedded));
}
