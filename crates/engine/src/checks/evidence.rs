//! Controls that need proof have current proof: missing (DM010) and expired (DM011) evidence.

use std::collections::{BTreeSet, HashMap};

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
        let estate = res.estate();
        let catalog = res.catalog();
        let mut needs: Vec<bool> = catalog.controls.iter().map(|c| c.evidence).collect();
        for r in &estate.settings.require_evidence {
            if let Some(i) = catalog.control_position(r) {
                needs[i] = true;
            }
        }
        // control → (asset → latest valid-until), and control → org-wide latest valid-until.
        let mut per_asset: HashMap<&str, HashMap<&str, NaiveDate>> = HashMap::new();
        let mut org_wide: HashMap<&str, NaiveDate> = HashMap::new();
        for e in &estate.evidence {
            let until = e.valid_until();
            match &e.asset {
                Some(a) => {
                    let slot = per_asset
                        .entry(e.control.as_str())
                        .or_default()
                        .entry(a.as_str())
                        .or_insert(until);
                    *slot = (*slot).max(until);
                }
                None => {
                    let slot = org_wide.entry(e.control.as_str()).or_insert(until);
                    *slot = (*slot).max(until);
                }
            }
        }
        for (class_idx, class) in res.prepared.classes.iter().enumerate() {
            let table = &res.tables[class.table];
            if table.kind == ServiceKind::Unknown {
                continue;
            }
            let mut seen = BTreeSet::new();
            for cell in &table.cells {
                if !needs[cell.control]
                    || !cell.responsible.iter().any(|a| a.role != Role::Provider)
                    || !seen.insert(cell.control)
                {
                    continue;
                }
                let control = &catalog.controls[cell.control];
                let org = org_wide.get(control.id.as_str()).copied();
                let assets = per_asset.get(control.id.as_str());
                let (mut missing, mut expired) = (Vec::new(), Vec::new());
                for &m in &class.members {
                    let own = assets
                        .and_then(|a| a.get(estate.assets[m as usize].id.as_str()))
                        .copied();
                    match own.max(org) {
                        None => missing.push(m),
                        Some(d) if d <= res.as_of => expired.push(m),
                        Some(_) => {}
                    }
                }
                let severity = exposure(res.catalog(), class).down().max(Severity::Low);
                // A class where every asset lacks evidence is kept whole, like cell-level gaps.
                let whole = [class_idx as u32];
                let members = if missing.len() == class.members.len() {
                    Members::Classes(&whole)
                } else {
                    Members::Assets(&missing)
                };
                if !missing.is_empty() {
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
                            members: Members::Assets(&expired),
                            cells_per_member: 1,
                        },
                        || Draft {
                            title: text(format!("evidence for {} has expired", control.name)),
                            fix: text("repeat the activity (e.g. the restore test or review) and record the new evidence"),
                            control: Some(control.id.clone()),
                        },
                        [],
                    );
                }
            }
        }
    }
}
