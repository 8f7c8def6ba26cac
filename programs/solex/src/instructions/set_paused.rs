use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::{emit, MarketStatusChanged};
use crate::state::Market;

#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub authority: Signer<'info>,
    #[account(mut, has_one = authority @ SolexError::NotMarketAuthority)]
    pub market: AccountLoader<'info, Market>,
}

pub fn handle_set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
    let mut market = ctx.accounts.market.load_mut()?;
    require!(market.closed == 0, SolexError::MarketClosed);
    market.paused = paused as u8;
    let key = ctx.accounts.market.key();
    emit(&ctx.accounts.event_authority, &mut market, |seq| MarketStatusChanged { market: key, seq, paused })
}
