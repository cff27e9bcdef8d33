//! Exchange with the formats auditors, GRC tools and providers use. Exports turn a resolved
//! estate into OSCAL, FedRAMP workbooks and 20x package documents; imports turn a provider's
//! published model (a leveraged OSCAL SSP, a CIS/CRM workbook, a CAIQ) into a catalog overlay
//! that estates use like built-in data.
//!
//! No file system access here: exports return bytes or write to a path the caller chose
//! (workbooks stream to it); imports take bytes. The CLI writes results atomically.

pub mod caiq;
pub mod crm;
pub mod fedramp20x;
pub mod oscal;
pub mod overlay;
pub mod workbook;

/// An error reading or writing an exchange format: the file, where in it (sheet and row, or a
/// JSON path), what was wrong and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeError {
    pub file: String,
    /// `sheet "CRM" row 12`, `$.system-security-plan.control-implementation`, `line 3, column 7`.
    pub at: String,
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if !self.at.is_empty() {
            write!(f, " ({})", self.at)?;
        }
        write!(f, ": {}\n  help: {}", self.message, self.help)
    }
}

impl std::error::Error for ExchangeError {}

impl ExchangeError {
    pub fn new(
        file: &str,
        at: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        ExchangeError {
            file: file.to_string(),
            at: at.into(),
            message: message.into(),
            help: help.into(),
        }
    }
}

/// What an import produced: a catalog overlay (YAML, as `docs/catalog-format.md` describes),
/// a summary for people and `--format json`, and warnings about the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub overlay_yaml: String,
    pub summary: serde_json::Value,
    pub warnings: Vec<String>,
}
