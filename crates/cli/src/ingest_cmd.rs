//! `demarc ingest inventory`, `demarc drift` and `demarc policy`: wiring only; the work is in
//! `demarc-ingest` (readers, snapshots, drift facts, Rego) and the engine (drift gaps).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use demarc_api as api;
use demarc_ingest as ingest;

use crate::{EXIT_GAPS, EstateArgs, FormatArg, InputError, json_out, print, ui};

/// `demarc ingest …`: bring what discovery tools found into the estate.
#[derive(Subcommand)]
pub(crate) enum IngestCommand {
    /// Read inventory exports (Terraform state or plan JSON, AWS Config snapshots, history
    /// and SelectResourceConfig results, Azure Resource Graph results, Cloud Asset Inventory
    /// exports, Kubernetes lists, Cloud Custodian resources.json, demarc CSV or JSON Lines;
    /// the format is detected from the content) and keep them as a dated snapshot in
    /// DIR/.demarc/inventory/, which later commands load automatically.
    Inventory {
        /// The files to read.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The Cloud Custodian resource type (e.g. aws.s3) of a resources.json without a
        /// metadata.json beside it.
        #[arg(long, value_name = "TYPE")]
        custodian_type: Option<String>,
        #[command(flatten)]
        args: EstateArgs,
    },
    /// Read findings files (Prowler OCSF JSON, AWS Security Hub ASFF, SARIF 2.1.0; the format
    /// is recognised from the content) and store them as the as-of date's snapshot under
    /// DIR/.demarc/findings/, written whole or not at all; `demarc findings` attributes them.
    Findings {
        /// The findings files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        args: EstateArgs,
        /// Group the summary by party (and team), control, asset or severity.
        #[arg(long, value_enum, default_value_t = crate::findings_cmd::ByArg::Party)]
        by: crate::findings_cmd::ByArg,
    },
}

fn estate_dir(path: Option<&Path>, args: &EstateArgs) -> Result<PathBuf, InputError> {
    let p = crate::estate_path(path, args)?;
    Ok(if p.is_dir() {
        p
    } else {
        p.parent()
            .filter(|x| !x.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    })
}

struct Bar(Option<indicatif::ProgressBar>);

impl ingest::Progress for Bar {
    fn file(&self, path: &Path, size: u64) {
        if let Some(b) = &self.0 {
            b.set_length(size);
            b.set_position(0);
            b.set_message(path.display().to_string());
        }
    }
    fn advance(&self, bytes: u64, items: u64) {
        if let Some(b) = &self.0 {
            b.set_position(bytes);
            let secs = b.elapsed().as_secs_f64().max(0.001);
            b.set_prefix(format!("{items} resources, {:.0}/s", items as f64 / secs));
        }
    }
}

pub(crate) fn run(command: IngestCommand) -> Result<u8, InputError> {
    match command {
        IngestCommand::Inventory {
            files,
            custodian_type,
            args,
        } => inventory(&files, custodian_type, &args),
        IngestCommand::Findings { files, args, by } => {
            crate::findings_cmd::ingest(&files, &args, by)
        }
    }
}

fn inventory(
    files: &[PathBuf],
    custodian_type: Option<String>,
    args: &EstateArgs,
) -> Result<u8, InputError> {
    if !matches!(args.format, FormatArg::Table | FormatArg::Json) {
        return Err(InputError(
            "error: `ingest inventory` prints its summary as table or json\n  help: use --format table or --format json".into(),
        ));
    }
    let dir = estate_dir(None, args)?;
    // The estate as declared, without earlier snapshots: what discovery is matched against.
    let mut declared_args = args.clone();
    declared_args.no_snapshot = true;
    let progress = crate::Progress::start("loading the estate");
    let (estate, catalog) = crate::load(&dir, &declared_args, &progress)?;
    drop(progress);
    let as_of = crate::as_of(args);
    let now = chrono::Utc::now();
    let stamp = format!("{}T{}Z", as_of.format("%Y-%m-%d"), now.format("%H%M%S"));
    let bar = (std::io::stderr().is_terminal() && !ui().quiet).then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}) {prefix}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    });
    let bar = Bar(bar);
    let options = ingest::IngestOptions {
        as_of,
        stamp,
        custodian_type,
    };
    let result = ingest::ingest(&dir, files, Some(&estate), &catalog, &options, &bar);
    if let Some(b) = &bar.0 {
        b.finish_and_clear();
    }
    let summary = result.map_err(|e| {
        InputError(format!(
            "error: {e}\n  help: nothing was written; fix or remove the file and run again"
        ))
    })?;
    if args.format == FormatArg::Json {
        print(&json_out(&summary))?;
        return Ok(0);
    }
    let mut g = demarc_report::Grid::new(["file", "format", "bytes", "resources"]);
    for f in &summary.files {
        g.row([
            f.path.clone(),
            f.format.clone(),
            f.bytes.to_string(),
            f.resources.to_string(),
        ]);
    }
    let mut out = g.render_for(demarc_report::Format::Table, crate::term());
    out.push_str(&format!(
        "snapshot {}: {} assets ({} matched to declared assets), {} duplicates skipped\n",
        summary.snapshot, summary.assets, summary.matched_declared, summary.duplicates
    ));
    if !summary.unmapped.is_empty() {
        out.push_str("resource types no catalog service lists (kept for policy checks; see `demarc drift`):\n");
        for (t, n) in &summary.unmapped {
            out.push_str(&format!("  {n:>6}  {t}\n"));
        }
    }
    if !summary.without_id.is_empty() {
        out.push_str("records without any id (skipped):\n");
        for (t, n) in &summary.without_id {
            out.push_str(&format!("  {n:>6}  {t}\n"));
        }
    }
    print(&out)?;
    Ok(0)
}

const DRIFT: [&str; 5] = ["DM021", "DM022", "DM023", "DM024", "DM025"];

/// `demarc drift DIR`.
pub(crate) fn drift(path: Option<&Path>, args: &EstateArgs) -> Result<u8, InputError> {
    if !matches!(
        args.format,
        FormatArg::Table | FormatArg::Json | FormatArg::Csv | FormatArg::Md
    ) {
        return Err(InputError(
            "error: `drift` writes table, json, csv or md\n  help: use one of those with --format"
                .into(),
        ));
    }
    let dir = estate_dir(path, args)?;
    if args.no_snapshot {
        return Err(InputError(
            "error: `drift` compares the estate with its latest snapshot; --no-snapshot leaves nothing to compare".into(),
        ));
    }
    let res = crate::open(Some(&dir), args)?;
    let Some((facts, previous)) =
        ingest::drift::facts(&dir, res.estate()).map_err(|e| InputError(format!("error: {e}")))?
    else {
        return Err(InputError(format!(
            "error: {} has no inventory snapshot\n  help: run `demarc ingest inventory FILE... --estate {}` first",
            dir.display(),
            dir.display()
        )));
    };
    let snapshot = facts.snapshot.clone();
    let check = demarc_engine::Drift(facts);
    let mut analysis = demarc_engine::analyse_with_checks(
        &res,
        demarc_engine::AnalyseOptions::default(),
        &[&check],
    );
    analysis.gaps.retain(|g| DRIFT.contains(&g.code));
    let found = !analysis.gaps.is_empty();
    match args.format {
        FormatArg::Json => print(&json_out(&api::DriftV1 {
            schema: "demarc.drift/v1".into(),
            snapshot,
            previous,
            gaps: analysis.gaps.iter().map(api::GapV1::from).collect(),
        }))?,
        FormatArg::Table => {
            if found {
                print(&demarc_report::gaps_table(&analysis, false, crate::term()))?;
            } else {
                print(&format!("no drift against snapshot {snapshot}\n"))?;
            }
        }
        f => print(&demarc_report::gaps_grid(&analysis, true).render(f.into(), false))?,
    }
    Ok(if found { EXIT_GAPS } else { 0 })
}

/// `demarc policy DIR`.
pub(crate) fn policy(
    path: Option<&Path>,
    rules: Option<&Path>,
    no_builtin: bool,
    args: &EstateArgs,
) -> Result<u8, InputError> {
    if !matches!(
        args.format,
        FormatArg::Table | FormatArg::Json | FormatArg::Csv | FormatArg::Md
    ) {
        return Err(InputError(
            "error: `policy` writes table, json, csv or md\n  help: use one of those with --format"
                .into(),
        ));
    }
    if no_builtin && rules.is_none() {
        return Err(InputError(
            "error: --no-builtin leaves no rules\n  help: pass --rules DIR".into(),
        ));
    }
    let dir = estate_dir(path, args)?;
    // Rules first: a broken rule is reported before any inventory is read.
    let mut policy = ingest::policy::Policy::load(&ingest::policy::RuleSources {
        builtin: !no_builtin,
        dir: rules.map(Path::to_path_buf),
    })
    .map_err(|e| InputError(format!("error: {e}")))?;
    let catalog = demarc_catalog::Catalog::builtin();
    let rule_list = policy
        .rules(catalog)
        .map_err(|e| InputError(format!("error: {e}")))?;
    let input = ingest::inventory(&dir).map_err(|e| InputError(format!("error: {e}")))?;
    let results = policy
        .evaluate(&input, &rule_list)
        .map_err(|e| InputError(format!("error: {e}")))?;
    let found = !results.is_empty();
    match args.format {
        FormatArg::Json => print(&json_out(&api::PolicyV1 {
            schema: "demarc.policy/v1".into(),
            snapshot: input.snapshot.clone(),
            resources: input.resources.len(),
            rules: rule_list,
            results,
        }))?,
        f => {
            let mut g = demarc_report::Grid::new([
                "rule", "severity", "control", "resource", "asset", "message",
            ]);
            for r in &results {
                let sev = serde_json::to_value(r.severity)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                g.row([
                    r.rule.clone(),
                    sev,
                    r.control.clone(),
                    r.resource.clone(),
                    r.asset.clone(),
                    r.message.clone(),
                ]);
            }
            if f == FormatArg::Table {
                let mut out = if found {
                    g.render_for(demarc_report::Format::Table, crate::term())
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "{} result{} from {} rules over {} resources of snapshot {}\n",
                    results.len(),
                    if results.len() == 1 { "" } else { "s" },
                    rule_list.len(),
                    input.resources.len(),
                    input.snapshot
                ));
                print(&out)?;
            } else {
                print(&g.render(f.into(), false))?;
            }
        }
    }
    Ok(if found { EXIT_GAPS } else { 0 })
}
