//! Where a fact came from: a policy file a person wrote, a row of an inventory file a tool
//! exported, the built-in catalog, or (later) an API call.
//!
//! Values keep a compact [`Loc`](crate::Loc) (three `u32`s); the estate's list of
//! [`SourceFile`]s says what each file index is, so [`crate::Estate::origin`] can turn a `Loc`
//! back into a truthful [`Origin`].

use std::fmt;
use std::path::{Path, PathBuf};

/// The place a fact comes from, resolved for people and for machine-readable output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A hand-written policy file (YAML or JSON estate file). `line`/`column` are 1-based;
    /// 0 means the fact concerns the whole file.
    File {
        path: PathBuf,
        line: u32,
        column: u32,
    },
    /// A row of an inventory file: `record` is the JSONL line number or the CSV record number
    /// (1 = the first row after the header); `line` is the line it starts on. `address` is
    /// the asset's external id (ARN, Terraform address, …) when known.
    Record {
        source: PathBuf,
        record: u64,
        line: u32,
        address: Option<String>,
    },
    /// Reserved for the server: a fact submitted through the API by `actor`.
    Api { actor: String },
    /// Built-in catalog data, e.g. `catalog service aws:ec2`.
    Builtin { what: String },
    /// Nobody recorded where it came from.
    Unknown,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line: 0, .. } => write!(f, "{}", path.display()),
            Origin::File { path, line, .. } => write!(f, "{}:{line}", path.display()),
            Origin::Record {
                source,
                record,
                line,
                address,
            } => {
                if *line == 0 {
                    write!(f, "{} (record {record})", source.display())?;
                } else {
                    write!(f, "{}:{line} (record {record})", source.display())?;
                }
                if let Some(a) = address {
                    write!(f, " `{a}`")?;
                }
                Ok(())
            }
            Origin::Api { actor } => write!(f, "API ({actor})"),
            Origin::Builtin { what } => write!(f, "built-in {what}"),
            Origin::Unknown => f.write_str("(unknown place)"),
        }
    }
}

/// What kind of file a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A hand-written estate file (`.yaml`, `.yml` or `.json`).
    Policy,
    /// A JSON Lines inventory file: one asset per line.
    Jsonl,
    /// A CSV inventory file: a header row, then one asset per record.
    Csv,
}

impl SourceKind {
    pub fn is_inventory(self) -> bool {
        !matches!(self, SourceKind::Policy)
    }
}

/// One file an estate was read from; [`crate::Loc::file`] indexes the estate's list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub kind: SourceKind,
    /// For inventory files: `(line, record)` pairs, sorted by line, from which on the record
    /// number is `record + (l - line)` for a record starting on line `l`. One pair for a file
    /// whose records are one line each; one more per multi-line CSV record.
    breaks: Vec<(u32, u64)>,
}

impl SourceFile {
    /// A policy (estate) file.
    pub fn policy(path: impl Into<PathBuf>) -> SourceFile {
        SourceFile {
            path: path.into(),
            kind: SourceKind::Policy,
            breaks: Vec::new(),
        }
    }
    /// An inventory file. Until told otherwise ([`SourceFile::record_starts`]), a JSONL file's
    /// record N is on line N and a CSV file's record N is on line N + 1 (after the header).
    pub fn inventory(path: impl Into<PathBuf>, kind: SourceKind) -> SourceFile {
        let breaks = match kind {
            SourceKind::Policy => Vec::new(),
            SourceKind::Jsonl => vec![(1, 1)],
            SourceKind::Csv => vec![(2, 1)],
        };
        SourceFile {
            path: path.into(),
            kind,
            breaks,
        }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Records that `record` starts on `line`. Calls must come in increasing line order;
    /// only a record that breaks the one-line-per-record pattern costs memory.
    pub fn record_starts(&mut self, line: u32, record: u64) {
        if self.kind.is_inventory() && self.record_at(line) != Some(record) {
            self.breaks.push((line, record));
        }
    }
    /// The record number of the inventory record starting on `line`; `None` for policy files.
    pub fn record_at(&self, line: u32) -> Option<u64> {
        let i = self.breaks.partition_point(|(l, _)| *l <= line);
        let (l, r) = *self.breaks.get(i.checked_sub(1)?)?;
        Some(r + u64::from(line - l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_follow_lines_until_a_multi_line_record() {
        let mut s = SourceFile::inventory("h.csv", SourceKind::Csv);
        assert_eq!(s.record_at(2), Some(1));
        assert_eq!(s.record_at(5), Some(4));
        s.record_starts(5, 4); // no change: no memory
        assert_eq!(s.breaks.len(), 1);
        s.record_starts(8, 6); // record 5 spanned lines 6–7
        assert_eq!(s.record_at(8), Some(6));
        assert_eq!(s.record_at(9), Some(7));
        assert_eq!(s.record_at(3), Some(2));
        assert_eq!(SourceFile::policy("e.yaml").record_at(3), None);
    }

    #[test]
    fn origins_render_as_places() {
        let o = Origin::Record {
            source: "hosts.csv".into(),
            record: 4,
            line: 5,
            address: Some("arn:aws:ec2:eu-west-1:1:instance/i-1".into()),
        };
        assert_eq!(
            o.to_string(),
            "hosts.csv:5 (record 4) `arn:aws:ec2:eu-west-1:1:instance/i-1`"
        );
        let f = Origin::File {
            path: "e.yaml".into(),
            line: 0,
            column: 0,
        };
        assert_eq!(f.to_string(), "e.yaml");
        assert_eq!(Origin::Unknown.to_string(), "(unknown place)");
    }
}
