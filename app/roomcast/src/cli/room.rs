use std::str::FromStr;

use anyhow::{anyhow, bail};
use clap::Subcommand;
use roomcast_chain::view::{parse_status, RoomView};
use roomcast_chain::{is_session_id, NewRoom, Pubkey, RoomFilter, RoomRecord, RoomcastChain};

use super::output::{self, TxOutcome};
use super::ChainTarget;

#[derive(Subcommand, Debug)]
pub enum RoomCommand {
    /// Register a room (signed by the registry's registrar).
    Create {
        /// Cloudflare live-input uid (32 lowercase hex).
        #[arg(long)]
        session_id: String,
        #[arg(long)]
        title: String,
        /// The streamer's wallet.
        #[arg(long)]
        host: Pubkey,
        #[arg(long, default_value = "rtmps://live.cloudflare.com:443/live/")]
        ingest_url: String,
    },
    /// Show a room, by address or session id.
    Show { room: String },
    /// List rooms (of --registry/--admin if given, else of every registry).
    List {
        /// created, live or ended.
        #[arg(long, value_parser = ["created", "live", "ended"])]
        status: Option<String>,
        #[arg(long)]
        host: Option<Pubkey>,
    },
    /// Change a room's title (host or registrar).
    Update {
        room: String,
        #[arg(long)]
        title: String,
    },
    /// End a room for good (host or registrar).
    End { room: String },
    /// Close an ended room and return its rent to the payer.
    Close { room: String },
    /// Tip a room's host: the keypair pays AMOUNT SOL (up to 9 decimals) straight to the host, with
    /// the room as reference and the memo `roomcast tip <room>` (as the web app's Tip button).
    Tip { room: String, amount: String },
}

pub async fn run(target: &ChainTarget, as_json: bool, cmd: RoomCommand) -> anyhow::Result<()> {
    match cmd {
        RoomCommand::Create {
            session_id,
            title,
            host,
            ingest_url,
        } => {
            let client = target.signing_client()?;
            let registry = target.registry(&client)?;
            let (room, sig) = client
                .create_room(
                    registry,
                    NewRoom {
                        session_id,
                        ingest_url,
                        title,
                        host,
                    },
                )
                .await?;
            output::outcome(
                as_json,
                TxOutcome {
                    action: "Created room",
                    address: room.to_string(),
                    signature: sig.to_string(),
                },
            );
        }
        RoomCommand::Show { room } => {
            let client = target.reading_client()?;
            let record = resolve(target, &client, &room).await?;
            let view = RoomView::from(&record);
            let gate = client.gate(&record.address).await?.map(|g| GateShown {
                mint: g.mint.to_string(),
                min_amount: g.min_amount.to_string(),
                decimals: g.decimals,
                token_program: g.token_program.to_string(),
            });
            if as_json {
                output::json(&RoomShown { room: view, gate });
            } else {
                output::room(&view);
                match gate {
                    Some(g) => println!(
                        "{:<12} hold >= {} raw units of {} ({} decimals)",
                        "Gate", g.min_amount, g.mint, g.decimals
                    ),
                    None => println!("{:<12} none (public)", "Gate"),
                }
            }
        }
        RoomCommand::List { status, host } => {
            let client = target.reading_client()?;
            let filter = RoomFilter {
                registry: target.explicit_registry(&client),
                status: status.as_deref().and_then(parse_status),
                host,
            };
            let views: Vec<RoomView> = client
                .rooms(&filter)
                .await?
                .iter()
                .map(RoomView::from)
                .collect();
            if as_json {
                output::json(&views);
            } else {
                output::rooms(&views);
            }
        }
        RoomCommand::Update { room, title } => {
            let client = target.signing_client()?;
            let record = resolve(target, &client, &room).await?;
            let sig = client
                .update_room(
                    record.room.registry,
                    record.address,
                    record.room.payer,
                    title,
                )
                .await?;
            output::outcome(
                as_json,
                TxOutcome {
                    action: "Updated room",
                    address: record.address.to_string(),
                    signature: sig.to_string(),
                },
            );
        }
        RoomCommand::End { room } => {
            let client = target.signing_client()?;
            let record = resolve(target, &client, &room).await?;
            let sig = client
                .end_room(record.room.registry, record.address)
                .await?;
            output::outcome(
                as_json,
                TxOutcome {
                    action: "Ended room",
                    address: record.address.to_string(),
                    signature: sig.to_string(),
                },
            );
        }
        RoomCommand::Tip { room, amount } => {
            let lamports = roomcast_chain::tips::sol_to_lamports(amount.trim())
                .filter(|l| *l > 0)
                .ok_or_else(|| anyhow!("amount must be a positive number of SOL (at most 9 decimals), not {amount:?}"))?;
            let client = target.signing_client()?;
            let record = resolve(target, &client, &room).await?;
            if record.room.status == roomcast_chain::RoomStatus::Ended {
                bail!("room {room} has ended");
            }
            if record.room.host == client.signer_pubkey() {
                bail!("the host cannot tip their own room");
            }
            let sig = client
                .tip(&record.address, &record.room.host, lamports)
                .await?;
            output::outcome(
                as_json,
                TxOutcome {
                    action: "Tipped room",
                    address: record.address.to_string(),
                    signature: sig.to_string(),
                },
            );
        }
        RoomCommand::Close { room } => {
            let client = target.signing_client()?;
            let record = resolve(target, &client, &room).await?;
            let sig = client
                .close_room(record.room.registry, record.address)
                .await?;
            output::outcome(
                as_json,
                TxOutcome {
                    action: "Closed room",
                    address: record.address.to_string(),
                    signature: sig.to_string(),
                },
            );
        }
    }
    Ok(())
}

/// A room named by its address or its session id. A session id is looked up in the registry of
/// --registry/--admin when given, otherwise across every registry (ambiguity is an error that names
/// the candidates).
async fn resolve(
    target: &ChainTarget,
    client: &RoomcastChain,
    room: &str,
) -> anyhow::Result<RoomRecord> {
    if is_session_id(room) {
        if let Some(registry) = target.explicit_registry(client) {
            let address = client.room_address(&registry, room);
            return fetch(client, address, room).await;
        }
        let mut found = client.rooms_by_session(room).await?;
        return match found.len() {
            0 => bail!("room {room} not found in any registry"),
            1 => Ok(found.remove(0)),
            n => {
                let registries: Vec<String> =
                    found.iter().map(|r| r.room.registry.to_string()).collect();
                bail!(
                    "session id {room} names rooms in {n} registries ({}): pass --registry ADDRESS",
                    registries.join(", ")
                )
            }
        };
    }
    match Pubkey::from_str(room) {
        Ok(address) => fetch(client, address, room).await,
        Err(_) => bail!("{room:?} is neither a room address nor a session id (32 lowercase hex)"),
    }
}

async fn fetch(client: &RoomcastChain, address: Pubkey, named: &str) -> anyhow::Result<RoomRecord> {
    let room = client
        .room(&address)
        .await?
        .ok_or_else(|| anyhow!("room {named} not found"))?;
    Ok(RoomRecord { address, room })
}

/// `room show --json`: the room and, for a gated room only, its token gate (an ungated room's
/// output is unchanged).
#[derive(serde::Serialize)]
struct RoomShown {
    #[serde(flatten)]
    room: RoomView,
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<GateShown>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct GateShown {
    mint: String,
    min_amount: String,
    decimals: u8,
    token_program: String,
}
