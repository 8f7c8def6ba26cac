//! Events, emitted with `emit_cpi!` (a self-CPI the runtime records as an inner
//! instruction, so logs truncation cannot drop them). Each carries the market and
//! the market's next sequence number.
use anchor_lang::prelude::*;

use crate::state::Side;

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketCreated {
    pub market: Pubkey,
    pub seq: u64,
    pub authority: Pubkey,
    pub base_mint: Pubkey,
    pub quote_mint: Pubkey,
    pub base_lot_size: u64,
    pub quote_tick_size: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraderCreated {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub owner: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposited {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub mint: Pubkey,
    pub amount: u64,
    /// The trader's available balance of this mint afterwards.
    pub available: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub mint: Pubkey,
    pub amount: u64,
    pub available: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPlaced {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub order_id: u128,
    pub client_order_id: u64,
    pub side: Side,
    pub price: u64,
    pub qty_lots: u64,
    /// Atoms moved from available to locked (base for asks, quote for bids).
    pub locked: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCancelled {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub order_id: u128,
    pub client_order_id: u64,
    pub side: Side,
    pub price: u64,
    pub qty_lots: u64,
    /// Atoms moved from locked back to available.
    pub unlocked: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketStatusChanged {
    pub market: Pubkey,
    pub seq: u64,
    pub paused: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateSet {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    /// `Pubkey::default()` when the delegate was removed.
    pub delegate: Pubkey,
}
