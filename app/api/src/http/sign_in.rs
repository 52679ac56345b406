//! Sign-In With Solana routes (see `guard::sign_in`).
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use crate::core::error::{AppError, AppResult};
use crate::guard::sign_in::{SessionResponse, SignInRequest};
use crate::state::StateRef;

/// `GET /api/auth/nonce`: a fresh sign-in input for the wallet's `solana:signIn`.
pub async fn nonce(State(state): State<StateRef>) -> AppResult<impl IntoResponse> {
    let input = state.sign_in.issue().await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(input)))
}

/// `POST /api/auth/sign-in`: the wallet's signed sign-in message → a session token.
pub async fn sign_in(
    State(state): State<StateRef>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<impl IntoResponse> {
    let request: SignInRequest = crate::http::extract::parse_json(&headers, &body)?;
    if request.address.is_empty() {
        return Err(AppError::bad_request(
            "invalid_body",
            "address, signedMessage and signature are required",
        ));
    }
    let session: SessionResponse = state.sign_in.sign_in(&request).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(session)))
}

/// `POST /api/auth/sign-out`: ends the session whose token is sent.
pub async fn sign_out(State(state): State<StateRef>, headers: HeaderMap) -> AppResult<StatusCode> {
    let token = crate::guard::sign_in::bearer_token(&headers).ok_or_else(|| {
        AppError::unauthorized(
            "invalid_session",
            "send the session token as Authorization: Bearer rcs_…",
        )
    })?;
    state.sign_in.sign_out(token).await?;
    Ok(StatusCode::NO_CONTENT)
}
