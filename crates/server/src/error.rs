//! Errors as the API answers them: a status, a stable `code`, a message that names what was
//! wrong and, where there is one, how to fix it. Never a stack trace or a database message
//! that tells an attacker more than the user needs.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use demarc_store::StoreError;
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// The estate's load or validation errors, one per diagnostic, as the CLI prints them.
    pub diagnostics: Vec<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    diagnostics: &'a [String],
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            help: None,
            diagnostics: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> ApiError {
        self.help = Some(help.into());
        self
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in, or send an API token as `Authorization: Bearer dmk_…`",
        )
    }

    pub fn internal(message: impl std::fmt::Display) -> ApiError {
        // The detail goes to the server's log, not to the client.
        eprintln!("error: {message}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; the error is in the server log",
        )
    }

    pub fn body_json(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                help: self.help.as_deref(),
                diagnostics: &self.diagnostics,
            },
        })
        .unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body_json())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict { expected, head } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("the estate is at version {head}, not {expected}"),
            )
            .help("reload the estate, apply your change to the newest version and send it again with that version as the base"),
            StoreError::Exists(what) => {
                ApiError::new(StatusCode::CONFLICT, "exists", format!("{what} already exists"))
            }
            StoreError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            StoreError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            StoreError::Db(e) => ApiError::internal(e),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
