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
        Compact {
            duties: c.duties.clone(),
            layers: c.layers.clone(),
            frameworks: c.frameworks.clone(),
            controls: c.controls.clone(),
            models: c.models.clone(),
            services: c.services.clone(),
            providers: c.providers.clone(),
            hosting_layers: c.hosting_layers().to_vec(),
            exposure: c.exposure().clone(),
            self_operated: c.self_operated_providers().clone(),
        }
    }

    pub fn into_catalog(self) -> Catalog {
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
