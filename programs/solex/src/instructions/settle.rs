//! Moving money out: `settle_funds` (anyone, to the owner's token accounts) and
//! `sweep_fees` (the market authority).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use super::token::transfer;
use crate::error::SolexError;
use crate::events::{emit, Balances, FeesSwept, FundsSettled};
use crate::state::{Market, Trader};

#[event_cpi]
#[derive(Accounts)]
pub struct SettleFunds<'info> {
    #[account(
        mut,
        has_one = base_vault @ SolexError::WrongVault,
        has_one = quote_vault @ SolexError::WrongVault,
        has_one = base_mint @ SolexError::WrongMint,
        has_one = quote_mint @ SolexError::WrongMint,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut, has_one = market @ SolexError::WrongMarket)]
    pub trader: AccountLoader<'info, Trader>,
    #[account(
        mut,
        token::mint = base_mint,
        token::token_program = base_token_program,
        constraint = owner_base.owner == trader.load()?.owner @ SolexError::WrongTokenOwner,
    )]
    pub owner_base: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        mut,
        token::mint = quote_mint,
        token::token_program = quote_token_program,
        constraint = owner_quote.owner == trader.load()?.owner @ SolexError::WrongTokenOwner,
    )]
    pub owner_quote: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub base_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub quote_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub base_mint: Box<InterfaceAccount<'info, Mint>>,
    pub quote_mint: Box<InterfaceAccount<'info, Mint>>,
    pub base_token_program: Interface<'info, TokenInterface>,
    pub quote_token_program: Interface<'info, TokenInterface>,
}

/// Pays out the trader's whole available balances. Permissionless: the tokens can
/// only go to accounts owned by the trader account's owner.
pub fn handle_settle_funds(ctx: Context<SettleFunds>) -> Result<()> {
    let a = &ctx.accounts;
    let (base_amount, quote_amount, balances) = {
        let mut trader = a.trader.load_mut()?;
        let (base, quote) = (trader.base_available, trader.quote_available);
        trader.base_available = 0;
        trader.quote_available = 0;
        (base, quote, Balances::of(&trader))
    };
    require!(base_amount > 0 || quote_amount > 0, SolexError::NothingToSettle);
    let market = a.market.load()?;
    let seeds = market.signer_seeds();
    let authority = a.market.to_account_info();
    if base_amount > 0 {
        transfer(
            &a.base_token_program,
            &a.base_vault,
            &a.owner_base,
            &a.base_mint,
            authority.clone(),
            &[&seeds],
            base_amount,
        )?;
    }
    if quote_amount > 0 {
        transfer(
            &a.quote_token_program,
            &a.quote_vault,
            &a.owner_quote,
            &a.quote_mint,
            authority,
            &[&seeds],
            quote_amount,
        )?;
    }
    drop(market);
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| FundsSettled {
        market: a.market.key(),
        seq,
        trader: a.trader.key(),
        base_amount,
        quote_amount,
        balances,
    })
}

#[event_cpi]
#[derive(Accounts)]
pub struct SweepFees<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        has_one = authority @ SolexError::NotMarketAuthority,
        has_one = quote_vault @ SolexError::WrongVault,
        has_one = quote_mint @ SolexError::WrongMint,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut)]
    pub quote_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Any token account of the quote mint, chosen by the authority.
    #[account(mut, token::mint = quote_mint, token::token_program = token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub quote_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handle_sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
    let a = &ctx.accounts;
    let amount = core::mem::take(&mut a.market.load_mut()?.fees_accrued);
    require!(amount > 0, SolexError::NoFees);
    let market = a.market.load()?;
    let authority = a.market.to_account_info();
    transfer(
        &a.token_program,
        &a.quote_vault,
        &a.destination,
        &a.quote_mint,
        authority,
        &[&market.signer_seeds()],
        amount,
    )?;
    drop(market);
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| FeesSwept {
        market: a.market.key(),
        seq,
        destination: a.destination.key(),
        amount,
    })
}
