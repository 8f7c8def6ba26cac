use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::{emit, TraderCreated};
use crate::state::{Market, Trader, MAX_ORDERS_PER_TRADER, TRADER_SEED};

#[event_cpi]
#[derive(Accounts)]
#[instruction(max_orders: u16)]
pub struct CreateTrader<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub owner: Signer<'info>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(
        init,
        payer = payer,
        space = Trader::space(max_orders),
        seeds = [TRADER_SEED, market.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub trader: AccountLoader<'info, Trader>,
    pub system_program: Program<'info, System>,
}

/// `max_orders` (1..=256) sizes the account: it bounds the trader's open orders.
pub fn handle_create_trader(ctx: Context<CreateTrader>, max_orders: u16) -> Result<()> {
    let a = &ctx.accounts;
    let market = a.market.load()?;
    require!(market.closed == 0, SolexError::MarketClosed);
    require!(!market.is_paused(), SolexError::MarketPaused);
    drop(market);
    require!((1..=MAX_ORDERS_PER_TRADER).contains(&max_orders), SolexError::InvalidMaxOrders);
    let mut trader = a.trader.load_init()?;
    trader.market = a.market.key();
    trader.owner = a.owner.key();
    trader.bump = ctx.bumps.trader;
    trader.max_orders = max_orders;
    drop(trader);
    let mut market = a.market.load_mut()?;
    market.trader_count += 1;
    emit(&a.event_authority, &mut market, |seq| TraderCreated {
        market: a.market.key(),
        seq,
        trader: a.trader.key(),
        owner: a.owner.key(),
        max_orders,
    })
}
