//! Events, emitted as a self-CPI (as `emit_cpi!` does: the runtime records it as an
//! inner instruction, so logs truncation cannot drop them). Each carries the market
//! and the market's next sequence number, stamped by `emit`, and every event that
//! moves funds carries the resulting balances of each trader account it touched, so
//! a mirror sets state from events and never re-derives it with settlement rules.
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;
use anchor_lang::Discriminator;

use crate::order::{OrderType, Side};
use crate::state::{Market, QueueEventKind, Trader, VoidReason};

/// The seed of the PDA that signs the events' self-invocation (`#[event_cpi]`'s
/// `event_authority`). Anchor spells it inside its macros and exports no constant.
pub const EVENT_AUTHORITY_SEED: &[u8] = b"__event_authority";

/// Emits `build(seq)` with `seq` the market's next event sequence number: the one
/// place that stamps it. The data is what `emit_cpi!` sends (event tag,
/// discriminator, Borsh body), serialised once into a buffer of its exact size:
/// `emit_cpi!` grows a 256-byte buffer by doubling and copies it twice more, and the
/// program's bump allocator never frees, so a worst-case `OrderPlaced` or
/// `FillsConsumed` would need more than the 32 KiB heap.
pub fn emit<'info, E: AnchorSerialize + Discriminator>(
    event_authority: &impl ToAccountInfo<'info>,
    market: &mut Market,
    build: impl FnOnce(u64) -> E,
) -> Result<()> {
    let event = build(market.next_event_seq());
    let body = borsh::object_length(&event).map_err(|_| error!(ErrorCode::AccountDidNotSerialize))?;
    let mut data = Vec::with_capacity(EVENT_IX_TAG_LE.len() + E::DISCRIMINATOR.len() + body);
    data.extend_from_slice(EVENT_IX_TAG_LE);
    data.extend_from_slice(E::DISCRIMINATOR);
    event.serialize(&mut data).map_err(|_| error!(ErrorCode::AccountDidNotSerialize))?;
    let authority = event_authority.to_account_info();
    let ix =
        Instruction { program_id: crate::ID, accounts: vec![AccountMeta::new_readonly(authority.key(), true)], data };
    invoke_signed(&ix, &[authority], &[&[EVENT_AUTHORITY_SEED, &[crate::EVENT_AUTHORITY_AND_BUMP.1]]])?;
    Ok(())
}

/// A trader account's balances after the event that carries them (the event names
/// the account). A mirror sets its copy to these values.
#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balances {
    pub base_available: u64,
    pub base_locked: u64,
    pub quote_available: u64,
    pub quote_locked: u64,
}

impl Balances {
    pub fn of(trader: &Trader) -> Self {
        Self {
            base_available: trader.base_available,
            base_locked: trader.base_locked,
            quote_available: trader.quote_available,
            quote_locked: trader.quote_locked,
        }
    }
}

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
    /// The trader's balances afterwards.
    pub balances: Balances,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub mint: Pubkey,
    pub amount: u64,
    pub balances: Balances,
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
    /// Base atoms traded.
    pub base_atoms: u64,
    /// Quote atoms traded (the fill's notional, before fees).
    pub quote_atoms: u64,
    /// Positive: the maker's fee; negative: its rebate (quote atoms).
    pub maker_fee: i64,
    /// The maker order's lots after this fill (0: filled). A remainder below the
    /// market's minimum then leaves the book too, reported by a `Reduced`.
    pub remaining_lots: u64,
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
    /// The order's lots on the book afterwards (0: it left the book).
    pub remaining_lots: u64,
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
    /// The taker's balances after settling its fills, unlocking its own reduced
    /// orders and locking what rested. (Makers' change at `consume_events`.)
    pub balances: Balances,
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
    /// The trader's balances afterwards.
    pub balances: Balances,
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
    /// The maker's side.
    pub side: Side,
    pub qty_lots: u64,
    /// Fill: base and quote atoms traded and the maker's fee (negative: rebate), as
    /// its `Fill` reported. Out: 0.
    pub base_atoms: u64,
    pub quote_atoms: u64,
    pub maker_fee: i64,
    /// Atoms moved from the maker's locked to its available balance besides the fill:
    /// all of an `Out` entry's lock, or a `Fill`'s remainder that fell below the minimum.
    pub unlocked: u64,
    /// The maker's balances after this entry (a maker may appear several times in
    /// one event: its last entry has its state after the event).
    pub balances: Balances,
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
    /// The trader's balances afterwards.
    pub balances: Balances,
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

/// A market became a batch market (ADR 8): its auction and the rules it runs by.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionCreated {
    pub market: Pubkey,
    pub seq: u64,
    pub auction: Pubkey,
    pub keyper_set: Pubkey,
    pub batch_slots: u64,
    pub reveal_timeout_slots: u64,
    pub sealed_fee: u64,
    /// Sealed orders a batch holds.
    pub capacity: u32,
}

/// A sealed order entered a batch. Only what is in the clear: the trader, its
/// collateral and fee; the order itself is revealed when the batch opens.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSubmitted {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub batch_id: u64,
    /// Its record's index in the batch.
    pub index: u32,
    /// The order's sequence number (its id's low half if it rests).
    pub order_seq: u64,
    /// Collateral moved from available to locked (the quote includes the fee).
    pub base_envelope: u64,
    pub quote_envelope: u64,
    pub fee: u64,
    pub balances: Balances,
}

/// A sealed order withdrawn by its trader before its batch closed; its
/// collateral unlocked, less the sealed-order fee.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCancelled {
    pub market: Pubkey,
    pub seq: u64,
    pub trader: Pubkey,
    pub batch_id: u64,
    pub index: u32,
    pub order_seq: u64,
    pub fee: u64,
    pub balances: Balances,
}

/// What a sealed order turned out to be.
#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, PartialEq, Eq)]
pub enum RevealOutcome {
    Order { side: Side, order_type: OrderType, price: u64, qty_lots: u64, client_order_id: u64, expiry: u64 },
    Void(VoidReason),
}

#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, PartialEq, Eq)]
pub struct Revealed {
    pub index: u32,
    pub trader: Pubkey,
    pub order_seq: u64,
    pub outcome: RevealOutcome,
}

/// The program opened sealed orders with the batch's published secret.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersRevealed {
    pub market: Pubkey,
    pub seq: u64,
    pub batch_id: u64,
    pub key_round: u64,
    /// The batch secret (`s`, with `s·G` the round's key): anyone can check every opening.
    pub secret: [u8; 32],
    pub orders: Vec<Revealed>,
}

/// A batch's uniform-price clearing: every trade of the batch is at `price`.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchCleared {
    pub market: Pubkey,
    pub seq: u64,
    pub batch_id: u64,
    /// Ticks (0 when nothing crossed).
    pub price: u64,
    /// Lots traded.
    pub volume: u64,
    /// Lots bid and offered at the price; their difference is the imbalance.
    pub demand: u64,
    pub supply: u64,
    /// Valid orders and voided ones in the batch.
    pub orders: u32,
    pub voids: u32,
    /// Resting lots the batch takes from the bids and from the asks.
    pub bid_sweep: u64,
    pub ask_sweep: u64,
    /// The tie-break reference price (the last clearing price, else the book's mid; 0: none).
    pub reference: u64,
}

/// How one sealed order settled.
#[derive(AnchorSerialize, AnchorDeserialize, Debug, Clone, PartialEq, Eq)]
pub struct BatchOrderSettled {
    pub index: u32,
    pub trader: Pubkey,
    pub order_seq: u64,
    pub client_order_id: u64,
    /// None: a valid order; else why it was voided (its collateral unlocked).
    pub void_reason: Option<VoidReason>,
    pub side: Side,
    pub order_type: OrderType,
    /// The order's limit price (ticks).
    pub price: u64,
    pub qty_lots: u64,
    pub filled_lots: u64,
    /// At the batch's clearing price.
    pub base_atoms: u64,
    pub quote_atoms: u64,
    pub taker_fee: u64,
    /// The sealed-order fee kept (0 when refunded).
    pub sealed_fee: u64,
    /// Lots of the remainder now resting (with id `order_id`), 0: none.
    pub rested_lots: u64,
    pub order_id: u128,
    /// Collateral moved back from locked to available.
    pub unlocked_base: u64,
    pub unlocked_quote: u64,
    pub balances: Balances,
}

/// A step of a batch's execution: resting orders it took (their makers settle
/// through the fill queue, like any maker), resting orders it met expired or
/// evicted, and sealed orders settled. `done`: the batch is finished.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchExecuted {
    pub market: Pubkey,
    pub seq: u64,
    pub batch_id: u64,
    pub fills: Vec<Fill>,
    pub reduced: Vec<Reduced>,
    pub orders: Vec<BatchOrderSettled>,
    pub done: bool,
}

/// A batch whose key did not come within the reveal timeout: every sealed order
/// in it is voided and refunded in full as it executes.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchVoided {
    pub market: Pubkey,
    pub seq: u64,
    pub batch_id: u64,
    pub key_round: u64,
    pub voided: u32,
}

/// The auction was closed (the market is continuous again, and paused).
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionClosed {
    pub market: Pubkey,
    pub seq: u64,
    pub auction: Pubkey,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire sizes of the largest events, pinned: `emit` holds one buffer of this
    /// size beside the instruction's own vectors in the 32 KiB heap (the LiteSVM test
    /// `the_largest_events_fit_the_heap` emits both on chain). A field added to an
    /// entry shows here, times 32.
    #[test]
    fn the_largest_events_have_known_sizes() {
        let key = Pubkey::default();
        let fill = Fill {
            fill_seq: 0,
            maker: key,
            maker_order_id: 0,
            price: 0,
            qty_lots: 0,
            base_atoms: 0,
            quote_atoms: 0,
            maker_fee: 0,
            remaining_lots: 0,
        };
        let reduced = Reduced {
            order_id: 0,
            trader: key,
            side: Side::Bid,
            qty_lots: 0,
            reason: ReduceReason::Expired,
            unlocked: 0,
            remaining_lots: 0,
        };
        // At most 32 meets (fills or self-trade), 32 expired orders and one remainder
        // below the minimum or one eviction.
        let placed = OrderPlaced {
            market: key,
            seq: 0,
            trader: key,
            order_id: 0,
            client_order_id: 0,
            side: Side::Bid,
            order_type: OrderType::Limit,
            price: 0,
            qty_lots: 0,
            filled_lots: 0,
            filled_quote: 0,
            taker_fee: 0,
            rested_lots: 0,
            locked: 0,
            fills: vec![fill; 32],
            reduced: vec![reduced; 33],
            balances: Balances::default(),
        };
        let settled = Settled {
            fill_seq: 0,
            maker: key,
            order_id: 0,
            kind: QueueEventKind::Fill,
            side: Side::Bid,
            qty_lots: 0,
            base_atoms: 0,
            quote_atoms: 0,
            maker_fee: 0,
            unlocked: 0,
            balances: Balances::default(),
        };
        let consumed = FillsConsumed { market: key, seq: 0, settled: vec![settled; 32] };
        assert_eq!(borsh::object_length(&placed).unwrap(), 194 + 32 * 104 + 33 * 74);
        assert_eq!(borsh::object_length(&consumed).unwrap(), 44 + 32 * 130);
    }
}

#[cfg(test)]
mod seed {
    /// Our seed is Anchor's: the address it derives is the one `#[event_cpi]` checks.
    #[test]
    fn the_event_authority_seed_derives_anchors_event_authority() {
        let (address, bump) =
            anchor_lang::prelude::Pubkey::find_program_address(&[super::EVENT_AUTHORITY_SEED], &crate::ID);
        assert_eq!((address, bump), (crate::EVENT_AUTHORITY_AND_BUMP.0, crate::EVENT_AUTHORITY_AND_BUMP.1));
    }
}
