//! The History tab's view of what changed between two versions: the files, plus the shared
//! comparison of [`crate::history`] (the API's `…/diff`), shaped for the page.

use std::collections::BTreeMap;

use crate::state::Opened;
use demarc_api as api;

/// Cells listed at most; the count is always exact.
pub const CELL_LIMIT: usize = 500;

pub struct FileChange {
    pub path: String,
    pub change: &'static str,
}

pub struct CellChange {
    pub asset: String,
    pub control: String,
    pub duty: &'static str,
    pub before: String,
    pub after: String,
}

pub struct GapLine {
    pub key: String,
    pub severity: &'static str,
    pub title: String,
    pub note: String,
}

#[derive(Default)]
pub struct Diff {
    pub files: Vec<FileChange>,
    pub assets_added: Vec<String>,
    pub assets_removed: Vec<String>,
    pub cells: Vec<CellChange>,
    pub cells_total: usize,
    pub opened: Vec<GapLine>,
    pub closed: Vec<GapLine>,
    pub accepted: Vec<GapLine>,
    pub unaccepted: Vec<GapLine>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.assets_added.is_empty()
            && self.assets_removed.is_empty()
            && self.cells_total == 0
            && self.opened.is_empty()
            && self.closed.is_empty()
            && self.accepted.is_empty()
            && self.unaccepted.is_empty()
    }

    /// The gap lists with their headings, in the order the page shows them.
    pub fn gap_sections(&self) -> Vec<(&'static str, &[GapLine])> {
        vec![
            ("Gaps opened", &self.opened),
            ("Gaps closed", &self.closed),
            ("Gaps accepted", &self.accepted),
            ("Gaps no longer accepted", &self.unaccepted),
        ]
    }
}

pub fn diff(
    old_files: &[(String, Vec<u8>)],
    new_files: &[(String, Vec<u8>)],
    old: &Opened,
    new: &Opened,
) -> Diff {
    let c = crate::history::compare(old, new, 0, 0, CELL_LIMIT, None);
    let side = |s: &Option<api::CellSideV1>| match s {
        Some(s) => format!("{}: {}", s.ownership.as_str(), s.responsible.join(", ")),
        None => "(no such cell)".into(),
    };
    let line = |g: &api::GapV1| GapLine {
        key: g.key.clone(),
        severity: g.severity.as_str(),
        title: g.title.clone(),
        note: g
            .accepted
            .as_ref()
            .map(|a| {
                format!(
                    "accepted by {} until {}: {}",
                    a.approved_by, a.expires, a.reason
                )
            })
            .unwrap_or_default(),
    };
    Diff {
        files: files(old_files, new_files),
        cells: c
            .diff
            .cells
            .iter()
            .map(|x| CellChange {
                asset: x.asset.clone(),
                control: x.control.clone(),
                duty: x.duty.as_str(),
                before: side(&x.before),
                after: side(&x.after),
            })
            .collect(),
        cells_total: c.diff.cells_changed,
        opened: c.diff.gaps_opened.iter().map(line).collect(),
        closed: c.diff.gaps_closed.iter().map(line).collect(),
        accepted: c.accepted.iter().map(line).collect(),
        unaccepted: c.unaccepted.iter().map(line).collect(),
        assets_added: c.diff.assets_added,
        assets_removed: c.diff.assets_removed,
    }
}

fn files(old: &[(String, Vec<u8>)], new: &[(String, Vec<u8>)]) -> Vec<FileChange> {
    let old: BTreeMap<&str, &[u8]> = old.iter().map(|(p, c)| (p.as_str(), &c[..])).collect();
    let new: BTreeMap<&str, &[u8]> = new.iter().map(|(p, c)| (p.as_str(), &c[..])).collect();
    let mut out = Vec::new();
    for (p, c) in &new {
        match old.get(p) {
            None => out.push(FileChange {
                path: p.to_string(),
                change: "added",
            }),
            Some(o) if o != c => out.push(FileChange {
                path: p.to_string(),
                change: "changed",
            }),
            _ => {}
        }
    }
    for p in old.keys().filter(|p| !new.contains_key(*p)) {
        out.push(FileChange {
            path: p.to_string(),
            change: "removed",
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
