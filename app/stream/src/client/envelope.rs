//! Strict parsing of the v4 envelope `{success, errors, messages, result}`.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiMessage, StreamError};

/// The envelope as Cloudflare sends it; `success`, `errors` and `messages`
/// are required (strict), `result` may be null for some endpoints.
#[derive(Debug, Deserialize)]
struct Envelope {
    success: bool,
    errors: Vec<ApiMessage>,
    #[allow(dead_code)]
    messages: Vec<ApiMessage>,
    #[serde(default)]
    result: Option<Value>,
}

fn malformed(status: u16, message: impl Into<String>) -> StreamError {
    StreamError::MalformedResponse {
        status,
        message: message.into(),
    }
}

fn parse_envelope(status: u16, body: &[u8]) -> Result<Envelope, StreamError> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| malformed(status, format!("invalid v4 envelope: {e}")))?;
    if !env.success {
        return Err(StreamError::Unexpected {
            status,
            errors: env.errors,
        });
    }
    Ok(env)
}

/// Parses a 2xx envelope and its non-null `result` as `T`.
pub(crate) fn parse_result<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
) -> Result<T, StreamError> {
    let env = parse_envelope(status, body)?;
    let result = match env.result {
        Some(Value::Null) | None => return Err(malformed(status, "envelope has no result")),
        Some(v) => v,
    };
    serde_json::from_value(result)
        .map_err(|e| malformed(status, format!("unexpected result shape: {e}")))
}

/// A 2xx answer whose content does not matter (DELETE): an empty body or a
/// successful envelope.
pub(crate) fn parse_empty_ok(status: u16, body: &[u8]) -> Result<(), StreamError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    parse_envelope(status, body).map(|_| ())
}

/// Parses a plain (non-envelope) JSON document, e.g. delivery `lifecycle`.
pub(crate) fn parse_plain<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, StreamError> {
    serde_json::from_slice(body).map_err(|e| malformed(status, format!("invalid JSON body: {e}")))
}

/// Best-effort `errors[]` of a failure body; proxies may send HTML.
pub(crate) fn error_items(body: &[u8]) -> Vec<ApiMessage> {
    #[derive(Deserialize)]
    struct ErrBody {
        #[serde(default)]
        errors: Vec<ApiMessage>,
    }
    serde_json::from_slice::<ErrBody>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_is_extracted() {
        let v: Value = parse_result(
            200,
            br#"{"success":true,"errors":[],"messages":[],"result":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(v, serde_json::json!({"a":1}));
    }

    #[test]
    fn missing_envelope_fields_are_malformed() {
        let e = parse_result::<Value>(200, br#"{"result":{"a":1}}"#).unwrap_err();
        assert_eq!(
            e,
            malformed(
                200,
                "invalid v4 envelope: missing field `success` at line 1 column 18"
            )
        );
        let e = parse_result::<Value>(200, br#"{"success":true,"errors":[],"messages":[]}"#)
            .unwrap_err();
        assert_eq!(e, malformed(200, "envelope has no result"));
        let e = parse_result::<Value>(200, b"{\"success\": tru").unwrap_err();
        assert!(matches!(
            e,
            StreamError::MalformedResponse { status: 200, .. }
        ));
    }

    #[test]
    fn success_false_on_2xx_is_an_error() {
        let e = parse_result::<Value>(
            200,
            br#"{"success":false,"errors":[{"code":5,"message":"x"}],"messages":[],"result":null}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            StreamError::Unexpected {
                status: 200,
                errors: vec![ApiMessage::new(5, "x")]
            }
        );
    }

    #[test]
    fn wrong_result_shape_is_malformed() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct T {
            uid: String,
        }
        let e = parse_result::<T>(
            200,
            br#"{"success":true,"errors":[],"messages":[],"result":{"uid":5}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            malformed(
                200,
                "unexpected result shape: invalid type: integer `5`, expected a string"
            )
        );
    }

    #[test]
    fn empty_ok_accepts_empty_or_envelope() {
        assert_eq!(parse_empty_ok(200, b""), Ok(()));
        assert_eq!(
            parse_empty_ok(
                200,
                br#"{"success":true,"errors":[],"messages":[],"result":null}"#
            ),
            Ok(())
        );
        assert!(parse_empty_ok(200, b"nope").is_err());
    }

    #[test]
    fn error_items_are_lenient() {
        assert_eq!(
            error_items(
                br#"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}"#
            ),
            vec![ApiMessage::new(10000, "Authentication error")]
        );
        assert_eq!(error_items(b"<html>bad gateway</html>"), vec![]);
    }
}
