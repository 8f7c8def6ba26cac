//! Matching: the taking half of `place_order` and the cancels, as plain functions
//! over the market's state, so the same code runs on chain and in host tests.
use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::{CancelledOrder, Fill, ReduceReason, Reduced};
pub use crate::order::{OrderType, PlaceOrderArgs, SelfTradeMode, MAX_BATCH};
use crate::state::*;

/// Expired orders one taker removes on its way, besides its `max_fills` meets: an
/// expired order costs a taker a pop and a queue entry, and no longer uses up its
/// fill limit, so a side full of soon-expiring orders cannot starve takers.
pub const MAX_EXPIRED_PER_TAKE: usize = MAX_BATCH as usize;

/// A market's mutable state, as one instruction sees it.
pub struct Book<'a> {
    pub market: &'a mut Market,
    pub bids: &'a mut BookSide,
    pub asks: &'a mut BookSide,
    pub queue: &'a mut FillQueue,
}

/// The trader account an instruction acts for.
pub struct Account<'a> {
    pub key: Pubkey,
    pub trader: &'a mut Trader,
    pub slots: &'a mut [OrderSlot],
}

/// What `place` did, for the event.
#[derive(Debug, Default)]
pub struct Placed {
    pub order_id: u128,
    /// The price the order rested at (differs from the request after a post-only slide).
    pub price: u64,
    pub filled_lots: u64,
    pub filled_quote: u64,
    pub taker_fee: u64,
    pub rested_lots: u64,
    pub locked: u64,
    pub fills: Vec<Fill>,
    pub reduced: Vec<Reduced>,
}

impl Book<'_> {
    fn sides(&mut self, side: Side) -> (&mut BookSide, &mut BookSide) {
        match side {
            Side::Bid => (&mut *self.bids, &mut *self.asks),
            Side::Ask => (&mut *self.asks, &mut *self.bids),
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BookSide {
        self.sides(side).0
    }

    /// Places an order: takes what crosses (up to `max_fills`), settling the taker
    /// at once and queueing each maker's side of a fill, then rests what is left
    /// when the order type allows.
    pub fn place(&mut self, taker: &mut Account, args: &PlaceOrderArgs, now: &Now) -> Result<Placed> {
        require!(args.price > 0, SolexError::ZeroPrice);
        require!(args.qty_lots > 0, SolexError::ZeroQuantity);
        require!(args.qty_lots >= self.market.min_order_lots, SolexError::OrderTooSmall);
        args.expiry.validate()?;
        require!(!args.expiry.has_passed(now), SolexError::OrderExpired);
        let post_only = matches!(args.order_type, OrderType::PostOnly | OrderType::PostOnlySlide);
        if !post_only {
            require!((1..=MAX_BATCH).contains(&args.max_fills), SolexError::InvalidFillLimit);
        }
        if args.order_type == OrderType::Market {
            require!(args.qty_lots != u64::MAX || args.max_quote_atoms != u64::MAX, SolexError::NoMarketSize);
        }

        self.market.order_seq += 1;
        let seq = self.market.order_seq;
        let side = args.side;
        let mut placed = Placed {
            price: args.price,
            fills: Vec::with_capacity(args.max_fills.min(MAX_BATCH) as usize),
            ..Default::default()
        };

        if post_only {
            let opposite = self.sides(side).1;
            if let Some(best) = opposite.best().filter(|b| opposite.crosses_order(args.price, b.price)) {
                require!(args.order_type == OrderType::PostOnlySlide, SolexError::WouldCross);
                placed.price = match side {
                    Side::Bid => best.price.checked_sub(1).filter(|p| *p > 0),
                    Side::Ask => best.price.checked_add(1),
                }
                .ok_or(SolexError::NoSlidePrice)?;
            }
        }

        let mut remaining = args.qty_lots;
        let mut stopped_by_self_trade = false;
        if !post_only {
            stopped_by_self_trade = self.take(taker, args, now, &mut remaining, &mut placed)?;
        }
        let rests = matches!(args.order_type, OrderType::Limit | OrderType::PostOnly | OrderType::PostOnlySlide);
        // A remainder that still crosses (the fill limit or budget stopped matching)
        // is cancelled rather than rested: the book never holds crossed orders. Nor
        // does it hold dust: a remainder below the minimum size is cancelled too.
        if rests
            && remaining > 0
            && remaining >= self.market.min_order_lots
            && !stopped_by_self_trade
            && !self.sides(side).1.crosses(placed.price)
        {
            // Only a side full of better orders refuses it. (An order that took is
            // priced beyond the other side's best, so above its own side's worst.)
            require!(self.sides(side).0.can_rest(placed.price, seq), SolexError::BookFull);
            self.rest(taker, args, seq, remaining, &mut placed)?;
        }
        placed.order_id = order_id(placed.price, seq);
        Ok(placed)
    }

    /// Rests `remaining` lots of the order, evicting the side's worst order if it is full.
    fn rest(
        &mut self,
        taker: &mut Account,
        args: &PlaceOrderArgs,
        seq: u64,
        remaining: u64,
        placed: &mut Placed,
    ) -> Result<()> {
        let side = args.side;
        self.market.check_takeable(placed.price, remaining)?;
        let locked = self.market.lock_amount(side, placed.price, remaining)?;
        taker.trader.lock(Asset::locked_by(side), locked)?;
        taker.trader.add_order(taker.slots, side, placed.price, seq, args.client_order_id)?;
        let evicted = self.side_mut(side).insert_evicting(RestingOrder {
            trader: taker.key,
            price: placed.price,
            seq,
            qty_lots: remaining,
            expires: args.expiry.encode(),
        })?;
        if let Some(worst) = evicted {
            let r = remove_unfilled(self.market, &mut *self.queue, taker, side, &worst, ReduceReason::Evicted)?;
            placed.reduced.push(r);
        }
        placed.rested_lots = remaining;
        placed.locked = locked;
        Ok(())
    }

    /// The taking half of `place`. Returns whether self-trade prevention cancelled the remainder.
    fn take(
        &mut self,
        taker: &mut Account,
        args: &PlaceOrderArgs,
        now: &Now,
        remaining: &mut u64,
        placed: &mut Placed,
    ) -> Result<bool> {
        let side = args.side;
        let maker_side = match side {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        };
        // The most notional the taker may reach: for bids the budget covers the fee too.
        let max_notional = match side {
            Side::Ask => args.max_quote_atoms,
            Side::Bid => self.max_notional_within(args.max_quote_atoms),
        };
        let mut base_total: u64 = 0;
        let mut maker_fees: i128 = 0;
        let mut met: u8 = 0;
        let mut stopped_by_self_trade = false;

        let mut expired_met = 0;
        let mut queue_full = false;
        while *remaining > 0 && met < args.max_fills {
            let market = &*self.market;
            let (_, opposite) = match side {
                Side::Bid => (&mut *self.bids, &mut *self.asks),
                Side::Ask => (&mut *self.asks, &mut *self.bids),
            };
            let Some(best) = opposite.best_mut() else { break };
            if !crosses(maker_side, args.price, best.price) {
                break;
            }
            let maker = *best;

            if maker.expiry().has_passed(now) {
                if expired_met == MAX_EXPIRED_PER_TAKE {
                    break;
                }
                if maker.trader != taker.key && self.queue.is_full() {
                    queue_full = true;
                    break;
                }
                expired_met += 1;
                opposite.pop_best();
                let r = remove_unfilled(market, &mut *self.queue, taker, maker_side, &maker, ReduceReason::Expired)?;
                placed.reduced.push(r);
                continue;
            }
            met += 1;

            if maker.trader == taker.key {
                let overlap = match args.self_trade {
                    SelfTradeMode::Abort => return err!(SolexError::SelfTrade),
                    SelfTradeMode::CancelTaking => {
                        stopped_by_self_trade = true;
                        break;
                    }
                    SelfTradeMode::CancelResting => maker.qty_lots,
                    SelfTradeMode::DecrementBoth => maker.qty_lots.min(*remaining),
                };
                // A decrement that would leave dust on the book takes the dust too.
                let left = maker.qty_lots - overlap;
                let cut = if left > 0 && left < market.min_order_lots { maker.qty_lots } else { overlap };
                let unlock = market.lock_amount(maker_side, maker.price, maker.qty_lots)?
                    - market.lock_amount(maker_side, maker.price, maker.qty_lots - cut)?;
                taker.trader.unlock(Asset::locked_by(maker_side), unlock)?;
                if cut == maker.qty_lots {
                    opposite.pop_best();
                    taker.trader.remove_order(taker.slots, maker.seq)?;
                } else {
                    best.qty_lots -= cut;
                }
                if args.self_trade == SelfTradeMode::DecrementBoth {
                    *remaining -= overlap;
                }
                let r = reduced(&maker, maker_side, cut, maker.qty_lots - cut, ReduceReason::SelfTrade, unlock);
                placed.reduced.push(r);
                continue;
            }

            if self.queue.is_full() {
                queue_full = true;
                break;
            }
            let room = max_notional.saturating_sub(placed.filled_quote) / market.notional(1, maker.price)?.max(1);
            let lots = (*remaining).min(maker.qty_lots).min(room);
            if lots == 0 {
                break;
            }
            let quote = market.notional(lots, maker.price)?;
            let base = market.base_atoms(lots)?;
            let maker_fee = market.maker_fee(maker.qty_lots, lots, maker.price)?;
            // A remainder below the minimum leaves the book with the fill; its lock is
            // returned when the maker's entry is consumed.
            let left = maker.qty_lots - lots;
            let dust = left > 0 && left < market.min_order_lots;
            let unlock = if dust { market.lock_amount(maker_side, maker.price, left)? } else { 0 };
            let done = left == 0 || dust;
            let fill_seq = self.queue.push(QueueEvent {
                maker: maker.trader,
                price: maker.price,
                order_seq: maker.seq,
                qty_lots: lots,
                base_atoms: base,
                quote_atoms: quote,
                maker_fee,
                unlock,
                kind: QueueEventKind::Fill as u8,
                side: maker_side.as_u8(),
                order_done: done as u8,
                ..Default::default()
            })?;
            if done {
                opposite.pop_best();
            } else {
                best.qty_lots -= lots;
            }
            if dust {
                placed.reduced.push(reduced(&maker, maker_side, left, 0, ReduceReason::BelowMinimum, unlock));
            }
            *remaining -= lots;
            placed.filled_lots += lots;
            placed.filled_quote = placed.filled_quote.checked_add(quote).ok_or(SolexError::Overflow)?;
            base_total = base_total.checked_add(base).ok_or(SolexError::Overflow)?;
            maker_fees += maker_fee as i128;
            placed.fills.push(Fill {
                fill_seq,
                maker: maker.trader,
                maker_order_id: maker.id(),
                price: maker.price,
                qty_lots: lots,
                base_atoms: base,
                quote_atoms: quote,
                maker_fee,
                remaining_lots: left,
            });
        }

        // A taker stopped by a full queue before any fill learns why (a consume_events
        // before its order, in the same transaction, makes room).
        require!(!(queue_full && placed.filled_lots == 0), SolexError::FillQueueFull);
        // Checked before settling, so an unfillable FOK reports WouldNotFill whatever the balances.
        if args.order_type == OrderType::FillOrKill {
            require!(*remaining == 0, SolexError::WouldNotFill);
        }
        // Settle the taker now; makers settle through the queue.
        let fee = self.market.taker_fee(placed.filled_quote);
        placed.taker_fee = fee;
        match side {
            Side::Bid => {
                // max_notional keeps notional + fee within u64.
                let cost = placed.filled_quote.checked_add(fee).ok_or(SolexError::Overflow)?;
                taker.trader.debit(Asset::Quote, cost)?;
                taker.trader.credit(Asset::Base, base_total)?;
            }
            Side::Ask => {
                taker.trader.debit(Asset::Base, base_total)?;
                taker.trader.credit(Asset::Quote, placed.filled_quote - fee)?;
            }
        }
        // Rebates never exceed the taker fee (see `valid_fees`), so this is never negative.
        let accrued = self.market.fees_accrued as i128 + fee as i128 + maker_fees;
        self.market.fees_accrued = u64::try_from(accrued).map_err(|_| error!(SolexError::Overflow))?;
        Ok(stopped_by_self_trade)
    }

    /// The largest notional `x` with `x + taker_fee(x) <= budget`. For `u64::MAX`,
    /// "no budget", `MAX_NOTIONAL`: any fee on it still fits in u64 (and it spares
    /// the u128 division below).
    fn max_notional_within(&self, budget: u64) -> u64 {
        if budget == u64::MAX {
            return MAX_NOTIONAL;
        }
        let bps = self.market.taker_fee_bps.max(0) as u128;
        let mut x = (budget as u128 * FEE_DENOMINATOR / (FEE_DENOMINATOR + bps)) as u64;
        while x > 0 && x as u128 + self.market.taker_fee(x) as u128 > budget as u128 {
            x -= 1;
        }
        x
    }

    /// Is the order with this id on the book?
    pub fn is_resting(&mut self, side: Side, order_id: u128) -> bool {
        self.side_mut(side).find(order_id).is_some()
    }

    /// Removes one of `owner`'s resting orders and unlocks its funds.
    pub fn cancel(&mut self, owner: &mut Account, side: Side, order_id: u128) -> Result<CancelledOrder> {
        let book = self.side_mut(side);
        let at = book.find(order_id).ok_or(SolexError::OrderNotFound)?;
        require_keys_eq!(book.orders[at].trader, owner.key, SolexError::NotOrderOwner);
        let order = book.remove(at);
        let unlocked = self.market.lock_amount(side, order.price, order.qty_lots)?;
        owner.trader.unlock(Asset::locked_by(side), unlocked)?;
        let slot = owner.trader.remove_order(owner.slots, order.seq)?;
        Ok(CancelledOrder {
            order_id,
            client_order_id: slot.client_order_id,
            side,
            price: order.price,
            qty_lots: order.qty_lots,
            unlocked,
        })
    }

    /// Cancels up to `limit` (at most `MAX_BATCH`) of `owner`'s resting orders (on one
    /// side, or both). Orders already filled and waiting for `consume_events` are not
    /// on the book and stay.
    pub fn cancel_all(&mut self, owner: &mut Account, side: Option<Side>, limit: u8) -> Result<Vec<CancelledOrder>> {
        let limit = limit.min(MAX_BATCH);
        let mut cancelled = Vec::with_capacity(limit as usize);
        for i in 0..owner.slots.len() {
            if cancelled.len() == limit as usize {
                break;
            }
            let slot = owner.slots[i];
            if slot.used == 0 || side.is_some_and(|s| s != slot.side()) {
                continue;
            }
            if self.side_mut(slot.side()).find(slot.order_id()).is_some() {
                cancelled.push(self.cancel(owner, slot.side(), slot.order_id())?);
            }
        }
        Ok(cancelled)
    }
}

/// `qty_lots` of `order` left the book, `remaining_lots` stay on it.
pub fn reduced(
    order: &RestingOrder,
    side: Side,
    qty_lots: u64,
    remaining_lots: u64,
    reason: ReduceReason,
    unlocked: u64,
) -> Reduced {
    Reduced { order_id: order.id(), trader: order.trader, side, qty_lots, reason, unlocked, remaining_lots }
}

/// An order that left the book without trading (expired, evicted, pruned): its
/// owner's funds unlock at once if the owner is `taker`, else through the fill
/// queue. The caller has removed it from the book.
pub fn remove_unfilled(
    market: &Market,
    queue: &mut FillQueue,
    taker: &mut Account,
    side: Side,
    order: &RestingOrder,
    reason: ReduceReason,
) -> Result<Reduced> {
    let unlock = market.lock_amount(side, order.price, order.qty_lots)?;
    if order.trader == taker.key {
        taker.trader.unlock(Asset::locked_by(side), unlock)?;
        taker.trader.remove_order(taker.slots, order.seq)?;
    } else {
        queue_out(queue, side, order, unlock)?;
    }
    Ok(reduced(order, side, order.qty_lots, 0, reason, unlock))
}

/// Queues the unlock of another trader's order that left the book unfilled.
pub fn queue_out(queue: &mut FillQueue, side: Side, order: &RestingOrder, unlock: u64) -> Result<u64> {
    queue.push(QueueEvent {
        maker: order.trader,
        price: order.price,
        order_seq: order.seq,
        qty_lots: order.qty_lots,
        unlock,
        kind: QueueEventKind::Out as u8,
        side: side.as_u8(),
        order_done: 1,
        ..Default::default()
    })
}
