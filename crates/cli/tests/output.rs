//! Output people read: terminal layout of the gap list, `explain`, the HTML report's content,
//! `catalog show`, `init` and `matrix --problems`. Every test runs the real binary.

use std::path::{Path, PathBuf};
use std::process::Command;

const AS_OF: &str = "2026-11-23";

fn demarc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_demarc"));
    c.env_remove("DEMARC_ESTATE")
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS");
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn exec(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run demarc");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn acme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `check acme` as a table, with `COLUMNS` set or not (the test's stdout is a pipe).
fn acme_check_table(columns: Option<&str>) -> String {
    let mut c = demarc();
    c.args(["check", s(&acme()), "--as-of", AS_OF]);
    if let Some(w) = columns {
        c.env("COLUMNS", w);
    }
    let r = exec(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    r.stdout
}

/// Every id the acme gap list names (assets and controls): none may be cut across lines.
fn whole_ids(out: &str) -> Vec<String> {
    let r = exec(demarc().args(["check", s(&acme()), "--as-of", AS_OF, "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut ids = Vec::new();
    for g in v["gaps"].as_array().unwrap() {
        if let Some(c) = g["control"].as_str() {
            ids.push(c.to_string());
        }
        for a in g["assets"].as_array().unwrap() {
            ids.push(a.as_str().unwrap().to_string());
        }
    }
    let _ = out;
    ids.sort();
    ids.dedup();
    ids
}

/// Item 9: piped output has no 500-character lines; every line stays near the piped width
/// unless a single unbreakable word (a YAML snippet) is longer.
#[test]
fn piped_gap_list_is_compact_and_short_lined() {
    let out = acme_check_table(None);
    let gap_lines: Vec<&str> = out.lines().skip(4).collect();
    for l in &gap_lines {
        let long = l.chars().count() > 100;
        assert!(
            !long || l.trim_start().starts_with('`') || !l.trim().contains(' '),
            "a piped line is {} characters: {l}",
            l.chars().count()
        );
        assert!(l.chars().count() < 140, "{l}");
    }
    // Compact: no box drawing, one head line per gap starting with its severity, a fix line.
    assert!(!out.contains('│'), "{out}");
    let heads = gap_lines
        .iter()
        .filter(|l| {
            ["critical ", "high ", "medium ", "low ", "info "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    // One head line per fix (gaps one assignment closes are one entry).
    let fixes: usize = out
        .lines()
        .find_map(|l| l.strip_suffix(" fixes to make"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no fix count: {out}"));
    assert_eq!(heads, fixes, "{out}");
    assert!(
        gap_lines.len() < 19 * 6,
        "{} lines for 19 gaps",
        gap_lines.len()
    );
    assert!(out.contains("\n    fix: "), "{out}");
}

/// Item 9: at 100 and 120 columns no id and no YAML fix is split mid-word.
#[test]
fn narrow_terminals_never_split_ids_or_yaml_fixes() {
    for cols in ["100", "120"] {
        let out = acme_check_table(Some(cols));
        let width: usize = cols.parse().unwrap();
        // Every id appears whole on one line.
        let lines: Vec<&str> = out.lines().collect();
        // The output with every line break (and its indent) removed: an id found there but on
        // no single line was cut across a break.
        let glued: String = lines.iter().map(|l| l.trim_start()).collect();
        let ids = whole_ids(&out);
        assert!(ids.iter().any(|id| id == "storage-access-logging"));
        for id in ids.iter().filter(|id| glued.contains(id.as_str())) {
            assert!(
                lines.iter().any(|l| l.contains(id.as_str())),
                "`{id}` is split across lines at {cols} columns:\n{out}"
            );
        }
        // No line ends inside a word of an id: the classic `storage-access-l` / `ogging`.
        assert!(!out.contains("storage-access-l\n"), "{out}");
        // The YAML fix of the unassigned gap is one piece on one line.
        assert!(
            out.lines().any(|l| l.contains(
                "`{scope: <these assets>, controls: [storage-access-logging], duties: [configure], to: acme/<team>}`"
            )),
            "{out}"
        );
        for l in out.lines() {
            let n = l.chars().count();
            assert!(
                n <= width || l.trim_start().starts_with('`'),
                "line of {n} > {width}: {l}"
            );
        }
    }
}

/// Item 9: a wide terminal gets the table, still without splitting a word.
#[test]
fn wide_terminal_gets_a_table_without_split_words() {
    let out = acme_check_table(Some("400"));
    assert!(out.contains('│'), "{out}");
    for l in out.lines() {
        assert!(l.chars().count() <= 400);
    }
    assert!(!out.contains("storage-access-l │"), "{out}");
}

fn explain(estate: &Path, asset: &str, control: &str, duty: &str) -> String {
    let r = exec(demarc().args([
        "explain",
        asset,
        control,
        duty,
        "-e",
        s(estate),
        "--as-of",
        AS_OF,
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

/// Item 14: the losing side of a contest names the winner and both scores; no repeated
/// ownership; an MSSP is not called the customer's owner.
#[test]
fn explain_names_the_winner_scores_and_roles() {
    let out = explain(&acme(), "app-server-01", "key-management", "configure");
    assert!(out.contains("ownership:   shared\n"), "{out}");
    assert!(!out.contains("shared (shared)"), "{out}");
    assert!(
        out.contains("decided by:  assignment to acme/platform"),
        "{out}"
    );
    assert!(
        out.contains("why: lost a tie to assignment to acme/platform: both have specificity 7"),
        "{out}"
    );
    assert!(
        out.contains("CONTESTED — equally specific rules also name acme/secops"),
        "{out}"
    );

    let out = explain(&acme(), "app-server-01", "waf", "configure");
    assert!(out.contains("shieldco (MSSP working for acme)"), "{out}");
    assert!(!out.contains("customer's owner"), "{out}");
    assert!(
        out.contains("whose scope is more specific (specificity 11 against this rule's 7)"),
        "{out}"
    );
}

/// Item 14: an override is decisive and the header says the decisive rule comes first; the
/// overridden provider document and the outranked assignment follow with why.
#[test]
fn explain_lists_the_decisive_override_first_as_its_header_says() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("estate.yaml"),
        r#"version: 1
estate: ov
customer: me
parties:
  me: {kind: customer, name: Me, teams: {ops: {contact: ops@example.com}, sec: {contact: sec@example.com}}}
assignments:
  - {scope: {}, duties: [configure, patch, monitor, respond, audit], to: me/ops}
overrides:
  - {scope: {assets: [web-01]}, controls: [os-patching], duties: [patch], to: me/sec, reason: "sec patches the web tier", approved_by: ciso, expires: 2027-06-30}
assets:
  - {id: web-01, service: aws:ec2, env: prod}
"#,
    )
    .unwrap();
    let out = explain(dir.path(), "web-01", "os-patching", "patch");
    assert!(out.contains("basis (decisive rule first"), "{out}");
    let first = out
        .lines()
        .find(|l| l.trim_start().starts_with("1. "))
        .unwrap();
    assert!(first.contains("[override] (decisive)"), "{out}");
    assert!(
        out.contains("ownership:   csc-owned (customer responsibility)"),
        "{out}"
    );
    assert!(out.contains("me/sec (the customer's own team)"), "{out}");
    assert!(out.contains("why: set aside by override"), "{out}");
}

/// Item 15: the HTML report shows problems in colour, the basis on the page (expandable and
/// printed), charts as inline SVG, a severity breakdown, a print style sheet, the version and
/// the catalog's dates; it needs no script and fetches nothing.
#[test]
fn html_report_is_a_self_contained_client_document() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.html");
    let r = exec(demarc().args(["check", s(&acme()), "--as-of", AS_OF, "--html", s(&file)]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let html = std::fs::read_to_string(&file).unwrap();
    // The critical key-management contest is a problem cell, coloured and listed with basis.
    assert!(
        html.contains(r#"class="cell contested""#),
        "contested cells are not coloured"
    );
    assert!(html.contains(r#"class="cell unsplit""#));
    assert!(html.contains(r#"class="cell gap""#));
    assert!(
        html.contains(r#"<span class="badge b-contested">contested</span> <small>key-management"#)
    );
    let problems = &html[html.find(r#"<section id="problems">"#).unwrap()..];
    assert!(problems.contains("<code>key-management</code> · configure"));
    assert!(problems.contains("also claimed for: <b>acme/secops</b>"));
    assert!(problems.contains("decisive · assignment"));
    // Basis expandable on screen, and a printed copy.
    assert!(html.contains(r#"<details class="screen-only"><summary>basis ("#));
    assert!(html.contains(r#"<div class="print-only">"#));
    assert!(html.contains("@media print"));
    // Charts and breakdown.
    assert!(html.matches("<svg ").count() >= 2);
    assert!(html.contains("Gaps by severity") && html.contains("Cells per responsible party"));
    assert!(html.contains("Severity breakdown"));
    assert!(html.contains("DM001 ×"));
    // Version and catalog dates.
    assert!(html.contains(&format!("demarc {}", env!("CARGO_PKG_VERSION"))));
    assert!(html.contains("provider documents checked 20"));
    // Self-contained, no script.
    assert!(!html.contains("<script"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    assert!(!html.contains("@import"));
}

/// Item 15: askama escaping holds in the new sections (a hostile asset id).
#[test]
fn html_report_escapes_estate_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("estate.yaml"),
        r#"version: 1
estate: esc
customer: me
parties:
  me: {kind: customer, name: Me}
assets:
  - {id: "x<b>y", service: aws:ec2, env: prod}
"#,
    )
    .unwrap();
    let file = dir.path().join("r.html");
    let r = exec(demarc().args(["check", s(dir.path()), "--as-of", AS_OF, "--html", s(&file)]));
    if r.code == 2 {
        // Ids with markup characters may be refused outright; then there is nothing to escape.
        return;
    }
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(!html.contains("x<b>y"));
    assert!(html.contains("x&#60;b&#62;y") || html.contains("x&lt;b&gt;y"));
}

/// Item 16: `catalog show` has no columns for duties the control does not have.
#[test]
fn catalog_show_has_no_empty_duty_columns() {
    let r = exec(demarc().args(["catalog", "show", "os-patching", "--format", "csv"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let header = r.stdout.lines().next().unwrap();
    let dutied = exec(demarc().args(["catalog", "show", "os-patching", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&dutied.stdout).unwrap();
    let duties: Vec<&str> = v["duties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let cols: Vec<&str> = header.split(',').collect();
    assert_eq!(cols[..2], ["service", "model"]);
    assert_eq!(cols[2..], duties[..], "{header}");
    assert!(duties.len() < 5, "pick a control without every duty");
    for line in r.stdout.lines().skip(1) {
        assert!(!line.ends_with(','), "empty column: {line}");
        assert!(!line.contains(",,"), "empty column: {line}");
    }
}

/// Item 16: `init` writes dates relative to today, so the scaffold never expires into gaps.
#[test]
fn init_dates_are_relative_to_today() {
    let dir = tempfile::tempdir().unwrap();
    let r = exec(demarc().args(["init", s(dir.path())]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.path().join("estate.yaml")).unwrap();
    let today = chrono::Local::now().date_naive();
    let expected = today - chrono::Days::new(90);
    assert!(text.contains(&format!("period_end: {expected}")), "{text}");
    // Checked today and a year on, the scaffold has no attestation gap.
    for when in [today, today + chrono::Days::new(200)] {
        let r = exec(demarc().args([
            "check",
            s(dir.path()),
            "--format",
            "json",
            "--as-of",
            &when.to_string(),
        ]));
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let codes: Vec<&str> = v["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["kind"].as_str().unwrap_or("").starts_with("attestation"))
            .map(|g| g["code"].as_str().unwrap())
            .collect();
        assert!(codes.is_empty(), "{when}: {codes:?}");
    }
}

/// Item 16: `matrix --problems` says which problem each row has.
#[test]
fn matrix_problems_names_each_rows_problem() {
    let r = exec(demarc().args([
        "matrix",
        s(&acme()),
        "--as-of",
        AS_OF,
        "--problems",
        "--format",
        "csv",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rdr = csv::Reader::from_reader(r.stdout.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let k = headers
        .iter()
        .position(|h| h == "problem")
        .expect("problem column");
    let mut seen = std::collections::BTreeSet::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let p = &rec[k];
        assert!(!p.is_empty());
        for part in p.split('+') {
            assert!(
                ["unassigned", "contested", "unsplit"].contains(&part),
                "{p}"
            );
            seen.insert(part.to_string());
        }
        if &rec[2] == "key-management" && &rec[4] == "configure" && p.contains("contested") {
            seen.insert("key-management contest".to_string());
        }
    }
    assert!(seen.remove("key-management contest"), "{seen:?}");
    assert_eq!(seen.len(), 3, "{seen:?}");
    // Without --problems the rows keep their columns.
    let r = exec(demarc().args([
        "matrix",
        s(&acme()),
        "--as-of",
        AS_OF,
        "--rows",
        "--format",
        "csv",
    ]));
    assert!(!r.stdout.lines().next().unwrap().contains("problem"));
}
