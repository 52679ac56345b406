//! Gated rooms' playback grant ([`grant`]; public reads show their gate and no URLs: `rooms::read::livestream_json`, `rooms::listing`): the viewer's wallet (signed request or sign-in session) is
//! checked against the room's gate, read fresh from the chain, with one
//! `getTokenAccountsByOwner(owner, {mint}, jsonParsed)` (unfrozen balances of either token program
//! summed); a holder gets HLS/DASH/iframe/WHEP URLs with a token signed here (RS256, the deployment's
//! Stream signing key, `guard::playback`) in place of the uid, valid for the configured TTL
//! (≤ 30 min). The host and the operator may always play. Rate-limited per wallet and address.
use std::net::IpAddr;

use roomcast_chain::{Pubkey, RoomStatus};
use roomcast_stream::client::PlaybackUrls;

use crate::core::error::{AppError, AppResult};
use crate::core::identity::Principal;
use crate::guard::playback::PlaybackSigner;
use crate::rooms::read::load_room;
use crate::rooms::responses::{GateView, PlaybackGrant, SignedPlayback};
use crate::state::AppState;

/// `amount` raw units of a mint with `decimals`, for people (`1.5`, `0.000005`, `3`).
pub fn ui_amount(amount: u64, decimals: u8) -> String {
    if decimals == 0 {
        return amount.to_string();
    }
    let digits = format!("{amount:0>width$}", width = usize::from(decimals) + 1);
    let (whole, frac) = digits.split_at(digits.len() - usize::from(decimals));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}

/// Playback for `principal` in the room at `address`.
pub async fn grant(
    state: &AppState,
    principal: &Principal,
    address: &Pubkey,
    ip: IpAddr,
) -> AppResult<PlaybackGrant> {
    let wallet = match principal {
        Principal::Host(wallet) => Some(*wallet),
        Principal::Operator => None,
    };
    if let Some(wallet) = &wallet {
        state.grant_limits.check(&wallet.to_string(), ip).await?;
    }
    let room = load_room(state, address, false).await?;
    if room.status == RoomStatus::Ended {
        return Err(AppError::Gone(
            "this room has ended and can no longer be watched".into(),
        ));
    }
    let answer = |playback: PlaybackUrls, expires_at, gate, held| PlaybackGrant {
        room: address.to_string(),
        session_id_legacy: room.session_id.clone(),
        playback: SignedPlayback {
            hls: playback.hls,
            dash: playback.dash,
            iframe: playback.iframe,
            webrtc: playback.webrtc,
        },
        expires_at,
        gate,
        held,
    };
    let gate = state
        .chain
        .gate(address)
        .await
        .map_err(AppError::from_chain)?;
    let Some(gate) = gate else {
        return Ok(answer(
            state.stream.playback_urls(&room.session_id),
            None,
            None,
            None,
        ));
    };
    let held = match wallet {
        Some(wallet) if wallet != room.host => {
            let holdings = roomcast_chain::token::holdings(state.chain.rpc(), &wallet, &gate.mint)
                .await
                .map_err(AppError::from_chain)?;
            if holdings.usable < gate.min_amount {
                return Err(AppError::Denied {
                    code: "not_a_holder",
                    message: format!(
                        "this room is for holders of at least {} of {} ({} raw units); this wallet holds {} ({} raw units{})",
                        ui_amount(gate.min_amount, gate.decimals),
                        gate.mint,
                        gate.min_amount,
                        ui_amount(holdings.usable, gate.decimals),
                        holdings.usable,
                        if holdings.frozen > 0 {
                            format!(", {} more frozen and not counted", holdings.frozen)
                        } else {
                            String::new()
                        }
                    ),
                });
            }
            Some(holdings.usable.to_string())
        }
        _ => None,
    };
    let key = state.playback_signer.key(&state.stream).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ttl = i64::try_from(state.settings.playback_token_ttl.as_secs()).unwrap_or(600);
    let expires_at = now + ttl;
    let token = PlaybackSigner::sign(key, &room.session_id, now, expires_at);
    Ok(answer(
        state.stream.playback_urls(&token),
        Some(expires_at),
        Some(GateView::new(&gate)),
        held,
    ))
}

#[cfg(test)]
mod tests {
    use super::ui_amount;

    #[test]
    fn amounts_for_people() {
        assert_eq!(ui_amount(1_500_000, 6), "1.5");
        assert_eq!(ui_amount(5, 6), "0.000005");
        assert_eq!(ui_amount(3, 0), "3");
        assert_eq!(ui_amount(2_000_000, 6), "2");
    }
}
