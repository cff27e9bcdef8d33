//! The embedded data: the YAML files listed by `build.rs`, and the catalog it built from them
//! and validated, in its compact form.

include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));

/// The validated built-in catalog as JSON (see `crate::compact`).
pub const COMPACT: &str = include_str!(concat!(env!("OUT_DIR"), "/catalog.json"));
/// Where each built-in definition was written, as JSON.
pub const LOCATIONS: &str = include_str!(concat!(env!("OUT_DIR"), "/catalog-locations.json"));
