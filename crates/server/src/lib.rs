//! The demarc server: organizations (an MSSP workspace, a company) hold estates (a client
//! environment); each estate is a sequence of immutable versions in the store; every answer is
//! computed by the engine from one version and returned as the api crate's types, the same
//! JSON the CLI prints.
//!
//! - [`api`]: the REST API under `/api/v1`.
//! - [`auth`]: sessions, API tokens, CSRF, the login limiter.
//! - [`access`]: who may read or change what; a caller without access to an estate gets 404,
//!   so an estate's existence never leaks across tenants.
//! - [`state`]: the store and the cache of resolved versions.
//! - [`edits`]: changes made in the API or UI, each written as a new version's files;
//!   [`api_edits`] serves them, with ingests, reviews, findings, drift, diffs and the audit log.
//! - [`history`]: what changed between two versions.
//! - [`ui`]: the web UI, server-rendered pages under `/` with assets under `/static/`.

pub mod access;
pub mod api;
pub mod api_edits;
pub mod api_reads;
pub mod auth;
pub mod demo;
pub mod edits;
pub mod error;
pub mod history;
pub mod openapi;
pub mod state;
#[doc(hidden)]
pub mod testing;
pub mod ui;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::{ApiError, ApiResult};
pub use state::AppState;

/// The largest request body: an estate upload of a large estate as JSON.
pub const MAX_BODY_BYTES: usize = 64 << 20;
/// No request runs longer than this (a 100k-asset estate resolves in a few seconds).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub db: String,
    /// Mark cookies `Secure`: set when the server is reached over TLS (behind a proxy).
    pub secure_cookies: bool,
    /// Load the example estates and demo users on start.
    pub demo: bool,
}

/// The whole application: API, web UI and static assets, with the security layers.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// [`app`] with `extra` routes inside the same layers (tests add a route that panics).
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
               object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    Router::new()
        .merge(extra)
        .merge(api::routes())
        .merge(api_reads::routes())
        .merge(api_edits::routes())
        .merge(ui::routes())
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::csrf_guard,
        ))
        .with_state(state)
        // axum's own 2 MiB default for body extractors would refuse a large estate before
        // this layer's limit applies; one limit, here, for every route.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(json_too_large))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, csp))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The body limit answers 413 with an empty body; clients get the API's JSON error instead.
async fn json_too_large(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let resp = next.run(req).await;
    if resp.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|v| v != "application/json")
    {
        return ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the request body is larger than {} MiB",
                MAX_BODY_BYTES >> 20
            ),
        )
        .help("split the upload, or keep large files out of the estate")
        .into_response();
    }
    resp
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such page or endpoint")
        .help("the API is under /api/v1; see /api/v1/openapi.json")
}

/// A handler that panics answers 500 and the server keeps serving.
fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    ApiError::internal(format!("handler panicked: {what}")).into_response()
}

/// Opens the store, loads the demo when asked, and serves until Ctrl-C.
pub async fn serve(config: Config) -> Result<(), String> {
    let store = demarc_store::Store::connect(&config.db)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact(&config.db)))?;
    let state = AppState::new(store, config.secure_cookies);
    if config.demo {
        demo::load(&state).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    eprintln!(
        "demarc serve: listening on http://{} (database {})",
        listener.local_addr().map_err(|e| e.to_string())?,
        redact(&config.db)
    );
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| e.to_string())
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
