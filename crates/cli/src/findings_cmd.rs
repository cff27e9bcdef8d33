//! `demarc ingest findings FILE... --estate DIR` (the function [`ingest`]) and `demarc
//! findings [DIR]` ([`report`]): security findings read as streams, stored as a dated
//! snapshot under `DIR/.demarc/findings/`, and attributed to controls, assets, responsible
//! parties and SLAs by `demarc-posture`. This file opens files, shows progress, writes
//! atomically and renders; the reading and the attribution are the library's.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use demarc_api as api;
use demarc_posture::{self as posture, Attributor, CheckTable, Fact, Finding, GroupBy, Summary};
use demarc_report::{Format, Grid, RowWriter};

use crate::{
    EXIT_GAPS, EstateArgs, FormatArg, InputError, SeverityArg, as_of, estate_path, json_out,
    ndjson_line, open, print, term, ui, write_stdout,
};

/// What `--by` groups open findings by.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ByArg {
    Party,
    Control,
    Asset,
    Severity,
}

impl From<ByArg> for GroupBy {
    fn from(b: ByArg) -> GroupBy {
        match b {
            ByArg::Party => GroupBy::Party,
            ByArg::Control => GroupBy::Control,
            ByArg::Asset => GroupBy::Asset,
            ByArg::Severity => GroupBy::Severity,
        }
    }
}

/// Files at least this large get a progress bar (on a terminal, without `--quiet`).
const PROGRESS_MIN_BYTES: u64 = 16 << 20;

fn snapshot_dir(estate: &Path) -> PathBuf {
    let base = if estate.is_dir() {
        estate
    } else {
        estate.parent().unwrap_or(Path::new("."))
    };
    base.join(posture::snapshot::DIR)
}

fn bar(total: u64, what: &str) -> Option<indicatif::ProgressBar> {
    let on = std::io::stderr().is_terminal() && !ui().quiet && total >= PROGRESS_MIN_BYTES;
    on.then(|| {
        let b = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} ({eta})",
        ) {
            b.set_style(style);
        }
        b.set_message(what.to_string());
        b
    })
}

fn input_error(path: &Path, e: &posture::ReadError) -> InputError {
    InputError(format!(
        "error: {}: {e}\n  help: nothing was stored; fix or re-export the file (Prowler: `--output-formats json-ocsf`; Security Hub: `get-findings`; SARIF 2.1.0) and ingest again",
        path.display()
    ))
}

/// `ingest findings --policy`: which Rego rules to run over the inventory snapshot.
pub(crate) struct PolicyRun {
    pub rules: Option<PathBuf>,
    pub no_builtin: bool,
}

/// `demarc ingest findings FILE... --estate DIR`: reads every file (streaming), stores the
/// normalised findings as the snapshot of the as-of date (`DIR/.demarc/findings/DATE.ndjson`,
/// replacing one of the same date; written whole or not at all) and prints who holds them.
/// With `policy`, the Rego checks' results over the estate's latest inventory snapshot are one
/// more source of the snapshot. Exits 0, or 2 on a usage or input error (then nothing is
/// written).
pub(crate) fn ingest(
    files: &[PathBuf],
    policy: Option<PolicyRun>,
    args: &EstateArgs,
    by: ByArg,
) -> Result<u8, InputError> {
    if !matches!(
        args.format,
        FormatArg::Table | FormatArg::Json | FormatArg::Md
    ) {
        return Err(InputError(
            "error: `ingest findings` prints its summary as table, md or json\n  help: `demarc findings --format …` lists the findings in every format".into(),
        ));
    }
    // Every input must be a readable regular file before any work.
    let mut sizes = Vec::new();
    for f in files {
        let meta =
            std::fs::metadata(f).map_err(|e| InputError(format!("error: {}: {e}", f.display())))?;
        if !meta.is_file() {
            return Err(InputError(format!(
                "error: {}: not a regular file\n  help: give findings files (Prowler OCSF JSON, ASFF or SARIF)",
                f.display()
            )));
        }
        sizes.push(meta.len());
    }
    // Rules compile before anything else is read, so a broken rule stops the run early.
    let mut rules = match &policy {
        Some(p) => Some(crate::ingest_cmd::load_rules(
            p.rules.as_deref(),
            p.no_builtin,
        )?),
        None => None,
    };
    let path = estate_path(None, args)?;
    let res = open(Some(&path), args)?;
    let as_of = as_of(args);
    // The policy results, computed before the snapshot file is opened: an estate with no
    // inventory snapshot is an input error and nothing is written.
    let policy_source = match rules.as_mut() {
        Some(rules) => {
            let dir = if path.is_dir() {
                path.clone()
            } else {
                path.parent().unwrap_or(Path::new(".")).to_path_buf()
            };
            let (input, _, results) = crate::ingest_cmd::evaluate(rules, &dir, &res)?;
            let name = format!("demarc policy (inventory snapshot {})", input.snapshot);
            Some((name, demarc_ingest::policy::findings(&input, &results)))
        }
        None => None,
    };
    let dir = snapshot_dir(&path);
    std::fs::create_dir_all(&dir)
        .map_err(|e| InputError(format!("error: cannot create {}: {e}", dir.display())))?;
    let target = dir.join(posture::snapshot::file_name(as_of));
    if let Ok(meta) = std::fs::symlink_metadata(&target)
        && !meta.file_type().is_file()
    {
        return Err(InputError(format!(
            "error: {} exists and is not a regular file",
            target.display()
        )));
    }
    let fail = |e: &dyn std::fmt::Display| {
        InputError(format!("error: cannot write {}: {e}", target.display()))
    };
    let tmp = tempfile::Builder::new()
        .prefix(".demarc-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| fail(&e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp);
    let mut names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut inputs: Vec<(String, posture::snapshot::Input)> = Vec::new();
    for (f, name) in files.iter().zip(&names) {
        let file = std::fs::File::open(f)
            .map_err(|e| InputError(format!("error: {}: {e}", f.display())))?;
        inputs.push((
            name.clone(),
            posture::snapshot::Input::Read(Box::new(std::io::BufReader::with_capacity(
                1 << 16,
                file,
            ))),
        ));
    }
    if let Some((name, list)) = policy_source {
        names.push(name.clone());
        sizes.push(0);
        inputs.push((
            name,
            posture::snapshot::Input::Findings(posture::SourceFormat::Rego, list),
        ));
    }
    let carried = first_seen_before(&dir, as_of);
    let table = CheckTable::builtin();
    let at = Attributor::new(&res, table, as_of);
    let by_g: GroupBy = by.into();
    let mut summary = Summary::new(by_g);
    let bars: Vec<Option<indicatif::ProgressBar>> = names
        .iter()
        .zip(&sizes)
        .map(|(n, size)| bar(*size, n))
        .collect();
    let written = posture::snapshot::write(
        &mut w,
        as_of,
        inputs,
        &carried,
        &at,
        &mut summary,
        &mut |i, n| {
            if let Some(b) = &bars[i] {
                b.set_position(n);
            }
        },
    );
    for b in bars.into_iter().flatten() {
        b.finish_and_clear();
    }
    let sources = written.map_err(|e| match e {
        posture::snapshot::WriteError::Read { index, error } => input_error(&files[index], &error),
        posture::snapshot::WriteError::Write(e) => fail(&e),
    })?;
    let total: u64 = sources.iter().map(|s| s.findings).sum();
    let tmp = w.into_inner().map_err(|e| fail(&e.error()))?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    tmp.persist(&target).map_err(|e| fail(&e.error))?;

    let snap = api::FindingsSnapshotV1 {
        date: as_of,
        file: target.display().to_string(),
        sources: sources.iter().map(Into::into).collect(),
    };
    let out = api::FindingsIngestV1 {
        schema: api::FINDINGS_INGEST.into(),
        estate: res.estate().name.clone(),
        as_of,
        snapshot: snap,
        by: by_g.as_str().into(),
        summary: (&summary.tally).into(),
        groups: api::groups_of(&at, &summary),
    };
    match args.format {
        FormatArg::Json => print(&json_out(&out))?,
        f => {
            let md = f == FormatArg::Md;
            let mut text = format!(
                "Stored {} findings from {} source{} in {}\n",
                total,
                out.snapshot.sources.len(),
                if out.snapshot.sources.len() == 1 {
                    ""
                } else {
                    "s"
                },
                out.snapshot.file
            );
            for s in &out.snapshot.sources {
                text.push_str(&format!(
                    "  {}: {} findings ({})\n",
                    s.path,
                    s.findings,
                    s.format.as_deref().unwrap_or("empty")
                ));
            }
            text.push_str(&summary_lines(&out.summary));
            print(&text)?;
            if !out.groups.is_empty() {
                print(
                    &groups_grid(&out.groups, by_g)
                        .render_for(if md { Format::Md } else { Format::Table }, term()),
                )?;
            }
        }
    }
    Ok(0)
}

/// The first-seen dates demarc gave findings whose tool gives none, from the latest snapshot
/// on or before `as_of` (a damaged or missing one carries nothing). Only those findings are
/// kept, so a Prowler-sized snapshot costs nothing here.
fn first_seen_before(
    dir: &Path,
    as_of: chrono::NaiveDate,
) -> std::collections::HashMap<u64, chrono::NaiveDate> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let Some(date) = posture::snapshot::pick(names.iter().map(String::as_str), as_of) else {
        return Default::default();
    };
    let Ok(file) = std::fs::File::open(dir.join(posture::snapshot::file_name(date))) else {
        return Default::default();
    };
    posture::snapshot::first_seen_by_ingest(std::io::BufReader::new(file)).unwrap_or_else(|e| {
        crate::warn(&format!(
            "the snapshot of {date} cannot be read ({e}); first-seen dates start again today"
        ));
        Default::default()
    })
}

fn summary_lines(s: &api::FindingsSummaryV1) -> String {
    let sev = &s.open_by_severity;
    let mut out = format!(
        "{} open ({} critical, {} high, {} medium, {} low, {} info); {} overdue against their SLA\n",
        s.open, sev.critical, sev.high, sev.medium, sev.low, sev.info, s.overdue
    );
    out.push_str(&format!(
        "{} on provider-owned duties, {} on duties nobody is named for, {} on assets nobody declared, {} that map to no control, {} whose control does not apply\n",
        s.provider, s.unassigned, s.undeclared_asset, s.no_control, s.not_applicable
    ));
    out.push_str(&format!(
        "not open: {} passed, {} manual, {} suppressed, {} resolved\n",
        s.passed, s.manual, s.suppressed, s.resolved
    ));
    out
}

fn groups_grid(groups: &[api::FindingGroupV1], by: GroupBy) -> Grid {
    let mut g = Grid::new([
        by.as_str(),
        "route",
        "open",
        "critical",
        "high",
        "medium",
        "low",
        "overdue",
        "earliest due",
        "contact",
    ]);
    for x in groups {
        g.row([
            x.key.clone(),
            x.route.clone(),
            x.open.to_string(),
            x.by_severity.critical.to_string(),
            x.by_severity.high.to_string(),
            x.by_severity.medium.to_string(),
            x.by_severity.low.to_string(),
            x.overdue.to_string(),
            x.earliest_due.map(|d| d.to_string()).unwrap_or_default(),
            x.contact.clone().unwrap_or_default(),
        ]);
    }
    g
}

/// Options of `demarc findings`.
pub(crate) struct ReportArgs<'a> {
    pub path: Option<&'a Path>,
    pub args: &'a EstateArgs,
    pub by: ByArg,
    pub fail_on: SeverityArg,
    pub all: bool,
    pub overdue: bool,
    pub limit: usize,
}

/// Whether a finding is listed.
fn listed(all: bool, overdue: bool, f: &Finding, a: &posture::Attribution) -> bool {
    (all || f.status == posture::Status::Open) && (!overdue || a.overdue)
}

/// Most urgent first: most days overdue, then severity, then earliest due, then file order.
type Urgency = (
    i64,
    posture::Severity,
    std::cmp::Reverse<chrono::NaiveDate>,
    std::cmp::Reverse<(u32, u64)>,
);

fn urgency(f: &Finding, a: &posture::Attribution) -> Urgency {
    (
        a.days_overdue,
        f.severity,
        std::cmp::Reverse(a.due.unwrap_or(chrono::NaiveDate::MAX)),
        std::cmp::Reverse((f.source, f.record)),
    )
}

/// `demarc findings [DIR]`: the latest snapshot on or before the as-of date, attributed
/// against the estate as it is now. Exits 1 when an open finding is at or above `--fail-on`.
pub(crate) fn report(o: ReportArgs<'_>) -> Result<u8, InputError> {
    let args = o.args;
    if matches!(args.format, FormatArg::Junit | FormatArg::Html) {
        return Err(InputError(
            "error: `findings` writes table, md, csv, json, ndjson or sarif\n  help: use one of those with --format".into(),
        ));
    }
    let path = estate_path(o.path, args)?;
    let res = open(Some(&path), args)?;
    let as_of = as_of(args);
    let dir = snapshot_dir(&path);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let Some(date) = posture::snapshot::pick(names.iter().map(String::as_str), as_of) else {
        return Err(InputError(format!(
            "error: no findings ingested on or before {as_of} in {}\n  help: store some with `demarc ingest findings FILE... --estate {}`",
            dir.display(),
            path.display()
        )));
    };
    let file = dir.join(posture::snapshot::file_name(date));
    let open_snapshot = || {
        std::fs::File::open(&file)
            .map(|f| std::io::BufReader::with_capacity(1 << 16, f))
            .map_err(|e| InputError(format!("error: {}: {e}", file.display())))
    };
    let table = CheckTable::builtin();
    let at = Attributor::new(&res, table, as_of);
    let by: GroupBy = o.by.into();
    let bad = |e: posture::ReadError| {
        InputError(format!(
            "error: {}: {e}\n  help: the snapshot is damaged; ingest the findings again",
            file.display()
        ))
    };
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);

    // Pass 1: the summary, and for table and md the most urgent findings.
    let keep = match args.format {
        FormatArg::Table | FormatArg::Md => {
            if o.limit == 0 {
                usize::MAX
            } else {
                o.limit
            }
        }
        _ => 0,
    };
    let streaming_only = matches!(args.format, FormatArg::Ndjson | FormatArg::Csv);
    let mut summary = Summary::new(by);
    let mut top: Vec<(Urgency, Finding, posture::Attribution)> = Vec::new();
    let pb = bar(size, "reading findings");
    let map = |f: Finding| {
        let a = at.attribute(&f);
        let fact = Fact::new(by, &at, &f, &a);
        let item = if streaming_only {
            listed(o.all, o.overdue, &f, &a)
                .then(|| Row::Api(Box::new(api::FindingV1::new(&at, &f, &a))))
        } else if keep > 0 && listed(o.all, o.overdue, &f, &a) {
            Some(Row::Kept(Box::new((urgency(&f, &a), f, a))))
        } else {
            None
        };
        (fact, item)
    };
    let mut csv: Option<RowWriter<std::io::BufWriter<std::io::Stdout>>> = None;
    let mut nd: Option<std::io::BufWriter<std::io::Stdout>> = None;
    if args.format == FormatArg::Csv {
        csv = Some(
            RowWriter::new(
                Format::Csv,
                &CSV_HEADERS,
                std::io::BufWriter::new(std::io::stdout()),
            )
            .map_err(|e| InputError(format!("error: cannot write the output: {e}")))?,
        );
    } else if args.format == FormatArg::Ndjson {
        nd = Some(std::io::BufWriter::new(std::io::stdout()));
    }
    let mut broken_pipe = false;
    let info = posture::snapshot::read(
        open_snapshot()?,
        posture::ReadOptions::default(),
        &map,
        &mut |(fact, item): (Fact, Option<Row>)| {
            summary.add(&fact);
            match item {
                Some(Row::Kept(k)) => {
                    top.push(*k);
                    if top.len() >= keep.saturating_mul(2).max(1024) {
                        top.sort_by_key(|b| std::cmp::Reverse(b.0));
                        top.truncate(keep);
                    }
                }
                Some(Row::Api(v)) if !broken_pipe => {
                    let r = if let Some(w) = csv.as_mut() {
                        w.row(&csv_row(&v))
                    } else if let Some(w) = nd.as_mut() {
                        ndjson_line(w, &*v)
                    } else {
                        Ok(())
                    };
                    if let Err(e) = r {
                        if e.kind() == std::io::ErrorKind::BrokenPipe {
                            broken_pipe = true;
                        } else {
                            return Err(format!("cannot write the output: {e}"));
                        }
                    }
                }
                _ => {}
            }
            Ok(())
        },
        &mut |n| {
            if let Some(b) = &pb {
                b.set_position(n);
            }
        },
    );
    if let Some(b) = pb {
        b.finish_and_clear();
    }
    let info = info.map_err(bad)?;
    let finish_err = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(InputError(format!("error: cannot write the output: {e}")))
        }
    };
    if let Some(w) = csv
        && let Err(e) = w.finish().and_then(|mut w| w.flush())
    {
        finish_err(e)?;
    }
    if let Some(mut w) = nd
        && let Err(e) = w.flush()
    {
        finish_err(e)?;
    }
    top.sort_by_key(|b| std::cmp::Reverse(b.0));
    top.truncate(keep);

    let snap = api::FindingsSnapshotV1 {
        date,
        file: file.display().to_string(),
        sources: info.end.sources.iter().map(Into::into).collect(),
    };
    let groups = api::groups_of(&at, &summary);
    let sum: api::FindingsSummaryV1 = (&summary.tally).into();
    match args.format {
        FormatArg::Json => {
            let head = api::FindingsStream {
                schema: api::FINDINGS,
                estate: res.estate().name.clone(),
                as_of,
                accountable: res.accountable().to_string(),
                snapshot: snap,
                by: by.as_str().into(),
                summary: sum,
                groups,
                findings: (),
            };
            second_pass(&at, open_snapshot()?, o.all, o.overdue, |rx| {
                let out = api::FindingsStream {
                    findings: demarc_report::json::SeqOf::new(rx),
                    schema: head.schema,
                    estate: head.estate.clone(),
                    as_of: head.as_of,
                    accountable: head.accountable.clone(),
                    snapshot: head.snapshot.clone(),
                    by: head.by.clone(),
                    summary: head.summary.clone(),
                    groups: head.groups.clone(),
                };
                write_stdout(|w| {
                    serde_json::to_writer_pretty(&mut *w, &out).map_err(std::io::Error::other)?;
                    w.write_all(b"\n")
                })
            })
            .map_err(bad)??;
        }
        FormatArg::Sarif => {
            second_pass(&at, open_snapshot()?, o.all, o.overdue, |rx| {
                let out = sarif_doc(rx);
                write_stdout(|w| {
                    serde_json::to_writer_pretty(&mut *w, &out).map_err(std::io::Error::other)?;
                    w.write_all(b"\n")
                })
            })
            .map_err(bad)??;
        }
        FormatArg::Table | FormatArg::Md => {
            let md = args.format == FormatArg::Md;
            let fmt = if md { Format::Md } else { Format::Table };
            let mut text = String::new();
            let title = format!(
                "Findings of {} as of {as_of} (snapshot {date}: {} finding{} from {} file{})",
                res.estate().name,
                info.end.findings,
                if info.end.findings == 1 { "" } else { "s" },
                info.end.sources.len(),
                if info.end.sources.len() == 1 { "" } else { "s" },
            );
            if md {
                text.push_str(&format!("# {title}\n\n"));
            } else {
                text.push_str(&format!("{title}\n"));
            }
            text.push_str(&summary_lines(&sum));
            if md {
                text.push('\n');
            }
            print(&text)?;
            if !groups.is_empty() {
                if md {
                    print(&format!("\n## Open findings by {}\n\n", by.as_str()))?;
                } else {
                    print(&format!("\nOpen findings by {}:\n", by.as_str()))?;
                }
                print(&groups_grid(&groups, by).render_for(fmt, term()))?;
            }
            let providers: Vec<&api::FindingGroupV1> = if by == GroupBy::Party {
                groups.iter().filter(|g| g.route == "provider").collect()
            } else {
                Vec::new()
            };
            if !providers.is_empty() {
                let head = "Findings on provider-owned duties: raise them with the provider";
                print(&if md {
                    format!("\n## {head}\n\n")
                } else {
                    format!("\n{head}:\n")
                })?;
                let mut g = Grid::new(["provider", "open", "contact", "phone", "escalation"]);
                for p in providers {
                    g.row([
                        p.name.clone().unwrap_or_else(|| p.key.clone()),
                        p.open.to_string(),
                        p.contact
                            .clone()
                            .unwrap_or_else(|| "(none in the estate)".into()),
                        p.phone.clone().unwrap_or_default(),
                        p.escalation.join(" → "),
                    ]);
                }
                print(&g.render_for(fmt, term()))?;
            }
            if !top.is_empty() {
                let head = if o.limit > 0 && (top.len() as u64) < sum.open {
                    format!("The {} most urgent findings", top.len())
                } else {
                    "Findings".to_string()
                };
                print(&if md {
                    format!("\n## {head}\n\n")
                } else {
                    format!("\n{head}:\n")
                })?;
                let mut g = Grid::new([
                    "severity", "due", "overdue", "owner", "control", "asset", "check",
                ]);
                for (_, f, a) in &top {
                    let v = api::FindingV1::new(&at, f, a);
                    g.row([
                        v.severity.clone(),
                        v.due.map(|d| d.to_string()).unwrap_or_default(),
                        v.days_overdue.map(|d| format!("{d}d")).unwrap_or_default(),
                        v.owner.clone().unwrap_or_else(|| format!("({})", v.route)),
                        match (&v.control, v.duty) {
                            (Some(c), Some(d)) => format!("{c} ({})", d.as_str()),
                            (Some(c), None) => c.clone(),
                            _ => "(none)".into(),
                        },
                        v.asset.clone().unwrap_or_else(|| {
                            v.resource
                                .uid
                                .clone()
                                .or(v.resource.name.clone())
                                .map(|r| format!("({r})"))
                                .unwrap_or_default()
                        }),
                        v.check.clone(),
                    ]);
                }
                print(&g.render_for(fmt, term()))?;
            }
        }
        _ => {}
    }
    let failing = crate::severity_threshold(o.fail_on).is_some_and(|t| {
        let s = match t {
            demarc_engine::Severity::Info => posture::Severity::Info,
            demarc_engine::Severity::Low => posture::Severity::Low,
            demarc_engine::Severity::Medium => posture::Severity::Medium,
            demarc_engine::Severity::High => posture::Severity::High,
            demarc_engine::Severity::Critical => posture::Severity::Critical,
        };
        summary.tally.open_at_least(s) > 0
    });
    Ok(if failing { EXIT_GAPS } else { 0 })
}

enum Row {
    Api(Box<api::FindingV1>),
    Kept(Box<(Urgency, Finding, posture::Attribution)>),
}

const CSV_HEADERS: [&str; 17] = [
    "severity",
    "status",
    "overdue",
    "days_overdue",
    "due",
    "first_seen",
    "owner",
    "route",
    "control",
    "duty",
    "sla",
    "asset",
    "check",
    "title",
    "resource",
    "tool",
    "id",
];

fn csv_row(v: &api::FindingV1) -> [String; 17] {
    [
        v.severity.clone(),
        v.status.clone(),
        v.overdue.to_string(),
        v.days_overdue.map(|d| d.to_string()).unwrap_or_default(),
        v.due.map(|d| d.to_string()).unwrap_or_default(),
        v.first_seen.map(|d| d.to_string()).unwrap_or_default(),
        v.owner.clone().unwrap_or_default(),
        v.route.clone(),
        v.control.clone().unwrap_or_default(),
        v.duty.map(|d| d.as_str().to_string()).unwrap_or_default(),
        v.sla.clone().unwrap_or_default(),
        v.asset.clone().unwrap_or_default(),
        v.check.clone(),
        v.title.clone(),
        v.resource
            .uid
            .clone()
            .or(v.resource.name.clone())
            .unwrap_or_default(),
        v.tool.clone(),
        v.id.clone(),
    ]
}

/// Reads the snapshot again on a thread, handing the listed findings to `render` as an
/// iterator (a bounded channel), so JSON and SARIF stream with the summary first.
fn second_pass<R>(
    at: &Attributor<'_>,
    input: impl std::io::Read + Send,
    all: bool,
    overdue: bool,
    render: impl FnOnce(&mut dyn Iterator<Item = api::FindingV1>) -> R,
) -> Result<R, posture::ReadError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<api::FindingV1>(4096);
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let map = |f: Finding| {
                let a = at.attribute(&f);
                listed(all, overdue, &f, &a).then(|| api::FindingV1::new(at, &f, &a))
            };
            posture::snapshot::read(
                input,
                posture::ReadOptions::default(),
                &map,
                &mut |v| {
                    if let Some(v) = v {
                        // The renderer stopped (a closed pipe): stop reading quietly.
                        let _ = tx.send(v);
                    }
                    Ok(())
                },
                &mut |_| {},
            )
        });
        let mut it = rx.into_iter();
        let r = render(&mut it);
        // Drain so the reader is never blocked on a full channel.
        for _ in it {}
        match reader.join() {
            Ok(Ok(_)) => Ok(r),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(posture::ReadError {
                offset: None,
                record: None,
                message: "the reader thread failed".into(),
            }),
        }
    })
}

/// SARIF 2.1.0 of the listed findings: one result per finding, with who must fix it.
fn sarif_doc(rx: &mut dyn Iterator<Item = api::FindingV1>) -> serde_json::Value {
    let results: Vec<serde_json::Value> = rx
        .map(|v| {
            let level = match v.severity.as_str() {
                "critical" | "high" => "error",
                "medium" => "warning",
                _ => "note",
            };
            let mut msg = v.title.clone();
            match &v.owner {
                Some(o) => msg.push_str(&format!(" — {o}")),
                None => msg.push_str(&format!(" — {}", v.route)),
            }
            if let Some(d) = v.due {
                msg.push_str(&format!(", due {d}"));
            }
            if let Some(n) = v.days_overdue {
                msg.push_str(&format!(" ({n} days overdue)"));
            }
            let location = match &v.location {
                Some(l) => {
                    let (uri, line) = match l.rsplit_once(':') {
                        Some((u, n)) if n.parse::<u64>().is_ok() => (u.to_string(), n.parse::<u64>().ok()),
                        _ => (l.clone(), None),
                    };
                    let mut p = serde_json::json!({"artifactLocation": {"uri": uri}});
                    if let Some(n) = line {
                        p["region"] = serde_json::json!({"startLine": n});
                    }
                    serde_json::json!({"physicalLocation": p})
                }
                None => serde_json::json!({"logicalLocations": [{
                    "fullyQualifiedName": v.resource.uid.clone().or(v.asset.clone()).unwrap_or_default(),
                    "kind": "resource"
                }]}),
            };
            serde_json::json!({
                "ruleId": v.check,
                "level": level,
                "message": {"text": msg},
                "locations": [location],
                "partialFingerprints": {"demarcFinding/v1": v.id},
                "properties": {
                    "severity": v.severity,
                    "owner": v.owner,
                    "route": v.route,
                    "control": v.control,
                    "duty": v.duty,
                    "sla": v.sla,
                    "due": v.due,
                    "overdue": v.overdue,
                    "asset": v.asset,
                    "tool": v.tool,
                }
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "demarc findings",
                "informationUri": "https://github.com/demarc/demarc",
                "version": env!("CARGO_PKG_VERSION"),
            }},
            "results": results,
        }]
    })
}
