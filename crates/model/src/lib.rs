//! The demarc estate model: the YAML a team keeps in git to say who is responsible for what.
//!
//! This crate reads an estate (one file or a directory of files merged together), keeps the
//! file, line and column of every value that can be wrong, and checks every cross-reference
//! against the built-in catalog's vocabulary. It knows nothing about how responsibility is
//! resolved; that is `demarc-engine`.
//!
//! ```
//! use demarc_model::load_sources;
//! let estate = load_sources(vec![(
//!     "estate.yaml".into(),
//!     "version: 1\nestate: demo\ncustomer: acme\nparties:\n  acme: {kind: customer, name: Acme}\n".into(),
//! )]).unwrap();
//! assert_eq!(estate.name, "demo");
//! ```

mod diag;
mod duration;
mod entry;
mod intern;
mod load;
mod span;
mod types;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use diag::{Diagnostic, Diagnostics, Place, suggest, unknown};
pub use duration::Duration;
pub use entry::{Entry, Owner, ServiceSource, Source, SourceLocation};
pub use intern::{Sym, Tags};
pub use load::{MAX_FILE_BYTES, load_path, load_sources};
pub use span::{Loc, Sp};
pub use types::*;
pub use validate::{Vocabulary, validate};

/// A whole estate, merged from all its files.
#[derive(Debug, Clone, Default)]
pub struct Estate {
    /// The files it was read from; [`Loc::file`] indexes this list.
    pub files: Vec<PathBuf>,
    pub name: String,
    pub customer: Sp<String>,
    pub settings: Settings,
    pub parties: BTreeMap<String, Sp<Party>>,
    pub services: BTreeMap<String, Sp<CustomService>>,
    pub contracts: Vec<Sp<Contract>>,
    pub assignments: Vec<Sp<Assignment>>,
    pub overrides: Vec<Sp<Override>>,
    pub assets: Vec<Asset>,
    pub evidence: Vec<Sp<Evidence>>,
    pub reviews: Vec<Review>,
}

impl Estate {
    /// Resolves a location to a file path for messages.
    pub fn place(&self, loc: Loc) -> Place {
        Place {
            file: self
                .files
                .get(loc.file as usize)
                .cloned()
                .unwrap_or_else(|| PathBuf::from("<estate>")),
            line: loc.line,
            column: loc.column,
        }
    }
    /// `file:line` for a location, as shown in a cell's basis.
    pub fn cite(&self, loc: Loc) -> String {
        let p = self.place(loc);
        format!("{}:{}", p.file.display(), p.line)
    }
}

/// The JSON Schema of one estate file, for editors (`demarc schema`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(EstateDoc)).expect("schema serialises")
}
