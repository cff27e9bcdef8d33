//! Cell-level gaps: duties nobody is named for (DM001), contests (DM002), shares without a
//! split (DM003), one owner configuring and auditing (DM012), unknown services (DM013).
//!
//! These depend only on a table's cells, so they are found once per table; each class of
//! assets using the table then joins them at its own exposure.

use std::collections::{BTreeMap, BTreeSet};

use demarc_model::Duty;

use crate::analyse::{
    Check, CodeInfo, Draft, Findings, GapRef, Grouping, Members, Severity, cite, codes, duty_list,
    exposure, text, with_url,
};
use crate::cell::{Cell, Role};
use crate::resolve::{Resolution, ServiceKind};

pub struct Ownership;

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: codes::UNASSIGNED,
        name: "unassigned",
        severity: "exposure (low … critical)",
        summary: "a duty falls to the customer, but no team or third party is named for it",
    },
    CodeInfo {
        code: codes::CONTESTED,
        name: "contested",
        severity: "exposure, at least medium",
        summary: "equally specific rules of the same rank name different owners",
    },
    CodeInfo {
        code: codes::UNSPLIT,
        name: "shared-unsplit",
        severity: "one step below exposure, at least low",
        summary: "several owners share a duty with no written split",
    },
    CodeInfo {
        code: codes::SEPARATION_OF_DUTIES,
        name: "separation-of-duties",
        severity: "medium",
        summary: "the same owner configures and audits a control",
    },
    CodeInfo {
        code: codes::UNKNOWN_SERVICE,
        name: "unknown-service",
        severity: "exposure, at least high",
        summary: "an asset's service is in neither the catalog nor `services:`",
    },
];

/// How a cell-level gap's severity follows from the exposure of the assets it concerns.
#[derive(Debug, Clone, Copy)]
enum Rate {
    /// The exposure itself, at least this.
    AtLeast(Severity),
    /// One step below the exposure, at least this.
    DownAtLeast(Severity),
    Fixed(Severity),
}

impl Rate {
    fn apply(self, exposure: Severity) -> Severity {
        match self {
            Rate::AtLeast(s) => exposure.max(s),
            Rate::DownAtLeast(s) => exposure.down().max(s),
            Rate::Fixed(s) => s,
        }
    }
}

/// A cell-level gap of one table, found once and joined by every class using the table.
struct TableFinding {
    gap: GapRef,
    rate: Rate,
    cells_per_member: usize,
}

/// Duties of one control with each kind of problem, in one table.
#[derive(Default)]
struct Problems {
    unassigned: Vec<Duty>,
    unsplit: Vec<Duty>,
    contested: Vec<Duty>,
}

impl Check for Ownership {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let mut per_table: Vec<Option<Vec<TableFinding>>> =
            (0..res.tables.len()).map(|_| None).collect();
        for (class_idx, class) in res.prepared.classes.iter().enumerate() {
            let found =
                per_table[class.table].get_or_insert_with(|| table_findings(res, class.table, out));
            let exp = exposure(res.catalog(), class);
            for f in found.iter() {
                out.join(
                    f.gap,
                    f.rate.apply(exp),
                    Members::Class(class_idx as u32),
                    f.cells_per_member,
                );
            }
        }
    }
}

fn table_findings<'r>(res: &'r Resolution, t: usize, out: &mut Findings<'r>) -> Vec<TableFinding> {
    let catalog = res.catalog();
    let estate = res.estate();
    let table = &res.tables[t];
    let service = res.prepared.keys[t].service.as_str();
    let mut found = Vec::new();
    if table.kind == ServiceKind::Unknown {
        let suggestion = demarc_model::suggest(
            service,
            catalog
                .services
                .iter()
                .map(|s| s.id.as_str())
                .chain(catalog.models.iter().map(|m| m.id.as_str())),
        );
        let cells = table.cells.len();
        let gap = out.gap(codes::UNKNOWN_SERVICE, service, || {
            let fix = match suggestion {
                Some(s) => format!("did you mean `{s}`? Otherwise define `{service}` under `services:` with the generic model it follows (iaas, paas, saas, …)"),
                None => format!("define `{service}` under `services:` with the generic model it follows (iaas, caas, paas, faas, dbaas, saas) and its provider, or use a catalog service id (`demarc catalog list`)"),
            };
            Draft {
                title: text(format!("unknown service type `{service}`: the provider model is unclear, so the customer is assumed responsible for all {cells} duties")),
                fix: text(fix),
                control: None,
            }
        });
        found.push(TableFinding {
            gap,
            // Every duty of the asset silently falls to the customer: at least high, so the
            // usual CI gate (`--fail-on high`) catches it.
            rate: Rate::AtLeast(Severity::High),
            cells_per_member: cells,
        });
        // Every cell of an unknown service is unassigned by construction; DM013 says it once.
        return found;
    }
    let mut per_control: BTreeMap<usize, Problems> = BTreeMap::new();
    for cell in &table.cells {
        let e = per_control.entry(cell.control).or_default();
        if cell.unassigned {
            e.unassigned.push(cell.duty);
        }
        if cell.unsplit {
            e.unsplit.push(cell.duty);
        }
        if !cell.contested.is_empty() {
            e.contested.push(cell.duty);
        }
    }
    let cells_of = |ci: usize, duties: &[Duty]| -> Vec<&Cell> {
        table
            .cells
            .iter()
            .filter(|c| c.control == ci && duties.contains(&c.duty))
            .map(|c| &**c)
            .collect()
    };
    let customer = estate.customer.value.as_str();
    for (ci, p) in per_control {
        let control = &catalog.controls[ci];
        if !p.unassigned.is_empty() {
            let cells = cells_of(ci, &p.unassigned);
            let gap = out.gap(codes::UNASSIGNED, control.id.as_str(), || Draft {
                title: Box::new(move |d: &[Duty]| {
                    format!(
                        "{} ({}) falls to {customer} but nobody is named to do it",
                        control.name,
                        duty_list(d)
                    )
                }),
                fix: Box::new(move |d: &[Duty]| {
                    format!(
                        "name an owner in writing: an assignment such as `{{scope: <these assets>, controls: [{}], duties: [{}], to: {customer}/<team>}}`, or a contract clause if a third party does it",
                        control.id,
                        duty_list(d)
                    )
                }),
                control: Some(control.id.clone()),
            });
            // Leaving out one assignment leaves every control of these assets unassigned: one
            // fix (an assignment listing them all) closes the lot.
            out.groupable(gap, || Grouping {
                owner: customer.to_string(),
                title: Box::new(move |cs: &[String], d: &[Duty]| {
                    format!(
                        "{} controls ({}) fall to {customer} with nobody named to do them: {}",
                        cs.len(),
                        duty_list(d),
                        cs.join(", ")
                    )
                }),
                fix: Box::new(move |cs: &[String], d: &[Duty]| {
                    format!(
                        "name an owner in writing for all of them at once: an assignment such as `{{scope: <these assets>, controls: [{}], duties: [{}], to: {customer}/<team>}}` (or leave out `controls:` for every control), or a contract clause if a third party does them",
                        cs.join(", "),
                        duty_list(d)
                    )
                }),
            });
            out.add_duties(gap, p.unassigned.iter().copied());
            out.add_basis(
                gap,
                cells.iter().flat_map(|c| {
                    c.basis
                        .iter()
                        .take(1)
                        .map(|b| with_url(&b.rule, b.url.as_deref()))
                }),
            );
            found.push(TableFinding {
                gap,
                rate: Rate::AtLeast(Severity::Low),
                cells_per_member: p.unassigned.len(),
            });
        }
        if !p.unsplit.is_empty() {
            let cells = cells_of(ci, &p.unsplit);
            let who: BTreeSet<String> = cells.iter().map(|c| c.responsible_label()).collect();
            let who = who.into_iter().collect::<Vec<_>>().join("; ");
            let gap = out.gap(codes::UNSPLIT, control.id.as_str(), || Draft {
                title: Box::new(move |d: &[Duty]| {
                    format!(
                        "{} ({}) is shared by {who} with no written split of who does what",
                        control.name,
                        duty_list(d)
                    )
                }),
                fix: text(
                    "add `split:` to the rule with one line per owner saying what that owner does",
                ),
                control: Some(control.id.clone()),
            });
            out.add_duties(gap, p.unsplit.iter().copied());
            out.add_basis(
                gap,
                cells.iter().flat_map(|c| c.basis.iter().take(1).map(cite)),
            );
            found.push(TableFinding {
                gap,
                rate: Rate::DownAtLeast(Severity::Low),
                cells_per_member: p.unsplit.len(),
            });
        }
        if !p.contested.is_empty() {
            let cells = cells_of(ci, &p.contested);
            let winner = cells[0].responsible_label();
            let others = cells[0].contested.join(", ");
            // The identity names every contender, the winner included, so it does not change
            // when a tie-break would pick another winner.
            let mut all: Vec<String> = cells[0].contested.clone();
            all.extend(
                cells[0]
                    .responsible
                    .iter()
                    .filter(|a| a.role != Role::Provider)
                    .map(|a| a.label()),
            );
            all.sort();
            all.dedup();
            let key = format!("{}:{}", control.id, all.join("|"));
            let gap = out.gap(codes::CONTESTED, key, || Draft {
                title: Box::new(move |d: &[Duty]| {
                    format!(
                        "{} ({}) is claimed by rules of equal rank naming different owners: {winner} and {others}",
                        control.name,
                        duty_list(d)
                    )
                }),
                fix: text("decide one owner: remove or narrow one of the rules (a narrower scope wins), or add an override with the reason"),
                control: Some(control.id.clone()),
            });
            out.add_duties(gap, p.contested.iter().copied());
            out.add_basis(
                gap,
                cells
                    .iter()
                    .flat_map(|c| c.basis.iter().filter(|b| b.at.is_some()).map(cite)),
            );
            found.push(TableFinding {
                gap,
                rate: Rate::AtLeast(Severity::Medium),
                cells_per_member: p.contested.len(),
            });
        }
    }

    // Separation of duties: the same named, non-provider owner configures and audits.
    let mut by_control: BTreeMap<usize, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for cell in &table.cells {
        if !matches!(cell.duty, Duty::Configure | Duty::Audit) {
            continue;
        }
        let e = by_control.entry(cell.control).or_default();
        for a in cell
            .responsible
            .iter()
            .filter(|a| a.named && a.role != Role::Provider)
        {
            if cell.duty == Duty::Configure {
                e.0.insert(a.label())
            } else {
                e.1.insert(a.label())
            };
        }
    }
    for (ci, (configure, audit)) in by_control {
        for who in configure.intersection(&audit) {
            let control = &catalog.controls[ci];
            let who2 = who.clone();
            let gap = out.gap(
                codes::SEPARATION_OF_DUTIES,
                format!("{}:{who}", control.id),
                || Draft {
                    title: text(format!(
                        "{who2} both configures and audits {}: nobody independent checks the work",
                        control.name
                    )),
                    fix: text(format!(
                        "give the audit duty of `{}` to another team or party (e.g. internal audit or the MSSP)",
                        control.id
                    )),
                    control: Some(control.id.clone()),
                },
            );
            let who3 = who.clone();
            let who4 = who.clone();
            out.groupable(gap, || Grouping {
                owner: who.clone(),
                title: Box::new(move |cs: &[String], _: &[Duty]| {
                    format!(
                        "{who3} both configures and audits {} controls: nobody independent checks the work ({})",
                        cs.len(),
                        cs.join(", ")
                    )
                }),
                fix: Box::new(move |cs: &[String], _: &[Duty]| {
                    format!(
                        "give the audit duty of all of them to another team or party (e.g. internal audit or the MSSP): one assignment `{{scope: <these assets>, controls: [{}], duties: [audit], to: <auditor>}}`; {who4} keeps configure",
                        cs.join(", ")
                    )
                }),
            });
            out.add_duties(gap, [Duty::Configure, Duty::Audit]);
            let basis: Vec<String> = table
                .cells
                .iter()
                .filter(|c| c.control == ci && matches!(c.duty, Duty::Configure | Duty::Audit))
                .flat_map(|c| {
                    c.basis
                        .iter()
                        .filter(|b| b.at.is_some())
                        .take(1)
                        .map(|b| format!("{}: {}", c.duty, cite(b)))
                })
                .collect();
            out.add_basis(gap, basis);
            found.push(TableFinding {
                gap,
                rate: Rate::Fixed(Severity::Medium),
                cells_per_member: 2,
            });
        }
    }
    found
}
