//! The catalog's data types, as written in `data/*.yaml` (see docs/catalog-format.md).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use demarc_model::Duty;
use serde::{Deserialize, Serialize};

/// Which side of the demarc a duty falls on, according to the provider's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    Provider,
    Customer,
    Shared,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Provider => "provider",
            Owner::Customer => "customer",
            Owner::Shared => "shared",
        }
    }
}

/// A responsibility entry: who owns it and what each side does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub owner: Owner,
    pub provider: Option<String>,
    pub customer: Option<String>,
    pub duties: BTreeMap<Duty, Owner>,
}

impl Entry {
    pub fn owner_for(&self, duty: Duty) -> Owner {
        self.duties.get(&duty).copied().unwrap_or(self.owner)
    }
    /// A shared entry must say what both sides do; a one-sided entry what that side does.
    pub fn check_texts(&self) -> Result<(), String> {
        let mut owners = vec![self.owner];
        owners.extend(self.duties.values().copied());
        let need_p = owners
            .iter()
            .any(|o| matches!(o, Owner::Provider | Owner::Shared));
        let need_c = owners
            .iter()
            .any(|o| matches!(o, Owner::Customer | Owner::Shared));
        let empty = |t: &Option<String>| t.as_deref().is_none_or(|s| s.trim().is_empty());
        if need_p && empty(&self.provider) {
            return Err("says the provider does something but not what (`provider:` text)".into());
        }
        if need_c && empty(&self.customer) {
            return Err("says the customer does something but not what (`customer:` text)".into());
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Short(Owner),
            Full {
                owner: Owner,
                #[serde(default)]
                provider: Option<String>,
                #[serde(default)]
                customer: Option<String>,
                #[serde(default)]
                duties: BTreeMap<Duty, Owner>,
            },
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Short(owner) => Entry {
                owner,
                provider: None,
                customer: None,
                duties: BTreeMap::new(),
            },
            Raw::Full {
                owner,
                provider,
                customer,
                duties,
            } => Entry {
                owner,
                provider,
                customer,
                duties,
            },
        })
    }
}

/// The public document an entry follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
    pub checked: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DutyInfo {
    pub id: Duty,
    pub name: String,
    pub description: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layer {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameworkKind {
    Mapping,
    Attestation,
    Both,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub publisher: String,
    pub version: String,
    pub url: String,
    pub kind: FrameworkKind,
    #[serde(default)]
    pub license_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub id: String,
    pub name: String,
    pub layer: String,
    pub duties: Vec<Duty>,
    pub description: String,
    #[serde(default)]
    pub evidence: bool,
    /// Generic models this control applies to (empty: every model whose layers include it).
    /// A named service that lists the control under `controls:` always has it.
    #[serde(default)]
    pub applies_to: Vec<String>,
    #[serde(default)]
    pub mappings: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub description: String,
    pub source: Source,
    pub layers: BTreeMap<String, Entry>,
    #[serde(default)]
    pub controls: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub model: String,
    pub source: Source,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub layers: BTreeMap<String, Entry>,
    #[serde(default)]
    pub controls: BTreeMap<String, Entry>,
    /// Filled from the file's `provider:`.
    #[serde(skip_deserializing)]
    pub provider: String,
}

#[derive(Deserialize)]
pub(crate) struct DutiesFile {
    pub duties: Vec<DutyInfo>,
}
#[derive(Deserialize)]
pub(crate) struct LayersFile {
    pub layers: Vec<Layer>,
}
#[derive(Deserialize)]
pub(crate) struct FrameworksFile {
    pub frameworks: Vec<Framework>,
}
#[derive(Deserialize)]
pub(crate) struct ControlsFile {
    pub controls: Vec<Control>,
}
#[derive(Deserialize)]
pub(crate) struct ModelsFile {
    pub models: Vec<Model>,
}
#[derive(Deserialize)]
pub(crate) struct ServicesFile {
    pub provider: String,
    pub provider_name: String,
    pub services: Vec<Service>,
}
