//! Human tables or `--json`.
use roomcast_chain::view::{RegistryView, RoomView};
use serde::Serialize;

pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serializable")
    );
}

pub fn room(view: &RoomView) {
    let rows = [
        ("Room", view.address.clone()),
        ("Registry", view.registry.clone()),
        ("Session id", view.session_id.clone()),
        ("Title", view.title.clone()),
        ("Status", view.status.to_string()),
        ("Host", view.host.clone()),
        ("Payer", view.payer.clone()),
        ("Ingest URL", view.ingest_url.clone()),
        ("Created at", rfc3339(view.created_at)),
        ("Updated at", rfc3339(view.updated_at)),
        (
            "Live at",
            view.live_at.map(rfc3339).unwrap_or_else(|| "-".into()),
        ),
        (
            "Ended at",
            view.ended_at.map(rfc3339).unwrap_or_else(|| "-".into()),
        ),
    ];
    for (label, value) in rows {
        println!("{label:<12} {value}");
    }
}

/// Unix seconds as RFC 3339 UTC (`2026-11-25T18:25:36Z`); JSON output keeps the numbers.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

pub fn rooms(views: &[RoomView]) {
    println!(
        "{:<44}  {:<32}  {:<7}  TITLE",
        "ROOM", "SESSION ID", "STATUS"
    );
    for v in views {
        println!(
            "{:<44}  {:<32}  {:<7}  {}",
            v.address, v.session_id, v.status, v.title
        );
    }
    println!("{} room(s)", views.len());
}

pub fn registry(view: &RegistryView) {
    println!("{:<14} {}", "Registry", view.address);
    println!("{:<14} {}", "Admin", view.admin);
    println!("{:<14} {}", "Registrar", view.registrar);
    println!("{:<14} {}", "Rooms created", view.rooms_created);
}

/// A write's outcome: what changed and its transaction signature.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TxOutcome {
    pub action: &'static str,
    pub address: String,
    pub signature: String,
}

pub fn outcome(as_json: bool, outcome: TxOutcome) {
    if as_json {
        json(&outcome);
    } else {
        println!("{} {}", outcome.action, outcome.address);
        println!("Signature: {}", outcome.signature);
    }
}
