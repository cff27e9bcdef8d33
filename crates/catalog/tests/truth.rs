//! The truth table: facts read from the providers' own per-service pages (service, mode,
//! control, duty → expected owner, with the page and a one-line paraphrase of what decides
//! it), checked against the resolved catalog. Files: `tests/truth/*.csv`. The expected owner
//! is `provider`, `customer`, `shared`, or `n/a` (the control does not apply to the service).

use std::path::Path;

use demarc_catalog::{Catalog, Owner};
use demarc_model::Duty;

struct Fact {
    at: String,
    service: String,
    mode: String,
    control: String,
    duty: Duty,
    owner: String,
    page: String,
    decided_by: String,
}

fn facts() -> Vec<Fact> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/truth");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/truth")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let mut r = csv::Reader::from_path(&f).unwrap();
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            [
                "service",
                "mode",
                "control",
                "duty",
                "owner",
                "page",
                "decided_by"
            ],
            "{}",
            f.display()
        );
        for (i, rec) in r.records().enumerate() {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let at = format!("{}:{}", f.file_name().unwrap().to_string_lossy(), i + 2);
            out.push(Fact {
                duty: Duty::from_word(&rec[3])
                    .unwrap_or_else(|| panic!("{at}: duty `{}`", &rec[3])),
                service: rec[0].to_string(),
                mode: rec[1].to_string(),
                control: rec[2].to_string(),
                owner: rec[4].to_string(),
                page: rec[5].to_string(),
                decided_by: rec[6].to_string(),
                at,
            });
        }
    }
    out
}

#[test]
fn the_catalog_agrees_with_every_fact_read_from_the_providers_pages() {
    let cat = Catalog::builtin();
    let facts = facts();
    assert!(!facts.is_empty());
    let mut wrong = Vec::new();
    for f in &facts {
        assert!(
            f.page.starts_with("https://"),
            "{}: page must be an https URL",
            f.at
        );
        assert!(f.decided_by.len() > 10, "{}: say what decides it", f.at);
        let id = if f.mode.is_empty() {
            f.service.clone()
        } else {
            format!("{}#{}", f.service, f.mode)
        };
        let s = cat
            .service(&id)
            .unwrap_or_else(|| panic!("{}: no catalog service `{id}`", f.at));
        let got = match cat.responsibility(&s.model, Some(s), &f.control, f.duty) {
            None => "n/a".to_string(),
            Some(found) => match found.owner {
                Owner::Provider => "provider".into(),
                Owner::Customer => "customer".into(),
                Owner::Shared => "shared".into(),
            },
        };
        if got != f.owner {
            wrong.push(format!(
                "{}: {id} {} {}: expected {}, the catalog says {got} ({})",
                f.at, f.control, f.duty, f.owner, f.decided_by
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} facts disagree:\n{}",
        wrong.len(),
        facts.len(),
        wrong.join("\n")
    );
}
