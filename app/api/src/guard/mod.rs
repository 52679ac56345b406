//! Who may do what, and how much: request authentication (`auth`: host signatures, operator key),
//! Sign-In With Solana sessions (`sign_in`), failed-authentication throttling (`throttle`), create
//! rate limits (`limits`), load shedding (`load`), the registrar's balance floor (`funds`) and the
//! client address per-IP limits key on (`client_ip`). Uses `store` (ports and adapters) and `core`.
pub mod auth;
pub mod client_ip;
pub mod funds;
pub mod limits;
pub mod load;
pub mod playback;
pub mod sign_in;
pub mod streams;
pub mod throttle;
