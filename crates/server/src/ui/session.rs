//! Sign-in and sign-out forms.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Layout, UiResult, Viewer, render, safe_next};
use crate::auth::{self, principal_of};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> UiResult<Response> {
    let next = safe_next(q.next.as_deref().unwrap_or("/")).to_string();
    // Someone already signed in goes where they were going.
    if principal_of(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(render(&LoginPage {
        l: Layout::anonymous("Sign in"),
        next,
        email: String::new(),
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(f): Form<LoginForm>,
) -> UiResult<Response> {
    let next = safe_next(&f.next).to_string();
    match crate::api::check_login(&state, peer, f.email.trim(), &f.password).await {
        Ok((token, _csrf, _user)) => {
            let mut resp = Redirect::to(&next).into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&auth::session_cookie(&token, state.secure_cookies))
                    .map_err(ApiError::internal)?,
            );
            Ok(resp)
        }
        Err(e)
            if e.status == StatusCode::UNAUTHORIZED
                || e.status == StatusCode::TOO_MANY_REQUESTS =>
        {
            // One message for an unknown user, a wrong password and a locked account, so the
            // form never tells whether an address has an account.
            let error = if e.status == StatusCode::TOO_MANY_REQUESTS {
                e.message
            } else {
                "Sign-in failed: the email or the password is wrong, or the account is locked \
                 for a while after repeated failures."
                    .to_string()
            };
            let page = LoginPage {
                l: Layout::anonymous("Sign in"),
                next,
                email: f.email,
                error: Some(error),
            };
            Ok((e.status, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(State(state): State<AppState>, Viewer(p): Viewer) -> UiResult<Response> {
    if let auth::Via::Session { token, .. } = &p.via {
        state.store.delete_session(token).await?;
        state.lookups.forget_principal(&format!("s:{token}"));
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::clear_cookie(state.secure_cookies))
            .map_err(ApiError::internal)?,
    );
    Ok(resp)
}
