//! Property tests of the engine's invariants over generated estates:
//! every cell has a responsible party, exactly one accountable party (the customer) and a
//! basis; results do not depend on the order of files or of entries within lists.

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use std::sync::Arc;

use demarc_engine::analyse;
use demarc_model::{load_sources, validate};
use proptest::prelude::*;

const HEAD: &str = "version: 1\nestate: p\ncustomer: acme\nreviews: [{date: 2026-08-01, by: x}]\n";
const PARTIES: &str = r#"parties:
  acme: {kind: customer, name: Acme, teams: {platform: {}, dba: {}, secops: {}}}
  aws: {kind: provider, name: AWS, attestations: [{framework: soc2, period_end: 2026-06-30}]}
  shieldco: {kind: mssp, name: ShieldCo}
"#;
const SERVICES: [&str; 10] = [
    "aws:ec2",
    "aws:s3",
    "aws:rds",
    "aws:lambda",
    "aws:eks",
    "azure:app-service",
    "gcp:cloud-run",
    "saas:m365",
    "saas:github",
    "onprem:unknown",
];
const RULES: [&str; 8] = [
    "{scope: {service: \"aws:*\"}, duties: [configure], to: acme/platform}",
    "{scope: {service: aws:rds}, controls: [backup], to: acme/dba}",
    "{scope: {env: prod}, duties: [monitor], to: acme/secops}",
    "{scope: {env: prod}, duties: [monitor], to: acme/platform}",
    "{scope: {data: [pii]}, controls: [access-review], duties: [audit], to: acme/secops}",
    "{scope: {tags: {owner: db}}, to: acme/dba}",
    "{scope: {}, controls: [waf], to: [acme/platform, shieldco]}",
    "{scope: {}, duties: [audit], to: acme/secops}",
];
const CLAUSES: [&str; 3] = [
    "{id: \"1\", scope: {env: prod}, duties: [respond], sla: {respond: 1h}}",
    "{id: \"2\", scope: {tags: {patch: shieldco}}, controls: [os-patching], duties: [patch]}",
    "{id: \"3\", scope: {service: \"saas:*\"}, controls: [access-review]}",
];

#[derive(Debug, Clone)]
struct Gen {
    assets: Vec<String>,
    rules: Vec<usize>,
    clauses: Vec<usize>,
    contract_expires: Option<&'static str>,
}

fn asset() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    (0..SERVICES.len(), 0..3usize, 0..3usize, 0..3usize)
}

fn estates() -> impl Strategy<Value = Gen> {
    (
        prop::collection::vec(asset(), 1..12),
        prop::sample::subsequence((0..RULES.len()).collect::<Vec<_>>(), 0..RULES.len()).prop_shuffle(),
        prop::sample::subsequence((0..CLAUSES.len()).collect::<Vec<_>>(), 0..CLAUSES.len()).prop_shuffle(),
        prop::option::of(prop::sample::select(vec!["2026-06-30", "2027-06-30"])),
    )
        .prop_map(|(assets, rules, clauses, contract_expires)| Gen {
            assets: assets
                .into_iter()
                .enumerate()
                .map(|(i, (s, e, d, t))| {
                    format!(
                        "{{id: a{i:02}, service: \"{}\", env: {}, data: [{}], tags: {{owner: {}, patch: shieldco}}}}",
                        SERVICES[s],
                        ["prod", "dev", "staging"][e],
                        ["", "pii", "pci"][d],
                        ["db", "web", "ml"][t]
                    )
                })
                .collect(),
            rules,
            clauses,
            contract_expires,
        })
}

/// The estate as files; `reorder` reverses every list and splits it across files named so
/// that they sort differently.
fn files(g: &Gen, reorder: bool) -> Vec<(std::path::PathBuf, String)> {
    let rev = |mut v: Vec<String>| {
        if reorder {
            v.reverse();
        }
        v
    };
    let assets = rev(g.assets.clone())
        .into_iter()
        .map(|a| format!("  - {a}\n"))
        .collect::<String>();
    let rules = rev(g.rules.iter().map(|&r| RULES[r].to_string()).collect())
        .into_iter()
        .map(|r| format!("  - {r}\n"))
        .collect::<String>();
    let clauses = rev(g.clauses.iter().map(|&c| CLAUSES[c].to_string()).collect())
        .into_iter()
        .map(|c| format!("      - {c}\n"))
        .collect::<String>();
    let contracts = if g.clauses.is_empty() {
        String::new()
    } else {
        let exp = g
            .contract_expires
            .map(|e| format!("    expires: {e}\n"))
            .unwrap_or_default();
        format!("contracts:\n  - id: msa\n    party: shieldco\n{exp}    clauses:\n{clauses}")
    };
    let body_rules = if rules.is_empty() {
        String::new()
    } else {
        format!("assignments:\n{rules}")
    };
    if reorder {
        vec![
            ("z-head.yaml".into(), format!("{HEAD}{PARTIES}")),
            ("a-assets.yaml".into(), format!("assets:\n{assets}")),
            ("m-rules.yaml".into(), format!("{body_rules}{contracts}")),
        ]
    } else {
        vec![(
            "estate.yaml".into(),
            format!("{HEAD}{PARTIES}{body_rules}{contracts}assets:\n{assets}"),
        )]
    }
}

/// Everything the user sees, minus `file:line` citations (which move when files move).
fn observable(files: Vec<(std::path::PathBuf, String)>) -> (Vec<String>, Vec<String>) {
    let estate = load_sources(files).unwrap_or_else(|d| panic!("{d}"));
    validate(&estate, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    let customer = estate.customer.value.clone();
    let res = demarc_engine::resolve(
        Arc::new(estate),
        Catalog::builtin_shared(),
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    );
    assert_eq!(res.accountable(), customer, "the customer is accountable");
    let analysis = analyse(&res);
    let mut cells = Vec::new();
    for i in res.assets() {
        for c in res.cells_of(i) {
            assert!(
                !c.responsible.is_empty(),
                "every cell has someone responsible"
            );
            assert!(!c.basis.is_empty(), "every cell has a basis");
            let mut c = (**c).clone();
            for b in &mut c.basis {
                b.at = None;
            }
            cells.push(format!(
                "{} {} {:?}",
                res.asset(i).id.value,
                res.control_of(&c).id,
                c
            ));
        }
    }
    let gaps = analysis
        .gaps
        .iter()
        .map(|g| {
            let mut g = g.clone();
            g.basis.clear();
            format!("{g:?}")
        })
        .collect();
    (cells, gaps)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_cell_has_one_accountable_party_a_responsible_party_and_a_basis(g in estates()) {
        // `observable` asserts the invariants on every cell as it collects them.
        let (cells, _) = observable(files(&g, false));
        prop_assert!(!cells.is_empty());
    }

    #[test]
    fn results_do_not_depend_on_file_or_list_order(g in estates()) {
        prop_assert_eq!(observable(files(&g, false)), observable(files(&g, true)));
    }
}
