//! `demarc export crm`, `demarc import crm` and `demarc export xlsx`, run the way a user runs
//! them: the workbook opens with the template's sheets, the import prints its summary, the
//! overlay extends the catalog, and bad input writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Reader, Xlsx};

fn demarc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .current_dir(dir)
        .env_remove("DEMARC_ESTATE")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn acme() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme")
        .display()
        .to_string()
}

fn bomb() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../exchange/tests/fixtures/crm/zip-bomb.xlsx")
}

/// A provider's workbook with a renamed CRM column and a CIS whose headers span two rows.
fn provider_workbook(path: &Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Instructions").unwrap();
    ws.write_string(3, 1, "CSP").unwrap();
    ws.write_string(4, 1, "Northwind Federal").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("Moderate CIS Worksheet").unwrap();
    ws.write_string(1, 0, "Control ID").unwrap();
    ws.write_string(1, 1, "Control Origination").unwrap();
    for (c, h) in [
        "Northwind Corporate",
        "Configured by Customer (Customer System Specific)",
        "Shared (Northwind and Customer Responsibility)",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(2, 1 + c as u16, *h).unwrap();
    }
    for (r, (id, col)) in [("PE-3", 1u16), ("AC-02 (a)", 3), ("AU-6 a.", 2)]
        .iter()
        .enumerate()
    {
        ws.write_string(3 + r as u32, 0, *id).unwrap();
        ws.write_string(3 + r as u32, *col, "X").unwrap();
    }
    let ws = wb.add_worksheet();
    ws.set_name("Moderate CRM Worksheet").unwrap();
    for (c, h) in [
        "Control ID",
        "Can Be Inherited from Northwind",
        "Specific Inheritance and Customer Agency/Northwind Responsibilities",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(3, c as u16, *h).unwrap();
    }
    for (r, (id, a, t)) in [
        ("PE-3", "Yes", ""),
        (
            "AC-02 (a)",
            "Partial",
            "Northwind runs the directory; the agency manages its users.",
        ),
        ("AU-6 a.", "Yes", "The agency reviews its audit logs."),
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(4 + r as u32, 0, *id).unwrap();
        ws.write_string(4 + r as u32, 1, *a).unwrap();
        ws.write_string(4 + r as u32, 2, *t).unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn export_crm_writes_the_templates_sheets_and_import_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = demarc(
        dir.path(),
        &[
            "export",
            "crm",
            &acme(),
            "-o",
            "acme-crm.xlsx",
            "--as-of",
            "2026-11-23",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote the FedRAMP CIS/CRM workbook"), "{err}");
    let wb: Xlsx<_> = calamine::open_workbook(dir.path().join("acme-crm.xlsx")).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "Instructions",
            "Moderate CIS Worksheet",
            "Moderate CRM Worksheet"
        ]
    );
    let (code, _, err) = demarc(
        dir.path(),
        &[
            "export",
            "crm",
            &acme(),
            "-o",
            "high.xlsx",
            "--baseline",
            "high",
            "--as-of",
            "2026-11-23",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let wb: Xlsx<_> = calamine::open_workbook(dir.path().join("high.xlsx")).unwrap();
    assert!(wb.sheet_names().contains(&"High CRM Worksheet".to_string()));

    let (code, out, err) = demarc(
        dir.path(),
        &[
            "import",
            "crm",
            "acme-crm.xlsx",
            "-o",
            "acme.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "can_be_inherited",
            "origination",
            "requirements",
            "warnings"
        ]
    );
    assert!(v["requirements"].as_u64().unwrap() > 300, "{v}");
    assert!(dir.path().join("acme.yaml").is_file());
}

#[test]
fn import_crm_prints_the_summary_and_the_overlay_extends_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    provider_workbook(&dir.path().join("northwind.xlsx"));
    std::fs::create_dir(dir.path().join("overlays")).unwrap();
    let (code, out, err) = demarc(
        dir.path(),
        &[
            "import",
            "crm",
            "northwind.xlsx",
            "-o",
            "overlays/northwind.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["requirements"], 3);
    assert_eq!(
        v["can_be_inherited"],
        serde_json::json!({"yes": 2, "partial": 1, "no": 0})
    );
    assert_eq!(
        v["origination"],
        serde_json::json!({"Service Provider Corporate": 1, "Configured by Customer": 1, "Shared": 1})
    );
    let w = v["warnings"].as_array().unwrap();
    assert!(
        w.iter().any(|w| w.as_str().unwrap().contains("AU-6 a.")),
        "the disagreement on AU-6 a. is reported: {w:?}"
    );
    // The human summary.
    let (code, out, _) = demarc(
        dir.path(),
        &["import", "crm", "northwind.xlsx", "-o", "nw.yaml"],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("wrote nw.yaml") && out.contains("requirements: 3"),
        "{out}"
    );
    assert!(out.contains("warning: "), "{out}");
    // The overlay loads as a catalog overlay.
    let overlay = std::fs::read_to_string(dir.path().join("overlays/northwind.yaml")).unwrap();
    assert!(
        overlay.contains("id: northwind-federal:service"),
        "{overlay}"
    );
    let (code, _, err) = demarc(
        dir.path(),
        &[
            "check",
            &acme(),
            "--catalog",
            "overlays",
            "--as-of",
            "2026-11-23",
        ],
    );
    assert!(code == 0 || code == 1, "the overlay does not load: {err}");
}

fn refused(dir: &Path, input: &str, expect: &[&str]) {
    let (code, out, err) = demarc(dir, &["import", "crm", input, "-o", "out.yaml"]);
    assert_eq!(code, 2, "{input}: {out}{err}");
    for e in expect {
        assert!(err.contains(e), "{input}: expected {e:?} in {err}");
    }
    assert!(
        !dir.join("out.yaml").exists(),
        "{input}: an overlay was written"
    );
    let stray: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".demarc-"))
        .collect();
    assert!(stray.is_empty(), "temporary files left behind");
}

#[test]
fn bad_workbooks_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("notes.xlsx"),
        "Control ID,Can Be Inherited\nAC-2,Yes\n",
    )
    .unwrap();
    refused(d, "notes.xlsx", &["notes.xlsx", "not an XLSX workbook"]);

    // No recognisable header.
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet()
        .set_name("Budget")
        .unwrap()
        .write_string(0, 0, "Quarter")
        .unwrap();
    wb.save(d.join("budget.xlsx")).unwrap();
    refused(
        d,
        "budget.xlsx",
        &[
            "budget.xlsx",
            "sheets \"Budget\"",
            "no CIS or CRM worksheet",
            "Control ID",
        ],
    );

    // A control-id column and nothing else demarc reads.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("CRM").unwrap();
    ws.write_string(2, 0, "Control ID").unwrap();
    ws.write_string(2, 1, "Owner").unwrap();
    wb.save(d.join("ids.xlsx")).unwrap();
    refused(
        d,
        "ids.xlsx",
        &["ids.xlsx", "sheet \"CRM\" row 3", "Can Be Inherited"],
    );

    // Wrong type: a number where a control id belongs.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("CRM").unwrap();
    ws.write_string(0, 0, "Control ID").unwrap();
    ws.write_string(0, 1, "Can Be Inherited from CSP").unwrap();
    ws.write_number(1, 0, 7.0).unwrap();
    ws.write_string(1, 1, "Yes").unwrap();
    wb.save(d.join("typed.xlsx")).unwrap();
    refused(
        d,
        "typed.xlsx",
        &[
            "typed.xlsx",
            "sheet \"CRM\" row 2 column A",
            "expected a control id",
        ],
    );

    // 200 MB (sparse): refused by size before it is read.
    let f = std::fs::File::create(d.join("huge.xlsx")).unwrap();
    f.set_len(200 << 20).unwrap();
    drop(f);
    refused(d, "huge.xlsx", &["huge.xlsx", "200 MiB", "64 MiB"]);

    // A zip bomb.
    std::fs::copy(bomb(), d.join("bomb.xlsx")).unwrap();
    refused(
        d,
        "bomb.xlsx",
        &["bomb.xlsx", "xl/worksheets/sheet1.xml", "300 MiB"],
    );

    // A directory, and a missing file.
    std::fs::create_dir(d.join("dir.xlsx")).unwrap();
    refused(d, "dir.xlsx", &["dir.xlsx", "not a regular file"]);
    refused(d, "missing.xlsx", &["missing.xlsx"]);
}

#[test]
fn export_xlsx_writes_a_filterable_matrix_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = demarc(
        dir.path(),
        &[
            "export",
            "xlsx",
            &acme(),
            "-o",
            "matrix.xlsx",
            "--as-of",
            "2026-11-23",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("row limit"), "{err}");
    let mut wb: Xlsx<_> = calamine::open_workbook(dir.path().join("matrix.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), ["Duties", "Cells", "Legend"]);
    let cells = wb.worksheet_range("Cells").unwrap();
    assert!(cells.height() > 100);
}
