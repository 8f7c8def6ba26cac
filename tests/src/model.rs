//! A small reference model of the exchange, written from the rules rather than
//! from the program: price-time matching over two sorted lists, taker settlement
//! at once, maker settlement through a FIFO queue, fees and self-trade prevention.
//! The property test runs random sequences against both and compares.
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Limit,
    PostOnly,
    ImmediateOrCancel,
    FillOrKill,
    /// A market buy or sell for a quote amount.
    MarketByQuote,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stp {
    CancelResting,
    CancelTaking,
    DecrementBoth,
    Abort,
}

/// An order as the model takes it.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub bid: bool,
    pub price: u64,
    pub qty: u64,
    pub kind: Kind,
    pub stp: Stp,
    pub max_fills: u8,
    /// `u64::MAX`: no quote limit.
    pub max_quote: u64,
}

#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub lot: u64,
    pub tick: u64,
    pub maker_bps: i64,
    pub taker_bps: i64,
    pub max_orders: usize,
    /// The market's minimum order size in lots: no order, and no remainder, rests below it.
    pub min_lots: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub trader: usize,
    pub price: u64,
    pub seq: u64,
    pub qty: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balances {
    pub base_available: u64,
    pub base_locked: u64,
    pub quote_available: u64,
    pub quote_locked: u64,
    pub open_orders: usize,
}

impl Balances {
    /// Locked -> available for (part of) a resting order on the bid (quote) or ask (base) side.
    fn unlock(&mut self, bid: bool, amount: u64) {
        let (locked, available) = if bid {
            (&mut self.quote_locked, &mut self.quote_available)
        } else {
            (&mut self.base_locked, &mut self.base_available)
        };
        *locked -= amount;
        *available += amount;
    }
}

/// A maker's fill waiting for settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub maker: usize,
    pub maker_is_bid: bool,
    pub qty: u64,
    pub base: u64,
    pub quote: u64,
    pub fee: i64,
    pub order_done: bool,
    /// The lock of a remainder below the minimum that left the book with this fill.
    pub unlock: u64,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub p: Params,
    /// Best first.
    pub bids: Vec<Order>,
    pub asks: Vec<Order>,
    pub traders: Vec<Balances>,
    pub queue: VecDeque<Pending>,
    pub fees: u64,
    pub order_seq: u64,
}

fn ceil_div(a: u128, b: u128) -> u128 {
    a.div_ceil(b)
}

impl Model {
    pub fn new(p: Params, traders: Vec<Balances>) -> Self {
        Self { p, bids: vec![], asks: vec![], traders, queue: VecDeque::new(), fees: 0, order_seq: 0 }
    }

    fn notional(&self, qty: u64, price: u64) -> u64 {
        qty * price * self.p.tick
    }

    fn maker_fee_lock(&self, notional: u64) -> u64 {
        if self.p.maker_bps > 0 {
            ceil_div(notional as u128 * self.p.maker_bps as u128, 10_000) as u64
        } else {
            0
        }
    }

    /// What a resting order of `qty` locks.
    fn lock(&self, bid: bool, price: u64, qty: u64) -> u64 {
        if bid {
            let n = self.notional(qty, price);
            n + self.maker_fee_lock(n)
        } else {
            qty * self.p.lot
        }
    }

    fn crosses(bid: bool, price: u64, resting: u64) -> bool {
        if bid {
            price >= resting
        } else {
            price <= resting
        }
    }

    /// Places an order for trader `t`; on error nothing changes (the model is updated on a copy).
    pub fn place(&mut self, t: usize, order: &Place) -> Result<(), &'static str> {
        let mut next = self.clone();
        next.place_inner(t, order)?;
        *self = next;
        Ok(())
    }

    fn place_inner(&mut self, t: usize, order: &Place) -> Result<(), &'static str> {
        let Place { bid, price, qty, kind, stp, max_fills, max_quote } = *order;
        if qty < self.p.min_lots {
            return Err("OrderTooSmall");
        }
        let min_lots = self.p.min_lots;
        let opposite_best = |m: &Model| if bid { m.asks.first().cloned() } else { m.bids.first().cloned() };
        if kind == Kind::PostOnly && opposite_best(self).is_some_and(|o| Self::crosses(bid, price, o.price)) {
            return Err("WouldCross");
        }
        self.order_seq += 1;
        let seq = self.order_seq;
        let mut remaining = qty;
        let mut stopped = false;
        if kind != Kind::PostOnly {
            let taker_bps = self.p.taker_bps as u128;
            let taker_fee = |n: u64| ceil_div(n as u128 * taker_bps, 10_000) as u64;
            let max_notional = if !bid || max_quote == u64::MAX {
                max_quote
            } else {
                (0..=max_quote).rev().find(|x| x + taker_fee(*x) <= max_quote).unwrap_or(0)
            };
            let (mut spent, mut base_total, mut maker_fees, mut met) = (0u64, 0u64, 0i64, 0u8);
            while remaining > 0 && met < max_fills {
                let Some(best) = opposite_best(self) else { break };
                if !Self::crosses(bid, price, best.price) {
                    break;
                }
                met += 1;
                let book = if bid { &mut self.asks } else { &mut self.bids };
                if best.trader == t {
                    let overlap = match stp {
                        Stp::Abort => return Err("SelfTrade"),
                        Stp::CancelTaking => {
                            stopped = true;
                            break;
                        }
                        Stp::CancelResting => best.qty,
                        Stp::DecrementBoth => best.qty.min(remaining),
                    };
                    // No dust stays: a decrement leaving less than the minimum removes it all.
                    let cut = if best.qty - overlap < min_lots { best.qty } else { overlap };
                    if cut == best.qty {
                        book.remove(0);
                    } else {
                        book[0].qty -= cut;
                    }
                    let unlock = self.lock(!bid, best.price, best.qty) - self.lock(!bid, best.price, best.qty - cut);
                    let acct = &mut self.traders[t];
                    acct.unlock(!bid, unlock);
                    if cut == best.qty {
                        acct.open_orders -= 1;
                    }
                    if stp == Stp::DecrementBoth {
                        remaining -= overlap;
                    }
                    continue;
                }
                let per_lot = self.notional(1, best.price);
                let lots = remaining.min(best.qty).min((max_notional - spent) / per_lot);
                if lots == 0 {
                    break;
                }
                let quote = self.notional(lots, best.price);
                let fee = if self.p.maker_bps >= 0 {
                    (self.maker_fee_lock(self.notional(best.qty, best.price))
                        - self.maker_fee_lock(self.notional(best.qty - lots, best.price))) as i64
                } else {
                    -((quote as u128 * self.p.maker_bps.unsigned_abs() as u128 / 10_000) as i64)
                };
                let left = best.qty - lots;
                let dust = left > 0 && left < min_lots;
                let unlock = if dust { self.lock(!bid, best.price, left) } else { 0 };
                let done = left == 0 || dust;
                let book = if bid { &mut self.asks } else { &mut self.bids };
                if done {
                    book.remove(0);
                } else {
                    book[0].qty -= lots;
                }
                self.queue.push_back(Pending {
                    maker: best.trader,
                    maker_is_bid: !bid,
                    qty: lots,
                    base: lots * self.p.lot,
                    quote,
                    fee,
                    order_done: done,
                    unlock,
                });
                remaining -= lots;
                spent += quote;
                base_total += lots * self.p.lot;
                maker_fees += fee;
            }
            if kind == Kind::FillOrKill && remaining > 0 {
                return Err("WouldNotFill");
            }
            let fee = taker_fee(spent);
            let acct = &mut self.traders[t];
            if bid {
                acct.quote_available = acct.quote_available.checked_sub(spent + fee).ok_or("InsufficientFunds")?;
                acct.base_available += base_total;
            } else {
                acct.base_available = acct.base_available.checked_sub(base_total).ok_or("InsufficientFunds")?;
                acct.quote_available += spent - fee;
            }
            self.fees = (self.fees as i64 + fee as i64 + maker_fees) as u64;
        }
        let rests = matches!(kind, Kind::Limit | Kind::PostOnly);
        let still_crosses = opposite_best(self).is_some_and(|o| Self::crosses(bid, price, o.price));
        if rests && remaining > 0 && remaining >= min_lots && !stopped && !still_crosses {
            let lock = self.lock(bid, price, remaining);
            let max_orders = self.p.max_orders;
            let acct = &mut self.traders[t];
            if bid {
                acct.quote_available = acct.quote_available.checked_sub(lock).ok_or("InsufficientFunds")?;
                acct.quote_locked += lock;
            } else {
                acct.base_available = acct.base_available.checked_sub(lock).ok_or("InsufficientFunds")?;
                acct.base_locked += lock;
            }
            if acct.open_orders == max_orders {
                return Err("TooManyOpenOrders");
            }
            acct.open_orders += 1;
            let order = Order { trader: t, price, seq, qty: remaining };
            let book = if bid { &mut self.bids } else { &mut self.asks };
            let at =
                book.iter().position(|o| if bid { o.price < price } else { o.price > price }).unwrap_or(book.len());
            book.insert(at, order);
        }
        Ok(())
    }

    /// Cancels trader `t`'s order `seq` on one side.
    pub fn cancel(&mut self, t: usize, bid: bool, seq: u64) -> Result<(), &'static str> {
        let book = if bid { &mut self.bids } else { &mut self.asks };
        let at = book.iter().position(|o| o.seq == seq).ok_or("OrderNotFound")?;
        if book[at].trader != t {
            return Err("NotOrderOwner");
        }
        let o = book.remove(at);
        let unlock = self.lock(bid, o.price, o.qty);
        let acct = &mut self.traders[t];
        acct.unlock(bid, unlock);
        acct.open_orders -= 1;
        Ok(())
    }

    pub fn cancel_all(&mut self, t: usize) {
        for bid in [true, false] {
            let book = if bid { &self.bids } else { &self.asks };
            let mine: Vec<u64> = book.iter().filter(|o| o.trader == t).map(|o| o.seq).collect();
            for seq in mine {
                self.cancel(t, bid, seq).expect("own order");
            }
        }
    }

    /// Settles up to `n` queued fills in order.
    pub fn consume(&mut self, n: usize) -> Result<(), &'static str> {
        if self.queue.is_empty() {
            return Err("NothingToConsume");
        }
        for _ in 0..n {
            let Some(f) = self.queue.pop_front() else { break };
            let acct = &mut self.traders[f.maker];
            if f.maker_is_bid {
                acct.quote_locked -= f.quote + f.fee.max(0) as u64;
                acct.base_available += f.base;
                acct.quote_available += f.fee.min(0).unsigned_abs();
            } else {
                acct.base_locked -= f.base;
                acct.quote_available = (acct.quote_available as i64 + f.quote as i64 - f.fee) as u64;
            }
            acct.unlock(f.maker_is_bid, f.unlock);
            if f.order_done {
                acct.open_orders -= 1;
            }
        }
        Ok(())
    }
}
