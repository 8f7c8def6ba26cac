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

/// Token-2022 extension types a market's mint may have: metadata and group
/// pointers and their data (18-23), nothing else. Every other one lets a third
/// party charge transfers (the vault would receive less than a deposit credits),
/// move or freeze the vaults' tokens (permanent delegate, pausable, default frozen
/// state, transfer hooks, non-transferable, confidential transfers), or close the
/// mint and re-create it at the same address with other extensions.
pub const ALLOWED_MINT_EXTENSIONS: [u16; 6] = [18, 19, 20, 21, 22, 23];

/// Refuses a mint with an extension outside `ALLOWED_MINT_EXTENSIONS`. A mint
/// without extensions is 82 bytes (SPL Token's, and Token-2022's plain mints); one
/// with them is padded to 165 bytes, then an account-type byte, then TLV entries
/// (u16 type, u16 length, value).
pub fn check_mint_extensions(mint: &AccountInfo) -> Result<()> {
    const BASE: usize = 82;
    const TLV_START: usize = 166;
    let data = mint.try_borrow_data()?;
    if data.len() == BASE {
        return Ok(());
    }
    require!(data.len() >= TLV_START, SolexError::UnsupportedMintExtension);
    let mut at = TLV_START;
    while at + 4 <= data.len() {
        let kind = u16::from_le_bytes([data[at], data[at + 1]]);
        if kind == 0 {
            break; // the zeroed tail of the account
        }
        require!(ALLOWED_MINT_EXTENSIONS.contains(&kind), SolexError::UnsupportedMintExtension);
        at += 4 + u16::from_le_bytes([data[at + 2], data[at + 3]]) as usize;
    }
    Ok(())
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
