//! FedRAMP 20x package exports on the acme example: they validate against the dated schemas,
//! list acme's providers as third-party information resources, summarise inheritance as the
//! compliance rollup does, and are stable for the same estate and as-of date.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::CatalogBuilder;
use demarc_compliance::Library;
use demarc_compliance::rollup::{Options, Origination, rollup};
use demarc_engine::{Resolution, resolve};
use demarc_exchange::fedramp20x::{self, PLACEHOLDER, PLACEHOLDER_URI, schema};
use demarc_model::{Interner, LoadOptions, load_path, validate};
use serde_json::Value;

fn acme_at(as_of: &str) -> Arc<Resolution> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
    let mut interner = Interner::new();
    let e =
        load_path(&root, &LoadOptions::default(), &mut interner).unwrap_or_else(|d| panic!("{d}"));
    let files: Vec<PathBuf> = e.files().map(Path::to_path_buf).collect();
    let cat = CatalogBuilder::new()
        .builtin()
        .estate_services(&e.services, &files)
        .build()
        .unwrap_or_else(|d| panic!("{d}"));
    validate(&e, &cat).unwrap_or_else(|d| panic!("{d}"));
    let as_of: NaiveDate = as_of.parse().unwrap();
    resolve(Arc::new(e), Arc::new(cat), as_of)
}

fn acme() -> Arc<Resolution> {
    acme_at("2026-11-23")
}

fn lib() -> &'static Library {
    Library::builtin().unwrap()
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn cpo_validates_and_lists_acmes_providers() {
    let res = acme();
    let e = fedramp20x::cpo(&res, lib()).unwrap();
    assert_eq!(
        schema::validate("cpo.json", &e.json, None).unwrap(),
        schema::CPO
    );
    let doc = parse(&e.json);
    let resources = doc["thirdPartyInformationResources"]["nonCertified"]
        .as_array()
        .unwrap();
    for provider in [
        "Amazon Web Services",
        "Microsoft",
        "Google Cloud",
        "Salesforce",
        "GitHub",
        "PayFlow Payments",
        "ShieldCo Managed Security",
        "Nightwatch Offensive Security",
        "DBCare Consulting",
    ] {
        assert!(
            resources.iter().any(|r| r["provider"] == provider),
            "{provider} missing from {resources:#?}"
        );
    }
    // The customer is the provider of the offering, not a third party.
    assert!(!resources.iter().any(|r| r["provider"] == "Acme Retail Ltd"));
    assert_eq!(
        doc["serviceIdentification"]["providerName"],
        "Acme Retail Ltd"
    );
    // Attestations with their dates, lapsed ones said to be lapsed.
    let payflow = resources
        .iter()
        .find(|r| r["provider"] == "PayFlow Payments")
        .unwrap();
    let uc = payflow["useCase"].as_str().unwrap();
    assert!(
        uc.contains("soc2 (report period ending 2025-09-30; lapsed 2026-09-30)"),
        "{uc}"
    );
    assert!(
        uc.contains("pci-dss (expires 2027-01-15; relied on until 2027-01-15)"),
        "{uc}"
    );
    let ec2 = resources
        .iter()
        .find(|r| r["name"].as_str().unwrap().contains("(aws:"))
        .unwrap();
    assert_eq!(ec2["provider"], "Amazon Web Services");
    // The MSSP carries cells without providing a service.
    let shieldco = resources
        .iter()
        .find(|r| r["provider"] == "ShieldCo Managed Security")
        .unwrap();
    assert!(
        shieldco["useCase"]
            .as_str()
            .unwrap()
            .contains("responsibility cells"),
        "{shieldco}"
    );
    // The security contact is the customer's own.
    assert_eq!(
        doc["contactInformation"][0]["contactEmail"],
        "security@acme.example"
    );
}

#[test]
fn placeholders_are_marked_listed_and_noted() {
    let res = acme();
    let e = fedramp20x::cpo(&res, lib()).unwrap();
    let doc = parse(&e.json);
    let pointers = doc["x-demarc"]["placeholders"].as_array().unwrap();
    assert!(!pointers.is_empty());
    for p in pointers {
        let p = p.as_str().unwrap();
        let v = doc
            .pointer(p)
            .unwrap_or_else(|| panic!("{p} is not in the document"));
        let shown = v.to_string();
        assert!(
            shown.contains(PLACEHOLDER)
                || shown.contains(PLACEHOLDER_URI)
                || p.starts_with("/serviceProperties/"),
            "{p}: {shown}"
        );
        let path = schema::json_path(p);
        assert!(
            e.notes.iter().any(|n| n.contains(&path)),
            "no note for {path}: {:?}",
            e.notes
        );
    }
    for required in [
        "/serviceIdentification/website",
        "/serviceIdentification/logo",
        "/serviceIdentification/serviceAcronym",
        "/contactInformation/1/contactName",
    ] {
        assert!(pointers.iter().any(|p| p == required), "{required}");
    }
}

#[test]
fn sdr_validates_and_summarises_inheritance_like_the_rollup() {
    let res = acme();
    let lib = lib();
    let e = fedramp20x::sdr(&res, lib).unwrap();
    assert_eq!(
        schema::validate("sdr.json", &e.json, None).unwrap(),
        schema::SDR
    );
    let doc = parse(&e.json);
    let baseline = lib.baseline("fedramp", "moderate").unwrap();
    let warn_days = res.estate().settings.expiry_warning.days();
    let moderate = rollup(
        lib,
        &res,
        &Options {
            framework: "fedramp",
            baseline: Some(baseline),
            warn_days,
            ..Options::default()
        },
    )
    .unwrap();
    let controls = doc["securityControls"].as_array().unwrap();
    assert_eq!(controls.len(), moderate.rows.len());
    for (c, row) in controls.iter().zip(&moderate.rows) {
        assert_eq!(c["controlId"], row.requirement.label.as_str());
        let text = c["controlImplementationDescription"].as_str().unwrap();
        assert!(
            text.starts_with(row.origination.fedramp()),
            "{}: {text}",
            row.requirement.label
        );
        let status = c["controlImplementationStatus"].as_str();
        match row.origination {
            Origination::NotAddressed | Origination::NotApplicable => assert_eq!(status, None),
            _ if row.ready => assert_eq!(status, Some("Implemented")),
            _ => assert!(status.is_some()),
        }
    }
    let summary = &doc["x-demarc"]["inheritance"]["fedrampModerate"];
    assert_eq!(summary["inherited"], moderate.summary.inherited);
    assert_eq!(summary["shared"], moderate.summary.shared);
    assert_eq!(summary["customer"], moderate.summary.customer);
    assert_eq!(summary["ready"], moderate.summary.ready);
    let ksi = rollup(
        lib,
        &res,
        &Options {
            framework: "fedramp-20x",
            warn_days,
            ..Options::default()
        },
    )
    .unwrap();
    let indicators = doc["keySecurityIndicators"].as_array().unwrap();
    assert_eq!(indicators.len(), ksi.rows.len());
    assert!(
        indicators
            .iter()
            .all(|k| k["ksiId"].as_str().unwrap().starts_with("KSI-"))
    );
    // Evidence on file for the mapped controls is listed with its date and location.
    assert!(
        indicators
            .iter()
            .flat_map(|k| k["ksiEvidence"].as_array().unwrap())
            .any(|ev| ev["evidenceLocation"]
                .as_str()
                .is_some_and(|l| l.starts_with("https://"))),
        "no evidence listed"
    );
    assert!(
        e.notes
            .iter()
            .any(|n| n.contains("certificationPackageOverviewUri"))
    );
}

#[test]
fn the_same_estate_and_date_give_the_same_bytes() {
    let a = fedramp20x::export_cpo(&acme(), lib()).unwrap();
    let b = fedramp20x::export_cpo(&acme(), lib()).unwrap();
    assert_eq!(a, b);
    let a = fedramp20x::export_sdr(&acme(), lib()).unwrap();
    let b = fedramp20x::export_sdr(&acme(), lib()).unwrap();
    assert_eq!(a, b);
    let later = fedramp20x::export_sdr(&acme_at("2027-02-01"), lib()).unwrap();
    assert_ne!(a, later);
    assert!(later.contains("\"lastUpdated\": \"2027-02-01\""));
}

#[test]
fn a_broken_document_fails_with_its_json_path() {
    let res = acme();
    let good = fedramp20x::export_cpo(&res, lib()).unwrap();
    let mut doc = parse(&good);
    doc["serviceIdentification"]["logo"] = "https://acme.example/logo.txt".into();
    let e = schema::validate("cpo.json", &doc.to_string(), None).unwrap_err();
    assert_eq!(e.at, "$.serviceIdentification.logo", "{e}");
    assert!(e.message.contains(schema::CPO), "{e}");

    let mut doc = parse(&good);
    doc["contactInformation"][0]["contactPhone"] = "555 0100".into();
    let e = schema::validate("cpo.json", &doc.to_string(), None).unwrap_err();
    assert_eq!(e.at, "$.contactInformation[0].contactPhone", "{e}");

    let sdr = fedramp20x::export_sdr(&res, lib()).unwrap();
    let mut doc = parse(&sdr);
    doc["keySecurityIndicators"][3]["ksiImplementationStatus"] = "Done".into();
    let e = schema::validate("sdr.json", &doc.to_string(), None).unwrap_err();
    assert_eq!(
        e.at, "$.keySecurityIndicators[3].ksiImplementationStatus",
        "{e}"
    );
    // Formats are checked too: a date that is not a date.
    let mut doc = parse(&sdr);
    doc["certificationPackageOverviewUri"] = "cpo.json".into();
    let e = schema::validate("sdr.json", &doc.to_string(), None).unwrap_err();
    assert_eq!(e.at, "$.certificationPackageOverviewUri", "{e}");
}

#[test]
fn an_unknown_schema_version_is_refused_by_name() {
    let good = fedramp20x::export_cpo(&acme(), lib()).unwrap();
    let newer = good.replace("schema-2026-06-24.json", "schema-2027-01-15.json");
    let e = schema::validate("cpo.json", &newer, None).unwrap_err();
    assert_eq!(e.at, "$.$schema");
    assert!(e.message.contains("2027-01-15"), "{e}");
    assert!(e.message.contains("2026-06-24"), "{e}");
    let other = good.replace(
        "fedramp-certification-package-overview-schema-2026-06-24.json",
        "something-else.json",
    );
    let e = schema::validate("cpo.json", &other, None).unwrap_err();
    assert!(e.message.contains("not a FedRAMP package schema"), "{e}");
}

#[test]
fn embedded_schemas_are_the_copied_files() {
    use sha2::Digest;
    let sums = include_str!("../data/cr26-schemas/SHA256SUMS");
    assert_eq!(sums.lines().count(), schema::SCHEMAS.len());
    for line in sums.lines() {
        let (sum, file) = line.split_once("  ").unwrap();
        let text = schema::text(file).unwrap_or_else(|| panic!("{file} is not embedded"));
        let got: String = sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, sum, "{file}");
    }
}
