//! Query strings, parsed as axum's `Query` does (`serde_urlencoded`) but refused with the JSON
//! error shape: 400 `invalid_query` (a repeated parameter, a value of the wrong type).
use serde::de::DeserializeOwned;

use crate::core::error::AppError;

pub fn parse<T: DeserializeOwned>(raw: &str) -> Result<T, AppError> {
    serde_urlencoded::from_str(raw)
        .map_err(|e| AppError::bad_request("invalid_query", format!("invalid query: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Q {
        room: Option<String>,
        limit: Option<u8>,
    }

    #[test]
    fn parses_like_axum_and_refuses_with_invalid_query() {
        assert_eq!(
            parse::<Q>("room=a%20b&other=1").unwrap(),
            Q {
                room: Some("a b".into()),
                limit: None
            }
        );
        let repeated = parse::<Q>("room=a&room=b").unwrap_err();
        assert_eq!(repeated.code(), "invalid_query");
        assert_eq!(
            repeated.to_string(),
            "invalid query: duplicate field `room`"
        );
        assert_eq!(parse::<Q>("limit=x").unwrap_err().code(), "invalid_query");
    }
}
