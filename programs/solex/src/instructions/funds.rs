//! deposit and withdraw: token transfers between a trader's wallet and the market's
//! vaults, credited to or debited from the trader's available balance.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

// Glob: the Accounts derive also needs the generated OwnedTraderBumps and client module.
use super::owned_trader::*;
use super::token::{asset_of, transfer};
use crate::error::SolexError;
use crate::events::{emit, Balances, Deposited, Withdrawn};

#[event_cpi]
#[derive(Accounts)]
pub struct MoveFunds<'info> {
    pub owned: OwnedTrader<'info>,
    /// The owner's token account (source of a deposit, destination of a withdrawal).
    /// Owned by the trader's owner, as settle_funds requires: a withdrawal can never
    /// land in a token account nobody withdraws from, such as a market's vault.
    #[account(
        mut,
        token::mint = mint,
        token::token_program = token_program,
        constraint = wallet.owner == owned.owner.key() @ SolexError::WrongTokenOwner,
    )]
    pub wallet: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handle_deposit(ctx: Context<MoveFunds>, amount: u64) -> Result<()> {
    require!(amount > 0, SolexError::ZeroAmount);
    let a = &ctx.accounts;
    let market = a.owned.market.load()?;
    require!(!market.is_paused(), SolexError::MarketPaused);
    let asset = asset_of(&market, &a.mint.key(), &a.vault.key())?;
    drop(market);
    transfer(&a.token_program, &a.wallet, &a.vault, &a.mint, a.owned.owner.to_account_info(), &[], amount)?;

    let balances = {
        let mut trader = a.owned.trader.load_mut()?;
        trader.credit(asset, amount)?;
        Balances::of(&trader)
    };
    emit(&a.event_authority, &mut *a.owned.market.load_mut()?, |seq| Deposited {
        market: a.owned.market.key(),
        seq,
        trader: a.owned.trader.key(),
        mint: a.mint.key(),
        amount,
        balances,
    })
}

pub fn handle_withdraw(ctx: Context<MoveFunds>, amount: u64) -> Result<()> {
    require!(amount > 0, SolexError::ZeroAmount);
    let a = &ctx.accounts;
    let mut trader = a.owned.trader.load_mut()?;
    let market = a.owned.market.load()?;
    let asset = asset_of(&market, &a.mint.key(), &a.vault.key())?;
    trader.debit(asset, amount)?;
    let balances = Balances::of(&trader);
    drop(trader);

    transfer(
        &a.token_program,
        &a.vault,
        &a.wallet,
        &a.mint,
        a.owned.market.to_account_info(),
        &[&market.signer_seeds()],
        amount,
    )?;
    drop(market);
    emit(&a.event_authority, &mut *a.owned.market.load_mut()?, |seq| Withdrawn {
        market: a.owned.market.key(),
        seq,
        trader: a.owned.trader.key(),
        mint: a.mint.key(),
        amount,
        balances,
    })
}
