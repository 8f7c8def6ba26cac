use anchor_lang::prelude::*;

// Glob: the Accounts derive also needs the generated OwnedTraderBumps and client module.
use super::owned_trader::*;
use crate::error::SolexError;
use crate::events::{emit, DelegateSet};

#[event_cpi]
#[derive(Accounts)]
pub struct SetDelegate<'info> {
    pub owned: OwnedTrader<'info>,
}

/// Sets (or with `None`, removes) the key that may cancel and place post-only
/// orders for the owner, bids at most `max_bid_price` and asks at least
/// `min_ask_price` (ticks). `max_bid_price <= min_ask_price`, so whoever trades
/// with the delegate's orders, the owner never buys dearer than it sells.
pub fn handle_set_delegate(
    ctx: Context<SetDelegate>,
    delegate: Option<Pubkey>,
    max_bid_price: u64,
    min_ask_price: u64,
) -> Result<()> {
    let a = &ctx.accounts.owned;
    let (delegate, max_bid_price, min_ask_price) = match delegate {
        Some(key) => {
            require!(max_bid_price <= min_ask_price, SolexError::InvalidDelegateBand);
            (key, max_bid_price, min_ask_price)
        }
        None => (Pubkey::default(), 0, 0),
    };
    let mut trader = a.trader.load_mut()?;
    trader.delegate = delegate;
    trader.delegate_max_bid = max_bid_price;
    trader.delegate_min_ask = min_ask_price;
    drop(trader);
    emit(&ctx.accounts.event_authority, &mut *a.market.load_mut()?, |seq| DelegateSet {
        market: a.market.key(),
        seq,
        trader: a.trader.key(),
        delegate,
        max_bid_price,
        min_ask_price,
    })
}
