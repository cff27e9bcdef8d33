//! `demarc export` and `demarc import`: the exchange formats. The formats live in
//! `demarc-exchange`; this file reads the input (bounded), writes the output atomically and
//! prints import summaries.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use demarc_compliance::Library;
use demarc_exchange::ExchangeError;

use crate::{EstateArgs, InputError, json_out, note, print, write_atomic};

/// The largest file an import reads (a workbook or an OSCAL document).
pub(crate) const MAX_IMPORT_BYTES: u64 = 64 << 20;

#[derive(Subcommand)]
pub(crate) enum ExportCommand {
    /// An OSCAL System Security Plan (JSON, OSCAL 1.1.3): one component per provider service,
    /// MSSP and customer team; leveraged authorizations; inherited/satisfied by component.
    OscalSsp {
        #[command(flatten)]
        export: ExportArgs,
        /// The FedRAMP baseline of the implemented requirements: low, moderate (default),
        /// high or li-saas.
        #[arg(long, default_value = "moderate")]
        baseline: String,
    },
    /// An OSCAL component definition per service model.
    OscalComponent(ExportArgs),
    /// demarc's control → framework mappings in the OSCAL 1.2 mapping model.
    OscalMapping(ExportArgs),
    /// The FedRAMP CIS and CRM worksheets (XLSX) for a baseline.
    Crm {
        #[command(flatten)]
        export: ExportArgs,
        /// low, moderate (default), high or li-saas.
        #[arg(long, default_value = "moderate")]
        baseline: String,
    },
    /// The matrix views as a filterable, colour-coded workbook.
    Xlsx(ExportArgs),
    /// FedRAMP 20x Certification Package Overview (JSON).
    FedrampCpo(ExportArgs),
    /// FedRAMP 20x Security Decision Record (JSON).
    FedrampSdr(ExportArgs),
}

#[derive(clap::Args)]
pub(crate) struct ExportArgs {
    /// Estate path (overrides --estate).
    path: Option<PathBuf>,
    /// The file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    args: EstateArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportKind {
    /// An OSCAL SSP (leveraged: becomes an overlay; leveraging: reported).
    Oscal,
    /// A FedRAMP CIS/CRM workbook.
    Crm,
    /// A CSA CAIQ v4 workbook.
    Caiq,
}

fn exchange_error(e: ExchangeError) -> InputError {
    InputError(format!("error: {e}"))
}

fn library() -> Result<&'static Library, InputError> {
    Library::builtin()
        .map_err(|e| InputError(format!("error: the requirement catalogs do not load: {e}")))
}

pub(crate) fn export(cmd: ExportCommand) -> Result<u8, InputError> {
    let (a, what) = match &cmd {
        ExportCommand::OscalSsp { export, .. } => (export, "OSCAL SSP"),
        ExportCommand::OscalComponent(a) => (a, "OSCAL component definition"),
        ExportCommand::OscalMapping(a) => (a, "OSCAL mapping"),
        ExportCommand::Crm { export, .. } => (export, "FedRAMP CIS/CRM workbook"),
        ExportCommand::Xlsx(a) => (a, "matrix workbook"),
        ExportCommand::FedrampCpo(a) => (a, "FedRAMP 20x Certification Package Overview"),
        ExportCommand::FedrampSdr(a) => (a, "FedRAMP 20x Security Decision Record"),
    };
    let res = crate::open(a.path.as_deref(), &a.args)?;
    let out = &a.output;
    match &cmd {
        ExportCommand::OscalSsp { baseline, .. } => {
            let text = demarc_exchange::oscal::export_ssp_at(&res, library()?, baseline)
                .map_err(exchange_error)?;
            write_atomic(out, &text)?;
        }
        ExportCommand::OscalComponent(_) => {
            let text = demarc_exchange::oscal::export_component(&res).map_err(exchange_error)?;
            write_atomic(out, &text)?;
        }
        ExportCommand::OscalMapping(_) => {
            let text = demarc_exchange::oscal::export_mapping(res.catalog(), library()?)
                .map_err(exchange_error)?;
            write_atomic(out, &text)?;
        }
        ExportCommand::Crm { baseline, .. } => {
            let lib = library()?;
            let b = lib
                .baseline("fedramp", baseline)
                .map_err(|e| InputError(format!("error: {}\n  help: {}", e.message, e.help)))?;
            let bytes = demarc_exchange::crm::export(&res, lib, b).map_err(exchange_error)?;
            write_bytes_atomic(out, &bytes)?;
        }
        ExportCommand::Xlsx(_) => {
            let mut notes = Vec::new();
            write_via_temp(out, |p| {
                notes = demarc_exchange::workbook::export_xlsx_with_notes(&res, p)
                    .map_err(exchange_error)?;
                Ok(())
            })?;
            for n in &notes {
                note(n);
            }
        }
        ExportCommand::FedrampCpo(_) => {
            let e = demarc_exchange::fedramp20x::cpo(&res, library()?).map_err(exchange_error)?;
            write_atomic(out, &e.json)?;
            e.notes.iter().for_each(|n| note(n));
        }
        ExportCommand::FedrampSdr(_) => {
            let e = demarc_exchange::fedramp20x::sdr(&res, library()?).map_err(exchange_error)?;
            write_atomic(out, &e.json)?;
            e.notes.iter().for_each(|n| note(n));
        }
    }
    note(&format!("wrote the {what} to {}", out.display()));
    Ok(0)
}

/// Writes bytes whole or not at all (see [`write_atomic`]).
fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), InputError> {
    write_via_temp(path, |p| {
        std::fs::write(p, bytes)
            .map_err(|e| InputError(format!("error: cannot write {}: {e}", path.display())))
    })
}

/// Lets `f` write a temporary file beside `path`, then renames it into place; on any error
/// the temporary file is removed and `path` is untouched. Refuses to replace anything but a
/// regular file.
pub(crate) fn write_via_temp(
    path: &Path,
    f: impl FnOnce(&Path) -> Result<(), InputError>,
) -> Result<(), InputError> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(InputError(format!(
            "error: {} exists and is not a regular file\n  help: give the path of a new or regular file",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".demarc-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| InputError(format!("error: cannot write {}: {e}", path.display())))?;
    f(tmp.path())?;
    tmp.persist(path).map_err(|e| {
        InputError(format!(
            "error: cannot write {}: {}",
            path.display(),
            e.error
        ))
    })?;
    Ok(())
}

/// Reads an import file: a regular file, at most [`MAX_IMPORT_BYTES`].
fn read_input(path: &Path) -> Result<Vec<u8>, InputError> {
    let fail = |m: String| InputError(format!("error: {}: {m}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if meta.len() > MAX_IMPORT_BYTES {
        return Err(fail(format!(
            "the file is {} MiB; demarc reads imports of at most {} MiB",
            meta.len() >> 20,
            MAX_IMPORT_BYTES >> 20
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| fail(e.to_string()))?
        .take(MAX_IMPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    Ok(bytes)
}

pub(crate) fn import(
    kind: ImportKind,
    file: &Path,
    output: &Path,
    json: bool,
    naming: &demarc_exchange::overlay::Naming,
) -> Result<u8, InputError> {
    let bytes = read_input(file)?;
    let name = file.display().to_string();
    let imported = match kind {
        ImportKind::Oscal => {
            let text = String::from_utf8(bytes).map_err(|e| {
                InputError(format!(
                    "error: {name}: not UTF-8 text (byte {}): an OSCAL file is JSON\n  help: give the JSON rendition of the OSCAL document",
                    e.utf8_error().valid_up_to()
                ))
            })?;
            // Leveraged SSPs the document links to, when they sit beside it.
            let mut leveraged = Vec::new();
            let dir = file.parent().unwrap_or(Path::new("."));
            for f in demarc_exchange::oscal::leveraged_links(&text) {
                let p = dir.join(&f);
                if p != file
                    && p.is_file()
                    && let Ok(b) = read_input(&p)
                    && let Ok(t) = String::from_utf8(b)
                {
                    note(&format!("reading the leveraged SSP {}", p.display()));
                    leveraged.push((p.display().to_string(), t));
                }
            }
            demarc_exchange::oscal::import_with(&name, &text, &leveraged)
        }
        ImportKind::Crm => demarc_exchange::crm::import(&name, &bytes),
        ImportKind::Caiq => demarc_exchange::caiq::import(&name, &bytes),
    }
    .map_err(exchange_error)?;
    // A leveraging SSP is only reported: it has nothing to put in an overlay.
    let wrote = !imported.overlay_yaml.is_empty();
    if wrote {
        let yaml = demarc_exchange::overlay::rename(&imported.overlay_yaml, naming)
            .map_err(|e| InputError(format!("error: {name}: {e}")))?;
        // The overlay must load before it is written: a bad --model or --service, or a
        // defect in an importer, is reported here rather than by the next command.
        demarc_catalog::CatalogBuilder::new()
            .builtin()
            .overlay(output.to_path_buf(), yaml.clone())
            .build()
            .map_err(|d| {
                InputError(format!(
                    "error: the overlay imported from {name} does not load as catalog data:\n{d}\n  help: check --provider, --service and --model (ids like `acme-cloud`, `acme-cloud:platform`, `saas`)"
                ))
            })?;
        write_atomic(output, &yaml)?;
    } else if !naming.is_empty() {
        note(
            "the document is reported, not imported: --provider, --service and --model have nothing to name",
        );
    }
    if json {
        let mut v = imported.summary.clone();
        if let Some(o) = v.as_object_mut() {
            o.entry("warnings")
                .or_insert_with(|| serde_json::json!(imported.warnings));
        }
        print(&json_out(&v))?;
    } else {
        let mut s = if wrote {
            format!("wrote {}\n", output.display())
        } else {
            format!(
                "nothing to write to {}: the document leverages other systems and exports nothing\n",
                output.display()
            )
        };
        if let Some(o) = imported.summary.as_object() {
            for (k, v) in o {
                if k != "warnings" {
                    s.push_str(&format!("{k}: {v}\n"));
                }
            }
        }
        for w in &imported.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        print(&s)?;
    }
    Ok(0)
}
