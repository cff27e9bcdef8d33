//! What changed between two versions of an estate, for the History tab: the files, the cells
//! whose ownership or responsible parties changed, and the gaps opened, closed, accepted or no
//! longer accepted (by gap key, which is stable across unrelated edits).
//!
//! Kept small and on its own so it can give way to the shared history module later.

use std::collections::BTreeMap;

use demarc_engine::{AnalyseOptions, Resolution};

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
    old: &Resolution,
    new: &Resolution,
) -> Diff {
    let mut d = Diff {
        files: files(old_files, new_files),
        ..Diff::default()
    };
    cells(old, new, &mut d);
    gaps(old, new, &mut d);
    d
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

/// (asset, control, duty) → "ownership: responsible", for every cell of a resolution.
fn cell_map(res: &Resolution) -> BTreeMap<(String, String, &'static str), String> {
    let mut out = BTreeMap::new();
    for i in res.assets() {
        let id = res.asset(i).id.value.clone();
        for c in res.cells_of(i) {
            out.insert(
                (id.clone(), res.control_of(c).id.clone(), c.duty.as_str()),
                format!("{}: {}", c.ownership.as_str(), c.responsible_label()),
            );
        }
    }
    out
}

fn cells(old: &Resolution, new: &Resolution, d: &mut Diff) {
    let a = cell_map(old);
    let b = cell_map(new);
    let mut push = |k: &(String, String, &'static str), before: String, after: String| {
        d.cells_total += 1;
        if d.cells.len() < CELL_LIMIT {
            d.cells.push(CellChange {
                asset: k.0.clone(),
                control: k.1.clone(),
                duty: k.2,
                before,
                after,
            });
        }
    };
    for (k, after) in &b {
        match a.get(k) {
            Some(before) if before == after => {}
            Some(before) => push(k, before.clone(), after.clone()),
            None => push(k, "(no such cell)".into(), after.clone()),
        }
    }
    for (k, before) in &a {
        if !b.contains_key(k) {
            push(k, before.clone(), "(no such cell)".into());
        }
    }
}

fn gaps(old: &Resolution, new: &Resolution, d: &mut Diff) {
    let a = old.gaps(AnalyseOptions::default());
    let b = new.gaps(AnalyseOptions::default());
    let line = |g: &demarc_engine::Gap, note: String| GapLine {
        key: g.key.clone(),
        severity: g.severity.as_str(),
        title: g.title.clone(),
        note,
    };
    let before: BTreeMap<&str, &demarc_engine::Gap> =
        a.gaps.iter().map(|g| (g.key.as_str(), g)).collect();
    let after: BTreeMap<&str, &demarc_engine::Gap> =
        b.gaps.iter().map(|g| (g.key.as_str(), g)).collect();
    for (k, g) in &after {
        match before.get(k) {
            None => d.opened.push(line(g, String::new())),
            Some(o) => match (&o.accepted, &g.accepted) {
                (None, Some(acc)) => d.accepted.push(line(
                    g,
                    format!(
                        "accepted by {} until {}: {}",
                        acc.approved_by, acc.expires, acc.reason
                    ),
                )),
                (Some(_), None) => d.unaccepted.push(line(g, String::new())),
                _ => {}
            },
        }
    }
    for (k, g) in &before {
        if !after.contains_key(k) {
            d.closed.push(line(g, String::new()));
        }
    }
}
