//! The create/update body of a live input: validated the way the API documents it
//! ([`parse_patch`], 400 with the message otherwise) into an [`InputPatch`], and its `recording`
//! object applied to an input.

use serde_json::{json, Map, Value};

use crate::client::{Recording, RecordingMode};

/// Validated create/update body. `None` = field absent (unchanged).
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct InputPatch {
    pub meta: Option<Value>,
    pub recording: Option<Map<String, Value>>,
    pub delete_after: Option<Option<u32>>,
    pub default_creator: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub prefer_low_latency: Option<bool>,
}

pub(super) fn apply_recording(r: &mut Recording, m: &Map<String, Value>) {
    if let Some(v) = m.get("mode").and_then(Value::as_str) {
        r.mode = if v == "automatic" {
            RecordingMode::Automatic
        } else {
            RecordingMode::Off
        };
    }
    if let Some(v) = m.get("timeoutSeconds").and_then(Value::as_u64) {
        r.timeout_seconds = Some(v);
    }
    if let Some(v) = m.get("requireSignedURLs").and_then(Value::as_bool) {
        r.require_signed_urls = Some(v);
    }
    if let Some(v) = m.get("allowedOrigins") {
        r.allowed_origins = v.as_array().map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        });
    }
    if let Some(v) = m.get("hideLiveViewerCount").and_then(Value::as_bool) {
        r.hide_live_viewer_count = Some(v);
    }
}

/// Validates a create/update body the way the API documents it.
pub(super) fn parse_patch(body: &[u8]) -> Result<InputPatch, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(InputPatch::default());
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("request body is not valid JSON: {e}"))?;
    let Value::Object(o) = v else {
        return Err("request body must be a JSON object".into());
    };
    let mut p = InputPatch::default();
    if let Some(m) = o.get("meta") {
        p.meta = Some(match m {
            Value::Object(_) => m.clone(),
            Value::Null => json!({}),
            _ => return Err("meta must be an object".into()),
        });
    }
    if let Some(r) = o.get("recording") {
        let Value::Object(r) = r else {
            return Err("recording must be an object".into());
        };
        if let Some(m) = r.get("mode") {
            if !matches!(m.as_str(), Some("off" | "automatic")) {
                return Err("recording.mode must be \"off\" or \"automatic\"".into());
            }
        }
        if let Some(t) = r.get("timeoutSeconds") {
            if t.as_u64().is_none() {
                return Err("recording.timeoutSeconds must be a non-negative integer".into());
            }
        }
        for k in ["requireSignedURLs", "hideLiveViewerCount"] {
            if r.get(k).is_some_and(|b| !b.is_boolean()) {
                return Err(format!("recording.{k} must be a boolean"));
            }
        }
        if let Some(a) = r.get("allowedOrigins") {
            let ok = a.is_null() || a.as_array().is_some_and(|a| a.iter().all(Value::is_string));
            if !ok {
                return Err("recording.allowedOrigins must be an array of strings".into());
            }
        }
        p.recording = Some(r.clone());
    }
    if let Some(d) = o.get("deleteRecordingAfterDays") {
        p.delete_after = Some(match d {
            Value::Null => None,
            _ => match d.as_u64() {
                Some(n @ 30..=1096) => Some(n as u32),
                _ => {
                    return Err(
                        "deleteRecordingAfterDays must be an integer between 30 and 1096".into(),
                    )
                }
            },
        });
    }
    if let Some(c) = o.get("defaultCreator") {
        p.default_creator = Some(match c {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => return Err("defaultCreator must be a string".into()),
        });
    }
    for (k, slot) in [
        ("enabled", &mut p.enabled),
        ("preferLowLatency", &mut p.prefer_low_latency),
    ] {
        if let Some(b) = o.get(k) {
            *slot = Some(
                b.as_bool()
                    .ok_or_else(|| format!("{k} must be a boolean"))?,
            );
        }
    }
    Ok(p)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_validation_messages() {
        let e = |b: &str| parse_patch(b.as_bytes()).unwrap_err();
        assert_eq!(
            e(r#"{"deleteRecordingAfterDays": 29}"#),
            "deleteRecordingAfterDays must be an integer between 30 and 1096"
        );
        assert_eq!(
            e(r#"{"deleteRecordingAfterDays": 1097}"#),
            "deleteRecordingAfterDays must be an integer between 30 and 1096"
        );
        assert_eq!(
            e(r#"{"recording": {"mode": "always"}}"#),
            "recording.mode must be \"off\" or \"automatic\""
        );
        assert_eq!(e(r#"{"meta": 3}"#), "meta must be an object");
        assert_eq!(e(r#"{"enabled": "yes"}"#), "enabled must be a boolean");
        assert_eq!(e("[1]"), "request body must be a JSON object");
        assert!(e("{").starts_with("request body is not valid JSON"));
        let ok = parse_patch(br#"{"deleteRecordingAfterDays": null, "enabled": false}"#).unwrap();
        assert_eq!(ok.delete_after, Some(None));
        assert_eq!(ok.enabled, Some(false));
        assert_eq!(parse_patch(b"").unwrap(), InputPatch::default());
    }
}
