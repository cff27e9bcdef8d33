//! Differential test: the class-based engine against a slow, per-asset reference resolver
//! written from ARCHITECTURE.md (`oracle/`), on generated estates full of overrides, ties,
//! expiries, chains, unknown services and split files.

mod oracle;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use demarc_catalog::Catalog;
use demarc_engine::{AnalyseOptions, BasisKind, Cell, NotApplicable, Resolution};
use demarc_model::{Duty, Estate, load_sources, validate};
use oracle::generate::{self, AS_OF};
use oracle::{Decider, OAssignee, OCell, is_unknown_service, resolve_asset};
use proptest::prelude::*;

/// The engine's cell in the oracle's terms.
fn observed(cell: &Cell) -> OCell {
    let d = cell.decisive().expect("every cell has a basis");
    OCell {
        responsible: cell
            .responsible
            .iter()
            .map(|a| OAssignee {
                party: a.party.clone(),
                team: a.team.clone(),
                role: a.role,
                named: a.named,
                does: a.does.clone(),
                via: a.via.clone(),
            })
            .collect(),
        ownership: cell.ownership,
        assumed: cell.assumed,
        unassigned: cell.unassigned,
        contested: cell.contested.clone(),
        unsplit: cell.unsplit,
        sla: cell.sla,
        cadence: cell.cadence,
        decider: Decider {
            kind: d.kind,
            at: match d.kind {
                BasisKind::Override | BasisKind::Contract | BasisKind::Assignment => d.at.clone(),
                _ => None,
            },
        },
    }
}

fn load(files: &[(std::path::PathBuf, String)]) -> Estate {
    let e =
        load_sources(files.to_vec()).unwrap_or_else(|d| panic!("{d}\n{}", generate::show(files)));
    validate(&e, Catalog::builtin()).unwrap_or_else(|d| panic!("{d}\n{}", generate::show(files)));
    e
}

/// Compares every asset × control × duty and the cell-level gaps; the first difference, with
/// the estate, as the error.
/// How many compared cells showed each situation, so the fixed-seed test can check that the
/// generator reaches them.
#[derive(Debug, Default)]
struct Seen {
    cells: usize,
    contested: usize,
    /// Ties broken between rules of the same name (more than one allowed outcome).
    same_name_ties: usize,
    overrides: usize,
    contracts: usize,
    assignments: usize,
    lapsed: usize,
    runs_on: usize,
    performed_by: usize,
    unsplit: usize,
    unassigned: usize,
    assumed: usize,
    sla: usize,
}

fn compare(files: &[(std::path::PathBuf, String)]) -> Result<Seen, String> {
    let as_of: NaiveDate = AS_OF.parse().unwrap();
    let estate = load(files);
    let catalog = Catalog::builtin();
    let res: Arc<Resolution> =
        demarc_engine::resolve(Arc::new(estate.clone()), Catalog::builtin_shared(), as_of);
    let fail = |what: String| {
        Err(format!(
            "{what}\n\nestate (files in the order given):\n{}",
            generate::show(files)
        ))
    };
    let mut seen = Seen::default();
    // (control, asset) pairs with an unassigned / contested / unsplit duty, per the oracle.
    let mut want: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
    for a in &estate.assets {
        let ix = res.find_asset(&a.id).expect("asset");
        let expected = resolve_asset(&estate, catalog, as_of, a);
        let mut got: BTreeMap<(String, Duty), &Cell> = BTreeMap::new();
        for c in res.cells_of(ix) {
            let key = (res.control_of(c).id.clone(), c.duty);
            if got.insert(key.clone(), c).is_some() {
                return fail(format!("asset {}: two cells for {key:?}", a.id.value));
            }
        }
        let ek: BTreeSet<&(String, Duty)> = expected.keys().collect();
        let gk: BTreeSet<&(String, Duty)> = got.keys().collect();
        if ek != gk {
            return fail(format!(
                "asset {} ({}): cells differ\n  only engine: {:?}\n  only oracle: {:?}",
                a.id.value,
                a.service.value.as_str(),
                gk.difference(&ek).collect::<Vec<_>>(),
                ek.difference(&gk).collect::<Vec<_>>()
            ));
        }
        // Cells the oracle says do not exist are a typed "no".
        for control in &catalog.controls {
            for &duty in &Duty::ALL {
                let q = res.cell(ix, &control.id, duty);
                let exists = expected.contains_key(&(control.id.clone(), duty));
                let ok = match (&q, exists) {
                    (Ok(c), true) => res.control_of(c).id == control.id && c.duty == duty,
                    (Err(NotApplicable::NoSuchDuty { .. }), false) => {
                        !control.duties.contains(&duty)
                    }
                    (
                        Err(
                            NotApplicable::LayerNotInModel { .. }
                            | NotApplicable::NotForModel { .. },
                        ),
                        false,
                    ) => control.duties.contains(&duty),
                    _ => false,
                };
                if !ok {
                    return fail(format!(
                        "asset {} {} {duty}: oracle says exists={exists}, engine cell() gave {:?}",
                        a.id.value,
                        control.id,
                        q.map(|c| observed(c))
                    ));
                }
            }
        }
        let unknown = is_unknown_service(&estate, catalog, a);
        for (key, outcomes) in &expected {
            let cell = observed(got[key]);
            seen.cells += 1;
            seen.contested += usize::from(!cell.contested.is_empty());
            seen.same_name_ties += usize::from(outcomes.len() > 1);
            seen.overrides += usize::from(cell.decider.kind == BasisKind::Override);
            seen.contracts += usize::from(cell.decider.kind == BasisKind::Contract);
            seen.assignments += usize::from(cell.decider.kind == BasisKind::Assignment);
            seen.lapsed += usize::from(got[key].basis.iter().any(|b| b.kind == BasisKind::Lapsed));
            seen.runs_on += usize::from(cell.responsible.iter().any(|r| {
                r.via.len() > 1 || (!r.via.is_empty() && r.role == demarc_engine::Role::Provider)
            }));
            seen.performed_by += usize::from(
                cell.responsible
                    .iter()
                    .any(|r| !r.via.is_empty() && r.role != demarc_engine::Role::Provider),
            );
            seen.unsplit += usize::from(cell.unsplit);
            seen.unassigned += usize::from(cell.unassigned);
            seen.assumed += usize::from(cell.assumed);
            seen.sla += usize::from(cell.sla.is_some());
            if !outcomes.contains(&cell) {
                return fail(format!(
                    "asset {} ({}) {} {}: engine and oracle differ\n  engine: {cell:#?}\n  oracle (any of): {outcomes:#?}\n  engine basis: {:#?}",
                    a.id.value,
                    a.service.value.as_str(),
                    key.0,
                    key.1,
                    got[key].basis
                ));
            }
            if !unknown {
                let pair = (key.0.clone(), a.id.value.clone());
                if cell.unassigned {
                    want.entry("DM001").or_default().insert(pair.clone());
                }
                if !cell.contested.is_empty() {
                    want.entry("DM002").or_default().insert(pair.clone());
                }
                if cell.unsplit {
                    want.entry("DM003").or_default().insert(pair);
                }
            }
        }
    }
    // The cell-level gaps: for each code, (control, asset) pairs must be exactly the union of
    // the assets of that code's gaps about the control.
    let analysis = res.gaps(AnalyseOptions::default());
    for code in ["DM001", "DM002", "DM003"] {
        let mut got: BTreeSet<(String, String)> = BTreeSet::new();
        for g in analysis.gaps.iter().filter(|g| g.code == code) {
            let control = g
                .control
                .clone()
                .expect("a cell-level gap names its control");
            if !g.key.starts_with(&format!("{code}:{control}")) {
                return fail(format!("gap key {} is not {code}:{control}…", g.key));
            }
            if g.asset_count != g.assets.len() {
                return fail(format!(
                    "gap {} lists {} of {} assets",
                    g.key,
                    g.assets.len(),
                    g.asset_count
                ));
            }
            got.extend(g.assets.iter().map(|a| (control.clone(), a.clone())));
        }
        let want = want.remove(code).unwrap_or_default();
        if got != want {
            return fail(format!(
                "{code}: (control, asset) pairs differ\n  only in gaps: {:?}\n  only in cells (oracle): {:?}",
                got.difference(&want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    Ok(seen)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_reference_resolver_on_every_cell(seed in any::<u64>()) {
        let files = generate::spec(seed).render();
        if let Err(e) = compare(&files) {
            return Err(TestCaseError::fail(format!("seed {seed}: {e}")));
        }
    }
}

/// Fixed seeds, so a plain `cargo test` always covers the same estates too.
#[test]
fn engine_agrees_with_the_reference_resolver_on_fixed_seeds() {
    let mut total = Seen::default();
    for seed in 0..24u64 {
        let files = generate::spec(seed).render();
        let s = compare(&files).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        total.cells += s.cells;
        total.contested += s.contested;
        total.same_name_ties += s.same_name_ties;
        total.overrides += s.overrides;
        total.contracts += s.contracts;
        total.assignments += s.assignments;
        total.lapsed += s.lapsed;
        total.runs_on += s.runs_on;
        total.performed_by += s.performed_by;
        total.unsplit += s.unsplit;
        total.unassigned += s.unassigned;
        total.assumed += s.assumed;
        total.sla += s.sla;
    }
    eprintln!("{total:#?}");
    // The generator must reach every situation the oracle distinguishes, or the comparison
    // proves little.
    let Seen {
        cells,
        contested,
        same_name_ties,
        overrides,
        contracts,
        assignments,
        lapsed,
        runs_on,
        performed_by,
        unsplit,
        unassigned,
        assumed,
        sla,
    } = total;
    for (what, n) in [
        ("cells", cells),
        ("contested", contested),
        ("same-name ties", same_name_ties),
        ("overrides", overrides),
        ("contracts", contracts),
        ("assignments", assignments),
        ("lapsed", lapsed),
        ("runs_on", runs_on),
        ("performed_by", performed_by),
        ("unsplit", unsplit),
        ("unassigned", unassigned),
        ("assumed", assumed),
        ("sla", sla),
    ] {
        assert!(n > 0, "no {what} among the fixed seeds: {total:#?}");
    }
}
