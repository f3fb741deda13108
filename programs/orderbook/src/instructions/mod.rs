//! One module per instruction: its handler, and its accounts struct unless shared.

pub mod cancel_all_orders;
pub mod cancel_order;
pub mod cancel_order_by_client_id;
pub mod close_open_orders;
pub mod consume_events;
pub mod create_market;
pub mod create_open_orders;
pub mod market_authority;
pub mod place_order;
pub mod reduce_order;

pub use close_open_orders::*;
pub use create_market::*;
pub use create_open_orders::*;
pub use market_authority::*;
