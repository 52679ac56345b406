use axum::extract::State;
use axum::Json;

use crate::core::error::{AppError, AppResult};
use crate::guard::auth::Principal;
use crate::http::extract::{Authed, NoBody};
use crate::jobs::reconciler::{reconcile_once, ReconcileReport};
use crate::state::StateRef;

/// `POST /api/admin/reconcile` (operator only): runs one reconciler pass now and reports it.
pub async fn reconcile(
    State(state): State<StateRef>,
    Authed { principal, .. }: Authed<NoBody>,
) -> AppResult<Json<ReconcileReport>> {
    if principal != Principal::Operator {
        return Err(AppError::Forbidden(
            "only the operator may run the reconciler".into(),
        ));
    }
    Ok(Json(
        reconcile_once(&state, &state.settings.reconciler).await,
    ))
}
