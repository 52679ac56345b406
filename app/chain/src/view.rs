//! JSON views of on-chain accounts, shared by the CLI (`--json`) and the HTTP API.
use anchor_lang::prelude::Pubkey;
use serde::Serialize;

use roomcast::state::{Registry, RoomStatus};

use crate::client::RoomRecord;

/// A room as clients see it (camelCase, addresses in base58, times in unix seconds).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RoomView {
    pub address: String,
    pub registry: String,
    pub session_id: String,
    pub host: String,
    pub payer: String,
    pub title: String,
    pub ingest_url: String,
    pub status: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
    pub live_at: Option<i64>,
    pub ended_at: Option<i64>,
}

impl From<&RoomRecord> for RoomView {
    fn from(r: &RoomRecord) -> Self {
        let room = &r.room;
        RoomView {
            address: r.address.to_string(),
            registry: room.registry.to_string(),
            session_id: room.session_id.clone(),
            host: room.host.to_string(),
            payer: room.payer.to_string(),
            title: room.title.clone(),
            ingest_url: room.ingest_url.clone(),
            status: status_name(room.status),
            created_at: room.created_at,
            updated_at: room.updated_at,
            live_at: room.live_at,
            ended_at: room.ended_at,
        }
    }
}

/// A registry as clients see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RegistryView {
    pub address: String,
    pub admin: String,
    pub registrar: String,
    pub rooms_created: u64,
}

impl RegistryView {
    pub fn new(address: &Pubkey, registry: &Registry) -> Self {
        RegistryView {
            address: address.to_string(),
            admin: registry.admin.to_string(),
            registrar: registry.registrar.to_string(),
            rooms_created: registry.rooms_created,
        }
    }
}

/// Lowercase status names used in URLs, flags and JSON: `created`, `live`, `ended`.
pub fn status_name(status: RoomStatus) -> &'static str {
    match status {
        RoomStatus::Created => "created",
        RoomStatus::Live => "live",
        RoomStatus::Ended => "ended",
    }
}

/// Parses a status name as [`status_name`] prints it.
pub fn parse_status(name: &str) -> Option<RoomStatus> {
    match name {
        "created" => Some(RoomStatus::Created),
        "live" => Some(RoomStatus::Live),
        "ended" => Some(RoomStatus::Ended),
        _ => None,
    }
}
