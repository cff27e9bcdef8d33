//! The HTML report on a synthetic estate bigger than the matrix limit.

use demarc_catalog::Catalog;
use demarc_engine::{analyse, resolve};
use demarc_report::html::{MATRIX_ROW_LIMIT, report};

#[test]
fn a_big_estate_lists_the_first_assets_and_says_where_the_rest_are() {
    let n = MATRIX_ROW_LIMIT + 7;
    let estate = demarc_model::load_sources(vec![("e.yaml".into(), demarc_synth::yaml(n, 5))])
        .expect("synthetic estate loads");
    let res = resolve(
        std::sync::Arc::new(estate),
        Catalog::builtin_shared(),
        "2026-11-23".parse().unwrap(),
    );
    let analysis = analyse(&res);
    let html = report(&res, &analysis).expect("renders");
    let matrix = &html[html.find("<h2>Matrix</h2>").expect("matrix section")..];
    let rows = matrix.matches("<tr><td>").count();
    assert_eq!(rows, MATRIX_ROW_LIMIT);
    assert!(
        matrix.contains(&format!("The first {MATRIX_ROW_LIMIT} of {n} assets")),
        "the cut is stated"
    );
    // Rows are in id order: the first is the smallest id, the last shown is the limit-th.
    assert!(matrix.contains("<tr><td>a0000000</td>"));
    assert!(matrix.contains(&format!("<tr><td>a{:07}</td>", MATRIX_ROW_LIMIT - 1)));
    assert!(!matrix.contains(&format!("<tr><td>a{:07}</td>", MATRIX_ROW_LIMIT)));
    // Every gap is in the report, with its code.
    for g in &analysis.gaps {
        assert!(html.contains(&format!("{} {}", g.code, g.kind)));
    }
}
