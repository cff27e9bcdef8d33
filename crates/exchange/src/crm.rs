//! FedRAMP CIS/CRM workbooks (Appendix J): export from the estate, import a provider's.

use demarc_compliance::{Baseline, Library};
use demarc_engine::Resolution;

use crate::{ExchangeError, Imported, not_built};

/// The Control Implementation Summary and Customer Responsibility Matrix, as XLSX bytes.
pub fn export(
    _res: &Resolution,
    _lib: &Library,
    _baseline: &Baseline,
) -> Result<Vec<u8>, ExchangeError> {
    Err(not_built("crm export"))
}

/// A provider's CIS/CRM workbook becomes a catalog overlay.
pub fn import(name: &str, _bytes: &[u8]) -> Result<Imported, ExchangeError> {
    Err(not_built(name))
}
