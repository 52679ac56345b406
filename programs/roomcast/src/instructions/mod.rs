#![allow(ambiguous_glob_reexports)] // every instruction module exports its own `handler`
pub mod close_room;
pub mod create_room;
pub mod end_room;
pub mod initialize_registry;
pub mod remove_gate;
pub mod set_gate;
pub mod set_live;
pub mod set_registrar;
pub mod update_gate;
pub mod update_room;

pub use close_room::*;
pub use create_room::*;
pub use end_room::*;
pub use initialize_registry::*;
pub use remove_gate::*;
pub use set_gate::*;
pub use set_live::*;
pub use set_registrar::*;
pub use update_gate::*;
pub use update_room::*;
