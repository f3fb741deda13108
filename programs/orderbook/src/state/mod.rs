//! Account and argument types of the order book program.

pub mod market;
pub mod open_orders;
pub mod orders;

pub use market::*;
pub use open_orders::*;
pub use orders::*;
