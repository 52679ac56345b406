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
        ("Created at", view.created_at.to_string()),
        ("Updated at", view.updated_at.to_string()),
        (
            "Live at",
            view.live_at
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "Ended at",
            view.ended_at
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
        ),
    ];
    for (label, value) in rows {
        println!("{label:<12} {value}");
    }
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
