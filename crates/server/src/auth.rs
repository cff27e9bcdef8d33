//! Who is asking: a session cookie (the web UI) or an API token (`Authorization: Bearer
//! dmk_…`). Sessions and tokens live in the database, so any server process can answer any
//! request. State-changing requests made with a session cookie must carry the session's CSRF
//! token (`X-CSRF-Token` header or a `csrf` form field); requests with a bearer token cannot
//! be forged by a browser and need none.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use demarc_store::User;

use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "demarc_session";
/// Sessions last a working day.
pub const SESSION_SECS: i64 = 12 * 3600;

/// How the caller proved who it is.
#[derive(Debug, Clone)]
pub enum Via {
    Session { token: String, csrf: String },
    Token { scopes: Vec<String> },
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub via: Via,
}

impl Principal {
    /// Tokens carry scopes; a session can do what the user's roles allow.
    pub fn has_scope(&self, scope: &str) -> bool {
        match &self.via {
            Via::Session { .. } => true,
            Via::Token { scopes } => {
                scopes.iter().any(|s| s == scope || s == "admin")
                    || (scope == "read" && scopes.iter().any(|s| s == "write"))
            }
        }
    }

    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(
                ApiError::forbidden(format!("this API token lacks the `{scope}` scope")).help(
                    "create a token with that scope: `demarc admin create-token --scope write`",
                ),
            )
        }
    }

    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The principal of a request, if it carries valid credentials (reused for
/// [`crate::state::LOOKUP_TTL`]).
pub async fn principal_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    let credential = match (bearer(headers), cookie(headers, SESSION_COOKIE)) {
        (Some(t), _) => format!("t:{t}"),
        (None, Some(c)) => format!("s:{c}"),
        (None, None) => return Ok(None),
    };
    if let Some(p) = state.lookups.principal(&credential) {
        return Ok(p);
    }
    let p = lookup_principal(state, headers).await?;
    state.lookups.put_principal(&credential, p.clone());
    Ok(p)
}

async fn lookup_principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    if let Some(t) = bearer(headers) {
        return Ok(state.store.token(t).await?.map(|(row, user)| Principal {
            user,
            via: Via::Token { scopes: row.scopes },
        }));
    }
    if let Some(c) = cookie(headers, SESSION_COOKIE) {
        return Ok(state.store.session(c).await?.map(|s| Principal {
            user: s.user,
            via: Via::Session {
                token: c.to_string(),
                csrf: s.csrf,
            },
        }));
    }
    Ok(None)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let p = principal_of(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        parts.extensions.insert(p.clone());
        Ok(p)
    }
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Largest form body the CSRF check reads to find the `csrf` field.
const MAX_FORM_BYTES: usize = 1 << 20;

/// Refuses state-changing requests made with a session cookie unless they carry the session's
/// CSRF token, and any whose `Origin` is not this server. Login is exempt (there is no session
/// yet; the SameSite=Strict cookie and the account lockout cover it).
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !unsafe_method(req.method()) || path == "/login" || path == "/api/v1/session" {
        return next.run(req).await;
    }
    if let (Some(origin), Some(host)) = (
        req.headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        req.headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) && origin != "null"
        && origin.split("://").nth(1) != Some(host)
    {
        return csrf_refused("the request comes from another site");
    }
    if bearer(req.headers()).is_some() || cookie(req.headers(), SESSION_COOKIE).is_none() {
        return next.run(req).await;
    }
    let principal = match principal_of(&state, req.headers()).await {
        Ok(Some(p)) => p,
        Ok(None) => return ApiError::unauthorized().into_response(),
        Err(e) => return e.into_response(),
    };
    let want = principal.csrf().to_string();
    if let Some(given) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        if demarc_store::eq_ct(given.as_bytes(), want.as_bytes()) {
            return next.run(req).await;
        }
        return csrf_refused("the CSRF token does not match the session");
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return csrf_refused("the request carries no CSRF token");
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the form is too large",
            )
            .into_response();
        }
    };
    let given = form_field(&bytes, "csrf");
    if !given.is_some_and(|g| demarc_store::eq_ct(g.as_bytes(), want.as_bytes())) {
        return csrf_refused("the form's CSRF token does not match the session");
    }
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(principal);
    next.run(req).await
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn csrf_refused(why: &str) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, "csrf", format!("refused: {why}"))
        .help("reload the page and submit the form again; API clients should use a bearer token")
        .into_response()
}

/// Login attempts per client address in a sliding minute. This limits how fast one address can
/// guess; the per-account lockout in the database holds across every server process.
#[derive(Default)]
pub struct LoginLimiter {
    seen: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

pub const LOGINS_PER_MINUTE: usize = 20;

impl LoginLimiter {
    /// Whether another attempt from `ip` is allowed now (and counts it).
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("limiter lock");
        if seen.len() > 100_000 {
            seen.retain(|_, v| v.last().is_some_and(|t| now - *t < Duration::from_secs(60)));
        }
        let v = seen.entry(ip).or_default();
        v.retain(|t| now - *t < Duration::from_secs(60));
        if v.len() >= LOGINS_PER_MINUTE {
            return false;
        }
        v.push(now);
        true
    }
}
