//! CSA CAIQ v4.0 / v4.1 (and CAIQ-Lite) workbooks supplied by the user: SSRM ownership per
//! CCM control into a catalog overlay. No CSA content is shipped: the reader knows the
//! column headers and the ownership vocabulary, nothing of the questions.
//!
//! The workbook is checked before it is parsed: it must be a zip archive holding an Excel
//! workbook, with at most [`MAX_ENTRIES`] entries whose uncompressed sizes (as declared, and
//! as actually inflated) add up to at most [`MAX_UNCOMPRESSED_BYTES`]. Only then does calamine
//! read it. The sheet is the first whose header row (one of the first [`HEADER_ROWS`] rows,
//! merged cells and a header split over two rows included) names a question or CCM control
//! id column and the `SSRM Control Ownership` column.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use calamine::{Data, Dimensions, Range, Reader, Xlsx};
use chrono::NaiveDate;
use demarc_catalog::Catalog;
use sha2::{Digest, Sha256};

use crate::overlay::{self, Provenance, RequirementFact, ServiceHead, Side};
use crate::{ExchangeError, Imported};

/// The most a workbook may inflate to, all entries together (256 MiB). A CAIQ is a few MiB.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 256 << 20;
/// The most entries a workbook's zip archive may hold.
pub const MAX_ENTRIES: usize = 10_000;
/// The most rows read from the CAIQ sheet.
pub const MAX_ROWS: usize = 100_000;
/// Header rows are looked for in the first this many rows of each sheet.
pub const HEADER_ROWS: usize = 10;

/// The catalog framework CCM control ids belong to.
const FRAMEWORK: &str = "csa-ccm";

/// The columns the reader knows, by what their headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Col {
    QuestionId,
    CcmId,
    Ownership,
    CspText,
    CscText,
    Answer,
}

impl Col {
    fn header(self) -> &'static str {
        match self {
            Col::QuestionId => "Question ID",
            Col::CcmId => "CCM Control ID",
            Col::Ownership => "SSRM Control Ownership",
            Col::CspText => "CSP Implementation Description",
            Col::CscText => "CSC Responsibilities",
            Col::Answer => "CSP CAIQ Answer",
        }
    }
}

/// Lowercase words of a header or value: `SSRM  Control\nOwnership` → `ssrm control ownership`.
fn norm(s: &str) -> String {
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

fn classify(header: &str) -> Option<Col> {
    let n = norm(header);
    if n.is_empty() {
        return None;
    }
    let has = |w: &str| n.contains(w);
    if has("ownership") {
        Some(Col::Ownership)
    } else if has("question id") || n == "questionid" || has("question identifier") {
        Some(Col::QuestionId)
    } else if has("ccm control id") || n == "control id" || has("ccm id") {
        Some(Col::CcmId)
    } else if has("csc responsibilit") || has("customer responsibilit") {
        Some(Col::CscText)
    } else if has("csp implementation") || has("implementation description") {
        Some(Col::CspText)
    } else if has("answer") {
        Some(Col::Answer)
    } else {
        None
    }
}

/// SSRM control ownership, as CAIQ v4 writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ownership {
    CspOwned,
    CscOwned,
    SharedCsc,
    SharedThirdParty,
    Outsourced,
    Na,
}

impl Ownership {
    fn parse(raw: &str) -> Option<Ownership> {
        let n = norm(raw).replace("third party", "3rd party");
        Some(match n.as_str() {
            "csp owned" | "csp" => Ownership::CspOwned,
            "csc owned" | "csc" => Ownership::CscOwned,
            "shared csp and csc" | "shared csp csc" | "shared" => Ownership::SharedCsc,
            "shared csp and 3rd party" | "shared csp 3rd party" => Ownership::SharedThirdParty,
            "3rd party outsourced" | "3rd party" => Ownership::Outsourced,
            "na" | "n a" | "not applicable" => Ownership::Na,
            _ => return None,
        })
    }
    fn label(self) -> &'static str {
        match self {
            Ownership::CspOwned => "CSP-owned",
            Ownership::CscOwned => "CSC-owned",
            Ownership::SharedCsc => "Shared CSP and CSC",
            Ownership::SharedThirdParty => "Shared CSP and 3rd-party",
            Ownership::Outsourced => "3rd-party outsourced",
            Ownership::Na => "NA",
        }
    }
    /// The side of the demarc line, seen from the customer: the provider's third parties
    /// work on the provider's side.
    fn side(self) -> Side {
        match self {
            Ownership::CspOwned | Ownership::SharedThirdParty | Ownership::Outsourced => {
                Side::Provider
            }
            Ownership::CscOwned => Side::Customer,
            Ownership::SharedCsc => Side::Shared,
            Ownership::Na => Side::NotApplicable,
        }
    }
}

/// `iam-14.1` → `IAM-14`, `A&A-1` → `A&A-01`: a CCM control id, from a CCM id or a CAIQ
/// question id.
fn ccm_control(raw: &str) -> Option<String> {
    let t: String = raw.trim().chars().filter(|c| !c.is_whitespace()).collect();
    let (family, rest) = t.split_once('-')?;
    let family = family.to_ascii_uppercase();
    if !(2..=4).contains(&family.len())
        || !family.chars().all(|c| c.is_ascii_uppercase() || c == '&')
        || !family.starts_with(|c: char| c.is_ascii_uppercase())
    {
        return None;
    }
    let number = rest.split('.').next()?;
    if number.is_empty() || number.len() > 3 || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = number.parse().ok()?;
    Some(format!("{family}-{n:02}"))
}

fn err(file: &str, at: impl Into<String>, msg: impl Into<String>, help: &str) -> ExchangeError {
    ExchangeError::new(file, at, msg, help)
}

/// Checks the archive before calamine sees it: a zip holding a workbook, within the limits.
/// Returns the workbook's own date (`dcterms:modified`, else `dcterms:created`).
fn inspect_zip(name: &str, bytes: &[u8]) -> Result<Option<NaiveDate>, ExchangeError> {
    const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];
    if bytes.starts_with(CFB) {
        return Err(err(
            name,
            "",
            "this is an Excel 97-2003 (.xls) workbook; demarc reads CAIQ workbooks as .xlsx",
            "open it in a spreadsheet program and save it as an Excel workbook (.xlsx)",
        ));
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        err(
            name,
            "",
            format!("not an Excel workbook (an .xlsx file is a zip archive): {e}"),
            "give the CAIQ as the .xlsx workbook the provider published",
        )
    })?;
    if zip.len() > MAX_ENTRIES {
        return Err(err(
            name,
            "",
            format!(
                "the workbook's archive holds {} entries; demarc reads at most {MAX_ENTRIES}",
                zip.len()
            ),
            "this is not a CAIQ workbook, or it has been tampered with",
        ));
    }
    let too_big = |total: u64| {
        err(
            name,
            "",
            format!(
                "the workbook inflates to more than {} MiB ({} MiB or more); demarc refuses it as a possible zip bomb",
                MAX_UNCOMPRESSED_BYTES >> 20,
                total >> 20
            ),
            "a CAIQ workbook inflates to a few MiB: check that this is the provider's CAIQ",
        )
    };
    let mut declared: u64 = 0;
    let mut has_workbook = false;
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| {
            err(
                name,
                "",
                format!("the workbook's archive is damaged: {e}"),
                "download the workbook again",
            )
        })?;
        declared = declared.saturating_add(f.size());
        if f.name() == "xl/workbook.xml" {
            has_workbook = true;
        }
    }
    if declared > MAX_UNCOMPRESSED_BYTES {
        return Err(too_big(declared));
    }
    if !has_workbook {
        return Err(err(
            name,
            "",
            "a zip archive, but not an Excel workbook (it has no xl/workbook.xml)",
            "give the CAIQ as the .xlsx workbook the provider published",
        ));
    }
    // Declared sizes can lie: inflate every entry, counting, and stop at the limit.
    let mut actual: u64 = 0;
    let mut date = None;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| {
            err(
                name,
                "",
                format!("the workbook's archive is damaged: {e}"),
                "download the workbook again",
            )
        })?;
        let entry = f.name().to_string();
        let budget = MAX_UNCOMPRESSED_BYTES - actual;
        if entry == "docProps/core.xml" {
            let mut text = String::new();
            let n = (&mut f)
                .take(budget.min(1 << 20) + 1)
                .read_to_string(&mut text)
                .unwrap_or(0) as u64;
            actual += n;
            date = core_date(&text);
            let rest =
                std::io::copy(&mut (&mut f).take(budget + 1), &mut std::io::sink()).unwrap_or(0);
            actual = actual.saturating_add(rest);
        } else {
            let n = std::io::copy(&mut (&mut f).take(budget + 1), &mut std::io::sink()).map_err(
                |e| {
                    err(
                        name,
                        format!("entry {entry}"),
                        format!("the workbook's archive is damaged: {e}"),
                        "download the workbook again",
                    )
                },
            )?;
            actual = actual.saturating_add(n);
        }
        if actual > MAX_UNCOMPRESSED_BYTES {
            return Err(too_big(actual));
        }
    }
    Ok(date)
}

/// The date of `docProps/core.xml`: modified, else created.
fn core_date(xml: &str) -> Option<NaiveDate> {
    let find = |tag: &str| -> Option<NaiveDate> {
        let start = xml.find(&format!("<{tag}"))?;
        let after = &xml[start..];
        let open_end = after.find('>')? + 1;
        let text = &after[open_end..];
        let d = text.get(..10)?;
        d.parse().ok()
    };
    find("dcterms:modified").or_else(|| find("dcterms:created"))
}

fn cell_text(range: &Range<Data>, row: usize, col: usize) -> String {
    match range.get((row, col)) {
        None | Some(Data::Empty) => String::new(),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(d) => d.to_string().trim().to_string(),
    }
}

/// The text of a header cell: its own, or the merged region's top-left value.
fn header_text(range: &Range<Data>, merged: &[Dimensions], row: usize, col: usize) -> String {
    let own = cell_text(range, row, col);
    if !own.is_empty() {
        return own;
    }
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let (ar, ac) = (row as u32 + r0, col as u32 + c0);
    for m in merged {
        if m.contains(ar, ac) {
            let (mr, mc) = m.start;
            if mr >= r0 && mc >= c0 {
                return cell_text(range, (mr - r0) as usize, (mc - c0) as usize);
            }
        }
    }
    String::new()
}

/// A header row found in a sheet: row index and column of each known header.
struct Header {
    row: usize,
    cols: BTreeMap<Col, usize>,
}

fn find_header(range: &Range<Data>, merged: &[Dimensions]) -> (Option<Header>, BTreeSet<Col>) {
    let (height, width) = range.get_size();
    let mut seen = BTreeSet::new();
    for row in 0..height.min(HEADER_ROWS) {
        let mut cols = BTreeMap::new();
        for col in 0..width.min(200) {
            let text = header_text(range, merged, row, col);
            let mut kind = classify(&text);
            // A header split over two rows (`SSRM` above `Control Ownership`).
            if row > 0 {
                let above = header_text(range, merged, row - 1, col);
                if !above.is_empty() && above != text {
                    let joined = classify(&format!("{above} {text}"));
                    if kind.is_none() || joined == Some(Col::Ownership) {
                        kind = joined.or(kind);
                    }
                }
            }
            if let Some(k) = kind {
                cols.entry(k).or_insert(col);
                seen.insert(k);
            }
        }
        let has_id = cols.contains_key(&Col::QuestionId) || cols.contains_key(&Col::CcmId);
        if has_id && cols.contains_key(&Col::Ownership) {
            return (Some(Header { row, cols }), seen);
        }
    }
    (None, seen)
}

/// One question's answer as read.
struct Question {
    id: String,
    ownership: Ownership,
    csp: Option<String>,
    csc: Option<String>,
}

/// Reads a CAIQ workbook into a catalog overlay (see the module documentation).
pub fn import(name: &str, bytes: &[u8]) -> Result<Imported, ExchangeError> {
    let date = inspect_zip(name, bytes)?;
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        err(
            name,
            "",
            format!("the workbook cannot be read: {e}"),
            "open it in a spreadsheet program, save it as .xlsx and try again",
        )
    })?;
    let sheets = wb.sheet_names();
    let mut found = None;
    let mut partial: Vec<String> = Vec::new();
    for sheet in &sheets {
        let range = match wb.worksheet_range(sheet) {
            Ok(r) => r,
            Err(e) => {
                return Err(err(
                    name,
                    format!("sheet \"{sheet}\""),
                    format!("the sheet cannot be read: {e}"),
                    "open it in a spreadsheet program, save it as .xlsx and try again",
                ));
            }
        };
        let merged = wb
            .worksheet_merge_cells(sheet)
            .and_then(Result::ok)
            .unwrap_or_default();
        let (header, seen) = find_header(&range, &merged);
        if let Some(h) = header {
            found = Some((sheet.clone(), range, h));
            break;
        }
        if !seen.is_empty() {
            partial.push(format!(
                "\"{sheet}\" has {}",
                seen.iter()
                    .map(|c| format!("`{}`", c.header()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let Some((sheet, range, header)) = found else {
        let mut msg = format!(
            "no sheet has the CAIQ headers: looked for `{}` (or `{}`) and `{}` in rows 1-{HEADER_ROWS} of {}",
            Col::QuestionId.header(),
            Col::CcmId.header(),
            Col::Ownership.header(),
            if sheets.is_empty() {
                "a workbook with no sheets".to_string()
            } else {
                sheets
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        if !partial.is_empty() {
            msg.push_str(&format!("; found only: {}", partial.join("; ")));
        }
        return Err(err(
            name,
            "",
            msg,
            "give a CAIQ v4.0 or v4.1 workbook (or a CAIQ-Lite) with its SSRM Control Ownership column filled in; the columns `CSP Implementation Description`, `CSC Responsibilities` and `CCM Control ID` are read when present",
        ));
    };
    let (height, _) = range.get_size();
    let r0 = range.start().map_or(0, |s| s.0 as usize);
    if height > MAX_ROWS + header.row {
        return Err(err(
            name,
            format!("sheet \"{sheet}\""),
            format!("the sheet has {height} rows; demarc reads at most {MAX_ROWS} question rows"),
            "a CAIQ has a few hundred questions: check that this is the provider's CAIQ",
        ));
    }
    let at = |row: usize| format!("sheet \"{sheet}\" row {}", r0 + row + 1);
    let col = |c: Col| header.cols.get(&c).copied();
    let mut warnings = Vec::new();
    let mut questions: Vec<(String, Question, String)> = Vec::new(); // control, question, at
    let mut blank = 0usize;
    let mut unknown_values = 0usize;
    for row in header.row + 1..height {
        let qid = col(Col::QuestionId)
            .map(|c| cell_text(&range, row, c))
            .unwrap_or_default();
        let ccm = col(Col::CcmId)
            .map(|c| cell_text(&range, row, c))
            .unwrap_or_default();
        let own = col(Col::Ownership)
            .map(|c| cell_text(&range, row, c))
            .unwrap_or_default();
        if qid.is_empty() && ccm.is_empty() {
            continue;
        }
        let control = if ccm.is_empty() {
            ccm_control(&qid)
        } else {
            ccm_control(&ccm)
        };
        let Some(control) = control else {
            if !own.is_empty() {
                warnings.push(format!(
                    "{}: `{}` is not a CAIQ question id or CCM control id (like IAM-14.1 or IAM-14); skipped",
                    at(row),
                    if ccm.is_empty() { &qid } else { &ccm }
                ));
            }
            continue;
        };
        if own.is_empty() {
            blank += 1;
            continue;
        }
        let Some(ownership) = Ownership::parse(&own) else {
            unknown_values += 1;
            warnings.push(format!(
                "{}: `{own}` is not an SSRM ownership value (CSP-owned, CSC-owned, Shared CSP and CSC, Shared CSP and 3rd-party, 3rd-party outsourced, NA); skipped",
                at(row)
            ));
            continue;
        };
        let text = |c: Col| {
            col(c)
                .map(|c| cell_text(&range, row, c))
                .filter(|t| !t.is_empty())
        };
        let id = if qid.is_empty() {
            control.clone()
        } else {
            qid.clone()
        };
        questions.push((
            control,
            Question {
                id,
                ownership,
                csp: text(Col::CspText),
                csc: text(Col::CscText),
            },
            at(row),
        ));
    }
    if blank > 0 {
        warnings.push(format!(
            "sheet \"{sheet}\": {blank} questions have no SSRM ownership value and were left out"
        ));
    }
    if questions.is_empty() {
        return Err(err(
            name,
            format!("sheet \"{sheet}\""),
            format!(
                "no question has an SSRM ownership value (header on row {}{})",
                r0 + header.row + 1,
                if unknown_values > 0 {
                    format!("; {unknown_values} values were not recognised")
                } else {
                    String::new()
                }
            ),
            "fill in the `SSRM Control Ownership` column, or give the provider's completed CAIQ",
        ));
    }

    // Aggregate the questions of each CCM control.
    let mut ownership_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut by_control: BTreeMap<String, Vec<(Question, String)>> = BTreeMap::new();
    for (control, q, at) in questions {
        *ownership_counts.entry(q.ownership.label()).or_default() += 1;
        by_control.entry(control).or_default().push((q, at));
    }
    let question_count: usize = by_control.values().map(Vec::len).sum();
    let mut facts = Vec::new();
    for (control, qs) in &by_control {
        let sides: BTreeSet<Side> = qs
            .iter()
            .map(|(q, _)| q.ownership.side())
            .filter(|s| *s != Side::NotApplicable)
            .collect();
        let side = match sides.len() {
            0 => Side::NotApplicable,
            1 => *sides.iter().next().unwrap_or(&Side::Shared),
            _ => {
                warnings.push(format!(
                    "{control}: its questions disagree ({}); treated as shared",
                    qs.iter()
                        .map(|(q, _)| format!("{} {}", q.id, q.ownership.label()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                Side::Shared
            }
        };
        let mut csp: Vec<String> = Vec::new();
        let mut csc: Vec<String> = Vec::new();
        for (q, _) in qs {
            if let Some(t) = &q.csp {
                let t = match q.ownership {
                    Ownership::SharedThirdParty | Ownership::Outsourced => {
                        format!("({}) {t}", q.ownership.label())
                    }
                    _ => t.clone(),
                };
                if !csp.contains(&t) {
                    csp.push(t);
                }
            }
            if let Some(t) = &q.csc
                && !csc.contains(t)
            {
                csc.push(t.clone());
            }
        }
        let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(" "));
        facts.push(RequirementFact {
            framework: FRAMEWORK.to_string(),
            requirement: control.clone(),
            side,
            provider_text: join(csp),
            customer_text: join(csc),
            at: qs.first().map(|(_, a)| a.clone()).unwrap_or_default(),
        });
    }

    let sha = Sha256::digest(bytes);
    let sha256: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    let stem = std::path::Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| name.to_string());
    let slug = slug(&stem);
    let checked = date.unwrap_or_else(|| {
        warnings.push(
            "the workbook records no date (docProps/core.xml); the overlay's source.checked is 1970-01-01: set it to the day you read the CAIQ".into(),
        );
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
    });
    warnings.push(format!(
        "the service is named `{slug}:service` with the `saas` model after the file name: rename the provider and service, and set the model, to match the estate's party and the service it uses"
    ));
    let head = ServiceHead {
        provider: slug.clone(),
        provider_name: stem.clone(),
        id: format!("{slug}:service"),
        name: format!("{stem} (CAIQ)"),
        model: "saas".into(),
        title: format!("CSA CAIQ {stem}"),
        provenance: Provenance::File {
            path: name.to_string(),
            sha256,
        },
        checked,
    };
    let built = overlay::build(&head, &facts, Catalog::builtin());
    warnings.extend(built.warnings.iter().cloned());
    let summary = serde_json::json!({
        "questions": question_count,
        "controls": by_control.len(),
        "ownership": ownership_counts,
        "unmapped": built.unmapped.iter().map(|u| u.to_ascii_uppercase()).collect::<Vec<_>>(),
        "demarc_controls": built.controls.len(),
        "sheet": sheet,
        "header_row": r0 + header.row + 1,
        "service": head.id,
    });
    Ok(Imported {
        overlay_yaml: built.yaml,
        summary,
        warnings,
    })
}

/// `Acme Cloud CAIQ v4.1` → `acme-cloud-caiq-v4-1`: a catalog provider id.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out
    } else {
        format!("caiq-{out}").trim_end_matches('-').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_ids_belong_to_their_control() {
        assert_eq!(ccm_control("IAM-14.1").as_deref(), Some("IAM-14"));
        assert_eq!(ccm_control(" iam-14 ").as_deref(), Some("IAM-14"));
        assert_eq!(ccm_control("A&A-1.2").as_deref(), Some("A&A-01"));
        assert_eq!(ccm_control("DCS-03").as_deref(), Some("DCS-03"));
        assert_eq!(ccm_control("Audit & Assurance"), None);
        assert_eq!(ccm_control("IAM"), None);
        assert_eq!(ccm_control("12-3"), None);
    }

    #[test]
    fn headers_and_values_are_read_loosely() {
        assert_eq!(classify("SSRM Control\nOwnership"), Some(Col::Ownership));
        assert_eq!(classify("  question   ID "), Some(Col::QuestionId));
        assert_eq!(
            classify("CSP Implementation Description (Optional/Recommended)"),
            Some(Col::CspText)
        );
        assert_eq!(
            classify("CSC Responsibilities (Optional/Recommended)"),
            Some(Col::CscText)
        );
        assert_eq!(classify("CCM Control ID"), Some(Col::CcmId));
        assert_eq!(classify("CSP CAIQ Answer"), Some(Col::Answer));
        assert_eq!(classify("Question"), None);
        assert_eq!(Ownership::parse("csp-owned"), Some(Ownership::CspOwned));
        assert_eq!(
            Ownership::parse("Shared CSP and Third-party"),
            Some(Ownership::SharedThirdParty)
        );
        assert_eq!(
            Ownership::parse("3rd-party outsourced"),
            Some(Ownership::Outsourced)
        );
        assert_eq!(Ownership::parse("N/A"), Some(Ownership::Na));
        assert_eq!(Ownership::parse("maybe"), None);
    }

    #[test]
    fn slugs_are_provider_ids() {
        assert_eq!(slug("Acme Cloud CAIQ v4.1"), "acme-cloud-caiq-v4-1");
        assert_eq!(slug("2026 caiq"), "caiq-2026-caiq");
    }

    #[test]
    fn core_properties_give_the_date() {
        let xml = r#"<cp:coreProperties><dcterms:created xsi:type="dcterms:W3CDTF">2026-01-02T00:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2026-10-01T08:00:00Z</dcterms:modified></cp:coreProperties>"#;
        assert_eq!(core_date(xml), "2026-10-01".parse().ok());
    }
}
