//! `demarc drift`: undeclared, missing, unmapped, changed and new-service drift.

#[path = "ingest_inventory.rs"]
#[allow(dead_code)]
mod common;

use common::{demarc, estate};

const FX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ingest/tests/fixtures/");

#[test]
fn drift_reports_each_kind_and_exits_1() {
    let d = estate();
    for (file, date) in [("tfstate.json", "2026-11-01"), ("k8s.json", "2026-11-23")] {
        let o = demarc()
            .args([
                "ingest",
                "inventory",
                &format!("{FX}{file}"),
                "--as-of",
                date,
                "-e",
            ])
            .arg(d.path())
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let out = demarc()
        .args(["drift", "--as-of", "2026-11-23", "--format", "json"])
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
    let codes: Vec<&str> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    for c in ["DM021", "DM022", "DM023", "DM025"] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
    assert!(v["previous"].is_string());
}
