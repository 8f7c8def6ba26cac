//! Events, emitted with `emit_cpi!` (a self-CPI the runtime records as an inner
//! instruction, so logs truncation cannot drop them). Each carries the market and
//! the market's next sequence number.
use anchor_lang::prelude::*;

use crate::matching::OrderType;
use crate::state::{QueueEventKind, Side};

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
    pub min_order_lots: u64,
    pub maker_fee_bps: i16,
    pub taker_fee_bps: i16,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraderCreated {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub owner: Pubkey,
    pub max_orders: u16,
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

/// One fill of a taking order against a resting one.
#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// The fill queue entry that settles the maker (`FillsConsumed` reports it).
    pub fill_seq: u64,
    /// The maker's trader account.
    pub maker: Pubkey,
    pub maker_order_id: u128,
    pub price: u64,
    pub qty_lots: u64,
    /// Positive: the maker's fee; negative: its rebate (quote atoms).
    pub maker_fee: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceReason {
    /// The order's expiry had passed when a taker met it; its funds unlock.
    Expired,
    /// Self-trade prevention cancelled or decremented it.
    SelfTrade,
    /// Its side was full and a better order took its place (the side's worst order goes).
    Evicted,
    /// A fill or a self-trade decrement left less than the market's minimum size:
    /// the remainder left the book with it.
    BelowMinimum,
}

/// A resting order removed or shrunk without trading.
#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, PartialEq, Eq)]
pub struct Reduced {
    pub order_id: u128,
    pub trader: Pubkey,
    pub side: Side,
    pub qty_lots: u64,
    pub reason: ReduceReason,
    /// Atoms that move from the owner's locked to its available balance: at once when
    /// the owner is the instruction's trader, else when `consume_events` applies the
    /// order's queue entry (its `Settled::unlocked`).
    pub unlocked: u64,
}

/// An order was placed: what it took from the book, what rested, and what it met.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPlaced {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub order_id: u128,
    pub client_order_id: u64,
    pub side: Side,
    pub order_type: OrderType,
    /// The limit price (after a post-only slide, the price it rested at).
    pub price: u64,
    pub qty_lots: u64,
    pub filled_lots: u64,
    /// Quote notional of the fills (before fees).
    pub filled_quote: u64,
    pub taker_fee: u64,
    pub rested_lots: u64,
    /// Atoms moved from available to locked for the resting part.
    pub locked: u64,
    pub fills: Vec<Fill>,
    pub reduced: Vec<Reduced>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, PartialEq, Eq)]
pub struct CancelledOrder {
    pub order_id: u128,
    pub client_order_id: u64,
    pub side: Side,
    pub price: u64,
    pub qty_lots: u64,
    /// Atoms moved from locked back to available.
    pub unlocked: u64,
}

/// Orders removed by their owner (cancel, cancel by client id, cancel all, replace).
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersCancelled {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub orders: Vec<CancelledOrder>,
}

/// Expired orders removed by the permissionless `prune_expired`; each owner's funds
/// unlock when `consume_events` applies its queue entry.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersPruned {
    pub market: Pubkey,
    pub seq: u64,
    pub side: Side,
    pub orders: Vec<Reduced>,
}

/// What `consume_events` applied to one maker.
#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub fill_seq: u64,
    pub maker: Pubkey,
    pub order_id: u128,
    pub kind: QueueEventKind,
    pub qty_lots: u64,
    /// Atoms moved from the maker's locked to its available balance besides the fill:
    /// all of an `Out` entry's lock, or a `Fill`'s remainder that fell below the minimum.
    pub unlocked: u64,
}

/// Queue entries applied to makers' accounts, in fill sequence order.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillsConsumed {
    pub market: Pubkey,
    pub seq: u64,
    pub settled: Vec<Settled>,
}

/// A trader's available balances moved to its owner's token accounts.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsSettled {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub base_amount: u64,
    pub quote_amount: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeesSwept {
    pub market: Pubkey,
    pub seq: u64,
    pub destination: Pubkey,
    pub amount: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraderClosed {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
}

/// The last event of a market: its accounts are closed and their rent returned.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketClosed {
    pub market: Pubkey,
    pub seq: u64,
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
    /// The delegate's price band: its bids at most `max_bid_price`, its asks at least
    /// `min_ask_price` (ticks), post-only (see `set_delegate`).
    pub max_bid_price: u64,
    pub min_ask_price: u64,
}
