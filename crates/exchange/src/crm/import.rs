//! Reading a provider's CIS/CRM workbook. Header-driven: every sheet is scanned for a header
//! row with a control-id column and at least one column it recognises (origination boxes,
//! implementation status, "Can Be Inherited", responsibility text), whatever the provider
//! renamed, reordered, split over two rows or added. See `docs/exchange-fedramp.md`.

use std::collections::BTreeMap;
use std::io::Read;

use calamine::{Data, Range};
use chrono::NaiveDate;
use demarc_catalog::Catalog;
use sha2::{Digest, Sha256};

use super::{BoxSide, CanInherit, OriginBox, STATUS};
use crate::overlay::{self, Provenance, RequirementFact, ServiceHead, Side};
use crate::workbook::{open_xlsx, sheets};
use crate::{ExchangeError, Imported};

/// How far down a sheet a header row may start.
const HEADER_SCAN_ROWS: usize = 40;
/// A header cell longer than this is prose (the template's guidance), not a header.
const MAX_HEADER_CHARS: usize = 160;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Id,
    /// One implementation-status box (index into [`STATUS`]).
    Status(usize),
    /// One column holding the status as text.
    StatusText,
    Origin(OriginBox),
    Answer,
    /// The template's combined "Specific Inheritance and Customer Agency/CSP
    /// Responsibilities".
    Text,
    ProviderText,
    CustomerText,
}

/// One control id's facts, merged over the rows and sheets that name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFact {
    /// Normalised (`ac-2_smt.a`).
    pub id: String,
    /// As first written (`AC-2(a)`).
    pub label: String,
    /// Where: `sheet "CIS" row 7`, and the other rows that named it.
    pub at: Vec<String>,
    /// Who implements it: the origination boxes ticked.
    pub boxes: Vec<OriginBox>,
    /// Can the customer inherit it: the CRM's answer.
    pub answer: Option<CanInherit>,
    /// The implementation status ticked or written (`Implemented`, `N/A`).
    pub status: Option<String>,
    pub text: Option<String>,
    pub provider_text: Option<String>,
    pub customer_text: Option<String>,
}

impl RowFact {
    fn has_fact(&self) -> bool {
        !self.boxes.is_empty()
            || self.answer.is_some()
            || self.status.is_some()
            || self.text.is_some()
            || self.provider_text.is_some()
            || self.customer_text.is_some()
    }
    fn where_(&self) -> String {
        self.at.join(" and ")
    }
}

/// Everything read from a workbook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// One per control id with at least one fact, in the order first met.
    pub rows: Vec<RowFact>,
    pub warnings: Vec<String>,
    /// From the `CSP` cell (the template's Instructions sheet), when filled in.
    pub provider_name: Option<String>,
    pub system_name: Option<String>,
    /// The offering the template's title names (`Appendix J: <CSO> CIS and CRM Workbook`).
    pub title_name: Option<String>,
    /// The workbook's own date (its document properties), for `source.checked`.
    pub date: Option<NaiveDate>,
    /// `(sheet, header row)` of each sheet read.
    pub sheets: Vec<(String, usize)>,
}

/// Lowercase words of a header: `Can Be Inherited from CSP?` → `can be inherited from csp`.
fn words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_alphanumeric() {
            out.extend(ch.to_lowercase());
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

fn has_word(h: &str, w: &str) -> bool {
    h.split(' ').any(|x| x == w)
}

/// What a header names, if demarc reads it.
fn classify(raw: &str) -> Option<Col> {
    if raw.chars().count() > MAX_HEADER_CHARS {
        return None;
    }
    let h = words(raw);
    if h.is_empty() {
        return None;
    }
    let customer = [
        "customer",
        "customers",
        "agency",
        "agencies",
        "tenant",
        "consumer",
    ]
    .iter()
    .any(|w| has_word(&h, w));
    if h.contains("control id")
        || matches!(
            h.as_str(),
            "control" | "control identifier" | "control number" | "control no" | "controls" | "id"
        )
        || h.ends_with(" control id")
    {
        return Some(Col::Id);
    }
    // `Shared (Service Provider and Customer Responsibility)` is an origination box, not
    // the responsibilities text.
    let prose = [
        "inheritance",
        "descri",
        "detail",
        "explan",
        "text",
        "comment",
        "narrative",
    ]
    .iter()
    .any(|w| h.contains(w));
    if has_word(&h, "shared") && !prose {
        return Some(Col::Origin(OriginBox::Shared));
    }
    if h.contains("responsib") || h.contains("specific inheritance") {
        let provider = ["csp", "provider", "vendor"].iter().any(|w| h.contains(w));
        return Some(if h.contains("inheritance") || (customer && provider) {
            Col::Text
        } else if customer {
            Col::CustomerText
        } else {
            Col::ProviderText
        });
    }
    let preexisting = h.contains("pre existing")
        || h.contains("preexisting")
        || h.contains("authoriz")
        || h.contains("authoris")
        || h.contains("leveraged");
    if h.contains("inherit") && !preexisting && (has_word(&h, "can") || h.contains("inheritable")) {
        return Some(Col::Answer);
    }
    if has_word(&h, "shared") {
        return Some(Col::Origin(OriginBox::Shared));
    }
    if h.contains("inherited") && preexisting {
        return Some(Col::Origin(OriginBox::Inherited));
    }
    if customer && h.contains("configured") {
        return Some(Col::Origin(OriginBox::ConfiguredByCustomer));
    }
    if customer && h.contains("provided by") {
        return Some(Col::Origin(OriginBox::ProvidedByCustomer));
    }
    if has_word(&h, "hybrid") || h.contains("corporate and system specific") {
        return Some(Col::Origin(OriginBox::ProviderHybrid));
    }
    if h.contains("system specific") && !customer {
        return Some(Col::Origin(OriginBox::ProviderSystem));
    }
    if has_word(&h, "corporate") {
        return Some(Col::Origin(OriginBox::ProviderCorporate));
    }
    match h.as_str() {
        "implemented" => Some(Col::Status(0)),
        "partially implemented" => Some(Col::Status(1)),
        "planned" => Some(Col::Status(2)),
        "alternative implementation" => Some(Col::Status(3)),
        "n a" | "na" | "not applicable" => Some(Col::Status(4)),
        "implementation status" | "status" => Some(Col::StatusText),
        _ => None,
    }
}

fn text_of(d: &Data) -> Option<String> {
    match d {
        Data::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        _ => None,
    }
}

fn col_letter(mut c: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (c % 26) as u8) as char);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s
}

fn type_name(d: &Data) -> &'static str {
    match d {
        Data::Int(_) | Data::Float(_) => "a number",
        Data::Bool(_) => "TRUE/FALSE",
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => "a date",
        Data::Error(_) => "an Excel error value",
        Data::String(_) => "text",
        Data::Empty => "nothing",
    }
}

/// A sheet's header: the columns read, the first data row (0-based, relative to the
/// range), where it is (1-based sheet row) and the columns ignored.
struct Header {
    cols: Vec<(usize, Col, String)>,
    first_data: usize,
    row: usize,
    ignored: Vec<String>,
}

enum Found {
    Header(Header),
    /// A control-id column with nothing demarc reads beside it: (sheet row, header texts).
    IdOnly(usize, Vec<String>),
    None,
}

fn find_header(range: &Range<Data>) -> Found {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let (r0, c0) = (r0 as usize, c0 as usize);
    let width = range.width();
    let cell = |r: usize, c: usize| -> Option<String> { range.get((r, c)).and_then(text_of) };
    let mut id_only = None;
    for r in 0..range.height().min(HEADER_SCAN_ROWS) {
        let Some(id_col) =
            (0..width).find(|&c| cell(r, c).is_some_and(|t| classify(&t) == Some(Col::Id)))
        else {
            continue;
        };
        // The next row continues the header when its id cell is not a control id and it
        // names something (`Implemented`, `Service Provider Corporate`).
        let next_is_header = r + 1 < range.height()
            && cell(r + 1, id_col).is_none_or(|t| normalise_id(&t).is_err())
            && (0..width).any(|c| cell(r + 1, c).is_some_and(|t| classify(&t).is_some()));
        let mut cols = Vec::new();
        let mut ignored = Vec::new();
        for c in 0..width {
            let top = cell(r, c);
            let sub = if next_is_header { cell(r + 1, c) } else { None };
            let above = if r > 0 { cell(r - 1, c) } else { None };
            let joined = |a: &Option<String>, b: &Option<String>| match (a, b) {
                (Some(a), Some(b)) => Some(format!("{a} {b}")),
                _ => None,
            };
            let candidates = [
                joined(&top, &sub),
                sub.clone(),
                top.clone(),
                joined(&above, &top),
            ];
            let found = candidates
                .iter()
                .flatten()
                .find_map(|t| classify(t).map(|k| (k, t.clone())));
            match found {
                Some((Col::Id, _)) if c != id_col => {}
                Some((k, t)) => cols.push((c, k, t)),
                None => {
                    if let Some(t) = sub.or(top) {
                        ignored.push(format!("{} \"{t}\"", col_letter(c0 + c)));
                    }
                }
            }
        }
        if cols.iter().any(|(_, k, _)| *k != Col::Id) {
            return Found::Header(Header {
                cols,
                first_data: r + if next_is_header { 2 } else { 1 },
                row: r0 + r + 1,
                ignored,
            });
        }
        if id_only.is_none() {
            id_only = Some((
                r0 + r + 1,
                (0..width).filter_map(|c| cell(r, c)).collect::<Vec<_>>(),
            ));
        }
    }
    match id_only {
        Some((row, texts)) => Found::IdOnly(row, texts),
        None => Found::None,
    }
}

/// Normalises a control id as providers write it, tolerating non-breaking spaces and
/// typographic dashes.
fn normalise_id(raw: &str) -> Result<String, String> {
    let cleaned: String = raw
        .chars()
        .map(|c| match c {
            '\u{a0}' | '\u{2007}' | '\u{202f}' => ' ',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        })
        .collect();
    demarc_catalog::normalise_nist_800_53(&cleaned)
}

/// Whether a box cell is ticked; `Err` names what was found instead.
fn ticked(d: &Data) -> Result<bool, &'static str> {
    match d {
        Data::Empty => Ok(false),
        Data::Bool(b) => Ok(*b),
        Data::Int(i) if *i == 0 || *i == 1 => Ok(*i == 1),
        Data::Float(f) if *f == 0.0 || *f == 1.0 => Ok(*f == 1.0),
        Data::String(s) => {
            // `X`, `x`, `✓`, `Yes` tick a box; an empty cell, a dash or a "no" does not.
            let t = s.trim();
            let w = words(t);
            Ok(!(t.is_empty()
                || matches!(t, "-" | "–" | "—" | "☐")
                || matches!(
                    w.as_str(),
                    "no" | "n" | "false" | "0" | "none" | "unchecked"
                )))
        }
        other => Err(type_name(other)),
    }
}

fn parse_answer(s: &str) -> Option<Option<CanInherit>> {
    let w = words(s);
    if w.is_empty() || w == "n a" || w == "na" || w.starts_with("not applicable") {
        return Some(None);
    }
    match w.split(' ').next().unwrap_or("") {
        "yes" | "y" | "true" | "full" | "fully" | "inheritable" => Some(Some(CanInherit::Yes)),
        "partial" | "partially" | "partly" | "shared" | "hybrid" => Some(Some(CanInherit::Partial)),
        "no" | "n" | "false" => Some(Some(CanInherit::No)),
        _ => None,
    }
}

fn status_label(s: &str) -> Option<&'static str> {
    match classify(s)? {
        Col::Status(i) => Some(STATUS[i]),
        _ => None,
    }
}

/// The workbook's date: `dcterms:modified`, else `dcterms:created`, from its properties.
fn workbook_date(bytes: &[u8]) -> Option<NaiveDate> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut f = zip.by_name("docProps/core.xml").ok()?;
    let mut xml = String::new();
    f.by_ref().take(1 << 20).read_to_string(&mut xml).ok()?;
    for tag in ["dcterms:modified", "dcterms:created"] {
        if let Some(i) = xml.find(&format!("<{tag}")) {
            let rest = &xml[i..];
            let start = rest.find('>')? + 1;
            let d = rest.get(start..start + 10)?;
            if let Ok(d) = d.parse::<NaiveDate>() {
                return Some(d);
            }
        }
    }
    None
}

fn placeholder(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || (t.starts_with('<') && t.ends_with('>'))
}

/// Reads the facts of a workbook.
pub fn read(name: &str, bytes: &[u8]) -> Result<Facts, ExchangeError> {
    let mut wb = open_xlsx(name, bytes)?;
    let all = sheets(name, &mut wb)?;
    let mut facts = Facts {
        date: workbook_date(bytes),
        ..Facts::default()
    };
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut id_only: Option<(String, usize, Vec<String>)> = None;
    let mut unparsed: Vec<String> = Vec::new();
    for (sheet, range) in &all {
        // The CSP and system names, where the template's Instructions sheet has them.
        let (r0, c0) = range.start().unwrap_or((0, 0));
        for r in 0..range.height().min(HEADER_SCAN_ROWS) {
            for c in 0..range.width() {
                let Some(t) = range.get((r, c)).and_then(text_of) else {
                    continue;
                };
                let w = words(&t);
                let below = range
                    .get((r + 1, c))
                    .and_then(text_of)
                    .filter(|v| !placeholder(v));
                // The template's title names the offering: `… Appendix J: <CSO> CIS and CRM
                // Workbook`.
                if facts.title_name.is_none()
                    && let Some((_, rest)) = t.split_once("Appendix J:")
                    && let Some((cso, _)) = rest.split_once("CIS and CRM")
                    && !placeholder(cso)
                {
                    facts.title_name = Some(cso.trim().to_string());
                }
                if matches!(
                    w.as_str(),
                    "csp" | "csp name" | "cloud service provider" | "service provider"
                ) && facts.provider_name.is_none()
                {
                    facts.provider_name = below;
                } else if matches!(
                    w.as_str(),
                    "system name" | "cso name" | "cloud service offering"
                ) && facts.system_name.is_none()
                {
                    facts.system_name = below;
                }
            }
        }
        let header = match find_header(range) {
            Found::Header(h) => h,
            Found::IdOnly(row, texts) => {
                if id_only.is_none() {
                    id_only = Some((sheet.clone(), row, texts));
                }
                continue;
            }
            Found::None => continue,
        };
        facts.sheets.push((sheet.clone(), header.row));
        if !header.ignored.is_empty() {
            facts.warnings.push(format!(
                "sheet \"{sheet}\" row {}: columns demarc does not read were ignored: {}",
                header.row,
                header.ignored.join(", ")
            ));
        }
        // One column per kind; a repeated kind is reported and the first one kept.
        let mut cols: Vec<(usize, Col)> = Vec::new();
        for (c, k, t) in &header.cols {
            if cols.iter().any(|(_, x)| x == k) {
                facts.warnings.push(format!(
                    "sheet \"{sheet}\" row {}: column {} \"{t}\" repeats a column already read; ignored",
                    header.row,
                    col_letter(c0 as usize + c)
                ));
            } else {
                cols.push((*c, *k));
            }
        }
        let id_col = cols
            .iter()
            .find(|(_, k)| *k == Col::Id)
            .map(|(c, _)| *c)
            .unwrap_or(0);
        for r in header.first_data..range.height() {
            let row_no = r0 as usize + r + 1;
            let at = format!("sheet \"{sheet}\" row {row_no}");
            let wrong = |c: usize, expected: &str, d: &Data| {
                ExchangeError::new(
                    name,
                    format!("{at} column {}", col_letter(c0 as usize + c)),
                    format!("expected {expected}, found {} ({d})", type_name(d)),
                    "fix the cell in the workbook, or clear it",
                )
            };
            let id_cell = range.get((r, id_col)).unwrap_or(&Data::Empty);
            let raw_id = match id_cell {
                Data::Empty => continue,
                Data::String(s) if s.trim().is_empty() => continue,
                Data::String(s) => s.trim().to_string(),
                d => return Err(wrong(id_col, "a control id such as AC-2(a) or AC-2(1)", d)),
            };
            let mut f = RowFact {
                label: raw_id.clone(),
                at: vec![at.clone()],
                ..RowFact::default()
            };
            for &(c, k) in &cols {
                let d = range.get((r, c)).unwrap_or(&Data::Empty);
                match k {
                    Col::Id => {}
                    Col::Origin(b) => {
                        if ticked(d).map_err(|_| wrong(c, "an X or an empty cell", d))? {
                            f.boxes.push(b);
                        }
                    }
                    Col::Status(i) => {
                        if ticked(d).map_err(|_| wrong(c, "an X or an empty cell", d))? {
                            if let Some(s) = &f.status {
                                facts.warnings.push(format!(
                                    "{at}: {raw_id}: several implementation statuses are ticked ({s}, {}); kept {s}",
                                    STATUS[i]
                                ));
                            } else {
                                f.status = Some(STATUS[i].to_string());
                            }
                        }
                    }
                    Col::StatusText => match d {
                        Data::Empty => {}
                        Data::String(s) => {
                            if let Some(l) = status_label(s) {
                                f.status = Some(l.to_string());
                            } else if !s.trim().is_empty() {
                                f.status = Some(s.trim().to_string());
                            }
                        }
                        d => return Err(wrong(c, "an implementation status such as Implemented", d)),
                    },
                    Col::Answer => match d {
                        Data::Empty => {}
                        Data::Bool(b) => {
                            f.answer = Some(if *b { CanInherit::Yes } else { CanInherit::No })
                        }
                        Data::String(s) => match parse_answer(s) {
                            Some(a) => f.answer = a,
                            None => facts.warnings.push(format!(
                                "{at}: {raw_id}: \"{}\" is not an answer to Can Be Inherited (expected Yes, Partial or No); ignored",
                                s.trim()
                            )),
                        },
                        d => return Err(wrong(c, "Yes, Partial or No", d)),
                    },
                    Col::Text | Col::ProviderText | Col::CustomerText => {
                        let t = match d {
                            Data::Empty => None,
                            Data::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
                            Data::Int(_) | Data::Float(_) => Some(d.to_string()),
                            d => return Err(wrong(c, "text", d)),
                        };
                        match k {
                            Col::Text => f.text = t,
                            Col::ProviderText => f.provider_text = t,
                            _ => f.customer_text = t,
                        }
                    }
                }
            }
            let id = match normalise_id(&raw_id) {
                Ok(id) => id,
                Err(e) => {
                    // A heading row (`Access Control (AC)`) says nothing; a row with facts
                    // under an id demarc cannot read is reported.
                    if f.has_fact() {
                        unparsed.push(format!("{at}: {e}"));
                    }
                    continue;
                }
            };
            if !f.has_fact() {
                continue;
            }
            f.id = id.clone();
            match by_id.get(&id) {
                None => {
                    by_id.insert(id, facts.rows.len());
                    facts.rows.push(f);
                }
                Some(&i) => merge(&mut facts.rows[i], f, &mut facts.warnings),
            }
        }
    }
    if facts.sheets.is_empty() {
        return Err(match id_only {
            Some((sheet, row, texts)) => ExchangeError::new(
                name,
                format!("sheet \"{sheet}\" row {row}"),
                format!(
                    "a Control ID column, but no column demarc reads beside it (found: {})",
                    texts.join(", ")
                ),
                "add the \"Can Be Inherited from CSP\" column, the Control Origination columns or the responsibilities column of FedRAMP's CIS/CRM template",
            ),
            None => ExchangeError::new(
                name,
                format!(
                    "sheets {}",
                    all.iter()
                        .map(|(s, _)| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "no CIS or CRM worksheet: no sheet has a header row with a Control ID column",
                format!(
                    "give FedRAMP's CIS/CRM workbook (SSP Appendix J): a sheet whose header row (within its first {HEADER_SCAN_ROWS} rows) has \"Control ID\" and \"Can Be Inherited from CSP\", the Control Origination columns or the responsibilities column"
                ),
            ),
        });
    }
    if !unparsed.is_empty() {
        let n = unparsed.len();
        unparsed.truncate(5);
        facts.warnings.push(format!(
            "{n} rows with answers have a control id demarc cannot read and were skipped: {}{}",
            unparsed.join("; "),
            if n > 5 { "; …" } else { "" }
        ));
    }
    Ok(facts)
}

/// Merges a later row about the same control id into the first; a disagreement is reported
/// and the first kept.
fn merge(into: &mut RowFact, f: RowFact, warnings: &mut Vec<String>) {
    into.at.extend(f.at.iter().cloned());
    for b in f.boxes {
        if !into.boxes.contains(&b) {
            into.boxes.push(b);
        }
    }
    let mut keep = |what: &str, a: &mut Option<String>, b: Option<String>| match (a.as_ref(), b) {
        (None, b) => *a = b,
        (Some(x), Some(y)) if *x != y => warnings.push(format!(
            "{}: {}: two rows give different {what}; kept the first ({})",
            f.at.join(" and "),
            into.label,
            into.at[0]
        )),
        _ => {}
    };
    keep("implementation statuses", &mut into.status, f.status);
    keep("responsibility texts", &mut into.text, f.text);
    keep("provider texts", &mut into.provider_text, f.provider_text);
    keep("customer texts", &mut into.customer_text, f.customer_text);
    match (into.answer, f.answer) {
        (None, b) => into.answer = b,
        (Some(a), Some(b)) if a != b => warnings.push(format!(
            "{}: {}: Can Be Inherited is {} here but {} at {}; kept {}",
            f.at.join(" and "),
            into.label,
            b.as_str(),
            a.as_str(),
            into.at[0],
            a.as_str()
        )),
        _ => {}
    }
}

/// The side the origination boxes give, if any are ticked.
fn side_of_boxes(boxes: &[OriginBox]) -> Option<Side> {
    if boxes.is_empty() {
        return None;
    }
    let p = boxes.iter().any(|b| b.side() == BoxSide::Provider);
    let c = boxes.iter().any(|b| b.side() == BoxSide::Customer);
    let both = boxes.iter().any(|b| b.side() == BoxSide::Both);
    Some(if both || (p && c) {
        Side::Shared
    } else if p {
        Side::Provider
    } else {
        Side::Customer
    })
}

fn slug(s: &str, max: usize) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(max).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A provider's CIS/CRM workbook becomes a catalog overlay.
///
/// Who implements a requirement (the CIS's origination boxes) and whether the customer can
/// inherit it (the CRM's answer) are read as separate facts and counted separately in the
/// summary; neither is filled in from the other. The overlay's owner follows the origination
/// boxes (several ticked on one row: provider and customer boxes together, or Shared, make
/// it shared); a row without boxes takes its CRM answer (Yes → provider, Partial → shared,
/// No → customer); a row with neither but status N/A is not applicable. When the boxes and
/// the answer disagree, a warning says so.
pub fn import(name: &str, bytes: &[u8]) -> Result<Imported, ExchangeError> {
    let facts = read(name, bytes)?;
    let mut warnings = facts.warnings.clone();
    let mut req_facts = Vec::new();
    let mut yes = 0;
    let mut partial = 0;
    let mut no = 0;
    let mut origination: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut sideless = Vec::new();
    for f in &facts.rows {
        match f.answer {
            Some(CanInherit::Yes) => yes += 1,
            Some(CanInherit::Partial) => partial += 1,
            Some(CanInherit::No) => no += 1,
            None => {}
        }
        for b in &f.boxes {
            *origination.entry(b.label()).or_default() += 1;
        }
        let by_boxes = side_of_boxes(&f.boxes);
        let by_answer = f.answer.map(|a| match a {
            CanInherit::Yes => Side::Provider,
            CanInherit::Partial => Side::Shared,
            CanInherit::No => Side::Customer,
        });
        if let (Some(s), Some(a), Some(ans)) = (by_boxes, by_answer, f.answer)
            && s != a
        {
            warnings.push(format!(
                "{}: {}: the origination ({}) says {} implements it, but Can Be Inherited says \"{}\"; both kept as written, the overlay follows the origination",
                f.where_(),
                f.label,
                f.boxes.iter().map(|b| b.label()).collect::<Vec<_>>().join(" + "),
                match s {
                    Side::Provider => "the provider",
                    Side::Customer => "the customer",
                    _ => "provider and customer together",
                },
                ans.as_str()
            ));
        }
        let side = match by_boxes.or(by_answer) {
            Some(s) => s,
            None if f.status.as_deref() == Some("N/A") => Side::NotApplicable,
            None => {
                sideless.push(format!("{} ({})", f.label, f.at[0]));
                continue;
            }
        };
        let (mut p, mut c) = match side {
            Side::Provider => (f.text.clone(), None),
            Side::Customer => (None, f.text.clone()),
            _ => (f.text.clone(), f.text.clone()),
        };
        if f.provider_text.is_some() {
            p = f.provider_text.clone();
        }
        if f.customer_text.is_some() {
            c = f.customer_text.clone();
        }
        req_facts.push(RequirementFact {
            framework: "nist-800-53".into(),
            requirement: f.id.clone(),
            side,
            provider_text: p,
            customer_text: c,
            at: f.at[0].clone(),
        });
    }
    if !sideless.is_empty() {
        let n = sideless.len();
        sideless.truncate(5);
        warnings.push(format!(
            "{n} control ids have text but neither an origination box nor a Can Be Inherited answer, so no owner; skipped: {}{}",
            sideless.join(", "),
            if n > 5 { ", …" } else { "" }
        ));
    }
    // Naming: the workbook's CSP cell, else the file name. Deterministic.
    let stem = std::path::Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| name.to_string());
    let provider_name = facts
        .provider_name
        .clone()
        .or_else(|| facts.title_name.clone())
        .unwrap_or_else(|| stem.clone());
    let mut provider = slug(&provider_name, 40);
    if provider.is_empty() || !provider.as_bytes()[0].is_ascii_lowercase() {
        provider = format!("p-{provider}").trim_end_matches('-').to_string();
    }
    let system = facts
        .system_name
        .clone()
        .or_else(|| facts.title_name.clone());
    let service_slug = system
        .as_deref()
        .map(|s| slug(s, 40))
        .filter(|s| !s.is_empty());
    let checked = match facts.date {
        Some(d) => d,
        None => {
            warnings.push("the workbook records no date in its properties; source.checked is set to 1970-01-01: set it to the date you checked the workbook".into());
            NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
        }
    };
    let file_name = std::path::Path::new(name)
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| name.to_string());
    let head = ServiceHead {
        id: format!(
            "{provider}:{}",
            service_slug.as_deref().unwrap_or("service")
        ),
        name: system.unwrap_or_else(|| format!("{provider_name} (FedRAMP CIS/CRM)")),
        provider,
        provider_name,
        model: "saas".into(),
        title: format!("{file_name} (FedRAMP CIS/CRM workbook)"),
        provenance: Provenance::File {
            path: name.to_string(),
            sha256: Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        },
        checked,
    };
    let built = overlay::build(&head, &req_facts, Catalog::builtin());
    warnings.extend(built.warnings.iter().cloned());
    if !built.unmapped.is_empty() {
        let n = built.unmapped.len();
        warnings.push(format!(
            "{n} requirements map to no demarc control and are not in the overlay: {}{}",
            built
                .unmapped
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if n > 10 { ", …" } else { "" }
        ));
    }
    let summary = serde_json::json!({
        "requirements": facts.rows.len(),
        "can_be_inherited": {"yes": yes, "partial": partial, "no": no},
        "origination": origination,
    });
    Ok(Imported {
        overlay_yaml: built.yaml,
        summary,
        warnings,
    })
}
