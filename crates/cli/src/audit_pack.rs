//! `demarc audit-pack`: what a reviewer asks for, in one directory written whole or not at
//! all (a temporary directory beside OUT, renamed into place once every file is written).

use std::io::Write;
use std::path::{Path, PathBuf};

use demarc_api as api;
use demarc_compliance::Library;
use demarc_compliance::rollup::{self, Options};
use demarc_engine::Resolution;
use demarc_report::{CellFilter, Format, RowWriter};
use rust_xlsxwriter::{Format as XFormat, Workbook, Worksheet, XlsxError};

use crate::compliance_cmd::{hash_evidence_files, sha256_file};
use crate::{InputError, json_out};

/// Excel's row limit, less the header.
const XLSX_MAX_ROWS: usize = demarc_exchange::workbook::XLSX_MAX_ROWS as usize - 1;

/// Colours of SSRM ownership in the workbook, with the legend's words: the colours every
/// demarc workbook uses (`demarc_exchange::workbook`), without the matrix workbook's "mixed".
fn ownership_colors() -> impl Iterator<Item = &'static (&'static str, u32, &'static str)> {
    demarc_exchange::workbook::OWNERSHIP_COLORS
        .iter()
        .filter(|(k, _, _)| *k != "mixed")
}

struct Pack {
    dir: PathBuf,
    files: Vec<api::PackFileV1>,
}

impl Pack {
    fn write(&mut self, name: &str, description: &str, bytes: &[u8]) -> Result<(), InputError> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(&path, &e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| fail(&path, &e))?;
        self.record(name, description)
    }
    fn record(&mut self, name: &str, description: &str) -> Result<(), InputError> {
        let path = self.dir.join(name);
        let meta = std::fs::metadata(&path).map_err(|e| fail(&path, &e))?;
        self.files.push(api::PackFileV1 {
            path: name.to_string(),
            bytes: meta.len(),
            sha256: sha256_file(&path).map_err(|e| fail(&path, &e))?,
            description: description.to_string(),
        });
        Ok(())
    }
}

fn fail(path: &Path, e: &dyn std::fmt::Display) -> InputError {
    InputError(format!("error: cannot write {}: {e}", path.display()))
}

fn xlsx_err(e: XlsxError) -> InputError {
    InputError(format!("error: cannot write the workbook: {e}"))
}

/// The frameworks to include: those asked for, else the estate's `settings.frameworks` that
/// demarc can roll up, else every framework.
fn frameworks(
    lib: &Library,
    res: &Resolution,
    asked: &[String],
) -> Result<Vec<String>, InputError> {
    if !asked.is_empty() {
        for f in asked {
            if lib.framework(f).is_none() {
                let ids: Vec<&str> = lib.framework_ids().collect();
                return Err(InputError(format!(
                    "error: unknown framework `{f}`\n  help: choose from {}",
                    ids.join(", ")
                )));
            }
        }
        return Ok(asked.to_vec());
    }
    let from_settings: Vec<String> = res
        .estate()
        .settings
        .frameworks
        .iter()
        .map(|f| f.value.clone())
        .filter(|f| lib.framework(f).is_some())
        .collect();
    if !from_settings.is_empty() {
        return Ok(from_settings);
    }
    Ok(lib.framework_ids().map(str::to_string).collect())
}

pub(crate) fn run(
    res: &Resolution,
    out: &Path,
    asked: &[String],
    force: bool,
) -> Result<u8, InputError> {
    if let Ok(meta) = std::fs::symlink_metadata(out) {
        if !force {
            return Err(InputError(format!(
                "error: {} already exists\n  help: give a new directory, or --force to replace it",
                out.display()
            )));
        }
        if !meta.is_dir() {
            return Err(InputError(format!(
                "error: {} exists and is not a directory\n  help: give the path of a new directory",
                out.display()
            )));
        }
    }
    let lib = Library::builtin()
        .map_err(|e| InputError(format!("error: the requirement catalogs do not load: {e}")))?;
    let fws = frameworks(lib, res, asked)?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".demarc-pack-")
        .tempdir_in(parent)
        .map_err(|e| fail(parent, &e))?;
    let mut pack = Pack {
        dir: tmp.path().to_path_buf(),
        files: Vec::new(),
    };
    let estate = &res.estate().name;
    let warn_days = res.estate().settings.expiry_warning.days();

    // Gaps.
    let analysis = res.gaps(demarc_engine::AnalyseOptions::default());
    let fixes = analysis.fixes();
    let check = api::CheckV1::new(res, &analysis);
    pack.write(
        "gaps.json",
        "every gap (demarc.check/v1): what is missing, whose it is, and the fix",
        json_out(&check).as_bytes(),
    )?;
    let gaps_csv = demarc_report::gaps_grid(&fixes, true).render(Format::Csv, false);
    pack.write("gaps.csv", "the gaps, one per fix", gaps_csv.as_bytes())?;

    // Compliance per framework, and the cross view.
    let mut rollups: Vec<(String, api::ComplianceV1)> = Vec::new();
    let mut cross = Vec::new();
    for fw in &fws {
        let baseline = match lib.default_baseline(fw).or(match fw.as_str() {
            "nist-800-53" => Some("moderate"),
            _ => None,
        }) {
            Some(b) => Some(
                lib.baseline(fw, b)
                    .map_err(|e| InputError(format!("error: {}\n  help: {}", e.message, e.help)))?,
            ),
            None => None,
        };
        let r = rollup::rollup(
            lib,
            res,
            &Options {
                framework: fw,
                baseline,
                env: None,
                data: None,
                warn_days,
            },
        )
        .map_err(|e| InputError(format!("error: {}\n  help: {}", e.message, e.help)))?;
        let c = api::ComplianceV1::new(estate, res.accountable(), &r, api::ScopeArgs::default());
        cross.push(api::CrossRowV1 {
            framework: c.framework.clone(),
            summary: c.summary.clone(),
            notes: rollup::cross_notes(&r),
        });
        pack.write(
            &format!("compliance/{fw}.json"),
            &format!("{fw}: every requirement with its split, attestation backing, evidence and readiness (demarc.compliance/v1)"),
            json_out(&c).as_bytes(),
        )?;
        pack.write(
            &format!("compliance/{fw}.csv"),
            &format!("{fw}: the same, one row per requirement"),
            demarc_report::compliance::compliance_csv_grid(&c)
                .render(Format::Csv, false)
                .as_bytes(),
        )?;
        pack.write(
            &format!("compliance/{fw}.html"),
            &format!("{fw}: readable page"),
            demarc_report::compliance::compliance_html(&c).as_bytes(),
        )?;
        rollups.push((fw.clone(), c));
    }
    let cross = api::ComplianceCrossV1 {
        schema: api::COMPLIANCE_CROSS.to_string(),
        estate: estate.clone(),
        as_of: res.as_of(),
        assets: res.asset_count(),
        frameworks: cross,
        explanation: vec![
            "One responsibility map, projected onto each framework: shares are of each framework's own applicable requirements.".into(),
        ],
    };
    pack.write(
        "compliance/summary.json",
        "all frameworks side by side (demarc.compliance-cross/v1)",
        json_out(&cross).as_bytes(),
    )?;

    // Evidence index with hashes.
    let files = hash_evidence_files(res);
    let reg = demarc_compliance::evidence::register(res, &files, warn_days);
    let ev = api::EvidenceRegisterV1::new(estate, &reg);
    pack.write(
        "evidence.json",
        "the evidence register with file hashes (demarc.evidence/v1)",
        json_out(&ev).as_bytes(),
    )?;
    pack.write(
        "evidence.csv",
        "the evidence index, one row per piece of evidence",
        demarc_report::compliance::evidence_grid(&ev)
            .render(Format::Csv, false)
            .as_bytes(),
    )?;

    // The exchange documents: the OSCAL SSP and component definition always; the FedRAMP 20x
    // package documents when the estate describes itself as an offering.
    let ssp = demarc_exchange::oscal::export_ssp(res, lib)
        .map_err(|e| InputError(format!("error: {e}")))?;
    pack.write(
        "oscal/ssp.json",
        "OSCAL 1.1.3 System Security Plan (FedRAMP moderate), schema- and reference-checked",
        ssp.as_bytes(),
    )?;
    let comp = demarc_exchange::oscal::export_component(res)
        .map_err(|e| InputError(format!("error: {e}")))?;
    pack.write(
        "oscal/component-definition.json",
        "OSCAL 1.1.3 component definitions of the services and models the estate uses",
        comp.as_bytes(),
    )?;
    let moderate = lib
        .baseline("fedramp", "moderate")
        .map_err(|e| InputError(format!("error: {}\n  help: {}", e.message, e.help)))?;
    let crm = demarc_exchange::crm::export(res, lib, moderate)
        .map_err(|e| InputError(format!("error: {e}")))?;
    pack.write(
        "fedramp/cis-crm-moderate.xlsx",
        "FedRAMP Moderate Control Implementation Summary and Customer Responsibility Matrix, in FedRAMP's template layout",
        &crm,
    )?;
    if res.estate().offering.is_some() {
        let cpo = demarc_exchange::fedramp20x::cpo(res, lib)
            .map_err(|e| InputError(format!("error: {e}")))?;
        pack.write(
            "fedramp/certification-package-overview.json",
            "FedRAMP 20x Certification Package Overview, validated against its dated schema",
            cpo.json.as_bytes(),
        )?;
        let sdr = demarc_exchange::fedramp20x::sdr(res, lib)
            .map_err(|e| InputError(format!("error: {e}")))?;
        pack.write(
            "fedramp/security-decision-record.json",
            "FedRAMP 20x Security Decision Record, validated against its dated schema",
            sdr.json.as_bytes(),
        )?;
    }

    // The matrix, CSV (every row) then XLSX.
    let assets: Vec<demarc_engine::AssetIx> = res.assets().collect();
    let filter = CellFilter::default();
    {
        let path = pack.dir.join("matrix.csv");
        let f = std::fs::File::create(&path).map_err(|e| fail(&path, &e))?;
        let mut w = RowWriter::new(
            Format::Csv,
            &demarc_report::row_headers(&filter),
            std::io::BufWriter::new(f),
        )
        .map_err(|e| fail(&path, &e))?;
        for row in demarc_report::matrix_rows_iter(res, &assets, &filter) {
            w.row(&row).map_err(|e| fail(&path, &e))?;
        }
        w.finish()
            .and_then(|mut b| b.flush())
            .map_err(|e| fail(&path, &e))?;
        pack.record(
            "matrix.csv",
            "the responsibility matrix: one row per asset × control × duty",
        )?;
    }
    let truncated = write_workbook(res, &assets, &filter, &check, &rollups, &ev, &pack.dir)?;
    pack.record(
        "matrix.xlsx",
        &if truncated {
            format!("workbook: matrix (first {XLSX_MAX_ROWS} rows; matrix.csv holds all), gaps, one sheet per framework, evidence, legend")
        } else {
            "workbook: matrix, gaps, one sheet per framework, evidence, legend; cells coloured by party".to_string()
        },
    )?;

    // The readable summary.
    let html = summary_html(res, &check, &cross, &ev, &pack.files);
    pack.write(
        "summary.html",
        "readable summary with charts",
        html.as_bytes(),
    )?;

    // The manifest names every other file with its hash.
    let manifest = api::AuditPackV1 {
        schema: api::AUDIT_PACK.to_string(),
        estate: estate.clone(),
        as_of: res.as_of(),
        demarc_version: env!("CARGO_PKG_VERSION").to_string(),
        catalog: catalog_version(res),
        frameworks: fws,
        files: pack.files.clone(),
    };
    let path = pack.dir.join("manifest.json");
    std::fs::write(&path, json_out(&manifest)).map_err(|e| fail(&path, &e))?;

    // Into place: the old package (with --force) is moved aside first and removed only once
    // the new one is in place.
    let staged = tmp.keep();
    let aside = if out.exists() {
        let aside = parent.join(format!(
            ".demarc-old-{}",
            out.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_dir_all(&aside);
        std::fs::rename(out, &aside).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            fail(out, &e)
        })?;
        Some(aside)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&staged, out) {
        let _ = std::fs::remove_dir_all(&staged);
        if let Some(a) = &aside {
            let _ = std::fs::rename(a, out);
        }
        return Err(fail(out, &e));
    }
    if let Some(a) = aside {
        let _ = std::fs::remove_dir_all(a);
    }
    crate::note(&format!(
        "wrote {} ({} files; manifest.json lists their SHA-256)",
        out.display(),
        manifest.files.len() + 1
    ));
    Ok(0)
}

/// The catalog's identity: a SHA-256 over its services, controls and frameworks, and whether
/// overlays joined the built-in data.
fn catalog_version(res: &Resolution) -> String {
    let c = res.catalog();
    let mut bytes = Vec::new();
    for part in [
        serde_json::to_vec(&c.frameworks),
        serde_json::to_vec(&c.controls),
        serde_json::to_vec(&c.services),
    ] {
        bytes.extend(part.unwrap_or_default());
    }
    let overlays = c
        .services
        .iter()
        .filter(|s| s.origin != demarc_catalog::CatalogOrigin::Builtin)
        .count();
    format!(
        "sha256:{}{}",
        crate::compliance_cmd::sha256_bytes(&bytes),
        if overlays > 0 {
            format!(" (built-in + {overlays} services from overlays or the estate)")
        } else {
            " (built-in)".to_string()
        }
    )
}

fn header(ws: &mut Worksheet, headers: &[&str], bold: &XFormat) -> Result<(), XlsxError> {
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, bold)?;
        ws.set_column_width(i as u16, 18)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn write_workbook(
    res: &Resolution,
    assets: &[demarc_engine::AssetIx],
    filter: &CellFilter,
    check: &api::CheckV1,
    rollups: &[(String, api::ComplianceV1)],
    ev: &api::EvidenceRegisterV1,
    dir: &Path,
) -> Result<bool, InputError> {
    let mut wb = Workbook::new();
    let bold = demarc_exchange::workbook::header_format();
    let fills: Vec<(&str, XFormat)> = ownership_colors()
        .filter_map(|(k, _, _)| demarc_exchange::workbook::ownership_fill(k).map(|f| (*k, f)))
        .collect();
    let fill_of = |k: &str| fills.iter().find(|(n, _)| *n == k).map(|(_, f)| f);
    let mut truncated = false;
    {
        let ws = wb.add_worksheet();
        ws.set_name("Matrix").map_err(xlsx_err)?;
        let headers = demarc_report::row_headers(filter);
        header(ws, &headers, &bold).map_err(xlsx_err)?;
        let own_col = headers.iter().position(|h| *h == "ownership").unwrap_or(5);
        let mut n = 0usize;
        for row in demarc_report::matrix_rows_iter(res, assets, filter) {
            if n >= XLSX_MAX_ROWS {
                truncated = true;
                break;
            }
            n += 1;
            let fill = row.get(own_col).and_then(|o| fill_of(o));
            for (c, v) in row.iter().enumerate() {
                match fill {
                    Some(f) => ws.write_string_with_format(n as u32, c as u16, v, f),
                    None => ws.write_string(n as u32, c as u16, v),
                }
                .map_err(xlsx_err)?;
            }
        }
        ws.autofilter(0, 0, n as u32, headers.len() as u16 - 1)
            .map_err(xlsx_err)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("Gaps").map_err(xlsx_err)?;
        let headers = [
            "key", "severity", "code", "control", "assets", "title", "fix",
        ];
        header(ws, &headers, &bold).map_err(xlsx_err)?;
        for (i, g) in check.gaps.iter().enumerate() {
            let r = i as u32 + 1;
            let row = [
                g.key.clone(),
                severity_name(g.severity),
                g.code.clone(),
                g.control.clone().unwrap_or_default(),
                g.asset_count.to_string(),
                g.title.clone(),
                g.fix.clone(),
            ];
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r, c as u16, v).map_err(xlsx_err)?;
            }
        }
        ws.autofilter(0, 0, check.gaps.len() as u32, headers.len() as u16 - 1)
            .map_err(xlsx_err)?;
    }
    for (fw, c) in rollups {
        let ws = wb.add_worksheet();
        // Sheet names: at most 31 characters, no `[]:*?/\`.
        let name: String = fw
            .chars()
            .filter(|ch| !"[]:*?/\\".contains(*ch))
            .take(31)
            .collect();
        ws.set_name(&name).map_err(xlsx_err)?;
        let grid = demarc_report::compliance::compliance_csv_grid(c);
        let headers: Vec<&str> = grid.headers.iter().map(String::as_str).collect();
        header(ws, &headers, &bold).map_err(xlsx_err)?;
        let orig_col = headers
            .iter()
            .position(|h| *h == "origination")
            .unwrap_or(6);
        for (i, row) in grid.rows.iter().enumerate() {
            let fill = match row.get(orig_col).map(String::as_str) {
                Some("inherited") => fill_of("csp-owned"),
                Some("customer") => fill_of("csc-owned"),
                Some("shared") => fill_of("shared"),
                _ => None,
            };
            for (k, v) in row.iter().enumerate() {
                match fill {
                    Some(f) => ws.write_string_with_format(i as u32 + 1, k as u16, v, f),
                    None => ws.write_string(i as u32 + 1, k as u16, v),
                }
                .map_err(xlsx_err)?;
            }
        }
        ws.autofilter(0, 0, grid.rows.len() as u32, headers.len() as u16 - 1)
            .map_err(xlsx_err)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("Evidence").map_err(xlsx_err)?;
        let grid = demarc_report::compliance::evidence_grid(ev);
        let headers: Vec<&str> = grid.headers.iter().map(String::as_str).collect();
        header(ws, &headers, &bold).map_err(xlsx_err)?;
        for (i, row) in grid.rows.iter().enumerate() {
            for (k, v) in row.iter().enumerate() {
                ws.write_string(i as u32 + 1, k as u16, v)
                    .map_err(xlsx_err)?;
            }
        }
        ws.autofilter(0, 0, grid.rows.len() as u32, headers.len() as u16 - 1)
            .map_err(xlsx_err)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("Legend").map_err(xlsx_err)?;
        header(ws, &["ownership", "meaning"], &bold).map_err(xlsx_err)?;
        for (i, (k, _, meaning)) in ownership_colors().enumerate() {
            let f = fill_of(k).cloned().unwrap_or_default();
            ws.write_string_with_format(i as u32 + 1, 0, *k, &f)
                .map_err(xlsx_err)?;
            ws.write_string(i as u32 + 1, 1, *meaning)
                .map_err(xlsx_err)?;
        }
        ws.set_column_width(1, 60).map_err(xlsx_err)?;
    }
    let path = dir.join("matrix.xlsx");
    wb.save(&path).map_err(xlsx_err)?;
    Ok(truncated)
}

fn summary_html(
    res: &Resolution,
    check: &api::CheckV1,
    cross: &api::ComplianceCrossV1,
    ev: &api::EvidenceRegisterV1,
    files: &[api::PackFileV1],
) -> String {
    use demarc_report::compliance::{COLORS, CSS, bar_svg, esc};
    let mut h = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit package — {}</title><style>{CSS}</style></head><body><h1>Audit package: {}</h1><p>As of {}; {} assets; accountable: {}.</p>",
        esc(&check.estate),
        esc(&check.estate),
        check.as_of,
        res.asset_count(),
        esc(&check.accountable)
    );
    // Gaps by severity.
    let mut sev: std::collections::BTreeMap<String, usize> = Default::default();
    for g in &check.gaps {
        *sev.entry(severity_name(g.severity)).or_default() += 1;
    }
    h.push_str(&format!("<h2>Gaps</h2><p>{} gaps: ", check.gaps.len()));
    h.push_str(
        &sev.iter()
            .map(|(k, v)| format!("{v} {}", esc(k)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    h.push_str(". See <a href=\"gaps.csv\">gaps.csv</a>.</p><h2>Frameworks</h2><table><thead><tr><th>framework</th><th>inherited / shared / yours</th><th>ready</th><th>not addressed</th></tr></thead><tbody>");
    for f in &cross.frameworks {
        let s = &f.summary;
        h.push_str(&format!(
            "<tr><td><a href=\"compliance/{id}.html\">{id}</a>{b}</td><td>{bar}</td><td>{r}%</td><td>{na}</td></tr>",
            id = esc(&f.framework.id),
            b = f
                .framework
                .baseline
                .as_ref()
                .map(|b| format!(" ({})", esc(&b.id)))
                .unwrap_or_default(),
            bar = bar_svg(
                &[
                    ("inherited", s.inherited_pct, COLORS[0].1),
                    ("shared", s.shared_pct, COLORS[1].1),
                    ("yours", s.customer_pct, COLORS[2].1),
                ],
                300
            ),
            r = s.readiness_pct,
            na = s.not_addressed
        ));
    }
    h.push_str("</tbody></table><p class=\"legend\">");
    for (l, col) in COLORS {
        h.push_str(&format!("<span style=\"background:{col}\">{l}</span>"));
    }
    h.push_str(&format!(
        "</p><h2>Evidence</h2><p>{} pieces on file; {} expired; {} expiring within {} days; {} files changed or unreadable; {} controls lacking evidence. See <a href=\"evidence.csv\">evidence.csv</a>.</p>",
        ev.entries.len(),
        ev.expired,
        ev.expiring,
        ev.within_days,
        ev.changed,
        ev.missing.len()
    ));
    h.push_str("<h2>Files</h2><table><thead><tr><th>file</th><th>what</th><th>SHA-256</th></tr></thead><tbody>");
    for f in files {
        h.push_str(&format!(
            "<tr><td><a href=\"{p}\">{p}</a></td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&f.description),
            esc(&f.sha256),
            p = esc(&f.path)
        ));
    }
    h.push_str("</tbody></table><p>manifest.json lists every file with its size and SHA-256, and the demarc and catalog versions.</p></body></html>\n");
    h
}

/// A severity as the JSON contract writes it (`high`).
fn severity_name(s: api::SeverityV1) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
