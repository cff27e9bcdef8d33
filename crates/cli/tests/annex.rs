//! `demarc annex` and `demarc incidents` on the acme example: the seeds' stories (the missed
//! VM patch, the bucket without access logging) come out as the map says they should.

use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-11-23";

fn acme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme")
}

fn demarc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(args)
        .args(["--as-of", AS_OF])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = demarc(args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn incidents_tell_the_seeds_stories() {
    let acme = acme();
    let v = json(&["incidents", acme.to_str().unwrap(), "--format", "json"]);
    let list = v["incidents"].as_array().unwrap();
    let by = |id: &str| list.iter().find(|i| i["id"] == id).unwrap().clone();
    let patch = by("INC-2026-004");
    assert_eq!(patch["failure"], "execution");
    assert_eq!(patch["holders"][0]["who"][0], "shieldco");
    assert_eq!(patch["review_open"], false);
    let vm = by("INC-2026-007");
    assert_eq!(vm["failure"], "responsibility");
    assert_eq!(vm["holders"][0]["unassigned"], true);
    assert_eq!(vm["respond"]["met"], false, "1h35m against ShieldCo's 1h");
    assert_eq!(vm["repeats"][0], "INC-2026-004");
    assert_eq!(vm["review_open"], true);
    let bucket = by("INC-2026-011");
    assert_eq!(bucket["failure"], "responsibility");
    assert_eq!(bucket["control"], "storage-access-logging");
    // The open reviews and the repeated duty are gaps.
    let (_, out, _) = demarc(&["check", acme.to_str().unwrap(), "--format", "json"]);
    let check: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = check["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["key"].as_str())
        .collect();
    assert!(keys.contains(&"DM019:incident:INC-2026-007"), "{keys:?}");
    assert!(keys.contains(&"DM019:incident:INC-2026-011"), "{keys:?}");
    assert!(!keys.contains(&"DM019:incident:INC-2026-004"), "{keys:?}");
    assert!(keys.contains(&"DM020:os-patching/patch"), "{keys:?}");
}

#[test]
fn a_bad_incident_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("e.yaml");
    std::fs::write(
        &f,
        "version: 1\nestate: t\ncustomer: acme\nparties: {acme: {kind: customer, name: A}}\nassets: [{id: vm1, service: aws:ec2}]\nincidents:\n  - {id: I1, date: 2026-05-01, assets: [vm2], summary: x, control: os-patchin, duty: patch}\n  - {id: I2, date: 2026-05-01, assets: [vm1], summary: x, control: os-patching, duty: respond, detected: 2026-05-01T10:00Z, responded: 2026-05-01T09:00Z}\nreviews: [{date: 2026-04-01, by: x, incidents: [I2, I3]}]\n",
    )
    .unwrap();
    let (code, _, err) = demarc(&["incidents", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    for want in [
        "unknown asset `vm2`",
        "unknown control `os-patchin`",
        "has no `respond` duty",
        "before it was detected",
        "cannot sign off incident `I2`",
        "unknown incident `I3`",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
}

#[test]
fn annex_marks_what_no_clause_covers_and_compares_and_diffs() {
    let acme = acme();
    let a = acme.to_str().unwrap();
    let v = json(&["annex", a, "--party", "shieldco", "--format", "json"]);
    assert_eq!(v["schema"], "demarc.annex/v1");
    // WAF in production is "done together" by an assignment, not a clause: to be agreed.
    let waf = v["systems"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["duties"].as_array().unwrap().iter())
        .find(|d| d["control"] == "waf" && d["duty"] == "configure")
        .unwrap();
    assert_eq!(waf["to_be_agreed"], true);
    assert!(v["to_be_agreed"].as_u64().unwrap() > 0);
    // The bucket log nobody turns on is shared to ShieldCo from an unnamed source.
    assert!(v["logs"].as_array().unwrap().iter().any(|l| {
        l["log"] == "storage-access-logging"
            && l["from_unassigned"] == true
            && l["assets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == "order-exports")
    }));
    assert_eq!(v["review_cadence"], "90d");
    // The lapsed DBCare clause covers no system.
    let d = json(&["annex", a, "--party", "dbcare", "--format", "json"]);
    assert_eq!(d["contracts"][0]["clauses"][0]["covers_no_system"], true);
    // The signed contract leaves the assignment's WAF share out.
    let c = json(&[
        "annex",
        a,
        "--party",
        "shieldco",
        "--compare",
        "shieldco-msa",
        "--format",
        "json",
    ]);
    assert!(
        c["compare"]["left_out"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["control"] == "waf")
    );
    // A diff against itself is empty; against a narrower old annex it lists what was added.
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let mut narrower = v.clone();
    narrower["systems"].as_array_mut().unwrap().truncate(1);
    std::fs::write(&old, serde_json::to_string(&v).unwrap()).unwrap();
    let same = json(&[
        "annex",
        a,
        "--party",
        "shieldco",
        "--diff",
        old.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(same["changes"].as_array().unwrap().is_empty());
    std::fs::write(&old, serde_json::to_string(&narrower).unwrap()).unwrap();
    let diff = json(&[
        "annex",
        a,
        "--party",
        "shieldco",
        "--diff",
        old.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["change"] == "added")
    );
    assert!(!diff["changes"].as_array().unwrap().is_empty());
    // Unknown parties are refused with a suggestion.
    let (code, _, err) = demarc(&["annex", a, "--party", "shieldc"]);
    assert_eq!(code, 2);
    assert!(err.contains("shieldco"), "{err}");
}
