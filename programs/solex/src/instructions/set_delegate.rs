use anchor_lang::prelude::*;

// Glob: the Accounts derive also needs the generated OwnedTraderBumps and client module.
use super::owned_trader::*;
use crate::events::DelegateSet;

#[event_cpi]
#[derive(Accounts)]
pub struct SetDelegate<'info> {
    pub owned: OwnedTrader<'info>,
}

/// Sets (or with `None`, removes) the key that may place and cancel for the owner.
pub fn handle_set_delegate(ctx: Context<SetDelegate>, delegate: Option<Pubkey>) -> Result<()> {
    let a = &ctx.accounts.owned;
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
