//! End-to-end tests of the `demarc` binary on the example estates and on broken inputs.
//!
//! Every test runs the real binary and asserts on what it prints and its exit code:
//! 0 clean, 1 gaps at or above `--fail-on`, 2 input or usage error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Fixed analysis date so that expiry, review and evidence gaps are reproducible.
const AS_OF: &str = "2026-11-23";
const EXAMPLES: [&str; 3] = ["acme", "startup-saas", "health-serverless"];

/// The built `demarc` binary, with no estate or colour settings leaking in from the caller.
fn demarc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_demarc"));
    c.env_remove("DEMARC_ESTATE").env_remove("NO_COLOR");
    c
}

/// What one run of the binary produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        json(&self.stdout)
    }
}

fn exec(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run demarc");
    Run {
        code: out
            .status
            .code()
            .expect("demarc exited normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `demarc ARGS…`.
fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    exec(demarc().args(args))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| {
        panic!(
            "output is not JSON ({e}):\n{}",
            &text[..text.len().min(2000)]
        )
    })
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn acme() -> PathBuf {
    example("acme")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `check PATH --as-of AS_OF --format json EXTRA…`: exit code and parsed output.
fn check_json(path: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", s(path), "--as-of", AS_OF, "--format", "json"];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert!(
        r.code == 0 || r.code == 1,
        "check {} exited {}: {}",
        path.display(),
        r.code,
        r.stderr
    );
    (r.code, r.json())
}

fn acme_check() -> Value {
    let (code, v) = check_json(&acme(), &[]);
    assert_eq!(code, 1, "acme has gaps, so check exits 1");
    v
}

/// `matrix acme --rows --format json`.
fn acme_cells() -> Value {
    let r = run(&[
        "matrix",
        s(&acme()),
        "--rows",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// Asset id → service id, from the resolved cells.
fn asset_services(cells: &Value) -> BTreeMap<String, String> {
    cells["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (str_of(&c["asset"]), str_of(&c["service"])))
        .collect()
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(str_of)
        .collect()
}

fn gaps(check: &Value) -> &Vec<Value> {
    check["gaps"].as_array().expect("gaps array")
}

/// One entry per fix, as the table, CSV and Markdown views show them: the first gap of each
/// `group` (or the gap itself when it has none), with how many gaps the fix closes.
fn fixes(check: &Value) -> Vec<(&Value, usize)> {
    let mut out: Vec<(&Value, usize)> = Vec::new();
    for g in gaps(check) {
        match g["group"].as_str() {
            Some(k) => match out.iter_mut().find(|(f, _)| f["group"] == k) {
                Some((_, n)) => *n += 1,
                None => out.push((g, 1)),
            },
            None => out.push((g, 1)),
        }
    }
    out
}

/// The one gap with this key; fails listing the keys when there is none.
fn gap<'a>(check: &'a Value, key: &str) -> &'a Value {
    let all = gaps(check);
    let found: Vec<&Value> = all.iter().filter(|g| g["key"] == key).collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one gap `{key}`; keys are {:?}",
        all.iter().map(|g| g["key"].to_string()).collect::<Vec<_>>()
    );
    found[0]
}

/// Writes `text` to DIR/NAME and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// Copies a directory tree.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Asserts the run is an input error: exit 2, nothing on stdout, a `FILE:LINE:COL: error:` line
/// for `file` that contains `message`, and a `help:` line that contains `help`.
fn assert_located_error(r: &Run, file: &Path, message: &str, help: &str) {
    assert_eq!(r.code, 2, "expected exit 2; stderr:\n{}", r.stderr);
    assert_eq!(
        r.stdout, "",
        "nothing may be written to stdout on an input error"
    );
    let prefix = format!("{}:", file.display());
    let lines = std::fs::read_to_string(file)
        .map(|t| t.lines().count() as u32 + 1)
        .unwrap_or(u32::MAX);
    let located = r.stderr.lines().find_map(|l| {
        let rest = l.strip_prefix(&prefix)?;
        let (pos, msg) = rest.split_once(": error: ")?;
        let (line, col) = pos.split_once(':')?;
        let (line, col): (u32, u32) = (line.parse().ok()?, col.parse().ok()?);
        Some((line, col, msg.to_string()))
    });
    let Some((line, col, msg)) = located else {
        panic!(
            "no `{}LINE:COL: error:` line in stderr:\n{}",
            prefix, r.stderr
        )
    };
    assert!(
        line >= 1 && line <= lines && col >= 1,
        "position {line}:{col} is not inside {} ({lines} lines)",
        file.display()
    );
    assert!(
        msg.contains(message),
        "error `{msg}` does not contain `{message}`; stderr:\n{}",
        r.stderr
    );
    assert!(
        r.stderr
            .lines()
            .any(|l| l.trim_start().starts_with("help:") && l.contains(help)),
        "no `help:` line containing `{help}` in stderr:\n{}",
        r.stderr
    );
}

/// A one-file estate with a customer `me` (team `platform`) and a provider-backed EC2 asset,
/// with `extra` YAML appended.
fn small_estate(extra: &str) -> String {
    format!(
        "version: 1\nestate: small\ncustomer: me\nparties:\n  me: {{kind: customer, name: Me, teams: {{platform: {{contact: p@me.example}}}}}}\n  shieldco: {{kind: mssp, name: ShieldCo}}\n{extra}"
    )
}

const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

fn severity_rank(s: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|x| *x == s)
        .unwrap_or_else(|| panic!("unknown severity `{s}`"))
}

// ---------------------------------------------------------------------------------------------
// check: the acme gaps
// ---------------------------------------------------------------------------------------------

#[test]
fn check_acme_json_exits_1_with_the_check_schema() {
    let v = acme_check();
    assert_eq!(v["schema"], "demarc.check/v1");
    assert_eq!(v["estate"], "acme-retail");
    assert_eq!(v["as_of"], AS_OF);
    assert_eq!(v["accountable"], "acme");
    assert!(!gaps(&v).is_empty());
}

#[test]
fn batch_01_patching_is_unassigned() {
    let v = acme_check();
    let g = gap(&v, "DM001:os-patching");
    assert_eq!(g["code"], "DM001");
    assert_eq!(g["kind"], "unassigned");
    assert_eq!(g["control"], "os-patching");
    assert_eq!(strings(&g["duties"]), ["patch"]);
    // Only the untagged instance: the tagged ones are ShieldCo's (4.2) or platform's.
    assert_eq!(strings(&g["assets"]), ["batch-01"]);
    assert!(str_of(&g["fix"]).contains("os-patching"));
    assert!(
        strings(&g["basis"]).iter().any(|b| b.contains("aws:ec2")),
        "basis names the catalog entry: {}",
        g["basis"]
    );
}

#[test]
fn storage_buckets_have_nobody_on_access_logging() {
    let v = acme_check();
    let services = asset_services(&acme_cells());
    let g = gap(&v, "DM001:storage-access-logging");
    let assets = strings(&g["assets"]);
    assert!(assets.contains(&"order-exports".to_string()), "{assets:?}");
    assert!(
        assets.contains(&"marketing-assets".to_string()),
        "{assets:?}"
    );
    for a in &assets {
        let svc = &services[a];
        assert!(
            svc == "aws:s3" || svc == "azure:storage",
            "{a} ({svc}) is not a storage bucket"
        );
    }
}

#[test]
fn saas_access_review_monitoring_is_unassigned() {
    let v = acme_check();
    let services = asset_services(&acme_cells());
    let g = gaps(&v)
        .iter()
        .find(|g| g["code"] == "DM001" && g["control"] == "access-review")
        .expect("a DM001 gap on access-review");
    let assets = strings(&g["assets"]);
    assert!(!assets.is_empty());
    assert!(assets.contains(&"crm".to_string()), "{assets:?}");
    for a in &assets {
        assert!(services[a].starts_with("saas:"), "{a} is {}", services[a]);
    }
    // m365 has an explicit monitor assignment, so `office` is not in the gap.
    assert!(!assets.contains(&"office".to_string()), "{assets:?}");
}

#[test]
fn expired_dbcare_contract_is_dm004() {
    let v = acme_check();
    let g = gaps(&v)
        .iter()
        .find(|g| g["code"] == "DM004")
        .expect("a DM004 gap");
    assert!(
        str_of(&g["key"]).contains("dbcare-sow-2025"),
        "{}",
        g["key"]
    );
    assert_eq!(g["severity"], "high");
    assert_eq!(strings(&g["assets"]), ["crm-sync-db"]);
    assert!(
        strings(&g["basis"])
            .iter()
            .any(|b| b.contains("ended 2026-06-30")),
        "{}",
        g["basis"]
    );
    // Its duties fell back unassigned: the same asset is in DM001 gaps.
    assert!(strings(&gap(&v, "DM001:backup")["assets"]).contains(&"crm-sync-db".into()));
}

#[test]
fn unknown_service_is_dm013_with_its_asset() {
    let v = acme_check();
    let g = gap(&v, "DM013:onprem:as400");
    assert_eq!(g["kind"], "unknown-service");
    assert_eq!(strings(&g["assets"]), ["legacy-erp"]);
    assert_eq!(g["asset_count"], 1);
    assert!(g["cells"].as_u64().unwrap() > 0);
    assert!(str_of(&g["fix"]).contains("services:"), "{}", g["fix"]);
}

#[test]
fn every_gap_is_well_formed() {
    let v = acme_check();
    let codes: BTreeSet<&str> = [
        "DM001", "DM002", "DM003", "DM004", "DM005", "DM006", "DM007", "DM008", "DM009", "DM010",
        "DM011", "DM012", "DM013", "DM018", "DM019", "DM020",
    ]
    .into();
    let mut keys = BTreeSet::new();
    for g in gaps(&v) {
        let code = str_of(&g["code"]);
        assert!(codes.contains(code.as_str()), "unknown code in {g}");
        assert!(str_of(&g["key"]).starts_with(&format!("{code}:")), "{g}");
        assert!(keys.insert(str_of(&g["key"])), "duplicate key in {g}");
        severity_rank(&str_of(&g["severity"]));
        assert!(!str_of(&g["fix"]).trim().is_empty(), "no fix in {g}");
        assert!(!str_of(&g["title"]).trim().is_empty(), "no title in {g}");
        let listed = g["assets"].as_array().unwrap().len() as u64;
        assert!(g["asset_count"].as_u64().unwrap() >= listed, "{g}");
        // Asset lists are sorted by id and have no duplicates.
        let assets = strings(&g["assets"]);
        let mut sorted = assets.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            assets, sorted,
            "assets of {} are not sorted/unique",
            g["key"]
        );
    }
    // Gaps are ordered worst first.
    let ranks: Vec<usize> = gaps(&v)
        .iter()
        .map(|g| severity_rank(&str_of(&g["severity"])))
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] >= w[1]),
        "not sorted by severity: {ranks:?}"
    );
}

#[test]
fn summary_counts_add_up() {
    let v = acme_check();
    let sum = &v["summary"];
    let ownership: u64 = sum["ownership"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(sum["cells"].as_u64().unwrap(), ownership);
    let n = gaps(&v).len() as u64;
    assert_eq!(sum["gaps"].as_u64().unwrap(), n);
    let by_sev: u64 = sum["by_severity"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_sev, n);
    for (code, count) in sum["by_code"].as_object().unwrap() {
        let actual = gaps(&v)
            .iter()
            .filter(|g| g["code"] == code.as_str())
            .count() as u64;
        assert_eq!(count.as_u64().unwrap(), actual, "by_code[{code}]");
    }
    // The summary agrees with the matrix: same number of cells, same ownership split.
    let cells = acme_cells();
    let cells = cells["cells"].as_array().unwrap();
    assert_eq!(sum["cells"].as_u64().unwrap(), cells.len() as u64);
    assert_eq!(
        sum["assets"].as_u64().unwrap(),
        asset_services(&json_cells(cells)).len() as u64
    );
    for (o, count) in sum["ownership"].as_object().unwrap() {
        let actual = cells
            .iter()
            .filter(|c| c["ownership"] == o.as_str())
            .count() as u64;
        assert_eq!(count.as_u64().unwrap(), actual, "ownership[{o}]");
    }
    let unassigned = cells.iter().filter(|c| c["unassigned"] == true).count() as u64;
    assert_eq!(sum["unassigned_cells"].as_u64().unwrap(), unassigned);
}

/// Wraps cells in the `{"cells": […]}` shape [`asset_services`] reads.
fn json_cells(cells: &[Value]) -> Value {
    serde_json::json!({ "cells": cells })
}

#[test]
fn max_gap_assets_cuts_lists_but_keeps_counts() {
    let (_, full) = check_json(&acme(), &[]);
    let (_, cut) = check_json(&acme(), &["--max-gap-assets", "1"]);
    assert_eq!(gaps(&full).len(), gaps(&cut).len());
    for (f, c) in gaps(&full).iter().zip(gaps(&cut)) {
        assert_eq!(f["key"], c["key"]);
        assert_eq!(f["asset_count"], c["asset_count"]);
        let fa = strings(&f["assets"]);
        let ca = strings(&c["assets"]);
        assert_eq!(
            ca,
            fa.iter().take(1).cloned().collect::<Vec<_>>(),
            "{}",
            f["key"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// check: exit codes
// ---------------------------------------------------------------------------------------------

#[test]
fn fail_on_never_exits_0_despite_gaps() {
    let (code, v) = check_json(&acme(), &["--fail-on", "never"]);
    assert!(!gaps(&v).is_empty());
    assert_eq!(code, 0);
    let r = run(&["check", s(&acme()), "--as-of", AS_OF, "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn fail_on_threshold_follows_the_worst_gap() {
    let v = acme_check();
    let worst = gaps(&v)
        .iter()
        .map(|g| severity_rank(&str_of(&g["severity"])))
        .max()
        .unwrap();
    for (rank, level) in SEVERITIES.iter().enumerate() {
        let (code, _) = check_json(&acme(), &["--fail-on", level]);
        let expected = if worst >= rank { 1 } else { 0 };
        assert_eq!(
            code, expected,
            "--fail-on {level} with worst gap {}",
            SEVERITIES[worst]
        );
    }
}

#[test]
fn fail_on_critical_matches_critical_gaps() {
    let v = acme_check();
    let critical = gaps(&v).iter().any(|g| g["severity"] == "critical");
    let (code, _) = check_json(&acme(), &["--fail-on", "critical"]);
    assert_eq!(code, i32::from(critical));
}

#[test]
fn default_fail_on_is_low() {
    for name in EXAMPLES {
        let (code, v) = check_json(&example(name), &[]);
        let failing = gaps(&v)
            .iter()
            .any(|g| severity_rank(&str_of(&g["severity"])) >= severity_rank("low"));
        assert_eq!(code, i32::from(failing), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// check: every example, every format
// ---------------------------------------------------------------------------------------------

#[test]
fn every_example_checks_without_input_errors() {
    for name in EXAMPLES {
        let (code, v) = check_json(&example(name), &[]);
        assert!(code == 0 || code == 1, "{name} exited {code}");
        assert_eq!(v["schema"], "demarc.check/v1", "{name}");
        assert!(v["summary"]["assets"].as_u64().unwrap() > 0, "{name}");
    }
}

#[test]
fn every_example_renders_csv_md_and_table() {
    for name in EXAMPLES {
        let path = example(name);
        let (_, v) = check_json(&path, &[]);
        // One row per fix: gaps of one group are one row.
        let n = fixes(&v).len();
        for format in ["csv", "md", "table"] {
            let r = run(&["check", s(&path), "--as-of", AS_OF, "--format", format]);
            assert!(r.code == 0 || r.code == 1, "{name} {format}: {}", r.stderr);
            assert!(!r.stdout.trim().is_empty(), "{name} {format}: empty output");
            let first = r.stdout.lines().next().unwrap();
            match format {
                "csv" => {
                    assert_eq!(
                        first, "severity,code,control,duties,assets,gap,fix",
                        "{name}"
                    );
                }
                "md" => {
                    assert!(first.starts_with("| severity | code |"), "{name}: {first}");
                    let second = r.stdout.lines().nth(1).unwrap();
                    assert!(second.starts_with("|---|"), "{name}: {second}");
                    // One row per gap after the header and the separator.
                    assert_eq!(
                        r.stdout.lines().filter(|l| l.starts_with('|')).count(),
                        n + 2
                    );
                }
                _ => {
                    let estate = str_of(&v["estate"]);
                    assert!(
                        first.starts_with(&format!("estate {estate} as of {AS_OF}")),
                        "{name}: {first}"
                    );
                    assert!(
                        r.stdout.contains(&format!("{} gaps", gaps(&v).len())),
                        "{name}:\n{}",
                        r.stdout
                    );
                    let fixes = if n == 1 { "fix" } else { "fixes" };
                    assert!(
                        r.stdout.contains(&format!("{n} {fixes} to make")),
                        "{name}:\n{}",
                        r.stdout
                    );
                }
            }
            // Every gap code appears in every format.
            for g in gaps(&v) {
                assert!(
                    r.stdout.contains(&str_of(&g["code"])),
                    "{name} {format}: {}",
                    g["code"]
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// explain, who, triage
// ---------------------------------------------------------------------------------------------

fn estate_args() -> Vec<String> {
    vec![
        "-e".into(),
        s(&acme()).into(),
        "--as-of".into(),
        AS_OF.into(),
    ]
}

fn run_on_acme(args: &[&str]) -> Run {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(estate_args());
    run(&all)
}

#[test]
fn explain_names_shieldco_clause_4_2_and_acme_accountable() {
    let r = run_on_acme(&["explain", "app-server-01", "os-patching", "patch"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("responsible: shieldco"), "{}", r.stdout);
    assert!(r.stdout.contains("accountable: acme"), "{}", r.stdout);
    assert!(r.stdout.contains("§4.2"), "{}", r.stdout);
    assert!(
        r.stdout.contains("contracts.yaml:"),
        "cites the clause's file: {}",
        r.stdout
    );
}

#[test]
fn explain_json_has_accountable_acme_and_a_basis() {
    let r = run_on_acme(&[
        "explain",
        "app-server-01",
        "os-patching",
        "patch",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["asset"], "app-server-01");
    assert_eq!(v["control"], "os-patching");
    assert_eq!(v["duty"], "patch");
    assert_eq!(v["accountable"], "acme");
    assert_eq!(v["ownership"], "third-party");
    let responsible: Vec<String> = v["responsible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| str_of(&a["party"]))
        .collect();
    assert_eq!(responsible, ["shieldco"]);
    let basis = v["basis"].as_array().unwrap();
    assert!(!basis.is_empty());
    // The decisive rule is last: the contract clause, with its location.
    let last = basis.last().unwrap();
    assert_eq!(last["kind"], "contract");
    assert!(
        str_of(&last["rule"]).contains("shieldco-msa §4.2"),
        "{last}"
    );
    assert!(str_of(&last["at"]).contains("contracts.yaml:"), "{last}");
}

#[test]
fn explain_csv_lists_the_basis_steps() {
    let r = run_on_acme(&[
        "explain",
        "app-server-01",
        "os-patching",
        "patch",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("step,kind,rule,rule_id,at,url"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{}", r.stdout);
    assert!(rows[1].starts_with("2,contract,"), "{}", rows[1]);
}

#[test]
fn who_patches_batch_01_shows_os_patching_unassigned() {
    let r = run_on_acme(&["who", "patches", "batch-01", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["schema"], "demarc.cells/v1");
    let cells = v["cells"].as_array().unwrap();
    assert!(!cells.is_empty());
    assert!(
        cells
            .iter()
            .all(|c| c["duty"] == "patch" && c["asset"] == "batch-01")
    );
    let os = cells
        .iter()
        .find(|c| c["control"] == "os-patching")
        .expect("an os-patching cell");
    assert_eq!(os["unassigned"], true, "{os}");
    assert_eq!(os["accountable"], "acme");
    // Customer-owned by the EC2 document (not assumed), yet nobody at acme is named.
    assert_eq!(os["assumed"], false, "{os}");
    assert_eq!(os["basis"][0]["kind"], "service-catalog", "{os}");
    assert_eq!(os["responsible"][0]["party"], "acme");
    assert_eq!(os["responsible"][0]["named"], false);
    // A tagged sibling is assigned: the gap is specific to batch-01.
    let r = run_on_acme(&[
        "who",
        "patches",
        "app-server-01",
        "--control",
        "os-patching",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let cells = v["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0]["unassigned"], false);
    assert_eq!(cells[0]["responsible"][0]["party"], "shieldco");
}

#[test]
fn who_table_marks_unassigned() {
    let r = run_on_acme(&["who", "patches", "batch-01", "--control", "os-patching"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("os-patching"), "{}", r.stdout);
    assert!(r.stdout.contains("acme (unassigned)"), "{}", r.stdout);
}

#[test]
fn triage_alert_triage_goes_to_shieldco_with_1h_sla() {
    let r = run_on_acme(&[
        "triage",
        "app-server-01",
        "--control",
        "alert-triage",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["schema"], "demarc.triage/v1");
    assert_eq!(
        v["duty"], "respond",
        "respond is the default duty when the control has it"
    );
    assert_eq!(v["sla"], "1h");
    assert_eq!(v["accountable"], "acme");
    let responsible: Vec<String> = v["responsible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| str_of(&a["party"]))
        .collect();
    assert_eq!(responsible, ["shieldco"]);
    assert!(
        v["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["party"] == "shieldco")
    );
    let esc = strings(&v["escalation"]);
    assert!(esc.first().unwrap().starts_with("shieldco:"), "{esc:?}");
    let last = esc.last().unwrap();
    assert!(
        last.starts_with("acme:") && last.contains("accountable"),
        "{esc:?}"
    );
}

#[test]
fn triage_lists_each_escalation_step_once() {
    // The customer's own team is responsible, and the customer party's escalation is also the
    // accountable end of the chain: each step must appear once, in first-mention order.
    let dir = tempfile::tempdir().unwrap();
    let text = "version: 1\nestate: t\ncustomer: me\nparties:\n  me:\n    kind: customer\n    name: Me\n    contact: sec@me.example\n    escalation: [cso@me.example]\n    teams:\n      ops: {contact: ops@me.example, escalation: [cso@me.example, cio@me.example]}\nassignments:\n  - {scope: {}, to: me/ops}\nassets:\n  - {id: vm, service: aws:ec2}\n";
    let path = write(dir.path(), "e.yaml", text);
    let r = run(&[
        "triage",
        "vm",
        "--control",
        "os-patching",
        "-e",
        s(&path),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["responsible"][0]["team"], "ops");
    assert_eq!(
        strings(&v["escalation"]),
        [
            "me: cso@me.example",
            "me: cio@me.example",
            "me: Me (accountable) <sec@me.example>"
        ]
    );
    assert_eq!(
        v["contacts"].as_array().unwrap().len(),
        1,
        "{}",
        v["contacts"]
    );
}

#[test]
fn triage_security_monitoring_defaults_to_monitor_under_clause_4_1() {
    let r = run_on_acme(&[
        "triage",
        "app-server-01",
        "--control",
        "security-monitoring",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["duty"], "monitor");
    assert_eq!(v["responsible"][0]["party"], "shieldco");
    assert!(
        v["basis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| str_of(&b["rule"]).contains("§4.1")),
        "{}",
        v["basis"]
    );
    let esc = strings(&v["escalation"]);
    assert!(esc.last().unwrap().starts_with("acme:"), "{esc:?}");
    // Text form says the same.
    let r = run_on_acme(&[
        "triage",
        "app-server-01",
        "--control",
        "security-monitoring",
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("responsible: shieldco"), "{}", r.stdout);
    assert!(r.stdout.contains("accountable: acme"), "{}", r.stdout);
}

#[test]
fn triage_a_duty_the_control_lacks_is_an_input_error() {
    let r = run_on_acme(&[
        "triage",
        "app-server-01",
        "--control",
        "security-monitoring",
        "--duty",
        "respond",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("has no `respond` duty"), "{}", r.stderr);
    assert!(r.stderr.contains("help: its duties are"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// matrix
// ---------------------------------------------------------------------------------------------

#[test]
fn matrix_grid_has_one_row_per_asset_and_a_column_per_duty() {
    let services = asset_services(&acme_cells());
    let r = run(&["matrix", s(&acme()), "--as-of", AS_OF, "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("asset,service,configure,patch,monitor,respond,audit")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), services.len());
    for (asset, service) in &services {
        assert!(
            rows.iter()
                .any(|r| r.starts_with(&format!("{asset},{service},"))),
            "no row for {asset}"
        );
    }
    let table = run(&["matrix", s(&acme()), "--as-of", AS_OF]);
    assert_eq!(table.code, 0);
    for asset in services.keys() {
        assert!(table.stdout.contains(asset.as_str()), "table lacks {asset}");
    }
    assert!(table.stdout.contains("acme (unassigned)"));
}

#[test]
fn every_cell_has_exactly_one_accountable_party_and_a_basis() {
    let v = acme_cells();
    assert_eq!(v["schema"], "demarc.cells/v1");
    assert_eq!(v["accountable"], "acme");
    let cells = v["cells"].as_array().unwrap();
    assert!(cells.len() > 1000, "{} cells", cells.len());
    for c in cells {
        assert_eq!(c["accountable"], "acme", "{c}");
        assert!(!c["basis"].as_array().unwrap().is_empty(), "no basis: {c}");
        assert!(
            !c["responsible"].as_array().unwrap().is_empty(),
            "nobody responsible: {c}"
        );
        for b in c["basis"].as_array().unwrap() {
            assert!(!str_of(&b["rule"]).is_empty(), "{c}");
        }
        // An unassigned cell falls to the customer, unnamed.
        if c["unassigned"] == true {
            assert!(
                c["responsible"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["party"] == "acme" && a["named"] == false),
                "{c}"
            );
        }
    }
    // Each asset × control × duty appears once.
    let keys: BTreeSet<(String, String, String)> = cells
        .iter()
        .map(|c| {
            (
                str_of(&c["asset"]),
                str_of(&c["control"]),
                str_of(&c["duty"]),
            )
        })
        .collect();
    assert_eq!(keys.len(), cells.len());
}

#[test]
fn contested_key_policies_name_the_loser_and_the_tie() {
    let v = acme_check();
    let g = gap(&v, "DM002:key-management:acme/platform|acme/secops");
    assert_eq!(g["kind"], "contested");
    let r = run_on_acme(&[
        "explain",
        "orders-db",
        "key-management",
        "configure",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cell = r.json();
    assert_eq!(strings(&cell["contested"]), ["acme/secops"]);
    assert!(
        cell["responsible"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["party"] == "acme" && a["team"] == "platform"),
        "{cell}"
    );
    assert!(strings(&g["assets"]).contains(&"orders-db".to_string()));
    assert!(
        cell["basis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["kind"] == "superseded"),
        "the losing rule is shown: {}",
        cell["basis"]
    );
}

#[test]
fn unknown_service_cells_are_all_assumed() {
    let cells = acme_cells();
    let erp: Vec<&Value> = cells["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["asset"] == "legacy-erp")
        .collect();
    assert!(!erp.is_empty());
    for c in &erp {
        assert_eq!(c["assumed"], true, "{c}");
        // Nothing is inherited from a provider nobody documented: the customer's or its MSSP's.
        let o = str_of(&c["ownership"]);
        assert!(o == "csc-owned" || o == "third-party", "{c}");
    }
    let v = acme_check();
    let g = gap(&v, "DM013:onprem:as400");
    assert_eq!(g["cells"].as_u64().unwrap(), erp.len() as u64);
    // No other asset has an assumed cell in acme: every other service is in the catalog.
    assert_eq!(
        v["summary"]["assumed_cells"].as_u64().unwrap(),
        erp.len() as u64
    );
}

#[test]
fn matrix_filters_narrow_the_rows() {
    let r = run(&[
        "matrix",
        s(&acme()),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--asset",
        "batch-01",
        "--control",
        "os-patching",
        "--duty",
        "patch",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let cells = v["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{v}");
    assert_eq!(cells[0]["duty"], "patch");
    assert_eq!(cells[0]["unassigned"], true);

    let r = run(&[
        "matrix",
        s(&acme()),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--problems",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let cells = v["cells"].as_array().unwrap();
    assert!(!cells.is_empty());
    for c in cells {
        let problem = c["unassigned"] == true
            || !c["contested"].as_array().unwrap().is_empty()
            || c["unsplit"] == true;
        assert!(problem, "not a problem cell: {c}");
    }
}

#[test]
fn matrix_unknown_asset_and_control_suggest() {
    let r = run(&["matrix", s(&acme()), "--as-of", AS_OF, "--asset", "batch-1"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("did you mean `batch-01`?"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "matrix",
        s(&acme()),
        "--as-of",
        AS_OF,
        "--control",
        "os-patchin",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `os-patching`?"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// HTML report
// ---------------------------------------------------------------------------------------------

#[test]
fn html_report_is_self_contained_and_lists_the_assets() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let r = run(&["check", s(&acme()), "--as-of", AS_OF, "--html", s(&html)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(&html).expect("report written");
    assert!(
        text.to_ascii_lowercase().starts_with("<!doctype html>"),
        "{}",
        &text[..100]
    );
    for asset in asset_services(&acme_cells()).keys() {
        assert!(text.contains(asset.as_str()), "report lacks {asset}");
    }
    let lower = text.to_ascii_lowercase();
    for external in [
        "<script src",
        "<link",
        "@import",
        "url(http",
        "src=\"http",
        "src='http",
    ] {
        assert!(
            !lower.contains(external),
            "report loads something external: `{external}`"
        );
    }
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("r.html")]);
}

/// An estate whose names carry markup, quotes, commas and pipes, with an expired contract so
/// that they reach the gap titles.
fn hostile_estate(dir: &Path) -> PathBuf {
    write(
        dir,
        "estate.yaml",
        &small_estate(concat!(
            "contracts:\n",
            "  - id: \"old|msa, \\\"v1\\\" <script>alert(1)</script>\"\n",
            "    party: shieldco\n",
            "    effective: 2025-01-01\n",
            "    expires: 2026-01-01\n",
            "    clauses:\n",
            "      - {id: \"1\", text: \"watch <script>alert(2)</script> | all\", scope: {}, duties: [monitor]}\n",
            "assets:\n",
            "  - {id: web-01, service: aws:ec2, env: prod, data: [pii], description: \"<img src=x onerror=alert(3)>\"}\n",
        )),
    )
}

#[test]
fn html_report_escapes_estate_text() {
    let dir = tempfile::tempdir().unwrap();
    let estate = hostile_estate(dir.path());
    let (_, v) = check_json(&estate, &[]);
    let expired = gaps(&v)
        .iter()
        .find(|g| g["code"] == "DM004")
        .expect("DM004");
    assert!(str_of(&expired["title"]).contains("<script>alert(1)</script>"));
    let html = dir.path().join("r.html");
    let r = run(&["check", s(&estate), "--as-of", AS_OF, "--html", s(&html)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(
        text.contains("alert(1)"),
        "the contract id is in the report"
    );
    for raw in ["<script", "<img"] {
        assert!(!text.contains(raw), "unescaped `{raw}` in the HTML report");
    }
    // Escaped as character references (askama writes `&#60;`; `&lt;` would do as well).
    assert!(
        text.contains("&#60;script&#62;") || text.contains("&lt;script&gt;"),
        "markup is escaped"
    );
}

/// Splits RFC 4180 CSV into records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[test]
fn csv_and_md_escape_commas_quotes_and_pipes() {
    let dir = tempfile::tempdir().unwrap();
    let estate = hostile_estate(dir.path());
    let (_, v) = check_json(&estate, &[]);
    let r = run(&["check", s(&estate), "--as-of", AS_OF, "--format", "csv"]);
    let records = parse_csv(&r.stdout);
    assert_eq!(records.len(), fixes(&v).len() + 1);
    assert!(
        records.iter().all(|rec| rec.len() == 7),
        "every record has 7 fields"
    );
    for (rec, (g, members)) in records[1..].iter().zip(fixes(&v)) {
        assert_eq!(rec[0], str_of(&g["severity"]));
        if members == 1 {
            assert_eq!(
                rec[5],
                str_of(&g["title"]),
                "the title survives CSV quoting"
            );
        }
    }
    let r = run(&["check", s(&estate), "--as-of", AS_OF, "--format", "md"]);
    let row = r
        .stdout
        .lines()
        .find(|l| l.contains("DM004"))
        .expect("a DM004 row");
    assert!(
        row.contains("old\\|msa"),
        "a pipe in a cell is escaped: {row}"
    );
    // 7 cells: 8 unescaped pipes.
    let pipes = row.matches('|').count() - row.matches("\\|").count();
    assert_eq!(pipes, 8, "{row}");
}

#[test]
fn acme_csv_has_one_record_per_gap() {
    let v = acme_check();
    let r = run(&["check", s(&acme()), "--as-of", AS_OF, "--format", "csv"]);
    let records = parse_csv(&r.stdout);
    // One record per fix; a fix closing several gaps names all their controls.
    assert_eq!(records.len(), fixes(&v).len() + 1);
    for (rec, (g, members)) in records[1..].iter().zip(fixes(&v)) {
        assert_eq!(rec.len(), 7);
        assert_eq!(
            rec[1],
            format!("{} {}", str_of(&g["code"]), str_of(&g["kind"]))
        );
        assert_eq!(rec[4], strings(&g["assets"]).join(", "));
        if members == 1 {
            assert_eq!(rec[6], str_of(&g["fix"]));
        } else {
            assert!(rec[6].contains(&str_of(&g["control"])), "{}", rec[6]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

fn check_file(path: &Path) -> Run {
    run(&["check", s(path), "--as-of", AS_OF])
}

#[test]
fn malformed_yaml_unclosed_flow_mapping_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "estate.yaml",
        "version: 1\nestate: x\ncustomer: me\nparties: {me: {kind: customer, name: Me\nassets: []\n",
    );
    assert_located_error(&check_file(&f), &f, "flow mapping", "fix the YAML");
}

#[test]
fn unknown_field_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "estate.yaml",
        &small_estate("assets:\n  - {id: a, service: aws:ec2, enviroment: prod}\n"),
    );
    let r = check_file(&f);
    assert_located_error(&r, &f, "unknown field `enviroment`", "did you mean `env`?");
    assert!(r.stderr.contains("env"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{}:8:", f.display())),
        "points at line 8: {}",
        r.stderr
    );
}

#[test]
fn unknown_party_in_contract_suggests_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "estate.yaml",
        &small_estate(
            "contracts:\n  - id: c1\n    party: sheildco\n    clauses:\n      - {id: \"1\", scope: {}, duties: [monitor]}\nassets:\n  - {id: a, service: aws:ec2}\n",
        ),
    );
    let r = check_file(&f);
    assert_located_error(
        &r,
        &f,
        "unknown party `sheildco`",
        "did you mean `shieldco`?",
    );
    assert!(
        r.stderr.contains(&format!("{}:9:", f.display())),
        "points at line 9: {}",
        r.stderr
    );
}

#[test]
fn unknown_control_in_assignment_suggests_os_patching() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "estate.yaml",
        &small_estate(
            "assignments:\n  - {scope: {}, controls: [os-patchin], duties: [patch], to: me/platform}\nassets:\n  - {id: a, service: aws:ec2}\n",
        ),
    );
    assert_located_error(
        &check_file(&f),
        &f,
        "unknown control `os-patchin`",
        "did you mean `os-patching`?",
    );
}

#[test]
fn unknown_team_suggests_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "estate.yaml",
        &small_estate(
            "assignments:\n  - {scope: {}, controls: [os-patching], duties: [patch], to: me/platfrom}\nassets:\n  - {id: a, service: aws:ec2}\n",
        ),
    );
    assert_located_error(&check_file(&f), &f, "platfrom", "did you mean `platform`?");
}

#[test]
fn duplicate_asset_id_points_at_both() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "estate.yaml",
        &small_estate(
            "assets:\n  - {id: a, service: aws:ec2}\n  - {id: b, service: aws:s3}\n  - {id: a, service: aws:s3}\n",
        ),
    );
    let r = check_file(&f);
    assert_located_error(&r, &f, "asset `a` is defined twice", "unique");
    // The error is at the second definition and the help cites the first.
    assert!(
        r.stderr.contains(&format!("{}:10:", f.display())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("{}:8:", f.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn duplicate_asset_across_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "estate.yaml",
        &small_estate("assets:\n  - {id: a, service: aws:ec2}\n"),
    );
    let second = write(
        dir.path(),
        "more.yaml",
        "assets:\n  - {id: a, service: aws:s3}\n",
    );
    let r = check_file(dir.path());
    assert_located_error(&r, &second, "asset `a` is defined twice", "estate.yaml");
}

#[test]
fn missing_path_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-estate");
    let r = check_file(&missing);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains(&format!("{}: error: cannot read", missing.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("help:"), "{}", r.stderr);
}

#[test]
fn directory_without_yaml_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "not an estate\n");
    let r = check_file(dir.path());
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("not an estate directory: it has no `estate.yaml` or `demarc.yaml`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("demarc init"), "{}", r.stderr);
}

#[test]
fn invalid_as_of_date_is_a_usage_error() {
    let r = run(&["check", s(&acme()), "--as-of", "2026-13-45"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("2026-13-45"), "{}", r.stderr);
    assert!(r.stderr.contains("month 13"), "{}", r.stderr);
    let r = run(&["check", s(&acme()), "--as-of", "23/11/2026"]);
    assert!(r.stderr.contains("YYYY-MM-DD"), "{}", r.stderr);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
}

#[test]
fn explain_unknown_asset_suggests_the_nearest() {
    let r = run_on_acme(&["explain", "app-servr-01", "os-patching", "patch"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("unknown asset `app-servr-01`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("help: did you mean `app-server-01`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn explain_unknown_duty_and_control_are_input_errors() {
    let r = run_on_acme(&["explain", "app-server-01", "os-patching", "reboot"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("unknown duty `reboot`"), "{}", r.stderr);
    let r = run_on_acme(&["explain", "app-server-01", "os-patchin", "patch"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `os-patching`?"),
        "{}",
        r.stderr
    );
    let r = run_on_acme(&["who", "reboots", "batch-01"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("unknown duty `reboots`"), "{}", r.stderr);
}

/// Cuts `examples/acme/assets/aws.yaml` in the middle of each asset's flow mapping: every copy
/// must fail with a located error in that file and print nothing.
#[test]
fn truncated_acme_files_are_located_errors() {
    let original = std::fs::read_to_string(acme().join("assets/aws.yaml")).unwrap();
    let cuts: Vec<usize> = original
        .match_indices("{id: ")
        .map(|(i, _)| i + 8)
        .collect();
    assert!(cuts.len() >= 10);
    for cut in cuts.iter().step_by(3) {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&acme(), dir.path());
        let f = write(dir.path(), "assets/aws.yaml", &original[..*cut]);
        let r = run(&["check", s(dir.path()), "--as-of", AS_OF, "--format", "json"]);
        assert_located_error(&r, &f, "", "fix the YAML");
    }
    // A whole file cut to its first half.
    let parties = std::fs::read_to_string(acme().join("parties.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&acme(), dir.path());
    write(dir.path(), "parties.yaml", &parties[..parties.len() / 2]);
    let r = run(&["check", s(dir.path()), "--as-of", AS_OF, "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(": error: ") && r.stderr.contains("help:"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

/// Reverses the items of the top-level list `key:` in a YAML file written in the examples'
/// style (items start with `  - `; `  #` comments and blank lines belong to the next item).
fn reverse_list(text: &str, key: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == format!("{key}:"))
        .unwrap_or_else(|| panic!("no `{key}:` line"));
    let mut head: Vec<&str> = lines[..=start].to_vec();
    let mut items: Vec<Vec<&str>> = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    for &l in &lines[start + 1..] {
        if l.starts_with("  - ") {
            pending.push(l);
            items.push(std::mem::take(&mut pending));
        } else if l.trim().is_empty() || l.starts_with("  #") {
            pending.push(l);
        } else if let Some(last) = items.last_mut() {
            last.append(&mut pending);
            last.push(l);
        } else {
            head.append(&mut pending);
            head.push(l);
        }
    }
    if let Some(last) = items.last_mut() {
        last.append(&mut pending);
    }
    assert!(!items.is_empty(), "no items under `{key}:`");
    let mut out: Vec<&str> = head;
    for item in items.into_iter().rev() {
        out.extend(item);
    }
    out.join("\n") + "\n"
}

/// The parts of a check that must not depend on file names or order: the summary and each
/// gap minus its basis (which cites file:line).
fn gap_identity(v: &Value) -> Value {
    let gaps: Vec<Value> = gaps(v)
        .iter()
        .map(|g| {
            let mut g = g.clone();
            g.as_object_mut().unwrap().remove("basis");
            g
        })
        .collect();
    serde_json::json!({ "summary": v["summary"], "gaps": gaps })
}

#[test]
fn renamed_and_reordered_files_give_the_same_gaps() {
    let (_, base) = check_json(&acme(), &[]);
    let dir = tempfile::tempdir().unwrap();
    // Reverse the sort order of the files and flatten the assets/ folder.
    let files = [
        "estate.yaml",
        "parties.yaml",
        "services.yaml",
        "contracts.yaml",
        "assignments.yaml",
        "evidence.yaml",
        "reviews.yaml",
        "incidents.yaml",
        "assets/aws.yaml",
        "assets/azure.yaml",
        "assets/gcp.yaml",
        "assets/on-prem.yaml",
        "assets/saas.yaml",
    ];
    for (i, f) in files.iter().enumerate() {
        let text = std::fs::read_to_string(acme().join(f)).unwrap();
        // The root file keeps its name (an estate directory is found by it).
        let name = if i == 0 {
            f.to_string()
        } else {
            format!("{:02}-{}", 99 - i, f.replace('/', "-")).replace(".yaml", ".yml")
        };
        write(dir.path(), &name, &text);
    }
    let (_, renamed) = check_json(dir.path(), &[]);
    assert_eq!(gap_identity(&base), gap_identity(&renamed));
}

#[test]
fn one_concatenated_file_with_reversed_lists_gives_the_same_gaps() {
    let (_, base) = check_json(&acme(), &[]);
    let read = |f: &str| std::fs::read_to_string(acme().join(f)).unwrap();
    let mut text = String::new();
    for f in [
        "reviews.yaml",
        "services.yaml",
        "estate.yaml",
        "parties.yaml",
    ] {
        text.push_str(&read(f));
        text.push('\n');
    }
    for (f, key) in [
        ("evidence.yaml", "evidence"),
        ("assignments.yaml", "assignments"),
        ("contracts.yaml", "contracts"),
        ("incidents.yaml", "incidents"),
    ] {
        text.push_str(&reverse_list(&read(f), key));
        text.push('\n');
    }
    text.push_str("assets:\n");
    for f in ["saas", "on-prem", "gcp", "azure", "aws"] {
        let reversed = reverse_list(&read(&format!("assets/{f}.yaml")), "assets");
        let (_, items) = reversed
            .split_once("\nassets:\n")
            .or_else(|| reversed.split_once("assets:\n"))
            .unwrap();
        text.push_str(items);
    }
    let dir = tempfile::tempdir().unwrap();
    let one = write(dir.path(), "everything.yaml", &text);
    let (_, single) = check_json(&one, &[]);
    assert_eq!(gap_identity(&base), gap_identity(&single));
}

#[test]
fn repeated_runs_are_byte_identical() {
    let a = run(&["check", s(&acme()), "--as-of", AS_OF, "--format", "json"]);
    let b = run(&["check", s(&acme()), "--as-of", AS_OF, "--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    let a = run(&["matrix", s(&acme()), "--as-of", AS_OF, "--format", "csv"]);
    let b = run(&["matrix", s(&acme()), "--as-of", AS_OF, "--format", "csv"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn as_of_changes_date_dependent_gaps() {
    // Before the DBCare contract ended, its clause still counts: no DM004.
    let (_, early) = check_json(&acme(), &[]);
    let r = run(&[
        "check",
        s(&acme()),
        "--as-of",
        "2026-05-01",
        "--format",
        "json",
    ]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let before = r.json();
    assert_eq!(before["as_of"], "2026-05-01");
    assert!(gaps(&early).iter().any(|g| g["code"] == "DM004"));
    assert!(
        !gaps(&before).iter().any(|g| g["code"] == "DM004"),
        "{}",
        before["summary"]
    );
}

// ---------------------------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------------------------

#[test]
fn init_scaffolds_an_estate_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new-estate");
    let r = run(&["init", s(&target), "--name", "pilot"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let file = target.join("estate.yaml");
    assert!(file.is_file());
    assert!(r.stderr.contains("estate.yaml"), "{}", r.stderr);
    let (code, v) = check_json(&target, &[]);
    assert!(code == 0 || code == 1);
    assert_eq!(v["estate"], "pilot");
    assert!(v["summary"]["assets"].as_u64().unwrap() > 0);
    // Every command works on it.
    let r = run(&["matrix", "-e", s(&target), "--as-of", AS_OF]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn init_twice_without_force_refuses() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(&["init", s(dir.path())]).code, 0);
    let file = dir.path().join("estate.yaml");
    std::fs::write(&file, "# my edits\n").unwrap();
    let r = run(&["init", s(dir.path())]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# my edits\n",
        "file left alone"
    );
    let r = run(&["init", s(dir.path()), "--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("version: 1")
    );
}

#[test]
fn init_rejects_a_bad_name() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["init", s(dir.path()), "--name", "my estate"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a valid estate name"), "{}", r.stderr);
    assert!(!dir.path().join("estate.yaml").exists());
}

// ---------------------------------------------------------------------------------------------
// catalog
// ---------------------------------------------------------------------------------------------

fn catalog_json(kind: &str) -> Vec<Value> {
    let r = run(&["catalog", "list", kind, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json().as_array().expect("a JSON array").clone()
}

#[test]
fn catalog_lists_at_least_45_sourced_services() {
    let services = catalog_json("services");
    assert!(services.len() >= 45, "{} services", services.len());
    let mut ids = BTreeSet::new();
    for svc in &services {
        let url = str_of(&svc["source"]["url"]);
        assert!(url.starts_with("https://"), "{}: {url}", svc["id"]);
        assert!(ids.insert(str_of(&svc["id"])), "duplicate {}", svc["id"]);
    }
    for id in [
        "aws:ec2",
        "aws:s3",
        "aws:rds",
        "azure:storage",
        "gcp:cloud-run",
        "saas:github",
    ] {
        assert!(ids.contains(id), "catalog lacks {id}");
    }
}

#[test]
fn catalog_lists_at_least_60_controls() {
    let controls = catalog_json("controls");
    assert!(controls.len() >= 60, "{} controls", controls.len());
    for c in &controls {
        assert!(!c["duties"].as_array().unwrap().is_empty(), "{}", c["id"]);
        assert!(!str_of(&c["layer"]).is_empty(), "{}", c["id"]);
    }
    let table = run(&["catalog", "list", "controls", "--format", "csv"]);
    assert_eq!(table.code, 0);
    assert_eq!(
        table.stdout.lines().next(),
        Some("id,name,layer,duties,evidence,nist-800-53")
    );
    assert_eq!(table.stdout.lines().count(), controls.len() + 1);
}

#[test]
fn catalog_show_rds_cites_the_provider_document() {
    let services = catalog_json("services");
    let rds = services
        .iter()
        .find(|s| s["id"] == "aws:rds")
        .expect("aws:rds");
    let url = str_of(&rds["source"]["url"]);
    let title = str_of(&rds["source"]["title"]);
    let r = run(&["catalog", "show", "aws:rds"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&url), "{}", r.stdout);
    assert!(r.stdout.contains(&title), "{}", r.stdout);
    assert!(r.stdout.contains("dbaas"), "{}", r.stdout);
}

#[test]
fn catalog_show_typo_suggests() {
    let r = run(&["catalog", "show", "os-patchin"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("did you mean `os-patching`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn catalog_show_csv_is_pure_csv() {
    let r = run(&["catalog", "show", "os-patching", "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first = r.stdout.lines().next().unwrap_or_default();
    // Only the duties os-patching has: no empty columns.
    assert_eq!(first, "service,model,patch,monitor,audit", "{}", r.stdout);
}

#[test]
fn catalog_show_control_lists_every_service() {
    let services = catalog_json("services");
    let r = run(&["catalog", "show", "os-patching", "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("service,model,"), "{}", r.stdout);
    for svc in &services {
        let id = str_of(&svc["id"]);
        assert!(r.stdout.contains(&format!("\n{id},")), "no row for {id}");
    }
}

// ---------------------------------------------------------------------------------------------
// schema, colour
// ---------------------------------------------------------------------------------------------

#[test]
fn schema_is_json_with_the_estate_sections() {
    let r = run(&["schema"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let props = v["properties"].as_object().expect("properties");
    for key in [
        "assets",
        "contracts",
        "parties",
        "assignments",
        "evidence",
        "version",
    ] {
        assert!(props.contains_key(key), "schema lacks `{key}`");
    }
}

#[test]
fn no_color_output_has_no_ansi_escapes() {
    let acme = acme();
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", s(&acme), "--as-of", AS_OF],
        vec!["check", s(&acme), "--as-of", AS_OF, "--wide"],
        vec!["matrix", s(&acme), "--as-of", AS_OF],
        vec!["matrix", s(&acme), "--as-of", AS_OF, "--rows", "--problems"],
        vec![
            "explain",
            "app-server-01",
            "os-patching",
            "patch",
            "-e",
            s(&acme),
            "--as-of",
            AS_OF,
        ],
        vec![
            "who",
            "patches",
            "batch-01",
            "-e",
            s(&acme),
            "--as-of",
            AS_OF,
        ],
        vec!["catalog", "list"],
        vec!["catalog", "show", "aws:rds"],
    ];
    for args in commands {
        let r = exec(demarc().env("NO_COLOR", "1").args(&args));
        assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
        assert!(!r.stdout.is_empty(), "{args:?}");
        assert!(
            !r.stdout.contains("\x1b["),
            "{args:?} printed an ANSI escape"
        );
        assert!(
            !r.stderr.contains("\x1b["),
            "{args:?} printed an ANSI escape on stderr"
        );
    }
}

/// Runs `demarc ARGS` with stdout on a 200-column pseudo-terminal (via util-linux `script`)
/// and stderr discarded; `None` when `script` is not installed.
fn on_tty(env: &str, args: &[&str]) -> Option<String> {
    on_tty_cols(200, env, args)
}

fn on_tty_cols(cols: u16, env: &str, args: &[&str]) -> Option<String> {
    let probe = Command::new("script").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: util-linux `script` is not available");
        return None;
    }
    let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
    let line = format!(
        "stty cols {cols} rows 50; {env} {} {} 2>/dev/null",
        quote(env!("CARGO_BIN_EXE_demarc")),
        args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
    );
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("DEMARC_ESTATE")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn tables_on_a_terminal_are_coloured_unless_no_color() {
    let acme = acme();
    let args = ["check", s(&acme), "--as-of", AS_OF];
    let Some(coloured) = on_tty("", &args) else {
        return;
    };
    assert!(
        coloured.contains("\x1b["),
        "a terminal gets colour:\n{coloured}"
    );
    let plain = on_tty("NO_COLOR=1", &args).unwrap();
    assert!(plain.contains("DM001"), "{plain}");
    assert!(
        !plain.contains("\x1b["),
        "NO_COLOR=1 still printed ANSI escapes"
    );
    for args in [
        vec!["matrix", s(&acme), "--as-of", AS_OF, "--rows", "--problems"],
        vec![
            "who",
            "patches",
            "batch-01",
            "-e",
            s(&acme),
            "--as-of",
            AS_OF,
        ],
    ] {
        let plain = on_tty("NO_COLOR=1", &args).unwrap();
        assert!(
            plain.contains("batch-01") || plain.contains("os-patching"),
            "{plain}"
        );
        assert!(
            !plain.contains("\x1b["),
            "{args:?}: NO_COLOR=1 still printed ANSI escapes"
        );
    }
}

#[test]
fn machine_formats_are_never_coloured_even_on_a_terminal() {
    let acme = acme();
    for format in ["csv", "md", "json"] {
        for args in [
            vec!["check", s(&acme), "--as-of", AS_OF, "--format", format],
            vec!["matrix", s(&acme), "--as-of", AS_OF, "--format", format],
            vec!["catalog", "list", "services", "--format", format],
        ] {
            let Some(out) = on_tty("", &args) else { return };
            assert!(!out.trim().is_empty(), "{args:?}");
            assert!(!out.contains("\x1b["), "{args:?} coloured a machine format");
        }
    }
}

/// no-color.org: NO_COLOR disables colour "when present and not an empty string".
#[test]
fn empty_no_color_keeps_colour() {
    let acme = acme();
    let Some(out) = on_tty("NO_COLOR=", &["check", s(&acme), "--as-of", AS_OF]) else {
        return;
    };
    assert!(
        out.contains("\x1b["),
        "NO_COLOR= (empty) should not disable colour"
    );
}

/// The header row of a terminal table: the text between the first `│` and the next `│`.
/// A table that cannot fit without splitting an id is laid out as one block of
/// `header: value` lines per row instead; then the headers are those labels.
fn first_table_row(out: &str) -> String {
    match out.lines().find(|l| l.starts_with('│')) {
        Some(l) => l.to_string(),
        None => out
            .lines()
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.trim_start().split_once(':').map(|(h, _)| h))
            .collect::<Vec<_>>()
            .join(" │ "),
    }
}

#[test]
fn tables_fit_a_narrow_terminal_with_readable_headers() {
    let acme = acme();
    let args = [
        "who",
        "patches",
        "batch-01",
        "-e",
        s(&acme),
        "--as-of",
        AS_OF,
    ];
    let Some(out) = on_tty_cols(100, "NO_COLOR=1", &args) else {
        return;
    };
    let header = first_table_row(&out);
    for word in ["control", "layer", "ownership", "responsible", "basis"] {
        assert!(header.contains(word), "header `{header}` lacks `{word}`");
    }
    for line in out.lines().map(|l| l.trim_end_matches('\r')) {
        assert!(
            line.chars().count() <= 100,
            "wider than the terminal: {line}"
        );
    }
}

/// A terminal that reports 0 columns (a pty nobody sized: `script`, `docker exec -t`, some CI
/// runners) should be treated as of unknown width, not as 0 columns wide.
#[test]
fn tables_on_a_zero_width_terminal_stay_readable() {
    let acme = acme();
    let args = [
        "who",
        "patches",
        "batch-01",
        "-e",
        s(&acme),
        "--as-of",
        AS_OF,
    ];
    let Some(out) = on_tty_cols(0, "NO_COLOR=1", &args) else {
        return;
    };
    let header = first_table_row(&out);
    assert!(
        header.contains("control"),
        "header collapsed: `{header}`\n{out}"
    );
}

#[test]
fn estate_env_var_selects_the_estate() {
    let r = exec(
        demarc()
            .env("DEMARC_ESTATE", acme())
            .args(["check", "--as-of", AS_OF, "--format", "json"]),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.json()["estate"], "acme-retail");
}

// ---------------------------------------------------------------------------------------------
// Snapshot
// ---------------------------------------------------------------------------------------------

/// The identity of every acme gap: a change here is a change in what demarc finds.
#[test]
fn acme_gap_identities_snapshot() {
    let v = acme_check();
    let ids: Vec<String> = gaps(&v)
        .iter()
        .map(|g| {
            format!(
                "{} {} {} [{}]",
                str_of(&g["severity"]),
                str_of(&g["key"]),
                g["asset_count"],
                strings(&g["assets"]).join(", ")
            )
        })
        .collect();
    insta::assert_json_snapshot!(ids);
}

#[test]
fn streamed_matrix_rows_agree_with_who() {
    // `matrix --rows` streams its JSON; `who` collects it. Same cells, same document shape.
    let m = run_on_acme(&[
        "matrix", "--rows", "--asset", "batch-01", "--duty", "patch", "--format", "json",
    ]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let w = run_on_acme(&["who", "patches", "batch-01", "--format", "json"]);
    assert_eq!(w.code, 0, "{}", w.stderr);
    let (m, w) = (m.json(), w.json());
    assert_eq!(m["schema"], "demarc.cells/v1");
    assert!(!m["cells"].as_array().unwrap().is_empty());
    assert_eq!(m, w);
    // The CSV stream has one line per cell plus the header.
    let csv = run_on_acme(&[
        "matrix", "--rows", "--asset", "batch-01", "--duty", "patch", "--format", "csv",
    ]);
    assert_eq!(
        csv.stdout.lines().count(),
        m["cells"].as_array().unwrap().len() + 1,
        "{}",
        csv.stdout
    );
}
