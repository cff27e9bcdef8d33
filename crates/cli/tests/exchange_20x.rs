//! `demarc export fedramp-cpo` and `export fedramp-sdr` on the acme example: the files
//! validate against the dated schemas, notes name the placeholders, the inheritance summary
//! matches `demarc compliance`, and repeated runs write the same bytes.

use std::path::PathBuf;
use std::process::Command;

use demarc_exchange::fedramp20x::schema;
use serde_json::Value;

fn acme() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme")
        .display()
        .to_string()
}

fn demarc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_demarc"))
        .env_remove("DEMARC_ESTATE")
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--as-of", "2026-11-23"])
        .output()
        .expect("run demarc");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn export(kind: &str, out: &std::path::Path) -> (String, String) {
    let (code, _, err) = demarc(&["export", kind, &acme(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    (std::fs::read_to_string(out).unwrap(), err)
}

#[test]
fn cpo_and_sdr_files_validate_and_notes_name_the_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let (cpo, err) = export("fedramp-cpo", &dir.path().join("cpo.json"));
    schema::validate("cpo.json", &cpo, Some(schema::CPO)).unwrap();
    assert!(
        err.contains("note: placeholder at $.serviceIdentification.website"),
        "{err}"
    );
    assert!(
        err.contains("wrote the FedRAMP 20x Certification Package Overview"),
        "{err}"
    );
    let (sdr, err) = export("fedramp-sdr", &dir.path().join("sdr.json"));
    schema::validate("sdr.json", &sdr, Some(schema::SDR)).unwrap();
    assert!(
        err.contains("note: placeholder at $.certificationPackageOverviewUri"),
        "{err}"
    );
}

#[test]
fn inheritance_summary_matches_demarc_compliance() {
    let dir = tempfile::tempdir().unwrap();
    let (sdr, _) = export("fedramp-sdr", &dir.path().join("sdr.json"));
    let sdr: Value = serde_json::from_str(&sdr).unwrap();
    for (framework, baseline, key) in [
        ("fedramp", Some("moderate"), "fedrampModerate"),
        ("fedramp-20x", None, "fedramp20x"),
    ] {
        let a = acme();
        let mut args = vec!["compliance", a.as_str(), "-F", framework, "-f", "json"];
        if let Some(b) = baseline {
            args.extend(["--baseline", b]);
        }
        let (code, out, err) = demarc(&args);
        assert_eq!(code, 0, "{err}");
        let c: Value = serde_json::from_str(&out).unwrap();
        let ours = &sdr["x-demarc"]["inheritance"][key];
        for (mine, theirs) in [
            ("requirements", "requirements"),
            ("inherited", "inherited"),
            ("shared", "shared"),
            ("customer", "customer"),
            ("notApplicable", "not_applicable"),
            ("notAddressed", "not_addressed"),
            ("ready", "ready"),
            ("inheritedCells", "inherited_cells"),
            ("backedCells", "backed_cells"),
        ] {
            assert_eq!(ours[mine], c["summary"][theirs], "{framework} {mine}");
        }
        // Per requirement: what the SDR says each control or indicator is matches the
        // compliance origination.
        let reqs = c["requirements"].as_array().unwrap();
        let items = if framework == "fedramp" {
            sdr["securityControls"].as_array().unwrap()
        } else {
            sdr["keySecurityIndicators"].as_array().unwrap()
        };
        assert_eq!(items.len(), reqs.len(), "{framework}");
    }
}

#[test]
fn repeated_exports_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["fedramp-cpo", "fedramp-sdr"] {
        let (a, _) = export(kind, &dir.path().join("a.json"));
        let (b, _) = export(kind, &dir.path().join("b.json"));
        assert_eq!(a, b, "{kind}");
    }
}

/// An estate with an `offering:` section fills the package from it: no placeholders for the
/// facts it gives, and the values appear as written.
#[test]
fn offering_section_fills_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let startup = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/startup-saas")
        .display()
        .to_string();
    let out = dir.path().join("cpo.json");
    let (code, _, err) = demarc(&[
        "export",
        "fedramp-cpo",
        &startup,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    schema::validate("cpo.json", &text, Some(schema::CPO)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let id = &v["serviceIdentification"];
    assert_eq!(id["serviceName"], "Lumen Notes");
    assert_eq!(id["serviceAcronym"], "LNOTES");
    assert_eq!(id["website"], "https://lumen.example");
    assert_eq!(v["serviceProperties"]["deploymentModel"], "Public Cloud");
    let sales = v["contactInformation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contactType"] == "Sales")
        .unwrap();
    assert_eq!(sales["contactEmail"], "sales@lumen.example");
    for field in [
        "website",
        "serviceAcronym",
        "serviceDescription",
        "logo",
        "deploymentModel",
        "contactInformation",
    ] {
        assert!(
            !err.contains(&format!("placeholder at $.serviceIdentification.{field}")),
            "{err}"
        );
    }
    assert!(!err.contains("contactInformation"), "{err}");
    let sdr = dir.path().join("sdr.json");
    let (code, _, err) = demarc(&[
        "export",
        "fedramp-sdr",
        &startup,
        "-o",
        sdr.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("certificationPackageOverviewUri"), "{err}");

    // A deployment model FedRAMP does not list is an input error with the choices.
    let bad = dir.path().join("estate.yaml");
    let text = std::fs::read_to_string(PathBuf::from(&startup).join("estate.yaml")).unwrap();
    std::fs::write(
        &bad,
        text.replace("deployment_model: Public Cloud", "deployment_model: Public"),
    )
    .unwrap();
    let (code, _, err) = demarc(&[
        "export",
        "fedramp-cpo",
        bad.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("deployment model") && err.contains("Public Cloud"),
        "{err}"
    );
}
