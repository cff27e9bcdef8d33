//! OSCAL (JSON): SSP, component definitions and control mappings out; leveraged and
//! leveraging SSPs in.

use demarc_catalog::Catalog;
use demarc_compliance::Library;
use demarc_engine::Resolution;

use crate::{ExchangeError, Imported, not_built};

/// A System Security Plan (OSCAL 1.1.3 JSON) for the estate.
pub fn export_ssp(_res: &Resolution, _lib: &Library) -> Result<String, ExchangeError> {
    Err(not_built("oscal-ssp export"))
}

/// A component definition per service model (OSCAL 1.1.3 JSON).
pub fn export_component(_res: &Resolution) -> Result<String, ExchangeError> {
    Err(not_built("oscal-component export"))
}

/// demarc's control → framework mappings in the OSCAL 1.2 mapping model.
pub fn export_mapping(_catalog: &Catalog, _lib: &Library) -> Result<String, ExchangeError> {
    Err(not_built("oscal-mapping export"))
}

/// A provider's leveraged SSP (with `export.provided` / `export.responsibilities`) becomes a
/// catalog overlay; a leveraging SSP is reported as what it inherits and satisfies.
pub fn import(name: &str, _json: &str) -> Result<Imported, ExchangeError> {
    Err(not_built(name))
}
