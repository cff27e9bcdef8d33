//! The compliance rollup: origination, attestation backing, lapses, `--mine`, baselines and
//! 20x indicators, and that counting per table equals counting every asset's cells.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::{Catalog, CatalogBuilder};
use demarc_compliance::Library;
use demarc_compliance::rollup::{Options, Origination, Rollup, only_carried_by, rollup};
use demarc_engine::{Resolution, Role, resolve};
use demarc_model::{load_sources, validate};

/// A provider with one service in its SOC 2 scope list and one outside it, and a control
/// that maps to requirements of SOC 2 and SP 800-53.
const OVERLAY: &str = r#"version: 1
provider: acme-cloud
provider_name: Acme Cloud
compliance_scope:
  soc2: {title: Acme Cloud SOC 2 scope, url: "https://cloud.acme.example/soc2-scope", checked: 2026-11-20}
services:
  - id: acme:vault
    name: Acme Vault
    model: paas
    source: {title: Acme Cloud SRM, url: "https://cloud.acme.example/srm", checked: 2026-11-01}
    programs: [soc2]
  - id: acme:cache
    name: Acme Cache
    model: paas
    source: {title: Acme Cloud SRM, url: "https://cloud.acme.example/srm", checked: 2026-11-01}
"#;

fn catalog() -> Arc<Catalog> {
    Arc::new(
        CatalogBuilder::new()
            .builtin()
            .overlay("overlays/acme.yaml".into(), OVERLAY.into())
            .build()
            .unwrap_or_else(|d| panic!("{d}")),
    )
}

fn as_of() -> NaiveDate {
    "2026-11-23".parse().unwrap()
}

fn estate(parties: &str, rest: &str) -> Arc<Resolution> {
    let text = format!(
        "version: 1\nestate: t\ncustomer: acme\nparties:\n  acme: {{kind: customer, name: Acme, teams: {{ops: {{name: Ops}}}}}}\n{parties}{rest}"
    );
    let e = load_sources(vec![("e.yaml".into(), text)]).unwrap_or_else(|d| panic!("{d}"));
    let cat = catalog();
    validate(&e, &*cat).unwrap_or_else(|d| panic!("{d}"));
    resolve(Arc::new(e), cat, as_of())
}

fn lib() -> &'static Library {
    Library::builtin().unwrap()
}

fn run(res: &Resolution, framework: &str, baseline: Option<&str>) -> Rollup {
    let b = baseline.map(|b| lib().baseline(framework, b).unwrap());
    rollup(
        lib(),
        res,
        &Options {
            framework,
            baseline: b,
            warn_days: 30,
            ..Options::default()
        },
    )
    .unwrap()
}

const PROVIDER: &str = "  acme-cloud: {kind: provider, name: Acme Cloud, attestations: [{framework: soc2, period_end: 2026-06-30}]}\n";

fn row<'a>(r: &'a Rollup, id: &str) -> &'a demarc_compliance::rollup::Row {
    r.rows
        .iter()
        .find(|x| x.requirement.id == id)
        .unwrap_or_else(|| panic!("no requirement {id}"))
}

/// The naive oracle: every asset's cells, one by one, for the controls mapped to `req`.
fn naive(res: &Resolution, framework_map: &str, req: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for a in res.assets() {
        for c in res.cells_of(a) {
            let control = res.control_of(c);
            let mapped = control.mappings.get(framework_map).is_some_and(|m| {
                m.iter().any(|x| {
                    let id = x.requirement.as_str();
                    id == req || id.starts_with(&format!("{req}_smt"))
                })
            });
            if mapped {
                *out.entry(c.ownership.as_str().to_string()).or_default() += 1;
            }
        }
    }
    out
}

#[test]
fn per_table_rollup_equals_counting_every_assets_cells() {
    let res = estate(
        PROVIDER,
        "assets:\n  - {id: v1, service: acme:vault, env: prod}\n  - {id: v2, service: acme:vault, env: dev}\n  - {id: c1, service: acme:cache}\n  - {id: vm1, service: aws:ec2}\n  - {id: b1, service: aws:s3, data: [pci]}\n  - {id: u1, service: nowhere:thing}\n",
    );
    let r = run(&res, "nist-800-53", Some("moderate"));
    let mut compared = 0;
    for row in &r.rows {
        if row.controls.is_empty() {
            continue;
        }
        let want = naive(&res, "nist-800-53", &row.requirement.id);
        let got: BTreeMap<String, usize> = row
            .ownership
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        assert_eq!(got, want, "{}", row.requirement.id);
        assert_eq!(row.cells, want.values().sum::<usize>());
        compared += 1;
    }
    assert!(
        compared > 20,
        "only {compared} mapped requirements compared"
    );
}

#[test]
fn origination_follows_who_carries_the_cells() {
    let res = estate(PROVIDER, "assets:\n  - {id: v1, service: acme:vault}\n");
    let r = run(&res, "nist-800-53", Some("high"));
    // Physical access is the provider's on a managed service: inherited.
    let pe3 = row(&r, "pe-3");
    assert_eq!(pe3.origination, Origination::Inherited, "{pe3:?}");
    assert!(pe3.shares.iter().all(|s| s.role == Role::Provider));
    // Account management on the customer's side: not inherited.
    let ac2 = row(&r, "ac-2");
    assert_ne!(ac2.origination, Origination::Inherited);
    assert!(ac2.shares.iter().any(|s| s.role == Role::Customer));
    // A requirement nothing maps to says why.
    let na = r
        .rows
        .iter()
        .find(|x| x.origination == Origination::NotAddressed)
        .unwrap();
    assert!(na.requirement.not_addressed.is_some());
    assert!(!na.ready);
    // Summary figures add up.
    let s = &r.summary;
    assert_eq!(
        s.requirements,
        s.inherited + s.shared + s.customer + s.not_addressed + s.not_applicable
    );
}

#[test]
fn attestation_backs_only_in_scope_services_and_in_date_reports() {
    let res = estate(
        PROVIDER,
        "assets:\n  - {id: v1, service: acme:vault}\n  - {id: c1, service: acme:cache}\n",
    );
    let r = run(&res, "soc2", None);
    let pe3 = row(&r, "CC6.4");
    // Two assets' provider cells; only the vault is on the SOC 2 scope list.
    assert!(pe3.backing.cells > 0);
    assert_eq!(
        pe3.backing.backed * 2,
        pe3.backing.cells,
        "{:?}",
        pe3.backing
    );
    assert!(
        pe3.backing
            .by
            .iter()
            .any(|b| b.contains("acme-cloud soc2 until 2027-06-30"))
    );
    assert!(
        pe3.backing
            .unbacked
            .iter()
            .any(|u| u.contains("acme:cache") && u.contains("soc2-scope")),
        "{:?}",
        pe3.backing.unbacked
    );
    assert!(!pe3.ready);

    // The same report run out: nothing is backed and the lapse is a dated risk.
    let lapsed = "  acme-cloud: {kind: provider, name: Acme Cloud, attestations: [{framework: soc2, period_end: 2025-06-30}]}\n";
    let res = estate(lapsed, "assets:\n  - {id: v1, service: acme:vault}\n");
    let r = run(&res, "soc2", None);
    let pe3 = row(&r, "CC6.4");
    assert_eq!(pe3.backing.backed, 0);
    assert!(pe3.risks.iter().any(|k| k.lapsed
        && k.date == "2026-06-30".parse::<NaiveDate>().unwrap()
        && k.what.contains("acme-cloud soc2")));
    assert!(pe3.blockers.iter().any(|b| b.contains("lapsed")));

    // A bridge letter carries it.
    let bridged = "  acme-cloud: {kind: provider, name: Acme Cloud, attestations: [{framework: soc2, period_end: 2025-06-30, bridge_letter: {until: 2027-01-31}}]}\n";
    let res = estate(bridged, "assets:\n  - {id: v1, service: acme:vault}\n");
    let pe3 = row(&run(&res, "soc2", None), "CC6.4").clone();
    assert_eq!(pe3.backing.backed, pe3.backing.cells);

    // The estate's own `services:` list decides over the catalog's scope list.
    let listed = "  acme-cloud: {kind: provider, name: Acme Cloud, attestations: [{framework: soc2, period_end: 2026-06-30, services: [\"acme:cache\"]}]}\n";
    let res = estate(
        listed,
        "assets:\n  - {id: v1, service: acme:vault}\n  - {id: c1, service: acme:cache}\n",
    );
    let pe3 = row(&run(&res, "soc2", None), "CC6.4").clone();
    assert_eq!(pe3.backing.backed * 2, pe3.backing.cells);
    assert!(
        pe3.backing
            .unbacked
            .iter()
            .any(|u| u.contains("does not list acme:vault"))
    );
}

#[test]
fn an_ending_contract_puts_what_rests_on_it_at_risk_with_its_date() {
    let parties = format!(
        "{PROVIDER}  soc: {{kind: mssp, name: SOC Co}}\ncontracts:\n  - id: soc-msa\n    party: soc\n    expires: 2026-12-10\n    clauses:\n      - {{id: \"1\", text: monitoring, controls: [security-monitoring], duties: [monitor]}}\n"
    );
    let res = estate(&parties, "assets:\n  - {id: vm1, service: aws:ec2}\n");
    let r = run(&res, "nist-800-53", Some("moderate"));
    let at_risk: Vec<_> = r
        .rows
        .iter()
        .filter(|x| x.risks.iter().any(|k| k.what.contains("soc-msa")))
        .collect();
    assert!(!at_risk.is_empty());
    let k = at_risk[0]
        .risks
        .iter()
        .find(|k| k.what.contains("soc-msa"))
        .unwrap();
    assert_eq!(k.date, "2026-12-10".parse::<NaiveDate>().unwrap());
    assert!(!k.lapsed);
    assert!(r.summary.at_risk >= at_risk.len());
}

#[test]
fn mine_keeps_what_the_party_still_carries() {
    let res = estate(
        PROVIDER,
        "assets:\n  - {id: v1, service: acme:vault}\n  - {id: vm1, service: aws:ec2}\n",
    );
    let mut r = run(&res, "nist-800-53", Some("moderate"));
    let before = r.rows.len();
    only_carried_by(&mut r, "acme");
    assert!(!r.rows.is_empty() && r.rows.len() < before);
    assert!(
        r.rows
            .iter()
            .all(|x| x.shares.iter().any(|s| s.party == "acme"))
    );
    // No inherited-only requirement survives.
    assert!(
        r.rows
            .iter()
            .all(|x| x.origination != Origination::Inherited)
    );
}

#[test]
fn baselines_select_their_controls_and_fill_parameters() {
    let res = estate(PROVIDER, "assets:\n  - {id: vm1, service: aws:ec2}\n");
    let low = run(&res, "fedramp", Some("low"));
    let high = run(&res, "fedramp", Some("high"));
    assert_eq!(low.rows.len(), 156);
    assert_eq!(high.rows.len(), 410);
    let ids: BTreeSet<&str> = low.rows.iter().map(|r| r.requirement.id.as_str()).collect();
    assert!(ids.contains("ac-2") && !ids.contains("ac-2.1"));
    let ac2 = row(&high, "ac-2");
    assert!(ac2.parts.iter().all(|p| !p.prose.contains("{{")));
    // Parts are covered by the control-level mapping.
    assert!(ac2.parts.iter().any(|p| p.covered_by == "control"));
}

#[test]
fn fedramp_without_a_baseline_is_refused() {
    let res = estate(PROVIDER, "assets:\n  - {id: vm1, service: aws:ec2}\n");
    let e = rollup(
        lib(),
        &res,
        &Options {
            framework: "fedramp",
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(e.help.contains("--baseline"), "{e}");
    let e = rollup(
        lib(),
        &res,
        &Options {
            framework: "iso27002",
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(e.help.contains("iso27001"), "{e}");
}

#[test]
fn indicators_map_through_their_sp_800_53_links() {
    let res = estate(PROVIDER, "assets:\n  - {id: vm1, service: aws:ec2}\n");
    let r = run(&res, "fedramp-20x", None);
    assert_eq!(r.rows.len(), 46);
    let mapped: Vec<_> = r.rows.iter().filter(|x| !x.controls.is_empty()).collect();
    assert!(mapped.len() > 20, "{}", mapped.len());
    for x in &mapped {
        for m in &x.controls {
            let via = m.via.as_deref().unwrap();
            let id = demarc_catalog::normalise_nist_800_53(via).unwrap();
            assert!(
                x.requirement.links.contains(&id),
                "{via} not a link of {}",
                x.requirement.id
            );
        }
    }
}

#[test]
fn env_and_data_filters_narrow_the_assets_in_scope() {
    let res = estate(
        PROVIDER,
        "assets:\n  - {id: v1, service: acme:vault, env: prod, data: [pci]}\n  - {id: v2, service: acme:vault, env: dev}\n  - {id: vm1, service: aws:ec2, env: prod}\n",
    );
    let all = run(&res, "nist-800-53", Some("moderate"));
    assert_eq!(all.assets, 3);
    let b = lib().baseline("nist-800-53", "moderate").unwrap();
    let prod = rollup(
        lib(),
        &res,
        &Options {
            framework: "nist-800-53",
            baseline: Some(b),
            env: Some("prod"),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(prod.assets, 2);
    let pci = rollup(
        lib(),
        &res,
        &Options {
            framework: "nist-800-53",
            baseline: Some(b),
            data: Some("pci"),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(pci.assets, 1);
    assert!(row(&pci, "ac-2").cells < row(&all, "ac-2").cells);
}

/// The rollup's evidence counts (counted from the evidence on file, per class) equal the
/// evidence gaps' asset lists (walked per asset) on the acme example.
#[test]
fn evidence_counts_match_the_evidence_gaps() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
    let mut interner = demarc_model::Interner::new();
    let e = demarc_model::load_path(&dir, &demarc_model::LoadOptions::default(), &mut interner)
        .unwrap_or_else(|d| panic!("{d}"));
    let res = resolve(Arc::new(e), Catalog::builtin_shared(), as_of());
    let gaps = res.gaps(demarc_engine::AnalyseOptions::default());
    let mut from_gaps: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for g in &gaps.gaps {
        let kind = match g.code {
            "DM010" => "missing",
            "DM011" => "expired",
            _ => continue,
        };
        if let Some(c) = &g.control {
            *from_gaps.entry((c.clone(), kind)).or_default() += g.asset_count;
        }
    }
    let mut from_coverage: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for c in res.evidence_coverage() {
        if c.organisation {
            continue;
        }
        if c.missing > 0 {
            *from_coverage
                .entry((c.control.to_string(), "missing"))
                .or_default() += c.missing;
        }
        if c.expired > 0 {
            *from_coverage
                .entry((c.control.to_string(), "expired"))
                .or_default() += c.expired;
        }
    }
    assert!(!from_gaps.is_empty());
    assert_eq!(from_coverage, from_gaps);
}
