//! The evidence register: every piece of evidence on file with its status, what is missing,
//! what expires soon, and who must renew it. Pure: file hashes come in from the caller.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::Digest;

use chrono::NaiveDate;
use demarc_engine::{Resolution, Role};

/// What the caller found when it hashed an evidence file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    /// The SHA-256 of the file as it is now.
    Hashed(String),
    /// It could not be read (the reason).
    Unreadable(String),
}

/// The state of an evidence file against the hash recorded in the estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileStatus {
    /// No file is referenced.
    None,
    /// The file matches its recorded hash.
    Unchanged,
    /// The file differs from its recorded hash.
    Changed,
    /// The file exists but no hash was recorded: record the current one.
    Unrecorded,
    /// The file cannot be read.
    Unreadable,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::None => "none",
            FileStatus::Unchanged => "unchanged",
            FileStatus::Changed => "changed",
            FileStatus::Unrecorded => "unrecorded",
            FileStatus::Unreadable => "unreadable",
        }
    }
}

/// Currency of one piece of evidence on the analysis date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Currency {
    Current,
    /// Still valid, but ends within the warning window.
    Expiring,
    Expired,
}

impl Currency {
    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Current => "current",
            Currency::Expiring => "expiring",
            Currency::Expired => "expired",
        }
    }
}

/// One entry of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub control: String,
    pub asset: Option<String>,
    pub reference: String,
    pub kind: Option<&'static str>,
    pub collected: NaiveDate,
    /// The first day it no longer counts.
    pub valid_until: NaiveDate,
    pub currency: Currency,
    /// Who must renew it: `provided_by`, else who does the control on that asset.
    pub renew_by: Vec<String>,
    pub requirements: Vec<String>,
    pub file: Option<String>,
    pub recorded_sha256: Option<String>,
    pub current_sha256: Option<String>,
    pub file_status: FileStatus,
    pub file_error: Option<String>,
    /// `file:line` in the estate.
    pub at: String,
}

/// Evidence a control needs and does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub control: String,
    pub organisation: bool,
    /// Assets with no evidence on file (0 for an organisation-level control: it is proven
    /// once).
    pub missing_assets: usize,
    pub expired_assets: usize,
    /// Who must provide it: the parties that do the control on those assets.
    pub provide_by: Vec<String>,
}

/// The register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub as_of: NaiveDate,
    pub within_days: i64,
    pub entries: Vec<Entry>,
    pub missing: Vec<Missing>,
}

impl Register {
    pub fn expiring(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.currency == Currency::Expiring)
            .count()
    }
    pub fn expired(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.currency == Currency::Expired)
            .count()
    }
    pub fn changed(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.file_status, FileStatus::Changed | FileStatus::Unreadable))
            .count()
    }
    /// True when nothing needs doing: nothing missing, expired, expiring or changed.
    pub fn clean(&self) -> bool {
        self.missing.is_empty()
            && self.expired() == 0
            && self.expiring() == 0
            && self.changed() == 0
    }
}

/// Builds the register. `files` maps each evidence `file` (as written) to what hashing it
/// found; `within_days` is the warning window.
pub fn register(
    res: &Resolution,
    files: &BTreeMap<String, FileCheck>,
    within_days: i64,
) -> Register {
    let estate = res.estate();
    let as_of = res.as_of();
    let warn = demarc_model::add_days(
        as_of,
        demarc_model::Duration::from_days(within_days.max(0) as u64),
    );
    // Who does a control on an asset (non-provider side), for "who must renew".
    let doers = |control: &str, asset: Option<&str>| -> Vec<String> {
        let mut out = BTreeSet::new();
        let assets: Vec<demarc_engine::AssetIx> = match asset.map(|a| res.find_asset(a)) {
            Some(Ok(a)) => vec![a],
            Some(Err(_)) => Vec::new(),
            None => res.assets().take(1).collect(),
        };
        for a in assets {
            for cell in res.cells_of(a) {
                if res.control_of(cell).id == control {
                    for p in cell.responsible.iter().filter(|p| p.role != Role::Provider) {
                        out.insert(p.label());
                    }
                }
            }
        }
        out.into_iter().collect()
    };
    let mut entries = Vec::with_capacity(estate.evidence.len());
    for e in &estate.evidence {
        let until = e.valid_until();
        let currency = if until <= as_of {
            Currency::Expired
        } else if until <= warn {
            Currency::Expiring
        } else {
            Currency::Current
        };
        let (current, status, error) = match e.file.as_ref().map(|f| files.get(f.as_str())) {
            None => (None, FileStatus::None, None),
            Some(None) => (None, FileStatus::Unreadable, Some("not hashed".to_string())),
            Some(Some(FileCheck::Unreadable(why))) => {
                (None, FileStatus::Unreadable, Some(why.clone()))
            }
            Some(Some(FileCheck::Hashed(h))) => {
                let status = match &e.sha256 {
                    None => FileStatus::Unrecorded,
                    Some(r) if r.eq_ignore_ascii_case(h) => FileStatus::Unchanged,
                    Some(_) => FileStatus::Changed,
                };
                (Some(h.clone()), status, None)
            }
        };
        let renew_by = match &e.provided_by {
            Some(p) => vec![p.value.clone()],
            None => doers(&e.control, e.asset.as_deref().map(|a| a.as_str())),
        };
        entries.push(Entry {
            control: e.control.value.clone(),
            asset: e.asset.as_ref().map(|a| a.value.clone()),
            reference: e.reference.clone(),
            kind: e.kind.map(|k| k.as_str()),
            collected: e.collected,
            valid_until: until,
            currency,
            renew_by,
            requirements: e.requirements.iter().map(|r| r.value.clone()).collect(),
            file: e.file.as_ref().map(|f| f.value.clone()),
            recorded_sha256: e.sha256.as_ref().map(|h| h.value.to_ascii_lowercase()),
            current_sha256: current,
            file_status: status,
            file_error: error,
            at: estate.cite(e.control.loc),
        });
    }
    // Missing evidence, counted as the evidence gaps count (per class, never per asset).
    let classes: Vec<demarc_engine::ClassInfo> = res.classes().collect();
    let mut missing: BTreeMap<String, Missing> = BTreeMap::new();
    for c in res.evidence_coverage() {
        if c.missing == 0 && c.expired == 0 {
            continue;
        }
        let m = missing
            .entry(c.control.to_string())
            .or_insert_with(|| Missing {
                control: c.control.to_string(),
                organisation: c.organisation,
                missing_assets: 0,
                expired_assets: 0,
                provide_by: Vec::new(),
            });
        if !c.organisation {
            m.missing_assets += c.missing;
            m.expired_assets += c.expired;
        }
        let class = &classes[c.class];
        for cell in res.table_cells(class.table) {
            if res.control_of(cell).id == c.control {
                for p in cell.responsible.iter().filter(|p| p.role != Role::Provider) {
                    let l = p.label();
                    if !m.provide_by.contains(&l) {
                        m.provide_by.push(l);
                    }
                }
            }
        }
    }
    let mut missing: Vec<Missing> = missing.into_values().collect();
    for m in &mut missing {
        m.provide_by.sort();
    }
    Register {
        as_of,
        within_days,
        entries,
        missing,
    }
}

/// SHA-256 of a file, streaming, as lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hashes every evidence file the estate names, relative to the file that names it. A file
/// outside the estate directory (through a symlink) is refused, not read.
pub fn hash_evidence_files(res: &Resolution) -> BTreeMap<String, FileCheck> {
    let estate = res.estate();
    let mut out = BTreeMap::new();
    for e in &estate.evidence {
        let Some(f) = &e.file else { continue };
        if out.contains_key(f.as_str()) {
            continue;
        }
        let base = estate
            .source(f.loc)
            .and_then(|s| s.path().parent())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let path = base.join(f.as_str());
        let check = match (std::fs::canonicalize(&base), std::fs::canonicalize(&path)) {
            (_, Err(e)) => FileCheck::Unreadable(format!("{}: {e}", path.display())),
            (Ok(b), Ok(p)) if !p.starts_with(&b) => FileCheck::Unreadable(format!(
                "{} leads outside the estate directory",
                path.display()
            )),
            (_, Ok(p)) if !p.is_file() => {
                FileCheck::Unreadable(format!("{} is not a regular file", path.display()))
            }
            (_, Ok(p)) => match sha256_file(&p) {
                Ok(h) => FileCheck::Hashed(h),
                Err(e) => FileCheck::Unreadable(format!("{}: {e}", path.display())),
            },
        };
        out.insert(f.value.clone(), check);
    }
    out
}
