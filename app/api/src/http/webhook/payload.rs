//! What Cloudflare's live-input notification bodies look like, as far as the API reads them (one
//! small module, so one definition shared with the emulator can replace it).
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Notification {
    pub data: Option<NotificationData>,
}

#[derive(Deserialize)]
pub struct NotificationData {
    pub input_id: Option<String>,
    pub event_type: Option<String>,
    pub updated_at: Option<String>,
    pub live_input_errored: Option<Errored>,
}

#[derive(Deserialize)]
pub struct Errored {
    pub error: ErrorBody,
}

#[derive(Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}
