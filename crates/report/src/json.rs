//! The stable JSON shapes (documented in docs/json-output.md). Every top-level object names
//! its `schema` so consumers can tell shapes and versions apart.

use chrono::NaiveDate;
use demarc_engine::{Analysis, Assignee, Basis, Cell, Gap, Ownership, Resolution, Summary};
use demarc_model::Duty;
use serde::Serialize;

/// `demarc check --format json`.
#[derive(Serialize)]
pub struct CheckOutput<'a> {
    pub schema: &'static str,
    pub estate: &'a str,
    pub as_of: NaiveDate,
    pub accountable: &'a str,
    pub summary: &'a Summary,
    pub gaps: &'a [Gap],
}

impl<'a> CheckOutput<'a> {
    pub fn new(res: &'a Resolution, analysis: &'a Analysis) -> Self {
        CheckOutput {
            schema: "demarc.check/v1",
            estate: &res.estate.name,
            as_of: res.as_of,
            accountable: res.accountable(),
            summary: &analysis.summary,
            gaps: &analysis.gaps,
        }
    }
}

/// One resolved asset × control × duty.
#[derive(Serialize)]
pub struct CellOutput<'a> {
    pub asset: &'a str,
    pub service: &'a str,
    pub control: &'a str,
    pub control_name: &'a str,
    pub layer: &'a str,
    pub duty: Duty,
    pub ownership: Ownership,
    /// FedRAMP control-origination wording of `ownership`.
    pub origination: &'static str,
    pub responsible: &'a [Assignee],
    pub accountable: &'a str,
    pub assumed: bool,
    pub unassigned: bool,
    pub contested: &'a [String],
    pub unsplit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
    pub basis: &'a [Basis],
}

impl<'a> CellOutput<'a> {
    pub fn new(res: &'a Resolution, asset: usize, cell: &'a Cell) -> Self {
        let a = &res.estate.assets[asset];
        let control = res.control(cell);
        CellOutput {
            asset: &a.id,
            service: &a.service,
            control: &control.id,
            control_name: &control.name,
            layer: &control.layer,
            duty: cell.duty,
            ownership: cell.ownership,
            origination: cell.ownership.origination(),
            responsible: &cell.responsible,
            accountable: res.accountable(),
            assumed: cell.assumed,
            unassigned: cell.unassigned,
            contested: &cell.contested,
            unsplit: cell.unsplit,
            sla: cell.sla.map(|d| d.to_string()),
            cadence: cell.cadence.map(|d| d.to_string()),
            basis: &cell.basis,
        }
    }
}

/// `demarc matrix --rows --format json` and `demarc who … --format json`. `cells` is a list,
/// or a [`SeqOf`] that yields the cells while they are written.
#[derive(Serialize)]
pub struct CellsOutput<'a, C = Vec<CellOutput<'a>>> {
    pub schema: &'static str,
    pub estate: &'a str,
    pub as_of: NaiveDate,
    pub accountable: &'a str,
    pub cells: C,
}

impl<'a, C: Serialize> CellsOutput<'a, C> {
    pub fn new(res: &'a Resolution, cells: C) -> Self {
        CellsOutput {
            schema: "demarc.cells/v1",
            estate: &res.estate.name,
            as_of: res.as_of,
            accountable: res.accountable(),
            cells,
        }
    }
}

/// Serialises an iterator as a JSON array without collecting it, so a million-asset
/// `matrix --rows --format json` streams instead of holding every cell. It can be serialised
/// once; a second attempt is an error, not an empty list.
pub struct SeqOf<I>(std::cell::RefCell<Option<I>>);

impl<I> SeqOf<I> {
    pub fn new(items: I) -> Self {
        SeqOf(std::cell::RefCell::new(Some(items)))
    }
}

impl<I: Iterator<Item = T>, T: Serialize> Serialize for SeqOf<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.borrow_mut().take() {
            Some(items) => s.collect_seq(items),
            None => Err(serde::ser::Error::custom(
                "a streamed list can be written only once",
            )),
        }
    }
}

/// A contact in a triage answer.
#[derive(Serialize)]
pub struct Contact {
    pub party: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// `demarc triage --format json`.
#[derive(Serialize)]
pub struct TriageOutput<'a> {
    pub schema: &'static str,
    pub asset: &'a str,
    pub control: &'a str,
    pub duty: Duty,
    pub as_of: NaiveDate,
    pub responsible: &'a [Assignee],
    pub accountable: &'a str,
    pub contacts: Vec<Contact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    pub escalation: Vec<String>,
    pub basis: &'a [Basis],
}
