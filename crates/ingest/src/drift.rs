//! Drift facts: the estate against its latest inventory snapshot, and that snapshot against
//! the one before. The engine turns them into gaps ([`demarc_engine::Drift`], DM021–DM025).
//!
//! - **undeclared** (DM021): an asset of the latest snapshot that no estate file declares.
//! - **missing** (DM022): a declared asset absent from the latest snapshot, when discovery is
//!   expected to see it: it has an `external_id`, or the previous snapshot had it.
//! - **unmapped** (DM023): resource types no catalog service lists, from the manifest.
//! - **changed** (DM024): an asset whose service, env or data class changed between the two
//!   snapshots (env and data class read from the tags `env`/`environment`/`stage` and
//!   `data`/`data-class`/`data_classification`/`classification`, any case).
//! - **new services** (DM025): a service whose earliest `first_seen` in the latest snapshot is
//!   after the latest review: a review is due.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use demarc_engine::DriftFacts;
use demarc_model::Estate;
use serde_json::Value;

use crate::{IngestV1, ResourceV1, for_each_line, manifest, sidecar};

const ENV_TAGS: [&str; 3] = ["env", "environment", "stage"];
const DATA_TAGS: [&str; 5] = [
    "data",
    "data-class",
    "data_class",
    "data_classification",
    "classification",
];

fn tag(tags: &BTreeMap<String, String>, keys: &[&str]) -> String {
    tags.iter()
        .find(|(k, _)| keys.iter().any(|w| k.eq_ignore_ascii_case(w)))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Per asset: (service, env, data) from a snapshot's sidecar.
fn facets(snapshot: &Path) -> Result<HashMap<String, [String; 3]>, String> {
    let mut out = HashMap::new();
    for_each_line(&sidecar(snapshot), |v| {
        if let Ok(r) = serde_json::from_value::<ResourceV1>(v) {
            out.entry(r.asset.clone()).or_insert([
                r.service.clone().unwrap_or_default(),
                tag(&r.tags, &ENV_TAGS),
                tag(&r.tags, &DATA_TAGS),
            ]);
        }
    })?;
    Ok(out)
}

/// The drift facts of the estate directory `dir`, whose estate `estate` was loaded with its
/// latest snapshot. `None` when it has no snapshot.
pub fn facts(dir: &Path, estate: &Estate) -> Result<Option<(DriftFacts, Option<String>)>, String> {
    let snaps = demarc_model::snapshots(dir);
    let Some(latest) = snaps.last() else {
        return Ok(None);
    };
    let prev = snaps.len().checked_sub(2).map(|i| &snaps[i]);
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // The latest snapshot's rows: id → (service, first seen).
    let mut rows: BTreeMap<String, (String, Option<NaiveDate>)> = BTreeMap::new();
    for_each_line(latest, |v| {
        if let Some(id) = v.get("id").and_then(Value::as_str) {
            let service = v.get("service").and_then(Value::as_str).unwrap_or_default();
            let first = v
                .get("first_seen")
                .and_then(Value::as_str)
                .and_then(|d| d.parse().ok());
            rows.insert(id.to_string(), (service.to_string(), first));
        }
    })?;
    let mut prev_ids: HashSet<String> = HashSet::new();
    if let Some(p) = prev {
        for_each_line(p, |v| {
            if let Some(id) = v.get("id").and_then(Value::as_str) {
                prev_ids.insert(id.to_string());
            }
        })?;
    }
    let mut facts = DriftFacts {
        snapshot: name(latest),
        ..DriftFacts::default()
    };
    for a in &estate.assets {
        let declared = !estate
            .source(a.id.loc)
            .is_some_and(|s| s.kind.is_inventory());
        let id = &a.id.value;
        let present = rows.contains_key(id);
        if present && !declared {
            let from_snapshot = estate
                .source(a.id.loc)
                .is_some_and(|s| s.path() == latest.as_path());
            if from_snapshot {
                facts.undeclared.push(id.clone());
            }
        }
        if declared && !present && (a.external_id.is_some() || prev_ids.contains(id)) {
            facts.missing.push(id.clone());
        }
    }
    if let Ok(text) = std::fs::read_to_string(manifest(latest))
        && let Ok(m) = serde_json::from_str::<IngestV1>(&text)
    {
        for (key, count) in m.unmapped {
            let (format, ty) = key.split_once(':').unwrap_or(("", &key));
            facts
                .unmapped
                .push((format.to_string(), ty.to_string(), count));
        }
    }
    if let Some(p) = prev {
        let before = facets(p)?;
        let after = facets(latest)?;
        let mut ids: Vec<&String> = after.keys().filter(|k| before.contains_key(*k)).collect();
        ids.sort();
        for id in ids {
            let (b, a) = (&before[id], &after[id]);
            for (i, field) in ["service", "env", "data class"].iter().enumerate() {
                if b[i] != a[i] {
                    facts
                        .changed
                        .push((id.clone(), field.to_string(), b[i].clone(), a[i].clone()));
                }
            }
        }
    }
    if let Some(review) = estate.reviews.iter().map(|r| r.date).max() {
        let mut services: BTreeMap<&str, (NaiveDate, Vec<String>)> = BTreeMap::new();
        for (id, (service, first)) in &rows {
            let Some(first) = first else { continue };
            let e = services
                .entry(service.as_str())
                .or_insert((*first, Vec::new()));
            e.0 = e.0.min(*first);
            e.1.push(id.clone());
        }
        for (service, (first, ids)) in services {
            if first > review {
                facts.new_services.push((service.to_string(), first, ids));
            }
        }
    }
    Ok(Some((facts, prev.map(|p| name(p)))))
}
