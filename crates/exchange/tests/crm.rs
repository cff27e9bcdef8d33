//! FedRAMP CIS/CRM workbooks: the export follows the template's layout, the import reads the
//! template and what providers do to it, a round trip keeps the split, and bad input is
//! refused with the file, sheet and row.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};
use demarc_catalog::{Catalog, CatalogBuilder};
use demarc_compliance::Library;
use demarc_compliance::rollup::{self, Options, Origination};
use demarc_engine::Resolution;
use demarc_exchange::crm::{self, CanInherit, OriginBox};
use rust_xlsxwriter::Workbook;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Option<Vec<u8>> {
    let p = root().join("../shared/fedramp/SSP-Appendix-J-CSO-CIS-and-CRM-Workbook.xlsx");
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(_) => {
            eprintln!(
                "skipped: FedRAMP's template is not at {} (the shared data folder is absent)",
                p.display()
            );
            None
        }
    }
}

pub fn acme() -> Arc<Resolution> {
    let dir = root().join("examples/acme");
    let mut interner = demarc_model::Interner::new();
    let e = demarc_model::load_path(&dir, &demarc_model::LoadOptions::default(), &mut interner)
        .unwrap_or_else(|d| panic!("{d}"));
    let files: Vec<PathBuf> = e.files().map(Path::to_path_buf).collect();
    let cat = CatalogBuilder::new()
        .builtin()
        .estate_services(&e.services, &files)
        .build()
        .unwrap_or_else(|d| panic!("{d}"));
    demarc_engine::resolve(Arc::new(e), Arc::new(cat), "2026-11-23".parse().unwrap())
}

fn lib() -> &'static Library {
    Library::builtin().unwrap()
}

fn read_sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let r = wb.worksheet_range(name).unwrap();
    let (r0, c0) = r.start().unwrap_or((0, 0));
    let mut out = vec![Vec::new(); r0 as usize];
    for row in r.rows() {
        let mut v = vec![String::new(); c0 as usize];
        v.extend(row.iter().map(|d| match d {
            Data::Empty => String::new(),
            d => d.to_string(),
        }));
        out.push(v);
    }
    out
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------- export

#[test]
fn exported_workbook_has_the_templates_sheets_and_headers() {
    let res = acme();
    let b = lib().baseline("fedramp", "moderate").unwrap();
    let bytes = crm::export(&res, lib(), b).unwrap();
    let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(&bytes[..])).unwrap();
    let names = wb.sheet_names();
    assert!(
        names.contains(&"Moderate CIS Worksheet".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"Moderate CRM Worksheet".to_string()),
        "{names:?}"
    );
    let cis = read_sheet(&bytes, "Moderate CIS Worksheet");
    let crm = read_sheet(&bytes, "Moderate CRM Worksheet");
    assert_eq!(cis[1][0], "Control ID");
    assert_eq!(cis[1][1], "Implementation Status");
    assert_eq!(cis[1][6], "Control Origination");
    assert_eq!(
        crm[3][..3],
        [
            "Control ID",
            "Can Be Inherited from CSP",
            "Specific Inheritance and Customer Agency/CSP Responsibilities"
        ]
    );
    let Some(t) = template() else { return };
    // The template's header rows, cell for cell (whitespace normalised).
    let tcis = read_sheet(&t, "Moderate CIS Worksheet");
    let tcrm = read_sheet(&t, "Moderate CRM Worksheet");
    for (r, row) in cis.iter().enumerate().take(3) {
        for c in 0..13 {
            assert_eq!(
                norm(row.get(c).map_or("", |s| s)),
                norm(tcris(&tcis, r, c)),
                "CIS row {} column {c}",
                r + 1
            );
        }
    }
    for (ours, theirs) in crm[3].iter().zip(&tcrm[3]).take(3) {
        assert_eq!(norm(ours), norm(theirs));
    }
    // The same control ids in the same order as the template's Moderate sheets.
    let ids = |rows: &[Vec<String>], from: usize| -> Vec<String> {
        rows[from..]
            .iter()
            .filter_map(|r| r.first().filter(|s| !s.is_empty()).cloned())
            .collect()
    };
    let ours = ids(&cis, 3);
    let theirs = ids(&tcis, 3);
    let same = ours.iter().zip(&theirs).filter(|(a, b)| a == b).count();
    let missing: Vec<&String> = theirs.iter().filter(|t| !ours.contains(t)).collect();
    let extra: Vec<&String> = ours.iter().filter(|o| !theirs.contains(o)).collect();
    eprintln!(
        "CIS ids: {} ours, {} the template's, {same} identical in place; missing {missing:?}; extra {extra:?}",
        ours.len(),
        theirs.len()
    );
    assert_eq!(ours, theirs, "missing {missing:?}, extra {extra:?}");
    assert_eq!(ids(&crm, 4), ours, "the CRM lists the CIS's ids");
}

fn tcris(rows: &[Vec<String>], r: usize, c: usize) -> &str {
    rows.get(r).and_then(|x| x.get(c)).map_or("", |s| s)
}

#[test]
fn export_is_byte_identical_across_runs() {
    let res = acme();
    let b = lib().baseline("fedramp", "low").unwrap();
    let one = crm::export(&res, lib(), b).unwrap();
    let two = crm::export(&res, lib(), b).unwrap();
    assert!(one == two, "two exports of the same estate differ");
    let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(&one[..])).unwrap();
    assert!(wb.sheet_names().contains(&"Low CIS Worksheet".to_string()));
}

#[test]
fn round_trip_keeps_the_split_of_every_mapped_control() {
    let res = acme();
    let b = lib().baseline("fedramp", "moderate").unwrap();
    let bytes = crm::export(&res, lib(), b).unwrap();
    let imported = crm::import("acme-crm.xlsx", &bytes).unwrap();
    // The export's origination per requirement…
    let r = rollup::rollup(
        lib(),
        &res,
        &Options {
            framework: "fedramp",
            baseline: Some(b),
            env: None,
            data: None,
            warn_days: 30,
        },
    )
    .unwrap();
    let orig: BTreeMap<String, Origination> = r
        .rows
        .iter()
        .map(|row| (row.requirement.id.clone(), row.origination))
        .collect();
    // … gives each demarc control the owner its mapped requirements agree on.
    let mut expected: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for c in &Catalog::builtin().controls {
        for m in c.mappings.get("nist-800-53").into_iter().flatten() {
            let id = m.requirement.as_str();
            let base = id.split_once("_smt").map_or(id, |(b, _)| b);
            let side = match orig.get(base) {
                Some(Origination::Inherited) => "provider",
                Some(Origination::Customer) => "customer",
                Some(Origination::Shared) => "shared",
                _ => continue,
            };
            expected.entry(c.id.clone()).or_default().insert(side);
        }
    }
    let overlay: serde_json::Value = serde_saphyr::from_str(&imported.overlay_yaml).unwrap();
    let controls = overlay["services"][0]["controls"].as_object().unwrap();
    assert!(!controls.is_empty());
    let mut checked = 0;
    for (control, sides) in &expected {
        let want = if sides.len() == 1 {
            *sides.iter().next().unwrap()
        } else {
            "shared"
        };
        let got = controls
            .get(control)
            .and_then(|e| e["owner"].as_str())
            .unwrap_or_else(|| panic!("{control} is not in the imported overlay"));
        assert_eq!(got, want, "{control}: export says {sides:?}");
        checked += 1;
    }
    assert_eq!(
        checked,
        controls.len(),
        "the overlay has controls the export did not map"
    );
    // The overlay is a valid catalog overlay.
    CatalogBuilder::new()
        .builtin()
        .overlay("acme-crm.yaml".into(), imported.overlay_yaml.clone())
        .build()
        .unwrap_or_else(|d| panic!("{d}"));
    // The summary counts what the workbook says.
    let s = &imported.summary;
    let applicable: usize = r
        .rows
        .iter()
        .filter(|row| {
            matches!(
                row.origination,
                Origination::Inherited | Origination::Shared | Origination::Customer
            )
        })
        .map(|row| crm::row_ids(&row.requirement).len())
        .sum();
    let n = |k: &str| s["can_be_inherited"][k].as_u64().unwrap() as usize;
    assert_eq!(n("yes") + n("partial") + n("no"), applicable, "{s}");
}

// ---------------------------------------------------------------- import of the template

#[test]
fn the_templates_example_responses_import() {
    let Some(t) = template() else { return };
    let imported = crm::import("SSP-Appendix-J-CSO-CIS-and-CRM-Workbook.xlsx", &t).unwrap();
    let s = &imported.summary;
    eprintln!("{}", serde_json::to_string_pretty(s).unwrap());
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    // The example sheet: 58 control ids answered (Partial and No), no origination boxes.
    let n = |k: &str| s["can_be_inherited"][k].as_u64().unwrap();
    assert!(n("partial") > 20 && n("no") > 20, "{s}");
    assert_eq!(n("yes"), 0);
    assert_eq!(s["requirements"].as_u64().unwrap(), n("partial") + n("no"));
    assert!(s["origination"].as_object().unwrap().is_empty());
    // `AC-02 (01)` and `IA-05 (06)` spellings are read.
    let facts = crm::import_facts("t.xlsx", &t).unwrap();
    let ids: Vec<&str> = facts.rows.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"ac-2.1"), "{ids:?}");
    assert!(ids.contains(&"ia-5.6"), "{ids:?}");
    assert!(ids.contains(&"ac-2.3_smt.a"), "{ids:?}");
    let ov: serde_json::Value = serde_saphyr::from_str(&imported.overlay_yaml).unwrap();
    // No CSP name is filled in: the provider is named after the file.
    assert_eq!(ov["provider"], "ssp-appendix-j-cso-cis-and-crm-workbook");
    CatalogBuilder::new()
        .builtin()
        .overlay("t.yaml".into(), imported.overlay_yaml.clone())
        .build()
        .unwrap_or_else(|d| panic!("{d}"));
}

// ---------------------------------------------------------------- what providers do to it

enum V {
    S(&'static str),
    N(f64),
    B(bool),
    D,
}
use V::*;

fn book(sheets: &[(&str, Vec<Vec<V>>)]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match v {
                    S("") => {}
                    S(s) => {
                        ws.write_string(r, c, *s).unwrap();
                    }
                    N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    B(b) => {
                        ws.write_boolean(r, c, *b).unwrap();
                    }
                    D => {
                        let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 2).unwrap();
                        let f = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
                        ws.write_datetime_with_format(r, c, d, &f).unwrap();
                    }
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// A provider's workbook: renamed after the provider and its parent, an internal column,
/// headers over two rows, several boxes ticked, every part spelling, and one row whose
/// origination and CRM answer disagree.
fn providers_workbook() -> Vec<u8> {
    let e = || S("");
    book(&[
        (
            "Cover",
            vec![
                vec![e(), e(), S("Contoso Gov Cloud CIS/CRM")],
                vec![],
                vec![],
                vec![e(), S("CSP"), S("System Name")],
                vec![e(), S("Contoso Gov Cloud"), S("Contoso Platform")],
            ],
        ),
        (
            "Contoso CIS",
            vec![
                vec![S("Contoso Moderate Control Implementation Summary")],
                vec![
                    S("Control ID"),
                    S("Internal Owner"),
                    S("Implementation Status"),
                    e(),
                    e(),
                    e(),
                    e(),
                    S("Control Origination"),
                ],
                vec![
                    e(),
                    e(),
                    S("Implemented"),
                    S("Partially Implemented"),
                    S("Planned"),
                    S("Alternative Implementation"),
                    S("N/A"),
                    S("Contoso Corporate (Contoso Holdings plc)"),
                    S("Contoso System Specific"),
                    S("Contoso Hybrid (Corporate and System Specific)"),
                    S("Configured by Agency (Customer System Specific)"),
                    S("Provided by Agency (Customer System Specific)"),
                    S("Shared (Contoso and Agency Responsibility)"),
                    S("Inherited from Pre-Existing FedRAMP Authorization (AWS GovCloud)"),
                    S("Reviewer notes"),
                ],
                vec![S("Access Control (AC)")],
                vec![
                    S("AC-2(a)"),
                    S("jdoe"),
                    S("X"),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    S("X"),
                ],
                vec![
                    S("AC-02 (b)"),
                    S("jdoe"),
                    S("X"),
                    e(),
                    e(),
                    e(),
                    e(),
                    S("x"),
                    e(),
                    e(),
                    S("X"),
                ],
                vec![
                    S("AC-2 c."),
                    e(),
                    S("X"),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    S("✓"),
                ],
                vec![
                    S("IA-05 (01)"),
                    e(),
                    B(true),
                    e(),
                    e(),
                    e(),
                    e(),
                    B(true),
                    B(false),
                ],
                vec![
                    S("PE-3"),
                    e(),
                    N(1.0),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    S("X"),
                    S("AWS does it"),
                ],
                vec![
                    S("SC-7 (a)"),
                    e(),
                    S("X"),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    e(),
                    S("X"),
                ],
            ],
        ),
        (
            "Contoso CRM",
            vec![
                vec![S("Contoso Moderate Customer Responsibility Matrix")],
                vec![
                    S("Control ID"),
                    S("Can Be Inherited from Contoso"),
                    S("Specific Inheritance and Customer Agency/Contoso Responsibilities"),
                    S("Jira ticket"),
                ],
                vec![
                    S("AC-2(a)"),
                    S("Partial"),
                    S("Contoso manages platform accounts; the agency manages its own users."),
                    S("GRC-1"),
                ],
                vec![
                    S("AC-02 (b)"),
                    S("partial"),
                    S("The agency defines account types; Contoso enforces them."),
                ],
                vec![
                    S("AC-2 c."),
                    S("No"),
                    S("The agency approves its own accounts."),
                ],
                vec![S("IA-05 (01)"), S("Yes")],
                vec![S("PE-3"), S("Yes")],
                vec![S("SC-7 (a)"), S("Yes"), S("Contoso monitors the boundary.")],
            ],
        ),
    ])
}

#[test]
fn a_providers_renamed_and_rearranged_workbook_imports() {
    let bytes = providers_workbook();
    let facts = crm::import_facts("contoso.xlsx", &bytes).unwrap();
    let by: BTreeMap<&str, &crm::RowFact> = facts.rows.iter().map(|f| (f.id.as_str(), f)).collect();
    let ids: Vec<&str> = by.keys().copied().collect();
    assert_eq!(
        ids,
        [
            "ac-2_smt.a",
            "ac-2_smt.b",
            "ac-2_smt.c",
            "ia-5.1",
            "pe-3",
            "sc-7_smt.a"
        ],
        "the heading row is skipped and every spelling is read"
    );
    assert_eq!(by["ac-2_smt.a"].boxes, [OriginBox::Shared]);
    assert_eq!(
        by["ac-2_smt.b"].boxes,
        [
            OriginBox::ProviderCorporate,
            OriginBox::ConfiguredByCustomer
        ],
        "several boxes on one row"
    );
    assert_eq!(by["ac-2_smt.c"].boxes, [OriginBox::ConfiguredByCustomer]);
    assert_eq!(
        by["ia-5.1"].boxes,
        [OriginBox::ProviderCorporate],
        "TRUE/FALSE boxes"
    );
    assert_eq!(by["pe-3"].boxes, [OriginBox::Inherited]);
    assert_eq!(
        by["pe-3"].status.as_deref(),
        Some("Implemented"),
        "a 1 ticks a box"
    );
    assert_eq!(by["ac-2_smt.b"].answer, Some(CanInherit::Partial));
    assert_eq!(by["ac-2_smt.a"].label, "AC-2(a)");
    assert_eq!(facts.provider_name.as_deref(), Some("Contoso Gov Cloud"));
    assert_eq!(facts.system_name.as_deref(), Some("Contoso Platform"));

    let imported = crm::import("contoso.xlsx", &bytes).unwrap();
    assert_eq!(
        imported.summary,
        serde_json::json!({
            "requirements": 6,
            "can_be_inherited": {"yes": 3, "partial": 2, "no": 1},
            "origination": {
                "Configured by Customer": 3,
                "Inherited from Pre-Existing Authorization": 1,
                "Service Provider Corporate": 2,
                "Shared": 1
            }
        })
    );
    let w = imported.warnings.join("\n");
    // Who implements it and whether it can be inherited disagree: a warning, and the
    // answer is kept as written.
    assert!(
        w.contains("SC-7 (a)") && w.contains("Configured by Customer") && w.contains("\"Yes\""),
        "{w}"
    );
    assert!(
        w.contains("Internal Owner") && w.contains("Reviewer notes") && w.contains("Jira ticket"),
        "{w}"
    );
    let ov: serde_json::Value = serde_saphyr::from_str(&imported.overlay_yaml).unwrap();
    assert_eq!(ov["provider"], "contoso-gov-cloud");
    assert_eq!(
        ov["services"][0]["id"],
        "contoso-gov-cloud:contoso-platform"
    );
    assert_eq!(ov["services"][0]["source"]["file"], "contoso.xlsx");
    assert_eq!(
        ov["services"][0]["source"]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    CatalogBuilder::new()
        .builtin()
        .overlay("contoso.yaml".into(), imported.overlay_yaml.clone())
        .build()
        .unwrap_or_else(|d| panic!("{d}\n{}", imported.overlay_yaml));
    // Deterministic.
    assert_eq!(crm::import("contoso.xlsx", &bytes).unwrap(), imported);
}

#[test]
fn without_a_csp_cell_the_title_names_the_provider_and_the_file_name_is_the_last_resort() {
    let crm = || {
        vec![
            vec![S("Control ID"), S("Can Be Inherited from CSP")],
            vec![S("PE-3"), S("Yes")],
        ]
    };
    let titled = book(&[
        (
            "Instructions",
            vec![vec![
                S(""),
                S(""),
                S(
                    "FedRAMP® System Security Plan (SSP) Appendix J: Fabrikam Cloud CIS and CRM Workbook",
                ),
            ]],
        ),
        ("CRM", crm()),
    ]);
    let ov = |bytes: &[u8], name: &str| -> serde_json::Value {
        serde_saphyr::from_str(&crm::import(name, bytes).unwrap().overlay_yaml).unwrap()
    };
    let v = ov(&titled, "dir/x.xlsx");
    assert_eq!(v["provider"], "fabrikam-cloud");
    assert_eq!(v["services"][0]["id"], "fabrikam-cloud:fabrikam-cloud");
    let v = ov(&book(&[("CRM", crm())]), "dir/Wide World CRM 2026.xlsx");
    assert_eq!(v["provider"], "wide-world-crm-2026");
    assert_eq!(v["provider_name"], "Wide World CRM 2026");
    assert_eq!(v["services"][0]["id"], "wide-world-crm-2026:service");
}

#[test]
fn a_label_split_over_two_header_rows_is_read() {
    let bytes = book(&[(
        "CRM",
        vec![
            vec![S("Control"), S("Can Be"), S("Customer"), S("Provider")],
            vec![
                S(""),
                S("Inherited?"),
                S("Responsibility"),
                S("Responsibility"),
            ],
            vec![S("AU-2 a."), S("Y"), S(""), S("Logs everything.")],
            vec![S("AU-6(a)"), S("No"), S("Reviews logs weekly."), S("")],
        ],
    )]);
    let facts = crm::import_facts("split.xlsx", &bytes).unwrap();
    assert_eq!(facts.sheets, [("CRM".to_string(), 1)]);
    assert_eq!(facts.rows.len(), 2);
    assert_eq!(facts.rows[0].id, "au-2_smt.a");
    assert_eq!(facts.rows[0].answer, Some(CanInherit::Yes));
    assert_eq!(
        facts.rows[0].provider_text.as_deref(),
        Some("Logs everything.")
    );
    assert_eq!(
        facts.rows[1].customer_text.as_deref(),
        Some("Reviews logs weekly.")
    );
}

#[test]
fn a_row_without_boxes_or_answer_takes_no_owner_and_is_reported() {
    let bytes = book(&[(
        "CRM",
        vec![
            vec![
                S("Control ID"),
                S("Can Be Inherited from CSP"),
                S("Specific Inheritance and Customer Agency/CSP Responsibilities"),
            ],
            vec![S("AC-3"), S(""), S("See the SSP.")],
            vec![S("AC-4"), S("Maybe"), S("")],
        ],
    )]);
    let imported = crm::import("x.xlsx", &bytes).unwrap();
    let w = imported.warnings.join("\n");
    assert!(
        w.contains("neither an origination box nor a Can Be Inherited answer"),
        "{w}"
    );
    assert!(w.contains("\"Maybe\" is not an answer"), "{w}");
}

// ---------------------------------------------------------------- bad input

fn err(bytes: &[u8]) -> demarc_exchange::ExchangeError {
    crm::import("bad.xlsx", bytes).expect_err("should be refused")
}

#[test]
fn not_a_workbook_is_refused() {
    let e = err(b"Control ID,Can Be Inherited\nAC-2,Yes\n");
    assert_eq!(e.file, "bad.xlsx");
    assert!(e.message.contains("not an XLSX workbook"), "{e}");
    let e = err(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 old excel");
    assert!(e.message.contains(".xls"), "{e}");
}

#[test]
fn a_workbook_without_a_crm_header_is_refused_naming_its_sheets() {
    let bytes = book(&[
        (
            "Summary",
            vec![vec![S("Quarterly numbers")], vec![N(1.0), N(2.0)]],
        ),
        ("Data", vec![vec![S("Name"), S("Value")]]),
    ]);
    let e = err(&bytes);
    assert!(
        e.at.contains("\"Summary\"") && e.at.contains("\"Data\""),
        "{e}"
    );
    assert!(e.message.contains("no CIS or CRM worksheet"), "{e}");
    assert!(e.help.contains("Control ID"), "{e}");
}

#[test]
fn a_control_id_column_alone_names_the_sheet_row_and_missing_columns() {
    let bytes = book(&[(
        "Controls",
        vec![
            vec![],
            vec![S("Control ID"), S("Owner")],
            vec![S("AC-2"), S("Bob")],
        ],
    )]);
    let e = err(&bytes);
    assert_eq!(e.at, "sheet \"Controls\" row 2");
    assert!(e.help.contains("Can Be Inherited"), "{e}");
}

#[test]
fn wrong_cell_types_name_the_sheet_row_and_column() {
    let header = || vec![S("Control ID"), S("Shared"), S("Can Be Inherited from CSP")];
    let e = err(&book(&[(
        "CRM",
        vec![
            header(),
            vec![S("AC-2"), S("X"), S("Yes")],
            vec![N(42.0), S(""), S("Yes")],
        ],
    )]));
    assert_eq!(e.at, "sheet \"CRM\" row 3 column A");
    assert!(
        e.message.contains("expected a control id") && e.message.contains("a number"),
        "{e}"
    );
    let e = err(&book(&[(
        "CRM",
        vec![header(), vec![S("AC-2"), D, S("Yes")]],
    )]));
    assert_eq!(e.at, "sheet \"CRM\" row 2 column B");
    assert!(e.message.contains("expected an X or an empty cell"), "{e}");
    let e = err(&book(&[(
        "CRM",
        vec![header(), vec![S("AC-2"), S(""), N(3.0)]],
    )]));
    assert_eq!(e.at, "sheet \"CRM\" row 2 column C");
    assert!(e.message.contains("Yes, Partial or No"), "{e}");
}

#[test]
fn a_200_mb_workbook_is_refused_before_it_is_read() {
    let big = vec![0u8; 200 << 20];
    let e = err(&big);
    assert!(e.message.contains("200 MiB"), "{e}");
    assert!(e.help.contains("64 MiB"), "{e}");
}

fn bomb() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crm/zip-bomb.xlsx"))
        .unwrap()
}

#[test]
fn a_zip_bomb_is_refused_by_its_declared_size() {
    let e = err(&bomb());
    assert!(e.at.contains("xl/worksheets/sheet1.xml"), "{e}");
    assert!(e.message.contains("300 MiB"), "{e}");
}

#[test]
fn a_zip_bomb_that_understates_its_size_is_refused_while_inflating() {
    let mut b = bomb();
    // Patch every local header (size at +22) and central directory entry (size at +24) to
    // declare 1,000 bytes.
    let mut i = 0;
    while i + 46 <= b.len() {
        if b[i..i + 4] == [0x50, 0x4b, 0x03, 0x04] {
            b[i + 22..i + 26].copy_from_slice(&1000u32.to_le_bytes());
        } else if b[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
            b[i + 24..i + 28].copy_from_slice(&1000u32.to_le_bytes());
        }
        i += 1;
    }
    let e = err(&b);
    assert!(e.at.contains("xl/worksheets/sheet1.xml"), "{e}");
    assert!(
        e.message.contains("understates"),
        "caught while inflating: {e}"
    );
}
