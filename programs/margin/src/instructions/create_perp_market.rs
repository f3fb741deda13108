//! `create_perp_market` (admin): a perp market PDA and its book.
//!
//! The book account is too large to create by CPI (10 KiB limit), so the admin allocates it
//! beforehand with the system program (`create_account`: owner = this program, size =
//! `PerpBook::space(order_capacity, event_capacity)`, zeroed, rent exempt), usually in the
//! same transaction. It must **sign** this instruction too: whoever holds its key decides what
//! it becomes, so nobody who sees the allocated account can bind it to a market of their own
//! first. Here it is checked (owner, size, zeroed header) and initialised: the discriminator,
//! the [`PerpBook`] header and an empty `carry_book::Book`.

use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};
use anchor_lang::Discriminator;
use carry_book::Book;

use crate::error::{book_err, CarryError};
use crate::events::PerpMarketEvent;
use crate::oracle::{check_oracle_config, perp_oracle_price};
use crate::state::*;

/// Accounts of `create_perp_market`.
#[derive(Accounts)]
#[instruction(market_index: u16)]
pub struct CreatePerpMarket<'info> {
    /// Exchange admin; pays the market's rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// Exchange; its `perp_market_count` grows by one.
    #[account(mut, has_one = admin @ CarryError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Perp market PDA `[b"perp_market", exchange, market_index u16 LE]`, created here
    /// (by hand, after the index checks, so that a taken index is a named error).
    /// CHECK: address checked by the seeds; must be unused (checked in the handler).
    #[account(
        mut,
        seeds = [PERP_MARKET_SEED, exchange.key().as_ref(), &market_index.to_le_bytes()],
        bump
    )]
    pub perp_market: UncheckedAccount<'info>,
    /// The book account: allocated beforehand (owner = this program, zeroed, size
    /// `PerpBook::space(..)`), signing.
    /// CHECK: owner, size and zeroed header checked in the handler.
    #[account(mut, signer @ CarryError::PerpBookNotSigner)]
    pub book: UncheckedAccount<'info>,
    /// Oracle account of the format `oracle_config` names; read now (owner, format, feed, age
    /// and confidence checked) to seed the stable price; its key is stored in the market.
    /// CHECK: validated in `oracle.rs`.
    pub oracle: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Create perp market `market_index` (must be the exchange's `perp_market_count`:
/// `PerpMarketIndexTaken` below it, `PerpMarketIndexNotNext` above) with its book and oracle.
/// Checks, in order: `setup`, `params` (named errors), `oracle_config`, expiry in the future,
/// the index, the book account (`PerpBookWrongOwner`, `PerpBookWrongSize`,
/// `PerpBookNotZeroed`), the oracle (must pass the market's limits). The stable price starts
/// at the oracle price (per lot), the funding index at 0 with a window starting now.
pub fn handle_create_perp_market(
    ctx: Context<CreatePerpMarket>,
    market_index: u16,
    setup: PerpMarketSetup,
    params: PerpMarketParams,
    oracle_config: OracleConfig,
) -> Result<()> {
    setup.validate()?;
    params.validate()?;
    check_oracle_config(&oracle_config)?;
    let now = Clock::get()?.unix_timestamp;
    require!(
        params.expiry_ts == 0 || params.expiry_ts > now,
        CarryError::InvalidExpiry
    );
    let exchange_key = ctx.accounts.exchange.key();
    let quote_decimals = {
        let ex = ctx.accounts.exchange.load()?;
        require!(
            market_index >= ex.perp_market_count,
            CarryError::PerpMarketIndexTaken
        );
        require!(
            market_index == ex.perp_market_count,
            CarryError::PerpMarketIndexNotNext
        );
        require!(market_index < u16::MAX, CarryError::TooManyPerpMarkets);
        ex.settlement_decimals
    };
    let pm_ai = ctx.accounts.perp_market.to_account_info();
    require!(
        pm_ai.owner == &system_program::ID && pm_ai.data_is_empty(),
        CarryError::PerpMarketIndexTaken
    );

    let book_ai = ctx.accounts.book.to_account_info();
    require_keys_eq!(*book_ai.owner, crate::ID, CarryError::PerpBookWrongOwner);
    require!(
        book_ai.data_len() == setup.book_space(),
        CarryError::PerpBookWrongSize
    );
    {
        let data = book_ai.try_borrow_data()?;
        // The discriminator, the header and the book's own header: a fresh account is zero
        // there; anything else was used before (e.g. another market's book).
        let head = PerpBook::BOOK_OFFSET + core::mem::size_of::<carry_book::BookHeader>();
        require!(
            data[..head].iter().all(|b| *b == 0),
            CarryError::PerpBookNotZeroed
        );
    }

    // The market in memory first (boxed: 696 bytes stay off the 4 KiB SBF stack frame): the
    // oracle is read through it.
    let mut market: Box<PerpMarket> = Box::new(bytemuck::Zeroable::zeroed());
    market.exchange = exchange_key;
    market.book = book_ai.key();
    market.oracle = ctx.accounts.oracle.key();
    market.oracle_kind = oracle_config.kind as u8;
    market.oracle_feed_id = oracle_config.feed_id;
    market.base_decimals = setup.base_decimals;
    market.base_lot_size = setup.base_lot_size;
    market.tick_size = setup.tick_size;
    market.params = params;
    market.market_index = market_index;
    market.bump = ctx.bumps.perp_market;
    let price = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
    market.stable_price.set(price);
    market.stable_price_ts = now;
    market.set_funding_state(&carry_math::funding::FundingState::new(now));

    let index_bytes = market_index.to_le_bytes();
    let seeds: &[&[u8]] = &[
        PERP_MARKET_SEED,
        exchange_key.as_ref(),
        &index_bytes,
        &[ctx.bumps.perp_market],
    ];
    create_pda_account(
        &ctx.accounts.admin.to_account_info(),
        &pm_ai,
        &ctx.accounts.system_program.to_account_info(),
        8 + PERP_MARKET_SIZE,
        seeds,
    )?;
    {
        let mut data = pm_ai.try_borrow_mut_data()?;
        data[..8].copy_from_slice(PerpMarket::DISCRIMINATOR);
        data[8..8 + PERP_MARKET_SIZE].copy_from_slice(bytemuck::bytes_of(&*market));
    }
    {
        let mut data = book_ai.try_borrow_mut_data()?;
        data[..8].copy_from_slice(PerpBook::DISCRIMINATOR);
        let header = PerpBook {
            authority: pm_ai.key(),
            creator: ctx.accounts.admin.key(),
            tick_size: setup.tick_size,
            base_lot_size: setup.base_lot_size,
            order_capacity: setup.order_capacity,
            event_capacity: setup.event_capacity,
            max_fills: PERP_MAX_FILLS,
            reserved: [0; 60],
        };
        data[8..PerpBook::BOOK_OFFSET].copy_from_slice(bytemuck::bytes_of(&header));
        Book::init(
            &mut data[PerpBook::BOOK_OFFSET..],
            setup.order_capacity,
            setup.event_capacity,
        )
        .map_err(book_err)?;
    }
    ctx.accounts.exchange.load_mut()?.perp_market_count = market_index + 1;
    emit!(PerpMarketEvent {
        perp_market: pm_ai.key(),
        market_index,
        book: market.book,
        oracle: market.oracle,
        created: true,
        params,
        stable_price_bits: price.to_bits(),
    });
    msg!(
        "perp market {} created, price per lot {}",
        market_index,
        price
    );
    Ok(())
}

/// Create a PDA account owned by this program with `space` zeroed bytes, rent paid by
/// `payer`. An address someone sent lamports to beforehand (which would make
/// `create_account` fail) is topped up, allocated and assigned instead.
fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    space: usize,
    seeds: &[&[u8]],
) -> Result<()> {
    let rent = Rent::get()?.minimum_balance(space);
    let current = target.lamports();
    if current == 0 {
        return system_program::create_account(
            CpiContext::new_with_signer(
                system.clone(),
                CreateAccount {
                    from: payer.clone(),
                    to: target.clone(),
                },
                &[seeds],
            ),
            rent,
            space as u64,
            &crate::ID,
        );
    }
    let missing = rent.saturating_sub(current);
    if missing > 0 {
        system_program::transfer(
            CpiContext::new(
                system.clone(),
                Transfer {
                    from: payer.clone(),
                    to: target.clone(),
                },
            ),
            missing,
        )?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(
            system.clone(),
            Allocate {
                account_to_allocate: target.clone(),
            },
            &[seeds],
        ),
        space as u64,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(
            system.clone(),
            Assign {
                account_to_assign: target.clone(),
            },
            &[seeds],
        ),
        &crate::ID,
    )
}
