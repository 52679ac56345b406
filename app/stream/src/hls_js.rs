//! hls.js, vendored once (`vendor/hls.js/`, pinned by `scripts/vendor.sh`, with its licence) and
//! embedded once: the emulator's player page and the web app's watch page serve these same bytes,
//! so both work offline.

/// The pinned version; the path each server serves it under names it, so it can be cached for good.
pub const VERSION: &str = "1.7.4";
/// `hls.min.js` of [`VERSION`]; a unit test checks the bytes against `vendor/SHA256SUMS`.
pub const HLS_JS: &[u8] = include_bytes!("../../../vendor/hls.js/1.7.4/hls.min.js");

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn embedded_hls_js_is_the_vendored_file() {
        let sums = include_str!("../../../vendor/SHA256SUMS");
        let name = format!("hls.js/{VERSION}/hls.min.js");
        let line = sums
            .lines()
            .find(|l| l.ends_with(&format!("  {name}")))
            .expect("hls.min.js listed in vendor/SHA256SUMS");
        assert_eq!(line[..64], hex::encode(Sha256::digest(HLS_JS)));
    }
}
