//! What this process knows about rooms right now, kept current without a request paying for it:
//! short-TTL caches of chain and Cloudflare reads (`cache`), closed rooms' tombstones, encoder
//! broadcast state (`broadcasts`), the per-room feeds that Server-Sent Events read (`feeds`), the
//! viewer answers kept serialized (`views`) and whole public answers kept by request (`answers`,
//! versioned by `changes`), discovery's background reads of upstream state (`fills`), the room
//! index discovery reads (`index`, fed by the chain), the `/readyz` check cache (`readiness`), and
//! cross-replica sync (`replicas`: this replica's changes out, the others' in). Uses `guard`,
//! `store` and `core`; never `AppState`.
pub mod answers;
pub mod broadcasts;
pub mod cache;
pub mod changes;
pub mod feeds;
pub mod fills;
pub mod gates;
pub mod index;
pub mod readiness;
pub mod replicas;
pub mod tips;
pub mod tombstones;
pub mod views;
