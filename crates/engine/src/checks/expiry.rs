//! Rules that stopped counting (DM004), and contracts, clauses and overrides about to
//! (DM005).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use demarc_model::Duty;

use crate::analyse::{
    Check, CodeInfo, Draft, Findings, Hit, Members, Severity, codes, exposure, text,
};
use crate::resolve::Resolution;
use crate::rules::RuleKind;

pub struct Expiry;

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: codes::EXPIRED_RULE,
        name: "expired",
        severity: "exposure, at least high, if the rule would still cover any cell; `info` if it no longer matches anything (housekeeping)",
        summary: "a contract clause or override has ended; its duties fell back",
    },
    CodeInfo {
        code: codes::EXPIRING,
        name: "expiring",
        severity: "low",
        summary: "a contract, clause, override or attestation ends within `expiry_warning`",
    },
];

/// What a lapsed rule would have covered, summed over the classes of assets it matches.
struct LapsedCover {
    classes: Vec<u32>,
    cells: usize,
    /// `control duty → who owns it now`.
    now: BTreeSet<String>,
    duties: BTreeSet<Duty>,
    severity: Severity,
}

/// What the cells of one table contribute to a lapsed rule's cover.
struct TableLapsed {
    rule: usize,
    cells_per_member: usize,
    now: BTreeSet<String>,
    duties: BTreeSet<Duty>,
}

fn table_lapsed(res: &Resolution, t: usize) -> Vec<TableLapsed> {
    let mut by_rule: std::collections::BTreeMap<usize, TableLapsed> = Default::default();
    for cell in &res.tables[t].cells {
        for &r in &cell.lapsed {
            let e = by_rule.entry(r).or_insert_with(|| TableLapsed {
                rule: r,
                cells_per_member: 0,
                now: BTreeSet::new(),
                duties: BTreeSet::new(),
            });
            e.cells_per_member += 1;
            e.now.insert(format!(
                "{} {} → {}",
                res.control_of(cell).id,
                cell.duty,
                cell.responsible_label()
            ));
            e.duties.insert(cell.duty);
        }
    }
    by_rule.into_values().collect()
}

/// Days from `as_of` to `date`, without overflow for any pair of valid dates.
fn days_between(as_of: NaiveDate, date: NaiveDate) -> i64 {
    date.signed_duration_since(as_of).num_days()
}

impl Check for Expiry {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let estate = res.estate();
        let rules = &res.prepared.rules;
        let mut lapsed: HashMap<usize, LapsedCover> = HashMap::new();
        let mut per_table: Vec<Option<Vec<TableLapsed>>> =
            (0..res.tables.len()).map(|_| None).collect();
        for (class_idx, class) in res.prepared.classes.iter().enumerate() {
            let found =
                per_table[class.table].get_or_insert_with(|| table_lapsed(res, class.table));
            for f in found.iter() {
                let e = lapsed.entry(f.rule).or_insert_with(|| LapsedCover {
                    classes: Vec::new(),
                    cells: 0,
                    now: BTreeSet::new(),
                    duties: BTreeSet::new(),
                    severity: Severity::Medium,
                });
                e.classes.push(class_idx as u32);
                e.cells += class.members.len() * f.cells_per_member;
                e.now.extend(f.now.iter().cloned());
                e.duties.extend(f.duties.iter().copied());
                e.severity = e.severity.max(exposure(res.catalog(), class));
            }
        }
        for (i, rule) in rules.iter().enumerate() {
            let Some(ended) = res.states[i].ended else {
                continue;
            };
            let cover = lapsed.remove(&i).unwrap_or(LapsedCover {
                classes: Vec::new(),
                cells: 0,
                now: BTreeSet::new(),
                duties: BTreeSet::new(),
                severity: Severity::Medium,
            });
            let what = match rule.kind {
                RuleKind::Clause => "contract clause",
                RuleKind::Override => "override",
                RuleKind::Assignment => "assignment",
            };
            let cells = cover.cells;
            // A lapsed rule that no longer covers any asset is housekeeping, not a risk.
            let severity = if cells == 0 {
                Severity::Info
            } else {
                cover.severity.max(Severity::High)
            };
            let mut basis = vec![format!(
                "{} at {} ended {ended}",
                rule.title(),
                estate.cite(rule.at)
            )];
            basis.extend(cover.now.iter().take(20).map(|n| format!("now: {n}")));
            if cover.now.len() > 20 {
                basis.push(format!("… and {} more cells", cover.now.len() - 20));
            }
            let name = rule.name.clone();
            let g = out.hit(
                Hit {
                    code: codes::EXPIRED_RULE,
                    key: rule.id.to_string(),
                    severity,
                    members: Members::Classes(&cover.classes),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!("{name} ({what}) ended on {ended}; the {cells} asset × control × duty cells it covered fell back to the catalog and assignments")),
                    fix: text("renew or replace the agreement and update `expires`, or assign the duties it covered to someone in writing"),
                    control: None,
                },
                basis,
            );
            out.add_duties(g, cover.duties.iter().copied());
            out.set_cells(g, cells);
        }

        let warn = estate.settings.expiry_warning.days();
        for c in &estate.contracts {
            if let Some(exp) = c.expires {
                let left = days_between(res.as_of, exp);
                if left > 0 && left <= warn {
                    let (id, party) = (c.id.value.clone(), c.party.value.clone());
                    out.hit(
                        Hit {
                            code: codes::EXPIRING,
                            key: format!("contract:{}", c.id.value),
                            severity: Severity::Low,
                            members: Members::None,
                            cells_per_member: 0,
                        },
                        || Draft {
                            title: text(format!(
                                "contract {id} with {party} ends on {exp} ({left} days)"
                            )),
                            fix: text("start the renewal now, or plan who takes its duties back"),
                            control: None,
                        },
                        [format!(
                            "contract {} at {}",
                            c.id.value,
                            estate.cite(c.id.loc)
                        )],
                    );
                }
            }
        }
        // Clauses that end before their contract, and overrides with an end date: the contract
        // warning above does not cover them.
        for (i, rule) in rules.iter().enumerate() {
            let Some(ends) = rule.ends else { continue };
            let left = days_between(res.as_of, ends);
            if !res.states[i].active || left <= 0 || left > warn {
                continue;
            }
            let what = match rule.kind {
                RuleKind::Clause if rule.contract_ends == Some(ends) => continue,
                RuleKind::Clause => "contract clause",
                RuleKind::Override => "override",
                RuleKind::Assignment => continue,
            };
            let members: Vec<u32> = res
                .prepared
                .classes
                .iter()
                .enumerate()
                .filter(|(_, c)| res.prepared.keys[c.table].rules.contains(&i))
                .map(|(ci, _)| ci as u32)
                .collect();
            let name = rule.name.clone();
            out.hit(
                Hit {
                    code: codes::EXPIRING,
                    key: rule.id.to_string(),
                    severity: Severity::Low,
                    members: Members::Classes(&members),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!("{name} ({what}) ends on {ends} ({left} days)")),
                    fix: text("renew it and update `expires`, or plan who takes its duties back"),
                    control: None,
                },
                [format!("{} at {}", rule.title(), estate.cite(rule.at))],
            );
        }
    }
}
