//! FedRAMP 20x package documents (Consolidated Rules 2026): the Certification Package
//! Overview and the Security Decision Record, validated against the dated schemas.

use demarc_compliance::Library;
use demarc_engine::Resolution;

use crate::{ExchangeError, not_built};

pub fn export_cpo(_res: &Resolution, _lib: &Library) -> Result<String, ExchangeError> {
    Err(not_built("fedramp-cpo export"))
}

pub fn export_sdr(_res: &Resolution, _lib: &Library) -> Result<String, ExchangeError> {
    Err(not_built("fedramp-sdr export"))
}
