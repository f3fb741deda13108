//! One file per instruction: its accounts struct and handler.

pub mod accrue_interest;
pub mod admin;
pub mod close_margin_account;
pub mod compute_health;
pub mod create_exchange;
pub mod create_margin_account;
pub mod create_perp_market;
pub mod deposit;
pub mod edit_bank;
pub mod edit_perp_market;
pub mod register_bank;
pub mod set_delegate;
pub mod set_token_lending;
pub mod sweep_reserve;
pub mod withdraw;

pub use accrue_interest::*;
pub use admin::*;
pub use close_margin_account::*;
pub use compute_health::*;
pub use create_exchange::*;
pub use create_margin_account::*;
pub use create_perp_market::*;
pub use deposit::*;
pub use edit_bank::*;
pub use edit_perp_market::*;
pub use register_bank::*;
pub use set_delegate::*;
pub use set_token_lending::*;
pub use sweep_reserve::*;
pub use withdraw::*;
