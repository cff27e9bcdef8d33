//! `demarc compliance`, `demarc evidence` and `demarc audit-pack` on the acme example and on
//! broken input.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn acme() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme")
}

fn demarc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--as-of", "2026-11-23"])
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn acme_str() -> String {
    acme().display().to_string()
}

fn compliance_json(extra: &[&str]) -> Value {
    let a = acme_str();
    let mut args = vec!["compliance", a.as_str(), "-f", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = demarc(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("json")
}

fn schema_of(name: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .args(["schema", name])
        .output()
        .expect("run demarc");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn assert_valid(schema: &str, v: &Value) {
    let s = schema_of(schema);
    let validator = jsonschema::validator_for(&s).unwrap();
    let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn fedramp_moderate_rolls_up_every_requirement_with_its_split() {
    let v = compliance_json(&["-F", "fedramp", "--baseline", "moderate"]);
    assert_eq!(v["schema"], "demarc.compliance/v1");
    assert_valid("compliance", &v);
    assert_eq!(v["framework"]["baseline"]["id"], "moderate");
    let reqs = v["requirements"].as_array().unwrap();
    assert_eq!(reqs.len(), 323);
    let s = &v["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("requirements"),
        n("inherited") + n("shared") + n("customer") + n("not_addressed") + n("not_applicable")
    );
    // Account management: carried by acme's teams and ShieldCo, with parts listed.
    let ac2 = reqs.iter().find(|r| r["id"] == "ac-2").unwrap();
    assert_eq!(ac2["label"], "AC-2");
    assert!(
        ac2["split"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["party"] == "shieldco")
    );
    assert!(ac2["parts"].as_array().unwrap().len() > 5);
    // Physical protection is the providers' on the cloud services, acme's own on the office
    // endpoint fleet: hybrid, mostly inherited.
    let pe3 = reqs.iter().find(|r| r["id"] == "pe-3").unwrap();
    assert_eq!(pe3["origination"], "shared");
    let own = &pe3["ownership"];
    assert!(own["csp-owned"].as_u64().unwrap() > 10 * own["csc-owned"].as_u64().unwrap_or(0));
    assert!(
        pe3["split"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["party"] == "aws" && s["role"] == "provider")
    );
    // ShieldCo's contract ends within the 60-day warning window: what rests on it is at risk.
    assert!(
        reqs.iter().any(
            |r| r["at_risk"].as_array().unwrap().iter().any(|k| k["what"]
                .as_str()
                .unwrap()
                .contains("shieldco-msa")
                && k["date"] == "2027-01-01")
        )
    );
}

#[test]
fn soc2_backing_names_the_attestations_relied_on_and_the_lapsed_one() {
    let v = compliance_json(&["-F", "soc2"]);
    let reqs = v["requirements"].as_array().unwrap();
    let by: Vec<&str> = reqs
        .iter()
        .flat_map(|r| r["attestation"]["by"].as_array().unwrap())
        .map(|b| b.as_str().unwrap())
        .collect();
    assert!(
        by.iter()
            .any(|b| b.starts_with("aws soc2 until 2027-06-30")),
        "{by:?}"
    );
    // Microsoft's report period ended in March; the bridge letter carries it to 2027-06-30.
    assert!(
        by.iter()
            .any(|b| b.starts_with("microsoft soc2 until 2027-06-30")),
        "{by:?}"
    );
    // PayFlow's SOC 2 ran out on 2026-09-30.
    assert!(reqs.iter().any(|r| {
        r["at_risk"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["lapsed"] == true && k["what"].as_str().unwrap().contains("payflow soc2"))
    }));
}

#[test]
fn mine_lists_only_what_the_customer_still_carries() {
    let all = compliance_json(&["-F", "fedramp"]);
    let mine = compliance_json(&["-F", "fedramp", "--mine"]);
    assert_eq!(mine["scope"]["party"], "acme");
    let rows = mine["requirements"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() < all["requirements"].as_array().unwrap().len());
    for r in rows {
        assert!(
            r["split"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["party"] == "acme" || s["party"].as_str().unwrap().starts_with("acme/")),
            "{}",
            r["id"]
        );
    }
    let team = compliance_json(&["-F", "fedramp", "--mine", "acme/dba"]);
    assert!(team["requirements"].as_array().unwrap().len() < rows.len());
    let (code, _, err) = demarc(&[
        "compliance",
        &acme_str(),
        "-F",
        "fedramp",
        "--mine",
        "shieldcoo",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `shieldco`"), "{err}");
}

#[test]
fn every_format_renders_the_same_requirements() {
    let a = acme_str();
    let (code, csv, err) = demarc(&["compliance", &a, "-F", "fedramp", "-f", "csv"]);
    assert_eq!(code, 0, "{err}");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    assert!(
        r.headers()
            .unwrap()
            .iter()
            .any(|h| h == "fedramp_origination")
    );
    assert_eq!(r.records().count(), 323);
    let (_, nd, _) = demarc(&["compliance", &a, "-F", "fedramp", "-f", "ndjson"]);
    let lines: Vec<Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 323);
    assert_valid("requirement", &lines[0]);
    let (_, md, _) = demarc(&["compliance", &a, "-F", "fedramp", "-f", "md"]);
    assert!(md.contains("| AC-2 |"), "{md}");
    let (_, html, _) = demarc(&["compliance", &a, "-F", "fedramp", "-f", "html"]);
    assert!(html.starts_with("<!doctype html>") && html.contains("<svg"));
    assert!(!html.contains("<script"));
    let (_, table, _) = demarc(&["compliance", &a, "-F", "fedramp"]);
    assert!(table.contains("moderate baseline"), "{table}");
}

#[test]
fn cross_view_explains_why_frameworks_differ() {
    let v = compliance_json(&["-F", "all"]);
    assert_eq!(v["schema"], "demarc.compliance-cross/v1");
    assert_valid("compliance-cross", &v);
    let fws: Vec<&str> = v["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["framework"]["id"].as_str().unwrap())
        .collect();
    for f in [
        "nist-800-53",
        "fedramp",
        "fedramp-20x",
        "soc2",
        "iso27001",
        "pci-dss",
        "hipaa",
        "cis-v8",
        "csa-ccm",
    ] {
        assert!(fws.contains(&f), "{f} missing from {fws:?}");
    }
    for f in v["frameworks"].as_array().unwrap() {
        let s = &f["summary"];
        if s["applicable"].as_u64().unwrap() > 0 {
            let sum = s["inherited_pct"].as_f64().unwrap()
                + s["shared_pct"].as_f64().unwrap()
                + s["customer_pct"].as_f64().unwrap();
            assert!((sum - 100.0).abs() < 0.2, "{sum}");
            let work = s["cells_provider_pct"].as_f64().unwrap()
                + s["cells_shared_pct"].as_f64().unwrap()
                + s["cells_customer_pct"].as_f64().unwrap();
            assert!((work - 100.0).abs() < 0.2, "{work}");
        }
        assert!(!f["notes"].as_array().unwrap().is_empty());
    }
}

#[test]
fn fail_under_turns_readiness_into_an_exit_code() {
    let a = acme_str();
    let (code, _, _) = demarc(&[
        "compliance",
        &a,
        "-F",
        "soc2",
        "--fail-under",
        "100",
        "-f",
        "json",
    ]);
    assert_eq!(code, 1);
    let (code, _, _) = demarc(&[
        "compliance",
        &a,
        "-F",
        "soc2",
        "--fail-under",
        "0",
        "-f",
        "json",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn bad_framework_baseline_or_profile_is_a_usage_error_naming_it() {
    let a = acme_str();
    let (code, out, err) = demarc(&["compliance", &a, "-F", "soc-2"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("unknown framework `soc-2`") && err.contains("soc2"),
        "{err}"
    );
    let (code, _, err) = demarc(&["compliance", &a, "-F", "fedramp", "--baseline", "privacy"]);
    assert_eq!(code, 2);
    assert!(err.contains("low, moderate, high, li-saas"), "{err}");
    let (code, _, err) = demarc(&["compliance", &a, "-F", "soc2", "--baseline", "low"]);
    assert_eq!(code, 2);
    assert!(err.contains("soc2 has no baselines"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"profile\": {\"uuid\": \"x\",\n \"imports\": [").unwrap();
    let (code, out, err) = demarc(&[
        "compliance",
        &a,
        "-F",
        "nist-800-53",
        "--profile",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("broken.json") && err.contains("line 2"),
        "{err}"
    );

    let good = dir.path().join("mine.json");
    std::fs::write(
        &good,
        r##"{"profile":{"uuid":"0b5c9a63-3c57-4d6c-9b39-3f6a2e1f4a10","metadata":{"title":"Payments subset","last-modified":"2026-11-01T00:00:00Z","version":"1","oscal-version":"1.1.3"},
        "imports":[{"href":"NIST_SP-800-53_rev5_catalog.json","include-controls":[{"with-ids":["ac-2","sc-7","si-2"]}]}]}}"##,
    )
    .unwrap();
    let v = compliance_json(&["-F", "nist-800-53", "--profile", good.to_str().unwrap()]);
    assert_eq!(v["requirements"].as_array().unwrap().len(), 3);
    assert_eq!(v["framework"]["baseline"]["title"], "Payments subset");
}

/// A copy of acme in a temporary directory, so tests can change its files.
fn acme_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&acme(), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn evidence_register_hashes_files_and_reports_changes() {
    let (code, out, err) = demarc(&["evidence", &acme_str(), "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_valid("evidence", &v);
    let entry = |v: &Value, control: &str| -> Value {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["control"] == control)
            .unwrap()
            .clone()
    };
    // The pen test summary was edited after its hash was recorded.
    let pt = entry(&v, "penetration-testing");
    assert_eq!(pt["file_status"], "changed");
    assert_eq!(pt["renew_by"][0], "shieldco");
    let dr = entry(&v, "restore-testing");
    assert_eq!(dr["file_status"], "unchanged");
    assert_eq!(
        dr["sha256"],
        "019bf526be59db6409dc67f76c66be28811b1afb0fbaffc4f58bb5c62b9154e7"
    );
    // inventory-db's restore test expired on 2026-07-31; backup lacks evidence elsewhere.
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["asset"] == "inventory-db" && e["status"] == "expired")
    );
    assert!(
        v["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["control"] == "backup")
    );

    // Changing the DR file is noticed; deleting it makes it unreadable.
    let dir = acme_copy();
    let f = dir.path().join("evidence-files/dr-test-2026-06.txt");
    std::fs::write(&f, "edited\n").unwrap();
    let (_, out, _) = demarc(&["evidence", dir.path().to_str().unwrap(), "-f", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(entry(&v, "restore-testing")["file_status"], "changed");
    std::fs::remove_file(&f).unwrap();
    let (_, out, _) = demarc(&["evidence", dir.path().to_str().unwrap(), "-f", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let dr = entry(&v, "restore-testing");
    assert_eq!(dr["file_status"], "unreadable");
    assert!(
        dr["file_error"]
            .as_str()
            .unwrap()
            .contains("dr-test-2026-06.txt")
    );

    // --within widens the window.
    let (_, out, _) = demarc(&["evidence", &acme_str(), "-f", "json", "--within", "400d"]);
    let wide: Value = serde_json::from_str(&out).unwrap();
    assert!(wide["expiring"].as_u64().unwrap() > 0);
}

#[test]
fn evidence_with_a_bad_hash_or_an_escaping_path_is_an_input_error() {
    let dir = acme_copy();
    let ev = dir.path().join("evidence.yaml");
    let text = std::fs::read_to_string(&ev).unwrap();
    std::fs::write(
        &ev,
        text.replace(
            "file: evidence-files/dr-test-2026-06.txt",
            "file: ../../etc/passwd",
        )
        .replace(
            "sha256: 019bf526be59db6409dc67f76c66be28811b1afb0fbaffc4f58bb5c62b9154e7",
            "sha256: nothex",
        ),
    )
    .unwrap();
    let (code, out, err) = demarc(&["evidence", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("evidence.yaml:") && err.contains("not a path inside the estate"),
        "{err}"
    );
    assert!(err.contains("not a SHA-256"), "{err}");
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn audit_pack_is_complete_hashed_and_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    let (code, _, err) = demarc(&["audit-pack", &acme_str(), out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_valid("audit-pack", &manifest);
    assert_eq!(manifest["schema"], "demarc.audit-pack/v1");
    assert!(manifest["catalog"].as_str().unwrap().starts_with("sha256:"));
    // acme's settings.frameworks: soc2 and pci-dss.
    assert_eq!(
        manifest["frameworks"],
        serde_json::json!(["soc2", "pci-dss"])
    );
    let files = manifest["files"].as_array().unwrap();
    for f in files {
        let p = out.join(f["path"].as_str().unwrap());
        assert_eq!(sha256(&p), f["sha256"], "{}", p.display());
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            f["bytes"].as_u64().unwrap()
        );
    }
    for name in [
        "matrix.xlsx",
        "matrix.csv",
        "gaps.json",
        "gaps.csv",
        "evidence.json",
        "evidence.csv",
        "summary.html",
        "compliance/soc2.json",
        "compliance/pci-dss.csv",
        "compliance/summary.json",
    ] {
        assert!(
            files.iter().any(|f| f["path"] == name),
            "{name} not in the manifest"
        );
    }
    // The workbook: one sheet per view, a header row and every matrix row.
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("matrix.xlsx")).unwrap();
    let names = wb.sheet_names();
    for s in ["Matrix", "Gaps", "soc2", "pci-dss", "Evidence", "Legend"] {
        assert!(names.iter().any(|n| n == s), "{s} not in {names:?}");
    }
    let m = wb.worksheet_range("Matrix").unwrap();
    let csv_rows = std::fs::read_to_string(out.join("matrix.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(m.height(), csv_rows);
    assert_eq!(m.get((0, 0)).unwrap().to_string(), "asset");
    // The Gaps sheet: one row per gap of gaps.json, with its key and severity.
    let gaps: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gaps.json")).unwrap()).unwrap();
    let gaps = gaps["gaps"].as_array().unwrap();
    let g = wb.worksheet_range("Gaps").unwrap();
    assert_eq!(g.height(), gaps.len() + 1);
    assert_eq!(
        g.get((1, 0)).unwrap().to_string(),
        gaps[0]["key"].as_str().unwrap()
    );
    assert_eq!(
        g.get((1, 1)).unwrap().to_string(),
        gaps[0]["severity"].as_str().unwrap()
    );

    // An existing package is not replaced without --force, and is left as it was.
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    let (code, _, err) = demarc(&["audit-pack", &acme_str(), out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
    let (code, _, err) = demarc(&[
        "audit-pack",
        &acme_str(),
        out.to_str().unwrap(),
        "--force",
        "-F",
        "fedramp",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.join("compliance/fedramp.json").exists());
    assert!(!out.join("compliance/soc2.json").exists());

    // A failure leaves nothing behind: no package, no temporary directory.
    let bad = dir.path().join("bad");
    let (code, _, err) = demarc(&[
        "audit-pack",
        &acme_str(),
        bad.to_str().unwrap(),
        "-F",
        "nope",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(!bad.exists());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, vec!["pack".to_string()], "{left:?}");
}

#[test]
fn parts_add_a_row_per_statement_part_with_what_covers_it() {
    let a = acme_str();
    let (code, csv, err) = demarc(&["compliance", &a, "-F", "fedramp", "-f", "csv", "--parts"]);
    assert_eq!(code, 0, "{err}");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert!(rows.len() > 323 * 3, "{}", rows.len());
    let part = rows.iter().find(|x| &x[2] == "ac-2_smt.a").expect("AC-2 a");
    assert_eq!(&part[3], "AC-2(a)");
    assert_eq!(&part[0], "fedramp");
    // AC-2 is mapped as a whole, so its parts are covered through the control.
    assert_eq!(&part[6], "via the control");
    // Parameters are filled from the FedRAMP baseline, never left as OSCAL insertions.
    assert!(rows.iter().all(|x| !x[4].contains("{{")));
}
