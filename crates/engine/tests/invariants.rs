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
                b.origin = demarc_model::Origin::Unknown;
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

// ---- Properties over the differential generator's estates (overrides, ties, expiry, chains,
// ---- split files), checked against the YAML text and the reference resolver.

mod oracle;

use demarc_engine::{AnalyseOptions, BasisKind, Resolution};
use oracle::generate::{self, AS_OF, Spec};

fn resolve_files(files: &[(std::path::PathBuf, String)]) -> Arc<Resolution> {
    let estate =
        load_sources(files.to_vec()).unwrap_or_else(|d| panic!("{d}\n{}", generate::show(files)));
    validate(&estate, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}"));
    demarc_engine::resolve(
        Arc::new(estate),
        Catalog::builtin_shared(),
        AS_OF.parse().unwrap(),
    )
}

/// Gap keys, and per (asset, control, duty) the rule ids its basis cites, in order.
type Identities = (
    std::collections::BTreeSet<String>,
    std::collections::BTreeMap<(String, String, String), Vec<Option<String>>>,
);

fn identities(res: &Resolution, skip_control: Option<&str>) -> Identities {
    let keys = res
        .gaps(AnalyseOptions::default())
        .gaps
        .iter()
        .filter(|g| skip_control.is_none() || g.control.as_deref() != skip_control)
        .map(|g| g.key.clone())
        .collect();
    let mut ids = std::collections::BTreeMap::new();
    for a in res.assets() {
        for c in res.cells_of(a) {
            let control = &res.control_of(c).id;
            if Some(control.as_str()) == skip_control {
                continue;
            }
            ids.insert(
                (
                    res.asset(a).id.value.clone(),
                    control.clone(),
                    c.duty.to_string(),
                ),
                c.basis
                    .iter()
                    .map(|b| b.rule_id.as_ref().map(|r| r.to_string()))
                    .collect(),
            );
        }
    }
    (keys, ids)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Overrides and contracts move the work, never the accountability: every cell's
    /// explanation and triage name the customer written in the YAML.
    #[test]
    fn the_customer_written_in_the_yaml_is_accountable_for_every_cell(seed in any::<u64>()) {
        let files = generate::spec(seed).render();
        let customer = generate::customer_in(&files);
        let res = resolve_files(&files);
        prop_assert_eq!(res.accountable(), customer.as_str());
        for a in res.assets() {
            for c in res.cells_of(a) {
                let control = res.control_of(c).id.clone();
                let e = res.explain(a, &control, c.duty).expect("the cell exists");
                prop_assert_eq!(e.accountable, customer.as_str());
                let t = res.triage(a, &control, Some(c.duty)).expect("the cell exists");
                prop_assert_eq!(t.accountable.as_str(), customer.as_str());
                let last = t.escalation.last().expect("escalation ends with the customer");
                prop_assert!(
                    last.starts_with(&format!("{customer}: ")) && last.contains("(accountable)"),
                    "{}", last
                );
            }
        }
    }

    /// Every cell's basis is non-empty and its decisive step is the rule the reference
    /// resolver says decided it (an override, clause or assignment, by kind and `file:line`),
    /// or the catalog or default step when no rule did.
    #[test]
    fn the_decisive_step_is_the_rule_that_decided_the_cell(seed in any::<u64>()) {
        let files = generate::spec(seed).render();
        let res = resolve_files(&files);
        let estate = res.estate();
        let as_of: chrono::NaiveDate = AS_OF.parse().unwrap();
        for a in res.assets() {
            let asset = res.asset(a);
            let expected = oracle::resolve_asset(estate, Catalog::builtin(), as_of, asset);
            for c in res.cells_of(a) {
                prop_assert!(!c.basis.is_empty());
                let control = res.control_of(c).id.clone();
                let d = c.decisive().expect("a decisive step");
                let is_rule = matches!(d.kind, BasisKind::Override | BasisKind::Contract | BasisKind::Assignment);
                prop_assert_eq!(is_rule, d.rule_id.is_some(), "rule steps carry a rule id: {:?}", d);
                prop_assert_eq!(is_rule, res.deciding_rule(c).is_some());
                if is_rule {
                    prop_assert_eq!(d.rule_id.as_ref(), res.deciding_rule(c));
                }
                let got = oracle::Decider { kind: d.kind, at: if is_rule { d.at.clone() } else { None } };
                let allowed: Vec<&oracle::Decider> = expected[&(control.clone(), c.duty)]
                    .iter()
                    .map(|o| &o.decider)
                    .collect();
                prop_assert!(
                    allowed.contains(&&got),
                    "{} {} {}: decisive {:?}, oracle allows {:?}\n{}",
                    asset.id.value, control, c.duty, got, allowed, generate::show(&files)
                );
            }
        }
    }

    /// Gap keys and rule ids are identities for baselines: renaming and reordering files,
    /// rewording overrides' reasons, or adding an assignment about another control leaves
    /// every other gap's key and every other cell's cited rule ids unchanged.
    #[test]
    fn gap_keys_and_rule_ids_survive_unrelated_edits(seed in any::<u64>(), edit in 0..3usize) {
        let spec = generate::spec(seed);
        let before_files = spec.render();
        let before = resolve_files(&before_files);
        let mut after: Spec = spec.clone();
        // A control no generated rule names (rules that cover every control still cover it).
        let other = "data-retention";
        prop_assert!(!generate::CONTROLS.contains(&other));
        let skip = match edit {
            0 => {
                after.assignments.push(format!(
                    "{{scope: {{}}, controls: [{other}], to: {}/secops}}",
                    spec.customer
                ));
                Some(other)
            }
            1 => {
                for o in &mut after.overrides {
                    o.1 = format!("reworded, {} (approved again)", o.1);
                }
                None
            }
            _ => {
                after.prefix = "renamed".into();
                after.shuffle = after.shuffle.wrapping_add(1);
                after.files = spec.files % 4 + 1;
                None
            }
        };
        let after_files = after.render();
        let after_res = resolve_files(&after_files);
        let (k0, r0) = identities(&before, skip);
        let (k1, r1) = identities(&after_res, skip);
        prop_assert_eq!(
            &k0, &k1,
            "gap keys changed under edit {}\nbefore:\n{}\nafter:\n{}",
            edit, generate::show(&before_files), generate::show(&after_files)
        );
        prop_assert_eq!(&r0, &r1, "rule ids in the basis changed under edit {}", edit);
    }
}
