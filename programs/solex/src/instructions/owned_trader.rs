use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::state::{Market, Trader};

/// A trader account signed for by its owner: the check every owner-only
/// instruction (deposit, withdraw, set_delegate) shares. A delegate never passes it.
#[derive(Accounts)]
pub struct OwnedTrader<'info> {
    pub owner: Signer<'info>,
    /// Mutable for the event sequence number.
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(
        mut,
        has_one = owner @ SolexError::NotOwner,
        has_one = market @ SolexError::WrongMarket,
    )]
    pub trader: AccountLoader<'info, Trader>,
}
