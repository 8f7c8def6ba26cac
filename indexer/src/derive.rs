//! The tables derived from the event log, and the live messages each event makes.
//!
//! `apply` folds one event into markets, traders (balances), orders (with their
//! history), trades and candles, inside the caller's database transaction, so the
//! log and everything derived from it commit together. Balances and order states
//! are set to what the events carry: every event that moves funds carries each
//! touched trader's resulting balances, and every fill or reduction the order's
//! remaining lots, so no settlement, fee or lock rule is repeated here and the
//! index cannot drift from the program's arithmetic. u64 values are stored as
//! NUMERIC (`numeric::Numeric`), exactly.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{anyhow, Context};
use serde_json::{json, Value};
use solex::events::*;
use solex::state::{order_id_parts, QueueEventKind, Side};
use solex_sdk::events::SolexEvent;
use sqlx::{Postgres, Transaction};

use crate::channel::{Channel, Kind};
use crate::numeric::Numeric;
use crate::stored::StoredEvent;

/// Candle intervals and their length in seconds.
pub const INTERVALS: &[(&str, i64)] = &[("1m", 60), ("5m", 300), ("1h", 3_600), ("1d", 86_400)];

/// A message for a live channel: its data, rendered into the client's message once,
/// by the publisher (`live`).
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub channel: Channel,
    pub data: Value,
}

/// A change to one price level of a market's book: its new total (0: the level is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub side: Side,
    pub price: u64,
    pub qty_lots: u64,
}

/// What one event changed, for the live feed: the book levels it touched (always
/// present, possibly empty, so the book channel carries every sequence number) and
/// messages for the other channels. An event of a quarantined market changed nothing
/// derived: it has only its `events` message, and no book diff.
#[derive(Debug, Default)]
pub struct Changes {
    pub levels: Vec<Level>,
    pub messages: Vec<Live>,
    pub quarantined: bool,
}

/// The `events:<market>` message of a stored event: the log's entry.
fn logged(e: &StoredEvent) -> Live {
    Live {
        channel: Channel::new(Kind::Events, e.market.clone()),
        data: json!({"market": e.market, "seq": e.seq, "kind": e.kind, "slot": e.slot, "signature": e.signature}),
    }
}

/// The changes of an event logged but not derived (its market is quarantined).
pub fn logged_only(e: &StoredEvent) -> Changes {
    Changes { levels: vec![], messages: vec![logged(e)], quarantined: true }
}

/// Fill sequence numbers are BIGINT (a counter from zero cannot reach 2^63): refuse
/// rather than wrap.
fn bigint(v: u64) -> anyhow::Result<i64> {
    i64::try_from(v).map_err(|_| anyhow!("sequence number {v} exceeds BIGINT"))
}

/// What a reduction does to an order: its history change and, when no lots remain,
/// its status.
fn reduction(reason: ReduceReason) -> (&'static str, &'static str) {
    match reason {
        ReduceReason::Expired => ("expired", "expired"),
        ReduceReason::SelfTrade => ("self_trade", "cancelled"),
        ReduceReason::Evicted => ("evicted", "cancelled"),
        ReduceReason::BelowMinimum => ("below_minimum", "cancelled"),
    }
}

/// What `apply` looks up and may keep across the events of one database
/// transaction: a trader's owner never changes.
#[derive(Default)]
pub struct Lookups {
    /// (market, trader) -> owner.
    owners: HashMap<(String, String), String>,
}

struct Ctx<'t, 'c> {
    tx: &'t mut Transaction<'c, Postgres>,
    e: &'t StoredEvent,
    market: String,
    /// Trader accounts the event touched, with the balances it carries for each (the
    /// last of a trader wins); None: a new account, whose row already holds them.
    balances: BTreeMap<String, Option<Balances>>,
    /// Book levels touched: (side, price).
    levels: BTreeSet<(u8, u64)>,
    changes: Changes,
    lookups: &'t mut Lookups,
}

impl Ctx<'_, '_> {
    async fn owner(&mut self, trader: &str) -> anyhow::Result<String> {
        let key = (self.market.clone(), trader.to_string());
        if let Some(o) = self.lookups.owners.get(&key) {
            return Ok(o.clone());
        }
        let owner: String = sqlx::query_scalar("SELECT owner FROM traders WHERE market = $1 AND trader = $2")
            .bind(&self.market)
            .bind(trader)
            .fetch_optional(&mut **self.tx)
            .await?
            .ok_or_else(|| anyhow!("trader {trader} never created"))?;
        self.lookups.owners.insert(key, owner.clone());
        Ok(owner)
    }

    fn level(&mut self, side: Side, price: u64) {
        self.levels.insert((side.as_u8(), price));
    }

    /// Addresses `data` to the channel of `kind` for the market, or for the owner of
    /// the trader account `owner_of`.
    async fn message(&mut self, kind: Kind, owner_of: Option<&str>, data: Value) -> anyhow::Result<()> {
        let key = match owner_of {
            Some(trader) => self.owner(trader).await?,
            None => self.market.clone(),
        };
        self.changes.messages.push(Live { channel: Channel::new(kind, key), data });
        Ok(())
    }

    /// Sets a resting order's lots to the `remaining` its event carries, counting
    /// `filled` lots traded; when none remain it becomes `done_status`.
    async fn order_change(
        &mut self,
        order_id: u128,
        change: &str,
        filled: u64,
        remaining: u64,
        done_status: &str,
    ) -> anyhow::Result<()> {
        let (trader, side, row): (String, String, Value) = sqlx::query_as(
            "UPDATE orders SET filled_lots = filled_lots + $3, remaining_lots = $4,
                 status = CASE WHEN $4 = 0 THEN $5 ELSE status END, updated_seq = $6
             WHERE market = $1 AND order_id = $2
             RETURNING trader, side, to_jsonb(orders.*)",
        )
        .bind(&self.market)
        .bind(order_id.to_string())
        .bind(Numeric::from(filled))
        .bind(Numeric::from(remaining))
        .bind(done_status)
        .bind(self.e.seq)
        .fetch_optional(&mut **self.tx)
        .await?
        .ok_or_else(|| anyhow!("order {order_id} of market {} never placed", self.market))?;
        self.history(order_id, change).await?;
        let side: Side = side.parse()?;
        let (price, _) = order_id_parts(order_id);
        self.level(side, price);
        self.message(Kind::Orders, Some(&trader), row).await
    }

    /// Records the order's state after this event's `change`: one row per event, so
    /// a second change by the same event (a fill, then its remainder removed below
    /// the minimum) is the row's change, with the state after both.
    async fn history(&mut self, order_id: u128, change: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO order_history (market, order_id, seq, change, status, filled_lots, remaining_lots, slot)
             SELECT market, order_id, $3, $4, status, filled_lots, remaining_lots, $5 FROM orders
             WHERE market = $1 AND order_id = $2
             ON CONFLICT (market, order_id, seq) DO UPDATE SET change = EXCLUDED.change, status = EXCLUDED.status,
               filled_lots = EXCLUDED.filled_lots, remaining_lots = EXCLUDED.remaining_lots",
        )
        .bind(&self.market)
        .bind(order_id.to_string())
        .bind(self.e.seq)
        .bind(change)
        .bind(self.e.slot)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }

    async fn placed(&mut self, o: &OrderPlaced) -> anyhow::Result<()> {
        for f in &o.fills {
            sqlx::query(
                "INSERT INTO trades (market, fill_seq, seq, taker, taker_order_id, taker_side, maker, maker_order_id,
                 price, qty_lots, maker_fee, slot, signature, block_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&self.market)
            .bind(bigint(f.fill_seq)?)
            .bind(self.e.seq)
            .bind(o.trader.to_string())
            .bind(o.order_id.to_string())
            .bind(o.side.as_str())
            .bind(f.maker.to_string())
            .bind(f.maker_order_id.to_string())
            .bind(Numeric::from(f.price))
            .bind(Numeric::from(f.qty_lots))
            .bind(f.maker_fee)
            .bind(self.e.slot)
            .bind(&self.e.signature)
            .bind(self.e.block_time)
            .execute(&mut **self.tx)
            .await?;
            self.order_change(f.maker_order_id, "fill", f.qty_lots, f.remaining_lots, "filled").await?;
            let trade = json!({
                "market": self.market, "seq": self.e.seq, "fill_seq": f.fill_seq, "taker_side": o.side.as_str(),
                "price": f.price, "qty_lots": f.qty_lots, "taker": o.trader.to_string(), "maker": f.maker.to_string(),
                "maker_fee": f.maker_fee, "slot": self.e.slot, "block_time": self.e.block_time,
            });
            self.message(Kind::Trades, None, trade.clone()).await?;
            self.message(Kind::Fills, Some(&o.trader.to_string()), trade.clone()).await?;
            self.message(Kind::Fills, Some(&f.maker.to_string()), trade).await?;
            self.candle(f.price, f.qty_lots).await?;
        }
        for r in &o.reduced {
            self.reduced(r).await?;
        }
        let status = if o.rested_lots > 0 {
            "open"
        } else if o.filled_lots == o.qty_lots {
            "filled"
        } else {
            "cancelled"
        };
        let row: Value = sqlx::query_scalar(
            "INSERT INTO orders (market, order_id, trader, side, order_type, client_order_id, price, qty_lots,
             filled_lots, remaining_lots, status, placed_seq, updated_seq, placed_slot)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING to_jsonb(orders.*)",
        )
        .bind(&self.market)
        .bind(o.order_id.to_string())
        .bind(o.trader.to_string())
        .bind(o.side.as_str())
        .bind(o.order_type.as_str())
        .bind(o.client_order_id.to_string())
        .bind(Numeric::from(o.price))
        // (A market order sized only by its quote budget has qty u64::MAX.)
        .bind(Numeric::from(o.qty_lots))
        .bind(Numeric::from(o.filled_lots))
        .bind(Numeric::from(o.rested_lots))
        .bind(status)
        .bind(self.e.seq)
        .bind(self.e.slot)
        .fetch_one(&mut **self.tx)
        .await?;
        self.history(o.order_id, "placed").await?;
        if o.rested_lots > 0 {
            self.level(o.side, o.price);
        }
        self.message(Kind::Orders, Some(&o.trader.to_string()), row).await
    }

    /// A resting order removed or shrunk without trading. (Its owner's balances are
    /// in the event that applied the unlock: this one when the owner placed the
    /// order that met it, else the `FillsConsumed` of its queue entry.)
    async fn reduced(&mut self, r: &Reduced) -> anyhow::Result<()> {
        let (change, done_status) = reduction(r.reason);
        self.order_change(r.order_id, change, 0, r.remaining_lots, done_status).await
    }

    async fn candle(&mut self, price: u64, qty_lots: u64) -> anyhow::Result<()> {
        let Some(time) = self.e.block_time else { return Ok(()) };
        type Row = (i64, Numeric, Numeric, Numeric, Numeric, Numeric, i64);
        for (interval, seconds) in INTERVALS {
            let (start, open, high, low, close, volume, trades): Row = sqlx::query_as(
                "INSERT INTO candles (market, interval, start, open, high, low, close, volume, trades)
                 VALUES ($1, $2, $3, $4, $4, $4, $4, $5, 1)
                 ON CONFLICT (market, interval, start) DO UPDATE SET high = GREATEST(candles.high, EXCLUDED.high),
                   low = LEAST(candles.low, EXCLUDED.low), close = EXCLUDED.close,
                   volume = candles.volume + EXCLUDED.volume, trades = candles.trades + 1
                 RETURNING start, open, high, low, close, volume, trades",
            )
            .bind(&self.market)
            .bind(interval)
            .bind(time / seconds * seconds)
            .bind(Numeric::from(price))
            .bind(Numeric::from(qty_lots))
            .fetch_one(&mut **self.tx)
            .await?;
            let candle = json!({
                "interval": interval, "start": start, "open": open, "high": high, "low": low, "close": close,
                "volume": volume, "trades": trades,
            });
            self.message(Kind::Candles, None, candle).await?;
        }
        Ok(())
    }

    /// Marks each settled fill's trade consumed. (The makers' balances are in the
    /// event's entries; an `Out` entry only unlocked funds.)
    async fn consumed(&mut self, c: &FillsConsumed) -> anyhow::Result<()> {
        for s in c.settled.iter().filter(|s| s.kind == QueueEventKind::Fill) {
            let done = sqlx::query("UPDATE trades SET consumed_seq = $3 WHERE market = $1 AND fill_seq = $2")
                .bind(&self.market)
                .bind(bigint(s.fill_seq)?)
                .bind(self.e.seq)
                .execute(&mut **self.tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(anyhow!("fill {} consumed before it was made", s.fill_seq));
            }
        }
        Ok(())
    }

    async fn cancelled(&mut self, c: &OrdersCancelled) -> anyhow::Result<()> {
        for o in &c.orders {
            self.order_change(o.order_id, "cancel", 0, 0, "cancelled").await?;
        }
        Ok(())
    }

    /// Sets each touched trader's balances to what the event carried and publishes them.
    async fn flush_balances(&mut self) -> anyhow::Result<()> {
        for (trader, b) in std::mem::take(&mut self.balances) {
            let value = |f: fn(&Balances) -> u64| b.as_ref().map(|b| Numeric::from(f(b)));
            let row: Value = sqlx::query_scalar(
                "UPDATE traders SET base_available = COALESCE($3, base_available),
                   base_locked = COALESCE($4, base_locked), quote_available = COALESCE($5, quote_available),
                   quote_locked = COALESCE($6, quote_locked), seq = $7
                 WHERE market = $1 AND trader = $2 RETURNING to_jsonb(traders.*)",
            )
            .bind(&self.market)
            .bind(&trader)
            .bind(value(|b| b.base_available))
            .bind(value(|b| b.base_locked))
            .bind(value(|b| b.quote_available))
            .bind(value(|b| b.quote_locked))
            .bind(self.e.seq)
            .fetch_optional(&mut **self.tx)
            .await
            .with_context(|| format!("balances of {trader}"))?
            .ok_or_else(|| anyhow!("trader {trader} never created"))?;
            self.message(Kind::Balances, Some(&trader), row).await?;
        }
        Ok(())
    }

    /// The new totals of every touched level, from the orders still open.
    async fn flush_levels(&mut self) -> anyhow::Result<()> {
        for (side, price) in std::mem::take(&mut self.levels) {
            let side = Side::from_u8(side);
            let qty: Numeric = sqlx::query_scalar(
                "SELECT COALESCE(SUM(remaining_lots), 0) FROM orders
                 WHERE market = $1 AND side = $2 AND price = $3 AND status = 'open'",
            )
            .bind(&self.market)
            .bind(side.as_str())
            .bind(Numeric::from(price))
            .fetch_one(&mut **self.tx)
            .await?;
            self.changes.levels.push(Level { side, price, qty_lots: qty.u64()? });
        }
        Ok(())
    }
}

/// Folds one newly stored event into the derived tables (in the caller's
/// transaction) and returns what it changed for the live feed. `lookups` may be
/// shared by the events of one database transaction.
pub async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    e: &StoredEvent,
    lookups: &mut Lookups,
) -> anyhow::Result<Changes> {
    derive(tx, e, lookups).await.with_context(|| format!("{} seq {} ({})", e.market, e.seq, e.kind))
}

async fn derive(tx: &mut Transaction<'_, Postgres>, e: &StoredEvent, lookups: &mut Lookups) -> anyhow::Result<Changes> {
    let event = e.event()?;
    let mut ctx = Ctx {
        tx,
        e,
        market: e.market.clone(),
        balances: BTreeMap::new(),
        levels: BTreeSet::new(),
        changes: Changes::default(),
        lookups,
    };
    match &event {
        SolexEvent::MarketCreated(m) => {
            sqlx::query(
                "INSERT INTO markets (market, authority, base_mint, quote_mint, base_lot_size, quote_tick_size,
                 min_order_lots, maker_fee_bps, taker_fee_bps, created_slot)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(m.market.to_string())
            .bind(m.authority.to_string())
            .bind(m.base_mint.to_string())
            .bind(m.quote_mint.to_string())
            .bind(Numeric::from(m.base_lot_size))
            .bind(Numeric::from(m.quote_tick_size))
            .bind(Numeric::from(m.min_order_lots))
            .bind(m.maker_fee_bps)
            .bind(m.taker_fee_bps)
            .bind(e.slot)
            .execute(&mut **ctx.tx)
            .await?;
        }
        SolexEvent::TraderCreated(t) => {
            sqlx::query("INSERT INTO traders (market, trader, owner, max_orders, seq) VALUES ($1, $2, $3, $4, $5)")
                .bind(&ctx.market)
                .bind(t.trader.to_string())
                .bind(t.owner.to_string())
                .bind(t.max_orders as i32)
                .bind(e.seq)
                .execute(&mut **ctx.tx)
                .await?;
            ctx.balances.insert(t.trader.to_string(), None);
        }
        // Balances only: set from what the event carries, below.
        SolexEvent::Deposited(_) | SolexEvent::Withdrawn(_) | SolexEvent::FundsSettled(_) => {}
        SolexEvent::OrderPlaced(o) => ctx.placed(o).await?,
        SolexEvent::OrdersCancelled(c) => ctx.cancelled(c).await?,
        // Expired orders anyone removed: each owner's lock returns at consume_events (an Out entry).
        SolexEvent::OrdersPruned(p) => {
            for r in &p.orders {
                ctx.reduced(r).await?;
            }
        }
        SolexEvent::FillsConsumed(c) => ctx.consumed(c).await?,
        SolexEvent::FeesSwept(f) => {
            sqlx::query("UPDATE markets SET fees_swept = fees_swept + $2 WHERE market = $1")
                .bind(&ctx.market)
                .bind(Numeric::from(f.amount))
                .execute(&mut **ctx.tx)
                .await?;
        }
        SolexEvent::TraderClosed(t) => {
            sqlx::query("UPDATE traders SET closed = true, seq = $3 WHERE market = $1 AND trader = $2")
                .bind(&ctx.market)
                .bind(t.trader.to_string())
                .bind(e.seq)
                .execute(&mut **ctx.tx)
                .await?;
        }
        SolexEvent::DelegateSet(d) => {
            let delegate = (d.delegate != anchor_lang::prelude::Pubkey::default()).then(|| d.delegate.to_string());
            sqlx::query("UPDATE traders SET delegate = $3, seq = $4 WHERE market = $1 AND trader = $2")
                .bind(&ctx.market)
                .bind(d.trader.to_string())
                .bind(delegate)
                .bind(e.seq)
                .execute(&mut **ctx.tx)
                .await?;
        }
        SolexEvent::MarketStatusChanged(s) => {
            sqlx::query("UPDATE markets SET paused = $2 WHERE market = $1")
                .bind(&ctx.market)
                .bind(s.paused)
                .execute(&mut **ctx.tx)
                .await?;
        }
        SolexEvent::MarketClosed(_) => {
            sqlx::query("UPDATE markets SET closed = true WHERE market = $1")
                .bind(&ctx.market)
                .execute(&mut **ctx.tx)
                .await?;
        }
        // Batch markets (ADR 8): balances only, for now (see the batch-market issue's note).
        SolexEvent::AuctionCreated(_)
        | SolexEvent::SealedSubmitted(_)
        | SolexEvent::SealedCancelled(_)
        | SolexEvent::OrdersRevealed(_)
        | SolexEvent::BatchCleared(_)
        | SolexEvent::BatchExecuted(_)
        | SolexEvent::BatchVoided(_)
        | SolexEvent::AuctionClosed(_) => {}
    }
    // An empty cancel_all touched no account.
    if !matches!(&event, SolexEvent::OrdersCancelled(c) if c.orders.is_empty()) {
        for (trader, balances) in event.balances() {
            ctx.balances.insert(trader.to_string(), Some(balances));
        }
    }
    ctx.flush_balances().await?;
    ctx.flush_levels().await?;
    let mut changes = ctx.changes;
    changes.messages.insert(0, logged(e));
    Ok(changes)
}
