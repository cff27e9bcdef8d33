//! The compact form of the built-in catalog: `build.rs` parses and validates the YAML under
//! `data/` with the same [`crate::CatalogBuilder`] that checks overlays, and embeds the result
//! as JSON, so start-up deserialises validated data instead of parsing and checking YAML.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::ids::LayerId;
use crate::types::*;

/// The catalog's data without its indexes.
#[derive(Serialize, Deserialize)]
pub(crate) struct Compact {
    pub duties: Vec<DutyInfo>,
    pub layers: Vec<Layer>,
    pub frameworks: Vec<Framework>,
    pub controls: Vec<Control>,
    pub models: Vec<Model>,
    pub services: Vec<Service>,
    pub providers: BTreeMap<String, String>,
    pub hosting_layers: Vec<LayerId>,
    pub exposure: Exposure,
    pub self_operated: BTreeSet<String>,
    #[serde(default)]
    pub programs: Vec<Program>,
    /// The services' `program_sources`, held once per scope block rather than once per
    /// service (the services carry them empty here).
    #[serde(default)]
    pub program_scopes: Vec<ScopeSet>,
}

/// One file's `compliance_scope:` block and the services it applies to.
#[derive(Serialize, Deserialize)]
pub(crate) struct ScopeSet {
    pub sources: BTreeMap<String, demarc_model::Source>,
    pub services: Vec<String>,
}

/// Where one definition of the built-in data was written, so an overlay that redefines it is
/// told `already defined at <builtin>/controls.yaml:12:5`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Located {
    /// `layer`, `framework`, `control`, `model`, `service`, `provider`, or the exposure list.
    pub kind: String,
    pub id: String,
    /// The file's name under `data/`.
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Compact {
    /// The compact form of a catalog (what build.rs embeds).
    #[allow(dead_code)] // used by build.rs
    pub fn of(c: &Catalog) -> Compact {
        let mut program_scopes: Vec<ScopeSet> = Vec::new();
        let services = c
            .services
            .iter()
            .map(|s| {
                let mut s = s.clone();
                let sources = std::mem::take(&mut s.program_sources);
                if !sources.is_empty() {
                    match program_scopes.iter_mut().find(|x| x.sources == sources) {
                        Some(x) => x.services.push(s.id.clone()),
                        None => program_scopes.push(ScopeSet {
                            sources,
                            services: vec![s.id.clone()],
                        }),
                    }
                }
                s
            })
            .collect();
        Compact {
            duties: c.duties.clone(),
            layers: c.layers.clone(),
            frameworks: c.frameworks.clone(),
            controls: c.controls.clone(),
            models: c.models.clone(),
            services,
            providers: c.providers.clone(),
            hosting_layers: c.hosting_layers().to_vec(),
            exposure: c.exposure().clone(),
            self_operated: c.self_operated_providers().clone(),
            programs: c.programs().to_vec(),
            program_scopes,
        }
    }

    pub fn into_catalog(mut self) -> Catalog {
        if !self.program_scopes.is_empty() {
            let set_of: BTreeMap<&str, usize> = self
                .program_scopes
                .iter()
                .enumerate()
                .flat_map(|(i, x)| x.services.iter().map(move |s| (s.as_str(), i)))
                .collect();
            for s in &mut self.services {
                if let Some(&i) = set_of.get(s.id.as_str()) {
                    s.program_sources = self.program_scopes[i].sources.clone();
                }
            }
        }
        Catalog::assemble(
            self.duties,
            self.layers,
            self.frameworks,
            self.controls,
            self.models,
            self.services,
            self.providers,
            self.hosting_layers,
            self.exposure,
            self.self_operated,
            self.programs,
        )
    }
}

/// The embedded, validated built-in catalog.
pub(crate) fn builtin_catalog() -> Catalog {
    let c: Compact = serde_json::from_str(crate::data::COMPACT)
        .unwrap_or_else(|e| panic!("the embedded catalog does not deserialise: {e}"));
    c.into_catalog()
}

/// Where the built-in definitions were written.
pub(crate) fn builtin_locations() -> Vec<Located> {
    serde_json::from_str(crate::data::LOCATIONS)
        .unwrap_or_else(|e| panic!("the embedded catalog locations do not deserialise: {e}"))
}
