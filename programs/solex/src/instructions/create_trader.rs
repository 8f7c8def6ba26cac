use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::TraderCreated;
use crate::state::{Market, Trader, TRADER_SEED};

#[event_cpi]
#[derive(Accounts)]
pub struct CreateTrader<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub owner: Signer<'info>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(
        init,
        payer = payer,
        space = Trader::LEN,
        seeds = [TRADER_SEED, market.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub trader: AccountLoader<'info, Trader>,
    pub system_program: Program<'info, System>,
}

pub fn handle_create_trader(ctx: Context<CreateTrader>) -> Result<()> {
    let a = &ctx.accounts;
    require!(!a.market.load()?.is_paused(), SolexError::MarketPaused);
    let mut trader = a.trader.load_init()?;
    trader.market = a.market.key();
    trader.owner = a.owner.key();
    trader.bump = ctx.bumps.trader;
    drop(trader);
    let event = TraderCreated {
        market: a.market.key(),
        seq: a.market.load_mut()?.next_event_seq(),
        trader: a.trader.key(),
        owner: a.owner.key(),
    };
    emit_cpi!(event);
    Ok(())
}
