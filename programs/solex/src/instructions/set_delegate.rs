use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::DelegateSet;
use crate::state::{Market, Trader};

#[event_cpi]
#[derive(Accounts)]
pub struct SetDelegate<'info> {
    pub owner: Signer<'info>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(
        mut,
        has_one = owner @ SolexError::NotOwner,
        has_one = market @ SolexError::WrongMarket,
    )]
    pub trader: AccountLoader<'info, Trader>,
}

/// Sets (or with `None`, removes) the key that may place and cancel for the owner.
pub fn handle_set_delegate(ctx: Context<SetDelegate>, delegate: Option<Pubkey>) -> Result<()> {
    let a = &ctx.accounts;
    let delegate = delegate.unwrap_or_default();
    a.trader.load_mut()?.delegate = delegate;
    let event = DelegateSet {
        market: a.market.key(),
        seq: a.market.load_mut()?.next_event_seq(),
        trader: a.trader.key(),
        delegate,
    };
    emit_cpi!(event);
    Ok(())
}
