//! `demarc compliance`, `demarc evidence` and `demarc audit-pack`: the compliance layer's
//! commands. Reading files (profiles, evidence files) and writing the package happen here;
//! the rollup and the register are pure.

use std::io::Read;
use std::path::Path;

use demarc_api as api;
use demarc_compliance::evidence;
use demarc_compliance::rollup::{self, Options, Rollup};
use demarc_compliance::{Baseline, Library};
use demarc_engine::Resolution;
use demarc_report::Format;

use crate::{EstateArgs, FormatArg, InputError, json_out, ndjson_line, print, term, write_stdout};

/// The frameworks of the cross-framework view, with the baseline each is read at.
const CROSS: &[(&str, Option<&str>)] = &[
    ("nist-800-53", Some("moderate")),
    ("fedramp", Some("moderate")),
    ("fedramp-20x", None),
    ("soc2", None),
    ("iso27001", None),
    ("pci-dss", None),
    ("hipaa", None),
    ("cis-v8", None),
    ("csa-ccm", None),
];

/// The largest OSCAL profile read.
const MAX_PROFILE_BYTES: u64 = 64 << 20;

fn library() -> Result<&'static Library, InputError> {
    Library::builtin().map_err(|e| {
        InputError(format!(
            "error: the shipped requirement catalogs do not load: {e}"
        ))
    })
}

fn read_limited(path: &Path, limit: u64, what: &str) -> Result<String, InputError> {
    let fail = |m: String| InputError(format!("error: {}: {m}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(|e| fail(e.to_string()))?
        .take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|e| fail(format!("cannot read the {what}: {e}")))?;
    if text.len() as u64 > limit {
        return Err(fail(format!(
            "the {what} is larger than {} MiB",
            limit >> 20
        )));
    }
    Ok(text)
}

/// The baseline a run uses: `--profile FILE`, `--baseline B`, or the framework's default.
fn choose_baseline(
    lib: &'static Library,
    framework: &str,
    baseline: Option<&str>,
    profile: Option<&Path>,
) -> Result<Option<std::borrow::Cow<'static, Baseline>>, InputError> {
    if let Some(p) = profile {
        if !matches!(framework, "nist-800-53" | "fedramp") {
            return Err(InputError(format!(
                "error: --profile selects SP 800-53 controls; `{framework}` is not an SP 800-53 framework\n  help: use --framework nist-800-53 (or fedramp) with --profile"
            )));
        }
        let text = read_limited(p, MAX_PROFILE_BYTES, "profile")?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| p.display().to_string());
        let b = lib.user_profile(&name, &text).map_err(|e| {
            InputError(format!(
                "error: {}: {}{}\n  help: {}",
                p.display(),
                if e.at.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", e.at)
                },
                e.message,
                e.help
            ))
        })?;
        return Ok(Some(std::borrow::Cow::Owned(b)));
    }
    let Some(b) = baseline.or(lib.default_baseline(framework)) else {
        return Ok(None);
    };
    lib.baseline(framework, b)
        .map(|b| Some(std::borrow::Cow::Borrowed(b)))
        .map_err(|e| InputError(format!("error: {}\n  help: {}", e.message, e.help)))
}

fn check_framework(lib: &Library, framework: &str) -> Result<(), InputError> {
    if lib.framework(framework).is_some() {
        return Ok(());
    }
    let ids: Vec<&str> = lib.framework_ids().collect();
    let hint = demarc_model::suggest(framework, ids.iter().copied())
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    Err(InputError(format!(
        "error: unknown framework `{framework}`\n  help: {hint}choose one of: {}, or `all` for the cross-framework view",
        ids.join(", ")
    )))
}

pub(crate) struct ComplianceArgs<'a> {
    pub framework: &'a str,
    pub baseline: Option<&'a str>,
    pub profile: Option<&'a Path>,
    pub env: Option<&'a str>,
    pub data: Option<&'a str>,
    pub mine: Option<&'a str>,
    pub fail_under: Option<f64>,
    /// A row per statement part in table, CSV and Markdown output.
    pub parts: bool,
    pub args: &'a EstateArgs,
}

/// Rolls up one framework (or `all`) and prints it. Exit 1 only with `--fail-under` and
/// readiness below it: a compliance view is a report, not a gate, unless asked.
pub(crate) fn compliance(res: &Resolution, a: ComplianceArgs) -> Result<u8, InputError> {
    let lib = library()?;
    let warn_days = res.estate().settings.expiry_warning.days();
    if a.framework == "all" {
        if a.baseline.is_some() || a.profile.is_some() {
            return Err(InputError(
                "error: --baseline and --profile pick one framework's baseline\n  help: leave them out with --framework all (SP 800-53 and FedRAMP are read at moderate)".into(),
            ));
        }
        return cross(res, lib, &a, warn_days);
    }
    check_framework(lib, a.framework)?;
    if a.baseline.is_some() && lib.baselines(a.framework).is_empty() {
        return Err(InputError(format!(
            "error: {} has no baselines\n  help: leave out --baseline; baselines exist for nist-800-53 (low, moderate, high, privacy) and fedramp (low, moderate, high, li-saas)",
            a.framework
        )));
    }
    let baseline = choose_baseline(lib, a.framework, a.baseline, a.profile)?;
    let mine = mine_party(res, a.mine)?;
    let mut r = rollup::rollup(
        lib,
        res,
        &Options {
            framework: a.framework,
            baseline: baseline.as_deref(),
            env: a.env,
            data: a.data,
            warn_days,
        },
    )
    .map_err(|e| InputError(format!("error: {}\n  help: {}", e.message, e.help)))?;
    let readiness = r.summary.readiness();
    if let Some(p) = &mine {
        rollup::only_carried_by(&mut r, p);
    }
    let out = api::ComplianceV1::new(
        &res.estate().name,
        res.accountable(),
        &r,
        api::ScopeArgs {
            env: a.env,
            data: a.data,
            party: mine.as_deref(),
        },
    );
    render(&out, a.args.format, a.parts)?;
    Ok(match a.fail_under {
        Some(min) if readiness < min => crate::EXIT_GAPS,
        _ => 0,
    })
}

/// `--mine` alone means the customer; with a value, that party or `party/team`.
fn mine_party(res: &Resolution, mine: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(m) = mine else { return Ok(None) };
    let p = if m.is_empty() {
        res.accountable().to_string()
    } else {
        m.to_string()
    };
    let party = p.split('/').next().unwrap_or(&p);
    let known = res.estate().parties.contains_key(party) || party == res.accountable();
    if !known {
        let keys: Vec<&str> = res.estate().parties.keys().map(String::as_str).collect();
        let hint = demarc_model::suggest(party, keys.iter().copied())
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        return Err(InputError(format!(
            "error: --mine names `{p}`, which is not a party of the estate\n  help: {hint}parties: {}",
            keys.join(", ")
        )));
    }
    Ok(Some(p))
}

fn render(out: &api::ComplianceV1, format: FormatArg, parts: bool) -> Result<(), InputError> {
    use demarc_report::compliance as rc;
    let grid = |g: demarc_report::Grid| if parts { rc::with_parts(g, out) } else { g };
    match format {
        FormatArg::Json => print(&json_out(out)),
        FormatArg::Ndjson => write_stdout(|w| {
            for r in &out.requirements {
                ndjson_line(w, r)?;
            }
            Ok(())
        }),
        FormatArg::Csv => {
            print(&grid(rc::compliance_csv_grid(out)).render_for(Format::Csv, term()))
        }
        FormatArg::Html => print(&rc::compliance_html(out)),
        FormatArg::Md => {
            let mut s = format!("# {}\n\n", out.framework.name);
            for l in rc::compliance_header(out).lines() {
                s.push_str(&format!("{l}  \n"));
            }
            s.push('\n');
            s.push_str(&rc::parties_grid(out).render_for(Format::Md, term()));
            s.push('\n');
            s.push_str(&grid(rc::compliance_grid(out)).render_for(Format::Md, term()));
            print(&s)
        }
        _ => {
            let t = term();
            let mut s = rc::compliance_header(out);
            s.push('\n');
            s.push_str(&rc::parties_grid(out).render_for(Format::Table, t));
            s.push('\n');
            s.push_str(&grid(rc::compliance_grid(out)).render_for(Format::Table, t));
            print(&s)
        }
    }
}

fn cross(
    res: &Resolution,
    lib: &'static Library,
    a: &ComplianceArgs,
    warn_days: i64,
) -> Result<u8, InputError> {
    let mut rows = Vec::new();
    let mut worst = f64::MAX;
    for (fw, b) in CROSS {
        if lib.framework(fw).is_none() {
            continue;
        }
        let baseline = choose_baseline(lib, fw, *b, None)?;
        let r: Rollup = rollup::rollup(
            lib,
            res,
            &Options {
                framework: fw,
                baseline: baseline.as_deref(),
                env: a.env,
                data: a.data,
                warn_days,
            },
        )
        .map_err(|e| InputError(format!("error: {}\n  help: {}", e.message, e.help)))?;
        worst = worst.min(r.summary.readiness());
        let one = api::ComplianceV1::new(
            &res.estate().name,
            res.accountable(),
            &r,
            api::ScopeArgs::default(),
        );
        rows.push(api::CrossRowV1 {
            framework: one.framework,
            summary: one.summary,
            notes: rollup::cross_notes(&r),
        });
    }
    let assets = rows.first().map(|_| {
        res.classes()
            .filter(|c| {
                a.env.is_none_or(|e| c.env == Some(e))
                    && a.data
                        .is_none_or(|d| c.data.iter().any(|x| x.as_str() == d))
            })
            .map(|c| c.assets)
            .sum()
    });
    let out = api::ComplianceCrossV1 {
        schema: api::COMPLIANCE_CROSS.to_string(),
        estate: res.estate().name.clone(),
        as_of: res.as_of(),
        assets: assets.unwrap_or(0),
        explanation: vec![
            "One responsibility map, projected onto each framework: a share is a share of that framework's own applicable requirements, and frameworks differ in how many requirements they have, how broad each is, and how many fall outside the catalog.".to_string(),
        ],
        frameworks: rows,
    };
    use demarc_report::compliance as rc;
    match a.args.format {
        FormatArg::Json => print(&json_out(&out))?,
        FormatArg::Ndjson => write_stdout(|w| {
            for r in &out.frameworks {
                ndjson_line(w, r)?;
            }
            Ok(())
        })?,
        FormatArg::Csv => print(&rc::cross_grid(&out).render_for(Format::Csv, term()))?,
        FormatArg::Md => print(&format!(
            "{}\n{}",
            rc::cross_grid(&out).render_for(Format::Md, term()),
            rc::cross_notes(&out)
                .lines()
                .map(|l| format!("- {l}\n"))
                .collect::<String>()
        ))?,
        FormatArg::Html => print(&rc::cross_html(&out))?,
        _ => print(&format!(
            "{}\n{}",
            rc::cross_grid(&out).render_for(Format::Table, term()),
            rc::cross_notes(&out)
        ))?,
    }
    Ok(match a.fail_under {
        Some(min) if worst < min => crate::EXIT_GAPS,
        _ => 0,
    })
}

pub(crate) use demarc_compliance::evidence::{hash_evidence_files, sha256_file};

pub(crate) fn sha256_bytes(b: &[u8]) -> String {
    use sha2::Digest;
    demarc_compliance::evidence::hex(&sha2::Sha256::digest(b))
}

/// `demarc evidence`: the register. Exit 1 when something is missing, expired, expiring or
/// changed.
pub(crate) fn evidence_cmd(
    res: &Resolution,
    within: Option<i64>,
    format: FormatArg,
) -> Result<u8, InputError> {
    let within = within.unwrap_or_else(|| res.estate().settings.expiry_warning.days());
    let files = hash_evidence_files(res);
    let reg = evidence::register(res, &files, within);
    let out = api::EvidenceRegisterV1::new(&res.estate().name, &reg);
    match format {
        FormatArg::Json => print(&json_out(&out))?,
        FormatArg::Ndjson => write_stdout(|w| {
            for e in &out.entries {
                ndjson_line(w, e)?;
            }
            Ok(())
        })?,
        FormatArg::Csv => {
            print(&demarc_report::compliance::evidence_grid(&out).render_for(Format::Csv, term()))?
        }
        FormatArg::Md => print(&format!(
            "{}\n{}",
            demarc_report::compliance::evidence_grid(&out).render_for(Format::Md, term()),
            demarc_report::compliance::missing_grid(&out).render_for(Format::Md, term())
        ))?,
        _ => print(&demarc_report::compliance::evidence_text(&out, term()))?,
    }
    Ok(if reg.clean() { 0 } else { crate::EXIT_GAPS })
}
