pub mod registry;
pub mod room;

pub use registry::*;
pub use room::*;
