//! `demarc drill`: tabletop exercises walked through the acme example, with assertions on what
//! the estate really says (its S3/Blob buckets, ShieldCo's monitoring, the unassigned
//! storage-access-logging cells, the untagged batch-01 nobody patches, PayFlow's lapsed SOC 2).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn acme() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme")
}

fn drill(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .arg("drill")
        .args(args)
        .arg("-e")
        .arg(acme())
        .args(["--as-of", "2026-11-23"])
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn drill_json(scenario: &str) -> Value {
    let (code, out, err) = drill(&[scenario, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["schema"], "demarc.drill/v1");
    v
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

fn duty<'a>(list: &'a Value, control: &str, duty: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|l| l["control"] == control && l["duty"] == duty)
        .unwrap_or_else(|| panic!("no {control} {duty} line"))
}

#[test]
fn public_bucket_lists_the_buckets_who_watches_their_logs_and_the_unowned_logging() {
    let d = drill_json("public-bucket");
    let assets: Vec<&str> = d["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        assets,
        [
            "cloudtrail-archive",
            "marketing-assets",
            "order-exports",
            "product-images"
        ]
    );
    // ShieldCo monitors storage access logs on every bucket, under its contract.
    let mon = duty(&d["detect"], "storage-access-logging", "monitor");
    let owners = mon["owners"].as_array().unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(ids(&owners[0]["who"]), ["shieldco"]);
    assert!(
        owners[0]["basis"]
            .as_str()
            .unwrap()
            .contains("contracts.yaml:")
    );
    // Nobody is named to turn storage access logging on: the acme DM001.
    let log = d["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["control"] == "storage-access-logging")
        .unwrap();
    let enabled = &log["enabled_by"]["owners"][0];
    assert_eq!(log["enabled_by"]["duty"], "configure");
    assert_eq!(enabled["unassigned"], true);
    assert_eq!(ids(&enabled["assets"]).len(), 4);
    let gaps: Vec<&str> = d["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert!(gaps.contains(&"DM001:storage-access-logging"), "{gaps:?}");
    // The call list starts with ShieldCo and its 1h SLA, ends with the accountable customer.
    let calls = d["calls"].as_array().unwrap();
    assert_eq!(calls[0]["party"], "shieldco");
    assert_eq!(calls[0]["sla"], "1h");
    assert!(
        calls[0]["sla_set_by"]
            .as_str()
            .unwrap()
            .contains("shieldco-msa")
    );
    assert_eq!(calls.last().unwrap()["reason"], "accountable");
    // The script is numbered and flags the unowned logging.
    let injects = d["injects"].as_array().unwrap();
    assert_eq!(injects[0]["number"], 1);
    assert!(
        injects
            .iter()
            .any(|i| i["findings"].as_array().unwrap().iter().any(|f| f
                .as_str()
                .unwrap()
                .contains("nobody is named for storage-access-logging configure")))
    );
}

#[test]
fn vm_unpatched_finds_the_untagged_batch_host_nobody_patches() {
    let d = drill_json("vm-unpatched");
    let assets: Vec<&str> = d["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        assets,
        [
            "app-server-01",
            "app-server-02",
            "bastion-01",
            "batch-01",
            "build-runner-01"
        ]
    );
    let patch = duty(&d["cause"], "os-patching", "patch");
    let unassigned: Vec<&str> = patch["owners"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["unassigned"] == true)
        .flat_map(|o| ids(&o["assets"]))
        .collect();
    assert_eq!(unassigned, ["batch-01"]);
    // ShieldCo patches the servers it is tagged for.
    assert!(patch["owners"].as_array().unwrap().iter().any(|o| {
        ids(&o["who"]).contains(&"shieldco") && ids(&o["assets"]).contains(&"app-server-01")
    }));
    assert!(
        d["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["key"] == "DM001:os-patching")
    );
    assert!(
        d["logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["control"] == "network-flow-logging")
    );
}

#[test]
fn saas_leaver_flags_the_lapsed_attestation_and_providers_without_contacts() {
    let d = drill_json("saas-leaver");
    let assets: Vec<&str> = d["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(assets, ["crm", "office", "payment-gateway", "source-code"]);
    let payflow = d["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "payflow")
        .expect("PayFlow is a provider to engage");
    assert_eq!(payflow["attestation_lapsed"][0]["framework"], "soc2");
    assert!(
        d["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["key"] == "DM006:payflow:soc2")
    );
    let review = duty(&d["cause"], "access-review", "monitor");
    assert!(
        review["owners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["unassigned"] == true && ids(&o["assets"]).contains(&"crm"))
    );
}

#[test]
fn provider_breach_must_engage_every_provider_and_names_how() {
    let d = drill_json("provider-breach");
    let aws = d["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "aws")
        .unwrap();
    assert_eq!(
        aws["must_engage"][0],
        "the incident is on the provider's side"
    );
    assert_eq!(aws["contact"], "AWS Enterprise Support");
    // No exposed asset is self-run: the on-prem ERP is not in a provider breach.
    assert!(
        !d["assets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "legacy-erp")
    );
}

#[test]
fn markdown_and_html_scripts_carry_the_same_content() {
    let (code, md, _) = drill(&["public-bucket"]);
    assert_eq!(code, 0);
    assert!(md.starts_with("# Tabletop drill: A storage bucket was left public"));
    assert!(md.contains("### 1. The scenario"));
    assert!(md.contains("storage-access-logging monitor: shieldco (third-party)"));
    assert!(md.contains("⚠ nobody is named for storage-access-logging configure"));
    let (code, html, _) = drill(&["public-bucket", "--format", "html"]);
    assert_eq!(code, 0);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("<link"));
    assert!(html.contains("<h3>1. The scenario</h3>"));
    assert!(html.contains("storage-access-logging monitor: shieldco (third-party)"));
    assert!(html.contains("<code>order-exports</code>"));
}

#[test]
fn scenario_files_are_read_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.yaml");
    std::fs::write(
        &f,
        "id: pii-db\ntitle: A PII database is dumped\nnarrative: Someone dumped it.\ntargets: {data: [pii], models: [dbaas]}\ndetect: [{control: database-users, duty: monitor}]\nrespond: [{control: incident-response, duty: respond}]\nlogs: [audit-logging]\nquestions: [Who rotates the credentials?]\n",
    )
    .unwrap();
    let (code, out, err) = drill(&["--scenario", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let assets: Vec<&str> = v["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert!(
        assets.contains(&"orders-db") && assets.contains(&"crm-sync-db"),
        "{assets:?}"
    );
    assert!(!assets.contains(&"inventory-db"));
    assert!(
        v["injects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["prompt"] == "Who rotates the credentials?")
    );

    std::fs::write(
        &f,
        "id: x\ntitle: x\ndetect: [{control: storage-acess-logging, duty: monitor}]\n",
    )
    .unwrap();
    let (code, _, err) = drill(&["--scenario", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean `storage-access-logging`"),
        "{err}"
    );
    std::fs::write(&f, "id: x\ntitle: x\ntargetz: {}\n").unwrap();
    let (code, _, err) = drill(&["--scenario", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("targetz"), "{err}");
    let (code, _, err) = drill(&["public-bukcet"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `public-bucket`"), "{err}");
    let (code, _, err) = drill(&["public-bucket", "--format", "sarif"]);
    assert_eq!(code, 2);
    assert!(err.contains("demarc check"), "{err}");
}

#[test]
fn drill_scenario_schema_is_printed() {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["schema", "drill-scenario"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["title"], "DrillScenarioV1");
}
