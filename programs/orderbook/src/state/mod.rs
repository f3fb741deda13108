//! Account and argument types of the order book program.

pub mod market;
pub mod orders;

pub use market::*;
pub use orders::*;
