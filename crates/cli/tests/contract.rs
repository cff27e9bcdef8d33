//! The JSON contract, checked the way ripgrep checks its JSON output: every command's JSON is
//! read back into this file's OWN copies of the documented shapes, with unknown fields denied.
//! These copies do not use `demarc-api`, so a field renamed, removed or added in the product
//! fails here until the documentation (docs/json-output.md) and these copies agree with it.
//! Each output is also validated against the JSON Schema that `demarc schema NAME` prints.

use std::collections::BTreeMap;
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

const AS_OF: &str = "2026-11-23";

fn demarc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

fn acme(args: &[&str]) -> String {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/acme");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-e", examples, "--as-of", AS_OF]);
    let (code, out, err) = demarc(&all);
    assert!(code == 0 || code == 1, "{args:?} exited {code}: {err}");
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Check {
    schema: String,
    estate: String,
    as_of: String,
    accountable: String,
    summary: Summary,
    gaps: Vec<Gap>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Summary {
    assets: usize,
    cells: usize,
    ownership: BTreeMap<String, usize>,
    assumed_cells: usize,
    unassigned_cells: usize,
    gaps: usize,
    by_severity: BTreeMap<String, usize>,
    by_code: BTreeMap<String, usize>,
    accepted: usize,
    #[serde(default)]
    new: Option<usize>,
    fixes: usize,
    classes: usize,
    tables: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Gap {
    code: String,
    kind: String,
    key: String,
    severity: String,
    title: String,
    control: Option<String>,
    #[serde(default)]
    duties: Vec<String>,
    assets: Vec<String>,
    asset_count: usize,
    cells: usize,
    basis: Vec<String>,
    fix: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    accepted: Option<Accepted>,
    #[serde(default)]
    new: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Accepted {
    reason: String,
    approved_by: String,
    expires: String,
    pattern: String,
    at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Cells {
    schema: String,
    estate: String,
    as_of: String,
    accountable: String,
    cells: Vec<Cell>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Cell {
    asset: String,
    service: String,
    control: String,
    control_name: String,
    layer: String,
    duty: String,
    ownership: String,
    origination: String,
    responsible: Vec<Assignee>,
    accountable: String,
    assumed: bool,
    unassigned: bool,
    contested: Vec<String>,
    unsplit: bool,
    sla: Option<String>,
    cadence: Option<String>,
    decided_by: Option<String>,
    basis: Vec<Basis>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Assignee {
    party: String,
    team: Option<String>,
    role: String,
    named: bool,
    does: Option<String>,
    #[serde(default)]
    via: Vec<String>,
    declared: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Basis {
    kind: String,
    rule: String,
    rule_id: Option<String>,
    at: Option<String>,
    url: Option<String>,
    origin: Option<Origin>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
#[allow(dead_code)]
enum Origin {
    File {
        path: String,
        line: u32,
        column: u32,
    },
    Record {
        source: String,
        record: u64,
        line: u32,
        address: Option<String>,
    },
    Api {
        actor: String,
    },
    Builtin {
        what: String,
    },
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Triage {
    schema: String,
    asset: String,
    control: String,
    duty: String,
    as_of: String,
    responsible: Vec<Assignee>,
    accountable: String,
    contacts: Vec<Contact>,
    sla: Option<String>,
    escalation: Vec<String>,
    basis: Vec<Basis>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Contact {
    party: String,
    team: Option<String>,
    name: String,
    contact: Option<String>,
    phone: Option<String>,
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| {
        panic!(
            "{what} does not match the documented shape: {e}\n{}",
            &text[..text.len().min(2000)]
        )
    })
}

/// Validates `instance` against the schema `demarc schema NAME` prints.
fn conforms(name: &str, instance: &Value) {
    let (code, out, err) = demarc(&["schema", name]);
    assert_eq!(code, 0, "{err}");
    let schema: Value = serde_json::from_str(&out).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} output breaks its schema: {errors:#?}"
    );
}

#[test]
fn check_json_is_the_documented_shape_and_fits_its_schema() {
    let out = acme(&["check", "--format", "json"]);
    let c: Check = parse("check", &out);
    assert_eq!(c.schema, "demarc.check/v1");
    assert_eq!(c.accountable, "acme");
    assert_eq!(c.summary.gaps, c.gaps.len());
    assert!(
        c.gaps
            .iter()
            .all(|g| g.key.starts_with(&format!("{}:", g.code)))
    );
    conforms("check", &serde_json::from_str(&out).unwrap());
}

#[test]
fn check_ndjson_is_one_gap_per_line_equal_to_the_json_gaps() {
    let json: Value = serde_json::from_str(&acme(&["check", "--format", "json"])).unwrap();
    let nd = acme(&["check", "--format", "ndjson"]);
    let lines: Vec<Value> = nd
        .lines()
        .map(|l| {
            let _: Gap = parse("check ndjson line", l);
            let v: Value = serde_json::from_str(l).unwrap();
            conforms("gap", &v);
            v
        })
        .collect();
    assert_eq!(&Value::Array(lines), &json["gaps"]);
}

#[test]
fn matrix_rows_json_and_ndjson_agree_and_fit_their_schemas() {
    let out = acme(&["matrix", "--rows", "--problems", "--format", "json"]);
    let c: Cells = parse("matrix --rows", &out);
    assert_eq!(c.schema, "demarc.cells/v1");
    assert!(!c.cells.is_empty());
    assert!(
        c.cells
            .iter()
            .all(|x| x.unassigned || x.unsplit || !x.contested.is_empty())
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    conforms("cells", &v);
    let nd = acme(&["matrix", "--rows", "--problems", "--format", "ndjson"]);
    let lines: Vec<Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for l in nd.lines() {
        let _: Cell = parse("matrix ndjson line", l);
    }
    assert_eq!(&Value::Array(lines), &v["cells"]);
}

#[test]
fn who_explain_and_triage_json_are_the_documented_shapes() {
    let out = acme(&["who", "patches", "app-server-01", "--format", "json"]);
    let c: Cells = parse("who", &out);
    assert!(
        c.cells
            .iter()
            .all(|x| x.duty == "patch" && x.asset == "app-server-01")
    );
    conforms("cells", &serde_json::from_str(&out).unwrap());

    let out = acme(&[
        "explain",
        "app-server-01",
        "os-patching",
        "patch",
        "--format",
        "json",
    ]);
    let cell: Cell = parse("explain", &out);
    assert_eq!(cell.control, "os-patching");
    assert!(cell.basis.iter().any(|b| b.rule_id.is_some()));
    conforms("explain", &serde_json::from_str(&out).unwrap());

    let out = acme(&[
        "triage",
        "app-server-01",
        "--control",
        "security-monitoring",
        "--format",
        "json",
    ]);
    let t: Triage = parse("triage", &out);
    assert_eq!(t.schema, "demarc.triage/v1");
    assert_eq!(
        t.escalation.last().map(|e| e.contains("(accountable)")),
        Some(true)
    );
    conforms("triage", &serde_json::from_str(&out).unwrap());
}

#[test]
fn unknown_schema_names_are_a_usage_error() {
    let (code, _, err) = demarc(&["schema", "chek"]);
    assert_eq!(code, 2);
    assert!(err.contains("check"), "{err}");
    let (code, out, _) = demarc(&["schema"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"title\": \"demarc estate\""), "{out}");
}

#[test]
fn schemas_reject_a_broken_output() {
    // The schema check above would be worthless if the schemas accepted anything.
    let (_, out, _) = demarc(&["schema", "check"]);
    let schema: Value = serde_json::from_str(&out).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut good: Value = serde_json::from_str(&acme(&["check", "--format", "json"])).unwrap();
    assert!(validator.is_valid(&good));
    good["gaps"][0]["severity"] = Value::from("catastrophic");
    assert!(!validator.is_valid(&good));
    good.as_object_mut().unwrap().remove("summary");
    assert!(!validator.is_valid(&good));
}
