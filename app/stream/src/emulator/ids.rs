//! Values shaped like Cloudflare's: uids, stream secrets, customer hosts, Cloudflare's ingest
//! URLs and RFC 3339 timestamps.

use rand::RngCore;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub(super) const RTMPS_URL: &str = "rtmps://live.cloudflare.com:443/live/";
pub(super) const SRT_URL: &str = "srt://live.cloudflare.com:778";

pub(super) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub(super) fn now() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

/// 32 lowercase hex characters, the shape of Cloudflare uids.
pub(super) fn new_uid() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Secrets observed in the wild end in `k<uid>` (reference §2).
pub(super) fn secret_for(uid: &str) -> String {
    format!("{}k{uid}", new_uid())
}

pub(super) fn customer_host(code: &str) -> String {
    format!("https://customer-{code}.cloudflarestream.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_shape() {
        let u = new_uid();
        assert_eq!(u.len(), 32);
        assert!(u
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let s = secret_for(&u);
        assert!(s.ends_with(&format!("k{u}")));
    }
}
