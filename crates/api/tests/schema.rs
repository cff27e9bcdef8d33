//! The JSON contract cannot change by accident: each output's JSON Schema is snapshotted, so a
//! renamed or removed field (or any other change) fails here and must be accepted on purpose
//! (`cargo insta review`), with a new schema version if it breaks the v1 promise.

use std::sync::Arc;

use demarc_api::{CellV1, CheckV1, GapV1, SCHEMAS, TriageV1, schema};
use demarc_catalog::Catalog;
use demarc_engine::{AnalyseOptions, resolve};
use demarc_model::Duty;

#[test]
fn every_output_schema_is_snapshotted() {
    for name in SCHEMAS {
        let s = schema(name).expect("known shape");
        insta::assert_json_snapshot!(format!("schema_{name}"), s);
    }
    assert!(schema("nonsense").is_none());
}

const ESTATE: &str = r#"version: 1
estate: demo
customer: acme
parties:
  acme: {kind: customer, name: Acme, teams: {ops: {contact: ops@acme.example}}}
  aws: {kind: provider, name: AWS}
  shieldco: {kind: mssp, name: ShieldCo, contact: soc@shieldco.example}
contracts:
  - id: msa
    party: shieldco
    clauses:
      - {id: "1", text: "24x7 monitoring", controls: [security-monitoring], sla: {monitor: 15m}}
assignments:
  - {scope: {service: aws:ec2}, controls: [os-patching], to: acme/ops}
assets:
  - {id: vm1, service: aws:ec2, env: prod, data: [pci]}
  - {id: vm2, service: aws:ec2}
"#;

/// What the CLI prints is what consumers read back: every v1 type round-trips through JSON
/// without losing or inventing a field.
#[test]
fn outputs_round_trip_through_json() {
    let estate = demarc_model::load_sources(vec![("e.yaml".into(), ESTATE.into())]).unwrap();
    demarc_model::validate(&estate, Catalog::builtin()).unwrap();
    let res = resolve(
        Arc::new(estate),
        Catalog::builtin_shared(),
        "2026-11-23".parse().unwrap(),
    );
    let analysis = res.gaps(AnalyseOptions::default());
    let check = CheckV1::new(&res, &analysis);
    assert!(!check.gaps.is_empty());
    let text = serde_json::to_string(&check).unwrap();
    let back: CheckV1 = serde_json::from_str(&text).unwrap();
    assert_eq!(back, check);
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    );

    let vm1 = res.find_asset("vm1").unwrap();
    let cell = res.cell(vm1, "os-patching", Duty::Patch).unwrap();
    let c = CellV1::new(&res, vm1, cell);
    assert_eq!(c.responsible[0].team.as_deref(), Some("ops"));
    assert!(c.decided_by.as_deref().unwrap().starts_with("assignment:"));
    let back: CellV1 = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);

    let t = res.triage(vm1, "security-monitoring", None).unwrap();
    let t = TriageV1::new(&res, &t);
    assert_eq!(t.duty, Duty::Monitor, "no respond duty: monitor is triaged");
    assert_eq!(t.sla.as_deref(), Some("15m"));
    assert_eq!(t.contacts[0].party, "shieldco");
    let back: TriageV1 = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);

    for g in &analysis.gaps {
        let g = GapV1::from(g);
        let back: GapV1 = serde_json::from_str(&serde_json::to_string(&g).unwrap()).unwrap();
        assert_eq!(back, g);
    }
}
