//! Is regulated data on a service the provider keeps in scope for the program that data needs?
//! A data class names the programs it needs (`programs:` in exposure.yaml: health data needs
//! HIPAA eligibility, cardholder data PCI DSS); the provider's scope list says which of its
//! services are in scope (`compliance_scope:` and `programs:` in its services file). A service
//! off the provider's list is a DM017; a needed program for which the catalog has no list from
//! the provider is a DM018. Which data, programs, providers and services are involved is
//! catalog data, never code.

use std::collections::{BTreeMap, BTreeSet};

use demarc_catalog::ProgramScope;

use crate::analyse::{Check, CodeInfo, Draft, Findings, Hit, Members, Severity, text};
use crate::resolve::{Resolution, ServiceKind};

pub struct ComplianceScope;

pub const OUT_OF_SCOPE: &str = "DM017";
pub const SCOPE_UNKNOWN: &str = "DM018";

const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: OUT_OF_SCOPE,
        name: "out-of-compliance-scope",
        severity: "high",
        summary: "regulated data on a service outside the provider's compliance scope for the program it needs",
    },
    CodeInfo {
        code: SCOPE_UNKNOWN,
        name: "compliance-scope-unknown",
        severity: "low",
        summary: "regulated data on a provider service whose scope for the program it needs the catalog does not know",
    },
];

/// What one (provider, program) pair without a scope list concerns: the data classes, the
/// services and the asset classes.
#[derive(Default)]
struct Unknown {
    data: BTreeSet<String>,
    services: BTreeSet<String>,
    classes: Vec<u32>,
}

/// What one (service, program) pair concerns: the data classes that need the program and the
/// asset classes holding them.
#[derive(Default)]
struct Use {
    data: BTreeSet<String>,
    classes: Vec<u32>,
}

impl Check for ComplianceScope {
    fn codes(&self) -> &'static [CodeInfo] {
        CODES
    }

    fn run<'r>(&self, res: &'r Resolution, out: &mut Findings<'r>) {
        let catalog = res.catalog();
        let mut uses: BTreeMap<(String, String), Use> = BTreeMap::new();
        for (class_idx, class) in res.prepared.classes.iter().enumerate() {
            // Only a catalog service has a provider scope list: an unknown service is a DM013,
            // a generic model names no provider, and an estate's own service has no list.
            let kind = res.tables[class.table].kind;
            if kind != ServiceKind::Catalog {
                continue;
            }
            let service = &res.prepared.keys[class.table].service;
            for d in &class.data {
                for p in catalog.programs_for_data(d.as_ref()) {
                    let u = uses.entry((service.clone(), p.clone())).or_default();
                    u.data.insert(d.to_string());
                    if u.classes.last() != Some(&(class_idx as u32)) {
                        u.classes.push(class_idx as u32);
                    }
                }
            }
        }
        // Unknown scope is reported once per provider and program.
        let mut unknown: BTreeMap<(String, String), Unknown> = BTreeMap::new();
        for ((service, program), u) in uses {
            let Some(svc) = catalog.service(&service).or_else(|| {
                service
                    .split_once('#')
                    .and_then(|(b, _)| catalog.service(b))
            }) else {
                continue;
            };
            let provider = svc.provider.clone();
            // The customer runs it itself: there is no provider scope to be in.
            if provider.is_empty()
                || provider == res.estate().customer.value
                || catalog.is_self_operated(&provider)
            {
                continue;
            }
            let base = service.split_once('#').map_or(service.as_str(), |(b, _)| b);
            match catalog.program_scope(&service, &program) {
                ProgramScope::In(_) => {}
                ProgramScope::Out(src) => {
                    let provider_name = catalog
                        .providers
                        .get(&provider)
                        .cloned()
                        .unwrap_or_else(|| provider.clone());
                    let program_name = catalog
                        .program(&program)
                        .map_or_else(|| program.clone(), |p| p.name.clone());
                    let data = list(&u.data);
                    let svc_name = svc.name.clone();
                    let link = src.link();
                    let title = src.title.clone();
                    let checked = src.checked;
                    out.hit(
                        Hit {
                            code: OUT_OF_SCOPE,
                            key: format!("{base}:{program}"),
                            severity: Severity::High,
                            members: Members::Classes(&u.classes),
                            cells_per_member: 0,
                        },
                        || Draft {
                            title: text(format!(
                                "{data} data on {svc_name} (`{base}`), which is outside the {program_name} scope {provider_name} publishes ({link}, checked {checked})"
                            )),
                            fix: text(format!(
                                "move the {data} data to a service {provider_name} has in scope for {program_name}, or get written confirmation from {provider_name} that `{base}` is in scope and record it (`programs:` in a catalog overlay)"
                            )),
                            control: None,
                        },
                        [format!(
                            "{program_name} scope list from {provider_name}: {title} ({link}), checked {checked}"
                        )],
                    );
                }
                ProgramScope::Unknown => {
                    let e = unknown.entry((provider, program)).or_default();
                    e.data.extend(u.data);
                    e.services.insert(base.to_string());
                    e.classes.extend(u.classes);
                }
            }
        }
        for ((provider, program), u) in unknown {
            let Unknown {
                data,
                services,
                mut classes,
            } = u;
            classes.sort_unstable();
            classes.dedup();
            let provider_name = catalog
                .providers
                .get(&provider)
                .cloned()
                .unwrap_or_else(|| provider.clone());
            let program_name = catalog
                .program(&program)
                .map_or_else(|| program.clone(), |p| p.name.clone());
            let data = list(&data);
            let services = services
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.hit(
                Hit {
                    code: SCOPE_UNKNOWN,
                    key: format!("{provider}:{program}"),
                    severity: Severity::Low,
                    members: Members::Classes(&classes),
                    cells_per_member: 0,
                },
                || Draft {
                    title: text(format!(
                        "{data} data on {provider_name} services ({services}) whose {program_name} scope is unknown: the catalog has no {program_name} scope list from {provider_name}"
                    )),
                    fix: text(format!(
                        "read the {program_name} scope list {provider_name} publishes for {services}; move the data off any service not on it, and record the list in a catalog overlay (`compliance_scope:` and `programs:`)"
                    )),
                    control: None,
                },
                [],
            );
        }
    }
}

/// `phi`, `phi and health`, `a, b and c`, each in backticks.
fn list(items: &BTreeSet<String>) -> String {
    let v: Vec<String> = items.iter().map(|s| format!("`{s}`")).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}
