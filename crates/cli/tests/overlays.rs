//! The catalog is extended at run time: overlay directories given with `--catalog` or in the
//! estate's `settings.catalog`, and the estate's own services in the full service schema.

use std::path::Path;
use std::process::Command;

fn demarc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .current_dir(dir)
        .env_remove("DEMARC_ESTATE")
        .args(args)
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const OVERLAY: &str = r#"version: 1
provider: acme-cloud
provider_name: Acme Cloud
services:
  - id: acme:vm
    name: Acme VM
    model: iaas
    source: {title: Acme Cloud shared responsibility, url: "https://cloud.acme.example/srm", checked: 2026-11-01}
    controls:
      os-patching: {owner: provider, provider: Acme Cloud patches the guest OS nightly.}
"#;

fn estate(settings: &str) -> String {
    format!(
        r#"version: 1
estate: overlay-demo
customer: acme
{settings}parties:
  acme: {{kind: customer, name: Acme}}
  acme-cloud: {{kind: provider, name: Acme Cloud}}
services:
  acme:db:
    model: dbaas
    name: Acme managed database
    provider: acme-cloud
    source: {{title: Acme DB security guide, url: "https://cloud.acme.example/db-security", checked: 2026-11-01}}
    controls:
      backup: {{owner: provider, provider: Acme Cloud takes and keeps daily backups.}}
assets:
  - {{id: vm1, service: acme:vm}}
  - {{id: db1, service: acme:db}}
"#
    )
}

fn explain(dir: &Path, args: &[&str]) -> serde_json::Value {
    let (code, out, err) = demarc(dir, args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn an_overlay_service_resolves_like_a_builtin_one_from_flag_or_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("catalog.d")).unwrap();
    std::fs::write(dir.path().join("catalog.d/acme-cloud.yaml"), OVERLAY).unwrap();
    std::fs::write(dir.path().join("estate.yaml"), estate("")).unwrap();
    let args = [
        "explain",
        "vm1",
        "os-patching",
        "patch",
        "-e",
        "estate.yaml",
        "--as-of",
        "2026-11-23",
        "-f",
        "json",
    ];

    // Without the overlay the service is unknown: the customer is assumed responsible.
    let unknown = explain(dir.path(), &args);
    assert_eq!(unknown["assumed"], true, "{unknown}");
    assert_eq!(unknown["basis"][0]["kind"], "default");

    let cell = explain(
        dir.path(),
        &[&args[..], &["--catalog", "catalog.d"]].concat(),
    );
    assert_eq!(cell["ownership"], "csp-owned");
    assert_eq!(cell["responsible"][0]["party"], "acme-cloud");
    assert_eq!(cell["basis"][0]["kind"], "service-catalog");
    assert_eq!(cell["basis"][0]["url"], "https://cloud.acme.example/srm");

    // The same through the estate's settings, relative to the estate file.
    std::fs::write(
        dir.path().join("estate.yaml"),
        estate("settings:\n  catalog: [catalog.d]\n"),
    )
    .unwrap();
    let cell2 = explain(dir.path(), &args);
    assert_eq!(cell2, cell);
}

#[test]
fn an_estate_service_uses_the_full_service_schema_and_cites_its_own_definition() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("catalog.d")).unwrap();
    std::fs::write(dir.path().join("catalog.d/acme-cloud.yaml"), OVERLAY).unwrap();
    std::fs::write(
        dir.path().join("estate.yaml"),
        estate("settings:\n  catalog: [catalog.d]\n"),
    )
    .unwrap();
    let cell = explain(
        dir.path(),
        &[
            "explain",
            "db1",
            "backup",
            "configure",
            "-e",
            "estate.yaml",
            "--as-of",
            "2026-11-23",
            "-f",
            "json",
        ],
    );
    assert_eq!(cell["ownership"], "csp-owned", "{cell}");
    assert_eq!(cell["responsible"][0]["party"], "acme-cloud");
    assert_eq!(cell["responsible"][0]["declared"], true);
    let b = &cell["basis"][0];
    assert_eq!(b["url"], "https://cloud.acme.example/db-security");
    assert!(b["at"].as_str().unwrap().starts_with("estate.yaml:"), "{b}");
    // A control the service does not speak to falls back to its generic model, and says so.
    let cell = explain(
        dir.path(),
        &[
            "explain",
            "db1",
            "database-users",
            "configure",
            "-e",
            "estate.yaml",
            "--as-of",
            "2026-11-23",
            "-f",
            "json",
        ],
    );
    assert_eq!(cell["basis"][0]["kind"], "generic-model", "{cell}");
}

#[test]
fn a_broken_overlay_is_a_located_input_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("catalog.d")).unwrap();
    std::fs::write(
        dir.path().join("catalog.d/bad.yaml"),
        OVERLAY.replace("os-patching:", "os-patchin:"),
    )
    .unwrap();
    std::fs::write(dir.path().join("estate.yaml"), estate("")).unwrap();
    let (code, out, err) = demarc(
        dir.path(),
        &[
            "check",
            "estate.yaml",
            "--catalog",
            "catalog.d",
            "--as-of",
            "2026-11-23",
        ],
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("bad.yaml:10:"), "{err}");
    assert!(err.contains("os-patching"), "did-you-mean missing: {err}");
    let (code, _, err) = demarc(
        dir.path(),
        &[
            "check",
            "estate.yaml",
            "--catalog",
            "missing.d",
            "--as-of",
            "2026-11-23",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("missing.d"), "{err}");
}

#[test]
fn regulated_data_outside_the_providers_compliance_scope_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("estate.yaml"),
        "version: 1\nestate: clinic\ncustomer: clinic\nparties:\n  clinic: {kind: customer, name: Clinic}\n  aws: {kind: provider, name: AWS}\nassets:\n  - {id: intake-api, service: aws:app-runner, env: prod, data: [phi]}\n  - {id: records, service: aws:s3, env: prod, data: [phi]}\n",
    )
    .unwrap();
    let (code, out, err) = demarc(
        dir.path(),
        &["check", ".", "--format", "json", "--fail-on", "high"],
    );
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let gaps: Vec<&serde_json::Value> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["code"] == "DM017")
        .collect();
    assert_eq!(gaps.len(), 1, "{out}");
    assert_eq!(gaps[0]["key"], "DM017:aws:app-runner:hipaa");
    assert_eq!(gaps[0]["severity"], "high");
    assert_eq!(gaps[0]["assets"], serde_json::json!(["intake-api"]));
    let title = gaps[0]["title"].as_str().unwrap();
    assert!(
        title.contains("HIPAA") && title.contains("2026-11-23"),
        "{title}"
    );
}
