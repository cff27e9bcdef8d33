//! The `demarc` command: load → validate → resolve → analyse → render. Everything it does is
//! in the library crates; this file parses arguments, wires them and picks exit codes.

mod catalog_cmd;
mod init;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use demarc_catalog::Catalog;
use demarc_engine::{Resolution, Severity, resolve};
use demarc_model::{Duty, Estate, suggest};
use demarc_report::{Format, Grid, json};

/// Exit codes: 0 clean, 1 gaps found (at or above --fail-on), 2 usage or input error.
const EXIT_GAPS: u8 = 1;
const EXIT_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "demarc",
    version,
    about = "Who is responsible for every security duty in your cloud estate, who is accountable, why, and what is missing."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every estate command shares.
#[derive(clap::Args, Clone)]
struct EstateArgs {
    /// Estate file or directory of YAML files.
    #[arg(short, long, env = "DEMARC_ESTATE", default_value = ".")]
    estate: PathBuf,
    /// Inventory file of discovered assets to add (.jsonl, .ndjson or .csv); repeatable.
    #[arg(long)]
    inventory: Vec<PathBuf>,
    /// Analyse as of this date (YYYY-MM-DD) instead of today, for reproducible CI and audits.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Json,
    Csv,
    Md,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
            FormatArg::Md => Format::Md,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
    /// Never fail on gaps (exit 0 unless the input is invalid).
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Scaffold a new estate in DIR (default: current directory).
    Init {
        dir: Option<PathBuf>,
        /// Name of the estate.
        #[arg(long, default_value = "my-estate")]
        name: String,
        /// Overwrite an existing estate.yaml.
        #[arg(long)]
        force: bool,
    },
    /// Validate the estate and list its gaps; exit 1 when a gap is at or above --fail-on.
    Check {
        /// Estate path (overrides --estate).
        path: Option<PathBuf>,
        #[command(flatten)]
        args: EstateArgs,
        /// Lowest severity that makes the command exit 1.
        #[arg(long, value_enum, default_value_t = SeverityArg::Low)]
        fail_on: SeverityArg,
        /// Also write a self-contained HTML report here.
        #[arg(long)]
        html: Option<PathBuf>,
        /// List every asset of each gap in the table instead of the first few.
        #[arg(long)]
        wide: bool,
        /// At most this many asset ids per gap in JSON/CSV/MD/HTML (asset_count stays exact); 0 = all.
        #[arg(long, default_value_t = 1000)]
        max_gap_assets: usize,
    },
    /// Asset × duty grid, or asset × control × duty rows with --rows.
    Matrix {
        path: Option<PathBuf>,
        #[command(flatten)]
        args: EstateArgs,
        /// One row per asset × control × duty.
        #[arg(long)]
        rows: bool,
        /// Only these assets (repeatable).
        #[arg(long)]
        asset: Vec<String>,
        /// Only this control (implies --rows).
        #[arg(long)]
        control: Option<String>,
        /// Only this duty (implies --rows).
        #[arg(long, value_parser = duty_arg)]
        duty: Option<Duty>,
        /// Only cells with nobody named, a contest or an unsplit share (implies --rows).
        #[arg(long)]
        problems: bool,
    },
    /// Explain one cell: who, accountable, and the chain of rules that decided it.
    Explain {
        asset: String,
        control: String,
        duty: String,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Ask who does a duty, e.g. `demarc who patches app-server-01`.
    Who {
        /// configures, patches, monitors, responds, audits (or the duty itself).
        verb: String,
        asset: String,
        /// Only this control.
        #[arg(long)]
        control: Option<String>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Who to call about a control on an asset: responsible party, contacts, SLA, escalation.
    Triage {
        asset: String,
        #[arg(long)]
        control: String,
        /// Duty (default: respond, else monitor, else the control's first duty).
        #[arg(long)]
        duty: Option<String>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Browse the built-in catalog.
    Catalog {
        #[command(subcommand)]
        command: catalog_cmd::CatalogCommand,
    },
    /// Print the JSON Schema of estate files (for editor autocompletion).
    Schema,
}

fn duty_arg(s: &str) -> Result<Duty, String> {
    Duty::from_word(s).ok_or_else(|| {
        format!("`{s}` is not a duty: use configure, patch, monitor, respond or audit")
    })
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("`{s}` is not a date in YYYY-MM-DD form ({e})"))
}

/// An input problem already explained to the user.
struct InputError(String);

impl<E: std::fmt::Display> From<E> for InputError {
    fn from(e: E) -> Self {
        InputError(e.to_string())
    }
}

fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Loads and validates, showing a spinner on stderr for big estates when it is a terminal.
fn load(path: &Path, inventory: &[PathBuf]) -> Result<Estate, InputError> {
    let spinner = std::io::stderr().is_terminal().then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(format!("loading {}", path.display()));
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    });
    let options = demarc_model::LoadOptions {
        inventory: inventory.to_vec(),
    };
    let mut interner = demarc_model::Interner::new();
    let estate = timed("load", || {
        demarc_model::load_path(path, &options, &mut interner)
    });
    let estate = estate.and_then(|e| {
        timed("validate", || {
            demarc_model::validate(&e, Catalog::builtin())
        })
        .map(|_| e)
    });
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    estate.map_err(|d| InputError(d.to_string()))
}

/// Runs one phase of the pipeline; with `DEMARC_TIMINGS` set, reports its wall time on stderr
/// (how the whole-process benchmark splits parse, resolve, analyse and render).
fn timed<R>(phase: &str, f: impl FnOnce() -> R) -> R {
    if std::env::var_os("DEMARC_TIMINGS").is_none() {
        return f();
    }
    let start = std::time::Instant::now();
    let r = f();
    // Peak resident memory so far, where the OS reports it (Linux).
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    eprintln!(
        "timing: {phase} {:.3}s (peak rss {peak})",
        start.elapsed().as_secs_f64()
    );
    r
}

fn as_of(args: &EstateArgs) -> NaiveDate {
    args.as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

fn find_asset(res: &Resolution, id: &str) -> Result<usize, InputError> {
    res.asset_index(id).ok_or_else(|| {
        let hint = suggest(id, res.estate.assets.iter().map(|a| a.id.as_str()))
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| "list assets with `demarc matrix`".into());
        InputError(format!("error: unknown asset `{id}`\n  help: {hint}"))
    })
}

fn find_control<'c>(
    catalog: &'c Catalog,
    id: &str,
) -> Result<&'c demarc_catalog::Control, InputError> {
    catalog.control(id).ok_or_else(|| {
        let hint = suggest(id, catalog.controls.iter().map(|c| c.id.as_str()))
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| "list controls with `demarc catalog list controls`".into());
        InputError(format!("error: unknown control `{id}`\n  help: {hint}"))
    })
}

fn parse_duty(word: &str) -> Result<Duty, InputError> {
    Duty::from_word(word).ok_or_else(|| {
        InputError(format!(
            "error: unknown duty `{word}`\n  help: use one of configure, patch, monitor, respond, audit (or configures, patches, monitors, responds, audits)"
        ))
    })
}

fn print(text: &str) {
    // A closed pipe (`demarc … | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// Writes to a buffered, locked stdout. A closed pipe (`demarc … | head`) ends the output
/// quietly, as with [`print`].
fn write_stdout(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    if f(&mut w).is_ok() {
        let _ = w.flush();
    }
}

fn json_out<T: serde::Serialize>(v: &T) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(v).expect("output types serialise")
    )
}

/// Writes a file whole or not at all: a temporary sibling renamed into place.
fn write_atomic(path: &Path, contents: &str) -> Result<(), InputError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("demarc")
    ));
    std::fs::write(&tmp, contents)
        .map_err(|e| InputError(format!("error: cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        InputError(format!("error: cannot write {}: {e}", path.display()))
    })
}

fn run(cli: Cli) -> Result<u8, InputError> {
    let catalog = Catalog::builtin();
    match cli.command {
        Command::Init { dir, name, force } => {
            init::run(dir.as_deref().unwrap_or(Path::new(".")), &name, force)
        }
        Command::Schema => {
            print(&json_out(&demarc_model::json_schema()));
            Ok(0)
        }
        Command::Catalog { command } => catalog_cmd::run(catalog, command),
        Command::Check {
            path,
            args,
            fail_on,
            html,
            wide,
            max_gap_assets,
        } => {
            let estate = load(path.as_deref().unwrap_or(&args.estate), &args.inventory)?;
            let res = timed("resolve", || resolve(&estate, catalog, as_of(&args)));
            let options = demarc_engine::AnalyseOptions {
                max_assets_per_gap: (max_gap_assets > 0).then_some(max_gap_assets),
            };
            let analysis = timed("analyse", || demarc_engine::analyse_with(&res, options));
            if let Some(h) = html {
                let page = demarc_report::html::report(&res, &analysis).map_err(|e| {
                    InputError(format!("error: cannot render the HTML report: {e}"))
                })?;
                write_atomic(&h, &page)?;
            }
            let format: Format = args.format.into();
            match format {
                Format::Json => print(&timed("render", || {
                    json_out(&json::CheckOutput::new(&res, &analysis))
                })),
                Format::Table => {
                    print(&demarc_report::summary_text(&res, &analysis));
                    if !analysis.gaps.is_empty() {
                        print(
                            &demarc_report::gaps_grid(&analysis, wide)
                                .render(format, color_stdout()),
                        );
                    }
                }
                _ => print(&demarc_report::gaps_grid(&analysis, true).render(format, false)),
            }
            let threshold = match fail_on {
                SeverityArg::Info => Some(Severity::Info),
                SeverityArg::Low => Some(Severity::Low),
                SeverityArg::Medium => Some(Severity::Medium),
                SeverityArg::High => Some(Severity::High),
                SeverityArg::Critical => Some(Severity::Critical),
                SeverityArg::Never => None,
            };
            let failing = threshold.is_some_and(|t| analysis.gaps.iter().any(|g| g.severity >= t));
            Ok(if failing { EXIT_GAPS } else { 0 })
        }
        Command::Matrix {
            path,
            args,
            rows,
            asset,
            control,
            duty,
            problems,
        } => {
            let estate = load(path.as_deref().unwrap_or(&args.estate), &args.inventory)?;
            let res = resolve(&estate, catalog, as_of(&args));
            let assets: Vec<usize> = if asset.is_empty() {
                res.order.iter().map(|&i| i as usize).collect()
            } else {
                asset
                    .iter()
                    .map(|a| find_asset(&res, a))
                    .collect::<Result<_, _>>()?
            };
            if let Some(c) = &control {
                find_control(catalog, c)?;
            }
            let filter = demarc_report::CellFilter {
                control,
                duty,
                problems_only: problems,
            };
            let rows = rows || filter.control.is_some() || filter.duty.is_some() || problems;
            let format: Format = args.format.into();
            // Everything but a terminal table streams: `matrix --rows` on a big estate is
            // millions of rows, written as they are made instead of held in memory.
            if rows && format == Format::Json {
                let cells = assets
                    .iter()
                    .flat_map(|&i| {
                        res.cells_of(i)
                            .iter()
                            .filter(|c| filter.keep(&res, c))
                            .map(move |c| (i, c))
                    })
                    .map(|(i, c)| json::CellOutput::new(&res, i, c));
                let out = json::CellsOutput::new(&res, json::SeqOf::new(cells));
                write_stdout(|w| {
                    serde_json::to_writer_pretty(&mut *w, &out).map_err(std::io::Error::other)?;
                    w.write_all(b"\n")
                });
            } else if format == Format::Table {
                let grid = if rows {
                    demarc_report::matrix_rows(&res, &assets, &filter)
                } else {
                    demarc_report::matrix_grid(&res, &assets)
                };
                print(&grid.render(format, color_stdout()));
            } else {
                write_stdout(|w| {
                    let (headers, lines): (&[&str], Box<dyn Iterator<Item = Vec<String>>>) = if rows
                    {
                        (
                            &demarc_report::ROW_HEADERS,
                            Box::new(demarc_report::matrix_rows_iter(&res, &assets, &filter)),
                        )
                    } else {
                        (
                            &demarc_report::MATRIX_HEADERS,
                            Box::new(demarc_report::matrix_grid_rows(&res, &assets)),
                        )
                    };
                    let mut rw = demarc_report::RowWriter::new(format, headers, w)?;
                    for line in lines {
                        rw.row(&line)?;
                    }
                    rw.finish().map(|_| ())
                });
            }
            Ok(0)
        }
        Command::Explain {
            asset,
            control,
            duty,
            args,
        } => {
            let estate = load(&args.estate, &args.inventory)?;
            let res = resolve(&estate, catalog, as_of(&args));
            let (i, cell) = cell_for(&res, catalog, &asset, &control, parse_duty(&duty)?)?;
            match Format::from(args.format) {
                Format::Json => print(&json_out(&json::CellOutput::new(&res, i, cell))),
                Format::Table | Format::Md => print(&demarc_report::explain_text(&res, i, cell)),
                f => {
                    let mut g = Grid::new(["step", "kind", "rule", "at", "url"]);
                    for (n, b) in cell.basis.iter().enumerate() {
                        g.row([
                            (n + 1).to_string(),
                            serde_json::to_value(b.kind)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default(),
                            b.rule.clone(),
                            b.at.clone().unwrap_or_default(),
                            b.url.clone().unwrap_or_default(),
                        ]);
                    }
                    print(&g.render(f, false));
                }
            }
            Ok(0)
        }
        Command::Who {
            verb,
            asset,
            control,
            args,
        } => {
            let duty = parse_duty(&verb)?;
            let estate = load(&args.estate, &args.inventory)?;
            let res = resolve(&estate, catalog, as_of(&args));
            let i = find_asset(&res, &asset)?;
            if let Some(c) = &control {
                find_control(catalog, c)?;
            }
            let format: Format = args.format.into();
            if format == Format::Json {
                let cells: Vec<_> = res
                    .cells_of(i)
                    .iter()
                    .filter(|c| {
                        c.duty == duty && control.as_ref().is_none_or(|id| res.control(c).id == *id)
                    })
                    .map(|c| json::CellOutput::new(&res, i, c))
                    .collect();
                print(&json_out(&json::CellsOutput::new(&res, cells)));
            } else {
                print(
                    &demarc_report::who_grid(&res, i, duty, control.as_deref())
                        .render(format, color_stdout()),
                );
            }
            Ok(0)
        }
        Command::Triage {
            asset,
            control,
            duty,
            args,
        } => {
            let estate = load(&args.estate, &args.inventory)?;
            let res = resolve(&estate, catalog, as_of(&args));
            let ctl = find_control(catalog, &control)?;
            let duty = match duty {
                Some(d) => parse_duty(&d)?,
                None => [Duty::Respond, Duty::Monitor]
                    .into_iter()
                    .find(|d| ctl.duties.contains(d))
                    .unwrap_or(ctl.duties[0]),
            };
            let (i, cell) = cell_for(&res, catalog, &asset, &control, duty)?;
            let t = demarc_report::triage(&res, i, cell);
            match Format::from(args.format) {
                Format::Json => print(&json_out(&t)),
                _ => print(&demarc_report::triage_text(&t)),
            }
            Ok(0)
        }
    }
}

fn cell_for<'r>(
    res: &'r Resolution,
    catalog: &Catalog,
    asset: &str,
    control: &str,
    duty: Duty,
) -> Result<(usize, &'r demarc_engine::Cell), InputError> {
    let i = find_asset(res, asset)?;
    let ctl = find_control(catalog, control)?;
    let cell = res
        .cells_of(i)
        .iter()
        .find(|c| res.control(c).id == control && c.duty == duty);
    match cell {
        Some(c) => Ok((i, c)),
        None if !ctl.duties.contains(&duty) => Err(InputError(format!(
            "error: control `{control}` has no `{duty}` duty\n  help: its duties are {}",
            ctl.duties
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => {
            let table = res.table_of(i);
            Err(InputError(format!(
                "error: control `{control}` does not apply to `{asset}`\n  help: its layer `{}` is not part of the `{}` service model of `{}`",
                ctl.layer,
                table.model.as_deref().unwrap_or("unknown"),
                table.service
            )))
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(InputError(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
