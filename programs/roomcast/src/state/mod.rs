pub mod gate;
pub mod registry;
pub mod room;

pub use gate::*;
pub use registry::*;
pub use room::*;
