//! demarc's control → framework mappings as an OSCAL 1.2.3 mapping collection: one mapping
//! per framework, one map entry per (control, requirement) with its IR 8477 relationship.

use std::collections::BTreeSet;

use demarc_catalog::{Catalog, Relation};
use demarc_compliance::Library;
use serde_json::{Value, json};

use super::{NS, uuid_for};

/// Where demarc's controls are described (the source resource of every mapping).
const DEMARC_CONTROLS: &str = "https://demarc.dev/catalog/controls";

fn relationship(r: Relation) -> &'static str {
    match r {
        Relation::Equivalent => "equivalent-to",
        Relation::Subset => "subset-of",
        Relation::Superset => "superset-of",
        Relation::Intersects => "intersects-with",
    }
}

pub(super) fn build(catalog: &Catalog, lib: &Library) -> Value {
    let mut fws: BTreeSet<String> = BTreeSet::new();
    for c in &catalog.controls {
        fws.extend(c.mappings.keys().map(|f| f.as_str().to_string()));
    }
    let mut mappings = Vec::new();
    for fw in &fws {
        let info = catalog.framework(fw);
        let href = match fw.as_str() {
            "nist-800-53" => super::component::NIST_CATALOG.to_string(),
            _ => info
                .map(|f| f.url.clone())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| format!("{DEMARC_CONTROLS}#{fw}")),
        };
        let mut maps = Vec::new();
        let mut mapped: BTreeSet<String> = BTreeSet::new();
        for c in &catalog.controls {
            for m in c.mappings.get(fw.as_str()).into_iter().flatten() {
                let id = m.requirement.as_str();
                let statement = fw == "nist-800-53" && id.contains("_smt");
                mapped.insert(id.split_once("_smt").map_or(id, |(b, _)| b).to_string());
                maps.push(json!({
                    "uuid": uuid_for(&["map", &c.id, fw, id]),
                    "relationship": relationship(m.relation),
                    "sources": [{"type": "control", "id-ref": c.id}],
                    "targets": [{"type": if statement { "statement" } else { "control" }, "id-ref": id}],
                }));
            }
        }
        if maps.is_empty() {
            continue;
        }
        let title = info
            .map(|f| format!("{} {}", f.name, f.version))
            .unwrap_or_else(|| fw.clone());
        let mut mapping = json!({
            "uuid": uuid_for(&["mapping", fw]),
            "source-resource": {"type": "catalog", "href": DEMARC_CONTROLS,
                "props": [{"name": "catalog", "ns": NS, "value": "demarc-controls"}]},
            "target-resource": {"type": "catalog", "href": href,
                "props": [{"name": "framework", "ns": NS, "value": fw}],
                "remarks": title},
            "maps": maps,
        });
        if fw == "nist-800-53" {
            let unmapped: Vec<&str> = lib
                .nist
                .controls
                .iter()
                .map(|c| c.id.as_str())
                .filter(|id| !mapped.contains(*id))
                .collect();
            if !unmapped.is_empty() {
                mapping["target-gap-summary"] = json!({
                    "uuid": uuid_for(&["target-gap-summary", fw]),
                    "unmapped-controls": [{"with-ids": unmapped}],
                });
            }
        }
        mappings.push(mapping);
    }
    let checked = catalog
        .services
        .iter()
        .map(|s| s.source.checked)
        .chain(catalog.models.iter().map(|m| m.source.checked))
        .max()
        .map(|d| d.to_string())
        .unwrap_or_else(|| "2026-01-01".into());
    json!({
        "mapping-collection": {
            "uuid": uuid_for(&["mapping-collection"]),
            "metadata": {
                "title": "demarc controls mapped to framework requirements",
                "last-modified": format!("{checked}T00:00:00Z"),
                "version": env!("CARGO_PKG_VERSION"),
                "oscal-version": "1.2.3",
                "props": [{"name": "generator", "ns": NS, "value": "demarc"}],
            },
            "provenance": {
                "method": "human",
                "matching-rationale": "semantic",
                "status": "complete",
                "mapping-description": "Each demarc control (a unit of cloud responsibility) is mapped by hand to the framework requirements it helps meet, with the NIST IR 8477 set-theory relationship read \"the control is <relationship> the requirement\". Requirement ids only; no framework text is reproduced.",
            },
            "mappings": mappings,
        }
    })
}
