//! Closing accounts and returning their rent: a trader account (its owner, when
//! empty) and a whole market (its authority, when nothing is left in it).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, TokenAccount, TokenInterface};

use crate::error::SolexError;
use crate::events::{MarketClosed, TraderClosed};
use crate::state::{BookSide, FillQueue, Market, Trader};

#[event_cpi]
#[derive(Accounts)]
pub struct CloseTrader<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(
        mut,
        close = owner,
        has_one = owner @ SolexError::NotOwner,
        has_one = market @ SolexError::WrongMarket,
        constraint = trader.load()?.is_empty() @ SolexError::TraderNotEmpty,
    )]
    pub trader: AccountLoader<'info, Trader>,
}

pub fn handle_close_trader(ctx: Context<CloseTrader>) -> Result<()> {
    let mut market = ctx.accounts.market.load_mut()?;
    market.trader_count -= 1;
    let event = TraderClosed {
        market: ctx.accounts.market.key(),
        seq: market.next_event_seq(),
        trader: ctx.accounts.trader.key(),
    };
    drop(market);
    emit_cpi!(event);
    Ok(())
}

#[event_cpi]
#[derive(Accounts)]
pub struct CloseMarket<'info> {
    pub authority: Signer<'info>,
    /// CHECK: receives the rent of every closed account.
    #[account(mut)]
    pub destination: UncheckedAccount<'info>,
    #[account(
        mut,
        close = destination,
        has_one = authority @ SolexError::NotMarketAuthority,
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
    pub base_token_program: Interface<'info, TokenInterface>,
    pub quote_token_program: Interface<'info, TokenInterface>,
}

/// Closes the market, its books, fill queue and vaults. Only an empty market can
/// close: no resting orders, no pending fills, no trader accounts, no unswept fees
/// (so, by conservation, both vaults are empty too).
pub fn handle_close_market(ctx: Context<CloseMarket>) -> Result<()> {
    let a = &ctx.accounts;
    let market = a.market.load()?;
    let empty = a.bids.load()?.len == 0
        && a.asks.load()?.len == 0
        && a.fill_queue.load()?.count == 0
        && market.trader_count == 0
        && market.fees_accrued == 0
        && a.base_vault.amount == 0
        && a.quote_vault.amount == 0;
    require!(empty, SolexError::MarketNotEmpty);
    let seeds = market.signer_seeds();
    for (vault, program) in [(&a.base_vault, &a.base_token_program), (&a.quote_vault, &a.quote_token_program)] {
        let accounts = CloseAccount {
            account: vault.to_account_info(),
            destination: a.destination.to_account_info(),
            authority: a.market.to_account_info(),
        };
        token_interface::close_account(CpiContext::new_with_signer(program.key(), accounts, &[&seeds]))?;
    }
    drop(market);
    let event = MarketClosed { market: a.market.key(), seq: a.market.load_mut()?.next_event_seq() };
    emit_cpi!(event);
    Ok(())
}
