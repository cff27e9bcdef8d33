//! The catalog's responsibility split as an OSCAL 1.1.3 component definition: one component
//! per generic service model the estate uses and one per named catalog service, each with
//! the SP 800-53 requirements its controls map to and what the provider and the customer do.

use std::collections::{BTreeMap, BTreeSet};

use demarc_catalog::{Catalog, Service};
use demarc_engine::Resolution;
use demarc_model::Owner;
use serde_json::{Value, json};

use super::{NS, uuid_for};
use crate::ExchangeError;

pub(super) const NIST_CATALOG: &str = "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json";

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "ns": NS, "value": value.into()})
}

fn text(s: &str) -> String {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() { "-".into() } else { t }
}

#[derive(Default)]
struct Req {
    owners: BTreeSet<Owner>,
    provider: Vec<String>,
    customer: Vec<String>,
    controls: Vec<String>,
}

/// Requirement (base SP 800-53 id) → what the model (and service) says for the controls
/// mapped to it.
fn requirements(
    catalog: &Catalog,
    model: &str,
    service: Option<&Service>,
) -> BTreeMap<String, Req> {
    let mut out: BTreeMap<String, Req> = BTreeMap::new();
    for c in &catalog.controls {
        let Some(maps) = c.mappings.get("nist-800-53") else {
            continue;
        };
        let mut owners = BTreeSet::new();
        let (mut p, mut cu) = (None, None);
        for d in &c.duties {
            if let Some(f) = catalog.responsibility(model, service, &c.id, *d) {
                owners.insert(f.owner);
                if f.owner != Owner::Customer && p.is_none() {
                    p = f.entry.provider.clone();
                }
                if f.owner != Owner::Provider && cu.is_none() {
                    cu = f.entry.customer.clone();
                }
            }
        }
        if owners.is_empty() {
            continue;
        }
        for m in maps {
            let id = m.requirement.as_str();
            let base = id.split_once("_smt").map_or(id, |(b, _)| b).to_string();
            let r = out.entry(base).or_default();
            r.owners.extend(owners.iter().copied());
            if !r.controls.contains(&c.id) {
                r.controls.push(c.id.clone());
                if let Some(t) = &p {
                    r.provider.push(format!("{}: {}", c.name, t.trim()));
                }
                if let Some(t) = &cu {
                    r.customer.push(format!("{}: {}", c.name, t.trim()));
                }
            }
        }
    }
    out
}

fn component(
    catalog: &Catalog,
    key: &str,
    title: String,
    description: String,
    model: &str,
    service: Option<&Service>,
) -> Value {
    let reqs = requirements(catalog, model, service);
    let irs: Vec<Value> = reqs
        .iter()
        .map(|(id, r)| {
            let owner = if r.owners.len() == 1 {
                r.owners.iter().next().map_or("shared", |o| o.as_str())
            } else {
                "shared"
            };
            let mut parts = Vec::new();
            if !r.provider.is_empty() {
                parts.push(format!("Provider: {}", r.provider.join(" | ")));
            }
            if !r.customer.is_empty() {
                parts.push(format!("Customer: {}", r.customer.join(" | ")));
            }
            if parts.is_empty() {
                parts.push(format!("The {owner} carries it."));
            }
            let mut roles = Vec::new();
            if owner != "customer" {
                roles.push(json!({"role-id": "provider"}));
            }
            if owner != "provider" {
                roles.push(json!({"role-id": "customer"}));
            }
            let mut props = vec![prop("responsibility", owner)];
            for c in &r.controls {
                props.push(prop("demarc-control", c.clone()));
            }
            json!({
                "uuid": uuid_for(&["component-requirement", key, id]),
                "control-id": id,
                "description": text(&parts.join("\n\n")),
                "props": props,
                "responsible-roles": roles,
            })
        })
        .collect();
    let mut c = json!({
        "uuid": uuid_for(&["component-definition-component", key]),
        "type": "service",
        "title": text(&title),
        "description": text(&description),
        "props": [prop("service-model", model)],
        "responsible-roles": [{"role-id": "provider"}],
    });
    if !irs.is_empty() {
        c["control-implementations"] = json!([{
            "uuid": uuid_for(&["control-implementation", key]),
            "source": NIST_CATALOG,
            "description": text(&format!("The SP 800-53 requirements demarc's controls map to, with the split demarc's catalog records for {title}.")),
            "implemented-requirements": irs,
        }]);
    }
    c
}

pub(super) fn build(res: &Resolution) -> Result<Value, ExchangeError> {
    let catalog = res.catalog();
    let mut models: BTreeSet<String> = BTreeSet::new();
    let mut services: BTreeSet<String> = BTreeSet::new();
    for a in res.assets() {
        let info = res.service_of(a);
        if let Some(m) = info.model {
            models.insert(m.to_string());
        }
        let s = info
            .service
            .split_once('#')
            .map_or(info.service, |(s, _)| s);
        if catalog.service(s).is_some() {
            services.insert(s.to_string());
        }
    }
    let mut components = Vec::new();
    for m in &models {
        let Some(model) = catalog.model(m) else {
            continue;
        };
        components.push(component(
            catalog,
            &format!("model:{m}"),
            format!("{} (generic {m} model)", model.name),
            format!(
                "{} The split follows {}.",
                model.description, model.source.title
            ),
            m,
            None,
        ));
    }
    for s in &services {
        let Some(svc) = catalog.service(s) else {
            continue;
        };
        let pname = catalog
            .providers
            .get(&svc.provider)
            .cloned()
            .unwrap_or_else(|| svc.provider.clone());
        let mut c = component(
            catalog,
            &format!("service:{s}"),
            format!("{} ({s})", svc.name),
            format!(
                "{} from {pname}, a {} service; the split follows {}.{}",
                svc.name,
                svc.model,
                svc.source.title,
                svc.notes
                    .as_deref()
                    .map(|n| format!(" {}", n.trim()))
                    .unwrap_or_default()
            ),
            &svc.model,
            Some(svc),
        );
        if let Some(p) = c["props"].as_array_mut() {
            p.push(prop("service-id", s.clone()));
            p.push(prop("provider", svc.provider.clone()));
        }
        components.push(c);
    }
    let as_of = res.as_of();
    let mut doc = json!({
        "component-definition": {
            "uuid": uuid_for(&["component-definition", &res.estate().name]),
            "metadata": {
                "title": text(&format!("Service responsibility splits used by {}", res.estate().name)),
                "last-modified": format!("{as_of}T00:00:00Z"),
                "version": as_of.to_string(),
                "oscal-version": "1.1.3",
                "props": [prop("generator", "demarc")],
                "roles": [
                    {"id": "provider", "title": "Cloud Service Provider"},
                    {"id": "customer", "title": "Cloud Customer"},
                ],
            },
        }
    });
    if !components.is_empty() {
        doc["component-definition"]["components"] = json!(components);
    }
    Ok(doc)
}
