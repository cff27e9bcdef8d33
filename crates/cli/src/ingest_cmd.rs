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
        #[arg(value_name = "FILE", required_unless_present_any = ["policy", "rules"])]
        files: Vec<PathBuf>,
        /// Also run the Rego policy checks (`demarc policy`) over the estate's latest
        /// inventory snapshot and store their results as findings of the same snapshot.
        #[arg(long)]
        policy: bool,
        /// A directory of your own `.rego` rules (implies --policy).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// With --policy: only the rules of --rules.
        #[arg(long, requires = "rules")]
        no_builtin: bool,
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
        IngestCommand::Findings {
            files,
            policy,
            rules,
            no_builtin,
            args,
            by,
        } => {
            let policy = (policy || rules.is_some())
                .then_some(crate::findings_cmd::PolicyRun { rules, no_builtin });
            crate::findings_cmd::ingest(&files, policy, &args, by)
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

/// The review-cadence trigger `check` adds when the estate has inventory snapshots: a
/// service first seen after the latest review is a review due (DM025). Only that drift fact:
/// the rest of drift (undeclared, missing, changed assets) is `demarc drift`'s report.
pub(crate) fn review_trigger(
    path: Option<&Path>,
    args: &EstateArgs,
    res: &demarc_engine::Resolution,
) -> Result<Option<demarc_engine::Drift>, InputError> {
    if args.no_snapshot {
        return Ok(None);
    }
    let dir = estate_dir(path, args)?;
    let facts = ingest::drift::facts(&dir, res.estate()).map_err(|e| {
        InputError(format!(
            "error: {e}\n  help: ingest the inventory again, or pass --no-snapshot"
        ))
    })?;
    Ok(facts.and_then(|(facts, _)| {
        (!facts.new_services.is_empty()).then(|| {
            demarc_engine::Drift(demarc_engine::DriftFacts {
                new_services: facts.new_services,
                snapshot: facts.snapshot,
                ..Default::default()
            })
        })
    }))
}

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

/// Loads the built-in rules (unless `no_builtin`) and those of `--rules DIR`.
pub(crate) fn load_rules(
    rules: Option<&Path>,
    no_builtin: bool,
) -> Result<ingest::policy::Policy, InputError> {
    if no_builtin && rules.is_none() {
        return Err(InputError(
            "error: --no-builtin leaves no rules\n  help: pass --rules DIR".into(),
        ));
    }
    ingest::policy::Policy::load(&ingest::policy::RuleSources {
        builtin: !no_builtin,
        dir: rules.map(Path::to_path_buf),
    })
    .map_err(|e| InputError(format!("error: {e}")))
}

/// Evaluates the rules over the estate's latest inventory snapshot; rules are checked against
/// the estate's own catalog (built-in, overlays and the estate's services).
pub(crate) fn evaluate(
    policy: &mut ingest::policy::Policy,
    dir: &Path,
    res: &demarc_engine::Resolution,
) -> Result<
    (
        api::InventoryV1,
        Vec<api::PolicyRuleV1>,
        Vec<api::PolicyResultV1>,
    ),
    InputError,
> {
    let rule_list = policy
        .rules(res.catalog())
        .map_err(|e| InputError(format!("error: {e}")))?;
    let input = crate::timed("inventory", || ingest::inventory(dir))
        .map_err(|e| InputError(format!("error: {e}")))?;
    let results = crate::timed("rego", || policy.evaluate(&input, &rule_list))
        .map_err(|e| InputError(format!("error: {e}")))?;
    Ok((input, rule_list, results))
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
    let dir = estate_dir(path, args)?;
    // Rules first: a broken rule is reported before any inventory is read.
    let mut policy = load_rules(rules, no_builtin)?;
    let res = crate::open(Some(&dir), args)?;
    let (input, rule_list, results) = evaluate(&mut policy, &dir, &res)?;
    let found = !results.is_empty();
    let as_of = crate::as_of(args);
    let at = demarc_posture::Attributor::new(&res, demarc_posture::CheckTable::builtin(), as_of);
    let mut list = ingest::policy::findings(&input, &results);
    for f in &mut list {
        // Never ingested: today is when it was seen (`demarc ingest findings --policy`
        // keeps the first day across runs).
        f.first_seen = Some(as_of);
    }
    let attributed: Vec<api::FindingV1> = crate::timed("attribute", || {
        list.iter()
            .map(|f| api::FindingV1::new(&at, f, &at.attribute(f)))
            .collect()
    });
    match args.format {
        FormatArg::Json => print(&json_out(&api::PolicyV1 {
            schema: "demarc.policy/v1".into(),
            snapshot: input.snapshot.clone(),
            resources: input.resources.len(),
            rules: rule_list,
            results,
            findings: attributed,
        }))?,
        f => {
            let mut g = demarc_report::Grid::new([
                "rule", "severity", "control", "resource", "asset", "route", "owner", "sla",
                "message",
            ]);
            for (r, a) in results.iter().zip(&attributed) {
                g.row([
                    r.rule.clone(),
                    a.severity.clone(),
                    r.control.clone(),
                    r.resource.clone(),
                    r.asset.clone(),
                    a.route.clone(),
                    a.owner.clone().unwrap_or_default(),
                    a.sla.clone().unwrap_or_default(),
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
                if found {
                    out.push_str(&format!(
                        "store them as findings with `demarc ingest findings --policy --estate {}`\n",
                        dir.display()
                    ));
                }
                print(&out)?;
            } else {
                print(&g.render(f.into(), false))?;
            }
        }
    }
    Ok(if found { EXIT_GAPS } else { 0 })
}
