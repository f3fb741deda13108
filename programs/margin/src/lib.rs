//! Carry margin program: exchange config, banks (the lending vaults), margin accounts,
//! oracles, health, and perp markets (whose books this program owns and matches by linking
//! `carry-book`). This file lists the instructions only; each lives in
//! `instructions/<name>.rs` with its accounts struct. See `programs/margin/README.md`.

// Anchor's macros expand to cfgs and conversions this lint set does not know about.
#![allow(unexpected_cfgs)]
#![allow(clippy::result_large_err)]
// Anchor 0.31.1's generated IDL-account code calls `AccountInfo::realloc`, deprecated in
// solana-program 2.3; an item-level allow does not reach it.
#![allow(deprecated)]

use anchor_lang::prelude::*;

pub mod error;
pub mod events;
pub mod health;
pub mod instructions;
pub mod oracle;
pub mod perp;
pub mod state;
pub mod vault;

pub use instructions::*;
pub use state::{
    BankParams, OracleConfig, OracleKind, PerpLeverageTier, PerpMarketParams, PerpMarketSetup,
};

declare_id!("5JEgHZmX3zRUKHwi2oBAZX8vWLiVMxgKhnsCm3eNiqBa");

/// Instructions of the margin program.
#[program]
pub mod carry_margin {
    use super::*;

    /// Create an exchange (creator = admin) and its insurance vault.
    pub fn create_exchange(ctx: Context<CreateExchange>, exchange_num: u32) -> Result<()> {
        instructions::create_exchange::handle_create_exchange(ctx, exchange_num)
    }

    /// Admin: turn the pause switch on or off.
    pub fn set_paused(ctx: Context<ExchangeAdmin>, paused: bool) -> Result<()> {
        instructions::admin::handle_set_paused(ctx, paused)
    }

    /// Admin: set the liquidation buffer, ppm (<= 1_000_000): a liquidation stops once
    /// `maint * (1 - b) + init * b >= 0`.
    pub fn set_liquidation_buffer(ctx: Context<ExchangeAdmin>, buffer_ppm: u32) -> Result<()> {
        instructions::admin::handle_set_liquidation_buffer(ctx, buffer_ppm)
    }

    /// Admin: propose a new admin (default key withdraws the proposal); the role moves only
    /// when the proposed key signs `accept_admin`.
    pub fn propose_admin(ctx: Context<ExchangeAdmin>, new_admin: Pubkey) -> Result<()> {
        instructions::admin::handle_propose_admin(ctx, new_admin)
    }

    /// Proposed admin: take the admin role.
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        instructions::admin::handle_accept_admin(ctx)
    }

    /// Admin: register a collateral token (bank + vault) with its Pyth oracle (v2 price
    /// account or pull `PriceUpdateV2`, per `oracle`).
    pub fn register_bank(
        ctx: Context<RegisterBank>,
        params: BankParams,
        oracle: OracleConfig,
    ) -> Result<()> {
        instructions::register_bank::handle_register_bank(ctx, params, oracle)
    }

    /// Admin: change a bank's parameters.
    pub fn edit_bank(ctx: Context<EditBank>, params: BankParams) -> Result<()> {
        instructions::edit_bank::handle_edit_bank(ctx, params)
    }

    /// Admin: create perp market `market_index` (the exchange's next index) on a book account
    /// the admin allocated beforehand (owner = this program, zeroed,
    /// `PerpBook::space(setup.order_capacity, setup.event_capacity)` bytes) and that signs;
    /// the oracle (per `oracle`) seeds the stable price.
    pub fn create_perp_market(
        ctx: Context<CreatePerpMarket>,
        market_index: u16,
        setup: PerpMarketSetup,
        params: PerpMarketParams,
        oracle: OracleConfig,
    ) -> Result<()> {
        instructions::create_perp_market::handle_create_perp_market(
            ctx,
            market_index,
            setup,
            params,
            oracle,
        )
    }

    /// Admin: replace a perp market's parameters (not its book, index, oracle or expiry);
    /// `params.mode` is the reduce-only switch.
    pub fn edit_perp_market(ctx: Context<EditPerpMarket>, params: PerpMarketParams) -> Result<()> {
        instructions::edit_perp_market::handle_edit_perp_market(ctx, params)
    }

    /// Create a margin account PDA for (owner, account_num).
    pub fn create_margin_account(
        ctx: Context<CreateMarginAccount>,
        account_num: u32,
    ) -> Result<()> {
        instructions::create_margin_account::handle_create_margin_account(ctx, account_num)
    }

    /// Close an empty margin account, returning the rent to the owner.
    pub fn close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
        instructions::close_margin_account::handle_close_margin_account(ctx)
    }

    /// Owner: set or clear (default key) the delegate.
    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
        instructions::set_delegate::handle_set_delegate(ctx, delegate)
    }

    /// Owner: opt a token out of lending (`lend = false`) or back in.
    /// Optional remaining account: the bank's oracle (advances the stable price).
    pub fn set_token_lending(ctx: Context<SetTokenLending>, lend: bool) -> Result<()> {
        instructions::set_token_lending::handle_set_token_lending(ctx, lend)
    }

    /// Owner or delegate: deposit native `amount`; repays a borrow first.
    /// Optional remaining account: the bank's oracle (advances the stable price).
    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        instructions::deposit::handle_deposit(ctx, amount)
    }

    /// Owner: withdraw native `amount`; beyond the balance it borrows if `allow_borrow`.
    /// Remaining accounts: (bank, oracle) pairs covering every token slot in use, and
    /// (perp market, oracle) pairs covering every perp slot in use.
    pub fn withdraw(ctx: Context<Withdraw>, amount: u64, allow_borrow: bool) -> Result<()> {
        instructions::withdraw::handle_withdraw(ctx, amount, allow_borrow)
    }

    /// Permissionless: accrue a bank's interest, advance its stable price.
    pub fn accrue_interest(ctx: Context<AccrueInterest>) -> Result<()> {
        instructions::accrue_interest::handle_accrue_interest(ctx)
    }

    /// Read-only: log and return init and maint health.
    /// Remaining accounts: (bank, oracle) pairs covering every token slot in use, and
    /// (perp market, oracle) pairs covering every perp slot in use.
    pub fn compute_health(ctx: Context<ComputeHealth>) -> Result<HealthInfo> {
        instructions::compute_health::handle_compute_health(ctx)
    }

    /// Permissionless: move the settlement bank's collected reserve to the insurance fund.
    pub fn sweep_reserve(ctx: Context<SweepReserve>) -> Result<()> {
        instructions::sweep_reserve::handle_sweep_reserve(ctx)
    }

    /// Owner or delegate: place an order on a perp market's book; the taker's fills are applied
    /// to the account's position now, makers' by `consume_perp_events`.
    /// Remaining accounts: the account's health pairs after the order (banks and perp markets,
    /// this market's included); checked only for an order that can add risk.
    pub fn place_perp_order(ctx: Context<PlacePerpOrder>, args: PlacePerpOrderArgs) -> Result<()> {
        instructions::place_perp_order::handle_place_perp_order(ctx, args)
    }

    /// Owner or delegate: cancel a resting perp order by its id.
    pub fn cancel_perp_order(ctx: Context<CancelPerpOrder>, order_id: u128) -> Result<()> {
        instructions::cancel_perp_order::handle_cancel_perp_order(ctx, order_id)
    }

    /// Owner or delegate: cancel a resting perp order by its client order id.
    pub fn cancel_perp_order_by_client_id(
        ctx: Context<CancelPerpOrder>,
        client_order_id: u64,
    ) -> Result<()> {
        instructions::cancel_perp_order::handle_cancel_perp_order_by_client_id(ctx, client_order_id)
    }

    /// Owner or delegate: cancel up to `limit` resting perp orders on `side` (0 bids, 1 asks,
    /// 2 both).
    pub fn cancel_all_perp_orders(
        ctx: Context<CancelPerpOrder>,
        side: u8,
        limit: u8,
    ) -> Result<()> {
        instructions::cancel_perp_order::handle_cancel_all_perp_orders(ctx, side, limit)
    }

    /// Permissionless: mark the account's perp position to the oracle and move its PnL into
    /// the settlement-bank balance (a loss into the PnL pool, possibly as a borrow; a profit
    /// out of the pool as far as it can pay).
    pub fn settle_pnl(ctx: Context<SettlePnl>) -> Result<()> {
        instructions::settle_pnl::handle_settle_pnl(ctx)
    }

    /// Permissionless: move a perp market's accrued fees from its PnL pool to the insurance
    /// vault (as far as the pool and the settlement vault's free cash allow).
    pub fn sweep_perp_fees(ctx: Context<SweepPerpFees>) -> Result<()> {
        instructions::sweep_perp_fees::handle_sweep_perp_fees(ctx)
    }

    /// Permissionless crank (dated futures): record an oracle sample of the settlement window.
    pub fn sample_settlement_price(ctx: Context<SampleSettlementPrice>) -> Result<()> {
        instructions::dated_settlement::handle_sample_settlement_price(ctx)
    }

    /// Permissionless (dated futures, after the window): close an account's position at the
    /// settlement average; `settle_pnl` then moves its PnL.
    pub fn close_expired_position(ctx: Context<CloseExpiredPosition>) -> Result<()> {
        instructions::dated_settlement::handle_close_expired_position(ctx)
    }

    /// Permissionless crank: sample the book's impact premium over the oracle and advance
    /// the market's funding index.
    pub fn update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
        instructions::update_funding::handle_update_funding(ctx)
    }

    /// Permissionless crank: step a perp market's stored stable price toward its oracle (what
    /// `update_funding` also does for perpetuals; dated futures have no funding crank).
    pub fn update_stable_price(ctx: Context<UpdateStablePrice>) -> Result<()> {
        instructions::update_stable_price::handle_update_stable_price(ctx)
    }

    /// Permissionless crank: apply up to `limit` queued maker fills to the makers' accounts
    /// (remaining accounts, writable) and pop them; stops at a maker not passed.
    pub fn consume_perp_events<'info>(
        ctx: Context<'_, '_, 'info, 'info, ConsumePerpEvents<'info>>,
        limit: u8,
    ) -> Result<()> {
        instructions::consume_perp_events::handle_consume_perp_events(ctx, limit)
    }

    /// Permissionless, first step of a liquidation: cancel up to `limit` resting orders of an
    /// account below maintenance health on one perp market.
    /// Remaining accounts: the liquidatee's health pairs.
    pub fn liquidate_perp_orders(ctx: Context<LiquidatePerpOrders>, limit: u8) -> Result<()> {
        instructions::liquidate_perp_orders::handle_liquidate_perp_orders(ctx, limit)
    }

    /// Liquidator (owner or delegate): take over just enough of a liquidatee's perp position
    /// (at most `max_base_lots`) at the oracle price less a tiered fee; the liquidatee's PnL is
    /// then settled. Remaining accounts: health pairs of both accounts (the union).
    pub fn liquidate_perp(ctx: Context<LiquidatePerp>, max_base_lots: u64) -> Result<()> {
        instructions::liquidate_perp::handle_liquidate_perp(ctx, max_base_lots)
    }

    /// Liquidator (owner or delegate): repay just enough (at most `max_liab_native`) of a
    /// liquidatee's borrow and take its collateral at the banks' liquidation fees.
    /// Remaining accounts: health pairs of both accounts (the union).
    pub fn liquidate_token(ctx: Context<LiquidateToken>, max_liab_native: u64) -> Result<()> {
        instructions::liquidate_token::handle_liquidate_token(ctx, max_liab_native)
    }

    /// Permissionless: resolve a bankrupt account's debt in one bank: insurance fund, then
    /// socialized across a perp market's positions through its loss index (settlement token,
    /// paid out of the market's PnL pool), then across the bank's depositors through its
    /// deposit index. Remaining accounts (optional): `[perp market (mut)]`.
    pub fn resolve_bankruptcy<'info>(
        ctx: Context<'_, '_, 'info, 'info, ResolveBankruptcy<'info>>,
    ) -> Result<()> {
        instructions::resolve_bankruptcy::handle_resolve_bankruptcy(ctx)
    }

    /// Permissionless: close a bankrupt account's position in a perp market against the most
    /// profitable opposite positions (ranked by PnL ratio times leverage) at the bankruptcy
    /// price, for the deficit beyond the insurance fund; at most `max_base_lots`. Remaining
    /// accounts: `health_accounts` health pairs (the union of the bankrupt account's and the
    /// candidates'), then the ranked candidate accounts (mut).
    pub fn auto_deleverage<'info>(
        ctx: Context<'_, '_, 'info, 'info, AutoDeleverage<'info>>,
        max_base_lots: u64,
        health_accounts: u8,
    ) -> Result<()> {
        instructions::auto_deleverage::handle_auto_deleverage(ctx, max_base_lots, health_accounts)
    }

    /// Anyone: pay settlement tokens into the insurance fund.
    pub fn deposit_insurance(ctx: Context<DepositInsurance>, amount: u64) -> Result<()> {
        instructions::deposit_insurance::handle_deposit_insurance(ctx, amount)
    }
}
