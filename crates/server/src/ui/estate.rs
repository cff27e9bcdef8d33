//! The estate pages, one URL per tab: matrix (with the explain panel), gaps, compliance,
//! evidence, contracts, findings, history (with the diff), reviews and drills.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use demarc_api as api;
use demarc_engine::Resolution;
use demarc_model::Duty;
use serde::Deserialize;

use super::{Layout, UiResult, Viewer, diff, filters, query, render};
use crate::access::{self, EstateAccess};
use crate::api::{At, opened, today};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::{AppState, Opened};

/// Assets per matrix page: a page stays a few hundred rows (assets × their controls).
const ASSETS_PER_PAGE: usize = 10;
/// Versions per history page.
const VERSIONS_PER_PAGE: i64 = 50;

const TABS: [(&str, &str, &str); 10] = [
    ("matrix", "Matrix", ""),
    ("gaps", "Gaps", "/gaps"),
    ("compliance", "Compliance", "/compliance"),
    ("evidence", "Evidence", "/evidence"),
    ("contracts", "Contracts", "/contracts"),
    ("findings", "Findings", "/findings"),
    ("history", "History", "/history"),
    ("reviews", "Reviews", "/reviews"),
    ("drills", "Drills", "/drills"),
    ("api", "JSON", ""),
];

pub struct Tab {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// The estate's heading and tabs, and what the user may do on it.
pub struct Nav {
    pub base: String,
    pub org: String,
    pub name: String,
    pub head: i64,
    pub role: &'static str,
    pub as_of: String,
    pub can_edit: bool,
    pub can_sign_off: bool,
    pub tabs: Vec<Tab>,
    pub flash: Option<String>,
}

impl Nav {
    fn new(a: &EstateAccess, tab: &str) -> Nav {
        let base = format!("/orgs/{}/estates/{}", a.org.slug, a.estate.slug);
        let tabs = TABS
            .iter()
            .filter(|t| t.0 != "api")
            .map(|(id, label, path)| Tab {
                label,
                href: format!("{base}{path}"),
                current: *id == tab,
            })
            .collect();
        Nav {
            org: a.org.slug.clone(),
            name: a.estate.name.clone(),
            head: a.estate.head,
            role: a.role.as_str(),
            as_of: today().to_string(),
            can_edit: a.role.can_edit(),
            can_sign_off: a.role.can_sign_off(),
            tabs,
            flash: None,
            base,
        }
    }
}

/// The estate (404 without access) and its newest version resolved today.
async fn load(
    state: &AppState,
    p: &Principal,
    org: &str,
    estate: &str,
    tab: &str,
) -> UiResult<(EstateAccess, Nav, Arc<Opened>)> {
    let a = access::estate(state, p, org, estate).await?;
    let (_, o) = opened(state, &a, &At::default()).await?;
    let nav = Nav::new(&a, tab);
    Ok((a, nav, o))
}

/// The gap analysis of a resolution, off the async threads.
async fn check(o: &Arc<Opened>) -> UiResult<api::CheckV1> {
    let o = o.clone();
    Ok(
        tokio::task::spawn_blocking(move || api::CheckV1::new(o.res(), &o.analysis()))
            .await
            .map_err(ApiError::internal)?,
    )
}

/// A form's "any" is an empty string.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub fn severity_str(s: api::SeverityV1) -> &'static str {
    match s {
        api::SeverityV1::Info => "info",
        api::SeverityV1::Low => "low",
        api::SeverityV1::Medium => "medium",
        api::SeverityV1::High => "high",
        api::SeverityV1::Critical => "critical",
    }
}

pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

// ---- matrix ----

#[derive(Debug, Default, Deserialize)]
pub struct MatrixQ {
    service: Option<String>,
    env: Option<String>,
    data: Option<String>,
    party: Option<String>,
    control: Option<String>,
    problems: Option<String>,
    page: Option<String>,
}

/// One heatmap cell: who does the duty, coloured by the kind of party, a symbol for a problem.
pub struct Heat {
    pub kind: &'static str,
    pub who: String,
    pub problem: Option<&'static str>,
    pub href: String,
}

pub struct MatrixRow {
    pub control: String,
    pub control_name: String,
    pub cells: Vec<Option<Heat>>,
}

pub struct AssetRows {
    pub id: String,
    pub service: String,
    pub env: String,
    pub data: String,
    pub rows: Vec<MatrixRow>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "matrix.html")]
struct MatrixPage {
    l: Layout,
    n: Nav,
    duties: Vec<&'static str>,
    selects: Vec<Select>,
    problems_only: bool,
    assets: Vec<AssetRows>,
    total_assets: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    accountable: String,
}

/// The kind of party a cell is coloured by.
fn cell_kind(c: &demarc_engine::Cell) -> &'static str {
    if c.ownership == demarc_engine::Ownership::Shared || c.responsible.len() > 1 {
        return "shared";
    }
    c.responsible
        .first()
        .map_or("customer", |a| a.role.as_str())
}

fn problem_of(c: &demarc_engine::Cell) -> Option<&'static str> {
    if c.unassigned {
        Some("nobody named")
    } else if !c.contested.is_empty() {
        Some("contested")
    } else if c.unsplit {
        Some("shared without a written split")
    } else {
        None
    }
}

fn select(
    name: &'static str,
    label: &'static str,
    values: impl IntoIterator<Item = (String, String)>,
    current: Option<&str>,
) -> Select {
    let mut options = vec![Choice {
        value: String::new(),
        label: "any".into(),
        selected: current.is_none(),
    }];
    options.extend(values.into_iter().map(|(value, label)| Choice {
        selected: current == Some(value.as_str()),
        value,
        label,
    }));
    Select {
        name,
        label,
        options,
    }
}

pub async fn matrix(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<MatrixQ>,
) -> UiResult<Response> {
    let (_, n, o) = load(&state, &p, &org, &estate, "matrix").await?;
    let res = o.res();
    let page: usize =
        match given(&q.page) {
            None => 1,
            Some(s) => s.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::bad_request(format!("`page` must be 1 or more, not `{s}`"))
            })?,
        };
    let (service, env, data, party, control) = (
        given(&q.service),
        given(&q.env),
        given(&q.data),
        given(&q.party),
        given(&q.control),
    );
    let problems_only = given(&q.problems).is_some();

    let mut services = BTreeSet::new();
    let mut envs = BTreeSet::new();
    let mut datas = BTreeSet::new();
    let mut parties = BTreeSet::new();
    let mut controls = BTreeMap::new();
    let mut kept = Vec::new();
    for i in res.assets() {
        let asset = res.asset(i);
        services.insert(asset.service.as_str().to_string());
        if let Some(e) = &asset.env {
            envs.insert(e.as_str().to_string());
        }
        for d in &asset.data {
            datas.insert(d.as_str().to_string());
        }
        for c in res.cells_of(i) {
            let ctl = res.control_of(c);
            controls
                .entry(ctl.id.clone())
                .or_insert_with(|| ctl.name.clone());
            for r in &c.responsible {
                parties.insert(r.party.clone());
            }
        }
        if service.is_some_and(|s| asset.service.as_str() != s)
            || env.is_some_and(|e| asset.env.as_ref().map(|v| v.as_str()) != Some(e))
            || data.is_some_and(|d| !asset.data.iter().any(|x| x.as_str() == d))
        {
            continue;
        }
        let rows = matrix_rows(res, i, &n.base, party, control, problems_only);
        if !rows.is_empty() {
            kept.push((i, rows));
        }
    }
    let total_assets = kept.len();
    let pages = total_assets.div_ceil(ASSETS_PER_PAGE).max(1);
    let assets = kept
        .into_iter()
        .skip((page - 1) * ASSETS_PER_PAGE)
        .take(ASSETS_PER_PAGE)
        .map(|(i, rows)| {
            let a = res.asset(i);
            AssetRows {
                id: a.id.value.clone(),
                service: a.service.as_str().to_string(),
                env: a
                    .env
                    .as_ref()
                    .map(|e| e.as_str().to_string())
                    .unwrap_or_default(),
                data: a
                    .data
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                rows,
            }
        })
        .collect();
    let link = |page: usize| {
        let pg = page.to_string();
        let mut pairs: Vec<(&str, &str)> = [
            ("service", service),
            ("env", env),
            ("data", data),
            ("party", party),
            ("control", control),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        if problems_only {
            pairs.push(("problems", "1"));
        }
        pairs.push(("page", &pg));
        format!("{}?{}", n.base, query(&pairs))
    };
    let prev = (page > 1).then(|| link(page - 1));
    let next = (page < pages).then(|| link(page + 1));
    let pair = |s: String| (s.clone(), s);
    let selects = vec![
        select(
            "service",
            "Service",
            services.into_iter().map(pair),
            service,
        ),
        select("env", "Environment", envs.into_iter().map(pair), env),
        select("data", "Data", datas.into_iter().map(pair), data),
        select("party", "Party", parties.into_iter().map(pair), party),
        select(
            "control",
            "Control",
            controls
                .into_iter()
                .map(|(id, name)| (id.clone(), format!("{name} ({id})"))),
            control,
        ),
    ];
    let page_view = MatrixPage {
        l: Layout::new(format!("{} — matrix", n.name), &p),
        duties: Duty::ALL.iter().map(|d| d.as_str()).collect(),
        selects,
        problems_only,
        assets,
        total_assets,
        page,
        pages,
        prev,
        next,
        accountable: res.accountable().to_string(),
        n,
    };
    Ok(render(&page_view))
}

/// An asset's rows: one per control, a cell per duty. A row is kept when one of its cells
/// passes the party, control and problem filters.
fn matrix_rows(
    res: &Resolution,
    i: demarc_engine::AssetIx,
    base: &str,
    party: Option<&str>,
    control: Option<&str>,
    problems_only: bool,
) -> Vec<MatrixRow> {
    let asset_id = res.asset(i).id.value.as_str();
    let mut rows: Vec<MatrixRow> = Vec::new();
    let mut keep: Vec<bool> = Vec::new();
    for c in res.cells_of(i) {
        let ctl = res.control_of(c);
        if control.is_some_and(|x| ctl.id != x) {
            continue;
        }
        let at = match rows.iter().position(|r| r.control == ctl.id) {
            Some(at) => at,
            None => {
                rows.push(MatrixRow {
                    control: ctl.id.clone(),
                    control_name: ctl.name.clone(),
                    cells: (0..Duty::ALL.len()).map(|_| None).collect(),
                });
                keep.push(false);
                rows.len() - 1
            }
        };
        let matches = party.is_none_or(|x| c.responsible.iter().any(|r| r.party == x))
            && (!problems_only || c.has_problem());
        keep[at] |= matches;
        let href = format!(
            "{base}/explain?{}",
            query(&[
                ("asset", asset_id),
                ("control", &ctl.id),
                ("duty", c.duty.as_str())
            ])
        );
        rows[at].cells[c.duty.index()] = Some(Heat {
            kind: cell_kind(c),
            who: c
                .responsible
                .iter()
                .map(|a| a.label())
                .collect::<Vec<_>>()
                .join(" + "),
            problem: problem_of(c),
            href,
        });
    }
    rows.into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| r)
        .collect()
}

// ---- explain ----

#[derive(Debug, Default, Deserialize)]
pub struct ExplainQ {
    asset: Option<String>,
    control: Option<String>,
    duty: Option<String>,
}

pub struct BasisLine {
    pub kind: String,
    pub rule: String,
    pub at: String,
    pub url: Option<String>,
    pub decisive: bool,
}

pub struct ClauseView {
    pub contract: String,
    pub party: String,
    pub id: String,
    pub text: String,
    pub expires: String,
    pub reference: String,
}

pub struct ExplainView {
    pub asset: String,
    pub service: String,
    pub control: String,
    pub control_name: String,
    pub duty: String,
    pub ownership: String,
    pub origination: String,
    pub accountable: String,
    pub responsible: Vec<String>,
    pub problems: Vec<String>,
    pub sla: Option<String>,
    pub cadence: Option<String>,
    pub basis: Vec<BasisLine>,
    pub clauses: Vec<ClauseView>,
    pub contacts: Vec<api::ContactV1>,
    pub escalation: Vec<String>,
}

#[derive(Template)]
#[template(path = "explain_fragment.html")]
struct ExplainFragment {
    x: ExplainView,
}

#[derive(Template)]
#[template(path = "explain.html")]
struct ExplainPage {
    l: Layout,
    n: Nav,
    x: ExplainView,
}

/// `root` is the directory the version's files were written to; places are shown relative
/// to it, as the estate's own paths.
fn explain_view(
    res: &Resolution,
    root: &std::path::Path,
    asset: &str,
    control: &str,
    duty: &str,
) -> Result<ExplainView, ApiError> {
    let duty = Duty::from_word(duty).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`{duty}` is not a duty: use configure, patch, monitor, respond or audit"
        ))
    })?;
    let i = res.find_asset(asset).map_err(crate::api::not_applicable)?;
    let e = res
        .explain(i, control, duty)
        .map_err(crate::api::not_applicable)?;
    let cell = api::CellV1::new(res, i, e.cell);
    let decisive_rule = e.decisive.map(|b| b.rule.to_string());
    let prefix = format!("{}/", root.display());
    let basis = cell
        .basis
        .iter()
        .map(|b| BasisLine {
            kind: serde_json::to_value(b.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            rule: b.rule.clone(),
            at: b.at.as_deref().unwrap_or("").replace(&prefix, ""),
            url: b.url.clone(),
            decisive: decisive_rule.as_deref() == Some(b.rule.as_str()),
        })
        .collect();
    // The contract clauses the basis cites, with their text: what was actually agreed.
    let mut clauses = Vec::new();
    for b in &cell.basis {
        let Some((contract_id, clause_id)) = b
            .rule_id
            .as_deref()
            .and_then(|r| r.strip_prefix("clause:"))
            .and_then(|r| r.rsplit_once('/'))
        else {
            continue;
        };
        for k in &res.estate().contracts {
            if k.id.as_str() != contract_id {
                continue;
            }
            for cl in k.clauses.iter().filter(|cl| cl.id.as_str() == clause_id) {
                clauses.push(ClauseView {
                    contract: k.id.value.clone(),
                    party: k.party.value.clone(),
                    id: cl.id.value.clone(),
                    text: cl.text.clone(),
                    expires: cl
                        .expires
                        .or(k.expires)
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    reference: k.reference.clone().unwrap_or_default(),
                });
            }
        }
    }
    let (contacts, escalation) = match res.triage(i, control, Some(duty)) {
        Ok(t) => {
            let t = api::TriageV1::new(res, &t);
            (t.contacts, t.escalation)
        }
        Err(_) => (Vec::new(), Vec::new()),
    };
    let mut problems = Vec::new();
    if cell.unassigned {
        problems.push("Nobody is named for the customer's side of this duty.".to_string());
    }
    if !cell.contested.is_empty() {
        problems.push(format!(
            "Contested: equally specific rules name {}.",
            cell.contested.join(", ")
        ));
    }
    if cell.unsplit {
        problems.push("Shared, but no written split says who does what.".to_string());
    }
    if cell.assumed {
        problems.push("Assumed: no document decided this cell.".to_string());
    }
    Ok(ExplainView {
        asset: cell.asset.clone(),
        service: cell.service.clone(),
        control: cell.control.clone(),
        control_name: cell.control_name.clone(),
        duty: duty.as_str().to_string(),
        ownership: serde_json::to_value(cell.ownership)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        origination: cell.origination.clone(),
        accountable: cell.accountable.clone(),
        responsible: e.cell.responsible.iter().map(|a| a.label()).collect(),
        problems,
        sla: cell.sla.clone(),
        cadence: cell.cadence.clone(),
        basis,
        clauses,
        contacts,
        escalation,
    })
}

pub async fn explain(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<ExplainQ>,
) -> UiResult<Response> {
    let (_, n, o) = load(&state, &p, &org, &estate, "matrix").await?;
    let (Some(asset), Some(control), Some(duty)) =
        (given(&q.asset), given(&q.control), given(&q.duty))
    else {
        return Err(ApiError::bad_request("say which cell: `asset`, `control` and `duty`").into());
    };
    let x = explain_view(o.res(), o.dir.path(), asset, control, duty)?;
    // htmx asks for the panel alone; a plain link gets the whole page.
    if headers.get("hx-request").is_some() {
        return Ok(render(&ExplainFragment { x }));
    }
    Ok(render(&ExplainPage {
        l: Layout::new(
            format!("{} — {} {} on {}", n.name, x.control, x.duty, x.asset),
            &p,
        ),
        n,
        x,
    }))
}

// ---- gaps ----

#[derive(Debug, Default, Deserialize)]
pub struct GapsQ {
    severity: Option<String>,
    code: Option<String>,
    accepted: Option<String>,
}

pub struct GapRow {
    pub n: usize,
    pub key: String,
    pub code: String,
    pub kind: String,
    pub severity: &'static str,
    pub title: String,
    pub duties: String,
    pub assets: String,
    pub asset_count: usize,
    pub fix: String,
    pub basis: Vec<String>,
    pub accepted: Option<api::AcceptedV1>,
}

#[derive(Template)]
#[template(path = "gaps.html")]
struct GapsPage {
    l: Layout,
    n: Nav,
    selects: Vec<Select>,
    counts: Vec<(&'static str, usize)>,
    total: usize,
    rows: Vec<GapRow>,
    min_expiry: String,
}

pub fn gap_row(n: usize, g: &api::GapV1) -> GapRow {
    let mut assets = g
        .assets
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if g.asset_count > 5 {
        assets.push_str(&format!(" and {} more", g.asset_count - 5));
    }
    GapRow {
        n,
        key: g.key.clone(),
        code: g.code.clone(),
        kind: g.kind.clone(),
        severity: severity_str(g.severity),
        title: g.title.clone(),
        duties: g
            .duties
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        assets,
        asset_count: g.asset_count,
        fix: g.fix.clone(),
        basis: g.basis.clone(),
        accepted: g.accepted.clone(),
    }
}

pub async fn gaps(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<GapsQ>,
) -> UiResult<Response> {
    let (_, mut n, o) = load(&state, &p, &org, &estate, "gaps").await?;
    if let Some(v) = given(&q.accepted) {
        n.flash = Some(format!("The gap is accepted: saved as version {v}."));
    }
    let check = check(&o).await?;
    let (sev, code) = (given(&q.severity), given(&q.code));
    let counts = SEVERITIES
        .iter()
        .map(|s| {
            (
                *s,
                check
                    .gaps
                    .iter()
                    .filter(|g| severity_str(g.severity) == *s)
                    .count(),
            )
        })
        .collect();
    let codes: BTreeSet<(String, String)> = check
        .gaps
        .iter()
        .map(|g| (g.code.clone(), format!("{} {}", g.code, g.kind)))
        .collect();
    let rows: Vec<GapRow> = check
        .gaps
        .iter()
        .filter(|g| sev.is_none_or(|s| severity_str(g.severity) == s))
        .filter(|g| code.is_none_or(|c| g.code == c))
        .enumerate()
        .map(|(i, g)| gap_row(i, g))
        .collect();
    let selects = vec![
        select(
            "severity",
            "Severity",
            SEVERITIES.iter().map(|s| (s.to_string(), s.to_string())),
            sev,
        ),
        select("code", "Rule", codes, code),
    ];
    let page = GapsPage {
        l: Layout::new(format!("{} — gaps", n.name), &p),
        selects,
        counts,
        total: check.gaps.len(),
        rows,
        min_expiry: (today() + chrono::Days::new(1)).to_string(),
        n,
    };
    Ok(render(&page))
}

// ---- compliance ----

/// The frameworks shown, with the baseline each is read at (as `demarc compliance --framework
/// all` does).
const FRAMEWORKS: &[(&str, Option<&str>)] = &[
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

pub struct FrameworkRow {
    pub id: String,
    pub name: String,
    pub baseline: String,
    pub required: bool,
    pub readiness: String,
    pub ready: usize,
    pub applicable: usize,
    pub requirements: usize,
    pub not_addressed: usize,
    pub at_risk: usize,
    pub readiness_bar: String,
    pub split_bar: String,
    pub split: String,
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    l: Layout,
    n: Nav,
    rows: Vec<FrameworkRow>,
    errors: Vec<String>,
}

fn pct(p: f64) -> String {
    format!("{p:.1}")
}

/// A stacked bar of percentages as inline SVG, named for assistive technology by `aria-label`
/// (the words say what the colours show). Fills are attributes, which the CSP allows.
fn bar_svg(parts: &[(&str, f64, &str)], width: u32) -> String {
    let label = parts
        .iter()
        .map(|(l, p, _)| format!("{l} {}%", pct(*p)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = format!(
        "<svg class=\"bar\" role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"18\" \
         viewBox=\"0 0 {width} 18\" xmlns=\"http://www.w3.org/2000/svg\">",
        demarc_report::esc(&label)
    );
    let mut x = 0.0;
    for (_, p, color) in parts {
        let w = (p.clamp(0.0, 100.0) / 100.0 * f64::from(width)).max(0.0);
        if w > 0.0 {
            out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"18\" fill=\"{color}\"/>"
            ));
        }
        x += w;
    }
    out.push_str("</svg>");
    out
}

fn compliance_rows(res: &Resolution) -> Result<(Vec<FrameworkRow>, Vec<String>), ApiError> {
    use demarc_compliance::rollup;
    use demarc_report::compliance::COLORS;
    let lib = demarc_compliance::Library::builtin().map_err(ApiError::internal)?;
    let warn_days = res.estate().settings.expiry_warning.days();
    let required: Vec<&str> = res
        .estate()
        .settings
        .frameworks
        .iter()
        .map(|f| f.as_str())
        .collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (fw, b) in FRAMEWORKS {
        if lib.framework(fw).is_none() {
            continue;
        }
        let baseline = match b {
            Some(b) => match lib.baseline(fw, b) {
                Ok(x) => Some(x),
                Err(e) => {
                    errors.push(format!("{fw}: {}", e.message));
                    continue;
                }
            },
            None => None,
        };
        let r = match rollup::rollup(
            lib,
            res,
            &rollup::Options {
                framework: fw,
                baseline,
                env: None,
                data: None,
                warn_days,
            },
        ) {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("{fw}: {}", e.message));
                continue;
            }
        };
        let s = api::ComplianceSummaryV1::from(&r.summary);
        rows.push(FrameworkRow {
            id: fw.to_string(),
            name: r.framework_name.clone(),
            baseline: b.unwrap_or("").to_string(),
            required: required.contains(fw),
            readiness: pct(s.readiness_pct),
            ready: s.ready,
            applicable: s.applicable,
            requirements: s.requirements,
            not_addressed: s.not_addressed,
            at_risk: s.at_risk,
            readiness_bar: bar_svg(
                &[
                    ("ready", s.readiness_pct, "#15803d"),
                    ("not ready", 100.0 - s.readiness_pct, "#d1d5db"),
                ],
                240,
            ),
            split_bar: bar_svg(
                &[
                    ("inherited", s.inherited_pct, COLORS[0].1),
                    ("shared", s.shared_pct, COLORS[1].1),
                    ("yours", s.customer_pct, COLORS[2].1),
                ],
                240,
            ),
            split: format!(
                "inherited {}%, shared {}%, yours {}%",
                pct(s.inherited_pct),
                pct(s.shared_pct),
                pct(s.customer_pct)
            ),
        });
    }
    Ok((rows, errors))
}

pub async fn compliance(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
) -> UiResult<Response> {
    let (_, n, o) = load(&state, &p, &org, &estate, "compliance").await?;
    let res = o.res().clone();
    let (rows, errors) = tokio::task::spawn_blocking(move || compliance_rows(&res))
        .await
        .map_err(ApiError::internal)??;
    Ok(render(&CompliancePage {
        l: Layout::new(format!("{} — compliance", n.name), &p),
        n,
        rows,
        errors,
    }))
}

// ---- evidence ----

#[derive(Template)]
#[template(path = "evidence.html")]
struct EvidencePage {
    l: Layout,
    n: Nav,
    within: i64,
    entries: Vec<demarc_compliance::evidence::Entry>,
    missing: Vec<demarc_compliance::evidence::Missing>,
}

/// Hashes each evidence file of the version, as `demarc evidence` does from a directory: the
/// files were written under `root`, and a path that leads out of it is refused.
fn evidence_files(
    res: &Resolution,
    root: &std::path::Path,
) -> BTreeMap<String, demarc_compliance::evidence::FileCheck> {
    use demarc_compliance::evidence::FileCheck;
    use sha2::Digest;
    let estate = res.estate();
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut out = BTreeMap::new();
    for e in &estate.evidence {
        let Some(f) = &e.file else { continue };
        if out.contains_key(f.as_str()) {
            continue;
        }
        let dir = estate
            .source(f.loc)
            .and_then(|s| s.path.parent())
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| root.clone());
        let check = match std::fs::canonicalize(dir.join(f.as_str())) {
            Err(_) => {
                FileCheck::Unreadable(format!("`{}` is not among the estate's files", f.as_str()))
            }
            Ok(p) if !p.starts_with(&root) => {
                FileCheck::Unreadable(format!("`{}` leads outside the estate", f.as_str()))
            }
            Ok(p) => match std::fs::read(&p) {
                Ok(bytes) => FileCheck::Hashed(
                    sha2::Sha256::digest(&bytes)
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect(),
                ),
                Err(_) => FileCheck::Unreadable(format!("`{}` is not a readable file", f.as_str())),
            },
        };
        out.insert(f.value.clone(), check);
    }
    out
}

pub async fn evidence(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
) -> UiResult<Response> {
    let (_, n, o) = load(&state, &p, &org, &estate, "evidence").await?;
    let res = o.res();
    let within = res.estate().settings.expiry_warning.days();
    let files = evidence_files(res, o.dir.path());
    let reg = demarc_compliance::evidence::register(res, &files, within);
    Ok(render(&EvidencePage {
        l: Layout::new(format!("{} — evidence", n.name), &p),
        n,
        within,
        entries: reg.entries,
        missing: reg.missing,
    }))
}

// ---- contracts ----

pub struct ClauseRow {
    pub id: String,
    pub text: String,
    pub controls: String,
    pub duties: String,
    pub expires: String,
    pub performed_by: String,
}

pub struct ContractRow {
    pub id: String,
    pub party: String,
    pub party_name: String,
    pub reference: String,
    pub effective: String,
    pub expires: String,
    pub status: &'static str,
    pub clauses: Vec<ClauseRow>,
}

#[derive(Template)]
#[template(path = "contracts.html")]
struct ContractsPage {
    l: Layout,
    n: Nav,
    contracts: Vec<ContractRow>,
}

/// `expired`, `expiring` (within the warning window) or `in force`.
pub fn date_status(
    d: Option<chrono::NaiveDate>,
    as_of: chrono::NaiveDate,
    warn: i64,
) -> &'static str {
    match d {
        Some(d) if d <= as_of => "expired",
        Some(d) if (d - as_of).num_days() <= warn => "expiring",
        _ => "in force",
    }
}

pub async fn contracts(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
) -> UiResult<Response> {
    let (_, n, o) = load(&state, &p, &org, &estate, "contracts").await?;
    let res = o.res();
    let e = res.estate();
    let warn = e.settings.expiry_warning.days();
    let contracts = e
        .contracts
        .iter()
        .map(|k| ContractRow {
            id: k.id.value.clone(),
            party: k.party.value.clone(),
            party_name: e
                .parties
                .get(k.party.as_str())
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            reference: k.reference.clone().unwrap_or_default(),
            effective: k.effective.map(|d| d.to_string()).unwrap_or_default(),
            expires: k.expires.map(|d| d.to_string()).unwrap_or_default(),
            status: date_status(k.expires, res.as_of(), warn),
            clauses: k
                .clauses
                .iter()
                .map(|c| ClauseRow {
                    id: c.id.value.clone(),
                    text: c.text.clone(),
                    controls: c
                        .controls
                        .iter()
                        .map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    duties: c
                        .duties
                        .iter()
                        .map(|d| d.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    expires: c.expires.map(|d| d.to_string()).unwrap_or_default(),
                    performed_by: c
                        .performed_by
                        .as_ref()
                        .map(|x| x.value.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    Ok(render(&ContractsPage {
        l: Layout::new(format!("{} — contracts", n.name), &p),
        n,
        contracts,
    }))
}

// ---- findings ----

pub struct IncidentRow {
    pub id: String,
    pub date: String,
    pub summary: String,
    pub control: String,
    pub duty: String,
    pub assets: String,
    pub review: String,
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    l: Layout,
    n: Nav,
    scanned: Option<Arc<super::findings::ByParty>>,
    scan_error: Option<String>,
    gaps: Vec<GapRow>,
    incidents: Vec<IncidentRow>,
}

/// Gap codes about incidents and discovered drift: what monitoring and operations found.
const FINDING_CODES: &[&str] = &[
    "DM019", "DM020", "DM021", "DM022", "DM023", "DM024", "DM025",
];

pub async fn findings(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
) -> UiResult<Response> {
    let (_, n, o) = load(&state, &p, &org, &estate, "findings").await?;
    let check = check(&o).await?;
    let gaps = check
        .gaps
        .iter()
        .filter(|g| FINDING_CODES.contains(&g.code.as_str()))
        .enumerate()
        .map(|(i, g)| gap_row(i, g))
        .collect();
    let incidents = o
        .res()
        .estate()
        .incidents
        .iter()
        .map(|i| IncidentRow {
            id: i.id.value.clone(),
            date: i.date.to_string(),
            summary: i.summary.clone(),
            control: i.control.value.clone(),
            duty: i.duty.as_str().to_string(),
            assets: i
                .assets
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            review: i.review.clone().unwrap_or_default(),
        })
        .collect();
    let o2 = o.clone();
    let scanned = tokio::task::spawn_blocking(move || o2.findings_by_party())
        .await
        .map_err(ApiError::internal)?;
    let (scanned, scan_error) = match scanned {
        Ok(s) => (s, None),
        Err(e) => (None, Some(e)),
    };
    Ok(render(&FindingsPage {
        l: Layout::new(format!("{} — findings", n.name), &p),
        scanned,
        scan_error,
        n,
        gaps,
        incidents,
    }))
}

// ---- history ----

#[derive(Debug, Default, Deserialize)]
pub struct HistoryQ {
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    l: Layout,
    n: Nav,
    versions: Vec<demarc_store::VersionRow>,
    numbers: Vec<i64>,
    from: i64,
    to: i64,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn history(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<HistoryQ>,
) -> UiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let n = Nav::new(&a, "history");
    let page: i64 =
        match given(&q.page) {
            None => 1,
            Some(s) => s.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::bad_request(format!("`page` must be 1 or more, not `{s}`"))
            })?,
        };
    let versions = state
        .store
        .versions(
            &a.estate.id,
            VERSIONS_PER_PAGE,
            (page - 1) * VERSIONS_PER_PAGE,
        )
        .await?;
    let head = a.estate.head;
    let pages = (head + VERSIONS_PER_PAGE - 1) / VERSIONS_PER_PAGE;
    let link = |pg: i64| format!("{}/history?page={pg}", n.base);
    Ok(render(&HistoryPage {
        l: Layout::new(format!("{} — history", n.name), &p),
        numbers: (1..=head).rev().collect(),
        from: (head - 1).max(1),
        to: head,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        versions,
        n,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct DiffQ {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage {
    l: Layout,
    n: Nav,
    from: i64,
    to: i64,
    d: diff::Diff,
}

pub async fn diff(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<DiffQ>,
) -> UiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let n = Nav::new(&a, "history");
    let head = a.estate.head;
    let num = |v: Option<&str>, default: i64, what: &str| -> Result<i64, ApiError> {
        match v {
            None => Ok(default),
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|x| (1..=head).contains(x))
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "`{what}` must be a version from 1 to {head}, not `{s}`"
                    ))
                }),
        }
    };
    let from = num(given(&q.from), (head - 1).max(1), "from")?;
    let to = num(given(&q.to), head, "to")?;
    let at = |v| At {
        version: Some(v),
        as_of: None,
    };
    let (_, old) = opened(&state, &a, &at(from)).await?;
    let (_, new) = opened(&state, &a, &at(to)).await?;
    let old_files = state.store.version_files(&a.estate.id, from).await?;
    let new_files = state.store.version_files(&a.estate.id, to).await?;
    let d = tokio::task::spawn_blocking(move || diff::diff(&old_files, &new_files, &old, &new))
        .await
        .map_err(ApiError::internal)?;
    Ok(render(&DiffPage {
        l: Layout::new(format!("{} — changes {from} to {to}", n.name), &p),
        n,
        from,
        to,
        d,
    }))
}

// ---- reviews ----

#[derive(Debug, Default, Deserialize)]
pub struct ReviewsQ {
    signed: Option<String>,
}

pub struct ReviewRow {
    pub date: String,
    pub by: String,
    pub notes: String,
    pub incidents: String,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    l: Layout,
    n: Nav,
    cadence: i64,
    due: String,
    overdue: bool,
    reviews: Vec<ReviewRow>,
    gaps: Vec<GapRow>,
}

/// The last review's date and when the next is due (`review_cadence` after it; today when
/// there never was one).
pub fn review_due(e: &demarc_model::Estate) -> (Option<chrono::NaiveDate>, chrono::NaiveDate) {
    let last = e.reviews.iter().map(|r| r.date).max();
    let due = last
        .map(|d| demarc_model::add_days(d, e.settings.review_cadence))
        .unwrap_or_else(today);
    (last, due)
}

pub async fn reviews(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<ReviewsQ>,
) -> UiResult<Response> {
    let (_, mut n, o) = load(&state, &p, &org, &estate, "reviews").await?;
    if let Some(v) = given(&q.signed) {
        n.flash = Some(format!("The review is signed off: saved as version {v}."));
    }
    let check = check(&o).await?;
    let e = o.res().estate();
    let (_, due) = review_due(e);
    let mut reviews: Vec<ReviewRow> = e
        .reviews
        .iter()
        .map(|r| ReviewRow {
            date: r.date.to_string(),
            by: r.by.clone(),
            notes: r.notes.clone().unwrap_or_default(),
            incidents: r
                .incidents
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    reviews.sort_by(|a, b| b.date.cmp(&a.date));
    let gaps = check
        .gaps
        .iter()
        .filter(|g| matches!(g.code.as_str(), "DM008" | "DM009" | "DM019" | "DM025"))
        .enumerate()
        .map(|(i, g)| gap_row(i, g))
        .collect();
    Ok(render(&ReviewsPage {
        l: Layout::new(format!("{} — reviews", n.name), &p),
        cadence: e.settings.review_cadence.days(),
        overdue: due <= today(),
        due: due.to_string(),
        reviews,
        gaps,
        n,
    }))
}

// ---- drills ----

#[derive(Debug, Default, Deserialize)]
pub struct DrillsQ {
    run: Option<String>,
}

pub struct ScenarioRow {
    pub id: String,
    pub title: String,
    pub narrative: String,
    pub href: String,
}

pub struct LineRow {
    pub control: String,
    pub duty: String,
    pub owners: Vec<String>,
    pub problem: bool,
}

pub struct CallRow {
    pub name: String,
    pub party: String,
    pub role: String,
    pub contact: String,
    pub assets: usize,
    pub sla: String,
}

pub struct DrillView {
    pub title: String,
    pub narrative: String,
    pub assets: Vec<(String, String)>,
    pub phases: Vec<(&'static str, Vec<LineRow>)>,
    pub calls: Vec<CallRow>,
    pub gaps: Vec<String>,
    pub questions: Vec<String>,
}

#[derive(Template)]
#[template(path = "drills.html")]
struct DrillsPage {
    l: Layout,
    n: Nav,
    scenarios: Vec<ScenarioRow>,
    drill: Option<DrillView>,
    error: Option<String>,
}

fn lines(list: &[demarc_engine::DutyLine]) -> Vec<LineRow> {
    list.iter()
        .map(|d| LineRow {
            control: d.control.clone(),
            duty: d.duty.as_str().to_string(),
            owners: d
                .owners
                .iter()
                .map(|g| {
                    let mut s = g.who.join(" + ");
                    if g.unassigned {
                        s.push_str(" (nobody named)");
                    }
                    if !g.contested.is_empty() {
                        s.push_str(" (contested)");
                    }
                    format!("{s} on {} asset(s)", g.assets.len())
                })
                .collect(),
            problem: d
                .owners
                .iter()
                .any(|g| g.unassigned || !g.contested.is_empty()),
        })
        .collect()
}

pub async fn drills(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<DrillsQ>,
) -> UiResult<Response> {
    let (_, n, o) = load(&state, &p, &org, &estate, "drills").await?;
    let all = demarc_engine::builtin_scenarios();
    let scenarios = all
        .iter()
        .map(|s| ScenarioRow {
            id: s.id.clone(),
            title: s.title.clone(),
            narrative: s.narrative.clone(),
            href: format!("{}/drills?{}#drill", n.base, query(&[("run", &s.id)])),
        })
        .collect();
    let (mut drill, mut error) = (None, None);
    if let Some(id) = given(&q.run) {
        let Some(s) = all.into_iter().find(|s| s.id == id) else {
            return Err(ApiError::not_found(format!("no built-in scenario `{id}`"))
                .help("choose one from the list on the Drills tab")
                .into());
        };
        let res = o.res().clone();
        let out = tokio::task::spawn_blocking(move || res.drill(&s).map(|d| (s, d)))
            .await
            .map_err(ApiError::internal)?;
        match out {
            Ok((s, d)) => {
                drill = Some(DrillView {
                    title: s.title.clone(),
                    narrative: s.narrative.clone(),
                    assets: d.assets.clone(),
                    phases: vec![
                        ("Cause", lines(&d.cause)),
                        ("Detect", lines(&d.detect)),
                        ("Respond", lines(&d.respond)),
                    ],
                    calls: d
                        .calls
                        .iter()
                        .map(|c| CallRow {
                            name: c.name.clone(),
                            party: match &c.team {
                                Some(t) => format!("{}/{t}", c.party),
                                None => c.party.clone(),
                            },
                            role: c.role.as_str().to_string(),
                            contact: [c.contact.clone(), c.phone.clone()]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" · "),
                            assets: c.assets.len(),
                            sla: c
                                .sla
                                .as_ref()
                                .map(|(d, by)| format!("{d} ({by})"))
                                .unwrap_or_default(),
                        })
                        .collect(),
                    gaps: d
                        .gaps
                        .iter()
                        .map(|g| format!("{}: {}", g.key, g.title))
                        .collect(),
                    questions: s.questions.clone(),
                });
            }
            Err(e) => error = Some(e.0),
        }
    }
    Ok(render(&DrillsPage {
        l: Layout::new(format!("{} — drills", n.name), &p),
        n,
        scenarios,
        drill,
        error,
    }))
}
