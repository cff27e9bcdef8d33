//! `demarc ingest inventory`: snapshots written atomically and loaded by later commands.

use assert_cmd::Command;

const FX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ingest/tests/fixtures/");

pub fn estate() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("estate.yaml"),
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme, teams: {ops: {contact: ops@example.com}}}\n  aws: {kind: provider, name: AWS}\nreviews: [{date: 2026-01-01, by: ciso}]\nassets:\n  - {id: web-1, service: aws:ec2, external_id: i-0abc}\n  - {id: orders-db, service: aws:rds, external_id: 'arn:aws:rds:eu-west-1:111122223333:db:orders'}\n",
    )
    .unwrap();
    d
}

pub fn demarc() -> Command {
    Command::cargo_bin("demarc").unwrap()
}

#[test]
fn ingest_writes_a_snapshot_that_check_loads_and_no_snapshot_turns_off() {
    let d = estate();
    let out = demarc()
        .args([
            "ingest",
            "inventory",
            &format!("{FX}tfstate.json"),
            "--as-of",
            "2026-11-23",
            "--format",
            "json",
            "-e",
        ])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["matched_declared"], 1,
        "the RDS instance is the declared orders-db: {v}"
    );
    assert!(
        v["snapshot"]
            .as_str()
            .unwrap()
            .starts_with(".demarc/inventory/2026-11-23T")
    );
    let m = |extra: &[&str]| {
        let o = demarc()
            .args(["matrix", "--as-of", "2026-11-23", "--format", "csv"])
            .args(extra)
            .arg(d.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(
        m(&[]).contains("aws_s3_bucket.logs"),
        "the snapshot is an inventory source"
    );
    assert!(!m(&["--no-snapshot"]).contains("aws_s3_bucket.logs"));
}

#[test]
fn malformed_input_exits_2_and_writes_nothing() {
    let d = estate();
    let scratch = tempfile::tempdir().unwrap();
    let cut = scratch.path().join("cut.json");
    let text = std::fs::read_to_string(format!("{FX}tfplan.json")).unwrap();
    std::fs::write(&cut, &text[..200]).unwrap();
    let out = demarc()
        .args(["ingest", "inventory"])
        .arg(&cut)
        .arg("-e")
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("byte offset"), "{err}");
    assert!(demarc_model_snapshots(d.path()).is_empty());
    let out = demarc()
        .args(["ingest", "inventory", &format!("{FX}unknown.txt"), "-e"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown inventory format"));
}

fn demarc_model_snapshots(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join(".demarc/inventory"))
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "jsonl"))
        .collect()
}
