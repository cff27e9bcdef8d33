//! The web UI: server-rendered pages over the same access checks and resolutions as the API.
//!
//! Every read page works without JavaScript; htmx (vendored under `assets/`) only loads the
//! explain panel in place. The CSP forbids inline scripts and styles, so templates use classes
//! and every script is a file under `/static/`. An estate the user cannot see answers the same
//! 404 as one that does not exist ([`access::estate`]).

pub mod actions;
mod dashboard;
mod diff;
mod estate;
pub(crate) mod findings;
mod session;

use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth::{Principal, principal_of};
use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    let e = "/orgs/{org}/estates/{estate}";
    Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(session::form).post(session::login))
        .route("/logout", post(session::logout))
        .route("/static/{name}", get(static_file))
        .route(e, get(estate::matrix))
        .route(&format!("{e}/explain"), get(estate::explain))
        .route(&format!("{e}/gaps"), get(estate::gaps))
        .route(&format!("{e}/gaps/accept"), post(actions::accept))
        .route(&format!("{e}/compliance"), get(estate::compliance))
        .route(&format!("{e}/evidence"), get(estate::evidence))
        .route(&format!("{e}/contracts"), get(estate::contracts))
        .route(&format!("{e}/findings"), get(estate::findings))
        .route(&format!("{e}/history"), get(estate::history))
        .route(&format!("{e}/history/diff"), get(estate::diff))
        .route(&format!("{e}/reviews"), get(estate::reviews))
        .route(&format!("{e}/reviews/sign-off"), post(actions::sign_off))
        .route(&format!("{e}/drills"), get(estate::drills))
}

// ---- static assets ----

/// (name, content type, bytes): compiled in, so the server fetches nothing at run time.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/htmx.min.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
];

/// A hash of every asset, put in their URLs (`?v=`), so a year-long cache never serves a
/// stale file after an upgrade.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (_, _, bytes) in ASSETS {
        for b in *bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
});

async fn static_file(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ty, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(ty)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

// ---- who is asking ----

/// The signed-in user of a page; without a session the page redirects to the login form.
pub struct Viewer(pub Principal);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Viewer(p.clone()));
        }
        match principal_of(state, &parts.headers).await? {
            Some(p) => {
                p.require_scope("read")?;
                Ok(Viewer(p))
            }
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                // An htmx request whose session ended must move the whole page to the
                // sign-in form, not swap the form into the panel.
                if parts.headers.contains_key("hx-request") {
                    Err(UiError::SignInWhole(next))
                } else {
                    Err(UiError::SignIn(next))
                }
            }
        }
    }
}

/// What every page's frame shows.
pub struct Layout {
    pub title: String,
    pub user: String,
    pub csrf: String,
    pub v: &'static str,
}

impl Layout {
    pub fn new(title: impl Into<String>, p: &Principal) -> Layout {
        Layout {
            title: title.into(),
            user: p.user.email.clone(),
            csrf: p.csrf().to_string(),
            v: ASSET_VERSION.as_str(),
        }
    }

    /// The frame of a page shown before sign-in.
    pub fn anonymous(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user: String::new(),
            csrf: String::new(),
            v: ASSET_VERSION.as_str(),
        }
    }
}

// ---- errors as pages ----

/// A page that cannot be shown: a redirect to sign in, or an error page with the API's
/// status and message (the same words the API would use).
pub enum UiError {
    SignIn(String),
    /// The same, answered to htmx with `HX-Redirect` (it follows a plain redirect in place).
    SignInWhole(String),
    Page(ApiError),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> UiError {
        UiError::Page(e)
    }
}

impl From<demarc_store::StoreError> for UiError {
    fn from(e: demarc_store::StoreError) -> UiError {
        UiError::Page(e.into())
    }
}

pub type UiResult<T> = Result<T, UiError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    reason: String,
    message: String,
    help: Option<String>,
    diagnostics: Vec<String>,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn(next) => Redirect::to(&sign_in_url(&next)).into_response(),
            UiError::SignInWhole(next) => match HeaderValue::from_str(&sign_in_url(&next)) {
                Ok(v) => (StatusCode::UNAUTHORIZED, [("hx-redirect", v)]).into_response(),
                Err(_) => StatusCode::UNAUTHORIZED.into_response(),
            },
            UiError::Page(e) => {
                let page = ErrorPage {
                    l: Layout::anonymous(e.status.canonical_reason().unwrap_or("Error")),
                    status: e.status.as_u16(),
                    reason: e.status.canonical_reason().unwrap_or("Error").to_string(),
                    message: e.message,
                    help: e.help,
                    diagnostics: e.diagnostics,
                };
                (e.status, render(&page)).into_response()
            }
        }
    }
}

fn sign_in_url(next: &str) -> String {
    format!("/login?{}", query(&[("next", safe_next(next))]))
}

/// Only a path on this server is a place to return to after sign-in (never `//host`), and
/// only one that is a valid `Location` (printable ASCII: a URL from the address bar is
/// percent-encoded; anything else came from a crafted form).
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.bytes().all(|b| (0x21..0x7f).contains(&b))
    {
        next
    } else {
        "/"
    }
}

/// Renders a template; a template error is a 500 page, never a panic.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            eprintln!("error: template: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><html lang=\"en\"><title>Error</title><p>The page could not be rendered; the error is in the server log.</p></html>"),
            )
                .into_response()
        }
    }
}

/// `?a=b&c=d` for links, percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Template filters.
pub(crate) mod filters {
    /// A status phrase as a class name suffix: `due soon` → `due-soon`.
    #[askama::filter_fn]
    pub fn css<T: std::fmt::Display>(s: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(s.to_string().replace(' ', "-"))
    }
}
