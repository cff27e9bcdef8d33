//! OSCAL catalog reading and profile resolution against NIST's and FedRAMP's own files.

use std::collections::BTreeSet;

use demarc_compliance::Library;
use demarc_compliance::oscal::{Imported, OscalCatalog, resolve_profile};

fn lib() -> &'static Library {
    Library::builtin().expect("the shipped library loads")
}

#[test]
fn nist_catalog_has_every_family_and_statement_parts() {
    let nist = &lib().nist;
    assert_eq!(nist.families.len(), 20);
    let base = nist.active().filter(|c| c.parent.is_none()).count();
    // SP 800-53 Rev 5.2.0: 324 base controls of which 25 are withdrawn... count active ones.
    assert!(base > 280 && base <= 324, "{base}");
    let ac2 = nist.control("ac-2").unwrap();
    assert_eq!(ac2.label, "AC-2");
    assert_eq!(ac2.title, "Account Management");
    assert!(
        ac2.parts
            .iter()
            .any(|p| p.id == "ac-2_smt.a" && p.label == "a.")
    );
    assert!(
        ac2.parts
            .iter()
            .any(|p| p.id.starts_with("ac-2_smt.d.") && p.depth == 2)
    );
    let e = nist.control("ac-2.1").unwrap();
    assert_eq!(e.parent.as_deref(), Some("ac-2"));
    // Withdrawn controls are kept so references resolve, but are not active.
    assert!(nist.controls.iter().any(|c| c.withdrawn));
}

#[test]
fn parameters_render_from_the_baseline_or_as_assignments() {
    let l = lib();
    let plain = l.nist_with_params("ac-2", None).unwrap();
    let h = plain.parts.iter().find(|p| p.id == "ac-2_smt.h.1").unwrap();
    assert!(
        h.prose.contains("[Assignment: organization-defined"),
        "{}",
        h.prose
    );
    let fedramp = l.baseline("fedramp", "moderate").unwrap();
    let filled = l.nist_with_params("ac-2", Some(fedramp)).unwrap();
    let h = filled
        .parts
        .iter()
        .find(|p| p.id == "ac-2_smt.h.1")
        .unwrap();
    assert!(!h.prose.contains("{{"), "{}", h.prose);
    assert!(h.prose.contains("twenty-four (24) hours"), "{}", h.prose);
}

#[test]
fn shipped_baselines_resolve_to_their_published_sizes() {
    let l = lib();
    let size = |fw: &str, b: &str| l.baseline(fw, b).unwrap().profile.controls.len();
    // SP 800-53B: 149 low, 287 moderate, 370 high (controls + enhancements).
    assert_eq!(size("nist-800-53", "low"), 149);
    assert_eq!(size("nist-800-53", "moderate"), 287);
    assert_eq!(size("nist-800-53", "high"), 370);
    assert!(size("nist-800-53", "privacy") > 0);
    // FedRAMP Rev 5: 156 low, 323 moderate, 410 high.
    assert_eq!(size("fedramp", "low"), 156);
    assert_eq!(size("fedramp", "moderate"), 323);
    assert_eq!(size("fedramp", "high"), 410);
    assert!(size("fedramp", "li-saas") > 0);
    let m = l.baseline("fedramp", "moderate").unwrap();
    assert!(
        m.profile.unknown_ids.is_empty(),
        "{:?}",
        m.profile.unknown_ids
    );
    assert_eq!(m.profile.controls[0], "ac-1");
}

#[test]
fn unknown_baseline_names_the_choices() {
    let e = lib().baseline("fedramp", "privacy").unwrap_err();
    assert!(e.help.contains("low, moderate, high, li-saas"), "{e}");
    let e = lib().baseline("soc2", "low").unwrap_err();
    assert!(e.help.contains("no baselines"), "{e}");
}

#[test]
fn user_profiles_resolve_include_exclude_matching_and_children() {
    let profile = r##"{"profile":{"uuid":"11111111-1111-4111-8111-111111111111",
      "metadata":{"title":"Mine","last-modified":"2026-01-01T00:00:00Z","version":"1","oscal-version":"1.1.3"},
      "imports":[{"href":"#c","include-controls":[
         {"with-ids":["ac-2"],"with-child-controls":"yes"},
         {"matching":[{"pattern":"sc-7*"}]}],
        "exclude-controls":[{"with-ids":["ac-2.1","sc-7.3"]}]}],
      "back-matter":{"resources":[{"uuid":"c","rlinks":[{"href":"https://example.org/x/NIST_SP-800-53_rev5_catalog.json"}]}]}}}"##;
    let b = lib().user_profile("mine.json", profile).unwrap();
    let ids: BTreeSet<&str> = b.profile.controls.iter().map(String::as_str).collect();
    assert!(ids.contains("ac-2") && ids.contains("ac-2.2") && !ids.contains("ac-2.1"));
    assert!(ids.contains("sc-7") && ids.contains("sc-7.4") && !ids.contains("sc-7.3"));
    assert!(!ids.iter().any(|i| i.starts_with("ac-3")));
}

#[test]
fn broken_profiles_are_refused_with_where_and_why() {
    let l = lib();
    let e = l
        .user_profile("p.json", "{\"profile\": {\"uuid\": ")
        .unwrap_err();
    assert!(e.at.starts_with("line 1"), "{e:?}");
    let missing =
        r##"{"profile":{"uuid":"u","metadata":{"title":"t"},"imports":[{"href":"#nope"}]}}"##;
    let e = l.user_profile("p.json", missing).unwrap_err();
    assert!(e.message.contains("#nope"), "{e}");
    let elsewhere = r##"{"profile":{"uuid":"u","metadata":{"title":"t"},"imports":[{"href":"other-catalog.json"}]}}"##;
    let e = l.user_profile("p.json", elsewhere).unwrap_err();
    assert!(e.message.contains("other-catalog.json"), "{e}");
    let nothing = r##"{"profile":{"uuid":"u","metadata":{"title":"t"},"imports":[{"href":"NIST_SP-800-53_rev5_catalog.json","include-controls":[{"with-ids":["zz-99"]}]}]}}"##;
    let e = l.user_profile("p.json", nothing).unwrap_err();
    assert!(e.message.contains("selects no controls"), "{e}");
}

#[test]
fn profile_cycles_are_errors_not_stack_overflows() {
    let nist = &lib().nist;
    let cyclic =
        r##"{"profile":{"uuid":"u","metadata":{"title":"t"},"imports":[{"href":"a.json"}]}}"##;
    let lookup = |f: &str| -> Option<Imported<'_>> {
        match f {
            "a.json" => Some(Imported::Profile {
                name: "a.json".into(),
                json: cyclic.into(),
            }),
            _ => Some(Imported::Catalog(nist)),
        }
    };
    let e = resolve_profile("a.json", cyclic, &lookup).unwrap_err();
    assert!(e.message.contains("cycle"), "{e}");
}

#[test]
fn empty_catalog_is_an_error() {
    let e = OscalCatalog::parse(
        "c.json",
        r#"{"catalog":{"uuid":"u","metadata":{"title":"t"},"groups":[]}}"#,
    )
    .unwrap_err();
    assert!(e.message.contains("no controls"), "{e}");
}

/// Extra: when `../shared` is beside the clone, FedRAMP's own resolved LOW catalog must hold
/// exactly the controls demarc's resolution selects.
#[test]
fn fedramp_low_matches_fedramps_resolved_catalog() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/oscal/content/FedRAMP_rev5_LOW-baseline-resolved-profile_catalog.json",
    );
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "skipped: {} is not present (../shared is not beside the clone)",
            path.display()
        );
        return;
    };
    let resolved = OscalCatalog::parse("resolved", &text).unwrap();
    let theirs: BTreeSet<&str> = resolved.active().map(|c| c.id.as_str()).collect();
    let ours: BTreeSet<&str> = lib()
        .baseline("fedramp", "low")
        .unwrap()
        .profile
        .controls
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(ours, theirs);
}
