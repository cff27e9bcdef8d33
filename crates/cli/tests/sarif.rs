//! `check --format sarif` and `--format junit` on the acme example.
//!
//! The SARIF log is validated against the official OASIS SARIF 2.1.0 JSON schema when a copy
//! is available: `DEMARC_SARIF_SCHEMA=/path/to/sarif-schema-2.1.0.json`, or
//! `../shared/sarif/sarif-schema-2.1.0.json` beside the repository. The schema is not vendored
//! here because its licence (the OASIS IPR policy the sarif-spec repository points to) could not
//! be confirmed to allow redistribution. Without it, the test checks the structure SARIF
//! requires by hand, against the rules of the 2.1.0 specification that matter for this output.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(format: &str, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .current_dir(root())
        .args([
            "check",
            "examples/acme",
            "--as-of",
            "2026-11-23",
            "--format",
            format,
        ])
        .args(extra)
        .output()
        .expect("run demarc");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn official_schema() -> Option<Value> {
    let path = std::env::var_os("DEMARC_SARIF_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/sarif/sarif-schema-2.1.0.json"));
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).expect("the SARIF schema is JSON"))
}

/// The SARIF 2.1.0 requirements this output relies on, checked by hand.
fn check_structure(v: &Value) {
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "demarc");
    let rules = driver["rules"].as_array().unwrap();
    for r in rules {
        assert!(r["id"].is_string());
        assert!(r["shortDescription"]["text"].is_string());
    }
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    for res in run["results"].as_array().unwrap() {
        assert!(res["message"]["text"].is_string());
        assert!(["none", "note", "warning", "error"].contains(&res["level"].as_str().unwrap()));
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        for fp in res["partialFingerprints"].as_object().unwrap().values() {
            assert!(fp.is_string());
        }
        for loc in res["locations"].as_array().unwrap() {
            let art = &loc["physicalLocation"]["artifactLocation"];
            let uri = art["uri"].as_str().unwrap();
            assert!(!uri.contains(' ') && !uri.contains('\\'), "{uri}");
            if let Some(line) = loc["physicalLocation"]["region"]["startLine"].as_u64() {
                assert!(line >= 1);
            }
        }
    }
}

#[test]
fn sarif_is_valid_and_locates_each_gap_in_the_estate() {
    let (code, out) = check("sarif", &[]);
    assert_eq!(code, 1, "acme has gaps at or above low");
    let v: Value = serde_json::from_str(&out).expect("SARIF is JSON");
    check_structure(&v);
    match official_schema() {
        Some(schema) => {
            let validator = jsonschema::validator_for(&schema).expect("schema compiles");
            let errors: Vec<String> = validator
                .iter_errors(&v)
                .map(|e| format!("{} at {}", e, e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{errors:#?}");
        }
        None => eprintln!(
            "note: no SARIF 2.1.0 schema (set DEMARC_SARIF_SCHEMA or add ../shared/sarif/); checked the structure by hand"
        ),
    }

    let run = &v["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"DM001") && rules.contains(&"DM013"),
        "{rules:?}"
    );

    // One result per gap, in the same order and with the same keys as the JSON output.
    let (_, json) = check("json", &[]);
    let json: Value = serde_json::from_str(&json).unwrap();
    let gaps = json["gaps"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), gaps.len());
    for (r, g) in results.iter().zip(gaps) {
        assert_eq!(r["ruleId"], g["code"]);
        assert_eq!(r["partialFingerprints"]["demarcGapKey/v1"], g["key"]);
        let level = match g["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("examples/acme/"), "{uri}");
        // The line is real: the file has it.
        let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
        let text = std::fs::read_to_string(root().join(uri)).unwrap();
        assert!(line <= text.lines().count(), "{uri}:{line}");
    }

    // The unassigned storage-access-logging gap points at the first bucket's definition.
    let sal = results
        .iter()
        .find(|r| r["partialFingerprints"]["demarcGapKey/v1"] == "DM001:storage-access-logging")
        .unwrap();
    let loc = &sal["locations"][0]["physicalLocation"];
    let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
    let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(root().join(uri)).unwrap();
    assert!(
        text.lines()
            .nth(line - 1)
            .unwrap()
            .contains("cloudtrail-archive"),
        "{uri}:{line}"
    );
    // A gap a rule causes points at the rule: the expired DBCare clause.
    let expired = results
        .iter()
        .find(|r| r["ruleId"] == "DM004")
        .expect("acme has an expired clause");
    let loc = &expired["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "examples/acme/contracts.yaml"
    );
}

#[test]
fn junit_is_well_formed_with_one_failure_per_gap() {
    use quick_xml::Reader;
    use quick_xml::events::Event;

    let (code, out) = check("junit", &[]);
    assert_eq!(code, 1);
    let (_, json) = check("json", &[]);
    let json: Value = serde_json::from_str(&json).unwrap();
    let gaps = json["gaps"].as_array().unwrap().len();

    let count = |xml: &str| {
        let mut reader = Reader::from_str(xml);
        let (mut cases, mut failures, mut skipped, mut depth) = (0, 0, 0, 0i32);
        let mut declared = None;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuites" => {
                    let f = e
                        .try_get_attribute("failures")
                        .unwrap()
                        .unwrap()
                        .decode_and_unescape_value(reader.decoder())
                        .unwrap()
                        .parse::<usize>()
                        .unwrap();
                    declared = Some(f);
                    depth += 1;
                }
                Event::Start(e) => {
                    depth += 1;
                    match e.name().as_ref() {
                        b"testcase" => cases += 1,
                        b"failure" => {
                            failures += 1;
                            // Attribute values unescape cleanly.
                            e.try_get_attribute("message")
                                .unwrap()
                                .unwrap()
                                .decode_and_unescape_value(reader.decoder())
                                .unwrap();
                        }
                        _ => {}
                    }
                }
                Event::Empty(e) => match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"skipped" => skipped += 1,
                    _ => {}
                },
                Event::End(_) => depth -= 1,
                Event::Text(t) => {
                    t.unescape().expect("text unescapes");
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "every element is closed");
        assert_eq!(declared, Some(failures));
        (cases, failures, skipped)
    };
    let (cases, failures, skipped) = count(&out);
    assert_eq!(failures, gaps, "every gap at or above low fails in acme");
    assert_eq!(skipped, 0);
    assert!(cases > gaps, "codes without gaps are passing test cases");
    assert!(out.contains("&lt;these assets&gt;"), "fix text is escaped");

    // Below --fail-on, a gap is reported as skipped, not failed.
    let (code, out) = check("junit", &["--fail-on", "critical"]);
    assert_eq!(code, 1);
    let (_, failures, skipped) = count(&out);
    let critical = json["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["severity"] == "critical")
        .count();
    assert_eq!(failures, critical);
    assert_eq!(skipped, gaps - critical);
}

#[test]
fn sarif_and_junit_are_check_formats_only() {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .current_dir(root())
        .args([
            "who",
            "patches",
            "batch-01",
            "-e",
            "examples/acme",
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is for `demarc check`"));
}
