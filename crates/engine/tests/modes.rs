//! Service modes: a setting that moves the split. An asset selects a mode with `mode:`; the
//! default is the provider's default.

use std::sync::Arc;

use demarc_catalog::{Catalog, Owner, ResourceFormat};
use demarc_engine::resolve;
use demarc_model::{Duty, load_sources, validate};

const HEAD: &str =
    "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n";

#[test]
fn a_lambda_container_image_is_patched_by_the_customer_a_zip_function_by_aws() {
    let e = load_sources(vec![(
        "e.yaml".into(),
        format!(
            "{HEAD}assets:\n  - {{id: zipfn, service: aws:lambda}}\n  - {{id: imgfn, service: aws:lambda, mode: container-image}}\n  - {{id: zip2, service: aws:lambda, mode: zip}}\n"
        ),
    )])
    .unwrap();
    validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    let res = resolve(
        Arc::new(e),
        Catalog::builtin_shared(),
        "2026-11-23".parse().unwrap(),
    );
    let owner = |id: &str| {
        let a = res.find_asset(id).unwrap();
        let c = res.cell(a, "runtime-patching", Duty::Patch).unwrap();
        (c.ownership, c.basis[0].rule.clone())
    };
    let (zip, zip_rule) = owner("zipfn");
    let (img, img_rule) = owner("imgfn");
    assert_eq!(zip, demarc_engine::Ownership::CspOwned, "{zip_rule}");
    assert_eq!(img, demarc_engine::Ownership::CscOwned, "{img_rule}");
    assert!(
        img_rule.starts_with("aws:lambda#container-image:"),
        "{img_rule}"
    );
    // Naming the default mode is the same as naming none.
    assert_eq!(owner("zip2").0, zip);
}

#[test]
fn an_unknown_mode_is_a_located_error_listing_the_modes() {
    let e = load_sources(vec![(
        "e.yaml".into(),
        format!("{HEAD}assets:\n  - {{id: f, service: aws:lambda, mode: container}}\n"),
    )])
    .unwrap();
    let err = validate(&e, Catalog::builtin()).unwrap_err().to_string();
    assert!(
        err.contains("service `aws:lambda` has no mode `container`"),
        "{err}"
    );
    assert!(err.contains("did you mean `container-image`?"), "{err}");
    assert!(err.contains("e.yaml:7:"), "{err}");
}

#[test]
fn the_catalog_records_modes_and_resource_types() {
    let cat = Catalog::builtin();
    let lambda = cat.service("aws:lambda").unwrap();
    assert_eq!(lambda.modes.len(), 2);
    assert!(lambda.modes.iter().any(|m| m.default && m.id == "zip"));
    assert_eq!(
        lambda.resource_types[&ResourceFormat::Terraform],
        ["aws_lambda_function"]
    );
    let variant = cat.service("aws:lambda#container-image").unwrap();
    assert_eq!(variant.mode.as_deref(), Some("container-image"));
    assert_eq!(
        variant.controls["runtime-patching"].owner_for(Duty::Patch),
        Owner::Customer
    );
}

/// Each resource type stands for one service: ingest must never have to guess.
#[test]
fn every_resource_type_maps_to_exactly_one_service() {
    let mut seen = std::collections::BTreeMap::new();
    for s in &Catalog::builtin().services {
        for (format, types) in &s.resource_types {
            for t in types {
                if let Some(other) = seen.insert((*format, t.clone()), s.id.clone()) {
                    panic!(
                        "{} `{t}` maps to both {other} and {}",
                        format.as_str(),
                        s.id
                    );
                }
            }
        }
    }
}
