//! CSA CAIQ v4.0 / v4.1 (and CAIQ-Lite) workbooks supplied by the user: SSRM ownership per
//! CCM control into a catalog overlay. No CSA content is shipped.

use crate::{ExchangeError, Imported, not_built};

pub fn import(name: &str, _bytes: &[u8]) -> Result<Imported, ExchangeError> {
    Err(not_built(name))
}
