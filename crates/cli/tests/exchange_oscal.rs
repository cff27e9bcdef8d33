//! `demarc export oscal-*` and `demarc import oscal`, run as a user runs them: the files
//! validate against the NIST OSCAL schemas and their references resolve, the acme SSP names
//! acme's providers as leveraged authorizations, repeated runs are byte-identical, and bad
//! input exits 2 with the file and JSON path, writing nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use demarc_exchange::oscal::{Model, check_references, schema_errors, uuid_for};
use serde_json::Value;

const AS_OF: &str = "2026-11-23";

fn demarc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_demarc"));
    c.env_remove("DEMARC_ESTATE").env_remove("NO_COLOR");
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    root().join("crates/exchange/tests/data/oscal").join(name)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let o = demarc().args(args).current_dir(root()).output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn export(kind: &str, out: &Path) -> Value {
    let r = run(&[
        "export",
        kind,
        "examples/acme",
        "--as-of",
        AS_OF,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn assert_valid(model: Model, doc: &Value) {
    let errs = schema_errors(model, doc, 5);
    assert!(errs.is_empty(), "{errs:?}");
    let refs = check_references(doc, &[]);
    assert!(refs.is_clean(), "{:?}", refs);
}

/// Validates with an independently compiled validator of the shipped schema file.
fn assert_schema_file(schema: &str, doc: &Value) {
    let text = std::fs::read_to_string(
        root()
            .join("crates/exchange/data/oscal-schemas")
            .join(schema),
    )
    .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errs: Vec<String> = v
        .iter_errors(doc)
        .take(3)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect();
    assert!(errs.is_empty(), "{errs:?}");
}

#[test]
fn acme_ssp_validates_and_names_its_providers_as_leveraged_authorizations() {
    let dir = tempfile::tempdir().unwrap();
    let doc = export("oscal-ssp", &dir.path().join("ssp.json"));
    assert_valid(Model::Ssp, &doc);
    assert_schema_file("1.1.3/oscal_ssp_schema.json", &doc);
    let ssp = &doc["system-security-plan"];
    let si = &ssp["system-implementation"];
    let la_parties: Vec<&str> = si["leveraged-authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["party-uuid"].as_str().unwrap())
        .collect();
    for p in ["aws", "microsoft", "google", "salesforce", "github"] {
        assert!(
            la_parties.contains(&uuid_for(&["party", p]).as_str()),
            "{p}"
        );
    }
    // PayFlow's SOC 2 lapsed on 2026-09-30: only its PCI DSS attestation is leveraged.
    let payflow: Vec<&Value> = si["leveraged-authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["party-uuid"] == uuid_for(&["party", "payflow"]).as_str())
        .collect();
    assert_eq!(payflow.len(), 1);
    assert!(
        payflow[0]["title"]
            .as_str()
            .unwrap()
            .contains("Payment Card")
    );
    // One component per provider service, the MSSP and each customer team.
    let titles: Vec<&str> = si["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    for t in [
        "(aws:rds)",
        "(saas:m365)",
        "ShieldCo Managed Security",
        "Acme Retail Ltd / Database Engineering",
    ] {
        assert!(titles.iter().any(|x| x.contains(t)), "{t}: {titles:?}");
    }
    assert!(!si["users"].as_array().unwrap().is_empty());
    // Inherited entries point at the provider's provided entry for that service and control.
    let rds = uuid_for(&["component", "acme-retail", "service", "aws:rds"]);
    let mut n = 0;
    for ir in ssp["control-implementation"]["implemented-requirements"]
        .as_array()
        .unwrap()
    {
        for bc in ir["by-components"].as_array().unwrap() {
            if bc["component-uuid"] == rds.as_str() {
                for i in bc["inherited"].as_array().into_iter().flatten() {
                    let want = uuid_for(&[
                        "provided",
                        "aws",
                        "aws:rds",
                        ir["control-id"].as_str().unwrap(),
                    ]);
                    assert_eq!(i["provided-uuid"], want.as_str());
                    n += 1;
                }
            }
        }
    }
    assert!(n > 0);
}

#[test]
fn exports_are_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["oscal-ssp", "oscal-component", "oscal-mapping"] {
        let a = dir.path().join(format!("{kind}-a.json"));
        let b = dir.path().join(format!("{kind}-b.json"));
        export(kind, &a);
        export(kind, &b);
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{kind}"
        );
    }
}

#[test]
fn component_definition_and_mapping_validate() {
    let dir = tempfile::tempdir().unwrap();
    let comp = export("oscal-component", &dir.path().join("c.json"));
    assert_valid(Model::Component, &comp);
    assert_schema_file("1.1.3/oscal_component_schema.json", &comp);
    let map = export("oscal-mapping", &dir.path().join("m.json"));
    assert_valid(Model::Mapping, &map);
    assert_schema_file("1.2.3/oscal_mapping_schema.json", &map);
}

#[test]
fn acme_ssp_round_trips_through_import() {
    let dir = tempfile::tempdir().unwrap();
    let ssp = dir.path().join("ssp.json");
    let doc = export("oscal-ssp", &ssp);
    let out = dir.path().join("overlay.yaml");
    let r = run(&[
        "import",
        "oscal",
        ssp.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["kind"], "leveraging");
    let count = |key: &str| -> usize {
        doc["system-security-plan"]["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|ir| ir["by-components"].as_array().unwrap())
            .map(|bc| bc[key].as_array().map_or(0, Vec::len))
            .sum()
    };
    assert_eq!(s["inherited"], count("inherited"));
    assert_eq!(s["satisfied"], count("satisfied"));
    assert_eq!(s["requirements"], 323);
    let per_la: u64 = s["leveraged_authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["inherited"].as_u64().unwrap())
        .sum();
    assert_eq!(per_la as usize, count("inherited"));
    // A leveraging SSP is reported, not turned into an overlay.
    assert!(!out.exists());
}

#[test]
fn leveraged_ssp_becomes_an_overlay_an_estate_can_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("overlay.yaml");
    let r = run(&[
        "import",
        "oscal",
        fixture("min_ssp_provider.json").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("kind: \"leveraged\""), "{}", r.stdout);
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(
        yaml.contains("id: example-cloud-inc:example-cloud-iaas"),
        "{yaml}"
    );
    // An estate on the imported service resolves against the overlay.
    let est = tempfile::tempdir().unwrap();
    std::fs::write(
        est.path().join("estate.yaml"),
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n  example-cloud-inc: {kind: provider, name: Example Cloud Inc.}\nassets:\n  - {id: vm1, service: \"example-cloud-inc:example-cloud-iaas\"}\n",
    )
    .unwrap();
    let r = run(&[
        "who",
        "configure",
        "vm1",
        "--control",
        "joiner-mover-leaver",
        "--estate",
        est.path().to_str().unwrap(),
        "--catalog",
        dir.path().to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("example-cloud-inc"), "{}", r.stdout);
}

#[test]
fn leveraging_ssp_reads_the_leveraged_ssp_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("overlay.yaml");
    let r = run(&[
        "import",
        "oscal",
        fixture("min_ssp_customer.json").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("reading the leveraged SSP"),
        "{}",
        r.stderr
    );
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["external_references"], 0);
    assert_eq!(
        s["leveraged_authorizations"][0]["controls"]["ac-2"]["inherited"],
        1
    );
    assert!(!out.exists());
}

#[test]
fn shared_examples_import() {
    let ex = root().join("../shared/oscal/examples");
    if !ex.is_dir() {
        eprintln!("skipped: {} is absent", ex.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.yaml");
    let r = run(&[
        "import",
        "oscal",
        ex.join("oscal_leveraging-example_ssp.json")
            .to_str()
            .unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("warning: $.system-security-plan.control-implementation.implemented-requirements[0].statements[0].by-components[1].satisfied[0].responsibility-uuid"),
        "{}",
        r.stdout
    );
    let r = run(&[
        "import",
        "oscal",
        ex.join("FedRAMP-SSP-OSCAL-Template.json").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.exists());
}

fn refused(name: &str, text: &str, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("overlay.yaml");
    let r = run(&[
        "import",
        "oscal",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(input.to_str().unwrap()), "{}", r.stderr);
    for e in expect {
        assert!(r.stderr.contains(e), "{e}: {}", r.stderr);
    }
    assert!(!out.exists(), "{name}: the overlay was written");
}

#[test]
fn bad_input_exits_2_names_the_place_and_writes_nothing() {
    refused(
        "broken.json",
        "{\n  \"system-security-plan\": [\n",
        &["line 3, column 0", "not valid JSON"],
    );
    refused(
        "catalog.json",
        r#"{"catalog": {"uuid": "x"}}"#,
        &["OSCAL catalog, not a system security plan"],
    );
    refused(
        "other.json",
        r#"{"hello": 1}"#,
        &["no `system-security-plan`", "`hello`"],
    );

    let provider = std::fs::read_to_string(fixture("min_ssp_provider.json")).unwrap();
    let mut doc: Value = serde_json::from_str(&provider).unwrap();
    doc["system-security-plan"]["system-characteristics"]["status"]["state"] = "sunny".into();
    refused(
        "schema.json",
        &doc.to_string(),
        &[
            "$.system-security-plan.system-characteristics.status.state",
            "OSCAL 1.1.3 SSP schema",
        ],
    );

    let mut doc: Value = serde_json::from_str(&provider).unwrap();
    doc["system-security-plan"]["control-implementation"]["implemented-requirements"][0]["statements"]
        [0]["by-components"][0]["export"]["provided"][0]["responsible-roles"][0]["party-uuids"]
        [0] = "00000000-0000-4000-8000-0000000000ff".into();
    refused(
        "dangling.json",
        &doc.to_string(),
        &[
            "dangling reference",
            "party-uuids[0]",
            "00000000-0000-4000-8000-0000000000ff",
        ],
    );
}

#[test]
fn import_names_the_provider_and_service_as_asked_and_refuses_an_unknown_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("overlay.yaml");
    let input = fixture("min_ssp_provider.json");
    let r = run(&[
        "import",
        "oscal",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--provider",
        "exco",
        "--provider-name",
        "ExCo Cloud",
        "--service",
        "exco:iaas",
        "--service-name",
        "ExCo IaaS",
        "--model",
        "iaas",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(yaml.starts_with("# Generated by `demarc import`"), "{yaml}");
    assert!(
        yaml.contains("provider: exco") && yaml.contains("id: exco:iaas"),
        "{yaml}"
    );
    assert!(
        yaml.contains("name: ExCo IaaS") && yaml.contains("model: iaas"),
        "{yaml}"
    );
    let cat = demarc_catalog::CatalogBuilder::new()
        .builtin()
        .overlay(out.clone(), yaml)
        .build()
        .unwrap();
    assert_eq!(cat.service("exco:iaas").unwrap().provider, "exco");

    let bad = dir.path().join("bad.yaml");
    let r = run(&[
        "import",
        "oscal",
        input.to_str().unwrap(),
        "-o",
        bad.to_str().unwrap(),
        "--model",
        "iasa",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("does not load") && r.stderr.contains("iasa"),
        "{}",
        r.stderr
    );
    assert!(!bad.exists());
}

#[test]
fn ssp_baseline_sets_the_requirements_and_the_impact_level() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ssp-low.json");
    let r = run(&[
        "export",
        "oscal-ssp",
        "examples/acme",
        "--baseline",
        "low",
        "--as-of",
        AS_OF,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_valid(Model::Ssp, &doc);
    let ssp = &doc["system-security-plan"];
    assert_eq!(
        ssp["control-implementation"]["implemented-requirements"]
            .as_array()
            .unwrap()
            .len(),
        156
    );
    assert_eq!(
        ssp["system-characteristics"]["security-sensitivity-level"],
        "fips-199-low"
    );
    let bad = dir.path().join("x.json");
    let r = run(&[
        "export",
        "oscal-ssp",
        "examples/acme",
        "--baseline",
        "privacy",
        "--as-of",
        AS_OF,
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("li-saas"), "{}", r.stderr);
    assert!(!bad.exists());
}
