//! Order book: instruction builders and a price-level view of a market account.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use carry_book::{Book, MatchContext};
use carry_orderbook::{
    accounts, instruction, split_market, CreateMarketParams, Market, OrderSide, PlaceOrderArgs,
};

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: carry_orderbook::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `create_market` for an account of `Market::space(order_capacity, event_capacity)` bytes
/// already created and owned by the order book program. Both `creator` and `market` sign.
pub fn create_market(creator: Pubkey, market: Pubkey, params: CreateMarketParams) -> Instruction {
    let mut i = ix(
        accounts::CreateMarket { creator, market },
        instruction::CreateMarket { params },
    );
    i.accounts[1].is_signer = true;
    i
}

fn authority(authority: Pubkey, market: Pubkey) -> accounts::MarketAuthority {
    accounts::MarketAuthority { authority, market }
}

/// The market's accounts with `owner`'s open-orders account.
fn authority_owner(
    authority: Pubkey,
    market: Pubkey,
    owner: Pubkey,
) -> accounts::MarketAuthorityOwner {
    accounts::MarketAuthorityOwner {
        authority,
        market,
        open_orders: open_orders_address(&market, &owner),
    }
}

/// `owner`'s open-orders account on `market`: PDA `[OPEN_ORDERS_SEED, market, owner]`.
pub fn open_orders_address(market: &Pubkey, owner: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[
            carry_orderbook::OPEN_ORDERS_SEED,
            market.as_ref(),
            owner.as_ref(),
        ],
        &carry_orderbook::ID,
    )
    .0
}

/// `create_open_orders`: `owner`'s open-orders account on `market`, rent paid by `payer`
/// (once per owner and market, before its first resting order).
pub fn create_open_orders(payer: Pubkey, market: Pubkey, owner: Pubkey) -> Instruction {
    ix(
        accounts::CreateOpenOrders {
            payer,
            market,
            open_orders: open_orders_address(&market, &owner),
            system_program: anchor_lang::solana_program::system_program::ID,
        },
        instruction::CreateOpenOrders { owner },
    )
}

/// `close_open_orders`, signed by the market's authority: closes `owner`'s open-orders account
/// on `market` (it must list no resting order) and sends its lamports to `destination`.
pub fn close_open_orders(
    market: Pubkey,
    authority_key: Pubkey,
    owner: Pubkey,
    destination: Pubkey,
) -> Instruction {
    ix(
        accounts::CloseOpenOrders {
            authority: authority_key,
            market,
            open_orders: open_orders_address(&market, &owner),
            destination,
        },
        instruction::CloseOpenOrders {},
    )
}

/// `place_order`, signed by the market's authority (`args.owner`'s open-orders account must
/// exist: [`create_open_orders`]).
pub fn place_order(market: Pubkey, authority_key: Pubkey, args: PlaceOrderArgs) -> Instruction {
    ix(
        authority_owner(authority_key, market, args.owner),
        instruction::PlaceOrder { args },
    )
}

/// `cancel_order` by order id.
pub fn cancel_order(
    market: Pubkey,
    authority_key: Pubkey,
    owner: Pubkey,
    order_id: u128,
) -> Instruction {
    ix(
        authority(authority_key, market),
        instruction::CancelOrder { owner, order_id },
    )
}

/// `reduce_order`: takes `quantity` base native units off a resting order in place.
pub fn reduce_order(
    market: Pubkey,
    authority_key: Pubkey,
    owner: Pubkey,
    order_id: u128,
    quantity: u64,
) -> Instruction {
    ix(
        authority(authority_key, market),
        instruction::ReduceOrder {
            owner,
            order_id,
            quantity,
        },
    )
}

/// `reduce_order_by_client_id`.
pub fn reduce_order_by_client_id(
    market: Pubkey,
    authority_key: Pubkey,
    owner: Pubkey,
    client_order_id: u64,
    quantity: u64,
) -> Instruction {
    ix(
        authority_owner(authority_key, market, owner),
        instruction::ReduceOrderByClientId {
            owner,
            client_order_id,
            quantity,
        },
    )
}

/// `cancel_order_by_client_id`.
pub fn cancel_order_by_client_id(
    market: Pubkey,
    authority_key: Pubkey,
    owner: Pubkey,
    client_order_id: u64,
) -> Instruction {
    ix(
        authority_owner(authority_key, market, owner),
        instruction::CancelOrderByClientId {
            owner,
            client_order_id,
        },
    )
}

/// `cancel_all_orders`, at most `limit` orders (1..=`MAX_CANCEL_ALL_PER_CALL`, 100); its
/// return data, `CancelAllSummary`, says whether to call again.
pub fn cancel_all_orders(
    market: Pubkey,
    authority_key: Pubkey,
    owner: Pubkey,
    side: Option<OrderSide>,
    limit: u8,
) -> Instruction {
    ix(
        authority_owner(authority_key, market, owner),
        instruction::CancelAllOrders { owner, side, limit },
    )
}

/// `consume_events`: pops `count` fill events.
pub fn consume_events(market: Pubkey, authority_key: Pubkey, count: u32) -> Instruction {
    ix(
        authority(authority_key, market),
        instruction::ConsumeEvents { count },
    )
}

/// One price level, in native units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    /// Quote native units per base lot.
    pub price: u64,
    /// Base native units resting at this price.
    pub quantity: u64,
    /// Orders at this price.
    pub orders: u32,
}

/// A market as a trader reads it: header, price levels best first, queued fill events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketView {
    pub market: Market,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    /// Fill events waiting for the authority.
    pub queued_events: u32,
}

/// Errors decoding a market account.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

/// Runs `f` on the header and book of a market account's data (copied to an 8-aligned buffer,
/// as account data is on chain).
pub fn read_market<R>(data: &[u8], f: impl FnOnce(&Market, &Book) -> R) -> Result<R, DecodeError> {
    let mut aligned = vec![0u64; data.len().div_ceil(8)];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut aligned);
    bytes[..data.len()].copy_from_slice(data);
    let (market, book) =
        split_market(&mut bytes[..data.len()]).map_err(|e| DecodeError(e.to_string()))?;
    Ok(f(market, &book))
}

impl MarketView {
    /// Decodes a market account's data. Orders that cannot trade at `now` (unix seconds) and
    /// `oracle_price` (quote native per base lot, for pegged orders) are left out; orders that
    /// expire by slot are shown as live (use [`MarketView::decode_at`] to pass the slot).
    pub fn decode(
        data: &[u8],
        now: i64,
        oracle_price: Option<u64>,
    ) -> Result<MarketView, DecodeError> {
        Self::decode_at(data, now, 0, oracle_price)
    }

    /// [`MarketView::decode`] at a slot too: orders expired by slot are left out.
    pub fn decode_at(
        data: &[u8],
        now: i64,
        slot: u64,
        oracle_price: Option<u64>,
    ) -> Result<MarketView, DecodeError> {
        read_market(data, |market, book| {
            Self::from_book(market, book, (now, slot), oracle_price)
        })?
    }

    fn from_book(
        market: &Market,
        book: &Book,
        (now, slot): (i64, u64),
        oracle_price: Option<u64>,
    ) -> Result<MarketView, DecodeError> {
        let market = *market;
        let ctx = MatchContext {
            now: now.max(0) as u64,
            oracle_price: oracle_price
                .map(|p| p / market.tick_size)
                .filter(|p| *p > 0),
            slot,
        };
        let mut levels = [Vec::new(), Vec::new()];
        for side in [carry_book::OrderSide::Bid, carry_book::OrderSide::Ask] {
            let out: &mut Vec<Level> = &mut levels[side as usize];
            book.visit_tradable(side, &ctx, |o| {
                let price = o.price.unwrap_or(0).saturating_mul(market.tick_size);
                let quantity = o.order.quantity.saturating_mul(market.base_lot_size);
                match out.last_mut() {
                    Some(l) if l.price == price => {
                        l.quantity += quantity;
                        l.orders += 1;
                    }
                    _ => out.push(Level {
                        price,
                        quantity,
                        orders: 1,
                    }),
                }
                true
            })
            .map_err(|e| DecodeError(format!("{e:?}")))?;
        }
        let [bids, asks] = levels;
        Ok(MarketView {
            market,
            bids,
            asks,
            queued_events: book.event_count(),
        })
    }

    /// A plain-text ladder of the best `depth` levels per side, asks on top.
    pub fn ladder(&self, depth: usize) -> String {
        let mut s = format!("{:>14} {:>16} {:>6}\n", "price", "quantity", "orders");
        for l in self.asks.iter().take(depth).rev() {
            s += &format!("{:>14} {:>16} {:>6}  ask\n", l.price, l.quantity, l.orders);
        }
        s += &format!("{:-<40}\n", "");
        for l in self.bids.iter().take(depth) {
            s += &format!("{:>14} {:>16} {:>6}  bid\n", l.price, l.quantity, l.orders);
        }
        s
    }
}

/// The fill events queued in a market or perp book account's data, oldest first (what
/// `consume_events` / `consume_perp_events` applies next).
pub fn queued_events(data: &[u8]) -> Result<Vec<carry_book::FillEvent>, DecodeError> {
    read_market(data, |_, book| {
        (0..book.event_count())
            .filter_map(|i| book.event(i).copied())
            .collect()
    })
}

/// The resting orders an owner's open-orders list records, read against the book in a market
/// (or perp book) account's data: each live order as it rests now (entries whose order left
/// the book are skipped). `list`: an `OpenOrdersAccount`'s `orders()`, or a margin account's
/// `perp_open_orders[i].book_ref()`.
pub fn listed_orders(
    market_data: &[u8],
    owner: &Pubkey,
    list: &carry_book::OpenOrders,
) -> Result<Vec<carry_book::Order>, DecodeError> {
    let owner = owner.to_bytes();
    read_market(market_data, |_, book| {
        book.open_orders(&owner, list).copied().collect()
    })
}
