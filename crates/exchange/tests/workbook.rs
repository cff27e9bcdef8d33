//! The matrix workbook: the grid and the cell rows a GRC analyst filters, coloured by party
//! with a legend, frozen headers and autofilters; a sheet cut at the row limit says so.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};
use demarc_catalog::CatalogBuilder;
use demarc_engine::Resolution;
use demarc_exchange::workbook;

fn acme() -> Arc<Resolution> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
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

fn rows(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let r = wb.worksheet_range(sheet).unwrap();
    r.rows()
        .map(|row| {
            row.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    d => d.to_string(),
                })
                .collect()
        })
        .collect()
}

fn part(path: &Path, name: &str) -> String {
    let f = std::fs::File::open(path).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn matrix_workbook_has_the_grid_the_rows_and_a_legend() {
    let res = acme();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.xlsx");
    let notes = workbook::export_xlsx_with_notes(&res, &path).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["Duties", "Cells", "Legend"]);

    let grid = rows(&path, "Duties");
    assert_eq!(grid[0], demarc_report::MATRIX_HEADERS);
    assert_eq!(grid.len(), res.asset_count() + 1, "one row per asset");
    assert_eq!(grid[1][0], res.asset(res.assets().next().unwrap()).id.value);

    let cells = rows(&path, "Cells");
    assert_eq!(cells[0], demarc_report::ROW_HEADERS);
    assert_eq!(
        cells.len(),
        res.cell_count() + 1,
        "one row per asset × control × duty"
    );
    assert!(
        cells[1..].iter().all(|r| !r[8].is_empty()),
        "every row has its basis"
    );

    let legend = rows(&path, "Legend");
    for (k, _, _) in workbook::OWNERSHIP_COLORS {
        assert!(legend.iter().any(|r| r[0] == k), "legend lacks {k}");
    }
    // Frozen headers, autofilters and the party colours.
    for sheet in ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"] {
        let xml = part(&path, sheet);
        assert!(
            xml.contains("state=\"frozen\""),
            "{sheet} has no frozen header"
        );
        assert!(xml.contains("<autoFilter"), "{sheet} has no autofilter");
    }
    let styles = part(&path, "xl/styles.xml");
    for (_, rgb, _) in workbook::OWNERSHIP_COLORS {
        assert!(
            styles.contains(&format!("FF{rgb:06X}")),
            "no fill {rgb:06X}"
        );
    }
}

#[test]
fn a_sheet_past_the_row_limit_says_so_instead_of_stopping_silently() {
    let res = acme();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.xlsx");
    let notes = workbook::export_xlsx_limited(&res, &path, 50).unwrap();
    let cells = rows(&path, "Cells");
    assert_eq!(cells.len(), 50, "the header, 48 rows and the note");
    let last = &cells[49][0];
    assert!(
        last.contains("Excel's row limit") && last.contains("not in this sheet"),
        "{last}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("sheet Cells:")),
        "{notes:?}"
    );
    let grid = rows(&path, "Duties");
    if res.asset_count() > 48 {
        assert!(
            notes.iter().any(|n| n.starts_with("sheet Duties:")),
            "{notes:?}"
        );
        assert_eq!(grid.len(), 50);
    }
    let legend = rows(&path, "Legend");
    assert!(
        legend
            .iter()
            .any(|r| r[0] == "note" && r[1].contains("row limit"))
    );
}

#[test]
fn workbook_is_byte_identical_across_runs() {
    let res = acme();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.xlsx"), dir.path().join("b.xlsx"));
    workbook::export_xlsx(&res, &a).unwrap();
    workbook::export_xlsx(&res, &b).unwrap();
    assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap());
}
