//! The token faucet: test tokens of mints whose authority is the chain's faucet keypair (the
//! bootstrap creates the local chain's USDC, SOL, BTC and ETH mints that way), minted into the
//! owner's associated token account (created if missing) by a real transaction.

use anchor_spl::associated_token::get_associated_token_address;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Signature, Signer};
use solana_sdk::transaction::Transaction;

use crate::chain::Chain;

/// Mint `amount` native units of `mint` to `owner`'s associated token account.
pub fn mint_tokens(
    chain: &Chain,
    owner: &Pubkey,
    mint: &Pubkey,
    amount: u64,
) -> Result<Signature, String> {
    if amount == 0 {
        return Err("amount must be positive".into());
    }
    let faucet = chain.faucet.pubkey();
    let ata = get_associated_token_address(owner, mint);
    let ixs = [
        create_associated_token_account_idempotent(&faucet, owner, mint, &spl_token::ID),
        spl_token::instruction::mint_to(&spl_token::ID, mint, &ata, &faucet, &[], amount)
            .map_err(|e| e.to_string())?,
    ];
    let tx = Transaction::new_signed_with_payer(
        &ixs,
        Some(&faucet),
        &[&chain.faucet],
        chain.bank().last_blockhash(),
    );
    let sig = tx.signatures[0];
    let r = chain.process(tx.into()).map_err(|e| e.to_string())?;
    r.status.map_err(|e| {
        format!(
            "token faucet failed (is the mint a faucet mint?): {e}\n{}",
            r.logs.join("\n")
        )
    })?;
    Ok(sig)
}
