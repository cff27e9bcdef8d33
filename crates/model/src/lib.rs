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
mod input;
mod intern;
mod inventory;
mod load;
mod origin;
mod span;
mod types;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use diag::{
    Diagnostic, Diagnostics, MAX_SHOWN, Place, SUGGEST_MAX_CANDIDATES, SUGGEST_MAX_LEN, near_miss,
    shorten, suggest, unknown,
};
pub use duration::Duration;
pub use entry::{Entry, Owner, ServiceSource, Source, SourceLocation};
pub use input::{parse_date, parse_timestamp};
pub use intern::{Interner, Sym, Tags};
pub use inventory::{CSV_COLUMNS, MAX_ERRORS_PER_FILE};
pub use load::{
    EstateFiles, LoadOptions, MAX_FILE_BYTES, ROOT_FILES, SNAPSHOT_DIR, estate_files,
    find_estate_root, inside, latest_snapshot, load_path, load_sources, load_sources_with,
    never_estate, snapshots, unknown_field_hint,
};
pub use origin::{Origin, SourceFile, SourceKind};
pub use span::{Loc, Sp};
pub use types::*;
pub use validate::{
    ATTESTATION_HORIZON_YEARS, ID_CHARS, MAX_ID_BYTES, MAX_TEXT_BYTES, Vocabulary, validate,
    validate_at,
};

/// A whole estate, merged from all its files.
#[derive(Debug, Clone, Default)]
pub struct Estate {
    /// The files it was read from, policy files first, then inventory files;
    /// [`Loc::file`] indexes this list.
    pub sources: Vec<SourceFile>,
    pub name: String,
    pub customer: Sp<String>,
    pub settings: Settings,
    /// What the estate offers its own customers, when it is itself a cloud service offering
    /// (FedRAMP packages, OSCAL exports).
    pub offering: Option<Sp<Offering>>,
    pub parties: BTreeMap<String, Sp<Party>>,
    pub services: BTreeMap<String, Sp<CustomService>>,
    pub contracts: Vec<Sp<Contract>>,
    pub assignments: Vec<Sp<Assignment>>,
    pub overrides: Vec<Sp<Override>>,
    pub assets: Vec<Asset>,
    pub evidence: Vec<Sp<Evidence>>,
    pub reviews: Vec<Review>,
    pub incidents: Vec<Sp<Incident>>,
    pub templates: BTreeMap<String, Sp<Template>>,
    pub apply: Vec<Sp<Apply>>,
    pub accepted: Vec<Sp<Acceptance>>,
    /// What the loader left out on purpose (a catalog overlay directory inside the estate
    /// directory), one sentence each, for the user to see as notes.
    pub notes: Vec<String>,
}

impl Estate {
    /// The paths of the files it was read from, in [`Loc::file`] order.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.sources.iter().map(|s| s.path.as_path())
    }
    /// The source a location is in; `None` for [`Loc::UNKNOWN`] (or an index out of range).
    pub fn source(&self, loc: Loc) -> Option<&SourceFile> {
        self.sources.get(loc.file as usize)
    }
    /// Resolves a location to a file path for messages; `None` when the place is unknown.
    pub fn try_place(&self, loc: Loc) -> Option<Place> {
        self.source(loc).map(|s| Place {
            file: s.path.clone(),
            line: loc.line,
            column: loc.column,
        })
    }
    /// Resolves a location to a file path for messages. An unknown place resolves to the
    /// path `(unknown place)` with line 0, never to one of the estate's files.
    pub fn place(&self, loc: Loc) -> Place {
        self.try_place(loc).unwrap_or_else(|| Place {
            file: PathBuf::from("(unknown place)"),
            line: 0,
            column: 0,
        })
    }
    /// Where a location is: a policy file position, an inventory record, or unknown. An
    /// inventory record's `address` is `None` here; [`Estate::asset_origin`] fills it in.
    pub fn origin(&self, loc: Loc) -> Origin {
        let Some(s) = self.source(loc) else {
            return Origin::Unknown;
        };
        match (s.kind, s.record_at(loc.line)) {
            (SourceKind::Policy, _) | (_, None) => Origin::File {
                path: s.path.clone(),
                line: loc.line,
                column: loc.column,
            },
            (_, Some(record)) if loc.line > 0 => Origin::Record {
                source: s.path.clone(),
                record,
                line: loc.line,
                address: None,
            },
            _ => Origin::File {
                path: s.path.clone(),
                line: 0,
                column: 0,
            },
        }
    }
    /// Where an asset was found, with its external id as the record's address.
    pub fn asset_origin(&self, asset: &Asset) -> Origin {
        match self.origin(asset.id.loc) {
            Origin::Record {
                source,
                record,
                line,
                ..
            } => Origin::Record {
                source,
                record,
                line,
                address: asset.external_id.clone(),
            },
            o => o,
        }
    }
    /// `file:line` for a location in a policy file, `file:line (record N)` for an inventory
    /// record, just `file` when the line is not known, `(unknown place)` when nothing is; as
    /// shown in a cell's basis.
    pub fn cite(&self, loc: Loc) -> String {
        self.origin(loc).to_string()
    }
}

/// The JSON Schema of one estate file, for editors (`demarc schema`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(EstateDoc)).expect("schema serialises")
}
