//! Tokens out of a vault the exchange PDA owns (bank vaults, to the insurance vault or a
//! user's token account): one `transfer_checked` signed with the exchange's seeds.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, TransferChecked};

use crate::state::{Exchange, EXCHANGE_SEED};

/// Move `amount` native units of `mint` from `from` (owned by the exchange PDA) to `to`.
pub fn transfer_out<'info>(
    token_program: AccountInfo<'info>,
    exchange: &AccountLoader<'info, Exchange>,
    from: AccountInfo<'info>,
    mint: &Account<'info, Mint>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let (creator, num, bump) = {
        let ex = exchange.load()?;
        (ex.creator, ex.exchange_num.to_le_bytes(), ex.bump)
    };
    let seeds: &[&[u8]] = &[EXCHANGE_SEED, creator.as_ref(), &num, &[bump]];
    token::transfer_checked(
        CpiContext::new_with_signer(
            token_program,
            TransferChecked {
                from,
                mint: mint.to_account_info(),
                to,
                authority: exchange.to_account_info(),
            },
            &[seeds],
        ),
        amount,
        mint.decimals,
    )
}
