//! OSCAL (JSON): SSP, component definitions and control mappings out; leveraged and
//! leveraging SSPs in.
//!
//! Every document is built as a `serde_json::Value`, checked against the NIST schema of its
//! model ([`check::schema_errors`]) and for the references the schema cannot check
//! ([`check::check_references`]) before it is returned: an export that would not validate is
//! an error, never a file. UUIDs are version 5, derived from demarc ids
//! ([`uuid_for`]), so the same estate gives the same UUIDs on every run.

use demarc_catalog::Catalog;
use demarc_compliance::Library;
use demarc_engine::Resolution;
use serde_json::Value;

use crate::{ExchangeError, Imported};

pub mod check;
mod component;
mod import;
mod mapping;
mod ssp;

pub use check::{Model, Problem, References, check_references, schema_errors};
pub use import::{import_with, leveraged_links};

/// The namespace of every UUID demarc writes: UUIDv5 of this URL in the URL namespace.
pub const UUID_NAMESPACE_URL: &str = "https://demarc.dev/ns/oscal";
/// The `ns` of the properties demarc adds.
pub const NS: &str = "https://demarc.dev/ns/oscal";

/// A stable UUID (version 5) for a demarc thing, named by its kind and ids
/// (`["party", "aws"]`, `["provided", "aws", "aws:s3", "ac-2"]`).
pub fn uuid_for(parts: &[&str]) -> String {
    let ns = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, UUID_NAMESPACE_URL.as_bytes());
    uuid::Uuid::new_v5(&ns, parts.join("\u{1f}").as_bytes()).to_string()
}

/// A System Security Plan (OSCAL 1.1.3 JSON) for the estate.
pub fn export_ssp(res: &Resolution, lib: &Library) -> Result<String, ExchangeError> {
    export_ssp_at(res, lib, "moderate")
}

/// The SSP at a FedRAMP baseline (`low`, `moderate`, `high`, `li-saas`), with the FIPS 199
/// impact levels that go with it.
pub fn export_ssp_at(
    res: &Resolution,
    lib: &Library,
    baseline: &str,
) -> Result<String, ExchangeError> {
    let doc = ssp::build(res, lib, baseline)?;
    finish(Model::Ssp, "oscal-ssp export", &doc)
}

/// A component definition per service model (OSCAL 1.1.3 JSON).
pub fn export_component(res: &Resolution) -> Result<String, ExchangeError> {
    let doc = component::build(res)?;
    finish(Model::Component, "oscal-component export", &doc)
}

/// demarc's control → framework mappings in the OSCAL 1.2 mapping model.
pub fn export_mapping(catalog: &Catalog, lib: &Library) -> Result<String, ExchangeError> {
    let doc = mapping::build(catalog, lib);
    finish(Model::Mapping, "oscal-mapping export", &doc)
}

/// A provider's leveraged SSP (with `export.provided` / `export.responsibilities`) becomes a
/// catalog overlay; a leveraging SSP is reported as what it inherits and satisfies.
pub fn import(name: &str, json: &str) -> Result<Imported, ExchangeError> {
    import_with(name, json, &[])
}

/// Checks an exported document and renders it; a document that fails its schema or its
/// references is a defect reported as an error, never written.
fn finish(model: Model, what: &str, doc: &Value) -> Result<String, ExchangeError> {
    if let Some(p) = schema_errors(model, doc, 1).into_iter().next() {
        return Err(ExchangeError::new(
            what,
            p.path,
            format!(
                "the document does not validate against the OSCAL {} schema: {}",
                model.version(),
                p.message
            ),
            "this is a defect in demarc; please report it with the estate that caused it",
        ));
    }
    let refs = check_references(doc, &[]);
    if let Some(p) = refs.errors.iter().chain(&refs.duplicates).next() {
        return Err(ExchangeError::new(
            what,
            p.path.clone(),
            p.message.clone(),
            "this is a defect in demarc; please report it with the estate that caused it",
        ));
    }
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    Ok(s)
}
