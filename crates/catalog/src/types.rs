//! The catalog's data types, as written in `data/*.yaml` (see docs/catalog-format.md).

use std::collections::BTreeMap;

use std::path::PathBuf;

use demarc_model::{Duty, Source};

use crate::entry::Entry;
use serde::{Deserialize, Serialize};

use crate::ids::{FrameworkId, IdScheme, Mapping};

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
    /// A host performs this layer by default for a party that `runs_on` it (the physical
    /// layers). See [`crate::Catalog::hosting_layers`].
    pub hosting: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameworkKind {
    Mapping,
    Attestation,
    Both,
}

/// What an attestation against a framework covers (`attests:` in frameworks.yaml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttestScope {
    /// Every control (`attests: all`, e.g. CSA STAR).
    All,
    /// The controls that map to another framework (`attests: nist-800-53` for FedRAMP).
    Framework(FrameworkId),
    /// The controls that map to this framework itself (no `attests:`).
    Own,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub publisher: String,
    pub version: String,
    pub url: String,
    pub kind: FrameworkKind,
    pub license_note: Option<String>,
    /// How the framework's requirement ids are written and normalised.
    pub id_scheme: IdScheme,
    /// What an attestation against it covers.
    pub attests: AttestScope,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Control {
    pub id: String,
    pub name: String,
    pub layer: String,
    pub duties: Vec<Duty>,
    pub description: String,
    pub evidence: bool,
    /// Whether the control is carried out once for the whole organisation (training, vendor
    /// risk, incident exercises: `scope: organisation`) rather than per asset (the default).
    /// Evidence for an organisation-level control is org-wide, never per asset.
    #[serde(default)]
    pub organisation: bool,
    /// The duties the customer can always act on (`customer_actionable:`): for these, a
    /// layer entry never puts the provider on the cell; only an entry for the control does.
    pub customer_actionable: Vec<Duty>,
    /// Generic models this control applies to (empty: every model whose layers include it).
    /// A named service that lists the control under `controls:` always has it.
    pub applies_to: Vec<String>,
    /// Requirement ids per mapping framework, normalised at load. A framework listed with no
    /// ids means none of its requirements addresses the control.
    pub mappings: BTreeMap<FrameworkId, Vec<Mapping>>,
}

impl Control {
    /// True when the customer can always act on `duty` of this control, so a provider-owned
    /// or shared layer does not decide it (see [`crate::Catalog::responsibility`]).
    pub fn is_customer_actionable(&self, duty: Duty) -> bool {
        self.customer_actionable.contains(&duty)
    }
    /// True when the control maps to at least one requirement of `framework`.
    pub fn maps_to(&self, framework: &str) -> bool {
        self.mappings.get(framework).is_some_and(|m| !m.is_empty())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub description: String,
    pub source: Source,
    pub layers: BTreeMap<String, Entry>,
    pub controls: BTreeMap<String, Entry>,
}

/// Where a catalog entry was defined, so an explanation can say where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogOrigin {
    /// Compiled into demarc (`crates/catalog/data/`).
    #[default]
    Builtin,
    /// An overlay file loaded at run time.
    Overlay(PathBuf),
    /// A service the estate defines under `services:`, in this estate file.
    Estate(PathBuf),
}

impl std::fmt::Display for CatalogOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CatalogOrigin::Builtin => f.write_str("built-in catalog"),
            CatalogOrigin::Overlay(p) => write!(f, "catalog overlay {}", p.display()),
            CatalogOrigin::Estate(p) => write!(f, "estate file {}", p.display()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub model: String,
    pub source: Source,
    pub notes: Option<String>,
    pub layers: BTreeMap<String, Entry>,
    pub controls: BTreeMap<String, Entry>,
    /// From the file's `provider:` (an estate service's `provider:`; empty when it names none).
    pub provider: String,
    /// Built-in, an overlay file, or the estate.
    pub origin: CatalogOrigin,
    /// The resource types that stand for this service in the formats ingest reads, per
    /// format (Terraform, CloudFormation/AWS Config, Azure Resource Manager, Google Cloud
    /// Asset Inventory, Kubernetes kinds).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_types: BTreeMap<ResourceFormat, Vec<String>>,
    /// The modes an asset can select with `mode:`, where the split changes with a setting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<ServiceMode>,
    /// Set on a mode's variant of the service (id `<service>#<mode>`): the mode's id. A variant
    /// holds the service's entries with the mode's own entries on top.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The compliance programs (`programs.yaml` ids) the provider has this service in scope
    /// for (`programs:`). A mode's variant has its service's programs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
    /// The provider's scope list per program, from its file's `compliance_scope:` block. For a
    /// program with a list here, a service that does not name it is out of scope per that list;
    /// for a program without one, its scope is unknown. See [`crate::Catalog::program_scope`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub program_sources: BTreeMap<String, Source>,
}

/// A compliance program a provider keeps a list of in-scope services for (`programs.yaml`):
/// HIPAA eligibility, PCI DSS, SOC 2, ISO 27001, a FedRAMP level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub id: String,
    pub name: String,
    /// The framework (`frameworks.yaml` id) the program assesses against.
    pub framework: String,
    /// The level within the framework, where it has levels (FedRAMP `moderate`, `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    pub description: String,
}

/// Whether a service is in a provider's scope for a program: see
/// [`crate::Catalog::program_scope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramScope<'a> {
    /// The provider's scope list for the program names the service.
    In(&'a Source),
    /// The provider has a scope list for the program and the service is not on it.
    Out(&'a Source),
    /// The catalog has no scope list for the program from the service's provider.
    Unknown,
}

/// A format in which inventories name resource types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceFormat {
    /// Terraform resource types (`aws_s3_bucket`, `azurerm_storage_account`, `google_storage_bucket`).
    Terraform,
    /// CloudFormation and AWS Config resource types (`AWS::S3::Bucket`).
    Cloudformation,
    /// Azure Resource Manager types (`Microsoft.Storage/storageAccounts`).
    Arm,
    /// Google Cloud Asset Inventory types (`storage.googleapis.com/Bucket`).
    Cai,
    /// Kubernetes kinds (`Deployment`).
    Kubernetes,
}

impl ResourceFormat {
    pub const ALL: [ResourceFormat; 5] = [
        ResourceFormat::Terraform,
        ResourceFormat::Cloudformation,
        ResourceFormat::Arm,
        ResourceFormat::Cai,
        ResourceFormat::Kubernetes,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceFormat::Terraform => "terraform",
            ResourceFormat::Cloudformation => "cloudformation",
            ResourceFormat::Arm => "arm",
            ResourceFormat::Cai => "cai",
            ResourceFormat::Kubernetes => "kubernetes",
        }
    }
}

/// One mode of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceMode {
    pub id: String,
    pub name: String,
    /// The provider's default: an asset without `mode:` gets this mode's entries.
    pub default: bool,
    pub notes: Option<String>,
}

/// A named term with a one-line description (an environment name or a data class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureTerm {
    pub id: String,
    pub description: String,
    /// For a data class: the compliance programs (`programs.yaml` ids) a service holding it
    /// must be in the provider's scope for (`programs:`, e.g. `phi` needs `hipaa`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
}

/// The words that make an asset exposed (`exposure.yaml`): production environment names and
/// the data classes that are regulated or sensitive. Matching is exact and case-sensitive.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Exposure {
    pub production_envs: Vec<ExposureTerm>,
    pub regulated_data: Vec<ExposureTerm>,
    pub sensitive_data: Vec<ExposureTerm>,
}
