//! Property tests of the engine's invariants over generated estates:
//! every cell has a responsible party, exactly one accountable party (the customer) and a
//! basis; results do not depend on the order of files or of entries within lists.

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use demarc_engine::{analyse, resolve};
use demarc_model::{load_sources, validate};
use proptest::prelude::*;
use serde_json::Value;

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
fn observable(files: Vec<(std::path::PathBuf, String)>) -> (Value, Value) {
    let estate = load_sources(files).unwrap_or_else(|d| panic!("{d}"));
    validate(&estate, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    let res = resolve(
        &estate,
        Catalog::builtin(),
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    );
    let analysis = analyse(&res);
    let mut cells = Vec::new();
    for &i in &res.order {
        for c in res.cells_of(i as usize) {
            let mut v = serde_json::to_value(demarc_report_cell(&res, i as usize, c)).unwrap();
            for b in v["cell"]["basis"].as_array_mut().unwrap() {
                b.as_object_mut().unwrap().remove("at");
            }
            cells.push(v);
        }
    }
    let mut gaps = serde_json::to_value(&analysis.gaps).unwrap();
    for g in gaps.as_array_mut().unwrap() {
        g.as_object_mut().unwrap().remove("basis");
    }
    (Value::Array(cells), gaps)
}

/// The per-cell facts, checked for the invariants on the way.
fn demarc_report_cell(
    res: &demarc_engine::Resolution,
    asset: usize,
    c: &demarc_engine::Cell,
) -> Value {
    assert!(
        !c.responsible.is_empty(),
        "every cell has someone responsible"
    );
    assert!(!c.basis.is_empty(), "every cell has a basis");
    serde_json::json!({
        "asset": res.estate.assets[asset].id.value,
        "control": res.control(c).id,
        "accountable": res.accountable(),
        "cell": c,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_cell_has_one_accountable_party_a_responsible_party_and_a_basis(g in estates()) {
        let (cells, _) = observable(files(&g, false));
        for c in cells.as_array().unwrap() {
            prop_assert_eq!(c["accountable"].as_str(), Some("acme"));
            let responsible = c["cell"]["responsible"].as_array().unwrap();
            prop_assert!(!responsible.is_empty());
            // Accountability never moves: no cell names the customer as anything but accountable
            // and responsible parties are never "accountable" themselves.
            prop_assert!(c["cell"].get("accountable").is_none());
        }
    }

    #[test]
    fn results_do_not_depend_on_file_or_list_order(g in estates()) {
        prop_assert_eq!(observable(files(&g, false)), observable(files(&g, true)));
    }
}
