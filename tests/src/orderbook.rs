//! Order book helpers: create markets, build and send authority instructions, read the book.

use crate::{TestContext, TxError, TxOutcome};
use anchor_lang::prelude::Pubkey;
use anchor_lang::{InstructionData, ToAccountMetas};
use carry_book::Book;
use carry_orderbook::{
    accounts, instruction, CancelSummary, CreateMarketParams, Market, OrderSide, OrderType,
    PlaceOrderArgs, PlaceOrderSummary, SelfTradeMode,
};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

/// A market and the keypair of its authority.
pub struct TestMarket {
    pub market: Pubkey,
    pub authority: Keypair,
    pub tick_size: u64,
    pub base_lot_size: u64,
}

/// The market's instruction with `accounts` and `data`.
pub fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: carry_orderbook::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
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
        max_fills: 16,
        self_trade: SelfTradeMode::Abort,
        oracle_price: None,
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
        let payer = t.payer();
        let params = CreateMarketParams {
            authority: authority.pubkey(),
            tick_size,
            base_lot_size,
            order_capacity,
            event_capacity,
        };
        t.send(
            &[ix(
                accounts::CreateMarket {
                    creator: payer.pubkey(),
                    market: account.pubkey(),
                },
                instruction::CreateMarket { params },
            )],
            &[],
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

    fn authority_accounts(&self, authority: &Keypair) -> accounts::MarketAuthority {
        accounts::MarketAuthority {
            authority: authority.pubkey(),
            market: self.market,
        }
    }

    /// The place instruction signed by `authority`.
    pub fn place_ix(&self, authority: &Keypair, args: PlaceOrderArgs) -> Instruction {
        ix(
            self.authority_accounts(authority),
            instruction::PlaceOrder { args },
        )
    }

    /// Places an order as the authority and returns its summary.
    pub async fn place(
        &self,
        t: &mut TestContext,
        args: PlaceOrderArgs,
    ) -> Result<PlaceOrderSummary, TxError> {
        self.place_as(t, &self.authority.insecure_clone(), args)
            .await
    }

    /// Places an order signed by `authority` (which may be the wrong key).
    pub async fn place_as(
        &self,
        t: &mut TestContext,
        authority: &Keypair,
        args: PlaceOrderArgs,
    ) -> Result<PlaceOrderSummary, TxError> {
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
        let a = self.authority.insecure_clone();
        t.execute(&[self.place_ix(&a, args)], &[&a]).await
    }

    pub async fn cancel(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        order_id: u128,
    ) -> Result<CancelSummary, TxError> {
        let a = self.authority.insecure_clone();
        let i = ix(
            self.authority_accounts(&a),
            instruction::CancelOrder { owner, order_id },
        );
        Ok(t.execute(&[i], &[&a]).await?.decode())
    }

    pub async fn cancel_by_client_id(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        client_order_id: u64,
    ) -> Result<CancelSummary, TxError> {
        let a = self.authority.insecure_clone();
        let i = ix(
            self.authority_accounts(&a),
            instruction::CancelOrderByClientId {
                owner,
                client_order_id,
            },
        );
        Ok(t.execute(&[i], &[&a]).await?.decode())
    }

    pub async fn cancel_all(
        &self,
        t: &mut TestContext,
        owner: Pubkey,
        side: Option<OrderSide>,
        limit: u8,
    ) -> Result<u32, TxError> {
        let a = self.authority.insecure_clone();
        let i = ix(
            self.authority_accounts(&a),
            instruction::CancelAllOrders { owner, side, limit },
        );
        Ok(t.execute(&[i], &[&a]).await?.decode())
    }

    pub async fn consume_events(
        &self,
        t: &mut TestContext,
        count: u32,
    ) -> Result<TxOutcome, TxError> {
        let a = self.authority.insecure_clone();
        let i = ix(
            self.authority_accounts(&a),
            instruction::ConsumeEvents { count },
        );
        t.execute(&[i], &[&a]).await
    }

    /// The market account's bytes.
    pub async fn snapshot(&self, t: &mut TestContext) -> Vec<u8> {
        t.data(&self.market).await
    }

    /// Runs `f` on the market's header and book as they are now.
    pub async fn read<R>(&self, t: &mut TestContext, f: impl FnOnce(&Market, &Book) -> R) -> R {
        let data = self.snapshot(t).await;
        read_market(&data, f)
    }
}

/// Runs `f` on a market's header and book decoded from account bytes.
pub fn read_market<R>(data: &[u8], f: impl FnOnce(&Market, &Book) -> R) -> R {
    let mut aligned = vec![0u64; data.len().div_ceil(8)];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut aligned);
    bytes[..data.len()].copy_from_slice(data);
    let (market, book) = carry_orderbook::split_market(&mut bytes[..data.len()]).expect("market");
    let market = *market;
    f(&market, &book)
}
