use anchor_lang::prelude::*;
declare_id!("CtR77MV4DLmwNfxKtGrXjBuMasypNphUx2T5dGD4s7V9");
#[program]
pub mod carry_orderbook {
    use super::*;
    pub fn noop(_ctx: Context<Noop>) -> Result<()> { Ok(()) }
}
#[derive(Accounts)]
pub struct Noop {}
