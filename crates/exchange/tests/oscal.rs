//! OSCAL exchange: every export validates against the NIST schema of its model and its
//! references resolve; UUIDs are stable; imports turn leveraged SSPs into overlays that load,
//! report leveraging SSPs, and reject bad input at a JSON path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use demarc_catalog::{Catalog, CatalogBuilder};
use demarc_compliance::Library;
use demarc_engine::{Resolution, resolve};
use demarc_exchange::oscal::{
    Model, check_references, export_component, export_mapping, export_ssp, import, import_with,
    leveraged_links, schema_errors, uuid_for,
};
use demarc_model::{load_sources, validate};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// An estate with an IaaS provider attested by SOC 2, an MSSP, a team, and a service the
/// customer provides to its own customers.
const ESTATE: &str = r#"version: 1
estate: portal
customer: acme
parties:
  acme: {kind: customer, name: Acme Corp, contact: sec@acme.example, teams: {ops: {name: Operations, contact: ops@acme.example}}}
  aws:
    kind: provider
    name: Amazon Web Services
    attestations:
      - {framework: soc2, period_end: 2026-06-30, services: ["aws:*"]}
  shieldco: {kind: mssp, name: ShieldCo}
services:
  acme:portal:
    model: saas
    name: Acme Portal
    provider: acme
    source: "Acme Portal shared responsibility guide"
contracts:
  - id: soc
    party: shieldco
    effective: 2026-01-01
    clauses:
      - {id: "1", text: monitoring, duties: [monitor, respond]}
assignments:
  - {scope: {}, to: acme/ops}
assets:
  - {id: db1, service: aws:rds, env: prod}
  - {id: vm1, service: aws:ec2, env: prod}
  - {id: portal, service: "acme:portal", env: prod}
"#;

fn res_of(text: &str) -> Arc<Resolution> {
    let e = load_sources(vec![("e.yaml".into(), text.into())]).unwrap_or_else(|d| panic!("{d}"));
    let cat = Catalog::builtin_shared();
    validate(&e, &*cat).unwrap_or_else(|d| panic!("{d}"));
    resolve(Arc::new(e), cat, "2026-11-23".parse().unwrap())
}

fn lib() -> &'static Library {
    Library::builtin().unwrap()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/oscal")
            .join(name),
    )
    .unwrap()
}

fn shared(name: &str) -> Option<(String, String)> {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/oscal/examples")
        .join(name);
    match std::fs::read_to_string(&p) {
        Ok(t) => Some((p.display().to_string(), t)),
        Err(_) => {
            eprintln!(
                "skipped: {} is absent (the shared OSCAL data is not checked out)",
                p.display()
            );
            None
        }
    }
}

/// Every `key` value anywhere in `v`, with the object holding it.
fn all<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if m.contains_key(key) {
                out.push(v);
            }
            m.values().for_each(|x| all(x, key, out));
        }
        Value::Array(a) => a.iter().for_each(|x| all(x, key, out)),
        _ => {}
    }
}

fn items<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    let mut holders = Vec::new();
    all(v, key, &mut holders);
    holders
        .into_iter()
        .flat_map(|h| h[key].as_array().into_iter().flatten())
        .collect()
}

fn assert_valid(model: Model, doc: &Value) {
    let errs = schema_errors(model, doc, 5);
    assert!(errs.is_empty(), "{errs:?}");
    let refs = check_references(doc, &[]);
    assert!(refs.is_clean(), "{refs:?}");
}

#[test]
fn shipped_schemas_are_the_nist_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/oscal-schemas");
    for (f, sum) in [
        (
            "1.1.3/oscal_ssp_schema.json",
            "da5f452b9e7bdf85246b79ed32475cd419321eb600e6928439ae67aef5a63e53",
        ),
        (
            "1.1.3/oscal_component_schema.json",
            "9bde069f8f65ec82ea626348cc40ae5d42b0f74c1a2a8b9289a1604bf521a15c",
        ),
        (
            "1.2.3/oscal_mapping_schema.json",
            "6e9ef954394b1d42302e52f7c5dae05e35e577e5d83696d95e2181b5a15a6d6d",
        ),
    ] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        assert_eq!(format!("{:x}", Sha256::digest(&bytes)), sum, "{f}");
    }
}

#[test]
fn the_fixtures_and_the_nist_examples_validate() {
    for f in ["min_ssp_provider.json", "min_ssp_customer.json"] {
        assert!(
            schema_errors(Model::Ssp, &json(&fixture(f)), 3).is_empty(),
            "{f}"
        );
    }
    assert!(
        schema_errors(
            Model::Component,
            &json(&fixture("min_component-definition.json")),
            3
        )
        .is_empty()
    );
    for f in [
        "oscal_leveraged-example_ssp.json",
        "oscal_leveraging-example_ssp.json",
        "FedRAMP-SSP-OSCAL-Template.json",
    ] {
        if let Some((_, t)) = shared(f) {
            assert!(schema_errors(Model::Ssp, &json(&t), 3).is_empty(), "{f}");
        }
    }
}

#[test]
fn ssp_validates_and_every_reference_resolves() {
    let res = res_of(ESTATE);
    let doc = json(&export_ssp(&res, lib()).unwrap());
    assert_valid(Model::Ssp, &doc);
    let ssp = &doc["system-security-plan"];
    assert_eq!(ssp["metadata"]["oscal-version"], "1.1.3");
    assert_eq!(ssp["metadata"]["last-modified"], "2026-11-23T00:00:00Z");
    assert!(
        !ssp["system-implementation"]["users"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // UUIDs are unique.
    let refs = check_references(&doc, &[]);
    assert!(refs.duplicates.is_empty(), "{:?}", refs.duplicates);
}

#[test]
fn ssp_is_byte_identical_across_runs_and_uuids_are_derived_from_ids() {
    let a = export_ssp(&res_of(ESTATE), lib()).unwrap();
    let b = export_ssp(&res_of(ESTATE), lib()).unwrap();
    assert_eq!(a, b);
    let doc = json(&a);
    let ssp = &doc["system-security-plan"];
    assert_eq!(
        ssp["uuid"],
        uuid_for(&["system-security-plan", "portal"]).as_str()
    );
    let aws = ssp["metadata"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["short-name"] == "aws")
        .unwrap();
    assert_eq!(aws["uuid"], uuid_for(&["party", "aws"]).as_str());
    // Version 5 UUIDs.
    assert_eq!(aws["uuid"].as_str().unwrap().as_bytes()[14], b'5');
}

#[test]
fn inherited_points_at_the_providers_provided_entry_under_its_leveraged_authorization() {
    let doc = json(&export_ssp(&res_of(ESTATE), lib()).unwrap());
    let ssp = &doc["system-security-plan"];
    let las = ssp["system-implementation"]["leveraged-authorizations"]
        .as_array()
        .unwrap();
    assert_eq!(las.len(), 1, "{las:?}");
    assert_eq!(las[0]["party-uuid"], uuid_for(&["party", "aws"]).as_str());
    assert_eq!(las[0]["date-authorized"], "2026-06-30");
    let rds = ssp["system-implementation"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"].as_str().unwrap().contains("aws:rds"))
        .unwrap();
    let la_prop = rds["props"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "leveraged-authorization-uuid")
        .unwrap();
    assert_eq!(la_prop["value"], las[0]["uuid"]);
    // Every inherited entry names the provided uuid of (provider, service, control).
    let mut n = 0;
    for ir in ssp["control-implementation"]["implemented-requirements"]
        .as_array()
        .unwrap()
    {
        let ctl = ir["control-id"].as_str().unwrap();
        for bc in ir["by-components"].as_array().unwrap() {
            for inh in bc["inherited"].as_array().into_iter().flatten() {
                let ok = ["aws:rds", "aws:ec2"].iter().any(|s| {
                    inh["provided-uuid"] == uuid_for(&["provided", "aws", s, ctl]).as_str()
                });
                assert!(ok, "{ctl}: {inh}");
                n += 1;
            }
            for sat in bc["satisfied"].as_array().into_iter().flatten() {
                let ok = ["aws:rds", "aws:ec2"].iter().any(|s| {
                    sat["responsibility-uuid"]
                        == uuid_for(&["responsibility", "aws", s, ctl]).as_str()
                });
                assert!(ok, "{ctl}: {sat}");
            }
        }
    }
    assert!(n > 20, "{n} inherited entries");
    // The MSSP and the team satisfy provider responsibilities.
    assert!(!items(&doc, "satisfied").is_empty());
}

#[test]
fn a_service_the_estate_provides_is_exported_with_its_customers_responsibilities() {
    let doc = json(&export_ssp(&res_of(ESTATE), lib()).unwrap());
    let provided = items(&doc, "provided");
    let resp = items(&doc, "responsibilities");
    assert!(!provided.is_empty() && !resp.is_empty());
    for r in resp {
        let p = r["provided-uuid"].as_str().unwrap();
        assert!(provided.iter().any(|x| x["uuid"] == p), "{r}");
    }
}

#[test]
fn component_definition_and_mapping_validate() {
    let res = res_of(ESTATE);
    let comp = json(&export_component(&res).unwrap());
    assert_valid(Model::Component, &comp);
    let titles: Vec<&str> = comp["component-definition"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("aws:rds")), "{titles:?}");
    assert!(
        titles.iter().any(|t| t.contains("generic saas")),
        "{titles:?}"
    );
    let reqs = items(&comp, "implemented-requirements");
    assert!(reqs.iter().any(|r| r["control-id"] == "pe-3"));

    let map = json(&export_mapping(res.catalog(), lib()).unwrap());
    assert_valid(Model::Mapping, &map);
    let mc = &map["mapping-collection"];
    assert_eq!(mc["metadata"]["oscal-version"], "1.2.3");
    let rels: std::collections::BTreeSet<&str> = items(&map, "maps")
        .iter()
        .map(|m| m["relationship"].as_str().unwrap())
        .collect();
    assert!(rels.contains("intersects-with"), "{rels:?}");
    for r in &rels {
        assert!(
            [
                "equivalent-to",
                "subset-of",
                "superset-of",
                "intersects-with"
            ]
            .contains(r)
        );
    }
    let nist = mc["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["target-resource"]["props"][0]["value"] == "nist-800-53")
        .unwrap();
    assert!(
        nist["target-gap-summary"]["unmapped-controls"][0]["with-ids"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
    // Stable across runs.
    assert_eq!(
        export_mapping(res.catalog(), lib()).unwrap(),
        export_mapping(res.catalog(), lib()).unwrap()
    );
}

#[test]
fn round_trip_export_then_import_counts_match() {
    let text = export_ssp(&res_of(ESTATE), lib()).unwrap();
    let doc = json(&text);
    let imp = import("portal-ssp.json", &text).unwrap();
    let s = &imp.summary;
    assert_eq!(s["kind"], "leveraged");
    for (k, key) in [
        ("provided", "provided"),
        ("responsibilities", "responsibilities"),
        ("inherited", "inherited"),
        ("satisfied", "satisfied"),
    ] {
        assert_eq!(s[k], items(&doc, key).len(), "{k}");
    }
    assert_eq!(
        s["requirements"],
        doc["system-security-plan"]["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
            .len()
    );
    let la = &s["leveraged_authorizations"][0];
    assert_eq!(
        la["title"],
        "Amazon Web Services SOC 2 Trust Services Criteria"
    );
    assert_eq!(la["inherited"], items(&doc, "inherited").len());
    // The overlay is a catalog overlay that loads.
    let cat = CatalogBuilder::new()
        .builtin()
        .overlay("portal.yaml".into(), imp.overlay_yaml.clone())
        .build()
        .unwrap_or_else(|d| panic!("{d}\n{}", imp.overlay_yaml));
    let id = s["service"].as_str().unwrap();
    assert!(!cat.service(id).unwrap().controls.is_empty());
    assert!(imp.overlay_yaml.contains("sha256: "));
}

#[test]
fn leveraged_fixture_becomes_an_overlay() {
    let imp = import("min_ssp_provider.json", &fixture("min_ssp_provider.json")).unwrap();
    assert_eq!(imp.summary["kind"], "leveraged");
    assert_eq!(imp.summary["provided"], 1);
    assert_eq!(imp.summary["responsibilities"], 1);
    assert_eq!(imp.summary["model"], "iaas");
    assert!(
        imp.summary["controls"]["shared"].as_u64().unwrap() > 0,
        "{}",
        imp.summary
    );
    CatalogBuilder::new()
        .builtin()
        .overlay("p.yaml".into(), imp.overlay_yaml.clone())
        .build()
        .unwrap_or_else(|d| panic!("{d}"));
}

#[test]
fn leveraging_fixture_is_reported_per_leveraged_authorization() {
    let customer = fixture("min_ssp_customer.json");
    assert_eq!(
        leveraged_links(&customer),
        vec!["min_ssp_provider.json".to_string()]
    );
    let provider = (
        "min_ssp_provider.json".to_string(),
        fixture("min_ssp_provider.json"),
    );
    let imp = import_with("min_ssp_customer.json", &customer, &[provider]).unwrap();
    assert_eq!(imp.summary["kind"], "leveraging");
    assert!(imp.overlay_yaml.is_empty());
    let la = &imp.summary["leveraged_authorizations"][0];
    assert_eq!(la["title"], "Example Cloud IaaS");
    // A `$schema` directive beside the root changes nothing.
    let mut with_schema = json(&customer);
    with_schema["$schema"] = "http://csrc.nist.gov/ns/oscal/1.1.3/oscal-ssp-schema.json".into();
    let again = import_with(
        "c.json",
        &with_schema.to_string(),
        &[("p.json".into(), fixture("min_ssp_provider.json"))],
    )
    .unwrap();
    assert_eq!(again.summary, imp.summary);
    assert_eq!(la["controls"]["ac-2"]["inherited"], 1);
    assert_eq!(la["controls"]["ac-2"]["satisfied"], 1);
    assert_eq!(imp.summary["external_references"], 0);
    // Without the provider's SSP the references are external, and said so.
    let alone = import("min_ssp_customer.json", &customer).unwrap();
    assert_eq!(alone.summary["external_references"], 2);
    assert!(
        alone
            .warnings
            .iter()
            .any(|w| w.contains("leveraged systems' SSPs")),
        "{:?}",
        alone.warnings
    );
}

#[test]
fn nist_leveraging_example_warns_about_satisfied_pointing_at_provided() {
    let (Some((_, leveraging)), Some(leveraged)) = (
        shared("oscal_leveraging-example_ssp.json"),
        shared("oscal_leveraged-example_ssp.json"),
    ) else {
        return;
    };
    let imp = import_with("leveraging.json", &leveraging, &[leveraged]).unwrap();
    assert_eq!(imp.summary["kind"], "leveraging");
    assert_eq!(imp.summary["inherited"], 1);
    assert_eq!(imp.summary["satisfied"], 2);
    let w = imp
        .warnings
        .iter()
        .find(|w| w.contains("export.provided"))
        .expect("a warning");
    assert!(
        w.starts_with("$.system-security-plan.control-implementation.implemented-requirements[0].statements[0].by-components[1].satisfied[0].responsibility-uuid"),
        "{w}"
    );
}

#[test]
fn nist_leveraged_example_and_fedramp_template_import() {
    if let Some((n, t)) = shared("oscal_leveraged-example_ssp.json") {
        let imp = import(&n, &t).unwrap();
        assert_eq!(imp.summary["kind"], "leveraged");
        assert_eq!(imp.summary["provided"], 2);
        assert_eq!(imp.summary["responsibilities"], 2);
        CatalogBuilder::new()
            .builtin()
            .overlay("l.yaml".into(), imp.overlay_yaml)
            .build()
            .unwrap();
    }
    if let Some((n, t)) = shared("FedRAMP-SSP-OSCAL-Template.json") {
        let imp = import(&n, &t).unwrap();
        assert_eq!(imp.summary["kind"], "leveraged");
        assert_eq!(imp.summary["requirements"], 20);
        assert_eq!(imp.summary["duplicate_uuids"], 4);
        assert_eq!(
            imp.summary["leveraged_authorizations"][0]["title"],
            "GovCloud"
        );
        assert!(imp.warnings.iter().any(|w| w.contains("is used 2 times")));
        CatalogBuilder::new()
            .builtin()
            .overlay("f.yaml".into(), imp.overlay_yaml)
            .build()
            .unwrap();
    }
}

fn err(text: &str) -> demarc_exchange::ExchangeError {
    import("bad.json", text).expect_err("an error")
}

#[test]
fn bad_input_is_rejected_at_its_place() {
    let e = err("{\n  \"system-security-plan\": {,\n}");
    assert_eq!(e.at, "line 2, column 28");
    assert_eq!(e.file, "bad.json");

    let e = err(r#"{"catalog": {}}"#);
    assert!(
        e.message
            .contains("OSCAL catalog, not a system security plan"),
        "{e}"
    );

    let mut doc = json(&fixture("min_ssp_provider.json"));
    doc["system-security-plan"]["metadata"]["last-modified"] = "yesterday".into();
    let e = err(&doc.to_string());
    assert_eq!(e.at, "$.system-security-plan.metadata.last-modified", "{e}");
    assert!(e.message.contains("1.1.3"), "{e}");

    let mut doc = json(&fixture("min_ssp_provider.json"));
    let bc = &mut doc["system-security-plan"]["control-implementation"]["implemented-requirements"]
        [0]["statements"][0]["by-components"][0];
    bc["component-uuid"] = "00000000-0000-4000-8000-00000000dead".into();
    let e = err(&doc.to_string());
    assert!(e.at.ends_with("by-components[0].component-uuid"), "{e}");
    assert!(
        e.message.contains("dangling reference") && e.message.contains("dead"),
        "{e}"
    );

    let mut doc = json(&fixture("min_ssp_provider.json"));
    let bc = &mut doc["system-security-plan"]["control-implementation"]["implemented-requirements"]
        [0]["statements"][0]["by-components"][0];
    bc["export"]["responsibilities"][0]["provided-uuid"] =
        "00000000-0000-4000-8000-00000000beef".into();
    bc["export"]["provided"][0]["responsible-roles"][0]["role-id"] = "nobody".into();
    let e = err(&doc.to_string());
    assert!(e.message.contains("1 more"), "{e}");

    // A satisfied that points nowhere, with no leveraged authorization it could belong to.
    let mut doc = json(&fixture("min_ssp_customer.json"));
    doc["system-security-plan"]["system-implementation"]
        .as_object_mut()
        .unwrap()
        .remove("leveraged-authorizations");
    let comps = doc["system-security-plan"]["system-implementation"]["components"]
        .as_array_mut()
        .unwrap();
    comps[1]["props"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["name"] != "leveraged-authorization-uuid");
    let e = err(&doc.to_string());
    assert!(
        e.message.contains("declares no leveraged authorization"),
        "{e}"
    );
}

#[test]
fn a_plan_that_neither_exports_nor_leverages_is_refused() {
    let mut doc = json(&fixture("min_ssp_provider.json"));
    let bc = &mut doc["system-security-plan"]["control-implementation"]["implemented-requirements"]
        [0]["statements"][0]["by-components"][0];
    bc.as_object_mut().unwrap().remove("export");
    let e = err(&doc.to_string());
    assert!(e.message.contains("nothing to import"), "{e}");
}
