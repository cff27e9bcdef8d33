//! The built-in catalog: the five duties, the layers of the stack, the controls (with IDs in
//! NIST SP 800-53, ISO 27001, SOC 2, PCI DSS, HIPAA and CIS v8) and the service models that say,
//! per layer and control, where the provider's responsibility ends and the customer's begins.
//!
//! The catalog is data (`data/*.yaml`, embedded at build time); every service names the public
//! provider document it follows. [`Catalog::responsibility`] answers "who owns this duty of this
//! control on this service, according to the provider", most specific entry first.
//!
//! ```
//! use demarc_catalog::{Catalog, Owner};
//! use demarc_model::Duty;
//! let cat = Catalog::builtin();
//! let ec2 = cat.service("aws:ec2").unwrap();
//! let found = cat.responsibility(&ec2.model, Some(ec2), "os-patching", Duty::Patch).unwrap();
//! assert_eq!(found.owner, Owner::Customer);
//! ```

mod builder;
mod catalog;
mod compact;
mod data;
mod entry;
mod ids;
mod types;

pub use builder::{CatalogBuilder, MAX_OVERLAY_BYTES, for_estate, load_overlay_dir};
pub use catalog::{Catalog, EntryLevel, Found};
pub use demarc_model::{Owner, ServiceSource, Source, SourceLocation};
pub use entry::{Decision, Entry, Feature};
pub use ids::{
    ControlId, FrameworkId, IdScheme, LayerId, Mapping, ModelId, Relation, RequirementId,
    ServiceId, nist_800_53_label, normalise_nist_800_53,
};
pub use types::*;

/// The built-in catalog's YAML files, `(path under data/, text)`: what `build.rs` validated and
/// compiled into the embedded form that [`Catalog::builtin`] loads.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    data::FILES
}

/// The built-in tool check → control tables, `(path under data/, YAML text)`, e.g.
/// `checks/prowler.yaml`. They are not part of the catalog that [`Catalog::builtin`] loads
/// (start-up stays flat); `demarc-posture` parses them when a findings command needs them and
/// its tests check every control id against the catalog.
pub fn check_tables() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "checks/prowler.yaml",
            include_str!("../data/checks/prowler.yaml"),
        ),
        (
            "checks/checkov.yaml",
            include_str!("../data/checks/checkov.yaml"),
        ),
    ]
}
