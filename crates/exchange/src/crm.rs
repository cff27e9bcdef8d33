//! FedRAMP CIS/CRM workbooks (SSP Appendix J): export from the estate, import a provider's.
//!
//! **Export** writes the three sheets of FedRAMP's template for one baseline, in its column
//! layout: `Instructions` (who and what), `<Level> CIS Worksheet` (control id, implementation
//! status and control origination boxes, headers over two rows) and `<Level> CRM Worksheet`
//! (control id, "Can Be Inherited from CSP", the responsibilities). Everything comes from the
//! estate's FedRAMP rollup ([`demarc_compliance::rollup::rollup`]): the workbook describes
//! the split between the estate's providers (the "service provider" columns) and the estate
//! (the "customer" columns). One row per top-level statement part (`AC-2(a)`), or per
//! control or enhancement without parts (`AC-2(1)`), like the template; a part row carries
//! its requirement's origination. A column after the template's, `Notes (demarc)`, says why
//! a row is partial, not applicable or not addressed.
//!
//! **Import** reads a provider's workbook into a catalog overlay; see [`import`] and
//! `docs/exchange-fedramp.md`.

mod import;

use demarc_compliance::rollup::{self, Options, Origination, Row};
use demarc_compliance::{Baseline, Library};
use demarc_engine::{Resolution, Role};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::ExchangeError;
use crate::workbook::{header_format, ownership_fill, properties, xlsx_error};

pub use import::import;

/// The template's implementation-status columns, in order.
pub const STATUS: [&str; 5] = [
    "Implemented",
    "Partially Implemented",
    "Planned",
    "Alternative Implementation",
    "N/A",
];

/// One control-origination box of the CIS worksheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OriginBox {
    ProviderCorporate,
    ProviderSystem,
    ProviderHybrid,
    ConfiguredByCustomer,
    ProvidedByCustomer,
    Shared,
    Inherited,
}

impl OriginBox {
    pub const ALL: [OriginBox; 7] = [
        OriginBox::ProviderCorporate,
        OriginBox::ProviderSystem,
        OriginBox::ProviderHybrid,
        OriginBox::ConfiguredByCustomer,
        OriginBox::ProvidedByCustomer,
        OriginBox::Shared,
        OriginBox::Inherited,
    ];
    /// The template's column header.
    pub fn header(self) -> &'static str {
        match self {
            OriginBox::ProviderCorporate => "Service Provider Corporate",
            OriginBox::ProviderSystem => "Service Provider System Specific",
            OriginBox::ProviderHybrid => "Service Provider Hybrid (Corporate and System Specific)",
            OriginBox::ConfiguredByCustomer => "Configured by Customer (Customer System Specific)",
            OriginBox::ProvidedByCustomer => "Provided by Customer (Customer System Specific)",
            OriginBox::Shared => "Shared (Service Provider and Customer Responsibility)",
            OriginBox::Inherited => "Inherited from Pre-Existing Authorization",
        }
    }
    /// The label in import summaries.
    pub fn label(self) -> &'static str {
        match self {
            OriginBox::ProviderCorporate => "Service Provider Corporate",
            OriginBox::ProviderSystem => "Service Provider System Specific",
            OriginBox::ProviderHybrid => "Service Provider Hybrid",
            OriginBox::ConfiguredByCustomer => "Configured by Customer",
            OriginBox::ProvidedByCustomer => "Provided by Customer",
            OriginBox::Shared => "Shared",
            OriginBox::Inherited => "Inherited from Pre-Existing Authorization",
        }
    }
    /// Which side the box puts the work on.
    pub fn side(self) -> BoxSide {
        match self {
            OriginBox::ProviderCorporate
            | OriginBox::ProviderSystem
            | OriginBox::ProviderHybrid
            | OriginBox::Inherited => BoxSide::Provider,
            OriginBox::ConfiguredByCustomer | OriginBox::ProvidedByCustomer => BoxSide::Customer,
            OriginBox::Shared => BoxSide::Both,
        }
    }
}

/// The side an origination box names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxSide {
    Provider,
    Customer,
    Both,
}

/// The CRM's answer to "Can Be Inherited from CSP".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CanInherit {
    Yes,
    Partial,
    No,
}

impl CanInherit {
    pub fn as_str(self) -> &'static str {
        match self {
            CanInherit::Yes => "Yes",
            CanInherit::Partial => "Partial",
            CanInherit::No => "No",
        }
    }
}

/// The template's sheet-name prefix for a baseline id.
pub fn level_name(baseline: &str) -> String {
    match baseline {
        "li-saas" => "LI-SaaS".into(),
        "low" => "Low".into(),
        "moderate" => "Moderate".into(),
        "high" => "High".into(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// The CIS/CRM row ids of a requirement, as the template writes them: `AC-2(a)` per
/// top-level statement part, else the requirement's label (`AC-2(1)`, `AC-3`).
pub fn row_ids(r: &demarc_compliance::Requirement) -> Vec<String> {
    let tops: Vec<String> = r
        .parts
        .iter()
        .filter_map(|p| {
            let (_, tail) = p.id.split_once("_smt.")?;
            (!tail.contains('.')).then(|| format!("{}({tail})", r.label))
        })
        .collect();
    if tops.is_empty() {
        vec![r.label.clone()]
    } else {
        tops
    }
}

/// The boxes an exported row ticks. Inherited (every cell the providers'): "Inherited from
/// Pre-Existing Authorization" when an in-date attestation backs every inherited cell, else
/// "Service Provider System Specific". Shared: "Shared", plus "Inherited" when the
/// providers' part is backed. Customer: "Configured by Customer" for the customer's own
/// teams, "Provided by Customer" for third parties it hired.
pub fn export_boxes(row: &Row) -> Vec<OriginBox> {
    let backed = row.backing.cells > 0 && row.backing.backed == row.backing.cells;
    match row.origination {
        Origination::Inherited if backed => vec![OriginBox::Inherited],
        Origination::Inherited => vec![OriginBox::ProviderSystem],
        Origination::Shared if backed => vec![OriginBox::Shared, OriginBox::Inherited],
        Origination::Shared => vec![OriginBox::Shared],
        Origination::Customer => {
            let mut v = Vec::new();
            if row.shares.iter().any(|s| s.role == Role::Customer) {
                v.push(OriginBox::ConfiguredByCustomer);
            }
            if row
                .shares
                .iter()
                .any(|s| matches!(s.role, Role::Mssp | Role::Vendor))
            {
                v.push(OriginBox::ProvidedByCustomer);
            }
            if v.is_empty() {
                v.push(OriginBox::ConfiguredByCustomer);
            }
            v
        }
        Origination::NotApplicable | Origination::NotAddressed => Vec::new(),
    }
}

/// The CRM answer of an exported row.
pub fn export_answer(o: Origination) -> Option<CanInherit> {
    match o {
        Origination::Inherited => Some(CanInherit::Yes),
        Origination::Shared => Some(CanInherit::Partial),
        Origination::Customer => Some(CanInherit::No),
        Origination::NotApplicable | Origination::NotAddressed => None,
    }
}

fn share_text(s: &rollup::Share) -> String {
    if s.does.is_empty() {
        s.label.clone()
    } else {
        format!("{} ({})", s.label, s.does.join("; "))
    }
}

/// The CRM's responsibility text: blank for "Yes" (the template's guidance), what is
/// inherited and what the customer does for "Partial", the customer's part for "No".
fn responsibility_text(row: &Row) -> String {
    let provider: Vec<String> = row
        .shares
        .iter()
        .filter(|s| s.role == Role::Provider)
        .map(share_text)
        .collect();
    let customer: Vec<String> = row
        .shares
        .iter()
        .filter(|s| s.role != Role::Provider)
        .map(share_text)
        .collect();
    match row.origination {
        Origination::Inherited => String::new(),
        Origination::Shared => format!(
            "Inherited from the provider: {}. Customer responsibility: {}.",
            if provider.is_empty() {
                "(none named)".into()
            } else {
                provider.join("; ")
            },
            if customer.is_empty() {
                "(none named)".into()
            } else {
                customer.join("; ")
            }
        ),
        Origination::Customer => format!(
            "Cannot be inherited: no provider carries it in this estate. Customer responsibility: {}.",
            if customer.is_empty() {
                "(none named)".into()
            } else {
                customer.join("; ")
            }
        ),
        Origination::NotApplicable => {
            "Not applicable: no asset in scope has a control that maps to it.".into()
        }
        Origination::NotAddressed => format!(
            "Not addressed by demarc's catalog ({}); complete this row by hand.",
            row.requirement
                .not_addressed
                .as_deref()
                .unwrap_or("no reason recorded")
        ),
    }
}

fn notes_text(row: &Row) -> String {
    let mut parts = vec![format!("demarc: {}", row.origination.as_str())];
    if let Some(why) = &row.requirement.not_addressed
        && row.origination == Origination::NotAddressed
    {
        parts.push(why.clone());
    }
    if !row.backing.by.is_empty() {
        parts.push(format!(
            "backed by {}",
            row.backing
                .by
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    parts.extend(row.blockers.iter().cloned());
    parts.join("; ")
}

/// The Control Implementation Summary and Customer Responsibility Matrix, as XLSX bytes.
pub fn export(
    res: &Resolution,
    lib: &Library,
    baseline: &Baseline,
) -> Result<Vec<u8>, ExchangeError> {
    let r = rollup::rollup(
        lib,
        res,
        &Options {
            framework: &baseline.framework,
            baseline: Some(baseline),
            env: None,
            data: None,
            warn_days: res.estate().settings.expiry_warning.days(),
        },
    )
    .map_err(|e| ExchangeError::new("crm export", "", e.message, e.help))?;
    write_workbook(res, &r, baseline).map_err(|e| xlsx_error("crm export", e))
}

fn write_workbook(
    res: &Resolution,
    r: &rollup::Rollup,
    baseline: &Baseline,
) -> Result<Vec<u8>, XlsxError> {
    let level = level_name(&baseline.id);
    let estate = res.estate();
    let customer = res.accountable();
    let customer_name = estate
        .parties
        .get(customer)
        .map(|p| p.value.name.clone())
        .unwrap_or_else(|| customer.to_string());
    let mut wb = Workbook::new();
    wb.set_properties(&properties(
        &format!("{} CIS and CRM Workbook ({level})", estate.name),
        res.as_of(),
    ));
    let head = header_format()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let title = Format::new().set_bold().set_font_size(14);
    let cell = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let mark = Format::new()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);

    // Instructions: who and what, where the template keeps them.
    {
        let ws = wb.add_worksheet();
        ws.set_name("Instructions")?;
        ws.set_column_width(0, 3)?;
        ws.set_column_width(1, 28)?;
        ws.set_column_width(2, 40)?;
        ws.set_column_width(3, 12)?;
        ws.set_column_width(4, 24)?;
        ws.set_column_width(5, 16)?;
        ws.merge_range(
            0,
            2,
            0,
            5,
            &format!(
                "FedRAMP® System Security Plan (SSP) Appendix J: {} CIS and CRM Workbook",
                estate.name
            ),
            &title,
        )?;
        ws.write_string_with_format(2, 1, "System Name (CSP to complete all cells)", &head)?;
        for (c, h) in [
            (1, "CSP"),
            (2, "System Name"),
            (4, "System Identifier"),
            (5, "Impact Level"),
        ] {
            ws.write_string_with_format(3, c, h, &head)?;
        }
        ws.write_string(4, 1, &customer_name)?;
        ws.write_string(4, 2, &estate.name)?;
        ws.write_string(4, 4, &estate.name)?;
        ws.write_string(4, 5, &level)?;
        let lines = [
            format!(
                "Generated by demarc from the estate `{}` as of {}, for the FedRAMP {level} baseline ({} requirements).",
                estate.name, r.as_of, r.summary.requirements
            ),
            "\"Service provider\" columns are the estate's cloud and SaaS providers; \"customer\" columns are the estate (its own teams, and third parties it hired under contract).".into(),
            "Control Origination: Inherited from Pre-Existing Authorization when every provider-held cell is backed by an in-date attestation; Service Provider System Specific when the provider holds it without one; Shared when provider and customer each hold part; Configured by Customer for the customer's teams, Provided by Customer for third parties it hired.".into(),
            "Implementation Status: Implemented when demarc finds nothing missing (owner named, split written, attestation and evidence current); Partially Implemented otherwise (the Notes column says what is missing); N/A when no asset in scope has a mapped control. Rows demarc's catalog does not address are left blank.".into(),
            "A statement part carries the origination of its control.".into(),
        ];
        for (i, l) in lines.iter().enumerate() {
            ws.merge_range(6 + i as u32, 1, 6 + i as u32, 5, l, &wrap)?;
            ws.set_row_height(6 + i as u32, 45)?;
        }
    }

    // CIS.
    {
        let ws = wb.add_worksheet();
        ws.set_name(format!("{level} CIS Worksheet"))?;
        ws.merge_range(
            0,
            0,
            0,
            12,
            &format!("FedRAMP {level} Control Implementation Summary (CIS) Worksheet"),
            &title,
        )?;
        ws.merge_range(1, 0, 2, 0, "Control ID", &head)?;
        ws.merge_range(1, 1, 1, 5, "Implementation Status", &head)?;
        ws.merge_range(1, 6, 1, 12, "Control Origination", &head)?;
        ws.merge_range(1, 13, 2, 13, "Notes (demarc)", &head)?;
        for (i, h) in STATUS.iter().enumerate() {
            ws.write_string_with_format(2, 1 + i as u16, *h, &head)?;
        }
        for (i, b) in OriginBox::ALL.iter().enumerate() {
            ws.write_string_with_format(2, 6 + i as u16, b.header(), &head)?;
        }
        ws.set_column_width(0, 14)?;
        for c in 1..13 {
            ws.set_column_width(c, 15)?;
        }
        ws.set_column_width(13, 60)?;
        ws.set_row_height(2, 60)?;
        ws.set_freeze_panes(3, 1)?;
        let mut n = 3u32;
        for row in &r.rows {
            let status = match row.origination {
                Origination::NotAddressed => None,
                Origination::NotApplicable => Some(4),
                _ if row.ready => Some(0),
                _ => Some(1),
            };
            let boxes = export_boxes(row);
            let fill = ownership_fill(match row.origination {
                Origination::Inherited => "csp-owned",
                Origination::Shared => "shared",
                Origination::Customer => "csc-owned",
                _ => "",
            });
            let notes = notes_text(row);
            for id in row_ids(&row.requirement) {
                ws.write_string_with_format(n, 0, &id, fill.as_ref().unwrap_or(&cell))?;
                for c in 0..5u16 {
                    if status == Some(c) {
                        ws.write_string_with_format(n, 1 + c, "X", &mark)?;
                    } else {
                        ws.write_blank(n, 1 + c, &mark)?;
                    }
                }
                for (i, b) in OriginBox::ALL.iter().enumerate() {
                    if boxes.contains(b) {
                        ws.write_string_with_format(n, 6 + i as u16, "X", &mark)?;
                    } else {
                        ws.write_blank(n, 6 + i as u16, &mark)?;
                    }
                }
                ws.write_string_with_format(n, 13, &notes, &cell)?;
                n += 1;
            }
        }
        ws.autofilter(2, 0, n.saturating_sub(1).max(3), 13)?;
    }

    // CRM.
    {
        let ws = wb.add_worksheet();
        ws.set_name(format!("{level} CRM Worksheet"))?;
        ws.merge_range(
            0,
            0,
            0,
            2,
            &format!("FedRAMP {level} Customer Responsibility Matrix (CRM) Worksheet"),
            &title,
        )?;
        ws.merge_range(
            1,
            0,
            1,
            2,
            "GUIDANCE: \"Yes\": the estate's providers carry the control (Control Origination: Service Provider or Inherited); the responsibilities column is left blank. \"Partial\": shared; the column says what is inherited and what the customer does. \"No\": the customer carries it; the column says who. Rows without an answer are not applicable to the estate or not addressed by demarc's catalog.",
            &wrap,
        )?;
        ws.set_row_height(1, 75)?;
        for (c, h) in [
            "Control ID",
            "Can Be Inherited from CSP",
            "Specific Inheritance and Customer Agency/CSP Responsibilities",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(3, c as u16, *h, &head)?;
        }
        ws.set_column_width(0, 14)?;
        ws.set_column_width(1, 16)?;
        ws.set_column_width(2, 100)?;
        ws.set_freeze_panes(4, 1)?;
        let mut n = 4u32;
        for row in &r.rows {
            let answer = export_answer(row.origination);
            let text = responsibility_text(row);
            for id in row_ids(&row.requirement) {
                ws.write_string_with_format(n, 0, &id, &cell)?;
                match answer {
                    Some(a) => ws.write_string_with_format(n, 1, a.as_str(), &mark)?,
                    None => ws.write_blank(n, 1, &mark)?,
                };
                ws.write_string_with_format(n, 2, &text, &cell)?;
                n += 1;
            }
        }
        ws.autofilter(3, 0, n.saturating_sub(1).max(4), 2)?;
    }
    wb.save_to_buffer()
}

/// What an import found, before it becomes an [`Imported`]; public for tests.
#[doc(hidden)]
pub fn import_facts(name: &str, bytes: &[u8]) -> Result<import::Facts, ExchangeError> {
    import::read(name, bytes)
}

#[doc(hidden)]
pub use import::{Facts, RowFact};
