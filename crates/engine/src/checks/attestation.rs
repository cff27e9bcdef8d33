//! Can the customer rely on what it inherits? Lapsed (DM006) and missing (DM007) provider
//! attestations, and attestations about to lapse (DM005).

use std::collections::{BTreeMap, BTreeSet};

use demarc_catalog::{Catalog, FrameworkKind};
use demarc_model::{Attestation, PartyKind};

use crate::analyse::{Check, CodeInfo, Draft, Findings, Hit, Members, Severity, codes, text};
use crate::cell::Role;
use crate::resolve::Resolution;

pub struct Attestations;

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: codes::ATTESTATION_EXPIRED,
        name: "attestation-expired",
        severity: "high",
        summary: "a provider's attestation the customer relies on has lapsed",
    },
    CodeInfo {
        code: codes::ATTESTATION_MISSING,
        name: "attestation-missing",
        severity: "medium",
        summary: "no attestation on file for a required framework",
    },
];

/// What one provider (or a party it runs on) performs across the estate.
struct Inherited {
    classes: BTreeSet<u32>,
    cells: usize,
    controls: BTreeSet<usize>,
    declared: bool,
}

/// Per table: provider → (cells it performs per asset, controls, declared).
type ProviderCells = BTreeMap<String, (usize, BTreeSet<usize>, bool)>;

/// Whether an attestation to framework `fw` speaks for control `ci`: the framework's own
/// mappings, those of the framework it attests against (FedRAMP → NIST SP 800-53), or every
/// control (CSA STAR). Which is catalog data (`frameworks.yaml`, `attests:`).
fn attests(catalog: &Catalog, fw: &str, ci: usize) -> bool {
    catalog.attests(fw, &catalog.controls[ci])
}

impl Check for Attestations {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let estate = res.estate();
        let catalog = res.catalog();
        let required: Vec<&str> = estate
            .settings
            .frameworks
            .iter()
            .map(|f| f.value.as_str())
            .filter(|f| {
                catalog
                    .framework(f)
                    .is_some_and(|fw| fw.kind != FrameworkKind::Mapping)
            })
            .collect();
        let mut inherited: BTreeMap<String, Inherited> = BTreeMap::new();
        let mut per_table: Vec<Option<ProviderCells>> =
            (0..res.tables.len()).map(|_| None).collect();
        for (class_idx, class) in res.prepared.classes.iter().enumerate() {
            let found = per_table[class.table].get_or_insert_with(|| {
                let mut m = ProviderCells::new();
                for cell in &res.tables[class.table].cells {
                    for a in cell.responsible.iter().filter(|a| a.role == Role::Provider) {
                        for party in std::iter::once(&a.party).chain(a.via.iter()) {
                            let e = m.entry(party.clone()).or_insert_with(|| {
                                (
                                    0,
                                    BTreeSet::new(),
                                    a.declared || estate.parties.contains_key(party),
                                )
                            });
                            e.0 += 1;
                            e.1.insert(cell.control);
                        }
                    }
                }
                m
            });
            for (party, (cells, controls, declared)) in found.iter() {
                let e = inherited.entry(party.clone()).or_insert_with(|| Inherited {
                    classes: BTreeSet::new(),
                    cells: 0,
                    controls: BTreeSet::new(),
                    declared: *declared,
                });
                e.classes.insert(class_idx as u32);
                e.cells += class.members.len() * cells;
                e.controls.extend(controls.iter().copied());
            }
        }
        let warn = estate.settings.expiry_warning.days();
        for (provider, inh) in inherited {
            // The customer does not attest to itself: a service it provides to itself (an
            // estate service with the customer as provider, or a provider the catalog marks
            // as self-operated, such as self-managed Kubernetes) has nothing to inherit.
            let party = estate.parties.get(&provider);
            if provider == estate.customer.value
                || party.is_some_and(|p| p.kind == PartyKind::Customer)
                || catalog.is_self_operated(&provider)
            {
                continue;
            }
            let members: Vec<u32> = inh.classes.into_iter().collect();
            let atts: &[Attestation] = party.map(|p| p.attestations.as_slice()).unwrap_or(&[]);
            let frameworks: Vec<Option<&str>> = if required.is_empty() {
                vec![None]
            } else {
                required.iter().map(|f| Some(*f)).collect()
            };
            for fw in frameworks {
                let relevant = inh
                    .controls
                    .iter()
                    .filter(|&&c| fw.is_none_or(|f| attests(catalog, f, c)))
                    .count();
                if relevant == 0 {
                    continue;
                }
                let best = atts
                    .iter()
                    .filter(|a| fw.is_none_or(|f| a.framework.value == f))
                    .filter_map(|a| a.valid_until().map(|d| (d, a)))
                    .max_by_key(|(d, _)| *d);
                // Without `settings.frameworks` any attestation will do; the key says `any`.
                let fw_name = fw.unwrap_or("any");
                let key = format!("{provider}:{fw_name}");
                let p = provider.clone();
                match best {
                    Some((until, a)) if until > res.as_of => {
                        let left = until.signed_duration_since(res.as_of).num_days();
                        if left <= warn {
                            let framework = a.framework.value.clone();
                            out.hit(
                                Hit {
                                    code: codes::EXPIRING,
                                    key: format!("attestation:{key}"),
                                    severity: Severity::Low,
                                    members: Members::None,
                                    cells_per_member: 0,
                                },
                                || Draft {
                                    title: text(format!("{p}'s {framework} attestation can be relied on until {until} ({left} days)")),
                                    fix: text(format!("ask {p} for the new report or a bridge letter")),
                                    control: None,
                                },
                                [format!("attestation at {}", estate.cite(a.framework.loc))],
                            );
                        }
                    }
                    Some((until, a)) => {
                        let framework = a.framework.value.clone();
                        let g = out.hit(
                            Hit {
                                code: codes::ATTESTATION_EXPIRED,
                                key,
                                severity: Severity::High,
                                members: Members::Classes(&members),
                                cells_per_member: 0,
                            },
                            || Draft {
                                title: text(format!("{p}'s {framework} attestation lapsed on {until}, yet the customer inherits {relevant} controls from {p}")),
                                fix: text(format!("obtain {p}'s current {framework} report (or a bridge letter) and update the attestation's dates")),
                                control: None,
                            },
                            [format!("attestation at {}", estate.cite(a.framework.loc))],
                        );
                        out.set_cells(g, inh.cells);
                    }
                    None => {
                        let fix = if inh.declared && fw.is_none() {
                            format!(
                                "record {p}'s attestations (a SOC 2 report, an ISO 27001 certificate, …) under `parties.{p}.attestations`, and list the frameworks the customer is held to under `settings.frameworks`"
                            )
                        } else if inh.declared {
                            format!(
                                "record {p}'s {fw_name} attestation under `parties.{p}.attestations` (framework and `expires` or `period_end`)"
                            )
                        } else {
                            format!(
                                "add party `{p}` (kind: provider) with its attestations; the estate relies on it but does not declare it"
                            )
                        };
                        let what = match fw {
                            Some(f) => format!("no {f} attestation"),
                            None => "no attestation of any kind".to_string(),
                        };
                        let g = out.hit(
                            Hit {
                                code: codes::ATTESTATION_MISSING,
                                key,
                                severity: Severity::Medium,
                                members: Members::Classes(&members),
                                cells_per_member: 0,
                            },
                            || Draft {
                                title: text(format!("{what} on file for {p}, yet the customer inherits {relevant} controls from it")),
                                fix: text(fix),
                                control: None,
                            },
                            [],
                        );
                        out.set_cells(g, inh.cells);
                    }
                }
            }
        }
    }
}
