//! Loading estates as users write them: the example verbatim, split directories,
//! and the errors users get for what they get wrong.

use std::path::{Path, PathBuf};

use demarc_model::{Duty, load_path, load_sources};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load_text(text: &str) -> Result<demarc_model::Estate, String> {
    load_sources(vec![("estate.yaml".into(), text.to_string())]).map_err(|e| e.to_string())
}

#[test]
fn the_documented_example_loads_exactly_as_written() {
    let e = load_path(
        &fixture("issue-example.yaml"),
        &Default::default(),
        &mut Default::default(),
    )
    .unwrap();
    assert_eq!(e.name, "acme-retail");
    assert_eq!(e.customer.value, "acme");
    assert_eq!(e.parties.len(), 3);
    assert_eq!(e.parties["acme"].teams.len(), 3);
    assert_eq!(e.parties["aws"].attestations.len(), 2);
    let c = &e.contracts[0];
    assert_eq!(c.clauses[0].sla[&Duty::Respond].to_string(), "1h");
    assert_eq!(c.clauses[1].cadence.unwrap().days(), 30);
    assert_eq!(c.clauses[1].scope.tags["patch"], "shieldco");
    assert_eq!(e.assets.len(), 5);
    assert_eq!(e.assets[2].data, vec!["pii", "pci"]);
    // Locations are kept for error messages: the third asset's service is on line 46.
    assert_eq!(e.assets[2].service.loc.line, 46);
    assert_eq!(e.assignments[0].to.0[0].to_string(), "acme/dba");
    assert_eq!(e.evidence[0].valid_until().to_string(), "2026-12-13");
}

#[test]
fn a_directory_of_files_merges_into_one_estate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("estate.yaml"), "version: 1\nestate: split\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n").unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(
        dir.path().join("assets/web.yaml"),
        "assets:\n  - {id: web, service: aws:ec2}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("assets/db.yml"),
        "assets:\n  - {id: db, service: aws:rds}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not yaml").unwrap();
    let e = load_path(dir.path(), &Default::default(), &mut Default::default()).unwrap();
    assert_eq!(e.files().count(), 3);
    let ids: Vec<&str> = e.assets.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["db", "web"]); // assets/db.yml sorts before assets/web.yaml
    assert!(e.place(e.assets[0].id.loc).file.ends_with("assets/db.yml"));
}

#[test]
fn a_party_defined_in_two_files_is_an_error_naming_both_places() {
    let err = load_sources(vec![
        (
            "a.yaml".into(),
            "version: 1\nestate: x\ncustomer: acme\nparties:\n  acme: {kind: customer, name: A}\n"
                .into(),
        ),
        (
            "b.yaml".into(),
            "parties:\n  acme: {kind: customer, name: B}\n".into(),
        ),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("b.yaml:2:"), "{err}");
    assert!(err.contains("party `acme` is defined twice"), "{err}");
    assert!(err.contains("a.yaml:5:"), "{err}");
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let err =
        load_text("version: 1\nestate: x\ncustomer: acme\nassets:\n  - {id: a, service: aws:ec2\n")
            .unwrap_err();
    assert!(err.starts_with("estate.yaml:"), "{err}");
    assert!(err.contains("error:"), "{err}");
}

#[test]
fn a_misspelt_field_is_rejected_with_its_position() {
    let err =
        load_text("version: 1\nestate: x\ncustomer: acme\nassets:\n  - {id: a, servce: aws:ec2}\n")
            .unwrap_err();
    assert!(err.starts_with("estate.yaml:5:"), "{err}");
    assert!(err.contains("servce"), "{err}");
}

#[test]
fn a_bad_duration_or_duty_is_rejected() {
    let err = load_text("version: 1\nestate: x\ncustomer: a\ncontracts:\n  - id: c\n    party: p\n    clauses:\n      - {id: '1', sla: {respond: soon}}\n").unwrap_err();
    assert!(err.contains("not a duration"), "{err}");
    assert!(err.starts_with("estate.yaml:8:"), "{err}");
    let err = load_text(
        "version: 1\nestate: x\ncustomer: a\nassignments:\n  - {duties: [pach], to: a}\n",
    )
    .unwrap_err();
    assert!(err.contains("pach"), "{err}");
}

#[test]
fn missing_header_fields_are_each_reported() {
    let err = load_text("assets: []\n").unwrap_err();
    for field in ["version", "estate", "customer"] {
        assert!(err.contains(&format!("missing `{field}`")), "{err}");
    }
}

#[test]
fn a_truncated_file_is_an_error_not_partial_data() {
    let full = std::fs::read_to_string(fixture("issue-example.yaml")).unwrap();
    let cut = &full[..full.find("  - {id: orders-db").unwrap() + 20];
    assert!(load_text(cut).is_err());
}

#[test]
fn a_repeated_key_is_located_and_explained_for_users() {
    let err = load_text(
        "version: 1\nestate: x\ncustomer: acme\nassets:\n  - {id: a, service: aws:ec2, tags: {team: web, team: db}}\n",
    )
    .unwrap_err();
    assert!(err.starts_with("estate.yaml:5:"), "{err}");
    assert!(err.contains("duplicate mapping key: team"), "{err}");
    assert!(!err.contains("DuplicateKeyPolicy"), "{err}");
    assert!(err.contains("a key may appear once"), "{err}");
}
