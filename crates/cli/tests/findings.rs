//! `demarc ingest findings` and `demarc findings`: findings
//! from Prowler OCSF, Security Hub ASFF and SARIF attributed to acme's assets, parties, teams
//! and SLAs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .env("COLUMNS", "160")
        .args(args)
        .output()
        .expect("run demarc");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    root()
        .join("crates/cli/tests/fixtures/findings")
        .join(name)
        .display()
        .to_string()
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

/// A copy of examples/acme whose AWS assets carry the ids discovery would give them.
fn acme() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/acme"), dir.path());
    let p = dir.path().join("assets/aws.yaml");
    let mut text = std::fs::read_to_string(&p).unwrap();
    for (id, ext) in [
        (
            "batch-01",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-0b47c4a1e5d3f2a10",
        ),
        (
            "app-server-01",
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-0a1b2c3d4e5f60718",
        ),
        ("order-exports", "arn:aws:s3:::acme-order-exports"),
        (
            "orders-db",
            "arn:aws:rds:eu-west-1:111122223333:db:acme-orders",
        ),
    ] {
        let from = format!("{{id: {id}, ");
        assert!(text.contains(&from), "{id} is not in acme's aws.yaml");
        text = text.replace(
            &from,
            &format!("{{id: {id}, external_id: \"{ext}\", account: \"111122223333\", "),
        );
    }
    std::fs::write(&p, text).unwrap();
    dir
}

const AS_OF: &str = "2026-11-23";

fn ingest(estate: &Path, files: &[String]) -> Run {
    let mut args = vec!["ingest", "findings"];
    args.extend(files.iter().map(String::as_str));
    let e = estate.display().to_string();
    args.extend(["-e", &e, "--as-of", AS_OF, "-q"]);
    run(&args)
}

fn all_fixtures() -> Vec<String> {
    [
        "acme-prowler.ocsf.json",
        "prowler-3.ocsf.json",
        "securityhub.asff.json",
        "checkov.sarif",
        "trivy.sarif",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect()
}

fn report(estate: &Path, extra: &[&str]) -> Run {
    let e = estate.display().to_string();
    let mut a = vec!["findings", &e, "--as-of", AS_OF];
    a.extend_from_slice(extra);
    run(&a)
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}\n{}", r.stdout, r.stderr))
}

/// The output validates against `demarc schema NAME`.
fn assert_valid(name: &str, v: &Value) {
    let s = run(&["schema", name]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let schema: Value = serde_json::from_str(&s.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

fn find<'a>(v: &'a Value, check: &str, resource: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["check"] == check
                && f["resource"]["uid"]
                    .as_str()
                    .is_some_and(|u| u.contains(resource))
        })
        .unwrap_or_else(|| panic!("no {check} on {resource} in {v:#}"))
}

#[test]
fn acme_findings_route_to_shieldco_acme_teams_and_aws_with_their_sla() {
    let dir = acme();
    let r = ingest(dir.path(), &all_fixtures());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = report(dir.path(), &["--format", "json", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(v["schema"], "demarc.findings/v1");
    assert_valid("findings", &v);

    // The S3 bucket without access logging: acme's to configure, and nobody is named.
    let f = find(
        &v,
        "s3_bucket_server_access_logging_enabled",
        "acme-order-exports",
    );
    assert_eq!(f["asset"], "order-exports");
    assert_eq!(f["asset_match"], "external_id");
    assert_eq!(f["control"], "storage-access-logging");
    assert_eq!(f["control_via"], "check-table");
    assert_eq!(f["duty"], "configure");
    assert_eq!(f["route"], "unassigned");
    assert_eq!(f["owner"], "acme");

    // Public access on the bucket: a shared cell, routed to acme's platform team.
    let f = find(&v, "s3_bucket_public_access", "acme-order-exports");
    assert_eq!(f["owner"], "acme/platform");
    assert_eq!(f["route"], "responsible");
    assert!(
        f["responsible"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "aws")
    );

    // Default encryption on S3 is enforced by AWS: a provider-owned duty.
    let f = find(&v, "s3_bucket_default_encryption", "acme-order-exports");
    assert_eq!(f["route"], "provider");
    assert_eq!(f["owner"], "aws");
    let aws = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "aws")
        .expect("an aws group");
    assert_eq!(aws["route"], "provider");
    assert_eq!(aws["contact"], "AWS Enterprise Support");

    // The unpatched VM batch-01: nobody is named for patching it.
    let f = find(&v, "ssm_managed_compliant_patching", "i-0b47c4a1e5d3f2a10");
    assert_eq!(f["asset"], "batch-01");
    assert_eq!(
        (&f["control"], &f["duty"]),
        (&"os-patching".into(), &"patch".into())
    );
    assert_eq!(f["route"], "unassigned");
    // app-server-01 is tagged patch=shieldco: ShieldCo patches it under §4.2.
    let f = find(&v, "ssm_managed_compliant_patching", "i-0a1b2c3d4e5f60718");
    assert_eq!(f["owner"], "shieldco");
    assert_eq!(f["rule"], "clause:shieldco-msa/4.2");

    // GuardDuty's C&C finding on app-server-01: ShieldCo responds within 1h (§4.1), first
    // seen on 2026-11-20, so it is three days overdue.
    let gd = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["tool"] == "guardduty")
        .expect("the GuardDuty finding");
    assert_eq!(gd["asset"], "app-server-01");
    assert_eq!(gd["control"], "alert-triage");
    assert_eq!(gd["duty"], "respond");
    assert_eq!(gd["owner"], "shieldco");
    assert_eq!(gd["sla"], "1h");
    assert_eq!(gd["due"], "2026-11-20");
    assert_eq!(gd["overdue"], true);
    assert_eq!(gd["days_overdue"], 3);
    let shieldco = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "shieldco")
        .expect("a shieldco group");
    assert_eq!(shieldco["overdue"], 1);

    // RDS engine upgrades are configured by acme's DBAs.
    let f = find(
        &v,
        "rds_instance_minor_version_upgrade_enabled",
        "acme-orders",
    );
    assert_eq!(f["owner"], "acme/dba");

    // Root MFA: the account root is no declared asset; listed, not dropped.
    let f = find(&v, "iam_root_mfa_enabled", ":root");
    assert_eq!(f["route"], "undeclared-asset");
    assert_eq!(f["control"], "mfa");

    // A custom check with no table entry and no compliance: listed under no control.
    let f = find(&v, "custom_orders_tagging_policy", "acme-order-exports");
    assert_eq!(f["route"], "no-control");
    assert!(f.get("control").is_none());
    // A custom check citing NIST SC-28(1) and SC-12 falls back on the catalog's mappings.
    let f = find(&v, "custom_bucket_cmk_policy", "acme-order-exports");
    assert_eq!(f["control"], "encryption-at-rest-cmk");
    assert_eq!(f["control_via"], "compliance");

    // Checkov's Terraform address finds the asset by name; Trivy's CVE is a patch duty.
    let f = find(&v, "CKV_AWS_18", "order-exports");
    assert_eq!(f["asset"], "order-exports");
    assert_eq!(f["control"], "storage-access-logging");
    assert_eq!(f["location"], "terraform/storage.tf:12");
    let f = find(&v, "CVE-2024-45490", "checkout-fn");
    assert_eq!(f["severity"], "critical");
    assert_eq!(
        (&f["control"], &f["duty"]),
        (&"dependency-management".into(), &"patch".into())
    );
    // The image is named after the function it ships: the last segment matches the asset id.
    assert_eq!(
        (&f["asset"], &f["asset_match"]),
        (&"checkout-fn".into(), &"name".into())
    );
    let f = find(&v, "AVD-DS-0002", "Dockerfile");
    assert_eq!(f["route"], "undeclared-asset");

    // Passed, manual and resolved findings are counted, not listed as work.
    let s = &v["summary"];
    assert_eq!(s["passed"], 1);
    assert_eq!(s["resolved"], 1);
    assert_eq!(s["manual"], 1);
    assert!(s["open"].as_u64().unwrap() >= 15, "{s}");
    assert_eq!(s["overdue"], 1);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "open")
    );

    // Exit 1 when an open finding is at or above --fail-on.
    assert_eq!(report(dir.path(), &["--fail-on", "critical", "-q"]).code, 1);
}

#[test]
fn formats_are_recognised_from_content_whatever_the_file_is_called() {
    let dir = acme();
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, f) in all_fixtures().iter().enumerate() {
        let p = tmp.path().join(format!("export-{i}.json"));
        std::fs::copy(f, &p).unwrap();
        files.push(p.display().to_string());
    }
    let e = dir.path().display().to_string();
    let mut a = vec!["ingest", "findings"];
    a.extend(files.iter().map(String::as_str));
    a.extend(["-e", &e, "--as-of", AS_OF, "--format", "json"]);
    let r = run(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(v["schema"], "demarc.findings-ingest/v1");
    assert_valid("findings-ingest", &v);
    let formats: Vec<&str> = v["snapshot"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["ocsf", "ocsf", "asff", "sarif", "sarif"]);
    let counts: Vec<u64> = v["snapshot"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["findings"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [11, 2, 5, 3, 2]);
    assert!(
        dir.path()
            .join(".demarc/findings/2026-11-23.ndjson")
            .is_file()
    );
}

#[test]
fn a_truncated_file_is_an_error_at_its_byte_offset_and_nothing_is_written() {
    let dir = acme();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read(fixture("acme-prowler.ocsf.json")).unwrap();
    let cut = tmp.path().join("cut.ocsf.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let r = ingest(
        dir.path(),
        &[fixture("checkov.sarif"), cut.display().to_string()],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("cut.ocsf.json: byte "), "{}", r.stderr);
    assert!(r.stderr.contains("truncated"), "{}", r.stderr);
    let snaps = dir.path().join(".demarc/findings");
    let left: Vec<_> = std::fs::read_dir(&snaps).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // A malformed finding: the byte offset points into it.
    let bad = String::from_utf8(text.clone()).unwrap().replacen(
        "\"severity_id\": 3",
        "\"severity_id\": 3,,",
        1,
    );
    let p = tmp.path().join("bad.ocsf.json");
    std::fs::write(&p, &bad).unwrap();
    let r = ingest(dir.path(), &[p.display().to_string()]);
    assert_eq!(r.code, 2);
    let at = bad.find(",,").unwrap() + 1;
    assert!(
        r.stderr.contains(&format!("byte {at} (finding 1)")),
        "expected byte {at}: {}",
        r.stderr
    );

    // Not a findings file at all.
    let p = tmp.path().join("notes.json");
    std::fs::write(&p, "{\"hello\": 1}").unwrap();
    let r = ingest(dir.path(), &[p.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a findings file"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&snaps).unwrap().count(), 0);
}

#[test]
fn findings_without_a_snapshot_say_how_to_make_one() {
    let dir = acme();
    let r = report(dir.path(), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ingest findings"), "{}", r.stderr);
}

#[test]
fn every_output_format_lists_the_open_findings() {
    let dir = acme();
    assert_eq!(ingest(dir.path(), &all_fixtures()).code, 0);
    let nd = report(dir.path(), &["--format", "ndjson", "--fail-on", "never"]);
    assert_eq!(nd.code, 0, "{}", nd.stderr);
    let lines: Vec<Value> = nd
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let j = json(&report(
        dir.path(),
        &["--format", "json", "--fail-on", "never"],
    ));
    assert_eq!(lines.len(), j["findings"].as_array().unwrap().len());
    assert_eq!(lines.len() as u64, j["summary"]["open"].as_u64().unwrap());

    let csv = report(dir.path(), &["--format", "csv", "--fail-on", "never"]);
    assert!(
        csv.stdout.starts_with("severity,status,overdue,"),
        "{}",
        csv.stdout
    );
    assert_eq!(csv.stdout.lines().count(), lines.len() + 1);

    let md = report(dir.path(), &["--format", "md", "--fail-on", "never"]);
    assert!(
        md.stdout.contains("## Open findings by party"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains("raise them with the provider"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("| shieldco |"), "{}", md.stdout);

    let sarif = json(&report(
        dir.path(),
        &["--format", "sarif", "--fail-on", "never"],
    ));
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), lines.len());
    assert!(
        results
            .iter()
            .any(|r| r["properties"]["owner"] == "shieldco")
    );

    let table = report(dir.path(), &["--fail-on", "never", "--limit", "3"]);
    assert!(
        table.stdout.contains("The 3 most urgent findings"),
        "{}",
        table.stdout
    );
    // The overdue GuardDuty finding comes first.
    let urgent = table.stdout.split("most urgent").nth(1).unwrap();
    let first = urgent
        .lines()
        .find(|l| l.contains("high") || l.contains("critical"))
        .unwrap();
    assert!(first.contains("shieldco"), "{urgent}");

    let by = json(&report(
        dir.path(),
        &["--format", "json", "--by", "control", "--fail-on", "never"],
    ));
    assert!(
        by["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["key"] == "storage-access-logging")
    );

    let overdue = json(&report(
        dir.path(),
        &["--format", "json", "--overdue", "--fail-on", "never"],
    ));
    assert_eq!(overdue["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn the_snapshot_read_is_the_latest_on_or_before_the_as_of_date() {
    let dir = acme();
    let e = dir.path().display().to_string();
    let one = fixture("checkov.sarif");
    let r = run(&[
        "ingest",
        "findings",
        &one,
        "-e",
        &e,
        "--as-of",
        "2026-11-01",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(ingest(dir.path(), &all_fixtures()).code, 0);
    let old = json(&run(&[
        "findings",
        &e,
        "--as-of",
        "2026-11-10",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]));
    assert_eq!(old["snapshot"]["date"], "2026-11-01");
    assert_eq!(old["summary"]["total"], 3);
    let r = run(&["findings", &e, "--as-of", "2026-10-01"]);
    assert_eq!(r.code, 2);

    // SARIF gives no first-seen time: the Checkov findings keep the date they were first
    // ingested on, so their due dates do not move with every scan.
    let now = json(&report(
        dir.path(),
        &["--format", "json", "--fail-on", "never"],
    ));
    let f = find(&now, "CKV_AWS_18", "order-exports");
    assert_eq!(f["first_seen"], "2026-11-01");
    let f = find(&now, "CVE-2024-45490", "checkout-fn");
    assert_eq!(f["first_seen"], AS_OF);
}

/// The shared Prowler examples (four providers with placeholder values, and 1,500 synthetic
/// findings), when `../shared` is beside the repository.
#[test]
fn shared_prowler_examples_are_read_and_mapped() {
    let shared = root().join("../shared/inputs/prowler");
    if !shared.is_dir() {
        eprintln!("skipped: {} is absent", shared.display());
        return;
    }
    let mut files: Vec<String> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".ocsf.json"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    let dir = acme();
    let r = ingest(dir.path(), &files);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&report(
        dir.path(),
        &["--format", "json", "--all", "--fail-on", "never"],
    ));
    let all = v["findings"].as_array().unwrap();
    assert_eq!(all.len() as u64, v["summary"]["total"].as_u64().unwrap());
    assert!(all.len() >= 1500);
    for p in ["aws", "azure", "gcp", "kubernetes"] {
        assert!(all.iter().any(|f| f["provider"] == p), "no {p} finding");
    }
    let mapped = all.iter().filter(|f| f.get("control").is_some()).count();
    assert!(
        mapped * 100 >= all.len() * 95,
        "{mapped} of {} mapped",
        all.len()
    );
}
