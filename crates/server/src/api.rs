//! The REST API under `/api/v1`. Every estate answer is computed from one immutable version
//! (`?version=N`, default the newest) on one day (`?as_of=YYYY-MM-DD`, default today, UTC) and
//! returned as the api crate's types.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use demarc_api as api;
use demarc_store::{Login, NewVersion, Role, VersionRow};
use serde::Deserialize;

use crate::access::{self, EstateAccess};
use crate::auth::{self, Principal};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Opened};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(login).delete(logout).get(me))
        .route("/api/v1/openapi.json", get(crate::openapi::serve_document))
        .route("/api/v1/orgs", get(list_orgs).post(create_org))
        .route(
            "/api/v1/orgs/{org}/estates",
            get(list_estates).post(create_estate),
        )
        .route("/api/v1/orgs/{org}/estates/{estate}", get(get_estate))
        .route(
            "/api/v1/orgs/{org}/estates/{estate}/versions",
            get(list_versions).post(upload),
        )
        .route(
            "/api/v1/orgs/{org}/estates/{estate}/versions/{n}",
            get(get_version),
        )
        .route(
            "/api/v1/orgs/{org}/estates/{estate}/versions/{n}/files",
            get(version_files),
        )
        .route("/api/v1/orgs/{org}/estates/{estate}/matrix", get(matrix))
        .route("/api/v1/orgs/{org}/estates/{estate}/explain", get(explain))
        .route("/api/v1/orgs/{org}/estates/{estate}/gaps", get(gaps))
}

// ---- shared pieces ----

/// `?version=N&as_of=YYYY-MM-DD`.
#[derive(Debug, Default, Deserialize)]
pub struct At {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
}

impl At {
    pub fn of(version: Option<i64>, as_of: Option<NaiveDate>) -> At {
        At { version, as_of }
    }
}

pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The version `at` names (default the head), resolved on its as-of date.
pub async fn opened(state: &AppState, a: &EstateAccess, at: &At) -> ApiResult<(i64, Arc<Opened>)> {
    let n = at.version.unwrap_or(a.estate.head);
    if a.estate.head == 0 {
        return Err(ApiError::not_found(format!(
            "estate `{}` has no version yet",
            a.estate.slug
        ))
        .help("upload the estate's files: POST …/versions, or `demarc push DIR --server URL --estate ORG/ESTATE`"));
    }
    if n < 1 || n > a.estate.head {
        return Err(ApiError::not_found(format!(
            "estate `{}` has versions 1 to {}, not {n}",
            a.estate.slug, a.estate.head
        )));
    }
    let o = state
        .open(&a.estate.id, n, at.as_of.unwrap_or_else(today))
        .await?;
    Ok((n, o))
}

pub fn version_v1(v: VersionRow) -> api::VersionV1 {
    api::VersionV1 {
        number: v.number,
        author: v.author,
        created_at: v.created_at,
        message: v.message,
        kind: v.kind,
        digest: v.digest,
    }
}

pub fn estate_v1(a: &EstateAccess) -> api::EstateV1 {
    api::EstateV1 {
        org: a.org.slug.clone(),
        slug: a.estate.slug.clone(),
        name: a.estate.name.clone(),
        head: a.estate.head,
        created_at: a.estate.created_at.clone(),
        role: a.role.as_str().into(),
    }
}

fn etag(head: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"v{head}\"")).expect("ascii")
}

/// The base version of a write: `If-Match: "vN"` or the body's `base`; one is required, so a
/// client never overwrites a version it has not seen.
pub fn base_of(headers: &HeaderMap, body_base: Option<i64>) -> ApiResult<i64> {
    if let Some(v) = headers.get(header::IF_MATCH) {
        let s = v.to_str().unwrap_or("");
        let n = s
            .trim_matches('"')
            .strip_prefix('v')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("If-Match `{s}` is not a version tag like \"v3\""))
            })?;
        return Ok(n);
    }
    body_base.ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "say which version the change was made from",
        )
        .help("send `base` in the body or `If-Match: \"vN\"` with the estate's head (its ETag)")
    })
}

/// A JSON body, with serde's error (field, line, column) as a 400 instead of axum's text.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not valid JSON for this endpoint: {e}"
        ))
        .help("see the request schema in /api/v1/openapi.json")
    })
}

// ---- session ----

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: api::LoginV1 = json_body(&body)?;
    let (token, csrf, user) = check_login(&state, peer, &req.email, &req.password).await?;
    let me = api::MeV1 {
        email: user.email,
        name: user.name,
        superadmin: user.superadmin,
        csrf,
    };
    let mut resp = Json(me).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::session_cookie(&token, state.secure_cookies))
            .map_err(ApiError::internal)?,
    );
    Ok(resp)
}

/// Checks a login against the per-address limiter and the account lockout; one message for
/// an unknown user and a wrong password.
pub async fn check_login(
    state: &AppState,
    peer: SocketAddr,
    email: &str,
    password: &str,
) -> ApiResult<(String, String, demarc_store::User)> {
    if !state.login_limiter.allow(peer.ip()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many sign-in attempts from this address; wait a minute",
        ));
    }
    match state.store.login(email, password).await? {
        Login::Ok(user) => {
            let (token, csrf) = state
                .store
                .create_session(&user, auth::SESSION_SECS)
                .await?;
            Ok((token, csrf, user))
        }
        Login::Invalid => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the email or the password is wrong",
        )),
        Login::Locked(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "locked",
            "too many failed sign-ins: the account is locked for 15 minutes",
        )
        .help("wait, or ask an admin")),
    }
}

async fn logout(State(state): State<AppState>, p: Principal) -> ApiResult<Response> {
    if let auth::Via::Session { token, .. } = &p.via {
        state.store.delete_session(token).await?;
        state.lookups.forget_principal(&format!("s:{token}"));
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::clear_cookie(state.secure_cookies))
            .map_err(ApiError::internal)?,
    );
    Ok(resp)
}

async fn me(p: Principal) -> Json<api::MeV1> {
    Json(api::MeV1 {
        email: p.user.email.clone(),
        name: p.user.name.clone(),
        superadmin: p.user.superadmin,
        csrf: p.csrf().to_string(),
    })
}

// ---- organizations and estates ----

async fn list_orgs(
    State(state): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Vec<api::OrgV1>>> {
    p.require_scope("read")?;
    let mine: Vec<String> = state
        .store
        .memberships(&p.user.id)
        .await?
        .into_iter()
        .map(|m| m.org_id)
        .collect();
    let mut out = Vec::new();
    for o in state.store.orgs().await? {
        if !p.user.superadmin && !mine.contains(&o.id) {
            continue;
        }
        let role = state.store.org_role(&p.user, &o.id).await?;
        out.push(api::OrgV1 {
            slug: o.slug,
            name: o.name,
            created_at: o.created_at,
            role: role.map(|r| r.as_str().to_string()),
        });
    }
    Ok(Json(out))
}

async fn create_org(
    State(state): State<AppState>,
    p: Principal,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<api::OrgV1>)> {
    p.require_scope("admin")?;
    if !p.user.superadmin {
        return Err(ApiError::forbidden(
            "only a server administrator creates organizations",
        ));
    }
    let req: api::NewOrgV1 = json_body(&body)?;
    let o = state
        .store
        .create_org(&req.slug, &req.name, &p.user.email)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(api::OrgV1 {
            slug: o.slug,
            name: o.name,
            created_at: o.created_at,
            role: Some("admin".into()),
        }),
    ))
}

async fn list_estates(
    State(state): State<AppState>,
    p: Principal,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<api::EstateV1>>> {
    let (o, _) = access::org(&state, &p, &org).await?;
    let out = access::visible_estates(&state, &p, &o)
        .await?
        .into_iter()
        .map(|(estate, role)| {
            estate_v1(&EstateAccess {
                org: o.clone(),
                estate,
                role,
            })
        })
        .collect();
    Ok(Json(out))
}

async fn create_estate(
    State(state): State<AppState>,
    p: Principal,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<api::EstateV1>)> {
    let (o, role) = access::org(&state, &p, &org).await?;
    p.require_scope("write")?;
    if role != Some(Role::Admin) {
        return Err(ApiError::forbidden(
            "only an admin of the organization creates estates",
        ));
    }
    let req: api::NewEstateV1 = json_body(&body)?;
    let e = state
        .store
        .create_estate(&o.id, &req.slug, &req.name, &p.user.email)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(estate_v1(&EstateAccess {
            org: o,
            estate: e,
            role: Role::Admin,
        })),
    ))
}

async fn get_estate(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): Path<(String, String)>,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let mut resp = Json(estate_v1(&a)).into_response();
    resp.headers_mut().insert(header::ETAG, etag(a.estate.head));
    Ok(resp)
}

// ---- versions ----

#[derive(Debug, Deserialize)]
pub struct Paging {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl Paging {
    /// (page from 1, per page 1..=1000, default 100).
    pub fn get(&self) -> ApiResult<(u32, u32)> {
        let page = self.page.unwrap_or(1);
        let per = self.per_page.unwrap_or(100);
        if page == 0 || per == 0 || per > 1000 {
            return Err(ApiError::bad_request(
                "`page` starts at 1 and `per_page` is 1 to 1000",
            ));
        }
        Ok((page, per))
    }
}

async fn list_versions(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): Path<(String, String)>,
    Query(paging): Query<Paging>,
) -> ApiResult<Json<api::PageV1<api::VersionV1>>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (page, per) = paging.get()?;
    let rows = state
        .store
        .versions(&a.estate.id, per as i64, (page as i64 - 1) * per as i64)
        .await?;
    Ok(Json(api::PageV1 {
        page,
        per_page: per,
        total: a.estate.head as u64,
        items: rows.into_iter().map(version_v1).collect(),
    }))
}

async fn get_version(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate, n)): Path<(String, String, i64)>,
) -> ApiResult<Json<api::VersionV1>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let v = state
        .store
        .version(&a.estate.id, n)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("version {n} of `{estate}` not found")))?;
    Ok(Json(version_v1(v)))
}

pub fn file_v1(content: Vec<u8>) -> api::FileV1 {
    use base64::Engine;
    match String::from_utf8(content) {
        Ok(s) if !s.contains('\0') => api::FileV1::Text(s),
        Ok(s) => api::FileV1::Binary {
            base64: base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
        },
        Err(e) => api::FileV1::Binary {
            base64: base64::engine::general_purpose::STANDARD.encode(e.as_bytes()),
        },
    }
}

async fn version_files(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate, n)): Path<(String, String, i64)>,
) -> ApiResult<Json<api::FilesV1>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    if n < 1 || n > a.estate.head {
        return Err(ApiError::not_found(format!(
            "version {n} of `{estate}` not found"
        )));
    }
    let files = state.store.version_files(&a.estate.id, n).await?;
    Ok(Json(api::FilesV1 {
        version: n,
        files: files.into_iter().map(|(p, c)| (p, file_v1(c))).collect(),
    }))
}

/// Validates the files as the CLI would and stores them as a new version. Invalid estates
/// answer 422 with file:line:column diagnostics and store nothing.
pub async fn store_version(
    state: &AppState,
    a: &EstateAccess,
    base: i64,
    author: &str,
    kind: &str,
    message: String,
    files: Vec<(String, Vec<u8>)>,
) -> ApiResult<VersionRow> {
    if message.trim().is_empty() {
        return Err(ApiError::bad_request(
            "say what changed: `message` is empty",
        ));
    }
    let check = files.clone();
    tokio::task::spawn_blocking(move || crate::state::open_files(&check, today()).map(|_| ()))
        .await
        .map_err(ApiError::internal)??;
    let v = state
        .store
        .create_version(
            &a.estate,
            base,
            NewVersion {
                author: author.into(),
                message,
                kind: kind.into(),
                files,
            },
        )
        .await;
    // The head moved (or, on a conflict, was found to have moved): cached access rows that
    // carry it are stale.
    state.lookups.forget_estates();
    let v = v?;
    Ok(v)
}

pub fn decode_files(files: BTreeMap<String, api::FileV1>) -> ApiResult<Vec<(String, Vec<u8>)>> {
    use base64::Engine;
    files
        .into_iter()
        .map(|(p, f)| match f {
            api::FileV1::Text(t) => Ok((p, t.into_bytes())),
            api::FileV1::Binary { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map(|b| (p.clone(), b))
                .map_err(|e| ApiError::bad_request(format!("files.{p}: not valid base64: {e}"))),
        })
        .collect()
}

async fn upload(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let req: api::UploadV1 = json_body(&body)?;
    let base = base_of(&headers, Some(req.base))?;
    let kind = match headers.get("x-demarc-client").and_then(|v| v.to_str().ok()) {
        Some("push") => "push",
        _ => "upload",
    };
    let mut files = decode_files(req.files)?;
    files.sort_by(|x, y| x.0.cmp(&y.0));
    // Pushing from CI on every commit must not pile up identical versions: the same files as
    // the head (and made from the head) answer the head, 200 instead of 201.
    if base == a.estate.head && base > 0 {
        let digest = demarc_store::version_digest(&files);
        if let Some(head) = state.store.version(&a.estate.id, base).await?
            && head.digest == digest
        {
            let mut resp = (StatusCode::OK, Json(version_v1(head))).into_response();
            resp.headers_mut().insert(header::ETAG, etag(base));
            return Ok(resp);
        }
    }
    let v = store_version(&state, &a, base, &p.user.email, kind, req.message, files).await?;
    let mut resp = (StatusCode::CREATED, Json(version_v1(v.clone()))).into_response();
    resp.headers_mut().insert(header::ETAG, etag(v.number));
    Ok(resp)
}

// ---- estate answers ----

#[derive(Debug, Deserialize)]
pub struct MatrixQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// Keep assets of this service (`aws:s3`).
    pub service: Option<String>,
    pub env: Option<String>,
    /// Keep cells where this party is responsible.
    pub party: Option<String>,
    pub control: Option<String>,
    pub duty: Option<String>,
    pub asset: Option<String>,
    /// Only cells with a problem.
    pub problems: Option<bool>,
}

pub fn parse_duty(d: &str) -> ApiResult<demarc_model::Duty> {
    demarc_model::Duty::from_word(d).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`{d}` is not a duty: use configure, patch, monitor, respond or audit"
        ))
    })
}

async fn matrix(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<MatrixQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (page, per) = Paging {
        page: q.page,
        per_page: q.per_page,
    }
    .get()?;
    let (n, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let duty = q.duty.as_deref().map(parse_duty).transpose()?;
    let res = o.res();
    let skip = (page as usize - 1) * per as usize;
    let cell_filters =
        duty.is_some() || q.control.is_some() || q.problems == Some(true) || q.party.is_some();
    let mut total = 0u64;
    let mut cells = Vec::new();
    for i in res.assets() {
        let asset = res.asset(i);
        if q.asset.as_deref().is_some_and(|x| asset.id.as_str() != x)
            || q.service
                .as_deref()
                .is_some_and(|s| asset.service.as_str() != s)
            || q.env
                .as_deref()
                .is_some_and(|e| asset.env.as_ref().map(|v| v.as_str()) != Some(e))
        {
            continue;
        }
        let all = res.cells_of(i);
        // Without cell filters a whole asset is counted by its length, and only the cells in
        // the page window are looked at: page 500 of a 100k-asset estate costs a walk over
        // the assets, not over their twenty million cells.
        if !cell_filters {
            let before = total as usize;
            total += all.len() as u64;
            let end = (skip + per as usize).min(total as usize);
            if total as usize > skip && before < end {
                let from = skip.saturating_sub(before);
                let to = end - before;
                for c in &all[from..to] {
                    cells.push(api::CellV1::new(res, i, c));
                }
            }
            continue;
        }
        for c in all {
            if duty.is_some_and(|d| c.duty != d)
                || q.control
                    .as_deref()
                    .is_some_and(|x| res.control_of(c).id.as_str() != x)
                || (q.problems == Some(true) && !c.has_problem())
                || q.party
                    .as_deref()
                    .is_some_and(|x| !c.responsible.iter().any(|r| r.party.as_str() == x))
            {
                continue;
            }
            total += 1;
            if total as usize > skip && cells.len() < per as usize {
                cells.push(api::CellV1::new(res, i, c));
            }
        }
    }
    o.json(&api::MatrixPageV1 {
        schema: "demarc.matrix-page/v1".into(),
        estate: res.estate().name.clone(),
        version: n,
        as_of: res.as_of(),
        accountable: res.accountable().to_string(),
        page,
        per_page: per,
        total,
        cells,
    })
}

#[derive(Debug, Deserialize)]
pub struct ExplainQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    pub asset: String,
    pub control: String,
    pub duty: String,
}

async fn explain(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<ExplainQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (_, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let res = o.res();
    let duty = parse_duty(&q.duty)?;
    let i = res.find_asset(&q.asset).map_err(not_applicable)?;
    let e = res.explain(i, &q.control, duty).map_err(not_applicable)?;
    o.json(&api::CellV1::new(res, i, e.cell))
}

pub fn not_applicable(e: demarc_engine::NotApplicable) -> ApiError {
    ApiError::not_found(e.to_string()).help(e.help())
}

#[derive(Debug, Deserialize)]
pub struct GapsQuery {
    pub version: Option<i64>,
    pub as_of: Option<NaiveDate>,
    /// Keep gaps of these severities (`critical,high`).
    pub severity: Option<String>,
    /// Keep gaps with these codes (`DM001,DM003`).
    pub code: Option<String>,
}

/// What `demarc check --format json` prints; `severity` and `code` narrow `gaps` (the summary
/// still counts every gap).
async fn gaps(
    State(state): State<AppState>,
    p: Principal,
    Path((org, estate)): Path<(String, String)>,
    Query(q): Query<GapsQuery>,
) -> ApiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    let (n, o) = opened(&state, &a, &At::of(q.version, q.as_of)).await?;
    let res = o.res().clone();
    let list = |v: &Option<String>| -> Vec<String> {
        v.iter()
            .flat_map(|s| s.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let (severities, codes) = (list(&q.severity), list(&q.code));
    const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];
    if let Some(bad) = severities
        .iter()
        .find(|s| !SEVERITIES.contains(&s.as_str()))
    {
        return Err(ApiError::bad_request(format!("`{bad}` is not a severity"))
            .help("use critical, high, medium, low or info, comma-separated"));
    }
    let key = format!(
        "gaps\0{}\0{n}\0{}\0{severities:?}\0{codes:?}",
        a.estate.id,
        res.as_of()
    );
    let o2 = o.clone();
    state
        .answer(key, move || {
            let analysis = res.gaps(demarc_engine::AnalyseOptions::default());
            let mut v = o2.json(&api::CheckV1::new(&res, &analysis))?.0;
            if let Some(gaps) = v.get_mut("gaps").and_then(|g| g.as_array_mut()) {
                gaps.retain(|g| {
                    let field = |k: &str| g.get(k).and_then(|x| x.as_str()).unwrap_or("");
                    (severities.is_empty() || severities.iter().any(|s| s == field("severity")))
                        && (codes.is_empty() || codes.iter().any(|c| c == field("code")))
                });
            }
            Ok(v)
        })
        .await
}
