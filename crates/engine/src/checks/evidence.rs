//! Controls that need proof have current proof: missing (DM010) and expired (DM011) evidence.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use crate::analyse::{
    Check, CodeInfo, Draft, Findings, Hit, Members, Severity, codes, exposure, text,
};
use crate::cell::Role;
use crate::resolve::{Resolution, ServiceKind};

pub struct Evidence;

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: codes::EVIDENCE_MISSING,
        name: "evidence-missing",
        severity: "one step below exposure, at least low",
        summary: "no evidence for a control that needs it",
    },
    CodeInfo {
        code: codes::EVIDENCE_EXPIRED,
        name: "evidence-expired",
        severity: "one step below exposure, at least low",
        summary: "the evidence is out of date",
    },
];

impl Check for Evidence {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let catalog = res.catalog();
        // Organisation-level controls (`scope: organisation` in the catalog: training, vendor
        // risk, incident exercises) are proven once for the organisation, never per asset:
        // each is one gap at the worst exposure of the assets that need it.
        let mut org_level: BTreeMap<usize, (Severity, Option<bool>)> = BTreeMap::new();
        walk(res, true, |class_idx, class, ci, facts| {
            let control = &catalog.controls[ci];
            let severity = exposure(res.catalog(), class).down().max(Severity::Low);
            if let Facts::Organisation(status) = facts {
                let slot = org_level.entry(ci).or_insert((severity, status));
                slot.0 = slot.0.max(severity);
                return;
            }
            let Facts::Assets {
                missing,
                expired,
                all_missing,
            } = facts
            else {
                return;
            };
            // A class where every asset lacks evidence is kept whole, like cell-level gaps.
            let whole = [class_idx as u32];
            let members = if all_missing {
                Members::Classes(&whole)
            } else {
                Members::Assets(missing)
            };
            if all_missing || !missing.is_empty() {
                out.hit(
                    Hit {
                        code: codes::EVIDENCE_MISSING,
                        key: control.id.clone(),
                        severity,
                        members,
                        cells_per_member: 1,
                    },
                    || Draft {
                        title: text(format!("no evidence on file for {} on assets where the customer does it", control.name)),
                        fix: text(format!("record it: `evidence: [{{control: {}, asset: <id>, ref: <link>, collected: YYYY-MM-DD, valid_for: 90d}}]`", control.id)),
                        control: Some(control.id.clone()),
                    },
                    [],
                );
            }
            if !expired.is_empty() {
                out.hit(
                    Hit {
                        code: codes::EVIDENCE_EXPIRED,
                        key: control.id.clone(),
                        severity,
                        members: Members::Assets(expired),
                        cells_per_member: 1,
                    },
                    || Draft {
                        title: text(format!("evidence for {} has expired", control.name)),
                        fix: text(repeat_fix(control, true)),
                        control: Some(control.id.clone()),
                    },
                    [],
                );
            }
        });
        for (ci, (severity, status)) in org_level {
            let control = &catalog.controls[ci];
            let (code, title, fix) = match status {
                None => continue,
                Some(true) => (
                    codes::EVIDENCE_MISSING,
                    format!(
                        "no organisation-wide evidence on file for {}: it is done once for the whole organisation, not per asset",
                        control.name
                    ),
                    format!(
                        "record it once, without `asset:`: `evidence: [{{control: {}, ref: <link>, collected: YYYY-MM-DD, valid_for: 365d}}]`",
                        control.id
                    ),
                ),
                Some(false) => (
                    codes::EVIDENCE_EXPIRED,
                    format!(
                        "organisation-wide evidence for {} has expired",
                        control.name
                    ),
                    repeat_fix(control, false),
                ),
            };
            let g = out.gap(code, control.id.clone(), || Draft {
                title: text(title),
                fix: text(fix),
                control: Some(control.id.clone()),
            });
            out.join(g, severity, Members::None, 0);
            out.set_cells(g, 1);
        }
    }
}

/// What the evidence on file says for one class and one control that needs evidence.
pub(crate) enum Facts<'a> {
    /// An organisation-level control: `Some(true)` missing, `Some(false)` expired, `None`
    /// current.
    Organisation(Option<bool>),
    /// A per-asset control: the members without evidence and those whose evidence expired.
    Assets {
        missing: &'a [u32],
        expired: &'a [u32],
        all_missing: bool,
    },
    /// A per-asset control, counted only (see `walk`'s `detail`).
    Counts { missing: usize, expired: usize },
}

/// Visits every class × control that needs evidence on assets where someone other than the
/// provider does the work, with what the evidence on file says. Shared by the gap check and
/// the compliance rollup ([`Resolution::evidence_coverage`]) so both count the same way.
///
/// With `detail` false, per-asset controls are only counted ([`Facts::Counts`]): the evidence
/// entries are grouped by class up front, so the cost follows the evidence on file rather
/// than the number of assets (a rollup needs counts; a gap needs the asset ids).
pub(crate) fn walk<'r>(
    res: &'r Resolution,
    detail: bool,
    mut visit: impl FnMut(usize, &'r crate::resolve::Class, usize, Facts<'_>),
) {
    let estate = res.estate();
    let catalog = res.catalog();
    let mut needs: Vec<bool> = catalog.controls.iter().map(|c| c.evidence).collect();
    for r in &estate.settings.require_evidence {
        if let Some(i) = catalog.control_position(r) {
            needs[i] = true;
        }
    }
    // Per control: the evidence for single assets, as (rank of the asset in id order,
    // latest valid-until) sorted by rank; and the latest org-wide valid-until. A class's
    // members are in id order too, so each class is checked by one merge walk instead of
    // a string lookup per asset (a million assets × a dozen controls otherwise).
    let prepared = &res.prepared;
    let mut rank = vec![0u32; prepared.order.len()];
    for (r, &i) in prepared.order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let mut per_asset: HashMap<usize, Vec<(u32, NaiveDate)>> = HashMap::new();
    let mut org_wide: HashMap<usize, NaiveDate> = HashMap::new();
    for e in &estate.evidence {
        let Some(ci) = catalog.control_position(&e.control) else {
            continue;
        };
        let until = e.valid_until();
        match &e.asset {
            Some(a) => {
                if let Ok(ix) = res.find_asset(a) {
                    per_asset
                        .entry(ci)
                        .or_default()
                        .push((rank[ix.index()], until));
                }
            }
            None => {
                let slot = org_wide.entry(ci).or_insert(until);
                *slot = (*slot).max(until);
            }
        }
    }
    for list in per_asset.values_mut() {
        // Latest date per asset: sort by rank, then keep the maximum of each run.
        list.sort_unstable();
        let mut merged: Vec<(u32, NaiveDate)> = Vec::with_capacity(list.len());
        for &(r, d) in list.iter() {
            match merged.last_mut() {
                Some(last) if last.0 == r => last.1 = last.1.max(d),
                _ => merged.push((r, d)),
            }
        }
        *list = merged;
    }
    // For counting: per (control, class), the latest date of each asset with its own evidence.
    let mut own_by_class: HashMap<(usize, u32), Vec<NaiveDate>> = HashMap::new();
    if !detail {
        for (&ci, list) in &per_asset {
            for &(r, d) in list {
                let asset = prepared.order[r as usize];
                own_by_class
                    .entry((ci, prepared.asset_class[asset as usize]))
                    .or_default()
                    .push(d);
            }
        }
    }
    let status = |until: Option<NaiveDate>| match until {
        None => Some(true),
        Some(d) if d <= res.as_of => Some(false),
        Some(_) => None,
    };
    // Controls a template requires evidence for, per `apply:` entry.
    let template_needs: Vec<Vec<usize>> = estate
        .apply
        .iter()
        .map(|ap| {
            estate
                .templates
                .get(ap.template.as_str())
                .map(|t| {
                    t.require_evidence
                        .iter()
                        .filter_map(|c| catalog.control_position(c))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    // Per table, the cells whose control can need evidence at all (the catalog's and the
    // settings' controls, and any template's): a class then looks only at those, not at every
    // cell of its table (tens of thousands of classes × hundreds of cells otherwise).
    let mut may_need = needs.clone();
    for t in &template_needs {
        for &c in t {
            may_need[c] = true;
        }
    }
    let mut candidates: Vec<Option<Vec<&std::sync::Arc<crate::cell::Cell>>>> =
        vec![None; res.tables.len()];
    for (class_idx, class) in prepared.classes.iter().enumerate() {
        let table = &res.tables[class.table];
        if table.kind == ServiceKind::Unknown {
            continue;
        }
        let required: BTreeSet<usize> = class
            .templates
            .iter()
            .flat_map(|&t| template_needs[t as usize].iter().copied())
            .collect();
        let cells = candidates[class.table]
            .get_or_insert_with(|| table.cells.iter().filter(|c| may_need[c.control]).collect());
        let mut seen = BTreeSet::new();
        for cell in cells.iter() {
            if !(needs[cell.control] || required.contains(&cell.control))
                || !cell.responsible.iter().any(|a| a.role != Role::Provider)
                || !seen.insert(cell.control)
            {
                continue;
            }
            let control = &catalog.controls[cell.control];
            if control.organisation {
                visit(
                    class_idx,
                    class,
                    cell.control,
                    Facts::Organisation(status(org_wide.get(&cell.control).copied())),
                );
                continue;
            }
            let org = org_wide.get(&cell.control).copied();
            if !detail {
                let own = own_by_class
                    .get(&(cell.control, class_idx as u32))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let (mut missing, mut expired) = (0, 0);
                let mut count = |st: Option<bool>, k: usize| match st {
                    Some(true) => missing += k,
                    Some(false) => expired += k,
                    None => {}
                };
                for &d in own {
                    count(status(Some(d).max(org)), 1);
                }
                count(status(org), class.members.len() - own.len());
                visit(
                    class_idx,
                    class,
                    cell.control,
                    Facts::Counts { missing, expired },
                );
                continue;
            }
            let own: &[(u32, NaiveDate)] = per_asset
                .get(&cell.control)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            // `Some(true)`: missing, `Some(false)`: expired, `None`: current.
            let (mut missing, mut expired) = (Vec::new(), Vec::new());
            let mut all_missing = false;
            if own.is_empty() {
                // Nothing per asset: the whole class shares the org-wide status.
                match status(org) {
                    Some(true) => all_missing = true,
                    Some(false) => expired.extend_from_slice(&class.members),
                    None => {}
                }
            } else {
                let mut k = 0;
                for &m in &class.members {
                    let r = rank[m as usize];
                    while k < own.len() && own[k].0 < r {
                        k += 1;
                    }
                    let mine = own.get(k).filter(|o| o.0 == r).map(|o| o.1);
                    match status(mine.max(org)) {
                        Some(true) => missing.push(m),
                        Some(false) => expired.push(m),
                        None => {}
                    }
                }
                all_missing = missing.len() == class.members.len();
            }
            visit(
                class_idx,
                class,
                cell.control,
                Facts::Assets {
                    missing: &missing,
                    expired: &expired,
                    all_missing,
                },
            );
        }
    }
}

/// The fix for out-of-date evidence, in the control's own words: a penetration test is
/// repeated as a new test, training as a new round of training, never as a "restore test".
fn repeat_fix(control: &demarc_catalog::Control, per_asset: bool) -> String {
    let asset = if per_asset { "asset: <id>, " } else { "" };
    format!(
        "carry out {} again ({}) and record the new evidence: `evidence: [{{control: {}, {asset}ref: <link>, collected: YYYY-MM-DD}}]`",
        control.name.to_lowercase(),
        control.description.trim_end_matches('.').to_lowercase(),
        control.id
    )
}
