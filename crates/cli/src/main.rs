//! The `demarc` command: load → validate → resolve → analyse → render. Everything it does is
//! in the library crates; this file parses arguments, wires them and picks exit codes.

mod audit_pack;
mod catalog_cmd;
mod compliance_cmd;
mod exchange_cmd;
mod findings_cmd;
mod ingest_cmd;
mod init;
mod server_cmd;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::Datelike;
use chrono::NaiveDate;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use demarc_api as api;
use demarc_catalog::Catalog;
use demarc_engine::{AssetIx, NotApplicable, Prepared, Resolution, Severity};
use demarc_model::{Duty, Estate};
use demarc_report::{Format, Grid, json};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes: 0 clean, 1 gaps found (at or above --fail-on), 2 usage or input error.
const EXIT_GAPS: u8 = 1;
const EXIT_INPUT: u8 = 2;

const EXIT_CODES_HELP: &str = "Exit codes:
  0  clean: nothing at or above --fail-on (check), or the command succeeded
  1  gaps found at or above --fail-on (check only)
  2  usage or input error (bad flag, unreadable or invalid estate, unknown id, failed write)";

#[derive(Parser)]
#[command(
    name = "demarc",
    version,
    about = "Who is responsible for every security duty in your cloud estate, who is accountable, why, and what is missing.",
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    /// When to colour tables: auto (a terminal, and NO_COLOR unset or empty), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// No progress or warnings on stderr; errors are still printed.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

/// Settings every command reads, fixed once the arguments are parsed.
struct Ui {
    color: ColorArg,
    quiet: bool,
}

static UI: std::sync::OnceLock<Ui> = std::sync::OnceLock::new();

fn ui() -> &'static Ui {
    UI.get_or_init(|| Ui {
        color: ColorArg::Auto,
        quiet: false,
    })
}

/// Prints a warning on stderr unless `--quiet`.
fn warn(msg: &str) {
    if !ui().quiet {
        eprintln!("warning: {msg}");
    }
}

/// Prints a note on stderr unless `--quiet`.
fn note(msg: &str) {
    if !ui().quiet {
        eprintln!("note: {msg}");
    }
}

/// Options every estate command shares.
#[derive(clap::Args, Clone)]
struct EstateArgs {
    /// Estate file, or estate directory (one holding `estate.yaml` or `demarc.yaml`). Default:
    /// the nearest directory, the current one or a parent, that holds such a root file.
    #[arg(short, long, env = "DEMARC_ESTATE")]
    estate: Option<PathBuf>,
    /// Inventory file of discovered assets to add (.jsonl, .ndjson or .csv); repeatable.
    #[arg(long)]
    inventory: Vec<PathBuf>,
    /// Analyse as of this date (YYYY-MM-DD) instead of today, for reproducible CI and audits.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
    /// A catalog overlay directory (repeatable), added to the built-in catalog and to the
    /// estate's `settings.catalog`.
    #[arg(long = "catalog", value_name = "DIR")]
    catalogs: Vec<PathBuf>,
    /// Do not load the newest inventory snapshot of the estate directory
    /// (`.demarc/inventory/`, written by `demarc ingest inventory`).
    #[arg(long, env = "DEMARC_NO_SNAPSHOT")]
    no_snapshot: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Table,
    Json,
    /// One JSON object per line: gaps for `check`, cells for `matrix --rows` and `who`.
    Ndjson,
    Csv,
    Md,
    /// SARIF 2.1.0, for code scanning (`check` only).
    Sarif,
    /// JUnit XML, for CI test reports (`check` only).
    Junit,
    /// A self-contained HTML page (`drill`, `compliance` and `annex`).
    Html,
    /// HTML a word processor opens as a document: simple tables, inline styles (`annex`).
    Docx,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json | FormatArg::Ndjson => Format::Json,
            FormatArg::Csv => Format::Csv,
            FormatArg::Md => Format::Md,
            // Refused by `format_for` before any command renders.
            FormatArg::Sarif | FormatArg::Junit | FormatArg::Html | FormatArg::Docx => {
                Format::Table
            }
        }
    }
}

/// Refuses a format the command does not produce (SARIF and JUnit are `check`'s, HTML is
/// `drill`'s), naming the commands that do.
fn format_for(command: &str, f: FormatArg) -> Result<(), InputError> {
    let owner = match f {
        FormatArg::Sarif | FormatArg::Junit => "check",
        FormatArg::Html => "drill or compliance or annex",
        FormatArg::Docx => "annex",
        _ => return Ok(()),
    };
    if owner.split(" or ").any(|o| o == command) {
        return Ok(());
    }
    let name = f
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    Err(InputError(format!(
        "error: `{command}` has no `--format {name}`\n  help: `--format {name}` is for `demarc {owner}`"
    )))
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
        /// A previous `check --format json` (or ndjson) output: only gaps whose key is not in
        /// it count for --fail-on; each gap is shown as new or known.
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
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
    /// Who to call: without --control, everyone who detects, responds and must be told about
    /// an incident on ASSET, in escalation order; with --control, the responsible parties of
    /// that control, their contacts, SLA and escalation.
    Triage {
        asset: String,
        #[arg(long)]
        control: Option<String>,
        /// Duty (default: respond, else monitor, else the control's first duty).
        #[arg(long)]
        duty: Option<String>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Run a tabletop incident drill on the estate: which assets a scenario hits, who detects
    /// and responds, who calls whom within what SLA, whether the logs are owned, whether the
    /// provider must be engaged, and which gaps would slow the response. Prints a facilitator's
    /// script (md, the default; html; json). Exits 0: a drill is not a gate.
    Drill {
        /// A built-in scenario: public-bucket, vm-unpatched, saas-leaver, provider-breach,
        /// leaked-keys, endpoint-ransomware.
        #[arg(required_unless_present_any = ["scenario_file", "list"], conflicts_with = "scenario_file")]
        name: Option<String>,
        /// A scenario written in YAML or JSON (`demarc schema drill-scenario`).
        #[arg(long = "scenario", id = "scenario_file", value_name = "FILE")]
        scenario_file: Option<PathBuf>,
        /// List the built-in scenarios.
        #[arg(long)]
        list: bool,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Per framework requirement (and statement part): the mapped controls, who carries it
    /// across the assets in scope (inherited from a provider, the customer's teams, an MSSP,
    /// shared), whether an in-date attestation covering the framework and the service backs
    /// what is inherited, the evidence, and readiness. `--framework all` projects the map
    /// onto every framework side by side. Exits 0 (a report) unless --fail-under is given.
    Compliance {
        /// Estate path (overrides --estate).
        path: Option<PathBuf>,
        /// nist-800-53, fedramp, fedramp-20x, soc2, iso27001, pci-dss, hipaa, cis-v8,
        /// csa-ccm, or `all`.
        #[arg(short = 'F', long)]
        framework: String,
        /// low, moderate, high, privacy (nist-800-53); low, moderate, high, li-saas (fedramp,
        /// default moderate).
        #[arg(long)]
        baseline: Option<String>,
        /// Your own OSCAL profile (JSON) selecting SP 800-53 controls, instead of --baseline.
        #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
        profile: Option<PathBuf>,
        /// Only assets in this environment.
        #[arg(long)]
        env: Option<String>,
        /// Only assets holding this data class.
        #[arg(long)]
        data: Option<String>,
        /// Only the requirements the customer (or the named party, `party` or `party/team`)
        /// carries part of: "which inherited controls are still mine".
        #[arg(long, value_name = "PARTY", num_args = 0..=1, default_missing_value = "")]
        mine: Option<String>,
        /// Exit 1 when readiness (percent of applicable requirements ready) is below this.
        #[arg(long, value_name = "PERCENT")]
        fail_under: Option<f64>,
        /// Also a row per statement part (SP 800-53 `AC-2 a`) in table, CSV and Markdown
        /// output (JSON always has them).
        #[arg(long)]
        parts: bool,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// The evidence register: every piece of evidence with its validity, file hash and who
    /// renews it, and the controls that lack evidence. Exits 1 when something is missing,
    /// expired, expiring within the window, or a file changed.
    Evidence {
        /// Estate path (overrides --estate).
        path: Option<PathBuf>,
        /// Warn about evidence ending within this long (e.g. 30d; default settings.expiry_warning).
        #[arg(long, value_parser = parse_duration_days)]
        within: Option<i64>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Write an audit package to OUT (a new directory, written whole or not at all): the
    /// matrix (XLSX and CSV), compliance per framework, the evidence index with hashes, the
    /// gaps, an HTML summary and a manifest with the SHA-256 of every file.
    AuditPack {
        /// `[ESTATE] OUT`: the estate path (optional) and the package directory to create.
        #[arg(required = true, num_args = 1..=2, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Frameworks to include (repeatable; default: settings.frameworks, else all).
        #[arg(short = 'F', long)]
        framework: Vec<String>,
        /// Replace OUT if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Write the estate in an exchange format: OSCAL (SSP, component definition, mapping),
    /// FedRAMP CIS/CRM workbook, matrix workbook, FedRAMP 20x package documents.
    Export {
        #[command(subcommand)]
        command: exchange_cmd::ExportCommand,
    },
    /// Turn a provider's published model (OSCAL SSP, FedRAMP CIS/CRM workbook, CSA CAIQ) into
    /// a catalog overlay that estates load with `--catalog DIR` or `settings.catalog`.
    Import {
        kind: exchange_cmd::ImportKind,
        /// The file to read.
        file: PathBuf,
        /// The overlay file to write (YAML).
        #[arg(short, long, value_name = "OVERLAY")]
        output: PathBuf,
        /// Summary format: table (default) or json.
        #[arg(short, long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
        /// Catalog provider id for the imported service (default: derived from the document).
        #[arg(long, value_name = "ID")]
        provider: Option<String>,
        /// The provider's display name.
        #[arg(long, value_name = "NAME")]
        provider_name: Option<String>,
        /// Service id for the imported service, e.g. `acme-cloud:platform` (assets use it).
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// The service's display name.
        #[arg(long, value_name = "NAME")]
        service_name: Option<String>,
        /// Generic model the service follows: iaas, caas, paas, faas, dbaas, saas, on-prem.
        #[arg(long, value_name = "MODEL")]
        model: Option<String>,
    },
    /// Draft the responsibility annex of a contract with PARTY (an MSSP, a vendor, or a team's
    /// service agreement, `party/team`): per system, the duties the party holds with cadence and
    /// SLA, what the customer keeps, log sharing, escalation, evidence due and the annex's
    /// review cadence; duties no clause covers are marked "to be agreed". Formats: md (the
    /// default), html, docx (docx-compatible HTML), json.
    Annex {
        /// Estate path (overrides --estate).
        path: Option<PathBuf>,
        /// The party (`shieldco`) or team (`acme/secops`) the annex is for.
        #[arg(long, value_name = "PARTY")]
        party: String,
        /// A contract of the party in the estate (its id), or a YAML file holding one contract
        /// as written under `contracts:`: list the party's duties its clauses leave out.
        #[arg(long, value_name = "CONTRACT")]
        compare: Option<String>,
        /// An older annex: a previous `annex --format json` output (a `.json` file), or an
        /// older estate (a file or a directory, e.g. a git worktree of an earlier commit),
        /// resolved as of the same date. Prints what changed in the schedule.
        #[arg(long, value_name = "OLD")]
        diff: Option<PathBuf>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// List the incidents recorded in the estate: who held the failed duty on the incident's
    /// date (with the deciding rule), time to detect and respond against the SLA, whether it
    /// was a responsibility or an execution failure, its post-incident review and repeats.
    Incidents {
        /// Estate path (overrides --estate).
        path: Option<PathBuf>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Bring what discovery tools and scanners found into the estate: `ingest inventory`
    /// (resources) and `ingest findings` (security findings).
    Ingest {
        #[command(subcommand)]
        command: ingest_cmd::IngestCommand,
    },
    /// Run the demarc server: the REST API (/api/v1) and the web UI, with an embedded SQLite
    /// database by default or PostgreSQL (`--db postgres://…`).
    Serve(server_cmd::ServeArgs),
    /// Manage the server's database: users, organizations, estates, roles, API tokens, and
    /// check the audit log's hash chain.
    Admin {
        #[command(subcommand)]
        command: server_cmd::AdminCommand,
    },
    /// Upload an estate directory to a demarc server as a new version.
    Push(server_cmd::PushArgs),
    /// Drift between the estate and its latest inventory snapshot: undeclared assets, declared
    /// assets gone, unmapped resource types, assets whose service, env or data class changed,
    /// services first seen after the latest review (DM021–DM025). Exits 1 when drift is found.
    Drift {
        /// Estate directory (overrides --estate).
        path: Option<PathBuf>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Evaluate configuration rules written in Rego (built in, plus --rules DIR) over the
    /// latest inventory snapshot. Exits 1 when a rule fails.
    Policy {
        /// Estate directory (overrides --estate).
        path: Option<PathBuf>,
        /// A directory of your own `.rego` rules.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Only the rules of --rules.
        #[arg(long)]
        no_builtin: bool,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Who must fix which security finding, by when: the latest findings snapshot (stored by
    /// `demarc ingest findings`) attributed to controls, assets, the responsible party or team and
    /// the SLA their contract sets; overdue findings, findings on provider-owned duties (with
    /// the provider's escalation path), on undeclared assets and mapping to no control. Exits 1
    /// when an open finding is at or above --fail-on.
    Findings {
        /// Estate directory (overrides --estate).
        path: Option<PathBuf>,
        #[command(flatten)]
        args: EstateArgs,
        /// Group open findings by party (and team), control, asset or severity.
        #[arg(long, value_enum, default_value_t = findings_cmd::ByArg::Party)]
        by: findings_cmd::ByArg,
        /// Lowest severity of an open finding that makes the command exit 1.
        #[arg(long, value_enum, default_value_t = SeverityArg::Low)]
        fail_on: SeverityArg,
        /// List passed, manual, suppressed and resolved findings too.
        #[arg(long)]
        all: bool,
        /// List only overdue findings.
        #[arg(long)]
        overdue: bool,
        /// Findings listed in table and md output, most urgent first (0 = all).
        #[arg(long, default_value_t = 25)]
        limit: usize,
    },
    /// Print shell completions (bash, zsh, fish, powershell, elvish) to stdout.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) to stdout, e.g. `demarc man > demarc.1`.
    Man,
    /// Browse the built-in catalog.
    Catalog {
        #[command(subcommand)]
        command: catalog_cmd::CatalogCommand,
    },
    /// Print the JSON Schema of estate files (for editor autocompletion), or with NAME of an
    /// output: check, cells, cell, gap, triage, explain, drill, or the `drill-scenario` input.
    Schema {
        /// An output shape; leave out for the estate file schema.
        name: Option<String>,
    },
}

fn severity_threshold(fail_on: SeverityArg) -> Option<Severity> {
    match fail_on {
        SeverityArg::Info => Some(Severity::Info),
        SeverityArg::Low => Some(Severity::Low),
        SeverityArg::Medium => Some(Severity::Medium),
        SeverityArg::High => Some(Severity::High),
        SeverityArg::Critical => Some(Severity::Critical),
        SeverityArg::Never => None,
    }
}

/// The largest scenario file read.
const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// Reads a scenario file (YAML or JSON): a regular file only, at most 1 MiB.
fn read_scenario(path: &Path) -> Result<demarc_engine::Scenario, InputError> {
    let fail = |m: String| InputError(format!("error: {}: {m}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    let mut text = String::new();
    std::io::Read::take(
        std::fs::File::open(path).map_err(|e| fail(e.to_string()))?,
        MAX_SCENARIO_BYTES + 1,
    )
    .read_to_string(&mut text)
    .map_err(|e| fail(e.to_string()))?;
    if text.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(fail("larger than 1 MiB".into()));
    }
    let doc: api::DrillScenarioV1 = serde_saphyr::from_str(&text).map_err(|e| {
        fail(format!(
            "{e}\n  help: `demarc schema drill-scenario` prints the scenario format"
        ))
    })?;
    Ok((&doc).into())
}

fn duty_arg(s: &str) -> Result<Duty, String> {
    Duty::from_word(s).ok_or_else(|| {
        format!("`{s}` is not a duty: use configure, patch, monitor, respond or audit")
    })
}

/// A duration such as `30d`, `12w` or `1y`, in whole days.
fn parse_duration_days(s: &str) -> Result<i64, String> {
    s.parse::<demarc_model::Duration>()
        .map(|d| d.days())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 30d, 12w or 1y"))
}

/// `YYYY-MM-DD` with a four-digit year, or `today`. chrono alone would read `26-11-23` as
/// the year 26 and accept `+2026-11-23`, silently analysing the wrong century.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    if s == "today" {
        return Ok(chrono::Local::now().date_naive());
    }
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(format!(
            "`{s}` is not a date: write YYYY-MM-DD with a four-digit year (e.g. 2026-11-23), or `today`"
        ));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        let month: u32 = s[5..7].parse().unwrap_or(0);
        if !(1..=12).contains(&month) {
            format!("`{s}` is not a date: month {month} does not exist")
        } else {
            format!("`{s}` is not a date: that month has no day {}", &s[8..10])
        }
    })?;
    if d.year() < 1900 {
        return Err(format!(
            "`{s}` is not a plausible analysis date: the year must be 1900 or later"
        ));
    }
    Ok(d)
}

/// An input problem already explained to the user.
struct InputError(String);

impl<E: std::fmt::Display> From<E> for InputError {
    fn from(e: E) -> Self {
        InputError(e.to_string())
    }
}

fn color_stdout() -> bool {
    match ui().color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Where terminal tables go: `COLUMNS` when set (scripts and tests), else the terminal's
/// width, else piped (compact, lines kept short).
fn term() -> demarc_report::Term {
    let color = color_stdout();
    match std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
    {
        Some(w) => demarc_report::Term {
            width: Some(w),
            color,
        },
        None => demarc_report::Term::detect(color),
    }
}

/// A spinner naming the current phase, on stderr, only when stderr is a terminal and not
/// `--quiet`; piped and CI output stays clean.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn start(what: &str) -> Progress {
        let on = std::io::stderr().is_terminal() && !ui().quiet;
        Progress(on.then(|| {
            let s = indicatif::ProgressBar::new_spinner();
            s.set_message(what.to_string());
            s.enable_steady_tick(std::time::Duration::from_millis(120));
            s
        }))
    }
    fn phase(&self, what: &str) {
        if let Some(s) = &self.0 {
            s.set_message(what.to_string());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            s.finish_and_clear();
        }
    }
}

/// The gap keys of a previous `check --format json` (or `--format ndjson`) output.
fn read_baseline(path: &Path) -> Result<std::collections::BTreeSet<String>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError(format!(
            "error: cannot read the baseline {}: {e}",
            path.display()
        ))
    })?;
    let bad = |why: String| {
        InputError(format!(
            "error: {} is not a `demarc check --format json` output: {why}\n  help: make it with `demarc check --format json > {}` on the accepted state",
            path.display(),
            path.display()
        ))
    };
    let keys_of = |v: &serde_json::Value| -> Option<String> {
        v.get("key").and_then(|k| k.as_str()).map(str::to_string)
    };
    let mut keys = std::collections::BTreeSet::new();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => {
            let gaps = v
                .get("gaps")
                .and_then(|g| g.as_array())
                .ok_or_else(|| bad("it has no `gaps` list".into()))?;
            for g in gaps {
                keys.insert(keys_of(g).ok_or_else(|| bad("a gap has no `key`".into()))?);
            }
        }
        // NDJSON: one gap per line.
        Err(_) => {
            for (n, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", n + 1)))?;
                keys.insert(
                    keys_of(&v).ok_or_else(|| bad(format!("line {} has no `key`", n + 1)))?,
                );
            }
        }
    }
    Ok(keys)
}

/// `5 fixes; 2 accepted; 3 new since the baseline`: the line under the summary.
fn fixes_line(a: &demarc_engine::Analysis) -> String {
    let s = &a.summary;
    let mut parts = vec![format!(
        "{} {} to make",
        s.fixes,
        if s.fixes == 1 { "fix" } else { "fixes" }
    )];
    if s.accepted > 0 {
        parts.push(format!("{} accepted (not counted)", s.accepted));
    }
    if let Some(n) = s.new {
        parts.push(format!("{n} new since the baseline"));
    }
    format!("{}\n", parts.join("; "))
}

/// The estate to read: the path given (as an argument or `-e`), else the nearest directory,
/// the current one or a parent, holding a root file (`estate.yaml` or `demarc.yaml`).
fn estate_path(given: Option<&Path>, args: &EstateArgs) -> Result<PathBuf, InputError> {
    if let Some(p) = given.or(args.estate.as_deref()) {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| InputError(format!("error: cannot read the current directory: {e}")))?;
    demarc_model::find_estate_root(&cwd).ok_or_else(|| {
        InputError(format!(
            "error: no estate found: neither {} nor any parent directory holds `estate.yaml` or `demarc.yaml`\n  \
             help: pass the estate with `-e PATH` (a file, or a directory with a root file), or run `demarc init` to create one here",
            cwd.display()
        ))
    })
}

/// Loads the estate, composes its catalog (built-in, overlays, the estate's own services) and
/// validates the estate against that catalog.
fn load(
    path: &Path,
    args: &EstateArgs,
    progress: &Progress,
) -> Result<(Estate, Arc<Catalog>), InputError> {
    let input = |d: demarc_model::Diagnostics| InputError(d.to_string());
    progress.phase(&format!("loading {}", path.display()));
    let options = demarc_model::LoadOptions {
        inventory: args.inventory.clone(),
        no_snapshot: args.no_snapshot,
        confine_to: None,
    };
    let mut interner = demarc_model::Interner::new();
    let estate = timed("load", || {
        demarc_model::load_path(path, &options, &mut interner)
    })
    .map_err(input)?;
    drop(interner);
    for n in &estate.notes {
        note(n);
    }
    progress.phase("composing the catalog");
    let catalog = timed("catalog", || {
        demarc_catalog::for_estate(&estate, &args.catalogs)
    })
    .map_err(input)?;
    progress.phase("validating");
    timed("validate", || {
        // The later of --as-of and today: an attestation ten years after today is a typo even
        // when an old --as-of is asked for (a look back must not make real dates errors).
        let horizon_from = as_of(args).max(chrono::Local::now().date_naive());
        demarc_model::validate_at(&estate, &*catalog, Some(horizon_from))
    })
    .map_err(input)?;
    Ok((estate, catalog))
}

/// Every date the estate states, for the as-of sanity check.
fn estate_dates(e: &Estate) -> impl Iterator<Item = NaiveDate> + '_ {
    e.contracts
        .iter()
        .flat_map(|c| {
            [c.effective, c.expires]
                .into_iter()
                .chain(c.clauses.iter().map(|cl| cl.expires))
        })
        .chain(e.overrides.iter().map(|o| o.expires))
        .chain(e.reviews.iter().map(|r| Some(r.date)))
        .chain(e.evidence.iter().map(|v| Some(v.collected)))
        .chain(e.assets.iter().map(|a| a.added))
        .chain(e.parties.values().flat_map(|p| {
            p.attestations
                .iter()
                .flat_map(|a| [a.expires, a.period_end])
        }))
        .flatten()
}

/// Runs one phase of the pipeline; with `DEMARC_TIMINGS` set, reports its wall time on stderr
/// (how the whole-process benchmark splits parse, resolve, analyse and render).
pub(crate) fn timed<R>(phase: &str, f: impl FnOnce() -> R) -> R {
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

/// A query that has no answer, as the user sees it.
fn not_applicable(e: NotApplicable) -> InputError {
    InputError(format!("error: {e}\n  help: {}", e.help()))
}

fn find_asset(res: &Resolution, id: &str) -> Result<AssetIx, InputError> {
    res.find_asset(id).map_err(not_applicable)
}

fn parse_duty(word: &str) -> Result<Duty, InputError> {
    Duty::from_word(word).ok_or_else(|| {
        InputError(format!(
            "error: unknown duty `{word}`\n  help: use one of configure, patch, monitor, respond, audit (or configures, patches, monitors, responds, audits)"
        ))
    })
}

/// Writes to stdout. A closed pipe (`demarc … | head`) ends the output quietly; any other
/// failure (a full disk, `/dev/full`) is an error the user must see, never a silent exit 0.
fn print(text: &str) -> Result<(), InputError> {
    write_stdout(|w| w.write_all(text.as_bytes()))
}

/// Writes to a buffered, locked stdout, with the same error handling as [`print`].
fn write_stdout(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), InputError> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    match f(&mut w).and_then(|_| w.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(InputError(format!("error: cannot write the output: {e}"))),
    }
}

fn json_out<T: serde::Serialize>(v: &T) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(v).expect("output types serialise")
    )
}

/// One compact JSON object per line.
fn ndjson_line<T: serde::Serialize>(w: &mut dyn Write, v: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

/// Writes a file whole or not at all: a uniquely named temporary file in the same directory,
/// renamed into place. A target that exists and is not a regular file (a symlink, a device, a
/// FIFO) is refused rather than replaced.
fn write_atomic(path: &Path, contents: &str) -> Result<(), InputError> {
    exchange_cmd::write_via_temp(path, |tmp| {
        std::fs::File::create(tmp)
            .and_then(|mut f| {
                f.write_all(contents.as_bytes())?;
                f.sync_all()
            })
            .map_err(|e| InputError(format!("error: cannot write {}: {e}", path.display())))
    })
}

/// Loads, validates and resolves the estate at `path` as of the date the arguments give.
fn open(path: Option<&Path>, args: &EstateArgs) -> Result<Arc<Resolution>, InputError> {
    let path = estate_path(path, args)?;
    let progress = Progress::start("starting");
    let (estate, catalog) = load(&path, args, &progress)?;
    let as_of = as_of(args);
    if let Some(first) = estate_dates(&estate).min()
        && as_of < first
    {
        warn(&format!(
            "--as-of {as_of} is before every date in the estate (the earliest is {first}); is the year right?"
        ));
    }
    progress.phase("preparing");
    let prepared = Arc::new(timed("prepare", || {
        Prepared::new(Arc::new(estate), catalog)
    }));
    progress.phase("resolving");
    Ok(timed("resolve", || prepared.resolve(as_of)))
}

/// The largest contract file `annex --compare` reads.
const MAX_CONTRACT_BYTES: u64 = 1 << 20;

/// Reads a regular file of at most `max` bytes.
fn read_bounded(path: &Path, max: u64, what: &str) -> Result<String, InputError> {
    let fail = |m: String| InputError(format!("error: {}: {m}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail(format!("{what} is not a regular file")));
    }
    let mut text = String::new();
    std::io::Read::take(
        std::fs::File::open(path).map_err(|e| fail(e.to_string()))?,
        max + 1,
    )
    .read_to_string(&mut text)
    .map_err(|e| fail(e.to_string()))?;
    if text.len() as u64 > max {
        return Err(fail(format!("{what} is larger than {} KiB", max / 1024)));
    }
    Ok(text)
}

/// The annex of one party in the resolution, as JSON types, with an optional comparison.
fn annex_of(
    res: &Arc<Resolution>,
    party: &str,
    compare: Option<&str>,
) -> Result<api::AnnexV1, InputError> {
    let who = res
        .annex_party(party)
        .map_err(|e| InputError(format!("error: --party: {e}")))?;
    let annex = res.annex(&who);
    let comparison = match compare {
        None => None,
        Some(c) => {
            let estate = res.estate();
            if let Some(k) = estate.contracts.iter().find(|k| k.id.as_str() == c) {
                if k.party.as_str() != who.party {
                    return Err(InputError(format!(
                        "error: contract `{c}` is with `{}`, not `{}`\n  help: compare the annex with a contract of the same party",
                        k.party.value, who.party
                    )));
                }
                Some(res.annex_compare(&annex, res, c))
            } else if Path::new(c).is_file() {
                let text = read_bounded(Path::new(c), MAX_CONTRACT_BYTES, "the contract")?;
                let contract: demarc_model::Contract = serde_saphyr::from_str(&text).map_err(|e| {
                    InputError(format!(
                        "error: {c}: {e}\n  help: write one contract as under `contracts:` in the estate: `id`, `party`, `clauses`"
                    ))
                })?;
                if contract.party.as_str() != who.party {
                    return Err(InputError(format!(
                        "error: {c}: the contract is with `{}`, not `{}`",
                        contract.party.value, who.party
                    )));
                }
                let id = contract.id.value.clone();
                let mut draft = estate.clone();
                draft.contracts.retain(|k| k.id.as_str() != id);
                draft.contracts.push(demarc_model::Sp::new(contract));
                demarc_model::validate(&draft, &**res.catalog_arc()).map_err(|d| {
                    InputError(format!(
                        "error: the clauses of {c} do not fit the estate:\n{d}"
                    ))
                })?;
                let against = Arc::new(Prepared::new(Arc::new(draft), res.catalog_arc().clone()))
                    .resolve(res.as_of());
                Some(res.annex_compare(&annex, &against, &id))
            } else {
                let ids: Vec<&str> = estate
                    .contracts
                    .iter()
                    .filter(|k| k.party.as_str() == who.party)
                    .map(|k| k.id.as_str())
                    .collect();
                return Err(InputError(format!(
                    "error: --compare: `{c}` is neither a contract of `{}` in the estate nor a file\n  help: {}",
                    who.party,
                    if ids.is_empty() {
                        "the party has no contract in the estate; give a YAML file holding one"
                            .to_string()
                    } else {
                        format!("its contracts are {}", ids.join(", "))
                    }
                )));
            }
        }
    };
    Ok(api::AnnexV1::new(res, &annex, comparison.as_ref()))
}

fn annex_cmd(
    path: Option<&Path>,
    party: &str,
    compare: Option<&str>,
    diff: Option<&Path>,
    args: &EstateArgs,
) -> Result<u8, InputError> {
    let res = open(path, args)?;
    let annex = annex_of(&res, party, compare)?;
    if let Some(old_path) = diff {
        let old = if old_path.extension().is_some_and(|e| e == "json") {
            let text = read_bounded(old_path, 64 << 20, "the old annex")?;
            let old: api::AnnexV1 = serde_json::from_str(&text).map_err(|e| {
                InputError(format!(
                    "error: {} is not a `demarc annex --format json` output: {e}",
                    old_path.display()
                ))
            })?;
            if old.party != annex.party {
                return Err(InputError(format!(
                    "error: {} is the annex of `{}`, not `{}`",
                    old_path.display(),
                    old.party,
                    annex.party
                )));
            }
            old
        } else {
            let old_res = open(Some(old_path), args)?;
            annex_of(&old_res, party, None)?
        };
        let d = api::annex_diff(&old, &annex);
        match args.format {
            FormatArg::Json => print(&json_out(&d))?,
            FormatArg::Table | FormatArg::Md => print(&demarc_report::annex::annex_diff_md(&d))?,
            _ => {
                return Err(InputError(
                    "error: `annex --diff` writes md (the default) or json\n  help: use --format md or json".into(),
                ));
            }
        }
        return Ok(0);
    }
    match args.format {
        FormatArg::Json => print(&json_out(&annex))?,
        FormatArg::Html => print(&demarc_report::annex::annex_html(&annex, false))?,
        FormatArg::Docx => print(&demarc_report::annex::annex_html(&annex, true))?,
        FormatArg::Table | FormatArg::Md => print(&demarc_report::annex::annex_md(&annex))?,
        _ => {
            return Err(InputError(
                "error: `annex` writes md (the default), html, docx or json\n  help: use --format md, html, docx or json".into(),
            ));
        }
    }
    Ok(0)
}

fn run(cli: Cli) -> Result<u8, InputError> {
    let catalog = Catalog::builtin();
    match &cli.command {
        Command::Check { args, .. } => format_for("check", args.format)?,
        Command::Drill { args, .. } => format_for("drill", args.format)?,
        Command::Matrix { args, .. } => format_for("matrix", args.format)?,
        Command::Explain { args, .. } => format_for("explain", args.format)?,
        Command::Who { args, .. } => format_for("who", args.format)?,
        Command::Triage { args, .. } => format_for("triage", args.format)?,
        Command::Compliance { args, .. } => format_for("compliance", args.format)?,
        Command::Evidence { args, .. } => format_for("evidence", args.format)?,
        Command::AuditPack { args, .. } => format_for("audit-pack", args.format)?,
        Command::Annex { args, .. } => format_for("annex", args.format)?,
        Command::Incidents { args, .. } => format_for("incidents", args.format)?,
        _ => {}
    }
    match cli.command {
        Command::Drill {
            name,
            scenario_file,
            list,
            args,
        } => {
            if list {
                let mut out = String::new();
                for s in demarc_engine::builtin_scenarios() {
                    out.push_str(&format!("{:<20} {}\n", s.id, s.title));
                }
                print(&out)?;
                return Ok(0);
            }
            let scenario = match (&name, &scenario_file) {
                (_, Some(f)) => read_scenario(f)?,
                (Some(n), None) => demarc_engine::builtin_scenario(n).ok_or_else(|| {
                    let ids: Vec<String> = demarc_engine::builtin_scenarios()
                        .into_iter()
                        .map(|s| s.id)
                        .collect();
                    let hint = demarc_model::suggest(n, ids.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                    InputError(format!(
                        "error: no built-in scenario `{n}`\n  help: {hint}built-in scenarios: {}; or write one and pass --scenario FILE",
                        ids.join(", ")
                    ))
                })?,
                // clap requires one of the two; say so rather than trust it with a panic.
                (None, None) => {
                    return Err(InputError(
                        "error: name a scenario\n  help: `demarc drill --list` shows the built-in ones; or pass --scenario FILE".into(),
                    ));
                }
            };
            let res = open(None, &args)?;
            let drill = res.drill(&scenario).map_err(|e| {
                InputError(format!(
                    "error: scenario `{}` names what the catalog does not have:\n{e}",
                    scenario.id
                ))
            })?;
            let out = api::DrillV1::new(&res, &drill);
            match args.format {
                FormatArg::Json => print(&json_out(&out))?,
                FormatArg::Html => print(&demarc_report::drill::drill_html(&out))?,
                FormatArg::Table | FormatArg::Md => print(&demarc_report::drill::drill_md(&out))?,
                _ => {
                    return Err(InputError(
                        "error: `drill` writes md (the default), html or json\n  help: use --format md, html or json".into(),
                    ));
                }
            }
            Ok(0)
        }
        Command::Init { dir, name, force } => {
            init::run(dir.as_deref().unwrap_or(Path::new(".")), &name, force)
        }
        Command::Schema { name } => {
            let schema = match name.as_deref() {
                None | Some("estate") => demarc_model::json_schema(),
                Some(n) => api::schema(n).ok_or_else(|| {
                    InputError(format!(
                        "error: no output shape `{n}`\n  help: use one of estate, {}",
                        api::SCHEMAS.join(", ")
                    ))
                })?,
            };
            print(&json_out(&schema))?;
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "demarc", &mut out);
            print(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| InputError(format!("error: cannot render the man page: {e}")))?;
            print(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Catalog { command } => catalog_cmd::run(catalog, command),
        Command::Ingest { command } => ingest_cmd::run(command),
        Command::Serve(a) => server_cmd::serve(a),
        Command::Admin { command } => server_cmd::admin(command),
        Command::Push(a) => server_cmd::push(a),
        Command::Drift { path, args } => ingest_cmd::drift(path.as_deref(), &args),
        Command::Policy {
            path,
            rules,
            no_builtin,
            args,
        } => ingest_cmd::policy(path.as_deref(), rules.as_deref(), no_builtin, &args),
        Command::Findings {
            path,
            args,
            by,
            fail_on,
            all,
            overdue,
            limit,
        } => findings_cmd::report(findings_cmd::ReportArgs {
            path: path.as_deref(),
            args: &args,
            by,
            fail_on,
            all,
            overdue,
            limit,
        }),
        Command::Export { command } => exchange_cmd::export(command),
        Command::Import {
            kind,
            file,
            output,
            format,
            provider,
            provider_name,
            service,
            service_name,
            model,
        } => {
            if !matches!(format, FormatArg::Table | FormatArg::Json) {
                return Err(InputError(
                    "error: `import` prints its summary as table or json\n  help: use --format table or --format json".into(),
                ));
            }
            let naming = demarc_exchange::overlay::Naming {
                provider,
                provider_name,
                service,
                service_name,
                model,
            };
            exchange_cmd::import(kind, &file, &output, format == FormatArg::Json, &naming)
        }
        Command::Compliance {
            path,
            framework,
            baseline,
            profile,
            env,
            data,
            mine,
            fail_under,
            parts,
            args,
        } => {
            let res = open(path.as_deref(), &args)?;
            compliance_cmd::compliance(
                &res,
                compliance_cmd::ComplianceArgs {
                    framework: &framework,
                    baseline: baseline.as_deref(),
                    profile: profile.as_deref(),
                    env: env.as_deref(),
                    data: data.as_deref(),
                    mine: mine.as_deref(),
                    fail_under,
                    parts,
                    args: &args,
                },
            )
        }
        Command::Annex {
            path,
            party,
            compare,
            diff,
            args,
        } => annex_cmd(
            path.as_deref(),
            &party,
            compare.as_deref(),
            diff.as_deref(),
            &args,
        ),
        Command::Incidents { path, args } => {
            let res = open(path.as_deref(), &args)?;
            let v = api::IncidentsV1::new(&res, &res.incidents());
            match args.format {
                FormatArg::Json => print(&json_out(&v))?,
                FormatArg::Table | FormatArg::Csv | FormatArg::Md => print(
                    &demarc_report::annex::incidents_grid(&v)
                        .render_for(args.format.into(), term()),
                )?,
                _ => {
                    return Err(InputError(
                        "error: `incidents` writes table (the default), json, csv or md\n  help: use --format table, json, csv or md".into(),
                    ));
                }
            }
            Ok(0)
        }
        Command::Evidence { path, within, args } => {
            let res = open(path.as_deref(), &args)?;
            compliance_cmd::evidence_cmd(&res, within, args.format)
        }
        Command::AuditPack {
            paths,
            framework,
            force,
            args,
        } => {
            let (estate, out) = match paths.as_slice() {
                [out] => (None, out.clone()),
                [estate, out] => (Some(estate.clone()), out.clone()),
                _ => {
                    return Err(InputError(
                        "error: give `[ESTATE] OUT`\n  help: e.g. `demarc audit-pack examples/acme audit/`".into(),
                    ));
                }
            };
            let res = open(estate.as_deref(), &args)?;
            audit_pack::run(&res, &out, &framework, force)
        }
        Command::Check {
            path,
            args,
            fail_on,
            html,
            wide,
            max_gap_assets,
            baseline,
        } => {
            // Read the baseline first: a missing file is a usage error before any work.
            let known = baseline.as_deref().map(read_baseline).transpose()?;
            let res = open(path.as_deref(), &args)?;
            let options = demarc_engine::AnalyseOptions {
                max_assets_per_gap: (max_gap_assets > 0).then_some(max_gap_assets),
            };
            let review = ingest_cmd::review_trigger(path.as_deref(), &args, &res)?;
            let mut analysis = timed("analyse", || match &review {
                Some(check) => demarc_engine::analyse_with_checks(&res, options, &[check]),
                None => res.gaps(options),
            });
            if let Some(known) = &known {
                analysis.compare_with_baseline(known);
            }
            // People read one entry per fix; JSON keeps one gap per key (with its `group`).
            let fixes = analysis.fixes();
            if let Some(h) = html {
                let page = demarc_report::html::report(&res, &fixes).map_err(|e| {
                    InputError(format!("error: cannot render the HTML report: {e}"))
                })?;
                write_atomic(&h, &page)?;
            }
            match args.format {
                FormatArg::Json => print(&timed("render", || {
                    json_out(&api::CheckV1::new(&res, &analysis))
                }))?,
                FormatArg::Ndjson => write_stdout(|w| {
                    for g in &analysis.gaps {
                        ndjson_line(w, &api::GapV1::from(g))?;
                    }
                    Ok(())
                })?,
                FormatArg::Sarif => {
                    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
                    print(&json_out(&demarc_report::sarif::sarif(
                        &res, &analysis, &base,
                    )))?
                }
                FormatArg::Junit => print(&demarc_report::junit::junit(
                    &res,
                    &analysis,
                    severity_threshold(fail_on),
                ))?,
                FormatArg::Table => {
                    let width = term().wrap_width();
                    for line in demarc_report::summary_text(&res, &fixes).lines() {
                        print(&format!("{}\n", demarc_report::wrap(line, width, 2)))?;
                    }
                    print(&fixes_line(&fixes))?;
                    if !fixes.gaps.is_empty() {
                        print(&demarc_report::gaps_table(&fixes, wide, term()))?;
                    }
                }
                f => print(&demarc_report::gaps_grid(&fixes, true).render(f.into(), false))?,
            }
            let threshold = severity_threshold(fail_on);
            // Per gap key: accepted gaps never fail, and with a baseline only new ones do.
            let failing = threshold.is_some_and(|t| analysis.failing(t).next().is_some());
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
            let res = open(path.as_deref(), &args)?;
            let assets: Vec<AssetIx> = if asset.is_empty() {
                res.assets().collect()
            } else {
                asset
                    .iter()
                    .map(|a| find_asset(&res, a))
                    .collect::<Result<_, _>>()?
            };
            if let Some(c) = &control {
                let ctl = res.find_control(c).map_err(not_applicable)?;
                // Asking for a duty the control does not have is an error, as in `explain`,
                // not an empty table.
                if let Some(d) = duty
                    && !ctl.duties.contains(&d)
                {
                    return Err(not_applicable(NotApplicable::NoSuchDuty {
                        control: c.clone(),
                        duty: d,
                        duties: ctl.duties.clone(),
                    }));
                }
            }
            let filter = demarc_report::CellFilter {
                control,
                duty,
                problems_only: problems,
            };
            let rows = rows
                || filter.control.is_some()
                || filter.duty.is_some()
                || problems
                || args.format == FormatArg::Ndjson;
            let cells = || {
                assets.iter().flat_map(|&i| {
                    res.cells_of(i)
                        .iter()
                        .filter(|c| filter.keep(&res, c))
                        .map(move |c| (i, c))
                })
            };
            // Everything but a terminal table streams: `matrix --rows` on a big estate is
            // millions of rows, written as they are made instead of held in memory.
            match args.format {
                FormatArg::Ndjson => write_stdout(|w| {
                    for (i, c) in cells() {
                        ndjson_line(w, &api::CellV1::new(&res, i, c))?;
                    }
                    Ok(())
                })?,
                FormatArg::Json if rows => {
                    let out = api::CellsStream::new(
                        &res,
                        json::SeqOf::new(cells().map(|(i, c)| api::CellV1::new(&res, i, c))),
                    );
                    write_stdout(|w| {
                        serde_json::to_writer_pretty(&mut *w, &out)
                            .map_err(std::io::Error::other)?;
                        w.write_all(b"\n")
                    })?;
                }
                FormatArg::Table => {
                    let grid = if rows {
                        demarc_report::matrix_rows(&res, &assets, &filter)
                    } else {
                        demarc_report::matrix_grid(&res, &assets)
                    };
                    print(&grid.render_for(Format::Table, term()))?;
                }
                f => write_stdout(|w| {
                    let (headers, lines): (Vec<&str>, Box<dyn Iterator<Item = Vec<String>>>) =
                        if rows {
                            (
                                demarc_report::row_headers(&filter),
                                Box::new(demarc_report::matrix_rows_iter(&res, &assets, &filter)),
                            )
                        } else {
                            (
                                demarc_report::MATRIX_HEADERS.to_vec(),
                                Box::new(demarc_report::matrix_grid_rows(&res, &assets)),
                            )
                        };
                    let mut rw = demarc_report::RowWriter::new(f.into(), &headers, w)?;
                    for line in lines {
                        rw.row(&line)?;
                    }
                    rw.finish().map(|_| ())
                })?,
            }
            Ok(0)
        }
        Command::Explain {
            asset,
            control,
            duty,
            args,
        } => {
            let duty = parse_duty(&duty)?;
            let res = open(None, &args)?;
            let i = find_asset(&res, &asset)?;
            let e = res.explain(i, &control, duty).map_err(not_applicable)?;
            match args.format {
                FormatArg::Json => print(&json_out(&api::CellV1::new(&res, i, e.cell)))?,
                FormatArg::Ndjson => {
                    write_stdout(|w| ndjson_line(w, &api::CellV1::new(&res, i, e.cell)))?
                }
                FormatArg::Table
                | FormatArg::Md
                | FormatArg::Sarif
                | FormatArg::Junit
                | FormatArg::Html
                | FormatArg::Docx => print(&demarc_report::explain_text(&e))?,
                FormatArg::Csv => {
                    let mut g = Grid::new(["step", "kind", "rule", "rule_id", "at", "url"]);
                    for (n, b) in e.cell.basis.iter().enumerate() {
                        g.row([
                            (n + 1).to_string(),
                            b.kind.as_str().to_string(),
                            b.rule.to_string(),
                            b.rule_id
                                .as_ref()
                                .map(ToString::to_string)
                                .unwrap_or_default(),
                            b.at.clone().unwrap_or_default(),
                            b.url.clone().unwrap_or_default(),
                        ]);
                    }
                    print(&g.render(Format::Csv, false))?;
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
            let res = open(None, &args)?;
            let i = find_asset(&res, &asset)?;
            let cells = res
                .who(i, duty, control.as_deref())
                .map_err(not_applicable)?;
            match args.format {
                FormatArg::Json => {
                    let out = api::CellsStream::new(
                        &res,
                        cells
                            .iter()
                            .map(|c| api::CellV1::new(&res, i, c))
                            .collect::<Vec<_>>(),
                    );
                    print(&json_out(&out))?;
                }
                FormatArg::Ndjson => write_stdout(|w| {
                    for c in &cells {
                        ndjson_line(w, &api::CellV1::new(&res, i, c))?;
                    }
                    Ok(())
                })?,
                f => print(&demarc_report::who_grid(&res, &cells).render_for(f.into(), term()))?,
            }
            Ok(0)
        }
        Command::Triage {
            asset,
            control,
            duty,
            args,
        } => {
            let duty = duty.as_deref().map(parse_duty).transpose()?;
            let res = open(None, &args)?;
            let i = find_asset(&res, &asset)?;
            let Some(control) = control else {
                if duty.is_some() {
                    return Err(InputError(
                        "error: --duty needs --control\n  help: name the control, or leave out --duty for the asset's whole call sheet".into(),
                    ));
                }
                let sheet = api::CallSheetV1::new(&res, &res.call_sheet(i));
                match args.format {
                    FormatArg::Json => print(&json_out(&sheet))?,
                    FormatArg::Ndjson => write_stdout(|w| {
                        for c in &sheet.calls {
                            ndjson_line(w, c)?;
                        }
                        Ok(())
                    })?,
                    _ => print(&demarc_report::call_sheet_text(&sheet))?,
                }
                return Ok(0);
            };
            let t = res.triage(i, &control, duty).map_err(not_applicable)?;
            let t = api::TriageV1::new(&res, &t);
            match args.format {
                FormatArg::Json => print(&json_out(&t))?,
                FormatArg::Ndjson => write_stdout(|w| ndjson_line(w, &t))?,
                _ => print(&demarc_report::triage_text(&t))?,
            }
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => {
            let _ = UI.set(Ui {
                color: c.color,
                quiet: c.quiet,
            });
            c
        }
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
