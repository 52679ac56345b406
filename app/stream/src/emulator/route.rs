//! The name of every emulated Cloudflare route: what call counters and fault injection key on
//! (`POST /__emulator/faults {"route": "live_inputs.get", ...}`).

use std::fmt;
use std::str::FromStr;

/// Emulated routes, as named in counters and fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    CreateLiveInput,
    ListLiveInputs,
    GetLiveInput,
    UpdateLiveInput,
    DeleteLiveInput,
    RotateKeys,
    LiveInputVideos,
    ManifestHls,
    ManifestDash,
    Lifecycle,
    Views,
    Iframe,
    Thumbnail,
    CreateSigningKey,
    ListSigningKeys,
    DeleteSigningKey,
}

impl Route {
    pub const ALL: [Route; 16] = [
        Route::CreateLiveInput,
        Route::ListLiveInputs,
        Route::GetLiveInput,
        Route::UpdateLiveInput,
        Route::DeleteLiveInput,
        Route::RotateKeys,
        Route::LiveInputVideos,
        Route::ManifestHls,
        Route::ManifestDash,
        Route::Lifecycle,
        Route::Views,
        Route::Iframe,
        Route::Thumbnail,
        Route::CreateSigningKey,
        Route::ListSigningKeys,
        Route::DeleteSigningKey,
    ];

    /// Stable name used by the HTTP control API.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::CreateLiveInput => "live_inputs.create",
            Route::ListLiveInputs => "live_inputs.list",
            Route::GetLiveInput => "live_inputs.get",
            Route::UpdateLiveInput => "live_inputs.update",
            Route::DeleteLiveInput => "live_inputs.delete",
            Route::RotateKeys => "live_inputs.rotate_keys",
            Route::LiveInputVideos => "live_inputs.videos",
            Route::ManifestHls => "delivery.manifest_hls",
            Route::ManifestDash => "delivery.manifest_dash",
            Route::Lifecycle => "delivery.lifecycle",
            Route::Views => "delivery.views",
            Route::Iframe => "delivery.iframe",
            Route::Thumbnail => "delivery.thumbnail",
            Route::CreateSigningKey => "keys.create",
            Route::ListSigningKeys => "keys.list",
            Route::DeleteSigningKey => "keys.delete",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Route::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Route::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown route {s:?}; expected one of {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_names_round_trip() {
        for r in Route::ALL {
            assert_eq!(r.as_str().parse::<Route>(), Ok(r));
        }
        assert!("nope"
            .parse::<Route>()
            .unwrap_err()
            .starts_with("unknown route \"nope\""));
    }
}
