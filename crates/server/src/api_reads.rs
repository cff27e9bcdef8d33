//! Read endpoints beyond the matrix: who, triage, drills, compliance, evidence and exports.
//! Each answers the JSON the CLI prints for the same question (`demarc who … --format json`
//! and so on), computed from one version.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use demarc_api as api;
use demarc_compliance::Library;
use demarc_compliance::rollup::{self, Options};
use serde::Deserialize;

use crate::access;
use crate::api::{At, not_applicable, opened, parse_duty};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    let e = "/api/v1/orgs/{org}/estates/{estate}";
    Router::new()
        .route(&format!("{e}/who"), get(who))
        .route(&format!("{e}/triage"), get(triage))
        .route(&format!("{e}/drills"), get(drills))
        .route(&format!("{e}/drills/{{scenario}}"), get(drill))
        .route(&format!("{e}/compliance"), get(compliance))
        .route(&format!("{e}/evidence"), get(evidence))
        .route(&format!("{e}/exports/{{kind}}"), get(export))
        .route(&format!("{e}/annex"), get(annex))
}

type EstatePath = Path<(String, String)>;

fn library() -> ApiResult<&'static Library> {
    Library::builtin().map_err(ApiError::internal)
}

#[derive(Debug, Deserialize)]
pub struct WhoQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    pub asset: String,
    pub duty: String,
    pub control: Option<String>,
}

/// `demarc who VERB ASSET [--control C]`: one cell per control with that duty on the asset.
async fn who(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(q): Query<WhoQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (_, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let res = o.res();
    let d = parse_duty(&q.duty)?;
    let i = res.find_asset(&q.asset).map_err(not_applicable)?;
    let cells = res
        .who(i, d, q.control.as_deref())
        .map_err(not_applicable)?;
    let out = api::CellsStream::new(
        res,
        cells
            .iter()
            .map(|c| api::CellV1::new(res, i, c))
            .collect::<Vec<_>>(),
    );
    o.json(&out)
}

#[derive(Debug, Deserialize)]
pub struct TriageQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    pub asset: String,
    /// Without a control: the asset's call sheet (every duty's contacts).
    pub control: Option<String>,
    pub duty: Option<String>,
}

/// `demarc triage ASSET [CONTROL] [--duty D]`: who to call, with contacts, SLA and escalation.
async fn triage(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(q): Query<TriageQuery>,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (_, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let res = o.res();
    let i = res.find_asset(&q.asset).map_err(not_applicable)?;
    let d = q.duty.as_deref().map(parse_duty).transpose()?;
    let Some(control) = q.control else {
        if d.is_some() {
            return Err(ApiError::bad_request("`duty` needs `control`")
                .help("name the control, or leave out `duty` for the asset's whole call sheet"));
        }
        return Ok(o
            .json(&api::CallSheetV1::new(res, &res.call_sheet(i)))?
            .into_response());
    };
    let t = res.triage(i, &control, d).map_err(not_applicable)?;
    Ok(o.json(&api::TriageV1::new(res, &t))?.into_response())
}

/// The built-in incident drill scenarios.
async fn drills(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
) -> ApiResult<Json<Vec<api::DrillScenarioRefV1>>> {
    access::estate(&state, &p, &org, &estate).await?;
    Ok(Json(
        demarc_engine::builtin_scenarios()
            .into_iter()
            .map(|s| api::DrillScenarioRefV1 {
                id: s.id,
                title: s.title,
                narrative: s.narrative,
            })
            .collect(),
    ))
}

/// `demarc drill SCENARIO`: who should have prevented, detected and responded, on this estate.
async fn drill(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate, scenario)): Path<(String, String, String)>,
    Query(at): Query<At>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let s = demarc_engine::builtin_scenario(&scenario).ok_or_else(|| {
        let ids: Vec<String> = demarc_engine::builtin_scenarios()
            .into_iter()
            .map(|s| s.id)
            .collect();
        ApiError::not_found(format!("no built-in scenario `{scenario}`"))
            .help(format!("built-in scenarios: {}", ids.join(", ")))
    })?;
    let (_, o) = opened(&state, &a, &at).await?;
    let res = o.res();
    let d = res.drill(&s).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!(
                "scenario `{}` names what the catalog does not have: {e}",
                s.id
            ),
        )
    })?;
    o.json(&api::DrillV1::new(res, &d))
}

#[derive(Debug, Deserialize)]
pub struct ComplianceQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    /// Default: the estate's first `settings.frameworks`, else nist-800-53.
    pub framework: Option<String>,
    pub baseline: Option<String>,
    pub env: Option<String>,
    pub data: Option<String>,
}

/// `demarc compliance -F FRAMEWORK`: inherited, shared and owned per requirement.
async fn compliance(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(q): Query<ComplianceQuery>,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (_, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let res = o.res().clone();
    let key = format!(
        "compliance\0{}\0{}\0{}\0{:?}\0{:?}\0{:?}\0{:?}",
        a.estate.id,
        q.version.unwrap_or(a.estate.head),
        res.as_of(),
        q.framework,
        q.baseline,
        q.env,
        q.data
    );
    let o2 = o.clone();
    state
        .answer(key, move || {
            let out = compliance_of(&res, &q)?;
            Ok(o2.json(&out)?.0)
        })
        .await
}

/// One framework's rollup of a resolution, as `demarc compliance --format json` prints it.
pub fn compliance_of(
    res: &demarc_engine::Resolution,
    q: &ComplianceQuery,
) -> ApiResult<api::ComplianceV1> {
    let lib = library()?;
    let framework = q.framework.clone().unwrap_or_else(|| {
        res.estate()
            .settings
            .frameworks
            .iter()
            .map(|f| f.value.clone())
            .find(|f| lib.framework(f).is_some())
            .unwrap_or_else(|| "nist-800-53".into())
    });
    if lib.framework(&framework).is_none() {
        let ids: Vec<&str> = lib.framework_ids().collect();
        return Err(
            ApiError::bad_request(format!("unknown framework `{framework}`"))
                .help(format!("choose one of: {}", ids.join(", "))),
        );
    }
    let baseline = match q.baseline.as_deref().or(lib.default_baseline(&framework)) {
        Some(b) => Some(
            lib.baseline(&framework, b)
                .map_err(|e| ApiError::bad_request(e.message).help(e.help))?,
        ),
        None => None,
    };
    let r = rollup::rollup(
        lib,
        res,
        &Options {
            framework: &framework,
            baseline,
            env: q.env.as_deref(),
            data: q.data.as_deref(),
            warn_days: res.estate().settings.expiry_warning.days(),
        },
    )
    .map_err(|e| ApiError::bad_request(e.message).help(e.help))?;
    Ok(api::ComplianceV1::new(
        &res.estate().name,
        res.accountable(),
        &r,
        api::ScopeArgs {
            env: q.env.as_deref(),
            data: q.data.as_deref(),
            party: None,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub struct EvidenceQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    /// Days ahead that count as expiring (default: the estate's `settings.expiry_warning`).
    pub within: Option<i64>,
}

/// `demarc evidence`: the evidence register, with each evidence file's hash checked.
async fn evidence(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(q): Query<EvidenceQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (_, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let res = o.res().clone();
    let within = q.within;
    // Hashing reads the version's files from its directory, which `o` keeps alive.
    let out = tokio::task::spawn_blocking(move || {
        let within = within.unwrap_or_else(|| res.estate().settings.expiry_warning.days());
        let files = demarc_compliance::evidence::hash_evidence_files(&res);
        let reg = demarc_compliance::evidence::register(&res, &files, within);
        api::EvidenceRegisterV1::new(&res.estate().name, &reg)
    })
    .await
    .map_err(ApiError::internal)?;
    o.json(&out)
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    /// FedRAMP baseline for `oscal-ssp` and `crm`: low, moderate (default), high, li-saas.
    pub baseline: Option<String>,
}

/// The export kinds, their media types and file names.
pub const EXPORTS: &[(&str, &str, &str)] = &[
    ("oscal-ssp", "application/json", "ssp.json"),
    (
        "oscal-component",
        "application/json",
        "component-definition.json",
    ),
    ("oscal-mapping", "application/json", "mapping.json"),
    (
        "crm",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "crm.xlsx",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "matrix.xlsx",
    ),
    ("fedramp-cpo", "application/json", "cpo.json"),
    ("fedramp-sdr", "application/json", "sdr.json"),
];

/// `demarc export KIND`: the same file, as a download.
async fn export(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate, kind)): Path<(String, String, String)>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let Some(&(_, mime, file)) = EXPORTS.iter().find(|(k, _, _)| *k == kind) else {
        let kinds: Vec<&str> = EXPORTS.iter().map(|(k, _, _)| *k).collect();
        return Err(ApiError::not_found(format!("no export `{kind}`"))
            .help(format!("exports: {}", kinds.join(", "))));
    };
    let (n, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let res = o.res().clone();
    let baseline = q.baseline.unwrap_or_else(|| "moderate".into());
    let bytes = tokio::task::spawn_blocking(move || -> ApiResult<Vec<u8>> {
        let lib = library()?;
        let ex = |e: demarc_exchange::ExchangeError| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                e.to_string(),
            )
        };
        Ok(match kind.as_str() {
            "oscal-ssp" => demarc_exchange::oscal::export_ssp_at(&res, lib, &baseline)
                .map_err(ex)?
                .into_bytes(),
            "oscal-component" => demarc_exchange::oscal::export_component(&res)
                .map_err(ex)?
                .into_bytes(),
            "oscal-mapping" => demarc_exchange::oscal::export_mapping(res.catalog(), lib)
                .map_err(ex)?
                .into_bytes(),
            "crm" => {
                let b = lib
                    .baseline("fedramp", &baseline)
                    .map_err(|e| ApiError::bad_request(e.message).help(e.help))?;
                demarc_exchange::crm::export(&res, lib, b).map_err(ex)?
            }
            "xlsx" => {
                let dir = tempfile::tempdir().map_err(ApiError::internal)?;
                let path = dir.path().join("matrix.xlsx");
                demarc_exchange::workbook::export_xlsx_with_notes(&res, &path).map_err(ex)?;
                std::fs::read(&path).map_err(ApiError::internal)?
            }
            "fedramp-cpo" => demarc_exchange::fedramp20x::cpo(&res, lib)
                .map_err(ex)?
                .json
                .into_bytes(),
            "fedramp-sdr" => demarc_exchange::fedramp20x::sdr(&res, lib)
                .map_err(ex)?
                .json
                .into_bytes(),
            _ => unreachable!("checked against EXPORTS"),
        })
    })
    .await
    .map_err(ApiError::internal)??;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    let name = format!("{estate}-v{n}-{file}");
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `demarc incidents`: each incident with who held the failed duty on its date, the basis,
/// times against the SLA, and whether its post-incident review is signed off.
pub async fn incidents(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(at): Query<At>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (_, o) = opened(&state, &a, &at).await?;
    let res = o.res();
    o.json(&api::IncidentsV1::new(res, &res.incidents()))
}

#[derive(Debug, Deserialize)]
pub struct AnnexQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    /// The party the schedule is with (`shieldco`, or `acme/platform` for an internal team).
    pub party: String,
    /// A contract of that party in the estate: list what its clauses leave out.
    pub compare: Option<String>,
    /// An earlier version: what changed in the schedule since (duties added, dropped,
    /// cadences changed).
    pub diff_from: Option<i64>,
    /// `json` (default), `html` (prints; a self-contained page) or `md`.
    pub format: Option<String>,
}

fn annex_v1(res: &demarc_engine::Resolution, q: &AnnexQuery) -> ApiResult<api::AnnexV1> {
    let who = res
        .annex_party(&q.party)
        .map_err(|e| ApiError::bad_request(format!("party: {e}")))?;
    let annex = res.annex(&who);
    let comparison = match &q.compare {
        None => None,
        Some(c) => {
            let k = res
                .estate()
                .contracts
                .iter()
                .find(|k| k.id.as_str() == c)
                .ok_or_else(|| ApiError::not_found(format!("no contract `{c}` in the estate")))?;
            if k.party.as_str() != who.party {
                return Err(ApiError::bad_request(format!(
                    "contract `{c}` is with `{}`, not `{}`",
                    k.party.value, who.party
                ))
                .help("compare the annex with a contract of the same party"));
            }
            Some(res.annex_compare(&annex, res, c))
        }
    };
    Ok(api::AnnexV1::new(res, &annex, comparison.as_ref()))
}

/// `demarc annex --party P`: the responsibility schedule for a contract with P, drafted from
/// the model; with `diff_from`, what changed in it since that version.
async fn annex(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): EstatePath,
    Query(q): Query<AnnexQuery>,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "html" | "md") {
        return Err(ApiError::bad_request(format!(
            "`format={format}`: use json, html or md"
        )));
    }
    let (_, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let annex = annex_v1(o.res(), &q)?;
    if let Some(from) = q.diff_from {
        let (_, old) = opened(&state, &a, &At::of(Some(from), q.as_of)).await?;
        let before = annex_v1(
            old.res(),
            &AnnexQuery {
                compare: None,
                diff_from: None,
                ..q
            },
        )?;
        let d = api::annex_diff(&before, &annex);
        return Ok(match format.as_str() {
            "md" => text_answer(
                "text/markdown; charset=utf-8",
                o.relative_text(&demarc_report::annex::annex_diff_md(&d)),
            ),
            "json" => o.json(&d)?.into_response(),
            _ => return Err(ApiError::bad_request("the annex diff is json or md")),
        });
    }
    Ok(match format.as_str() {
        "md" => text_answer(
            "text/markdown; charset=utf-8",
            o.relative_text(&demarc_report::annex::annex_md(&annex)),
        ),
        "html" => {
            let mut r = text_answer(
                "text/html; charset=utf-8",
                o.relative_text(&demarc_report::annex::annex_html(&annex, false)),
            );
            // The annex is a self-contained printable page with its own stylesheet and no
            // script: its policy allows inline style and nothing else.
            r.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
            );
            r
        }
        _ => o.json(&annex)?.into_response(),
    })
}

fn text_answer(mime: &'static str, body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r
}
