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
