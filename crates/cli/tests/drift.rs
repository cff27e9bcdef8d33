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

/// The review-cadence check: `check` says a review is due when discovery brings a service
/// nobody has reviewed, and stops saying it once a review dated after it is recorded.
#[test]
fn check_treats_a_new_service_as_a_review_trigger() {
    let d = estate();
    let o = demarc()
        .args(["ingest", "inventory", &format!("{FX}k8s.json")])
        .args(["--as-of", "2026-11-23", "-e"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let gaps = |extra: &[&str]| -> Vec<serde_json::Value> {
        let out = demarc()
            .args(["check", "--as-of", "2026-11-23", "--format", "json"])
            .args(extra)
            .arg(d.path())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        v["gaps"].as_array().unwrap().clone()
    };
    let got = gaps(&[]);
    let new: Vec<_> = got.iter().filter(|g| g["code"] == "DM025").collect();
    assert!(!new.is_empty(), "DM025 in {got:?}");
    assert!(
        new.iter()
            .all(|g| g["title"].as_str().unwrap().contains("review")),
        "{new:?}"
    );
    // Only the review trigger: the other drift codes stay `demarc drift`'s.
    assert!(
        !got.iter()
            .any(|g| ["DM021", "DM022", "DM023", "DM024"].contains(&g["code"].as_str().unwrap()))
    );
    assert!(
        !gaps(&["--no-snapshot"])
            .iter()
            .any(|g| g["code"] == "DM025")
    );
    // A review after the service was first seen clears it.
    let root = d.path().join("estate.yaml");
    let text = std::fs::read_to_string(&root).unwrap().replace(
        "reviews: [{date: 2026-01-01, by: ciso}]",
        "reviews: [{date: 2026-11-23, by: ciso}]",
    );
    std::fs::write(&root, text).unwrap();
    assert!(!gaps(&[]).iter().any(|g| g["code"] == "DM025"));
}
