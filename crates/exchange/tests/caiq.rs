//! CAIQ import on workbooks generated here. The question text is made up: no CSA content is
//! in this repository, only control ids shaped like CCM's (`IAM-14`) and the SSRM ownership
//! vocabulary.

use std::io::Write;

use demarc_exchange::caiq;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};

const HEADERS: &[&str] = &[
    "Question ID",
    "Question",
    "CSP CAIQ Answer",
    "SSRM Control Ownership",
    "CSP Implementation Description (Optional/Recommended)",
    "CSC Responsibilities (Optional/Recommended)",
    "CCM Control ID",
];

/// `(question id, ownership, csp text, csc text)`; the CCM control id column is filled from
/// the question id.
type Row<'a> = (&'a str, &'a str, &'a str, &'a str);

const ROWS: &[Row] = &[
    (
        "IAM-14.1",
        "CSP-owned",
        "Made-up text: strong sign-in for staff.",
        "",
    ),
    ("IAM-14.2", "csp-owned", "Made-up text: keys rotate.", ""),
    (
        "DCS-03.1",
        "CSC-owned",
        "",
        "Made-up text: tenant keeps its site safe.",
    ),
    (
        "LOG-02.1",
        "Shared CSP and CSC",
        "Made-up text: platform logs kept a year.",
        "Made-up text: tenant reviews its logs.",
    ),
    (
        "CEK-03.1",
        "CSP-owned",
        "Made-up text: disks encrypted.",
        "",
    ),
    (
        "CEK-03.2",
        "CSC-owned",
        "",
        "Made-up text: tenant encrypts its fields.",
    ),
    (
        "TVM-03.1",
        "3rd-party outsourced",
        "Made-up text: a contractor runs the scans.",
        "",
    ),
    ("STA-05.1", "NA", "", ""),
    (
        "ZZZ-99.1",
        "CSP-owned",
        "Made-up text: nothing maps here.",
        "",
    ),
    ("IAM-03.1", "Maybe", "", ""),
    ("IAM-05.1", "", "", ""),
];

fn date_props() -> DocProperties {
    DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2026, 10, 1).unwrap())
}

fn write_rows(ws: &mut Worksheet, first: u32, rows: &[Row], ccm_col: bool) {
    for (i, (q, own, csp, csc)) in rows.iter().enumerate() {
        let r = first + i as u32;
        ws.write_string(r, 0, *q).unwrap();
        ws.write_string(r, 1, format!("Made-up question number {i}?"))
            .unwrap();
        ws.write_string(r, 2, "Yes").unwrap();
        if !own.is_empty() {
            ws.write_string(r, 3, *own).unwrap();
        }
        if !csp.is_empty() {
            ws.write_string(r, 4, *csp).unwrap();
        }
        if !csc.is_empty() {
            ws.write_string(r, 5, *csc).unwrap();
        }
        if ccm_col {
            ws.write_string(r, 6, q.split('.').next().unwrap()).unwrap();
        }
    }
}

/// A CAIQ v4.1-shaped workbook: an introduction sheet, then the questions with two title rows
/// above the headers, headers in odd case and spacing.
fn caiq_v41() -> Vec<u8> {
    let mut wb = Workbook::new();
    wb.set_properties(&date_props());
    let intro = wb.add_worksheet();
    intro.set_name("Introduction").unwrap();
    intro
        .write_string(0, 0, "Made-up introduction text.")
        .unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("CAIQv4.1").unwrap();
    ws.write_string(0, 0, "Consensus Assessment (made-up title)")
        .unwrap();
    ws.write_string(1, 0, "Version 4.1").unwrap();
    for (c, h) in HEADERS.iter().enumerate() {
        let h = match *h {
            "SSRM Control Ownership" => "ssrm  control\nOWNERSHIP",
            "Question ID" => " Question ID ",
            h => h,
        };
        ws.write_string(2, c as u16, h).unwrap();
    }
    write_rows(ws, 3, ROWS, true);
    wb.save_to_buffer().unwrap()
}

#[test]
fn v41_workbook_becomes_an_overlay_with_a_summary() {
    let bytes = caiq_v41();
    let got = caiq::import("acme-cloud-caiq.xlsx", &bytes).unwrap();
    let s = &got.summary;
    // IAM-14 ×2, DCS-03, LOG-02, CEK-03 ×2, TVM-03, STA-05, ZZZ-99 (the unknown value and the
    // blank are not questions read).
    assert_eq!(s["questions"], 9, "{s}");
    assert_eq!(s["controls"], 7, "{s}");
    assert_eq!(s["ownership"]["CSP-owned"], 4, "{s}");
    assert_eq!(s["ownership"]["CSC-owned"], 2, "{s}");
    assert_eq!(s["ownership"]["Shared CSP and CSC"], 1, "{s}");
    assert_eq!(s["ownership"]["3rd-party outsourced"], 1, "{s}");
    assert_eq!(s["ownership"]["NA"], 1, "{s}");
    assert_eq!(s["unmapped"], serde_json::json!(["ZZZ-99"]), "{s}");
    assert_eq!(s["sheet"], "CAIQv4.1");
    assert_eq!(s["header_row"], 3);
    // The unknown value is a warning with its sheet and row; the disagreement is shared.
    let w = got.warnings.join("\n");
    assert!(
        w.contains("sheet \"CAIQv4.1\" row 13: `Maybe` is not an SSRM ownership value"),
        "{w}"
    );
    assert!(w.contains("CEK-03: its questions disagree"), "{w}");
    assert!(
        w.contains("1 questions have no SSRM ownership value"),
        "{w}"
    );

    // The overlay loads, and the owners follow the ownership column through the mappings.
    let cat = demarc_catalog::CatalogBuilder::new()
        .builtin()
        .overlay("caiq.yaml".into(), got.overlay_yaml.clone())
        .build()
        .unwrap_or_else(|d| panic!("{d}\n{}", got.overlay_yaml));
    let svc = cat.service("acme-cloud-caiq:service").unwrap();
    assert!(!svc.controls.is_empty());
    // Provenance: the file and the SHA-256 of its bytes.
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(got.overlay_yaml.contains(&sha), "{}", got.overlay_yaml);
    assert!(got.overlay_yaml.contains("file: acme-cloud-caiq.xlsx"));
    assert!(
        got.overlay_yaml.contains("checked: \"2026-10-01\""),
        "{}",
        got.overlay_yaml
    );
    // The made-up implementation text is carried over.
    assert!(got.overlay_yaml.contains("strong sign-in for staff"));
    assert!(
        got.overlay_yaml
            .contains("(3rd-party outsourced) Made-up text")
    );
}

#[test]
fn owners_per_demarc_control_follow_the_ccm_controls() {
    let catalog = demarc_catalog::Catalog::builtin();
    let maps_to = |ccm: &str| -> Vec<String> {
        catalog
            .controls
            .iter()
            .filter(|c| {
                c.mappings
                    .get("csa-ccm")
                    .is_some_and(|l| l.iter().any(|m| m.requirement.as_str() == ccm))
            })
            .map(|c| c.id.clone())
            .collect()
    };
    // Only-CSC-owned DCS-03 controls: every demarc control that maps to DCS-03 alone is the
    // customer's; the disagreeing CEK-03 makes its controls shared.
    let got = caiq::import("x.xlsx", &caiq_v41()).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&got.overlay_yaml).unwrap();
    let controls = &doc["services"][0]["controls"];
    for c in maps_to("CEK-03") {
        assert_eq!(controls[&c]["owner"], "shared", "{c}: {}", controls[&c]);
    }
    assert!(!maps_to("IAM-14").is_empty());
}

#[test]
fn same_workbook_gives_the_same_overlay() {
    let bytes = caiq_v41();
    let a = caiq::import("a.xlsx", &bytes).unwrap();
    let b = caiq::import("a.xlsx", &bytes).unwrap();
    assert_eq!(a, b);
}

/// CAIQ v4.0 shape: the header sits lower, split over merged cells, and the question ids are
/// only in the CCM control id column.
#[test]
fn merged_and_split_headers_are_found() {
    let mut wb = Workbook::new();
    wb.set_properties(&date_props());
    let ws = wb.add_worksheet();
    ws.set_name("CAIQv4.0.3").unwrap();
    let f = Format::new();
    ws.write_string(0, 0, "Made-up banner").unwrap();
    // Row 5-6: `Question ID` merged over two rows; `SSRM` above `Control Ownership`.
    ws.merge_range(4, 0, 5, 0, "Question ID", &f).unwrap();
    ws.merge_range(4, 1, 5, 1, "Question", &f).unwrap();
    ws.merge_range(4, 2, 5, 2, "CSP CAIQ Answer", &f).unwrap();
    ws.write_string(4, 3, "SSRM").unwrap();
    ws.write_string(5, 3, "Control Ownership").unwrap();
    ws.merge_range(4, 4, 5, 4, "CSP  implementation description", &f)
        .unwrap();
    ws.merge_range(4, 5, 5, 5, "CSC RESPONSIBILITIES", &f)
        .unwrap();
    write_rows(ws, 6, &ROWS[..4], false);
    let bytes = wb.save_to_buffer().unwrap();
    let got = caiq::import("v40.xlsx", &bytes).unwrap();
    assert_eq!(got.summary["questions"], 4, "{}", got.summary);
    assert_eq!(got.summary["header_row"], 6, "{}", got.summary);
}

#[test]
fn caiq_lite_with_only_ccm_ids_is_read() {
    let mut wb = Workbook::new();
    wb.set_properties(&date_props());
    let ws = wb.add_worksheet();
    ws.set_name("CAIQ-Lite").unwrap();
    ws.write_string(0, 0, "CCM Control ID").unwrap();
    ws.write_string(0, 1, "SSRM Control Ownership").unwrap();
    ws.write_string(1, 0, "IAM-14").unwrap();
    ws.write_string(1, 1, "CSP-owned").unwrap();
    ws.write_string(2, 0, "DCS-03").unwrap();
    ws.write_string(2, 1, "CSC-owned").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let got = caiq::import("lite.xlsx", &bytes).unwrap();
    assert_eq!(got.summary["controls"], 2, "{}", got.summary);
}

#[test]
fn a_text_file_is_not_a_workbook() {
    let e = caiq::import("notes.xlsx", b"IAM-14.1,CSP-owned\n").unwrap_err();
    assert_eq!(e.file, "notes.xlsx");
    assert!(e.message.contains("not an Excel workbook"), "{e}");
}

#[test]
fn an_old_xls_is_refused_with_the_fix() {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.extend([0u8; 512]);
    let e = caiq::import("old.xls", &bytes).unwrap_err();
    assert!(e.message.contains("97-2003"), "{e}");
    assert!(e.help.contains(".xlsx"), "{e}");
}

#[test]
fn a_workbook_without_the_headers_names_what_was_looked_for() {
    let mut wb = Workbook::new();
    wb.set_properties(&date_props());
    let ws = wb.add_worksheet();
    ws.set_name("Answers").unwrap();
    ws.write_string(0, 0, "Question ID").unwrap();
    ws.write_string(0, 1, "Answer").unwrap();
    ws.write_string(1, 0, "IAM-14.1").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let e = caiq::import("lite.xlsx", &bytes).unwrap_err();
    let m = e.to_string();
    assert!(m.contains("`Question ID`"), "{m}");
    assert!(m.contains("`SSRM Control Ownership`"), "{m}");
    assert!(m.contains("\"Answers\""), "{m}");
    assert!(m.contains("found only"), "{m}");
}

#[test]
fn a_sheet_with_no_ownership_values_is_an_error_naming_the_sheet() {
    let mut wb = Workbook::new();
    wb.set_properties(&date_props());
    let ws = wb.add_worksheet();
    ws.set_name("CAIQ").unwrap();
    ws.write_string(0, 0, "Question ID").unwrap();
    ws.write_string(0, 1, "SSRM Control Ownership").unwrap();
    ws.write_string(1, 0, "IAM-14.1").unwrap();
    ws.write_string(1, 1, "Sometimes").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let e = caiq::import("c.xlsx", &bytes).unwrap_err();
    assert_eq!(e.at, "sheet \"CAIQ\"");
    assert!(e.message.contains("1 values were not recognised"), "{e}");
}

/// A small archive that inflates past the limit is refused before calamine parses it.
#[test]
fn a_zip_bomb_is_refused_before_parsing() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        z.start_file("xl/workbook.xml", opts).unwrap();
        z.write_all(b"<workbook/>").unwrap();
        z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..(caiq::MAX_UNCOMPRESSED_BYTES >> 20) + 1 {
            z.write_all(&zeros).unwrap();
        }
        z.finish().unwrap();
    }
    let bytes = buf.into_inner();
    assert!(bytes.len() < 2 << 20, "{}", bytes.len());
    let e = caiq::import("bomb.xlsx", &bytes).unwrap_err();
    assert!(e.message.contains("zip bomb"), "{e}");
    assert!(e.message.contains("256 MiB"), "{e}");
}
