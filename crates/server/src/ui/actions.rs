//! The UI's changes: accepting a gap and signing off a review. Each is the same edit the API
//! makes ([`crate::edits`]: one line appended to a file the server owns under `server/`), then a
//! new version through [`store_version`].

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use demarc_store::VersionRow;
use serde::Deserialize;

use super::{UiResult, Viewer};
use crate::access::{self, EstateAccess};
use crate::api::{store_version, today};
use crate::edits::{self, Edit};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest free text kept from a form field.
const MAX_TEXT: usize = 4000;

/// A new version of the estate, made from `base`, in which `gap` is accepted as a risk.
pub async fn accept_gap_version(
    state: &AppState,
    a: &EstateAccess,
    base: i64,
    author: &str,
    gap: &str,
    reason: &str,
    expires: NaiveDate,
) -> ApiResult<VersionRow> {
    let files = state.store.version_files(&a.estate.id, base).await?;
    let item = serde_json::json!({
        "gap": gap,
        "reason": reason,
        "approved_by": author,
        "expires": expires.to_string(),
    });
    let files = edits::apply(&files, &Edit::Accept(item), today())?;
    store_version(
        state,
        a,
        base,
        author,
        "accept",
        format!("accept gap {gap} until {expires}: {reason}"),
        files,
    )
    .await
}

/// A new version of the estate, made from `base`, with a review signed off on `date`.
pub async fn sign_off_version(
    state: &AppState,
    a: &EstateAccess,
    base: i64,
    author: &str,
    date: NaiveDate,
    notes: &str,
) -> ApiResult<VersionRow> {
    let files = state.store.version_files(&a.estate.id, base).await?;
    let item = serde_json::json!({ "date": date.to_string(), "by": author, "notes": notes });
    let files = edits::apply(&files, &Edit::Review(item), today())?;
    store_version(
        state,
        a,
        base,
        author,
        "sign-off",
        format!("review signed off: {notes}"),
        files,
    )
    .await
}

/// Every field optional, so a missing one is a clear message rather than a bare rejection.
#[derive(Debug, Default, Deserialize)]
pub struct AcceptForm {
    base: Option<String>,
    gap: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

fn text(v: &Option<String>, what: &str) -> ApiResult<String> {
    let t = v.as_deref().map(str::trim).unwrap_or("");
    if t.is_empty() {
        return Err(ApiError::bad_request(format!("{what} is empty"))
            .help("fill it in and submit the form again"));
    }
    if t.len() > MAX_TEXT {
        return Err(ApiError::bad_request(format!(
            "{what} is longer than {MAX_TEXT} characters"
        )));
    }
    // One line per item in the server's files: newlines become spaces.
    Ok(t.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn base_of(v: &Option<String>) -> ApiResult<i64> {
    let s = v.as_deref().unwrap_or("").trim();
    s.parse().map_err(|_| {
        ApiError::bad_request(format!("the form's base version `{s}` is not a number"))
            .help("reload the page and submit the form again")
    })
}

pub async fn accept(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Form(f): Form<AcceptForm>,
) -> UiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_edit(&p)?;
    let base = base_of(&f.base)?;
    let gap = text(&f.gap, "the gap key")?;
    let reason = text(&f.reason, "the reason")?;
    let expires_s = text(&f.expires, "the expiry date")?;
    let expires = NaiveDate::parse_from_str(&expires_s, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(format!(
            "the expiry date `{expires_s}` is not a date like 2027-03-31"
        ))
    })?;
    if expires <= today() {
        return Err(ApiError::bad_request(format!(
            "the expiry date {expires} is not in the future"
        ))
        .help("an acceptance ends: choose the day the gap should count again")
        .into());
    }
    let v = accept_gap_version(&state, &a, base, &p.user.email, &gap, &reason, expires).await?;
    Ok(Redirect::to(&format!(
        "/orgs/{}/estates/{}/gaps?accepted={}",
        a.org.slug, a.estate.slug, v.number
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct SignOffForm {
    base: Option<String>,
    notes: Option<String>,
}

pub async fn sign_off(
    State(state): State<AppState>,
    Viewer(p): Viewer,
    Path((org, estate)): Path<(String, String)>,
    Form(f): Form<SignOffForm>,
) -> UiResult<Response> {
    let a = access::estate(&state, &p, &org, &estate).await?;
    a.require_sign_off(&p)?;
    let base = base_of(&f.base)?;
    let notes = text(&f.notes, "the review notes")?;
    let v = sign_off_version(&state, &a, base, &p.user.email, today(), &notes).await?;
    Ok(Redirect::to(&format!(
        "/orgs/{}/estates/{}/reviews?signed={}",
        a.org.slug, a.estate.slug, v.number
    ))
    .into_response())
}
