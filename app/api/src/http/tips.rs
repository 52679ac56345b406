//! The tip **Solana Action** (Actions spec 2.4, beside the end-room one in `http::actions`, with the
//! same headers and guards): `GET /api/actions/tip?room=…` describes it with three fixed amounts and
//! one free `amount` (SOL, [`MIN_SOL`]..=[`MAX_SOL`]); `POST /api/actions/tip?room=…&amount=…`
//! `{account}` answers an unsigned transaction, the viewer its fee payer and only signer, moving the
//! lamports to the room's host with the room as a read-only reference key and the memo
//! `roomcast tip <room>` (`roomcast_chain::tip_instructions`); its `links.next` is
//! `POST /api/actions/tip/done?room=…` `{account, signature}`, which answers the completed state
//! once the tip is counted (read back from the chain, `rooms::tips`).
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use roomcast_chain::{Pubkey, RoomStatus, Signature};
use serde::{Deserialize, Serialize};

use crate::core::error::AppError;
use crate::http::actions::{origin, ActionError, ActionMessage, ActionParams, ActionTransaction};
use crate::rooms;
use crate::state::StateRef;

pub use roomcast_chain::tips::LAMPORTS_PER_SOL;
/// Smallest tip, in SOL (`amount`).
pub const MIN_SOL: &str = "0.001";
/// Largest tip, in SOL (`amount`).
pub const MAX_SOL: &str = "100";
/// The fixed amounts offered as buttons, in SOL.
pub const PRESETS: [&str; 3] = ["0.01", "0.05", "0.1"];

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TipQuery {
    /// Room address or session id.
    pub room: Option<String>,
    /// SOL to send (decimal, up to 9 places), 0.001..=100. Required by `POST`.
    pub amount: Option<String>,
}

/// `ActionGetResponse` of the tip Action, with its linked actions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TipActionMetadata {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub icon: String,
    pub title: String,
    pub description: String,
    pub label: String,
    pub disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ActionMessage>,
    pub links: TipLinks,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TipLinks {
    pub actions: Vec<LinkedAction>,
}

/// `LinkedAction`: a button, or a form with `parameters`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LinkedAction {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub href: String,
    pub label: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ActionParameter>,
}

/// `ActionParameter` of type `number`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActionParameter {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'static str,
    pub label: String,
    pub required: bool,
    pub min: f64,
    pub max: f64,
}

/// The tip `TransactionResponse`: the transaction and where the wallet posts its signature.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TipTransaction {
    #[serde(flatten)]
    pub transaction: ActionTransaction,
    pub links: NextLinks,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NextLinks {
    pub next: NextActionLink,
}

/// `PostNextActionLink`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NextActionLink {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub href: String,
}

/// `NextActionPostRequest`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct TipDoneRequest {
    /// The wallet that signed (base58).
    pub account: Option<String>,
    /// The sent transaction's signature (base58).
    pub signature: Option<String>,
}

/// `CompletedAction`: the thank-you state.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TipCompleted {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub icon: String,
    pub title: String,
    pub description: String,
    pub label: String,
    pub tips: crate::live::tips::TipTotals,
}

/// `amount` (decimal SOL) in lamports, exactly: digits, at most 9 after the point, within the range.
pub fn parse_amount(amount: Option<&str>) -> Result<u64, AppError> {
    let invalid = || {
        AppError::bad_request(
            "invalid_amount",
            format!("amount must be a number of SOL from {MIN_SOL} to {MAX_SOL}"),
        )
    };
    let text =
        amount.ok_or_else(|| AppError::bad_request("invalid_amount", "amount is required"))?;
    let lamports = sol_to_lamports(text.trim()).ok_or_else(invalid)?;
    let min = sol_to_lamports(MIN_SOL).expect("valid");
    let max = sol_to_lamports(MAX_SOL).expect("valid");
    if !(min..=max).contains(&lamports) {
        return Err(invalid());
    }
    Ok(lamports)
}

use roomcast_chain::tips::{lamports_to_sol as sol, sol_to_lamports};

/// `GET /api/actions/tip?room=…`.
pub async fn metadata(
    State(state): State<StateRef>,
    ActionParams(q): ActionParams<TipQuery>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
) -> Result<Json<TipActionMetadata>, ActionError> {
    let address = room_param(&state, &q)?;
    let room = rooms::load_room(&state, &address, false).await?;
    let ended = room.status == RoomStatus::Ended;
    let href = |amount: &str| format!("/api/actions/tip?room={address}&amount={amount}");
    let mut actions: Vec<LinkedAction> = PRESETS
        .iter()
        .map(|amount| LinkedAction {
            kind: "transaction",
            href: href(amount),
            label: format!("{amount} SOL"),
            parameters: Vec::new(),
        })
        .collect();
    actions.push(LinkedAction {
        kind: "transaction",
        href: href("{amount}"),
        label: "Tip".into(),
        parameters: vec![ActionParameter {
            kind: "number",
            name: "amount",
            label: format!("SOL ({MIN_SOL}–{MAX_SOL})"),
            required: true,
            min: MIN_SOL.parse().expect("number"),
            max: MAX_SOL.parse().expect("number"),
        }],
    });
    Ok(Json(TipActionMetadata {
        kind: "action",
        icon: format!("{}/assets/icon.svg", origin(&state, &headers, &extensions)),
        title: format!("Tip “{}”", room.title),
        description: format!(
            "Sends SOL from your wallet straight to the host of this roomcast livestream ({}). Everyone watching sees the tip.",
            room.host
        ),
        label: "Tip".into(),
        disabled: ended,
        error: ended.then(|| ActionMessage {
            message: "this room has ended".into(),
        }),
        links: TipLinks { actions },
    }))
}

fn room_param(state: &StateRef, q: &TipQuery) -> Result<Pubkey, AppError> {
    let id = q
        .room
        .as_deref()
        .ok_or_else(|| AppError::bad_request("invalid_query", "room is required"))?;
    rooms::room_address(state, id)
}

fn account_param(account: Option<&str>) -> Result<Pubkey, AppError> {
    let account =
        account.ok_or_else(|| AppError::bad_request("invalid_body", "account is required"))?;
    Pubkey::from_str(account).map_err(|_| {
        AppError::bad_request("invalid_account", "account must be a base58 wallet address")
    })
}

/// `POST /api/actions/tip?room=…&amount=…` `{account}`: the unsigned tip transaction.
pub async fn transaction(
    State(state): State<StateRef>,
    ActionParams(q): ActionParams<TipQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TipTransaction>, ActionError> {
    let address = room_param(&state, &q)?;
    let lamports = parse_amount(q.amount.as_deref())?;
    let body: crate::http::actions::ActionPostRequest =
        crate::http::extract::parse_json(&headers, &body)?;
    let account = account_param(body.account.as_deref())?;
    let room = rooms::load_room(&state, &address, false).await?;
    if room.status == RoomStatus::Ended {
        return Err(AppError::Gone("this room has ended".into()).into());
    }
    if room.host == account {
        return Err(AppError::Forbidden("the host cannot tip their own room".into()).into());
    }
    let instructions = roomcast_chain::tip_instructions(&account, &room.host, &address, lamports);
    let blockhash = state
        .chain
        .rpc()
        .get_latest_blockhash()
        .await
        .map_err(|e| {
            AppError::from_chain(roomcast_chain::ChainError::Unreachable(e.to_string()))
        })?;
    let message =
        solana_message::Message::new_with_blockhash(&instructions, Some(&account), &blockhash);
    let wire = bincode::serialize(&solana_transaction::Transaction::new_unsigned(message))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(TipTransaction {
        transaction: ActionTransaction {
            kind: "transaction",
            transaction: B64.encode(wire),
            message: format!(
                "Tips {} SOL to the host of “{}”.",
                sol(lamports),
                room.title
            ),
        },
        links: NextLinks {
            next: NextActionLink {
                kind: "post",
                href: format!("/api/actions/tip/done?room={address}"),
            },
        },
    }))
}

/// `POST /api/actions/tip/done?room=…` `{account, signature}`: the completed state once the tip is
/// on-chain and counted; `404 tip_not_found` while it is not (or when it is no tip to this room).
pub async fn done(
    State(state): State<StateRef>,
    ActionParams(q): ActionParams<TipQuery>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Result<Json<TipCompleted>, ActionError> {
    let address = room_param(&state, &q)?;
    let body: TipDoneRequest = crate::http::extract::parse_json(&headers, &body)?;
    account_param(body.account.as_deref())?;
    let signature = body
        .signature
        .as_deref()
        .ok_or_else(|| AppError::bad_request("invalid_body", "signature is required"))?;
    let signature = Signature::from_str(signature).map_err(|_| {
        AppError::bad_request(
            "invalid_signature",
            "signature must be a base58 transaction signature",
        )
    })?;
    let room = rooms::load_room(&state, &address, false).await?;
    let totals = rooms::tips::totals(&state, &address, &room.host, rooms::tips::FRESH_FOR).await;
    let tip = rooms::tips::counted(&state, &address, &signature).await;
    let Some(lamports) = tip else {
        return Err(AppError::NotFound(
            "no tip to this room with that signature has landed (yet)".into(),
        )
        .into());
    };
    Ok(Json(TipCompleted {
        kind: "completed",
        icon: format!("{}/assets/icon.svg", origin(&state, &headers, &extensions)),
        title: "Thank you!".into(),
        description: format!(
            "Your tip of {} SOL reached the host of “{}”. The room has received {} tips ({} SOL).",
            sol(lamports),
            room.title,
            totals.count,
            sol(totals.lamports)
        ),
        label: "Tipped".into(),
        tips: totals,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_and_bounded() {
        assert_eq!(parse_amount(Some("0.01")).unwrap(), 10_000_000);
        assert_eq!(parse_amount(Some("1.5")).unwrap(), 1_500_000_000);
        assert_eq!(parse_amount(Some("100")).unwrap(), 100 * LAMPORTS_PER_SOL);
        assert_eq!(parse_amount(Some("0.001")).unwrap(), 1_000_000);
        for bad in [
            "0.0009",
            "100.000000001",
            "abc",
            "",
            "1e3",
            "-1",
            "0.0000000001",
            "NaN",
            ".",
        ] {
            assert_eq!(
                parse_amount(Some(bad)).unwrap_err().code(),
                "invalid_amount",
                "{bad}"
            );
        }
        assert_eq!(parse_amount(None).unwrap_err().code(), "invalid_amount");
        assert_eq!(sol(10_000_000), "0.01");
        assert_eq!(sol(2 * LAMPORTS_PER_SOL), "2");
    }
}
