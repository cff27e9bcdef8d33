//! How much of each framework the built-in catalog addresses. Every requirement must be
//! mapped to a demarc control or listed as not addressed with a reason; mapped ids must exist
//! in the framework; and coverage may not fall below the floors documented in
//! docs/compliance.md. Run with `--nocapture` to see the table.

use demarc_catalog::Catalog;
use demarc_compliance::Library;
use demarc_compliance::rollup::{Coverage, coverage};

/// `(framework, baseline, floor %)`: the documented floors (docs/compliance.md).
const FLOORS: &[(&str, Option<&str>, f64)] = &[
    ("nist-800-53", None, 15.0),
    ("nist-800-53", Some("low"), 45.0),
    ("nist-800-53", Some("moderate"), 45.0),
    ("nist-800-53", Some("high"), 38.0),
    ("nist-800-53", Some("privacy"), 15.0),
    ("fedramp", Some("low"), 45.0),
    ("fedramp", Some("moderate"), 48.0),
    ("fedramp", Some("high"), 38.0),
    ("fedramp", Some("li-saas"), 45.0),
    ("fedramp-20x", None, 75.0),
    ("iso27001", None, 70.0),
    ("soc2", None, 42.0),
    ("pci-dss", None, 52.0),
    ("hipaa", None, 72.0),
    ("cis-v8", None, 75.0),
    ("csa-ccm", None, 50.0),
];

fn all() -> Vec<Coverage> {
    let lib = Library::builtin().unwrap();
    let catalog = Catalog::builtin();
    FLOORS
        .iter()
        .map(|(fw, b, _)| {
            let baseline = b.map(|b| lib.baseline(fw, b).unwrap());
            coverage(lib, catalog, fw, baseline).unwrap()
        })
        .collect()
}

#[test]
fn every_requirement_is_mapped_or_explained_and_coverage_holds_its_floor() {
    let rows = all();
    println!(
        "{:<14} {:<9} {:>6} {:>7} {:>10} {:>9}",
        "framework", "baseline", "reqs", "mapped", "explained", "mapped %"
    );
    for c in &rows {
        println!(
            "{:<14} {:<9} {:>6} {:>7} {:>10} {:>8.1}%",
            c.framework,
            c.baseline.as_deref().unwrap_or("-"),
            c.requirements,
            c.mapped,
            c.explained,
            c.mapped_pct()
        );
    }
    for (c, (_, _, floor)) in rows.iter().zip(FLOORS) {
        let name = format!("{} {}", c.framework, c.baseline.as_deref().unwrap_or(""));
        assert!(
            c.unexplained.is_empty(),
            "{name}: neither mapped nor explained: {:?}",
            c.unexplained
        );
        assert!(
            c.contradictory.is_empty(),
            "{name}: mapped and not addressed: {:?}",
            c.contradictory
        );
        assert!(
            c.unknown_mappings.is_empty(),
            "{name}: mappings to unknown ids: {:?}",
            c.unknown_mappings
        );
        assert_eq!(c.mapped + c.explained, c.requirements, "{name}");
        assert!(
            c.mapped_pct() >= *floor,
            "{name}: coverage {}% fell below its floor {floor}%",
            c.mapped_pct()
        );
    }
}

#[test]
fn requirement_lists_have_their_published_sizes() {
    let lib = Library::builtin().unwrap();
    let n = |f: &str| lib.framework(f).unwrap().len();
    assert_eq!(n("iso27001"), 93);
    assert_eq!(n("cis-v8"), 153);
    assert_eq!(n("csa-ccm"), 197);
    assert_eq!(n("fedramp-20x"), 46);
    assert!(n("soc2") >= 61);
    assert!(n("pci-dss") > 240);
    assert!(n("hipaa") > 40);
    // Titles are ours and short; ids are unique (the loader refuses duplicates).
    for f in ["iso27001", "soc2", "pci-dss", "hipaa", "cis-v8", "csa-ccm"] {
        for r in &lib.framework(f).unwrap().requirements {
            assert!(
                !r.title.is_empty() && r.title.len() <= 120,
                "{f} {}: {}",
                r.id,
                r.title
            );
            assert!(r.statement.is_none(), "{f}: no licensed text is shipped");
        }
    }
}
