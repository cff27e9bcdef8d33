//! `demarc import caiq` on generated workbooks (made-up question text; no CSA content).

use std::path::Path;
use std::process::Command;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
use serde_json::Value;

fn demarc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn workbook(path: &Path) {
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2026, 10, 1).unwrap()),
    );
    let ws = wb.add_worksheet();
    ws.set_name("CAIQv4.0.3").unwrap();
    ws.write_string(0, 0, "Made-up title").unwrap();
    for (c, h) in [
        "Question ID",
        "Question",
        "SSRM Control Ownership",
        "CSP Implementation Description",
        "CSC Responsibilities",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, (q, o, p, c)) in [
        ("IAM-14.1", "CSP-owned", "Made-up: provider text.", ""),
        ("DCS-03.1", "CSC-owned", "", "Made-up: customer text."),
        (
            "LOG-02.1",
            "Shared CSP and CSC",
            "Made-up: p.",
            "Made-up: c.",
        ),
        ("TVM-03.1", "Never", "", ""),
    ]
    .iter()
    .enumerate()
    {
        let r = r as u32 + 2;
        ws.write_string(r, 0, *q).unwrap();
        ws.write_string(r, 1, "Made-up question?").unwrap();
        ws.write_string(r, 2, *o).unwrap();
        ws.write_string(r, 3, *p).unwrap();
        ws.write_string(r, 4, *c).unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn import_writes_an_overlay_the_catalog_loads_and_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("example-cloud.xlsx");
    workbook(&xlsx);
    let overlays = dir.path().join("overlays");
    std::fs::create_dir(&overlays).unwrap();
    let out = overlays.join("example-cloud.yaml");
    let (code, stdout, err) = demarc(&[
        "import",
        "caiq",
        xlsx.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(s["questions"], 3, "{s}");
    assert_eq!(s["controls"], 3, "{s}");
    assert_eq!(s["ownership"]["CSP-owned"], 1, "{s}");
    assert_eq!(s["ownership"]["Shared CSP and CSC"], 1, "{s}");
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("sheet \"CAIQv4.0.3\" row 6")),
        "{s}"
    );
    // The overlay loads as a catalog overlay, and an estate resolves with it.
    let estate = dir.path().join("estate.yaml");
    std::fs::write(
        &estate,
        "version: 1\nestate: t\ncustomer: me\nparties:\n  me: {kind: customer, name: Me}\n  example-cloud: {kind: provider, name: Example Cloud}\nassets:\n  - {id: app, service: \"example-cloud:service\"}\n",
    )
    .unwrap();
    let (code, check, err) = demarc(&[
        "check",
        estate.to_str().unwrap(),
        "--catalog",
        overlays.to_str().unwrap(),
        "--as-of",
        "2026-11-23",
        "-f",
        "json",
    ]);
    assert!(
        code == 0 || code == 1,
        "{err}\n{}",
        std::fs::read_to_string(&out).unwrap()
    );
    assert!(!check.contains("unknown service"), "{check}");
    // The table summary names the file written.
    let (code, text, err) = demarc(&[
        "import",
        "caiq",
        xlsx.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("wrote "), "{text}");
    assert!(
        text.contains("warning: sheet \"CAIQv4.0.3\" row 6"),
        "{text}"
    );
}

#[test]
fn bad_input_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("caiq.xlsx");
    std::fs::write(
        &bad,
        "Question ID,SSRM Control Ownership\nIAM-14.1,CSP-owned\n",
    )
    .unwrap();
    let out = dir.path().join("out.yaml");
    let (code, _, err) = demarc(&[
        "import",
        "caiq",
        bad.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("caiq.xlsx"), "{err}");
    assert!(err.contains("not an Excel workbook"), "{err}");
    assert!(!out.exists());
}
