//! `check --baseline` and risk acceptances, run the way CI runs them (issue 7, item 11), and
//! one entry per fix in the table, CSV and Markdown views (item 10).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const ESTATE: &str = r#"version: 1
estate: t
customer: acme
parties:
  acme: {kind: customer, name: Acme, teams: {platform: {}}}
  aws: {kind: provider, name: AWS, attestations: [{framework: soc2, period_end: 2026-06-30}]}
assets:
  - {id: vm-1, service: aws:ec2, env: prod}
reviews: [{date: 2026-11-01, by: ciso}]
"#;

fn demarc(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .args(["check", "--as-of", "2026-11-23", "-e"])
        .arg(dir.join("estate.yaml"))
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("estate.yaml"), text).unwrap();
}

#[test]
fn with_a_baseline_the_gate_fails_only_on_new_gaps_and_says_which_are_new() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ESTATE);
    let (code, before, _) = demarc(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "the estate has gaps");
    let base = dir.path().join("baseline.json");
    std::fs::write(&base, &before).unwrap();
    let base = base.to_str().unwrap();

    // Nothing changed: every gap is known, the gate passes.
    let (code, out, err) = demarc(dir.path(), &["--format", "json", "--baseline", base]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["new"] == false)
    );
    assert_eq!(v["summary"]["new"], 0);

    // A new asset on an unknown service is a new gap: the gate fails on it alone.
    write(
        dir.path(),
        &ESTATE.replace(
            "reviews:",
            "  - {id: box, service: mystery-box, env: dev}\nreviews:",
        ),
    );
    let (code, out, _) = demarc(dir.path(), &["--format", "json", "--baseline", base]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let new: Vec<&str> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["new"] == true)
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(new, ["DM013:mystery-box"]);
    let (_, table, _) = demarc(dir.path(), &["--baseline", base, "--format", "csv"]);
    assert!(
        table.contains("[new] unknown service type `mystery-box`"),
        "{table}"
    );
    assert!(table.contains("[known] "), "{table}");

    // A file that is not a check output is a usage error, not a silent pass.
    std::fs::write(dir.path().join("bad.json"), "{\"x\": 1}").unwrap();
    let bad = dir.path().join("bad.json");
    let (code, _, err) = demarc(dir.path(), &["--baseline", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("has no `gaps` list"), "{err}");
}

#[test]
fn accepted_gaps_are_shown_with_approval_in_every_format_and_do_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &format!(
            "{ESTATE}accepted:\n  - {{gap: \"DM001:*\", reason: host retires in March, approved_by: ciso, expires: 2027-03-31}}\n  - {{gap: \"DM010:*\", reason: evidence in the GRC tool, approved_by: ciso, expires: 2027-03-31}}\n"
        ),
    );
    let (code, out, err) = demarc(dir.path(), &["--format", "json"]);
    assert_eq!(code, 0, "every gap is accepted: {err}\n{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let g = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "DM001:os-patching")
        .unwrap();
    assert_eq!(g["accepted"]["approved_by"], "ciso");
    assert_eq!(g["accepted"]["reason"], "host retires in March");
    assert_eq!(g["accepted"]["expires"], "2027-03-31");
    assert!(
        g["group"]
            .as_str()
            .unwrap()
            .starts_with("group:DM001:acme:")
    );
    assert_eq!(v["summary"]["gaps"], 0);
    for f in ["csv", "md", "table"] {
        let (_, out, _) = demarc(dir.path(), &["--format", f]);
        assert!(
            out.contains("accepted until 2027-03-31, approved by ciso: host retires in March"),
            "{f}: {out}"
        );
    }
    // After the expiry date the gaps fail the gate again.
    let (code, _, _) = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["check", "--as-of", "2027-04-01", "-e"])
        .arg(dir.path().join("estate.yaml"))
        .output()
        .map(|o| (o.status.code().unwrap(), (), ()))
        .unwrap();
    assert_eq!(code, 1);
}

#[test]
fn the_table_shows_one_entry_per_fix_naming_every_control() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ESTATE);
    let (_, csv, _) = demarc(dir.path(), &["--format", "csv"]);
    let dm001 = csv.lines().filter(|l| l.contains("DM001")).count();
    assert_eq!(dm001, 1, "{csv}");
    let (_, json, _) = demarc(dir.path(), &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let members = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["code"] == "DM001")
        .count();
    assert!(members > 5, "JSON keeps one gap per key: {members}");
    let line = csv.lines().find(|l| l.contains("DM001")).unwrap();
    assert!(line.contains(&format!("{members} controls")), "{line}");
}
