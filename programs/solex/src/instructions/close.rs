//! Closing accounts and returning their rent: a trader account (its owner, when
//! empty) and a whole market (its authority, when nothing is left in it).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface};

use super::token::transfer;
use crate::error::SolexError;
use crate::events::{emit, MarketClosed, TraderClosed};
use crate::state::{BookSide, FillQueue, Market, Trader};

#[event_cpi]
#[derive(Accounts)]
pub struct CloseTrader<'info> {
    /// The owner, or the market authority while the market is paused.
    pub signer: Signer<'info>,
    /// CHECK: the trader account's owner (checked by `has_one`); receives the rent.
    #[account(mut)]
    pub owner: UncheckedAccount<'info>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(
        mut,
        close = owner,
        has_one = owner @ SolexError::NotOwner,
        has_one = market @ SolexError::WrongMarket,
        constraint = trader.load()?.is_empty() @ SolexError::TraderNotEmpty,
        constraint = may_close(&*market.load()?, &owner.key(), &signer.key()) @ SolexError::NotOwner,
    )]
    pub trader: AccountLoader<'info, Trader>,
}

/// The owner may always close its empty account; the authority only while the
/// market is paused, when a stranger's empty account would otherwise keep it open.
fn may_close(market: &Market, owner: &Pubkey, signer: &Pubkey) -> bool {
    signer == owner || (*signer == market.authority && market.is_paused())
}

pub fn handle_close_trader(ctx: Context<CloseTrader>) -> Result<()> {
    let a = &ctx.accounts;
    let mut market = a.market.load_mut()?;
    market.trader_count -= 1;
    emit(&a.event_authority, &mut market, |seq| TraderClosed { market: a.market.key(), seq, trader: a.trader.key() })
}

#[event_cpi]
#[derive(Accounts)]
pub struct CloseMarket<'info> {
    pub authority: Signer<'info>,
    /// CHECK: receives the rent of every closed account.
    #[account(mut)]
    pub destination: UncheckedAccount<'info>,
    /// Kept, marked closed, as a tombstone: a market address is never reused, so its
    /// event sequence never restarts.
    #[account(
        mut,
        has_one = authority @ SolexError::NotMarketAuthority,
        has_one = base_mint @ SolexError::WrongMint,
        has_one = quote_mint @ SolexError::WrongMint,
        has_one = bids @ SolexError::WrongBook,
        has_one = asks @ SolexError::WrongBook,
        has_one = fill_queue @ SolexError::WrongFillQueue,
        has_one = base_vault @ SolexError::WrongVault,
        has_one = quote_vault @ SolexError::WrongVault,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut, close = destination)]
    pub bids: AccountLoader<'info, BookSide>,
    #[account(mut, close = destination)]
    pub asks: AccountLoader<'info, BookSide>,
    #[account(mut, close = destination)]
    pub fill_queue: AccountLoader<'info, FillQueue>,
    #[account(mut, token::token_program = base_token_program)]
    pub base_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::token_program = quote_token_program)]
    pub quote_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub base_mint: Box<InterfaceAccount<'info, Mint>>,
    pub quote_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Receive whatever is left in the vaults once no trader remains: tokens sent to
    /// a vault directly, which belong to no trader.
    #[account(mut, token::mint = base_mint, token::token_program = base_token_program)]
    pub base_destination: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, token::mint = quote_mint, token::token_program = quote_token_program)]
    pub quote_destination: Box<InterfaceAccount<'info, TokenAccount>>,
    pub base_token_program: Interface<'info, TokenInterface>,
    pub quote_token_program: Interface<'info, TokenInterface>,
}

/// Closes the market's books, fill queue and vaults and marks the market closed.
/// Only an empty market can close: no resting orders, no pending fills, no trader
/// accounts, no unswept fees. By conservation, what is still in a vault then was
/// sent to it directly; it goes to the authority's chosen destinations.
pub fn handle_close_market(ctx: Context<CloseMarket>) -> Result<()> {
    let a = &ctx.accounts;
    let market = a.market.load()?;
    let empty = a.bids.load()?.len == 0
        && a.asks.load()?.len == 0
        && a.fill_queue.load()?.count == 0
        && market.trader_count == 0
        && market.fees_accrued == 0;
    require!(empty, SolexError::MarketNotEmpty);
    let seeds = market.signer_seeds();
    let market_info = a.market.to_account_info();
    for (vault, mint, destination, program) in [
        (&a.base_vault, &a.base_mint, &a.base_destination, &a.base_token_program),
        (&a.quote_vault, &a.quote_mint, &a.quote_destination, &a.quote_token_program),
    ] {
        if vault.amount > 0 {
            transfer(program, vault, destination, mint, market_info.clone(), &[&seeds], vault.amount)?;
        }
    }
    for (vault, program) in [(&a.base_vault, &a.base_token_program), (&a.quote_vault, &a.quote_token_program)] {
        let accounts = CloseAccount {
            account: vault.to_account_info(),
            destination: a.destination.to_account_info(),
            authority: a.market.to_account_info(),
        };
        token_interface::close_account(CpiContext::new_with_signer(program.key(), accounts, &[&seeds]))?;
    }
    drop(market);
    let mut market = a.market.load_mut()?;
    market.closed = 1;
    market.paused = 1;
    emit(&a.event_authority, &mut market, |seq| MarketClosed { market: a.market.key(), seq })
}
