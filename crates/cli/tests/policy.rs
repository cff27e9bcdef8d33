//! `demarc policy`: built-in Rego rules, user rules, and broken rules.

#[path = "ingest_inventory.rs"]
#[allow(dead_code)]
mod common;

use common::{demarc, estate};

const FX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ingest/tests/fixtures/");

fn ingested() -> tempfile::TempDir {
    let d = estate();
    let o = demarc()
        .args(["ingest", "inventory", "--as-of", "2026-11-23"])
        .args(
            [
                "tfstate.json",
                "tfplan.json",
                "awsconfig.json",
                "select.json",
                "arg.json",
                "custodian/resources.json",
            ]
            .map(|f| format!("{FX}{f}")),
        )
        .arg("-e")
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    d
}

#[test]
fn builtin_rules_find_each_misconfiguration() {
    let d = ingested();
    let out = demarc()
        .args(["policy", "--format", "json"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, String)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().into(),
                r["resource"].as_str().unwrap().into(),
            )
        })
        .collect();
    let has = |rule: &str, res: &str| got.iter().any(|(a, b)| a == rule && b.contains(res));
    assert!(has("DMP001", "aws_s3_bucket.logs"), "{got:?}");
    assert!(has("DMP001", "acmesa"));
    assert!(has("DMP002", "aws_db_instance.main"));
    assert!(has("DMP002", "db:legacy"));
    assert!(has("DMP003", "google_storage_bucket.b"));
    assert!(has("DMP004", "user/alice"));
    assert!(has("DMP005", "user/alice"));
    assert!(has("DMP006", "aws_kms_key.k"));
    assert!(has("DMP007", "aws_security_group.ssh"));
    assert!(has("DMP007", "rdp"));
    assert!(has("DMP007", "sg-1"));
    assert!(has("DMP008", "aws_db_instance.main"));
    assert!(has("DMP009", "aws_dynamodb_table.t"));
    assert!(has("DMP010", "cluster/prod"));
    let db = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["rule"] == "DMP002" && r["resource"].as_str().unwrap().contains("aws_db_instance")
        })
        .unwrap();
    assert_eq!(db["asset"], "orders-db", "attributed to the declared asset");
    assert_eq!(db["control"], "encryption-at-rest");
}

#[test]
fn user_rules_and_syntax_errors() {
    let d = ingested();
    let rules = d.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("tags.rego"),
        "package acme.tags\nimport rego.v1\nmetadata := {\"id\": \"ACME1\", \"title\": \"no team tag\", \"control\": \"asset-inventory\", \"severity\": \"low\"}\ndeny contains {\"resource\": r.id, \"message\": \"no team tag\"} if {\n  some r in input.resources\n  r.type == \"aws_s3_bucket\"\n  not r.tags.team\n}\n",
    )
    .unwrap();
    let out = demarc()
        .args(["policy", "--no-builtin", "--format", "json", "--rules"])
        .arg(&rules)
        .arg(d.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["rule"], "ACME1", "{v}");
    std::fs::write(
        rules.join("bad.rego"),
        "package acme.bad\nimport rego.v1\n\ndeny contains x if {\n  x := \n}\n",
    )
    .unwrap();
    let out = demarc()
        .args(["policy", "--rules"])
        .arg(&rules)
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.rego") && err.contains(":5"), "{err}");
}

/// The estate of [`ingested`] with a DBA firm under contract for the orders database's
/// configuration (7-day SLA) and the ops team named for everything else of the customer's.
fn contracted() -> tempfile::TempDir {
    let d = ingested();
    let root = d.path().join("estate.yaml");
    let mut text = std::fs::read_to_string(&root).unwrap();
    text = text.replace(
        "  aws: {kind: provider, name: AWS}\n",
        "  aws: {kind: provider, name: AWS}\n  dbfirm: {kind: mssp, name: DB Firm, contact: noc@dbfirm.example}\n",
    );
    text.push_str(
        "assignments:\n  - {scope: {service: [\"aws:*\", \"azure:*\", \"gcp:*\"]}, duties: [configure], to: acme/ops}\ncontracts:\n  - id: dbfirm-sow\n    party: dbfirm\n    effective: 2026-01-01\n    expires: 2027-12-31\n    clauses:\n      - id: \"2.1\"\n        text: Configuration of the orders database\n        scope: {assets: [orders-db]}\n        duties: [configure]\n        sla: {configure: 7d}\n",
    );
    std::fs::write(&root, text).unwrap();
    d
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[test]
fn policy_results_are_attributed_like_findings() {
    let d = contracted();
    let out = demarc()
        .args(["policy", "--format", "json", "--as-of", "2026-11-23"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    let results = v["results"].as_array().unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len(), "one finding per result");
    // The unencrypted orders database: the contract's firm holds `configure`, 7 days.
    let i = results
        .iter()
        .position(|r| r["rule"] == "DMP002" && r["asset"] == "orders-db")
        .unwrap();
    let f = &findings[i];
    assert_eq!(f["control"], "encryption-at-rest");
    assert_eq!(f["control_via"], "rule", "the rule names its control");
    assert_eq!(f["duty"], "configure");
    assert_eq!(f["route"], "responsible");
    assert_eq!(f["owner"], "dbfirm", "{f}");
    assert_eq!(f["sla"], "1w", "the contract's 7d");
    assert_eq!(f["due"], "2026-11-30");
    assert_eq!(f["format"], "rego");
    assert_eq!(f["tool"], "demarc-policy");
    // A public bucket nobody contracted: the customer's ops team.
    let i = results
        .iter()
        .position(|r| r["rule"] == "DMP001" && r["resource"] == "aws_s3_bucket.logs")
        .unwrap();
    assert_eq!(findings[i]["route"], "responsible");
    assert_eq!(findings[i]["owner"], "acme/ops", "{}", findings[i]);
}

#[test]
fn ingest_findings_policy_stores_rule_results_in_the_snapshot() {
    let d = contracted();
    let ingest = |date: &str| {
        demarc()
            .args(["ingest", "findings", "--policy", "--format", "json"])
            .args(["--as-of", date, "-e"])
            .arg(d.path())
            .output()
            .unwrap()
    };
    let out = ingest("2026-11-23");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let src = &v["snapshot"]["sources"][0];
    assert_eq!(src["format"], "rego");
    assert!(src["path"].as_str().unwrap().starts_with("demarc policy"));
    let stored = src["findings"].as_u64().unwrap();
    assert!(stored >= 14, "{src}");

    // A week later the same results are found again: they keep the day first seen, so the
    // firm's 7-day SLA has run out.
    assert_eq!(ingest("2026-12-01").status.code(), Some(0));
    let out = demarc()
        .args(["findings", "--format", "json", "--as-of", "2026-12-01"])
        .arg(d.path())
        .output()
        .unwrap();
    let v = json(&out);
    let list = v["findings"].as_array().unwrap();
    assert_eq!(list.len() as u64, stored);
    let db = list
        .iter()
        .find(|f| f["check"] == "DMP002" && f["asset"] == "orders-db")
        .unwrap();
    assert_eq!(db["first_seen"], "2026-11-23");
    assert_eq!(db["owner"], "dbfirm");
    assert_eq!(db["overdue"], true, "{db}");
    assert_eq!(db["days_overdue"], 1);
}

#[test]
fn ingest_findings_policy_without_inventory_writes_nothing() {
    let d = common::estate();
    let out = demarc()
        .args(["ingest", "findings", "--policy", "-e"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("inventory"), "{err}");
    assert!(!d.path().join(".demarc/findings").exists());
    // And a broken rule stops the run before anything is read.
    let rules = d.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("x.rego"),
        "package x\nimport rego.v1\ndeny contains 1 if {\n",
    )
    .unwrap();
    let out = demarc()
        .args(["ingest", "findings", "--rules"])
        .arg(&rules)
        .arg("-e")
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.rego"));
}
