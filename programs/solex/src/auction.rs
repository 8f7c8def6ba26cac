//! The batch auction (ADR 8) as plain functions over the market's state, like
//! `matching`: opening a sealed order, the uniform-price clearing, taking the
//! resting orders the clearing allotted, and settling a sealed order.
//!
//! **Clearing rule.** Every order that can trade is pooled: the batch's orders and
//! the resting book. The price `p*` maximises the volume `min(D(p), S(p))` (lots bid
//! at `p` or more, lots offered at `p` or less); among those prices it minimises the
//! imbalance `|D(p) - S(p)|`, then the distance to the reference price (the last
//! clearing price, else the book's mid), then it is the lower one. Everyone trades
//! at `p*`. Each side then fills its volume in price priority: orders priced better
//! than the side's marginal level fill in full; at the marginal level resting orders
//! go first, oldest first (they were there before the batch), and the batch's orders
//! share what is left pro rata by size, rounded down, the lots left over going one
//! each in the order of `sha256(secret || order_seq)` (its first 8 bytes, then the
//! order's position), which nobody can know before the batch opens.
//!
//! The book is never crossed, so only the batch's orders make a trade possible, and
//! the resting orders of at most one side trade. The clearing walks only the orders
//! that trade plus one price level each side, so it costs what the batch does.
use anchor_lang::prelude::*;
use solex_seal::{open, shared_secret, Binding, OrderPlaintext, Sealed};

use crate::error::SolexError;
use crate::events::{BatchOrderSettled, Fill, ReduceReason, Reduced, RevealOutcome};
use crate::matching::{queue_out, reduced, remove_unfilled, Account, Book};
use crate::order::OrderType;
use crate::state::*;

/// A revealed order as the clearing sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchOrder {
    pub side: Side,
    pub price: u64,
    pub qty_lots: u64,
}

/// A batch's clearing: its price and volume, and who trades how much.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clearing {
    /// 0 when nothing crosses.
    pub price: u64,
    pub volume: u64,
    /// `D(p*)` and `S(p*)`.
    pub demand: u64,
    pub supply: u64,
    /// Resting lots taken from each side: a prefix of the side in priority order.
    pub bid_sweep: u64,
    pub ask_sweep: u64,
    /// Lots each batch order fills, by its position in the input.
    pub fills: Vec<u64>,
}

/// One order in a side's priority order: resting (from the book) or the batch's.
#[derive(Clone, Copy, Debug)]
struct Item {
    price: u64,
    qty: u64,
    batch: Option<usize>,
}

/// A side's orders in priority order: the batch's (sorted once) merged with the
/// book's non-expired orders, resting first at a price.
struct SideIter<'a> {
    side: Side,
    orders: &'a [BatchOrder],
    batch: &'a [usize],
    next_batch: usize,
    book: &'a [RestingOrder],
    /// Book orders taken so far, from the best (the end of the array).
    taken: usize,
    now: &'a Now,
}

impl<'a> SideIter<'a> {
    fn new(side: Side, orders: &'a [BatchOrder], batch: &'a [usize], book: &'a [RestingOrder], now: &'a Now) -> Self {
        Self { side, orders, batch, next_batch: 0, book, taken: 0, now }
    }

    /// Is `a` better than `b` for this side (a higher bid, a lower ask)?
    fn better(&self, a: u64, b: u64) -> bool {
        match self.side {
            Side::Bid => a > b,
            Side::Ask => a < b,
        }
    }

    fn next_resting(&mut self) -> Option<&'a RestingOrder> {
        while self.taken < self.book.len() {
            let o = &self.book[self.book.len() - 1 - self.taken];
            if !o.expiry().has_passed(self.now) {
                return Some(o);
            }
            self.taken += 1;
        }
        None
    }

    fn next(&mut self) -> Option<Item> {
        let resting = self.next_resting();
        let batch = self.batch.get(self.next_batch).map(|&k| (k, self.orders[k]));
        match (resting, batch) {
            (Some(r), Some((k, b))) if self.better(b.price, r.price) => {
                self.next_batch += 1;
                Some(Item { price: b.price, qty: b.qty_lots, batch: Some(k) })
            }
            (Some(r), _) => {
                self.taken += 1;
                Some(Item { price: r.price, qty: r.qty_lots, batch: None })
            }
            (None, Some((k, b))) => {
                self.next_batch += 1;
                Some(Item { price: b.price, qty: b.qty_lots, batch: Some(k) })
            }
            (None, None) => None,
        }
    }
}

/// The batch's orders on `side`, in price priority (ties: input order).
fn sorted(orders: &[BatchOrder], side: Side) -> Vec<usize> {
    let mut idx: Vec<usize> = Vec::with_capacity(orders.len());
    idx.extend((0..orders.len()).filter(|&k| orders[k].side == side && orders[k].qty_lots > 0));
    match side {
        Side::Bid => idx.sort_unstable_by(|&a, &b| orders[b].price.cmp(&orders[a].price).then(a.cmp(&b))),
        Side::Ask => idx.sort_unstable_by(|&a, &b| orders[a].price.cmp(&orders[b].price).then(a.cmp(&b))),
    }
    idx
}

/// The price among `[lo, hi]` closest to `reference` (the lower on a tie; `lo`
/// without a reference).
fn nearest(lo: u64, hi: u64, reference: Option<u64>) -> u64 {
    reference.map_or(lo, |r| r.clamp(lo, hi))
}

/// Clears a batch against the book (see the module's rule). `bids` and `asks` are
/// the book sides' orders (best last, as stored); orders expired at `now` do not
/// take part. `tiebreak(k)` orders the leftover lots of a pro-rata share.
pub fn clear(
    orders: &[BatchOrder],
    bids: &[RestingOrder],
    asks: &[RestingOrder],
    now: &Now,
    reference: Option<u64>,
    tiebreak: impl Fn(usize) -> [u8; 32],
) -> Clearing {
    let (batch_bids, batch_asks) = (sorted(orders, Side::Bid), sorted(orders, Side::Ask));
    let mut out = Clearing { fills: vec![0; orders.len()], ..Default::default() };

    // The volume: match the best bid with the best ask while they cross.
    let mut bid_it = SideIter::new(Side::Bid, orders, &batch_bids, bids, now);
    let mut ask_it = SideIter::new(Side::Ask, orders, &batch_asks, asks, now);
    let (mut b, mut a) = (bid_it.next(), ask_it.next());
    let (mut volume, mut lowest_bid, mut highest_ask) = (0u64, 0, 0);
    while let (Some(mut bi), Some(mut ai)) = (b, a) {
        if bi.price < ai.price {
            break;
        }
        let q = bi.qty.min(ai.qty);
        volume += q;
        (lowest_bid, highest_ask) = (bi.price, ai.price);
        bi.qty -= q;
        ai.qty -= q;
        b = if bi.qty == 0 { bid_it.next() } else { Some(bi) };
        a = if ai.qty == 0 { ask_it.next() } else { Some(ai) };
    }
    if volume == 0 {
        return out;
    }
    // Every price in [highest_ask, lowest_bid] trades `volume`. The unmatched orders
    // left are all bids below the unmatched asks (else they would have matched): the
    // highest unmatched bid level (`ub`, `lb` lots) and the lowest ask level.
    let (ub, ua) = (level(b, &mut bid_it), level(a, &mut ask_it));
    let (lo, hi) = (highest_ask, lowest_bid);
    // Strictly between them the imbalance is zero. At `ub` and down to the next bid
    // level bids exceed by `ub`'s lots; at `ua` and up to the next ask level asks
    // exceed by `ua`'s; further out the excess only grows.
    let zero_lo = ub.map_or(lo, |l| (l.price + 1).max(lo));
    let zero_hi = ua.map_or(hi, |l| (l.price - 1).min(hi));
    let price = if zero_lo <= zero_hi {
        nearest(zero_lo, zero_hi, reference)
    } else {
        let bid_plateau =
            ub.filter(|l| l.price >= lo).map(|l| (l.lots, l.next.map_or(lo, |n| (n + 1).max(lo)), l.price));
        let ask_plateau =
            ua.filter(|l| l.price <= hi).map(|l| (l.lots, l.price, l.next.map_or(hi, |n| (n - 1).min(hi))));
        let distance = |p: u64| reference.map_or(0, |r| p.abs_diff(r));
        [bid_plateau, ask_plateau]
            .into_iter()
            .flatten()
            .map(|(excess, from, to)| (excess, nearest(from, to, reference)))
            .min_by_key(|&(excess, p)| (excess, distance(p), p))
            .map_or(lo, |(_, p)| p)
    };
    out.price = price;
    out.volume = volume;
    out.demand = volume + ub.filter(|l| price <= l.price).map_or(0, |l| l.lots);
    out.supply = volume + ua.filter(|l| price >= l.price).map_or(0, |l| l.lots);

    for side in [Side::Bid, Side::Ask] {
        let batch = if side == Side::Bid { &batch_bids } else { &batch_asks };
        let book = if side == Side::Bid { bids } else { asks };
        let mut it = SideIter::new(side, orders, batch, book, now);
        let resting = allocate(&mut it, volume, orders, &mut out.fills, &tiebreak);
        match side {
            Side::Bid => out.bid_sweep = resting,
            Side::Ask => out.ask_sweep = resting,
        }
    }
    out
}

/// The first unmatched price level of a side: its price, its lots, and the next level's price.
#[derive(Clone, Copy)]
struct Level {
    price: u64,
    lots: u64,
    next: Option<u64>,
}

fn level(first: Option<Item>, it: &mut SideIter) -> Option<Level> {
    let f = first?;
    let mut lots = f.qty;
    loop {
        match it.next() {
            Some(n) if n.price == f.price => lots += n.qty,
            next => return Some(Level { price: f.price, lots, next: next.map(|n| n.price) }),
        }
    }
}

/// Fills `volume` lots of one side in priority order (see the module's rule);
/// returns the resting lots taken.
fn allocate(
    it: &mut SideIter,
    volume: u64,
    orders: &[BatchOrder],
    fills: &mut [u64],
    tiebreak: &impl Fn(usize) -> [u8; 32],
) -> u64 {
    let (mut left, mut resting) = (volume, 0);
    let mut item = it.next();
    // One buffer for every level: the program's allocator never frees.
    let mut members = Vec::with_capacity(orders.len());
    while left > 0 {
        let Some(first) = item else { break };
        let (mut level_resting, mut level_batch) = (0u64, 0u64);
        members.clear();
        let mut cur = Some(first);
        while let Some(i) = cur.filter(|i| i.price == first.price) {
            match i.batch {
                None => level_resting += i.qty,
                Some(k) => {
                    level_batch += i.qty;
                    members.push(k);
                }
            }
            cur = it.next();
        }
        item = cur;
        if level_resting + level_batch <= left {
            resting += level_resting;
            members.iter().for_each(|&k| fills[k] = orders[k].qty_lots);
            left -= level_resting + level_batch;
            continue;
        }
        // The marginal level: resting orders first, then the batch's pro rata.
        let r = level_resting.min(left);
        resting += r;
        left -= r;
        if left > 0 {
            let mut given = 0;
            for &k in &members {
                fills[k] = (left as u128 * orders[k].qty_lots as u128 / level_batch as u128) as u64;
                given += fills[k];
            }
            // Fewer lots than members are left over, and each member is short of its
            // size. Ordered by the hash's first 8 bytes (then position): 16 bytes a
            // member, so a full batch at one price fits the heap.
            let mut by_hash: Vec<(u64, usize)> = Vec::with_capacity(members.len());
            by_hash.extend(members.iter().map(|&k| {
                let h = tiebreak(k);
                (u64::from_be_bytes(h[..8].try_into().expect("8 bytes")), k)
            }));
            by_hash.sort_unstable();
            for (_, k) in by_hash.into_iter().take((left - given) as usize) {
                fills[k] += 1;
            }
        }
        break;
    }
    resting
}

/// The reference price for a batch: the last clearing price, else the book's mid.
pub fn reference_price(last_price: u64, bids: &BookSide, asks: &BookSide) -> Option<u64> {
    if last_price > 0 {
        return Some(last_price);
    }
    match (bids.best(), asks.best()) {
        (Some(b), Some(a)) => Some(b.price / 2 + a.price / 2 + (b.price % 2 + a.price % 2) / 2),
        _ => None,
    }
}

/// The leftover-lot order of a sealed order: `sha256(secret || order_seq)`.
pub fn tiebreak_hash(secret: &[u8; 32], order_seq: u64) -> [u8; 32] {
    solex_seal::sha256(&[secret, &order_seq.to_le_bytes()])
}

/// Opens a sealed record with the batch secret: a valid order (its fields set on
/// the record) or why it is void. Never fails: junk is voided, not refused.
pub fn reveal(
    market: &Market,
    market_key: &Pubkey,
    batch_id: u64,
    secret: &[u8; 32],
    rec: &mut SealedRecord,
) -> RevealOutcome {
    let outcome = open_record(market, market_key, batch_id, secret, rec);
    match outcome {
        Ok(o) => {
            rec.status = RecordStatus::Revealed as u8;
            rec.side = o.side;
            rec.order_type = o.order_type;
            rec.price = o.price;
            rec.qty_lots = o.qty_lots;
            rec.client_order_id = o.client_order_id;
            rec.expiry = o.expiry;
            RevealOutcome::Order {
                side: rec.side(),
                order_type: sealed_type(o.order_type).expect("checked"),
                price: o.price,
                qty_lots: o.qty_lots,
                client_order_id: o.client_order_id,
                expiry: o.expiry,
            }
        }
        Err(reason) => {
            rec.void(reason);
            RevealOutcome::Void(reason)
        }
    }
}

/// The order types a sealed order may have: a limit order (its remainder rests), or
/// one that only takes. (`Market` is an immediate-or-cancel order at a worst price;
/// fill-or-kill and post-only orders have no meaning in an auction.)
pub fn sealed_type(byte: u8) -> Option<OrderType> {
    match byte {
        0 => Some(OrderType::Limit),
        3 => Some(OrderType::ImmediateOrCancel),
        5 => Some(OrderType::Market),
        _ => None,
    }
}

fn open_record(
    market: &Market,
    market_key: &Pubkey,
    batch_id: u64,
    secret: &[u8; 32],
    rec: &SealedRecord,
) -> core::result::Result<OrderPlaintext, VoidReason> {
    let shared = shared_secret(secret, &rec.ephemeral).ok_or(VoidReason::BadKey)?;
    let binding = Binding {
        program: crate::ID.to_bytes(),
        market: market_key.to_bytes(),
        batch: batch_id,
        trader: rec.trader.to_bytes(),
    };
    let sealed = Sealed { ephemeral: rec.ephemeral, ciphertext: rec.ciphertext, tag: rec.tag };
    let plain = open(&shared, &binding, &sealed).ok_or(VoidReason::BadTag)?;
    let o = OrderPlaintext::decode(&plain).ok_or(VoidReason::Malformed)?;
    let well_formed = o.side <= 1
        && sealed_type(o.order_type).is_some()
        && o.price > 0
        && o.qty_lots > 0
        && o.qty_lots >= market.min_order_lots
        && Expiry::decode(o.expiry).validate().is_ok();
    if !well_formed {
        return Err(VoidReason::Malformed);
    }
    let notional = market.notional(o.qty_lots, o.price).map_err(|_| VoidReason::NotionalTooLarge)?;
    if o.order_type == 0 && market.check_takeable(o.price, o.qty_lots).is_err() {
        return Err(VoidReason::NotionalTooLarge);
    }
    // The most the order can cost: everything at its limit, with a taker's fee on
    // what fills and a maker's lock on what rests (both counted in full).
    let covered = match Side::from_u8(o.side) {
        Side::Ask => market.base_atoms(o.qty_lots).is_ok_and(|b| b <= rec.base_envelope),
        Side::Bid => [market.taker_fee(notional), market.maker_fee_lock(notional), rec.fee]
            .into_iter()
            .try_fold(notional, u64::checked_add)
            .is_some_and(|need| need <= rec.quote_envelope),
    };
    if !covered {
        return Err(VoidReason::EnvelopeTooSmall);
    }
    Ok(o)
}

/// One `execute_batch` step: the batch's price, the clocks it judges expiry by, and
/// what it has done so far (the event's entries and the fees charged).
pub struct Execution {
    pub price: u64,
    /// The clock at clearing: resting orders' expiry is judged by it, as the clearing did.
    pub cleared_at: Now,
    /// The clock now: whether a sealed order's remainder may still rest.
    pub now: Now,
    /// The most entries (fills, reduced orders, settled orders) the step makes.
    pub limit: usize,
    pub fees: i64,
    pub fills: Vec<Fill>,
    pub reduced: Vec<Reduced>,
    pub orders: Vec<BatchOrderSettled>,
}

impl Execution {
    pub fn has_room(&self) -> bool {
        self.fills.len() + self.reduced.len() + self.orders.len() < self.limit
    }
}

/// Takes resting orders (fills, and expired orders met) from `side` for the `lots`
/// the clearing allotted it, at the batch's price, while the step has room. Makers
/// settle through the fill queue as for any taker.
pub fn sweep(book: &mut Book, side: Side, lots: &mut u64, x: &mut Execution) -> Result<()> {
    let (price, now) = (x.price, x.cleared_at);
    while *lots > 0 && x.has_room() && !book.queue.is_full() {
        let market = &*book.market;
        let resting = match side {
            Side::Bid => &mut *book.bids,
            Side::Ask => &mut *book.asks,
        };
        let Some(best) = resting.best_mut() else {
            // The clearing counted only orders on the book; nothing is left to take.
            *lots = 0;
            break;
        };
        let maker = *best;
        if maker.expiry().has_passed(&now) {
            resting.pop_best();
            let unlock = market.lock_amount(side, maker.price, maker.qty_lots)?;
            queue_out(&mut *book.queue, side, &maker, unlock)?;
            x.reduced.push(reduced(&maker, side, maker.qty_lots, 0, ReduceReason::Expired, unlock));
            continue;
        }
        let q = (*lots).min(maker.qty_lots);
        let quote = market.notional(q, price)?;
        let base = market.base_atoms(q)?;
        // At its own price a maker pays what it locked (the telescoping fee); at a
        // better one, the fee on what it traded.
        let maker_fee =
            if maker.price == price { market.maker_fee(maker.qty_lots, q, price)? } else { market.maker_fee_on(quote) };
        let left = maker.qty_lots - q;
        let dust = left > 0 && left < market.min_order_lots;
        // A bid resting above the price locked more than it pays: the rest unlocks.
        let excess = match side {
            Side::Ask => 0,
            Side::Bid => (market.lock_amount(side, maker.price, maker.qty_lots)?
                - market.lock_amount(side, maker.price, left)?)
            .checked_sub(quote + maker_fee.max(0) as u64)
            .ok_or(SolexError::Overflow)?,
        };
        let dust_unlock = if dust { market.lock_amount(side, maker.price, left)? } else { 0 };
        let done = left == 0 || dust;
        let fill_seq = book.queue.push(QueueEvent {
            maker: maker.trader,
            price: maker.price,
            order_seq: maker.seq,
            qty_lots: q,
            base_atoms: base,
            quote_atoms: quote,
            maker_fee,
            unlock: excess + dust_unlock,
            kind: QueueEventKind::Fill as u8,
            side: side.as_u8(),
            order_done: done as u8,
            ..Default::default()
        })?;
        if done {
            resting.pop_best();
        } else {
            best.qty_lots = left;
        }
        if dust {
            x.reduced.push(reduced(&maker, side, left, 0, ReduceReason::BelowMinimum, dust_unlock));
        }
        x.fills.push(Fill {
            fill_seq,
            maker: maker.trader,
            maker_order_id: maker.id(),
            price,
            qty_lots: q,
            base_atoms: base,
            quote_atoms: quote,
            maker_fee,
            remaining_lots: left,
        });
        x.fees += maker_fee;
        *lots -= q;
    }
    Ok(())
}

/// Settles one sealed record to its trader account (`owner`): a void unlocks its
/// collateral (refunding the fee only on a timeout); a valid order pays or receives
/// its fill at the batch price with a taker's fee, rests a limit order's remainder
/// where the book takes it (else cancels it), and unlocks the collateral it no
/// longer needs. Never fails on the order's account of things: only on a broken
/// invariant (locked funds short of what the record locked).
pub fn settle(
    book: &mut Book,
    owner: &mut Account,
    rec: &mut SealedRecord,
    index: u32,
    x: &mut Execution,
) -> Result<()> {
    let side = rec.side();
    let mut out = BatchOrderSettled {
        index,
        trader: rec.trader,
        order_seq: rec.order_seq,
        client_order_id: rec.client_order_id,
        void_reason: None,
        side,
        order_type: sealed_type(rec.order_type).unwrap_or_default(),
        price: rec.price,
        qty_lots: rec.qty_lots,
        filled_lots: 0,
        base_atoms: 0,
        quote_atoms: 0,
        taker_fee: 0,
        sealed_fee: rec.fee,
        rested_lots: 0,
        order_id: 0,
        unlocked_base: rec.base_envelope,
        unlocked_quote: rec.quote_envelope - rec.fee,
        balances: Default::default(),
    };
    let trader = &mut *owner.trader;
    if rec.status() == RecordStatus::Void {
        let reason = VoidReason::from_u8(rec.void_reason);
        out.void_reason = Some(reason);
        if reason == VoidReason::Timeout {
            // The keypers failed, not the trader: the fee comes back too.
            out.sealed_fee = 0;
            out.unlocked_quote = rec.quote_envelope;
        }
    } else {
        let market = &*book.market;
        let (mut used_base, mut used_quote) = (0u64, 0u64);
        let f = rec.filled_lots;
        if f > 0 {
            let quote = market.notional(f, x.price)?;
            let base = market.base_atoms(f)?;
            let fee = market.taker_fee(quote);
            match side {
                Side::Bid => {
                    trader.spend_locked(Asset::Quote, quote + fee)?;
                    trader.credit(Asset::Base, base)?;
                    used_quote = quote + fee;
                }
                Side::Ask => {
                    trader.spend_locked(Asset::Base, base)?;
                    trader.credit(Asset::Quote, quote - fee)?;
                    used_base = base;
                }
            }
            x.fees += fee as i64;
            (out.filled_lots, out.base_atoms, out.quote_atoms, out.taker_fee) = (f, base, quote, fee);
        }
        let remaining = rec.qty_lots - f;
        let rests = out.order_type == OrderType::Limit
            && remaining > 0
            && remaining >= market.min_order_lots
            && !Expiry::decode(rec.expiry).has_passed(&x.now);
        if rests {
            if let Some(kept) = rest_remainder(book, owner, rec, remaining, &x.now, &mut x.reduced)? {
                out.rested_lots = remaining;
                out.order_id = order_id(rec.price, rec.order_seq);
                match side {
                    Side::Bid => used_quote += kept,
                    Side::Ask => used_base += kept,
                }
            }
        }
        out.unlocked_base = rec.base_envelope - used_base;
        out.unlocked_quote = rec.quote_envelope - rec.fee - used_quote;
    }
    let trader = &mut *owner.trader;
    trader.spend_locked(Asset::Quote, out.sealed_fee)?;
    x.fees += out.sealed_fee as i64;
    trader.unlock(Asset::Base, out.unlocked_base)?;
    trader.unlock(Asset::Quote, out.unlocked_quote)?;
    if out.rested_lots == 0 {
        trader.remove_order(owner.slots, rec.order_seq)?;
    }
    rec.status = RecordStatus::Done as u8;
    out.balances = crate::events::Balances::of(owner.trader);
    x.orders.push(out);
    Ok(())
}

/// Expired orders one remainder removes from the top of the other side before resting.
const MAX_EXPIRED_PER_REST: usize = 8;

/// Rests a limit order's remainder where the book can hold it: not crossed, not
/// beyond what a taker could trade, and on a full side only if it evicts the worst
/// order (with room in the queue for that order's unlock). Returns the amount it
/// keeps locked, or `None` (the remainder is cancelled: a batch never fails).
fn rest_remainder(
    book: &mut Book,
    owner: &mut Account,
    rec: &SealedRecord,
    remaining: u64,
    now: &Now,
    reduced_orders: &mut Vec<Reduced>,
) -> Result<Option<u64>> {
    let side = rec.side();
    let (price, seq) = (rec.price, rec.order_seq);
    let opposite_side = match side {
        Side::Bid => Side::Ask,
        Side::Ask => Side::Bid,
    };
    // Expired orders at the top of the other side (the sweep removes them only from
    // the side it takes) leave the book first, as a taker removes those it meets:
    // they must not keep a remainder from resting, nor sit under it, crossed.
    for _ in 0..MAX_EXPIRED_PER_REST {
        let opposite = if opposite_side == Side::Bid { &mut *book.bids } else { &mut *book.asks };
        let Some(top) = opposite.best().copied().filter(|o| o.expiry().has_passed(now)) else { break };
        if top.trader != owner.key && book.queue.is_full() {
            break;
        }
        opposite.pop_best();
        let r = remove_unfilled(book.market, &mut *book.queue, owner, opposite_side, &top, ReduceReason::Expired)?;
        reduced_orders.push(r);
    }
    let (own, opposite) = match side {
        Side::Bid => (&mut *book.bids, &*book.asks),
        Side::Ask => (&mut *book.asks, &*book.bids),
    };
    let full = own.len as usize == BOOK_CAPACITY;
    if book.market.check_takeable(price, remaining).is_err()
        || opposite.crosses(price)
        || !own.can_rest(price, seq)
        || (full && book.queue.is_full())
    {
        return Ok(None);
    }
    let kept = book.market.lock_amount(side, price, remaining)?;
    let evicted =
        own.insert_evicting(RestingOrder { trader: owner.key, price, seq, qty_lots: remaining, expires: rec.expiry })?;
    owner.trader.fill_sealed_slot(owner.slots, seq, side, price, rec.client_order_id)?;
    if let Some(worst) = evicted {
        let r = remove_unfilled(book.market, &mut *book.queue, owner, side, &worst, ReduceReason::Evicted)?;
        reduced_orders.push(r);
    }
    Ok(Some(kept))
}

#[cfg(test)]
mod tests;
