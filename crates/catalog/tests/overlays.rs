//! The catalog extended at run time: overlay files and the estate's own services, with every
//! problem located at file:line:column.

use std::path::PathBuf;

use demarc_catalog::{
    AttestScope, CatalogBuilder, CatalogOrigin, EntryLevel, IdScheme, Owner, Relation,
    load_overlay_dir, nist_800_53_label, normalise_nist_800_53,
};
use demarc_model::Duty;

fn build(overlays: &[(&str, &str)]) -> Result<demarc_catalog::Catalog, String> {
    overlays
        .iter()
        .fold(CatalogBuilder::new().builtin(), |b, (n, t)| {
            b.overlay(PathBuf::from(n), t.to_string())
        })
        .build()
        .map_err(|e| e.to_string())
}

const ACME: &str = "\
version: 1
provider: acme-cloud
provider_name: Acme Cloud
services:
  - id: acme:vm
    name: Acme VM
    model: iaas
    source:
      title: Acme shared responsibility
      url: https://acme.example/srm
      checked: 2026-11-01
    controls:
      os-patching: {owner: provider, provider: Acme patches the guest OS nightly.}
";

#[test]
fn an_overlay_service_resolves_like_a_builtin_one_and_says_where_it_came_from() {
    let cat = build(&[("overlays/acme.yaml", ACME)]).unwrap();
    let vm = cat.service("acme:vm").unwrap();
    assert_eq!(
        vm.origin,
        CatalogOrigin::Overlay(PathBuf::from("overlays/acme.yaml"))
    );
    assert_eq!(vm.provider, "acme-cloud");
    assert_eq!(cat.providers["acme-cloud"], "Acme Cloud");
    let found = cat
        .responsibility(&vm.model, Some(vm), "os-patching", Duty::Patch)
        .unwrap();
    assert_eq!(found.owner, Owner::Provider);
    assert_eq!(found.level, EntryLevel::ServiceControl);
    assert_eq!(found.source.url(), Some("https://acme.example/srm"));
    // Not named by the service: the generic IaaS model decides. Its network layer is shared,
    // but writing security group rules is the customer's alone (customer-actionable).
    let fw = cat
        .responsibility(&vm.model, Some(vm), "security-groups", Duty::Configure)
        .map(|f| (f.owner, f.level, f.layer_said));
    assert_eq!(
        fw,
        Some((Owner::Customer, EntryLevel::ModelLayer, Some(Owner::Shared)))
    );
    // Built-in services keep their origin.
    assert_eq!(
        cat.service("aws:ec2").unwrap().origin,
        CatalogOrigin::Builtin
    );
}

#[test]
fn an_overlay_adds_controls_models_layers_and_frameworks_recognised_by_their_key() {
    // File names say nothing: each file's kind is its top-level key.
    let layer =
        "layers:\n  - {id: ot-network, name: OT network, description: Plant floor network.}\n";
    let fw = "frameworks:\n  - {id: iec-62443, name: IEC 62443, publisher: IEC, version: '2018', url: https://www.iec.ch/, kind: mapping}\n";
    let control = "\
controls:
  - id: ot-segmentation
    name: OT segmentation
    layer: ot-network
    duties: [configure, audit]
    description: Keep plant systems on their own network.
    mappings:
      nist-800-53: [SC-7(5), {id: AC-04, relation: subset}, SC-7a]
      iec-62443: [' SR 5.1 ']
";
    let model = "\
models:
  - id: ot-managed
    name: Managed OT
    description: A vendor runs the plant network.
    source: {title: Vendor manual, file: docs/ot-manual.pdf, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, checked: 2026-10-01}
    layers:
      ot-network: {owner: provider, provider: The vendor segments the network.}
";
    let cat = build(&[
        ("a.yaml", layer),
        ("b.yaml", fw),
        ("c.yaml", control),
        ("d.yaml", model),
    ])
    .unwrap();
    assert_eq!(cat.layers.last().unwrap().id, "ot-network");
    let c = cat.control("ot-segmentation").unwrap();
    let nist: Vec<(&str, Relation)> = c.mappings["nist-800-53"]
        .iter()
        .map(|m| (m.requirement.as_str(), m.relation))
        .collect();
    assert_eq!(
        nist,
        [
            ("sc-7.5", Relation::Intersects),
            ("ac-4", Relation::Subset),
            ("sc-7_smt.a", Relation::Intersects),
        ]
    );
    assert_eq!(c.mappings["iec-62443"][0].requirement.as_str(), "SR 5.1");
    let found = cat
        .responsibility("ot-managed", None, "ot-segmentation", Duty::Configure)
        .unwrap();
    assert_eq!(found.owner, Owner::Provider);
    assert_eq!(found.source.link(), "file:docs/ot-manual.pdf");
}

/// The single error of a broken overlay, as printed.
fn rejected(overlays: &[(&str, &str)]) -> String {
    let err = build(overlays).unwrap_err();
    assert!(!err.is_empty());
    err
}

fn service_with(extra: &str, source: &str) -> String {
    format!(
        "provider: acme-cloud\nprovider_name: Acme Cloud\nservices:\n  - id: acme:vm\n    name: Acme VM\n    model: iaas\n    source: {source}\n{extra}"
    )
}
const GOOD_SOURCE: &str = "{title: T, url: https://acme.example/, checked: 2026-11-01}";

#[test]
fn an_overlay_that_is_not_yaml_is_located() {
    let err = rejected(&[("o/bad.yaml", "services:\n  - id: [unclosed\n")]);
    assert!(err.starts_with("o/bad.yaml:"), "{err}");
    assert!(err.contains("error:"), "{err}");
    assert!(err.contains("help:"), "{err}");
}

#[test]
fn a_misspelt_key_in_an_overlay_gets_a_suggestion() {
    let err = rejected(&[(
        "o/typo.yaml",
        "provider: a\nprovider_name: A\nservces: []\n",
    )]);
    assert!(
        err.starts_with("o/typo.yaml:3:1: error: unknown field `servces`"),
        "{err}"
    );
    assert!(err.contains("did you mean `services`?"), "{err}");
}

#[test]
fn an_unknown_control_in_an_overlay_is_located_with_a_suggestion() {
    let text = service_with(
        "    controls:\n      os-patchin: {owner: provider, provider: P.}\n",
        GOOD_SOURCE,
    );
    let err = rejected(&[("o/acme.yaml", &text)]);
    assert_eq!(
        err,
        "o/acme.yaml:9:7: error: service `acme:vm` names unknown control `os-patchin`\n  help: did you mean `os-patching`?"
    );
}

#[test]
fn an_unknown_layer_in_an_overlay_is_located() {
    let text = service_with(
        "    layers:\n      gust-os: {owner: customer, customer: C.}\n",
        GOOD_SOURCE,
    );
    let err = rejected(&[("o/acme.yaml", &text)]);
    assert_eq!(
        err,
        "o/acme.yaml:9:7: error: service `acme:vm` names unknown layer `gust-os`\n  help: did you mean `guest-os`?"
    );
}

#[test]
fn redefining_a_builtin_id_names_both_places_unless_the_overlay_says_replace() {
    let text = "provider: aws\nprovider_name: Amazon Web Services\nservices:\n  - id: aws:ec2\n    name: My EC2\n    model: iaas\n    source: {title: T, url: https://x.example/, checked: 2026-11-01}\n";
    let err = rejected(&[("o/ec2.yaml", text)]);
    assert!(
        err.starts_with("o/ec2.yaml:4:9: error: service `aws:ec2` is already defined at <builtin>/services/aws.yaml:"),
        "{err}"
    );
    assert!(err.contains("replace: true"), "{err}");

    let replaced = text.replace("    name: My EC2", "    replace: true\n    name: My EC2");
    let cat = build(&[("o/ec2.yaml", &replaced)]).unwrap();
    let ec2 = cat.service("aws:ec2").unwrap();
    assert_eq!(ec2.name, "My EC2");
    assert_eq!(ec2.origin, CatalogOrigin::Overlay("o/ec2.yaml".into()));
    assert_eq!(cat.services.iter().filter(|s| s.id == "aws:ec2").count(), 1);
}

#[test]
fn replace_without_an_earlier_definition_is_an_error() {
    let text = service_with("    replace: true\n", GOOD_SOURCE);
    let err = rejected(&[("o/acme.yaml", &text)]);
    assert!(
        err.starts_with("o/acme.yaml:4:9: error: service `acme:vm` says `replace: true` but no earlier definition exists"),
        "{err}"
    );
}

#[test]
fn two_overlays_defining_one_id_are_an_error_naming_both() {
    let err = rejected(&[("o/one.yaml", ACME), ("o/two.yaml", ACME)]);
    assert!(
        err.starts_with(
            "o/two.yaml:5:9: error: service `acme:vm` is already defined at o/one.yaml:5:9"
        ),
        "{err}"
    );
}

#[test]
fn a_source_must_be_https() {
    let text = service_with(
        "",
        "{title: T, url: http://acme.example/, checked: 2026-11-01}",
    );
    let err = rejected(&[("o/acme.yaml", &text)]);
    assert!(err.starts_with("o/acme.yaml:7:"), "{err}");
    assert!(
        err.contains("source url `http://acme.example/` must be https://"),
        "{err}"
    );
}

#[test]
fn a_file_source_needs_a_well_formed_sha256() {
    let text = service_with(
        "",
        "{title: T, file: srm.pdf, sha256: abc123, checked: 2026-11-01}",
    );
    let err = rejected(&[("o/acme.yaml", &text)]);
    assert!(err.starts_with("o/acme.yaml:7:"), "{err}");
    assert!(
        err.contains("sha256 `abc123` is not 64 hex digits"),
        "{err}"
    );

    let text = service_with("", "{title: T, file: srm.pdf, checked: 2026-11-01}");
    let err = rejected(&[("o/acme.yaml", &text)]);
    assert!(err.contains("a `file` source needs its `sha256`"), "{err}");
}

#[test]
fn a_source_has_a_url_or_a_file_not_both() {
    let both = format!(
        "{{title: T, url: https://a.example/, file: srm.pdf, sha256: {}, checked: 2026-11-01}}",
        "a".repeat(64)
    );
    let err = rejected(&[("o/acme.yaml", &service_with("", &both))]);
    assert!(err.starts_with("o/acme.yaml:7:"), "{err}");
    assert!(err.contains("either `url` or `file`, not both"), "{err}");

    let neither = "{title: T, checked: 2026-11-01}";
    let err = rejected(&[("o/acme.yaml", &service_with("", neither))]);
    assert!(
        err.contains("needs `url` (https) or `file` with `sha256`"),
        "{err}"
    );
}

#[test]
fn a_malformed_nist_id_is_a_catalog_error() {
    let text = "controls:\n  - id: c1\n    name: C\n    layer: data\n    duties: [audit]\n    description: D.\n    mappings:\n      nist-800-53: [AC-2, XYZ]\n";
    let err = rejected(&[("o/c.yaml", text)]);
    assert!(
        err.starts_with("o/c.yaml:8:27: error: control `c1`: `XYZ` is not a NIST SP 800-53 id"),
        "{err}"
    );
}

#[test]
fn an_unknown_relation_is_rejected() {
    let text = "controls:\n  - id: c1\n    name: C\n    layer: data\n    duties: [audit]\n    description: D.\n    mappings:\n      nist-800-53: [{id: AC-2, relation: about}]\n";
    let err = rejected(&[("o/c.yaml", text)]);
    assert!(err.starts_with("o/c.yaml:8:"), "{err}");
}

#[test]
fn an_overlay_cannot_redefine_duties_or_mix_kinds() {
    let err = rejected(&[("o/d.yaml", "duties: []\n")]);
    assert!(
        err.contains("o/d.yaml:1:1: error: an overlay cannot define duties"),
        "{err}"
    );
    let err = rejected(&[("o/m.yaml", "layers: []\ncontrols: []\n")]);
    assert!(
        err.contains("o/m.yaml:1:1: error: this file mixes layers and controls"),
        "{err}"
    );
    let err = rejected(&[("o/e.yaml", "version: 1\n")]);
    assert!(
        err.contains("o/e.yaml:1:1: error: this file defines nothing"),
        "{err}"
    );
}

#[test]
fn every_problem_of_every_overlay_is_reported_in_one_pass() {
    let a = service_with(
        "    controls:\n      nope: {owner: customer, customer: C.}\n",
        GOOD_SOURCE,
    );
    let b = "provider: b\nprovider_name: B\nservices:\n  - id: b:x\n    name: X\n    model: iaaz\n    source: {title: T, url: https://b.example/, checked: 2026-11-01}\n";
    let err = build(&[("o/a.yaml", &a), ("o/b.yaml", b)]).unwrap_err();
    assert_eq!(err.matches("error:").count(), 2, "{err}");
    assert!(err.contains("o/a.yaml:9:7: error: service `acme:vm` names unknown control `nope`"));
    assert!(err.contains("o/b.yaml:6:12: error: service `b:x` names unknown model `iaaz`"));
}

#[test]
fn an_overlay_extends_the_exposure_words() {
    let text = "exposure:\n  production_envs:\n    - {id: live, description: Our production.}\n  regulated_data:\n    - {id: pci, description: dup}\n";
    let err = rejected(&[("o/x.yaml", text)]);
    assert!(
        err.starts_with("o/x.yaml:5:12: error: regulated data class `pci` is already defined at <builtin>/exposure.yaml:"),
        "{err}"
    );
    let text = "exposure:\n  production_envs:\n    - {id: live, description: Our production.}\n";
    let cat = build(&[("o/x.yaml", text)]).unwrap();
    assert!(cat.is_production_env("live") && cat.is_production_env("prod"));
}

#[test]
fn attestation_scopes_hosting_layers_exposure_and_self_operation_are_catalog_data() {
    let cat = demarc_catalog::Catalog::builtin();
    assert_eq!(
        cat.attested_controls("fedramp"),
        AttestScope::Framework("nist-800-53".into())
    );
    assert_eq!(cat.attested_controls("csa-star"), AttestScope::All);
    assert_eq!(cat.attested_controls("iso27001"), AttestScope::Own);
    assert_eq!(cat.attested_controls("no-such-framework"), AttestScope::Own);
    let patching = cat.control("os-patching").unwrap();
    assert!(cat.attests("fedramp", patching) && cat.attests("csa-star", patching));
    let physical = cat.control("physical-access").unwrap();
    assert!(
        !cat.attests("cis-v8", physical),
        "CIS v8 has no physical safeguards"
    );
    assert!(cat.attests("iso27001", physical));

    let hosting: Vec<&str> = cat.hosting_layers().iter().map(|l| l.as_str()).collect();
    assert_eq!(
        hosting,
        ["physical-datacenter", "physical-network", "physical-host"]
    );
    assert!(cat.is_hosting_layer("physical-host") && !cat.is_hosting_layer("guest-os"));

    for env in ["prod", "production", "prd"] {
        assert!(cat.is_production_env(env), "{env}");
    }
    assert!(!cat.is_production_env("staging"));
    for d in ["pci", "phi", "health", "secret", "credentials"] {
        assert!(cat.is_regulated_data(d), "{d}");
    }
    for d in ["pii", "confidential", "restricted", "financial"] {
        assert!(cat.is_sensitive_data(d) && !cat.is_regulated_data(d), "{d}");
    }
    let x = cat.exposure();
    assert!(
        x.production_envs
            .iter()
            .chain(&x.regulated_data)
            .chain(&x.sensitive_data)
            .all(|t| !t.description.trim().is_empty())
    );

    assert!(cat.is_self_operated("self"));
    assert!(!cat.is_self_operated("aws"));
    assert_eq!(
        cat.framework("nist-800-53").unwrap().id_scheme,
        IdScheme::Nist80053
    );
}

#[test]
fn an_attestation_framework_must_attest_a_mapping_framework_or_all() {
    let text = "frameworks:\n  - {id: my-cert, name: M, publisher: P, version: '1', url: https://m.example/, kind: attestation, attests: nist-800-5}\n";
    let err = rejected(&[("o/f.yaml", text)]);
    assert!(err.starts_with("o/f.yaml:2:"), "{err}");
    assert!(
        err.contains("framework `my-cert` attests unknown mapping framework `nist-800-5`"),
        "{err}"
    );
    assert!(err.contains("did you mean `nist-800-53`?"), "{err}");
}

// ---------------------------------------------------------------- the estate's own services

fn estate(text: &str) -> demarc_model::Estate {
    demarc_model::load_sources(vec![("estate/services.yaml".into(), text.into())]).unwrap()
}

const ESTATE_HEAD: &str =
    "version: 1\nestate: demo\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n";

#[test]
fn an_estate_service_uses_the_full_service_schema() {
    let e = estate(&format!(
        "{ESTATE_HEAD}services:
  saas:payflow:
    model: saas
    name: PayFlow
    provider: payflow
    source: {{title: PayFlow addendum, url: https://payflow.example/srm, checked: 2026-10-01}}
    controls:
      backup: {{owner: provider, provider: PayFlow backs up card data.}}
    layers:
      identity: {{owner: shared, provider: PayFlow runs SSO., customer: Acme manages users.}}
  legacy:crm:
    model: saas
    source: the CRM contract, schedule B
"
    ));
    let cat = CatalogBuilder::new()
        .builtin()
        .estate_services(
            &e.services,
            &e.files().map(|p| p.to_path_buf()).collect::<Vec<_>>(),
        )
        .build()
        .unwrap();
    let pf = cat.service("saas:payflow").unwrap();
    assert_eq!(
        pf.origin,
        CatalogOrigin::Estate("estate/services.yaml".into())
    );
    assert_eq!(pf.provider, "payflow");
    assert_eq!(pf.name, "PayFlow");
    let f = cat
        .responsibility("saas", Some(pf), "backup", Duty::Configure)
        .unwrap();
    assert_eq!(
        (f.owner, f.level),
        (Owner::Provider, EntryLevel::ServiceControl)
    );
    assert_eq!(f.source.url(), Some("https://payflow.example/srm"));
    let f = cat
        .responsibility("saas", Some(pf), "mfa", Duty::Configure)
        .unwrap();
    assert_eq!(
        (f.owner, f.level),
        (Owner::Shared, EntryLevel::ServiceLayer)
    );

    // The original free-text source still loads; the service follows its model.
    let crm = cat.service("legacy:crm").unwrap();
    assert_eq!(crm.provider, "");
    assert_eq!(crm.notes.as_deref(), Some("the CRM contract, schedule B"));
    assert_eq!(crm.source, cat.model("saas").unwrap().source);
}

#[test]
fn an_estate_service_entry_is_checked_like_a_catalog_one() {
    let e = estate(&format!(
        "{ESTATE_HEAD}services:
  saas:payflow:
    model: saas
    source: {{title: PayFlow addendum, url: https://payflow.example/srm, checked: 2026-10-01}}
    controls:
      bakup: {{owner: provider, provider: P.}}
      mfa: {{owner: shared, provider: P.}}
"
    ));
    let err = CatalogBuilder::new()
        .builtin()
        .estate_services(
            &e.services,
            &e.files().map(|p| p.to_path_buf()).collect::<Vec<_>>(),
        )
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("estate/services.yaml:11:7: error: service `saas:payflow` names unknown control `bakup`\n  help: did you mean `backup`?"), "{err}");
    assert!(err.contains("estate/services.yaml:12:7: error: service `saas:payflow`: entry `mfa` says the customer does something but not what"), "{err}");
}

#[test]
fn estate_entries_need_a_source_document_and_cannot_shadow_the_catalog() {
    let e = estate(&format!(
        "{ESTATE_HEAD}services:
  saas:payflow:
    model: saas
    source: our wiki
    controls:
      backup: {{owner: provider, provider: P.}}
  aws:ec2:
    model: iaas
"
    ));
    let err = CatalogBuilder::new()
        .builtin()
        .estate_services(
            &e.services,
            &e.files().map(|p| p.to_path_buf()).collect::<Vec<_>>(),
        )
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("error: estate service `saas:payflow` has its own `layers:`/`controls:` entries but no source document"), "{err}");
    assert!(err.contains("error: estate service `aws:ec2` is already a catalog service (<builtin>/services/aws.yaml:"), "{err}");
}

#[test]
fn an_estate_source_document_is_validated_when_the_estate_loads() {
    let err = demarc_model::load_sources(vec![(
        "estate.yaml".into(),
        format!("{ESTATE_HEAD}services:\n  x:y:\n    model: saas\n    source: {{title: T, url: http://x.example/, checked: 2026-10-01}}\n"),
    )])
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("estate.yaml:9:"), "{err}");
    assert!(err.contains("must be https://"), "{err}");
}

// ---------------------------------------------------------------- loading overlay directories

#[test]
fn an_overlay_directory_is_read_in_path_order_yaml_files_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("b.yml"), "b").unwrap();
    std::fs::write(dir.path().join("a.yaml"), "a").unwrap();
    std::fs::write(dir.path().join("sub/c.yaml"), "c").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let files = load_overlay_dir(dir.path()).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|(p, t)| format!("{}={t}", p.strip_prefix(dir.path()).unwrap().display()))
        .collect();
    assert_eq!(names, ["a.yaml=a", "b.yml=b", "sub/c.yaml=c"]);
}

#[cfg(unix)]
#[test]
fn an_overlay_directory_refuses_symlinks_big_files_and_non_utf8() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("real.txt"), "x").unwrap();
    std::os::unix::fs::symlink(dir.path().join("real.txt"), dir.path().join("link.yaml")).unwrap();
    std::fs::write(dir.path().join("bin.yaml"), [0xff, 0xfe]).unwrap();
    let big = std::fs::File::create(dir.path().join("big.yaml")).unwrap();
    big.set_len(demarc_catalog::MAX_OVERLAY_BYTES + 1).unwrap();
    let err = load_overlay_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("link.yaml: error: not a regular file"),
        "{err}"
    );
    assert!(
        err.contains("big.yaml: error: file is 4194305 bytes"),
        "{err}"
    );
    assert!(err.contains("bin.yaml: error: not UTF-8 text"), "{err}");
}

#[test]
fn overlays_from_a_directory_build_into_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), ACME).unwrap();
    let files = load_overlay_dir(dir.path()).unwrap();
    let cat = CatalogBuilder::new()
        .builtin()
        .overlays(files)
        .build()
        .unwrap();
    assert_eq!(
        cat.service("acme:vm").unwrap().origin,
        CatalogOrigin::Overlay(dir.path().join("acme.yaml"))
    );
}

// ---------------------------------------------------------------- requirement ids

#[test]
fn nist_ids_normalise_to_their_oscal_form() {
    for (written, oscal) in [
        ("AC-2", "ac-2"),
        ("ac-2", "ac-2"),
        (" AC-2 ", "ac-2"),
        ("AC-02", "ac-2"),
        ("AC-2(1)", "ac-2.1"),
        ("AC-2(01)", "ac-2.1"),
        ("AC-2.1", "ac-2.1"),
        ("SC-7(5)", "sc-7.5"),
        ("AC-2a", "ac-2_smt.a"),
        ("AC-2(a)", "ac-2_smt.a"),
        ("ac-2_smt.a", "ac-2_smt.a"),
        ("AC-2a.1", "ac-2_smt.a.1"),
        ("AC-2(a)(1)", "ac-2_smt.a.1"),
        ("AC-2 a.1", "ac-2_smt.a.1"),
        ("ac-2_smt", "ac-2_smt"),
        ("AC-2(1)(a)", "ac-2.1_smt.a"),
        ("ac-2.1_smt.a", "ac-2.1_smt.a"),
        // FedRAMP workbook spellings.
        ("AC-02 (01)", "ac-2.1"),
        ("IA-05 (06)", "ia-5.6"),
        ("AC-02 (a)", "ac-2_smt.a"),
        ("AC-2 a.", "ac-2_smt.a"),
        ("AC-2a.", "ac-2_smt.a"),
        ("AC-2(3)(a)", "ac-2.3_smt.a"),
        ("AC-2 (3) (a)", "ac-2.3_smt.a"),
    ] {
        assert_eq!(
            normalise_nist_800_53(written).as_deref(),
            Ok(oscal),
            "{written}"
        );
    }
    for bad in [
        "",
        "AC",
        "AC-",
        "AC-0",
        "A-2",
        "AC2",
        "AC-2(",
        "AC-2(1",
        "AC-2.",
        "AC-2 .",
        "AC-2 (",
        "AC-2!",
        "AC-2(1)(2)",
        "AC-2_smt.",
        "12-3",
    ] {
        assert!(
            normalise_nist_800_53(bad).is_err(),
            "{bad} should be rejected"
        );
    }
    assert_eq!(
        IdScheme::AsWritten.normalise(" A.8.8 ").unwrap().as_str(),
        "A.8.8"
    );
    assert!(IdScheme::AsWritten.normalise("  ").is_err());
}

proptest::proptest! {
    #[test]
    fn normalising_a_normalised_nist_id_changes_nothing(
        fam in "[A-Za-z]{2}",
        n in 1u32..30,
        enh in proptest::option::of(1u32..40),
        paren in proptest::bool::ANY,
        part in proptest::option::of("[a-z]"),
        sub in proptest::option::of(1u32..9),
    ) {
        let mut id = format!("{fam}-{n}");
        if let Some(e) = enh {
            id.push_str(&if paren { format!("({e})") } else { format!(".{e}") });
        }
        if let Some(p) = &part {
            id.push_str(&if paren { format!("({p})") } else { p.clone() });
            if let Some(s) = sub {
                id.push_str(&if paren { format!("({s})") } else { format!(".{s}") });
            }
        }
        let once = normalise_nist_800_53(&id).unwrap();
        proptest::prop_assert_eq!(normalise_nist_800_53(&once).unwrap(), once.clone());
        // The conventional label reads back to the same id.
        proptest::prop_assert_eq!(normalise_nist_800_53(&nist_800_53_label(&once)).unwrap(), once.clone());
        proptest::prop_assert_eq!(once.clone(), once.to_ascii_lowercase());
    }

    #[test]
    fn normalising_any_text_either_fails_or_is_idempotent(raw in "\\PC{0,16}") {
        if let Ok(once) = normalise_nist_800_53(&raw) {
            proptest::prop_assert_eq!(normalise_nist_800_53(&once), Ok(once.clone()));
        }
    }
}

#[test]
fn relations_parse_and_default_to_intersects() {
    let text = "controls:\n  - id: c1\n    name: C\n    layer: data\n    duties: [audit]\n    description: D.\n    mappings:\n      nist-800-53: [AC-2, {id: AC-3, relation: equivalent}, {id: AC-4, relation: subset}, {id: AC-5, relation: superset}, {id: AC-6, relation: intersects}]\n";
    let cat = build(&[("o/c.yaml", text)]).unwrap();
    let rel: Vec<String> = cat.control("c1").unwrap().mappings["nist-800-53"]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        rel,
        [
            "ac-2",
            "ac-3 (equivalent)",
            "ac-4 (subset)",
            "ac-5 (superset)",
            "ac-6"
        ]
    );
    assert_eq!(Relation::default(), Relation::Intersects);
}

#[test]
fn estate_validation_checks_service_entries_against_the_catalog_vocabulary() {
    let e = estate(&format!(
        "{ESTATE_HEAD}services:
  saas:payflow:
    model: saas
    source: our wiki
    layers:
      idenity: {{owner: customer, customer: C.}}
    controls:
      backup: provider
"
    ));
    let err = demarc_model::validate(&e, demarc_catalog::Catalog::builtin())
        .unwrap_err()
        .to_string();
    assert!(err.contains("estate/services.yaml:11:7: error: unknown layer `idenity`\n  help: did you mean `identity`?"), "{err}");
    assert!(err.contains("estate/services.yaml:13:7: error: service `saas:payflow`: entry `backup` says the provider does something but not what"), "{err}");
    assert!(err.contains("estate/services.yaml:8:5: error: service `saas:payflow` has its own `layers:`/`controls:` entries but no source document"), "{err}");
}

mod compliance_scope {
    use demarc_catalog::{Catalog, CatalogBuilder, ProgramScope};

    const OVERLAY: &str = "provider: acme-cloud\nprovider_name: Acme Cloud\ncompliance_scope:\n  hipaa: {title: Acme HIPAA list, url: \"https://acme.example/hipaa\", checked: 2026-11-20}\nservices:\n  - id: acme:db\n    name: Acme DB\n    model: dbaas\n    source: {title: Acme SRM, url: \"https://acme.example/srm\", checked: 2026-11-01}\n    programs: [hipaa, soc2]\n  - id: acme:queue\n    name: Acme Queue\n    model: paas\n    source: {title: Acme SRM, url: \"https://acme.example/srm\", checked: 2026-11-01}\n";

    fn build(text: &str) -> Result<Catalog, String> {
        CatalogBuilder::new()
            .builtin()
            .overlay("overlays/acme.yaml".into(), text.into())
            .build()
            .map_err(|d| d.to_string())
    }

    #[test]
    fn scope_is_in_out_or_unknown_per_the_files_lists() {
        let cat = build(OVERLAY).unwrap();
        match cat.program_scope("acme:db", "hipaa") {
            ProgramScope::In(s) => assert_eq!(s.title, "Acme HIPAA list"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            cat.program_scope("acme:queue", "hipaa"),
            ProgramScope::Out(_)
        ));
        // Named, but the file has no SOC 2 list: unknown either way.
        assert_eq!(cat.program_scope("acme:db", "soc2"), ProgramScope::Unknown);
        assert_eq!(
            cat.program_scope("acme:nope", "hipaa"),
            ProgramScope::Unknown
        );
        assert_eq!(cat.service("acme:db").unwrap().programs, ["hipaa", "soc2"]);
    }

    #[test]
    fn unknown_program_ids_are_located_errors_with_a_suggestion() {
        let bad = OVERLAY
            .replace("programs: [hipaa, soc2]", "programs: [hipa]")
            .replace("  hipaa: {title", "  pci: {title");
        let e = build(&bad).unwrap_err();
        assert!(e.contains("overlays/acme.yaml:10:"), "{e}");
        assert!(e.contains("`hipa`") && e.contains("hipaa"), "{e}");
        assert!(e.contains("overlays/acme.yaml:4:"), "{e}");
        assert!(e.contains("`pci`") && e.contains("pci-dss"), "{e}");
    }

    #[test]
    fn the_built_in_programs_and_data_classes() {
        let cat = Catalog::builtin();
        let ids: Vec<&str> = cat.programs().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "hipaa",
                "pci-dss",
                "soc2",
                "iso27001",
                "fedramp-moderate",
                "fedramp-high"
            ]
        );
        for p in cat.programs() {
            assert!(cat.framework(&p.framework).is_some(), "{}", p.id);
        }
        assert_eq!(
            cat.program("fedramp-high").unwrap().level.as_deref(),
            Some("high")
        );
        assert_eq!(cat.programs_for_data("phi"), ["hipaa"]);
        assert_eq!(cat.programs_for_data("pci"), ["pci-dss"]);
        assert!(cat.programs_for_data("pii").is_empty());
        // A mode answers like its service; a provider without lists is unknown.
        assert!(matches!(
            cat.program_scope("aws:ec2#patch-manager", "hipaa"),
            ProgramScope::In(_)
        ));
        assert!(matches!(
            cat.program_scope("aws:app-runner", "hipaa"),
            ProgramScope::Out(_)
        ));
        assert_eq!(
            cat.program_scope("aws:s3", "pci-dss"),
            ProgramScope::Unknown
        );
        assert_eq!(
            cat.program_scope("gcp:bigquery", "hipaa"),
            ProgramScope::Unknown
        );
        assert_eq!(
            cat.program_scope("k8s:self-managed", "hipaa"),
            ProgramScope::Unknown
        );
        // A single-service SaaS file lists the programs its vendor's reports cover.
        assert!(matches!(
            cat.program_scope("saas:github", "soc2"),
            ProgramScope::In(_)
        ));
        assert_eq!(
            cat.program_scope("saas:github", "hipaa"),
            ProgramScope::Unknown
        );
        // Microsoft 365: SOC 2, ISO/IEC 27001 and HIPAA from Microsoft's offering pages; PCI DSS
        // (only OneDrive and SharePoint in the US) and FedRAMP stay unknown.
        for p in ["soc2", "iso27001", "hipaa"] {
            assert!(
                matches!(cat.program_scope("saas:m365", p), ProgramScope::In(_)),
                "{p}"
            );
        }
        for p in ["pci-dss", "fedramp-moderate", "fedramp-high"] {
            assert_eq!(
                cat.program_scope("saas:m365", p),
                ProgramScope::Unknown,
                "{p}"
            );
        }
        // Every service of a file with a list carries it.
        for s in cat.services.iter().filter(|s| s.provider == "aws") {
            assert!(s.program_sources.contains_key("hipaa"), "{}", s.id);
        }
    }
}
