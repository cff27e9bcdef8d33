//! The matrix views as an XLSX workbook a GRC analyst can filter, streamed to a file.

use std::path::Path;

use demarc_engine::Resolution;

use crate::{ExchangeError, not_built};

/// Writes the workbook to `path` (the caller renames it into place).
pub fn export_xlsx(_res: &Resolution, _path: &Path) -> Result<(), ExchangeError> {
    Err(not_built("xlsx export"))
}
