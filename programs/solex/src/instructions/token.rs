//! Shared checks and token movements for deposit and withdraw.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::error::SolexError;
use crate::state::{Asset, Market};

/// Resolves `mint`/`vault` against the market; anything else is rejected.
pub fn asset_of(market: &Market, mint: &Pubkey, vault: &Pubkey) -> Result<Asset> {
    let (asset, expected_vault) = if *mint == market.base_mint {
        (Asset::Base, market.base_vault)
    } else if *mint == market.quote_mint {
        (Asset::Quote, market.quote_vault)
    } else {
        return err!(SolexError::WrongMint);
    };
    require_keys_eq!(*vault, expected_vault, SolexError::WrongVault);
    Ok(asset)
}

pub fn transfer<'info>(
    token_program: &Interface<'info, TokenInterface>,
    from: &InterfaceAccount<'info, TokenAccount>,
    to: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    authority: AccountInfo<'info>,
    signer_seeds: &[&[&[u8]]],
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority,
    };
    let ctx = CpiContext::new_with_signer(token_program.key(), accounts, signer_seeds);
    token_interface::transfer_checked(ctx, amount, mint.decimals)
}
