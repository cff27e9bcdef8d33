//! Scanner findings, when the version carries a snapshot (`.demarc/findings/<date>.ndjson`, as
//! `demarc ingest findings` writes it): each finding is attributed to the party responsible
//! for the cell it concerns, with the contract's SLA and a due date, and grouped by party.

use chrono::NaiveDate;
use demarc_api as api;
use demarc_engine::Resolution;
use demarc_posture::{self as posture, Attributor, CheckTable, Fact, GroupBy, Summary};

/// The newest snapshot dated on or before the analysis date, summarised by party.
pub struct ByParty {
    pub snapshot: NaiveDate,
    pub open: u64,
    pub overdue: u64,
    pub groups: Vec<api::FindingGroupV1>,
}

/// `None` when the version has no findings; an error names a damaged snapshot.
pub fn by_party(res: &Resolution, root: &std::path::Path) -> Result<Option<ByParty>, String> {
    let dir = root.join(posture::snapshot::DIR);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let Some(date) = posture::snapshot::pick(names.iter().map(String::as_str), res.as_of()) else {
        return Ok(None);
    };
    let name = posture::snapshot::file_name(date);
    let file = std::fs::File::open(dir.join(&name))
        .map_err(|e| format!("the findings snapshot {name} cannot be read: {e}"))?;
    let at = Attributor::new(res, CheckTable::builtin(), res.as_of());
    let mut summary = Summary::new(GroupBy::Party);
    posture::snapshot::read(
        std::io::BufReader::new(file),
        posture::ReadOptions::default(),
        &|f| Fact::new(GroupBy::Party, &at, &f, &at.attribute(&f)),
        &mut |fact| {
            summary.add(&fact);
            Ok(())
        },
        &mut |_| {},
    )
    .map_err(|e| {
        format!("the findings snapshot {name} is damaged: {e}; ingest the findings again")
    })?;
    Ok(Some(ByParty {
        snapshot: date,
        open: summary.tally.open,
        overdue: summary.tally.overdue,
        groups: summary
            .ordered()
            .into_iter()
            .map(|g| api::FindingGroupV1::new(&at, GroupBy::Party, g))
            .collect(),
    }))
}
