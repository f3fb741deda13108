//! Order book helpers: create markets, send authority instructions (built by the SDK), read
//! the book.

use crate::{TestContext, TxError, TxOutcome};
use anchor_lang::prelude::Pubkey;
use carry_book::Book;
use carry_orderbook::{
    CancelAllSummary, CancelSummary, CreateMarketParams, Market, OpenOrdersAccount, OrderSide,
    OrderType, PlaceOrderArgs, PlaceOrderSummary, ReduceSummary, SelfTradeMode,
};
use carry_sdk::orderbook as sdk;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

/// A market and the keypair of its authority.
pub struct TestMarket {
    pub market: Pubkey,
    pub authority: Keypair,
    pub tick_size: u64,
    pub base_lot_size: u64,
}

/// A limit order of `owner` with price and quantity in native units.
pub fn limit(owner: Pubkey, side: OrderSide, price: u64, quantity: u64) -> PlaceOrderArgs {
    PlaceOrderArgs {
        owner,
        side,
        order_type: OrderType::Limit,
        price,
        peg_offset: 0,
        quantity,
        client_order_id: 0,
        expires_at: 0,
        expires_at_slot: 0,
        max_fills: 16,
        self_trade: SelfTradeMode::Abort,
        oracle_price: None,
        min_base_fill: 0,
        min_quote_fill: 0,
        quote_budget: 0,
    }
}

impl TestMarket {
    /// Allocates and initializes a market whose authority is a fresh keypair.
    pub async fn create(
        t: &mut TestContext,
        tick_size: u64,
        base_lot_size: u64,
        order_capacity: u32,
        event_capacity: u32,
    ) -> TestMarket {
        let authority = Keypair::new();
        let account = t
            .create_account(
                Market::space(order_capacity, event_capacity),
                &carry_orderbook::ID,
            )
            .await;
        let params = CreateMarketParams {
            authority: authority.pubkey(),
            tick_size,
            base_lot_size,
            order_capacity,
            event_capacity,
            max_fills: 0,
        };
        let payer = t.payer().pubkey();
        t.send(
            &[sdk::create_market(payer, account.pubkey(), params)],
            &[&account],
        )
        .await
        .unwrap();
        TestMarket {
            market: account.pubkey(),
            authority,
            tick_size,
            base_lot_size,
        }
    }

    /// Creates `owner`'s open-orders account on this market unless it exists (paid by the
    /// test's payer): every helper below that needs it calls this first.
    pub async fn ensure_open_orders(&self, t: &mut TestContext, owner: Pubkey) {
        let key = sdk::open_orders_address(&self.market, &owner);
        if t.account(&key).await.is_none() {
            let payer = t.payer().pubkey();
            t.send(&[sdk::create_open_orders(payer, self.market, owner)], &[])
                .await
                .unwrap();
        }
    }

    /// `owner`'s open-orders account on this market, as the engine reads it.
    pub async fn open_orders(&self, t: &mut TestContext, owner: Pubkey) -> OpenOrdersAccount {
        t.zero_copy(&sdk::open_orders_address(&self.market, &owner))
            .await
    }

    /// The place instruction signed by `authority`.
    pub fn place_ix(&self, authority: &Keypair, args: PlaceOrderArgs) -> Instruction {
        sdk::place_order(self.market, authority.pubkey(), args)
    }

    /// Sends `i` signed by the authority and returns the outcome.
    async fn as_authority(
        &self,
        t: &mut TestContext,
        i: Instruction,
    ) -> Result<TxOutcome, TxError> {
        let a = self.authority.insecure_clone();
        t.execute(&[i], &[&a]).await
    }

    /// Places an order as the authority and returns its summary.
    pub async fn place(
        &self,
        t: &mut TestContext,
        args: PlaceOrderArgs,
    ) -> Result<PlaceOrderSummary, TxError> {
        Ok(self.place_outcome(t, args).await?.decode())
    }

    /// Places an order signed by `authority` (which may be the wrong key).
    pub async fn place_as(
        &self,
        t: &mut TestContext,
        authority: &Keypair,
        args: PlaceOrderArgs,
    ) -> Result<PlaceOrderSummary, TxError> {
        self.ensure_open_orders(t, args.owner).await;
        let out = t
            .execute(&[self.place_ix(authority, args)], &[authority])
            .await?;
        Ok(out.decode())
    }

    /// Places and returns the whole transaction outcome (logs, return data).
    pub async fn place_outcome(
        &self,
        t: &mut TestContext,
        args: PlaceOrderArgs,
    ) -> Result<TxOutcome, TxError> {
        self.ensure_open_orders(t, args.owner).await;
        let i = self.place_ix(&self.authority, args);
        self.as_authority(t, i).await
    }

    pub async fn cancel(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        order_id: u128,
    ) -> Result<CancelSummary, TxError> {
        let i = sdk::cancel_order(self.market, self.authority.pubkey(), owner, order_id);
        Ok(self.as_authority(t, i).await?.decode())
    }

    pub async fn cancel_by_client_id(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        client_order_id: u64,
    ) -> Result<CancelSummary, TxError> {
        self.ensure_open_orders(t, owner).await;
        let i = sdk::cancel_order_by_client_id(
            self.market,
            self.authority.pubkey(),
            owner,
            client_order_id,
        );
        Ok(self.as_authority(t, i).await?.decode())
    }

    pub async fn reduce(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        order_id: u128,
        quantity: u64,
    ) -> Result<ReduceSummary, TxError> {
        let i = sdk::reduce_order(
            self.market,
            self.authority.pubkey(),
            owner,
            order_id,
            quantity,
        );
        Ok(self.as_authority(t, i).await?.decode())
    }

    pub async fn reduce_by_client_id(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        client_order_id: u64,
        quantity: u64,
    ) -> Result<ReduceSummary, TxError> {
        self.ensure_open_orders(t, owner).await;
        let i = sdk::reduce_order_by_client_id(
            self.market,
            self.authority.pubkey(),
            owner,
            client_order_id,
            quantity,
        );
        Ok(self.as_authority(t, i).await?.decode())
    }

    pub async fn cancel_all(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        side: Option<OrderSide>,
        limit: u8,
    ) -> Result<u32, TxError> {
        Ok(self
            .cancel_all_summary(t, owner, side, limit)
            .await?
            .cancelled)
    }

    pub async fn cancel_all_summary(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        side: Option<OrderSide>,
        limit: u8,
    ) -> Result<CancelAllSummary, TxError> {
        self.ensure_open_orders(t, owner).await;
        let i = sdk::cancel_all_orders(self.market, self.authority.pubkey(), owner, side, limit);
        Ok(self.as_authority(t, i).await?.decode())
    }

    pub async fn consume_events(
        &self,
        t: &mut TestContext,
        count: u32,
    ) -> Result<TxOutcome, TxError> {
        let i = sdk::consume_events(self.market, self.authority.pubkey(), count);
        self.as_authority(t, i).await
    }

    /// The market account's bytes.
    pub async fn snapshot(&self, t: &mut TestContext) -> Vec<u8> {
        t.data(&self.market).await
    }

    /// Runs `f` on the market's header and book as they are now.
    pub async fn read<R>(&self, t: &mut TestContext, f: impl FnOnce(&Market, &Book) -> R) -> R {
        let data = self.snapshot(t).await;
        sdk::read_market(&data, f).expect("market account")
    }
}
