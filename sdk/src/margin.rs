//! Margin program: PDAs, instruction builders, health accounts and account decoders.
//!
//! Everything here is built on the program's own types: the seeds are the constants of
//! `carry_margin::state`, the account lists are `carry_margin::accounts::*` and the instruction
//! data `carry_margin::instruction::*`, the decoded accounts are `carry_margin::state::*`. A
//! change to the program therefore changes (or breaks the build of) the SDK, never silently
//! diverges from it.
//!
//! Units (as in `programs/margin/README.md`): token amounts are native units (`u64`, the
//! mint's smallest unit); [`BankParams`] weights, rates and limits are parts per million
//! (`1_000_000` = 1.0, rates per year); prices and health are `I80F48` fixed point in
//! settlement-token native units (per token-native unit for prices).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
#[allow(deprecated)]
use anchor_lang::solana_program::system_instruction;
use anchor_lang::{AnchorDeserialize, InstructionData, ToAccountMetas, ZeroCopy};
use carry_margin::state::{
    Bank, Exchange, MarginAccount, PerpBook, PerpMarket, PerpPosition, ACCOUNT_SEED, BANK_SEED,
    EXCHANGE_SEED, INSURANCE_SEED, PERP_MARKET_SEED, VAULT_SEED,
};
use carry_margin::{
    accounts, instruction, BankParams, HealthInfo, OracleConfig, OracleKind, PerpLeverageTier,
    PerpMarketParams, PerpMarketSetup, PlacePerpOrderArgs,
};
use carry_math::health::PerpTerm;
use carry_math::{MathError, I80F48};

/// The margin program's id.
pub const PROGRAM_ID: Pubkey = carry_margin::ID;

/// SPL Token program id (the only token program the margin program accepts).
pub const TOKEN_PROGRAM_ID: Pubkey = anchor_spl::token::ID;

/// System program id.
pub const SYSTEM_PROGRAM_ID: Pubkey = anchor_lang::system_program::ID;

// ---------------------------------------------------------------------------------------------
// PDAs
// ---------------------------------------------------------------------------------------------

/// Exchange PDA: `[EXCHANGE_SEED, creator, exchange_num (u32 LE)]`.
pub fn exchange_pda(creator: &Pubkey, exchange_num: u32) -> Pubkey {
    Pubkey::find_program_address(
        &[EXCHANGE_SEED, creator.as_ref(), &exchange_num.to_le_bytes()],
        &PROGRAM_ID,
    )
    .0
}

/// Insurance vault PDA (SPL token account of the settlement mint, authority = the exchange):
/// `[INSURANCE_SEED, exchange]`.
pub fn insurance_vault_pda(exchange: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[INSURANCE_SEED, exchange.as_ref()], &PROGRAM_ID).0
}

/// Bank PDA, one per (exchange, mint): `[BANK_SEED, exchange, mint]`.
pub fn bank_pda(exchange: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[BANK_SEED, exchange.as_ref(), mint.as_ref()], &PROGRAM_ID).0
}

/// Bank vault PDA (SPL token account of the bank's mint, authority = the exchange):
/// `[VAULT_SEED, bank]`.
pub fn vault_pda(bank: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VAULT_SEED, bank.as_ref()], &PROGRAM_ID).0
}

/// Margin account PDA: `[ACCOUNT_SEED, exchange, owner, account_num (u32 LE)]`.
pub fn margin_account_pda(exchange: &Pubkey, owner: &Pubkey, account_num: u32) -> Pubkey {
    Pubkey::find_program_address(
        &[
            ACCOUNT_SEED,
            exchange.as_ref(),
            owner.as_ref(),
            &account_num.to_le_bytes(),
        ],
        &PROGRAM_ID,
    )
    .0
}

/// Perp market PDA: `[PERP_MARKET_SEED, exchange, market_index (u16 LE)]`.
pub fn perp_market_pda(exchange: &Pubkey, market_index: u16) -> Pubkey {
    Pubkey::find_program_address(
        &[
            PERP_MARKET_SEED,
            exchange.as_ref(),
            &market_index.to_le_bytes(),
        ],
        &PROGRAM_ID,
    )
    .0
}

// ---------------------------------------------------------------------------------------------
// Health accounts
// ---------------------------------------------------------------------------------------------

/// Most `(bank, oracle)` pairs the program accepts in one health computation.
pub const MAX_HEALTH_PAIRS: usize = carry_margin::health::MAX_HEALTH_PAIRS;

/// Remaining accounts of a health check (`withdraw`, `compute_health`): for each
/// `(bank, oracle)` pair, in the given order, the bank then its oracle (the bank's stored
/// oracle key). The program needs at least one pair per token slot the account uses after the
/// instruction, in any order, at most [`MAX_HEALTH_PAIRS`] pairs; pairs of banks the account
/// does not hold are ignored (they must still be banks of the same exchange).
///
/// With `writable_banks`, banks are writable and the program stores their advanced stable
/// price (`withdraw` does this); oracles are always read-only.
pub fn health_accounts(pairs: &[(Pubkey, Pubkey)], writable_banks: bool) -> Vec<AccountMeta> {
    pairs
        .iter()
        .flat_map(|&(bank, oracle)| {
            [
                if writable_banks {
                    AccountMeta::new(bank, false)
                } else {
                    AccountMeta::new_readonly(bank, false)
                },
                AccountMeta::new_readonly(oracle, false),
            ]
        })
        .collect()
}

/// Most `(perp market, oracle)` pairs the program accepts in one health computation.
pub const MAX_PERP_HEALTH_PAIRS: usize = carry_margin::health::MAX_PERP_HEALTH_PAIRS;

/// Remaining accounts for the perp positions of a health check: for each
/// `(perp market, oracle)` pair, the market then its oracle (the market's stored oracle key).
/// They go after the bank pairs of [`health_accounts`] (the program tells the two kinds apart
/// by the first account's discriminator, so any order works; this is the SDK's). The program
/// needs one pair per perp slot in use, at most [`MAX_PERP_HEALTH_PAIRS`]; pairs of markets
/// the account has no position in are ignored (they must be of the same exchange). With
/// `writable_markets` the program stores the markets' advanced stable prices.
pub fn perp_health_accounts(
    pairs: &[(Pubkey, Pubkey)],
    writable_markets: bool,
) -> Vec<AccountMeta> {
    // same shape as bank pairs: market (writable or not), oracle read-only
    health_accounts(pairs, writable_markets)
}

/// The `(perp market, oracle)` pairs `account` needs for a health check: of `markets` (key
/// and decoded market), those whose market index is in one of the account's perp slots in
/// use, in the order given.
pub fn perp_health_pairs<'a>(
    account: &MarginAccount,
    markets: impl IntoIterator<Item = (Pubkey, &'a PerpMarket)>,
) -> Vec<(Pubkey, Pubkey)> {
    markets
        .into_iter()
        .filter(|(_, m)| account.find_perp(m.market_index).is_some())
        .map(|(key, m)| (key, m.oracle))
        .collect()
}

/// The `(bank, oracle)` pairs `account` needs for a health check: of `banks` (key and decoded
/// bank), those whose token index is in one of the account's slots in use, in the order
/// given. Add the pair of a bank an instruction is about to open a slot in (a borrow) yourself.
pub fn health_pairs<'a>(
    account: &MarginAccount,
    banks: impl IntoIterator<Item = (Pubkey, &'a Bank)>,
) -> Vec<(Pubkey, Pubkey)> {
    banks
        .into_iter()
        .filter(|(_, b)| account.find_token(b.token_index).is_some())
        .map(|(key, b)| (key, b.oracle))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Instruction builders
// ---------------------------------------------------------------------------------------------

fn ix(
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(remaining);
    Instruction {
        program_id: PROGRAM_ID,
        accounts: metas,
        data: data.data(),
    }
}

fn exchange_admin(admin: Pubkey, exchange: Pubkey) -> accounts::ExchangeAdmin {
    accounts::ExchangeAdmin { admin, exchange }
}

/// `create_exchange(exchange_num)`: creates the exchange PDA ([`exchange_pda`]) and its
/// insurance vault ([`insurance_vault_pda`]) for `settlement_mint`. `creator` signs, pays the
/// rent and becomes the admin.
pub fn create_exchange(creator: Pubkey, settlement_mint: Pubkey, exchange_num: u32) -> Instruction {
    let exchange = exchange_pda(&creator, exchange_num);
    ix(
        accounts::CreateExchange {
            creator,
            exchange,
            settlement_mint,
            insurance_vault: insurance_vault_pda(&exchange),
            token_program: TOKEN_PROGRAM_ID,
            system_program: SYSTEM_PROGRAM_ID,
        },
        instruction::CreateExchange { exchange_num },
        vec![],
    )
}

/// `set_paused(paused)`, signed by the exchange's admin. While paused, deposits, withdrawals,
/// account creation/closing, `set_delegate` and `set_token_lending` are refused.
pub fn set_paused(admin: Pubkey, exchange: Pubkey, paused: bool) -> Instruction {
    ix(
        exchange_admin(admin, exchange),
        instruction::SetPaused { paused },
        vec![],
    )
}

/// `propose_admin(new_admin)`, signed by the current admin: `new_admin` becomes admin when it
/// signs [`accept_admin`]; the default key withdraws a proposal.
pub fn propose_admin(admin: Pubkey, exchange: Pubkey, new_admin: Pubkey) -> Instruction {
    ix(
        exchange_admin(admin, exchange),
        instruction::ProposeAdmin { new_admin },
        vec![],
    )
}

/// `accept_admin`, signed by the proposed admin: it takes the admin role.
pub fn accept_admin(new_admin: Pubkey, exchange: Pubkey) -> Instruction {
    ix(
        accounts::AcceptAdmin {
            new_admin,
            exchange,
        },
        instruction::AcceptAdmin {},
        vec![],
    )
}

/// `register_bank(params, oracle_config)`, signed by the admin (who pays the rent): creates the
/// bank PDA ([`bank_pda`] of `exchange`, `mint`) and its vault ([`vault_pda`]). `oracle` is
/// the oracle account in the format `oracle_config` names ([`pyth_v2`] or [`pyth_pull`]); it
/// is read now (it must pass `params`' age and confidence limits) to seed the stable price,
/// and its key is stored in the bank. `params` are in ppm / native units.
pub fn register_bank(
    admin: Pubkey,
    exchange: Pubkey,
    mint: Pubkey,
    oracle: Pubkey,
    params: BankParams,
    oracle_config: OracleConfig,
) -> Instruction {
    let bank = bank_pda(&exchange, &mint);
    ix(
        accounts::RegisterBank {
            admin,
            exchange,
            mint,
            bank,
            vault: vault_pda(&bank),
            oracle,
            token_program: TOKEN_PROGRAM_ID,
            system_program: SYSTEM_PROGRAM_ID,
        },
        instruction::RegisterBank {
            params,
            oracle: oracle_config,
        },
        vec![],
    )
}

/// `edit_bank(params)`, signed by the admin: accrues the bank, then replaces all its
/// parameters (not the oracle).
pub fn edit_bank(admin: Pubkey, exchange: Pubkey, bank: Pubkey, params: BankParams) -> Instruction {
    ix(
        accounts::EditBank {
            admin,
            exchange,
            bank,
        },
        instruction::EditBank { params },
        vec![],
    )
}

/// Bytes of a perp book account with these capacities: the 8-byte discriminator, the 152-byte
/// [`PerpBook`] header (laid out as an order book market's), then `carry_book::Book`.
pub fn perp_book_space(order_capacity: u32, event_capacity: u32) -> usize {
    PerpBook::space(order_capacity, event_capacity)
}

/// System `create_account` of a perp book account for `setup`'s capacities: `payer` pays
/// `rent_lamports` (the rent-exempt minimum of [`perp_book_space`] bytes, from the cluster's
/// rent), owner = the margin program, zeroed. Both `payer` and `book` sign. Send it before,
/// or in the same transaction as, [`create_perp_market`], which `book` must sign as well.
pub fn create_perp_book_account(
    payer: Pubkey,
    book: Pubkey,
    rent_lamports: u64,
    setup: &PerpMarketSetup,
) -> Instruction {
    system_instruction::create_account(
        &payer,
        &book,
        rent_lamports,
        perp_book_space(setup.order_capacity, setup.event_capacity) as u64,
        &PROGRAM_ID,
    )
}

/// `create_perp_market(market_index, setup, params, oracle_config)`, signed by the admin (who
/// pays the market's rent) and by `book` (allocated with [`create_perp_book_account`]).
/// `market_index` must be the exchange's `perp_market_count`; the market PDA is
/// [`perp_market_pda`]. `oracle` is read now (it must pass `params`' limits) to seed the
/// stable price and its key is stored.
#[allow(clippy::too_many_arguments)]
pub fn create_perp_market(
    admin: Pubkey,
    exchange: Pubkey,
    market_index: u16,
    book: Pubkey,
    oracle: Pubkey,
    setup: PerpMarketSetup,
    params: PerpMarketParams,
    oracle_config: OracleConfig,
) -> Instruction {
    ix(
        accounts::CreatePerpMarket {
            admin,
            exchange,
            perp_market: perp_market_pda(&exchange, market_index),
            book,
            oracle,
            system_program: SYSTEM_PROGRAM_ID,
        },
        instruction::CreatePerpMarket {
            market_index,
            setup,
            params,
            oracle: oracle_config,
        },
        vec![],
    )
}

/// `edit_perp_market(params)`, signed by the admin: replaces the market's parameters (not its
/// book, index, oracle or expiry); `params.mode` 1 puts it in reduce-only mode, 0 back.
pub fn edit_perp_market(
    admin: Pubkey,
    exchange: Pubkey,
    perp_market: Pubkey,
    params: PerpMarketParams,
) -> Instruction {
    ix(
        accounts::EditPerpMarket {
            admin,
            exchange,
            perp_market,
        },
        instruction::EditPerpMarket { params },
        vec![],
    )
}

/// `place_perp_order(args)`: `signer` (owner or delegate of `account`) places an order on
/// perp market `perp_market` (its `book` and `oracle` are the market's stored keys). `health`:
/// the account's `(bank, oracle)` pairs and `perps`: its `(perp market, oracle)` pairs after
/// the order, this market's included (markets writable: their stable price is stored). The
/// program checks health only for an order that can add risk.
#[allow(clippy::too_many_arguments)]
pub fn place_perp_order(
    signer: Pubkey,
    exchange: Pubkey,
    account: Pubkey,
    perp_market: Pubkey,
    book: Pubkey,
    oracle: Pubkey,
    args: PlacePerpOrderArgs,
    health: &[(Pubkey, Pubkey)],
    perps: &[(Pubkey, Pubkey)],
) -> Instruction {
    let mut remaining = health_accounts(health, false);
    remaining.extend(perp_health_accounts(perps, true));
    ix(
        accounts::PlacePerpOrder {
            signer,
            exchange,
            account,
            perp_market,
            book,
            oracle,
        },
        instruction::PlacePerpOrder { args },
        remaining,
    )
}

/// A limit order of `lots` at `price_ticks` on `side` (0 bid, 1 ask), no client id, no
/// expiry, self-trades refused: the usual [`PlacePerpOrderArgs`]; change fields for the others.
pub fn limit_order_args(side: u8, price_ticks: u64, lots: u64) -> PlacePerpOrderArgs {
    PlacePerpOrderArgs {
        side,
        order_kind: 0,
        price_ticks,
        peg_offset_ticks: 0,
        max_base_lots: lots,
        client_order_id: 0,
        expires_at: 0,
        expires_at_slot: 0,
        self_trade: 2,
        reduce_only: false,
    }
}

fn cancel_accounts(
    signer: Pubkey,
    account: Pubkey,
    perp_market: Pubkey,
    book: Pubkey,
) -> accounts::CancelPerpOrder {
    accounts::CancelPerpOrder {
        signer,
        account,
        perp_market,
        book,
    }
}

/// `cancel_perp_order(order_id)` (owner or delegate).
pub fn cancel_perp_order(
    signer: Pubkey,
    account: Pubkey,
    perp_market: Pubkey,
    book: Pubkey,
    order_id: u128,
) -> Instruction {
    ix(
        cancel_accounts(signer, account, perp_market, book),
        instruction::CancelPerpOrder { order_id },
        vec![],
    )
}

/// `cancel_perp_order_by_client_id(client_order_id)` (owner or delegate).
pub fn cancel_perp_order_by_client_id(
    signer: Pubkey,
    account: Pubkey,
    perp_market: Pubkey,
    book: Pubkey,
    client_order_id: u64,
) -> Instruction {
    ix(
        cancel_accounts(signer, account, perp_market, book),
        instruction::CancelPerpOrderByClientId { client_order_id },
        vec![],
    )
}

/// `cancel_all_perp_orders(side, limit)` (owner or delegate): `side` 0 bids, 1 asks, 2 both;
/// at most `limit` orders per call.
pub fn cancel_all_perp_orders(
    signer: Pubkey,
    account: Pubkey,
    perp_market: Pubkey,
    book: Pubkey,
    side: u8,
    limit: u8,
) -> Instruction {
    ix(
        cancel_accounts(signer, account, perp_market, book),
        instruction::CancelAllPerpOrders { side, limit },
        vec![],
    )
}

/// `consume_perp_events(limit)` (permissionless): `makers` are the margin accounts of the
/// queued fills' makers (writable; the crank stops at the first event whose maker is missing).
pub fn consume_perp_events(
    perp_market: Pubkey,
    book: Pubkey,
    makers: &[Pubkey],
    limit: u8,
) -> Instruction {
    ix(
        accounts::ConsumePerpEvents { perp_market, book },
        instruction::ConsumePerpEvents { limit },
        makers.iter().map(|k| AccountMeta::new(*k, false)).collect(),
    )
}

/// `settle_pnl` (permissionless): settles `account`'s PnL in `perp_market` (its stored
/// `oracle`) into its balance in the exchange's settlement `bank`.
pub fn settle_pnl(
    exchange: Pubkey,
    account: Pubkey,
    perp_market: Pubkey,
    oracle: Pubkey,
    bank: Pubkey,
) -> Instruction {
    ix(
        accounts::SettlePnl {
            exchange,
            account,
            perp_market,
            oracle,
            bank,
        },
        instruction::SettlePnl {},
        vec![],
    )
}

/// `set_liquidation_buffer(buffer_ppm)` (admin).
pub fn set_liquidation_buffer(admin: Pubkey, exchange: Pubkey, buffer_ppm: u32) -> Instruction {
    ix(
        exchange_admin(admin, exchange),
        instruction::SetLiquidationBuffer { buffer_ppm },
        vec![],
    )
}

/// `liquidate_perp_orders(limit)` (permissionless): cancels up to `limit` resting orders of
/// `liquidatee` (below maintenance health) on `perp_market`. `health` = the liquidatee's health
/// remaining accounts ([`health_accounts`] then [`perp_health_accounts`]).
pub fn liquidate_perp_orders(
    exchange: Pubkey,
    liquidatee: Pubkey,
    perp_market: Pubkey,
    book: Pubkey,
    limit: u8,
    health: Vec<AccountMeta>,
) -> Instruction {
    ix(
        accounts::LiquidatePerpOrders {
            exchange,
            liquidatee,
            perp_market,
            book,
        },
        instruction::LiquidatePerpOrders { limit },
        health,
    )
}

/// `liquidate_perp(max_base_lots)`: `signer` (owner or delegate of `liquidator`) takes over
/// just enough of `liquidatee`'s position in `perp_market` (its `oracle`); the liquidatee's PnL
/// is settled into the settlement `bank`. `health` = health remaining accounts covering both
/// accounts (the union of their pairs).
#[allow(clippy::too_many_arguments)]
pub fn liquidate_perp(
    signer: Pubkey,
    exchange: Pubkey,
    liquidator: Pubkey,
    liquidatee: Pubkey,
    perp_market: Pubkey,
    oracle: Pubkey,
    bank: Pubkey,
    max_base_lots: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    ix(
        accounts::LiquidatePerp {
            signer,
            exchange,
            liquidator,
            liquidatee,
            perp_market,
            oracle,
            settlement_bank: bank,
        },
        instruction::LiquidatePerp { max_base_lots },
        health,
    )
}

/// `liquidate_token(max_liab_native)`: `signer` (owner or delegate of `liquidator`) repays
/// just enough of `liquidatee`'s borrow in `liab` (bank, oracle) for its collateral in `asset`
/// (bank, oracle). `health` = health remaining accounts covering both accounts.
#[allow(clippy::too_many_arguments)]
pub fn liquidate_token(
    signer: Pubkey,
    exchange: Pubkey,
    liquidator: Pubkey,
    liquidatee: Pubkey,
    liab: (Pubkey, Pubkey),
    asset: (Pubkey, Pubkey),
    max_liab_native: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    ix(
        accounts::LiquidateToken {
            signer,
            exchange,
            liquidator,
            liquidatee,
            liab_bank: liab.0,
            liab_oracle: liab.1,
            asset_bank: asset.0,
            asset_oracle: asset.1,
        },
        instruction::LiquidateToken { max_liab_native },
        health,
    )
}

/// `resolve_bankruptcy` (permissionless): resolves bankrupt `account`'s debt in `bank` (its
/// `vault`, `mint`): insurance fund, then socialized across the open positions of
/// `perp_market` when given (settlement bank only; the market the deficit arose in), then
/// across the bank's depositors.
pub fn resolve_bankruptcy(
    exchange: Pubkey,
    account: Pubkey,
    bank: Pubkey,
    vault: Pubkey,
    mint: Pubkey,
    perp_market: Option<Pubkey>,
) -> Instruction {
    let rest = perp_market
        .map(|m| vec![AccountMeta::new(m, false)])
        .unwrap_or_default();
    ix(
        accounts::ResolveBankruptcy {
            exchange,
            account,
            bank,
            vault,
            mint,
            insurance_vault: insurance_vault_pda(&exchange),
            token_program: TOKEN_PROGRAM_ID,
        },
        instruction::ResolveBankruptcy {},
        rest,
    )
}

/// `auto_deleverage(max_base_lots, health_accounts)` (permissionless): closes bankrupt
/// `account`'s position in `perp_market` (its `oracle`) against `candidates` (ranked, highest
/// first: [`crate::liquidation::adl_candidates`]) at the bankruptcy price; its PnL is settled
/// into the settlement `bank`. `health` = health remaining accounts covering the account and
/// every candidate (the union of their pairs).
#[allow(clippy::too_many_arguments)]
pub fn auto_deleverage(
    exchange: Pubkey,
    account: Pubkey,
    perp_market: Pubkey,
    oracle: Pubkey,
    bank: Pubkey,
    max_base_lots: u64,
    health: Vec<AccountMeta>,
    candidates: &[Pubkey],
) -> Instruction {
    let health_accounts = u8::try_from(health.len()).unwrap_or(u8::MAX);
    let mut rest = health;
    rest.extend(candidates.iter().map(|c| AccountMeta::new(*c, false)));
    ix(
        accounts::AutoDeleverage {
            exchange,
            account,
            perp_market,
            oracle,
            settlement_bank: bank,
            insurance_vault: insurance_vault_pda(&exchange),
        },
        instruction::AutoDeleverage {
            max_base_lots,
            health_accounts,
        },
        rest,
    )
}

/// `deposit_insurance(amount)`: `depositor` pays `amount` settlement native units from
/// `payer_token` into the exchange's insurance fund (`mint` = the settlement mint).
pub fn deposit_insurance(
    depositor: Pubkey,
    exchange: Pubkey,
    mint: Pubkey,
    payer_token: Pubkey,
    amount: u64,
) -> Instruction {
    ix(
        accounts::DepositInsurance {
            depositor,
            exchange,
            insurance_vault: insurance_vault_pda(&exchange),
            mint,
            payer_token,
            token_program: TOKEN_PROGRAM_ID,
        },
        instruction::DepositInsurance { amount },
        vec![],
    )
}

/// `update_funding` (permissionless): one funding crank of `perp_market` (its stored `book`
/// and `oracle`).
pub fn update_funding(
    exchange: Pubkey,
    perp_market: Pubkey,
    book: Pubkey,
    oracle: Pubkey,
) -> Instruction {
    ix(
        accounts::UpdateFunding {
            exchange,
            perp_market,
            book,
            oracle,
        },
        instruction::UpdateFunding {},
        vec![],
    )
}

/// `update_stable_price` (permissionless): one step of `perp_market`'s stored stable price
/// toward its `oracle` (the keeper runs it for dated futures, which have no funding crank).
pub fn update_stable_price(exchange: Pubkey, perp_market: Pubkey, oracle: Pubkey) -> Instruction {
    ix(
        accounts::UpdateStablePrice {
            exchange,
            perp_market,
            oracle,
        },
        instruction::UpdateStablePrice {},
        vec![],
    )
}

/// `sweep_perp_fees` (permissionless): moves `perp_market`'s accrued fees from its PnL pool
/// to the exchange's `insurance_vault`, out of the settlement `bank`'s `vault` (`mint` = the
/// settlement mint).
pub fn sweep_perp_fees(
    exchange: Pubkey,
    perp_market: Pubkey,
    bank: Pubkey,
    vault: Pubkey,
    mint: Pubkey,
    insurance_vault: Pubkey,
) -> Instruction {
    ix(
        accounts::SweepPerpFees {
            exchange,
            perp_market,
            bank,
            vault,
            mint,
            insurance_vault,
            token_program: TOKEN_PROGRAM_ID,
        },
        instruction::SweepPerpFees {},
        vec![],
    )
}

/// `sample_settlement_price` (permissionless, dated futures): one settlement sample of
/// `perp_market` from its stored `oracle`.
pub fn sample_settlement_price(
    exchange: Pubkey,
    perp_market: Pubkey,
    oracle: Pubkey,
) -> Instruction {
    ix(
        accounts::SampleSettlementPrice {
            exchange,
            perp_market,
            oracle,
        },
        instruction::SampleSettlementPrice {},
        vec![],
    )
}

/// `close_expired_position` (permissionless, dated futures after the window): closes
/// `account`'s position at the settlement average (`book` = the market's book).
pub fn close_expired_position(perp_market: Pubkey, book: Pubkey, account: Pubkey) -> Instruction {
    ix(
        accounts::CloseExpiredPosition {
            perp_market,
            book,
            account,
        },
        instruction::CloseExpiredPosition {},
        vec![],
    )
}

/// `sweep_reserve` (permissionless): moves the settlement bank's whole-unit collected reserve
/// from its `vault` to the exchange's `insurance_vault`. `mint` is the settlement mint.
pub fn sweep_reserve(
    exchange: Pubkey,
    bank: Pubkey,
    vault: Pubkey,
    mint: Pubkey,
    insurance_vault: Pubkey,
) -> Instruction {
    ix(
        accounts::SweepReserve {
            exchange,
            bank,
            vault,
            mint,
            insurance_vault,
            token_program: TOKEN_PROGRAM_ID,
        },
        instruction::SweepReserve {},
        vec![],
    )
}

/// `create_margin_account(account_num)`: creates the margin account PDA
/// ([`margin_account_pda`] of `exchange`, `owner`, `account_num`); `owner` signs and pays.
pub fn create_margin_account(owner: Pubkey, exchange: Pubkey, account_num: u32) -> Instruction {
    ix(
        accounts::CreateMarginAccount {
            owner,
            exchange,
            account: margin_account_pda(&exchange, &owner, account_num),
            system_program: SYSTEM_PROGRAM_ID,
        },
        instruction::CreateMarginAccount { account_num },
        vec![],
    )
}

/// `close_margin_account`, signed by the owner, who gets the rent back. The account must hold
/// no borrow, no non-lendable balance and no deposit worth a whole native unit. A sub-unit
/// deposit is forfeited to its bank's `dust`: pass the bank of every slot holding one in
/// `dust_banks` (writable remaining accounts).
pub fn close_margin_account(
    owner: Pubkey,
    exchange: Pubkey,
    account: Pubkey,
    dust_banks: &[Pubkey],
) -> Instruction {
    ix(
        accounts::CloseMarginAccount {
            owner,
            exchange,
            account,
        },
        instruction::CloseMarginAccount {},
        dust_banks
            .iter()
            .map(|b| AccountMeta::new(*b, false))
            .collect(),
    )
}

/// `set_delegate(delegate)`, signed by the owner. The delegate may deposit, never withdraw;
/// `Pubkey::default()` clears it.
pub fn set_delegate(
    owner: Pubkey,
    exchange: Pubkey,
    account: Pubkey,
    delegate: Pubkey,
) -> Instruction {
    ix(
        accounts::SetDelegate {
            owner,
            exchange,
            account,
        },
        instruction::SetDelegate { delegate },
        vec![],
    )
}

/// `set_token_lending(lend)`, signed by the owner: `lend = false` moves the account's balance
/// of the bank's token out of the lending pool (kept in native units, earns nothing), `true`
/// back in. With `oracle` (the bank's oracle, a read-only remaining account) the bank's stable
/// price is advanced and stored; a stale oracle is skipped, another key is refused.
pub fn set_token_lending(
    owner: Pubkey,
    exchange: Pubkey,
    account: Pubkey,
    bank: Pubkey,
    vault: Pubkey,
    lend: bool,
    oracle: Option<Pubkey>,
) -> Instruction {
    ix(
        accounts::SetTokenLending {
            owner,
            exchange,
            account,
            bank,
            vault,
        },
        instruction::SetTokenLending { lend },
        optional_oracle(oracle),
    )
}

fn optional_oracle(oracle: Option<Pubkey>) -> Vec<AccountMeta> {
    oracle
        .map(|o| AccountMeta::new_readonly(o, false))
        .into_iter()
        .collect()
}

/// `deposit(amount)`: `amount` native units of the bank's `mint` from `user_token` (a token
/// account whose authority is `signer`, the account's owner or delegate) into the bank's
/// `vault`; repays a borrow first, the rest is a deposit. With `oracle` (the bank's oracle,
/// read-only remaining account) the stable price is advanced and stored; a stale oracle is
/// skipped, another key is refused.
#[allow(clippy::too_many_arguments)]
pub fn deposit(
    signer: Pubkey,
    exchange: Pubkey,
    account: Pubkey,
    bank: Pubkey,
    vault: Pubkey,
    mint: Pubkey,
    user_token: Pubkey,
    amount: u64,
    oracle: Option<Pubkey>,
) -> Instruction {
    ix(
        accounts::Deposit {
            signer,
            exchange,
            account,
            bank,
            vault,
            mint,
            user_token,
            token_program: TOKEN_PROGRAM_ID,
        },
        instruction::Deposit { amount },
        optional_oracle(oracle),
    )
}

/// `withdraw(amount, allow_borrow)`, signed by the owner: `amount` native units from the
/// bank's `vault` to `user_token`; beyond the deposit it borrows, only with `allow_borrow`.
/// Initial health must stay >= 0: `health` are the `(bank, oracle)` pairs covering every token
/// slot in use after the withdrawal (see [`health_accounts`]); the banks are passed writable,
/// so their advanced stable prices are stored.
#[allow(clippy::too_many_arguments)]
pub fn withdraw(
    owner: Pubkey,
    exchange: Pubkey,
    account: Pubkey,
    bank: Pubkey,
    vault: Pubkey,
    mint: Pubkey,
    user_token: Pubkey,
    amount: u64,
    allow_borrow: bool,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    ix(
        accounts::Withdraw {
            owner,
            exchange,
            account,
            bank,
            vault,
            mint,
            user_token,
            token_program: TOKEN_PROGRAM_ID,
        },
        instruction::Withdraw {
            amount,
            allow_borrow,
        },
        health_accounts(health, true),
    )
}

/// `accrue_interest` (permissionless crank): accrues the bank's interest and, if its `oracle`
/// passes the bank's limits, advances its stable price.
pub fn accrue_interest(exchange: Pubkey, bank: Pubkey, oracle: Pubkey) -> Instruction {
    ix(
        accounts::AccrueInterest {
            exchange,
            bank,
            oracle,
        },
        instruction::AccrueInterest {},
        vec![],
    )
}

/// [`compute_health`] for an account with perp positions: `banks` as there, then `perps`, the
/// `(perp market, oracle)` pairs covering every perp slot in use (read-only).
pub fn compute_health_with_perps(
    exchange: Pubkey,
    account: Pubkey,
    banks: &[(Pubkey, Pubkey)],
    perps: &[(Pubkey, Pubkey)],
) -> Instruction {
    let mut i = compute_health(exchange, account, banks);
    i.accounts.extend(perp_health_accounts(perps, false));
    i
}

/// `compute_health` (read-only, permissionless): logs and returns (return data, see
/// [`decode_health_info`]) the account's init and maint health. `health` are the
/// `(bank, oracle)` pairs covering every token slot in use; the banks are passed read-only
/// (the instruction writes nothing).
pub fn compute_health(
    exchange: Pubkey,
    account: Pubkey,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    ix(
        accounts::ComputeHealth { exchange, account },
        instruction::ComputeHealth {},
        health_accounts(health, false),
    )
}

// ---------------------------------------------------------------------------------------------
// Decoders
// ---------------------------------------------------------------------------------------------

/// Errors decoding margin program data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the 8-byte discriminator plus the account (or return data) needs.
    TooShort {
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The first 8 bytes are not the expected account's discriminator.
    WrongDiscriminator,
    /// Return data that does not deserialize.
    Invalid(String),
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::TooShort { expected, actual } => {
                write!(f, "account data too short: {actual} bytes, need {expected}")
            }
            DecodeError::WrongDiscriminator => write!(f, "wrong account discriminator"),
            DecodeError::Invalid(e) => write!(f, "invalid data: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A copy of the zero-copy account `T` from its account data: checks the 8-byte Anchor
/// discriminator and the length, then reads `size_of::<T>()` bytes after it with bytemuck
/// (unaligned, so any byte buffer works, e.g. RPC account data).
pub fn decode_account<T: ZeroCopy>(data: &[u8]) -> Result<T, DecodeError> {
    let disc = T::DISCRIMINATOR;
    let expected = disc.len() + core::mem::size_of::<T>();
    if data.len() < expected {
        return Err(DecodeError::TooShort {
            expected,
            actual: data.len(),
        });
    }
    if &data[..disc.len()] != disc {
        return Err(DecodeError::WrongDiscriminator);
    }
    Ok(bytemuck::pod_read_unaligned(&data[disc.len()..expected]))
}

/// Decodes a [`MarginAccount`] (balances are I80F48 shares, see `TokenPosition`).
pub fn decode_margin_account(data: &[u8]) -> Result<MarginAccount, DecodeError> {
    decode_account(data)
}

/// Decodes a [`Bank`] (indices and prices I80F48, amounts native units, parameters ppm).
pub fn decode_bank(data: &[u8]) -> Result<Bank, DecodeError> {
    decode_account(data)
}

/// Decodes an [`Exchange`].
pub fn decode_exchange(data: &[u8]) -> Result<Exchange, DecodeError> {
    decode_account(data)
}

/// Decodes a [`PerpMarket`] (prices per base lot I80F48, amounts quote native, parameters
/// ppm).
pub fn decode_perp_market(data: &[u8]) -> Result<PerpMarket, DecodeError> {
    decode_account(data)
}

/// Decodes the header of a perp book account ([`PerpBook`]). The whole book (levels, queued
/// events) reads with [`crate::orderbook::MarketView::decode`], since the account is laid out
/// as an order book market (same header fields, book at the same offset).
pub fn decode_perp_book_header(data: &[u8]) -> Result<PerpBook, DecodeError> {
    decode_account(data)
}

/// The health term of one perp position as the program computes it (see
/// `carry_margin::health::perp_term`): the market's stable price is advanced from its stored
/// value to `now` toward `oracle_per_lot` (quote native per base lot, the validated oracle
/// price times the lot size) exactly as the chain does, then the position's health is taken
/// at both prices, the lower init and the lower maint.
pub fn perp_health_term(
    market: &PerpMarket,
    slot: &PerpPosition,
    oracle_per_lot: I80F48,
    now: i64,
) -> Result<PerpTerm, MathError> {
    let dt = now.saturating_sub(market.stable_price_ts).max(0) as u64;
    let stable = carry_math::oracle::update_stable_price(
        market.stable_price.get(),
        oracle_per_lot,
        dt,
        &market.params.stable_limits(),
    )?;
    carry_margin::health::perp_term(market, slot, oracle_per_lot, stable)
}

/// Decodes `compute_health`'s return data (borsh [`HealthInfo`]: two little-endian `i128`,
/// I80F48 bits of init and maint health in settlement-token native units).
pub fn decode_health_info(return_data: &[u8]) -> Result<HealthInfo, DecodeError> {
    HealthInfo::try_from_slice(return_data).map_err(|e| DecodeError::Invalid(e.to_string()))
}

/// `(init, maint)` health as I80F48, settlement-token native units.
pub fn health_values(info: &HealthInfo) -> (I80F48, I80F48) {
    (
        I80F48::from_bits(info.init_health_bits),
        I80F48::from_bits(info.maint_health_bits),
    )
}

/// Example parameters of a volatile collateral bank: weights 0.8/0.9 (assets, init/maint)
/// and 1.2/1.1 (liabilities), interest 1% base, kink at 80% utilization (+9% to it, +90% above),
/// cap 200%, reserve factor 10%, no deposit or net-borrow limit, oracle at most 60 s old with
/// confidence within 1%, stable price moving at most 10% per hour and counting at most 60 s
/// per update (one touch after idle hours moves it at most 0.17%), liquidation fee 2.5% (a
/// token liquidation between two such banks pays the liquidator 5%). Tests and examples start
/// here; a real listing sets every field for its token.
pub fn example_bank_params() -> BankParams {
    BankParams {
        init_asset_weight_ppm: 800_000,
        maint_asset_weight_ppm: 900_000,
        init_liab_weight_ppm: 1_200_000,
        maint_liab_weight_ppm: 1_100_000,
        base_rate_ppm: 10_000,
        optimal_util_ppm: 800_000,
        slope1_ppm: 90_000,
        slope2_ppm: 900_000,
        max_rate_ppm: 2_000_000,
        reserve_factor_ppm: 100_000,
        deposit_limit: u64::MAX,
        net_borrow_limit: u64::MAX,
        oracle_max_age_secs: 60,
        oracle_max_conf_ppm: 10_000,
        stable_max_move_ppm_per_hour: 100_000,
        stable_max_step_secs: 60,
        liquidation_fee_ppm: 25_000,
        padding: [0; 4],
    }
}

/// Example parameters of a perp market: leverage tiers 100x (1% init, 0.5% maint) up to a
/// notional of 1M settlement units (6 decimals), 50x to 10M, 20x to 50M, 10x beyond; fees 5 bps
/// taker, 1 bp maker rebate; oracle at most 60 s old with confidence within 1%; stable price
/// 10%/h counting at most 60 s per update; unpaid profit haircut 20%; funding hourly, capped at
/// 0.1% per hour, impact notional 10,000 units; no open-interest limit; perpetual; active;
/// liquidation fee half the tier's maintenance ratio (0.25% at 100x), a fifth of it to the
/// insurance fund; resting orders that add risk within 1% of the oracle (the first tier's
/// initial margin).
pub fn example_perp_market_params() -> PerpMarketParams {
    let tier = |max: u64, init: u32, maint: u32| PerpLeverageTier {
        max_notional_native: max,
        init_margin_ppm: init,
        maint_margin_ppm: maint,
    };
    PerpMarketParams {
        tiers: [
            tier(1_000_000_000_000, 10_000, 5_000),
            tier(10_000_000_000_000, 20_000, 10_000),
            tier(50_000_000_000_000, 50_000, 25_000),
            tier(u64::MAX, 100_000, 50_000),
        ],
        open_interest_limit_lots: u64::MAX,
        funding_impact_notional: 10_000_000_000,
        expiry_ts: 0,
        maker_fee_ppm: -100,
        taker_fee_ppm: 500,
        oracle_max_age_secs: 60,
        oracle_max_conf_ppm: 10_000,
        stable_max_move_ppm_per_hour: 100_000,
        stable_max_step_secs: 60,
        unpaid_pnl_haircut_ppm: 200_000,
        funding_period_secs: 3_600,
        funding_max_rate_ppm: 1_000,
        settlement_window_secs: 0,
        settlement_min_interval_secs: 0,
        liquidation_fee_of_maint_ppm: 500_000,
        liquidation_insurance_share_ppm: 200_000,
        tier_count: 4,
        mode: 0,
        order_band_bps: 100,
        oracle_stable_guard_bps: 0,
        padding: [0; 6],
    }
}

/// Example setup of a perp market on a 9-decimal base (SOL-like): lots of 0.01 base
/// (10_000_000 native), ticks of 100 quote native per lot ($0.01 per whole base with 6-decimal
/// quote), 4096 orders per side and 512 events (the order book program's defaults).
pub fn example_perp_market_setup() -> PerpMarketSetup {
    PerpMarketSetup {
        base_decimals: 9,
        base_lot_size: 10_000_000,
        tick_size: 100,
        order_capacity: 4096,
        event_capacity: 512,
    }
}

/// Oracle configuration of a Pyth v2 price account (legacy push oracle).
pub fn pyth_v2() -> OracleConfig {
    OracleConfig {
        kind: OracleKind::PythV2,
        feed_id: [0; 32],
    }
}

/// Oracle configuration of a Pyth pull oracle: `PriceUpdateV2` accounts of `feed_id`.
pub fn pyth_pull(feed_id: [u8; 32]) -> OracleConfig {
    OracleConfig {
        kind: OracleKind::PythPull,
        feed_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Discriminator;
    use carry_margin::state::{BANK_SIZE, EXCHANGE_SIZE, MARGIN_ACCOUNT_SIZE};

    fn key(n: u8) -> Pubkey {
        Pubkey::new_from_array([n; 32])
    }

    fn meta_flags(ix: &Instruction) -> Vec<(Pubkey, bool, bool)> {
        ix.accounts
            .iter()
            .map(|m| (m.pubkey, m.is_signer, m.is_writable))
            .collect()
    }

    #[test]
    fn pdas_are_deterministic_and_use_the_program_seeds() {
        let (creator, mint, owner) = (key(1), key(2), key(3));
        let exchange = exchange_pda(&creator, 7);
        assert_eq!(exchange, exchange_pda(&creator, 7));
        assert_ne!(exchange, exchange_pda(&creator, 8));
        assert_ne!(exchange, exchange_pda(&owner, 7));
        // the program's seed layouts, spelled out from the accounts structs' `seeds = [...]`
        let find = |seeds: &[&[u8]]| Pubkey::find_program_address(seeds, &carry_margin::ID).0;
        assert_eq!(
            exchange,
            find(&[b"exchange", creator.as_ref(), &7u32.to_le_bytes()])
        );
        assert_eq!(
            insurance_vault_pda(&exchange),
            find(&[b"insurance", exchange.as_ref()])
        );
        let bank = bank_pda(&exchange, &mint);
        assert_eq!(bank, find(&[b"bank", exchange.as_ref(), mint.as_ref()]));
        assert_eq!(vault_pda(&bank), find(&[b"vault", bank.as_ref()]));
        assert_eq!(
            margin_account_pda(&exchange, &owner, 3),
            find(&[
                b"account",
                exchange.as_ref(),
                owner.as_ref(),
                &3u32.to_le_bytes()
            ])
        );
        assert_ne!(
            margin_account_pda(&exchange, &owner, 3),
            margin_account_pda(&exchange, &owner, 4)
        );
        // every PDA is off the curve (no private key can sign for it)
        for k in [
            exchange,
            bank,
            vault_pda(&bank),
            insurance_vault_pda(&exchange),
        ] {
            assert!(!k.is_on_curve());
        }
    }

    #[test]
    fn withdraw_metas_follow_the_accounts_struct_then_health_pairs() {
        let (owner, exchange, account, bank, vault, mint, to) =
            (key(1), key(2), key(3), key(4), key(5), key(6), key(7));
        let pairs = [(key(8), key(9)), (key(10), key(11))];
        let i = withdraw(
            owner, exchange, account, bank, vault, mint, to, 1_234, true, &pairs,
        );
        assert_eq!(i.program_id, carry_margin::ID);
        // (key, signer, writable) as `carry_margin::Withdraw` declares them
        assert_eq!(
            meta_flags(&i),
            vec![
                (owner, true, false),
                (exchange, false, false),
                (account, false, true),
                (bank, false, true),
                (vault, false, true),
                (mint, false, false),
                (to, false, true),
                (TOKEN_PROGRAM_ID, false, false),
                (key(8), false, true),
                (key(9), false, false),
                (key(10), false, true),
                (key(11), false, false),
            ]
        );
        // data: discriminator, then borsh (amount u64 LE, allow_borrow u8)
        let disc = instruction::Withdraw::DISCRIMINATOR;
        assert_eq!(&i.data[..disc.len()], disc);
        let mut args = 1_234u64.to_le_bytes().to_vec();
        args.push(1);
        assert_eq!(&i.data[disc.len()..], &args[..]);
    }

    #[test]
    fn init_builders_derive_their_pdas_and_sign_as_payer() {
        let (creator, usdc, oracle, owner) = (key(1), key(2), key(3), key(4));
        let exchange = exchange_pda(&creator, 0);
        let i = create_exchange(creator, usdc, 0);
        assert_eq!(
            meta_flags(&i),
            vec![
                (creator, true, true),
                (exchange, false, true),
                (usdc, false, false),
                (insurance_vault_pda(&exchange), false, true),
                (TOKEN_PROGRAM_ID, false, false),
                (SYSTEM_PROGRAM_ID, false, false),
            ]
        );
        let bank = bank_pda(&exchange, &usdc);
        let i = register_bank(
            creator,
            exchange,
            usdc,
            oracle,
            example_bank_params(),
            pyth_v2(),
        );
        assert_eq!(
            meta_flags(&i),
            vec![
                (creator, true, true),
                (exchange, false, true),
                (usdc, false, false),
                (bank, false, true),
                (vault_pda(&bank), false, true),
                (oracle, false, false),
                (TOKEN_PROGRAM_ID, false, false),
                (SYSTEM_PROGRAM_ID, false, false),
            ]
        );
        // data: discriminator, the borsh params, which equal their in-account Pod bytes, then
        // the oracle config (kind byte, feed id)
        let disc = instruction::RegisterBank::DISCRIMINATOR;
        let params = example_bank_params();
        assert_eq!(
            i.data,
            [disc, bytemuck::bytes_of(&params), &[0u8], &[0u8; 32]].concat(),
            "borsh BankParams = Pod BankParams"
        );
        let i = create_margin_account(owner, exchange, 2);
        assert_eq!(
            meta_flags(&i),
            vec![
                (owner, true, true),
                (exchange, false, false),
                (margin_account_pda(&exchange, &owner, 2), false, true),
                (SYSTEM_PROGRAM_ID, false, false),
            ]
        );
        let disc = instruction::CreateMarginAccount::DISCRIMINATOR;
        assert_eq!(i.data, [disc, &2u32.to_le_bytes()[..]].concat());
    }

    #[test]
    fn optional_remaining_accounts() {
        let k = |n| key(n);
        let i = deposit(k(1), k(2), k(3), k(4), k(5), k(6), k(7), 5, None);
        assert_eq!(i.accounts.len(), 8);
        assert!(i.accounts[0].is_signer && !i.accounts[0].is_writable);
        let i = deposit(k(1), k(2), k(3), k(4), k(5), k(6), k(7), 5, Some(k(9)));
        assert_eq!(i.accounts[8], AccountMeta::new_readonly(k(9), false));
        let i = set_token_lending(k(1), k(2), k(3), k(4), k(5), false, Some(k(9)));
        assert_eq!(i.accounts.len(), 6);
        assert_eq!(i.accounts[5], AccountMeta::new_readonly(k(9), false));
        let i = close_margin_account(k(1), k(2), k(3), &[k(4)]);
        assert_eq!(i.accounts[3], AccountMeta::new(k(4), false));
        let i = compute_health(k(2), k(3), &[(k(4), k(5))]);
        assert_eq!(
            &i.accounts[2..],
            &[
                AccountMeta::new_readonly(k(4), false),
                AccountMeta::new_readonly(k(5), false)
            ]
        );
    }

    fn with_disc<T: ZeroCopy>(v: &T) -> Vec<u8> {
        [T::DISCRIMINATOR, bytemuck::bytes_of(v)].concat()
    }

    #[test]
    fn decoders_check_discriminator_and_length() {
        let mut bank: Bank = bytemuck::Zeroable::zeroed();
        bank.mint = key(5);
        bank.oracle = key(6);
        bank.token_index = 3;
        bank.deposit_index.set(I80F48::from_u64(2));
        let data = with_disc(&bank);
        assert_eq!(data.len(), 8 + BANK_SIZE);
        // an unaligned copy decodes too
        let mut shifted = vec![0u8; 1];
        shifted.extend_from_slice(&data);
        let d = decode_bank(&shifted[1..]).unwrap();
        assert_eq!((d.mint, d.oracle, d.token_index), (key(5), key(6), 3));
        assert_eq!(d.deposit_index.get(), I80F48::from_u64(2));
        assert_eq!(
            decode_bank(&data[..data.len() - 1]).err(),
            Some(DecodeError::TooShort {
                expected: 8 + BANK_SIZE,
                actual: 8 + BANK_SIZE - 1
            })
        );
        assert!(matches!(
            decode_margin_account(&data),
            Err(DecodeError::TooShort { .. })
        ));
        let mut wrong = data.clone();
        wrong[..8].copy_from_slice(Exchange::DISCRIMINATOR);
        assert!(matches!(
            decode_bank(&wrong),
            Err(DecodeError::WrongDiscriminator)
        ));

        let mut ex: Exchange = bytemuck::Zeroable::zeroed();
        ex.admin = key(1);
        ex.settlement_decimals = 6;
        let data = with_disc(&ex);
        assert_eq!(data.len(), 8 + EXCHANGE_SIZE);
        let d = decode_exchange(&data).unwrap();
        assert_eq!((d.admin, d.settlement_decimals), (key(1), 6));

        let mut acc: MarginAccount = bytemuck::Zeroable::zeroed();
        acc.owner = key(2);
        acc.tokens[1].in_use = 1;
        acc.tokens[1].token_index = 3;
        let data = with_disc(&acc);
        assert_eq!(data.len(), 8 + MARGIN_ACCOUNT_SIZE);
        let d = decode_margin_account(&data).unwrap();
        assert_eq!(d.owner, key(2));
        // health pairs: only banks of slots in use
        let mut other: Bank = bytemuck::Zeroable::zeroed();
        other.token_index = 0;
        other.oracle = key(7);
        let pairs = health_pairs(&d, [(key(9), &bank), (key(10), &other)]);
        assert_eq!(pairs, vec![(key(9), key(6))]);
    }

    #[test]
    fn perp_market_builders_pda_and_data() {
        let (admin, exchange, book, oracle) = (key(1), key(2), key(3), key(4));
        let market = perp_market_pda(&exchange, 5);
        let find = |seeds: &[&[u8]]| Pubkey::find_program_address(seeds, &carry_margin::ID).0;
        assert_eq!(
            market,
            find(&[b"perp_market", exchange.as_ref(), &5u16.to_le_bytes()])
        );
        assert_ne!(market, perp_market_pda(&exchange, 6));
        assert!(!market.is_on_curve());
        let setup = example_perp_market_setup();
        let params = example_perp_market_params();
        let i = create_perp_market(admin, exchange, 5, book, oracle, setup, params, pyth_v2());
        // (key, signer, writable) as `carry_margin::CreatePerpMarket` declares them: the book
        // signs (it must, so that nobody else can bind an allocated account to a market)
        assert_eq!(
            meta_flags(&i),
            vec![
                (admin, true, true),
                (exchange, false, true),
                (market, false, true),
                (book, true, true),
                (oracle, false, false),
                (SYSTEM_PROGRAM_ID, false, false),
            ]
        );
        // data: discriminator, index u16, setup (borsh), params (borsh = Pod bytes), oracle
        let disc = instruction::CreatePerpMarket::DISCRIMINATOR;
        let setup_bytes = [
            &[setup.base_decimals][..],
            &setup.base_lot_size.to_le_bytes(),
            &setup.tick_size.to_le_bytes(),
            &setup.order_capacity.to_le_bytes(),
            &setup.event_capacity.to_le_bytes(),
        ]
        .concat();
        assert_eq!(
            i.data,
            [
                disc,
                &5u16.to_le_bytes(),
                &setup_bytes,
                bytemuck::bytes_of(&params),
                &[0u8],
                &[0u8; 32]
            ]
            .concat(),
            "borsh PerpMarketParams = Pod PerpMarketParams"
        );
        let i = edit_perp_market(admin, exchange, market, params);
        assert_eq!(
            meta_flags(&i),
            vec![
                (admin, true, false),
                (exchange, false, false),
                (market, false, true)
            ]
        );
        let disc = instruction::EditPerpMarket::DISCRIMINATOR;
        assert_eq!(i.data, [disc, bytemuck::bytes_of(&params)].concat());
        // the book account: system create_account of the right size, owned by the program
        let i = create_perp_book_account(admin, book, 42, &setup);
        assert_eq!(i.program_id, SYSTEM_PROGRAM_ID);
        assert_eq!(
            meta_flags(&i),
            vec![(admin, true, true), (book, true, true)]
        );
        let space = perp_book_space(setup.order_capacity, setup.event_capacity);
        let mut data = 0u32.to_le_bytes().to_vec(); // CreateAccount
        data.extend_from_slice(&42u64.to_le_bytes());
        data.extend_from_slice(&(space as u64).to_le_bytes());
        data.extend_from_slice(PROGRAM_ID.as_ref());
        assert_eq!(i.data, data);
    }

    #[test]
    fn perp_book_is_laid_out_as_an_order_book_market() {
        for (o, e) in [(4096, 512), (1024, 256), (64, 32), (1, 1)] {
            assert_eq!(
                perp_book_space(o, e),
                carry_orderbook::Market::space(o, e),
                "{o}/{e}"
            );
        }
        assert_eq!(perp_book_space(4096, 512), 955_680);
        assert_eq!(PerpBook::BOOK_OFFSET, carry_orderbook::Market::BOOK_OFFSET);
        // same header fields at the same offsets
        let h = PerpBook {
            authority: key(1),
            creator: key(2),
            tick_size: 3,
            base_lot_size: 4,
            order_capacity: 5,
            event_capacity: 6,
            max_fills: 7,
            reserved: [0; 60],
        };
        let m = carry_orderbook::Market {
            authority: key(1),
            creator: key(2),
            tick_size: 3,
            base_lot_size: 4,
            order_capacity: 5,
            event_capacity: 6,
            max_fills: 7,
            reserved: [0; 60],
        };
        assert_eq!(bytemuck::bytes_of(&h), bytemuck::bytes_of(&m));
    }

    #[test]
    fn perp_decoders_and_health_pairs() {
        let mut m: PerpMarket = bytemuck::Zeroable::zeroed();
        m.market_index = 2;
        m.oracle = key(8);
        m.params = example_perp_market_params();
        m.stable_price.set(I80F48::from_u64(1_500_000));
        let data = with_disc(&m);
        assert_eq!(data.len(), 8 + carry_margin::state::PERP_MARKET_SIZE);
        let d = decode_perp_market(&data).unwrap();
        assert_eq!((d.market_index, d.oracle, d.params), (2, key(8), m.params));
        assert!(matches!(
            decode_bank(&data),
            Err(DecodeError::WrongDiscriminator) | Err(DecodeError::TooShort { .. })
        ));
        assert!(matches!(
            decode_perp_market(&with_disc(&{
                let b: Bank = bytemuck::Zeroable::zeroed();
                b
            })),
            Err(DecodeError::TooShort { .. }) | Err(DecodeError::WrongDiscriminator)
        ));
        let mut acc: MarginAccount = bytemuck::Zeroable::zeroed();
        acc.perps[4].in_use = 1;
        acc.perps[4].market_index = 2;
        let mut other = m;
        other.market_index = 3;
        other.oracle = key(9);
        let pairs = perp_health_pairs(&acc, [(key(10), &other), (key(11), &m)]);
        assert_eq!(pairs, vec![(key(11), key(8))]);
        let metas = perp_health_accounts(&pairs, true);
        assert_eq!(
            metas,
            vec![
                AccountMeta::new(key(11), false),
                AccountMeta::new_readonly(key(8), false)
            ]
        );
        let i = compute_health_with_perps(key(1), key(2), &[(key(3), key(4))], &pairs);
        assert_eq!(i.accounts.len(), 2 + 2 + 2);
        assert!(!i.accounts[4].is_writable);
        // example parameters pass the program's validation
        assert!(example_perp_market_params().validate().is_ok());
        assert!(example_perp_market_setup().validate().is_ok());
    }

    #[test]
    fn health_info_round_trip() {
        let info = HealthInfo {
            init_health_bits: I80F48::from_i64(-5).to_bits(),
            maint_health_bits: I80F48::from_u64(7).to_bits(),
        };
        let mut bytes = info.init_health_bits.to_le_bytes().to_vec();
        bytes.extend_from_slice(&info.maint_health_bits.to_le_bytes());
        let d = decode_health_info(&bytes).unwrap();
        assert_eq!(d, info);
        assert_eq!(
            health_values(&d),
            (I80F48::from_i64(-5), I80F48::from_u64(7))
        );
        assert!(decode_health_info(&bytes[..31]).is_err());
    }
}
