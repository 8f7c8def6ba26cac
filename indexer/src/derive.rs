//! The tables derived from the event log, and the live messages each event makes.
//!
//! `apply` folds one event into markets, traders (balances), orders (with their
//! history), trades, candles, and a batch market's batches and sealed orders, inside
//! the caller's database transaction, so the log and everything derived from it
//! commit together. Balances and order states
//! are set to what the events carry: every event that moves funds carries each
//! touched trader's resulting balances, and every fill or reduction the order's
//! remaining lots, so no settlement, fee or lock rule is repeated here and the
//! index cannot drift from the program's arithmetic. u64 values are stored as
//! NUMERIC (`numeric::Numeric`), exactly.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{anyhow, Context};
use serde_json::{json, Value};
use solex::events::*;
use solex::order::OrderType;
use solex::state::{order_id_parts, QueueEventKind, Side, VoidReason};
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

/// A void sealed order's reason, as the database (`sealed_orders.void_reason`'s
/// CHECK) and the API name it.
pub fn void_reason(reason: VoidReason) -> &'static str {
    match reason {
        VoidReason::BadKey => "bad_key",
        VoidReason::BadTag => "bad_tag",
        VoidReason::Malformed => "malformed",
        VoidReason::EnvelopeTooSmall => "envelope_too_small",
        VoidReason::NotionalTooLarge => "notional_too_large",
        VoidReason::Timeout => "timeout",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `apply` looks up and may keep across the events of one database
/// transaction: a trader's owner never changes.
#[derive(Default)]
pub struct Lookups {
    /// (market, trader) -> owner.
    owners: HashMap<(String, String), String>,
}

/// An order as `insert_order` records it.
struct NewOrder {
    order_id: u128,
    trader: String,
    side: Side,
    order_type: OrderType,
    client_order_id: u64,
    price: u64,
    qty_lots: u64,
    filled_lots: u64,
    remaining_lots: u64,
    status: &'static str,
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
    /// `filled` lots traded; when none remain it becomes `done_status`. Returns the
    /// order's side.
    async fn order_change(
        &mut self,
        order_id: u128,
        change: &str,
        filled: u64,
        remaining: u64,
        done_status: &str,
    ) -> anyhow::Result<Side> {
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
        self.message(Kind::Orders, Some(&trader), row).await?;
        Ok(side)
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
        self.insert_order(NewOrder {
            order_id: o.order_id,
            trader: o.trader.to_string(),
            side: o.side,
            order_type: o.order_type,
            client_order_id: o.client_order_id,
            price: o.price,
            // (A market order sized only by its quote budget has qty u64::MAX.)
            qty_lots: o.qty_lots,
            filled_lots: o.filled_lots,
            remaining_lots: o.rested_lots,
            status,
        })
        .await
    }

    /// Records an order with its first history entry (`placed`), its level if it
    /// rests, and tells its owner.
    async fn insert_order(&mut self, o: NewOrder) -> anyhow::Result<()> {
        let row: Value = sqlx::query_scalar(
            "INSERT INTO orders (market, order_id, trader, side, order_type, client_order_id, price, qty_lots,
             filled_lots, remaining_lots, status, placed_seq, updated_seq, placed_slot)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING to_jsonb(orders.*)",
        )
        .bind(&self.market)
        .bind(o.order_id.to_string())
        .bind(&o.trader)
        .bind(o.side.as_str())
        .bind(o.order_type.as_str())
        .bind(o.client_order_id.to_string())
        .bind(Numeric::from(o.price))
        .bind(Numeric::from(o.qty_lots))
        .bind(Numeric::from(o.filled_lots))
        .bind(Numeric::from(o.remaining_lots))
        .bind(o.status)
        .bind(self.e.seq)
        .bind(self.e.slot)
        .fetch_one(&mut **self.tx)
        .await?;
        self.history(o.order_id, "placed").await?;
        if o.remaining_lots > 0 {
            self.level(o.side, o.price);
        }
        self.message(Kind::Orders, Some(&o.trader), row).await
    }

    /// A resting order removed or shrunk without trading. (Its owner's balances are
    /// in the event that applied the unlock: this one when the owner placed the
    /// order that met it, else the `FillsConsumed` of its queue entry.)
    async fn reduced(&mut self, r: &Reduced) -> anyhow::Result<()> {
        let (change, done_status) = reduction(r.reason);
        self.order_change(r.order_id, change, 0, r.remaining_lots, done_status).await?;
        Ok(())
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

    /// The batch's row after this event's change, on the `batches:<market>` channel,
    /// with the phase it reached.
    async fn batch_message(&mut self, phase: &str, row: Value) -> anyhow::Result<()> {
        let mut data = row;
        data["phase"] = json!(phase);
        self.message(Kind::Batches, None, data).await
    }

    /// Publishes a batch's row (None: the event names a batch the index does not
    /// hold in the phase it needs: an error of the event) at `phase`.
    async fn updated_batch(&mut self, batch_id: u64, phase: &str, row: Option<Value>) -> anyhow::Result<()> {
        let row = row.ok_or_else(|| anyhow!("batch {batch_id} of market {} cannot reach {phase}", self.market))?;
        self.batch_message(phase, row).await
    }

    /// A sealed order's row after this event's change, to its owner's orders channel
    /// (None: the event names a sealed order the index does not hold as it needs).
    async fn sealed_message(&mut self, batch_id: u64, index: u32, row: Option<Value>) -> anyhow::Result<()> {
        let row = row.ok_or_else(|| anyhow!("sealed order {index} of batch {batch_id} never submitted"))?;
        let trader = row["trader"].as_str().ok_or_else(|| anyhow!("a sealed order without a trader"))?.to_string();
        self.message(Kind::Orders, Some(&trader), row).await
    }

    async fn auction_created(&mut self, a: &AuctionCreated) -> anyhow::Result<()> {
        let done = sqlx::query(
            "UPDATE markets SET auction = $2, keyper_set = $3, batch_slots = $4, reveal_timeout_slots = $5,
               sealed_fee = $6, batch_capacity = $7
             WHERE market = $1",
        )
        .bind(&self.market)
        .bind(a.auction.to_string())
        .bind(a.keyper_set.to_string())
        .bind(Numeric::from(a.batch_slots))
        .bind(Numeric::from(a.reveal_timeout_slots))
        .bind(Numeric::from(a.sealed_fee))
        .bind(i64::from(a.capacity))
        .execute(&mut **self.tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(anyhow!("auction {} of a market never created", a.auction));
        }
        Ok(())
    }

    /// A sealed order entered its batch: only what is in the clear is recorded.
    async fn sealed_submitted(&mut self, s: &SealedSubmitted) -> anyhow::Result<()> {
        let batch_id = bigint(s.batch_id)?;
        let batch: Value = sqlx::query_scalar(
            "INSERT INTO batches (market, batch_id, status, orders, first_seq, first_slot)
             VALUES ($1, $2, 'collecting', 1, $3, $4)
             ON CONFLICT (market, batch_id) DO UPDATE SET orders = batches.orders + 1
             RETURNING to_jsonb(batches.*)",
        )
        .bind(&self.market)
        .bind(batch_id)
        .bind(self.e.seq)
        .bind(self.e.slot)
        .fetch_one(&mut **self.tx)
        .await?;
        let row: Value = sqlx::query_scalar(
            "INSERT INTO sealed_orders (market, batch_id, idx, trader, order_seq, base_envelope, quote_envelope, fee,
               status, submitted_seq, submitted_slot)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'sealed', $9, $10) RETURNING to_jsonb(sealed_orders.*)",
        )
        .bind(&self.market)
        .bind(batch_id)
        .bind(i64::from(s.index))
        .bind(s.trader.to_string())
        .bind(bigint(s.order_seq)?)
        .bind(Numeric::from(s.base_envelope))
        .bind(Numeric::from(s.quote_envelope))
        .bind(Numeric::from(s.fee))
        .bind(self.e.seq)
        .bind(self.e.slot)
        .fetch_one(&mut **self.tx)
        .await?;
        self.batch_message("submitted", batch).await?;
        self.message(Kind::Orders, Some(&s.trader.to_string()), row).await
    }

    async fn sealed_cancelled(&mut self, c: &SealedCancelled) -> anyhow::Result<()> {
        let batch_id = bigint(c.batch_id)?;
        let row: Option<Value> = sqlx::query_scalar(
            "UPDATE sealed_orders SET status = 'cancelled', cancelled_seq = $4
             WHERE market = $1 AND batch_id = $2 AND idx = $3 AND status = 'sealed' AND trader = $5
             RETURNING to_jsonb(sealed_orders.*)",
        )
        .bind(&self.market)
        .bind(batch_id)
        .bind(i64::from(c.index))
        .bind(self.e.seq)
        .bind(c.trader.to_string())
        .fetch_optional(&mut **self.tx)
        .await?;
        self.sealed_message(c.batch_id, c.index, row).await?;
        let row: Option<Value> = sqlx::query_scalar(
            "UPDATE batches SET cancelled = cancelled + 1 WHERE market = $1 AND batch_id = $2
             RETURNING to_jsonb(batches.*)",
        )
        .bind(&self.market)
        .bind(batch_id)
        .fetch_optional(&mut **self.tx)
        .await?;
        self.updated_batch(c.batch_id, "cancelled", row).await
    }

    /// The batch's key was published and (some of) its orders opened: what each
    /// turned out to be is recorded now, and not before.
    async fn revealed(&mut self, r: &OrdersRevealed) -> anyhow::Result<()> {
        let batch_id = bigint(r.batch_id)?;
        let row: Option<Value> = sqlx::query_scalar(
            "UPDATE batches SET status = 'opened', key_round = $3, secret = $4,
               opened_seq = COALESCE(opened_seq, $5), opened_slot = COALESCE(opened_slot, $6)
             WHERE market = $1 AND batch_id = $2 AND status IN ('collecting', 'opened')
             RETURNING to_jsonb(batches.*)",
        )
        .bind(&self.market)
        .bind(batch_id)
        .bind(bigint(r.key_round)?)
        .bind(hex(&r.secret))
        .bind(self.e.seq)
        .bind(self.e.slot)
        .fetch_optional(&mut **self.tx)
        .await?;
        self.updated_batch(r.batch_id, "opened", row).await?;
        for o in &r.orders {
            let (status, side, order_type, price, qty, client_id, void) = match &o.outcome {
                RevealOutcome::Order { side, order_type, price, qty_lots, client_order_id, expiry: _ } => (
                    "revealed",
                    Some(side.as_str()),
                    Some(order_type.as_str()),
                    Some(Numeric::from(*price)),
                    Some(Numeric::from(*qty_lots)),
                    Some(client_order_id.to_string()),
                    None,
                ),
                RevealOutcome::Void(reason) => ("void", None, None, None, None, None, Some(void_reason(*reason))),
            };
            let row: Option<Value> = sqlx::query_scalar(
                "UPDATE sealed_orders SET status = $4, revealed_seq = $5, side = $6, order_type = $7, price = $8,
                   qty_lots = $9, client_order_id = $10, void_reason = $11
                 WHERE market = $1 AND batch_id = $2 AND idx = $3 AND status = 'sealed' AND trader = $12
                   AND order_seq = $13
                 RETURNING to_jsonb(sealed_orders.*)",
            )
            .bind(&self.market)
            .bind(batch_id)
            .bind(i64::from(o.index))
            .bind(status)
            .bind(self.e.seq)
            .bind(side)
            .bind(order_type)
            .bind(price)
            .bind(qty)
            .bind(client_id)
            .bind(void)
            .bind(o.trader.to_string())
            .bind(bigint(o.order_seq)?)
            .fetch_optional(&mut **self.tx)
            .await?;
            self.sealed_message(r.batch_id, o.index, row).await?;
        }
        Ok(())
    }

    /// The batch's uniform price. Its volume trades once, at that price: the candles
    /// and the trades channel take the batch as one trade here (the resting orders'
    /// fills, made as it executes, are part of this volume).
    async fn cleared(&mut self, c: &BatchCleared) -> anyhow::Result<()> {
        let row: Option<Value> = sqlx::query_scalar(
            "UPDATE batches SET status = 'cleared', price = $3, volume = $4, demand = $5, supply = $6, valid = $7,
               voids = $8, bid_sweep = $9, ask_sweep = $10, reference = $11, cleared_seq = $12, cleared_slot = $13,
               cleared_time = $14
             WHERE market = $1 AND batch_id = $2 AND status = 'opened'
             RETURNING to_jsonb(batches.*)",
        )
        .bind(&self.market)
        .bind(bigint(c.batch_id)?)
        .bind(Numeric::from(c.price))
        .bind(Numeric::from(c.volume))
        .bind(Numeric::from(c.demand))
        .bind(Numeric::from(c.supply))
        .bind(i64::from(c.orders))
        .bind(i64::from(c.voids))
        .bind(Numeric::from(c.bid_sweep))
        .bind(Numeric::from(c.ask_sweep))
        .bind(Numeric::from(c.reference))
        .bind(self.e.seq)
        .bind(self.e.slot)
        .bind(self.e.block_time)
        .fetch_optional(&mut **self.tx)
        .await?;
        self.updated_batch(c.batch_id, "cleared", row).await?;
        if c.volume > 0 {
            let trade = json!({
                "market": self.market, "seq": self.e.seq, "batch_id": c.batch_id, "price": c.price,
                "qty_lots": c.volume, "demand": c.demand, "supply": c.supply, "slot": self.e.slot,
                "block_time": self.e.block_time,
            });
            self.message(Kind::Trades, None, trade).await?;
            self.candle(c.price, c.volume).await?;
        }
        Ok(())
    }

    /// The batch's key never came: every order still sealed is voided (the event
    /// counts them) and is refunded as the batch executes.
    async fn batch_voided(&mut self, v: &BatchVoided) -> anyhow::Result<()> {
        let batch_id = bigint(v.batch_id)?;
        let row: Option<Value> = sqlx::query_scalar(
            "UPDATE batches SET status = 'voided', key_round = $3, voids = $4, voided_seq = $5, voided_slot = $6
             WHERE market = $1 AND batch_id = $2 AND status = 'collecting'
             RETURNING to_jsonb(batches.*)",
        )
        .bind(&self.market)
        .bind(batch_id)
        .bind(bigint(v.key_round)?)
        .bind(i64::from(v.voided))
        .bind(self.e.seq)
        .bind(self.e.slot)
        .fetch_optional(&mut **self.tx)
        .await?;
        self.updated_batch(v.batch_id, "voided", row).await?;
        let rows: Vec<Value> = sqlx::query_scalar(
            "UPDATE sealed_orders SET status = 'void', void_reason = 'timeout'
             WHERE market = $1 AND batch_id = $2 AND status = 'sealed' RETURNING to_jsonb(sealed_orders.*)",
        )
        .bind(&self.market)
        .bind(batch_id)
        .fetch_all(&mut **self.tx)
        .await?;
        if rows.len() != v.voided as usize {
            return Err(anyhow!("batch {} voids {} orders, {} were sealed", v.batch_id, v.voided, rows.len()));
        }
        for row in rows {
            self.sealed_message(v.batch_id, 0, Some(row)).await?;
        }
        Ok(())
    }

    /// A step of a batch's execution. The resting orders it took are fills like any
    /// maker's: a `trades` row each (so `FillsConsumed` finds them), with the maker's
    /// order changed. The taker of such a fill is the batch: `taker` is the auction
    /// account and `taker_order_id` the batch id (below 2^64, so never the id of an
    /// order, whose high half is its price, at least 1), and `taker_side` the side
    /// opposite the maker's. These fills are part of the batch's volume, already in
    /// the candles and the trades channel since `BatchCleared`: here they reach the
    /// makers' fills channels only. Then each sealed order settled, a limit order's
    /// remainder that rests becoming an open order, and last the resting orders the
    /// step met expired or evicted (an eviction may remove a remainder rested in this
    /// same step).
    async fn executed(&mut self, x: &BatchExecuted) -> anyhow::Result<()> {
        let batch_id = bigint(x.batch_id)?;
        if !x.fills.is_empty() {
            let auction: String = sqlx::query_scalar("SELECT auction FROM markets WHERE market = $1")
                .bind(&self.market)
                .fetch_optional(&mut **self.tx)
                .await?
                .flatten()
                .ok_or_else(|| anyhow!("market {} has no auction", self.market))?;
            for f in &x.fills {
                let maker_side =
                    self.order_change(f.maker_order_id, "fill", f.qty_lots, f.remaining_lots, "filled").await?;
                let taker_side = match maker_side {
                    Side::Bid => Side::Ask,
                    Side::Ask => Side::Bid,
                };
                sqlx::query(
                    "INSERT INTO trades (market, fill_seq, seq, taker, taker_order_id, taker_side, maker,
                     maker_order_id, price, qty_lots, maker_fee, slot, signature, block_time)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&self.market)
                .bind(bigint(f.fill_seq)?)
                .bind(self.e.seq)
                .bind(&auction)
                .bind(x.batch_id.to_string())
                .bind(taker_side.as_str())
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
                let trade = json!({
                    "market": self.market, "seq": self.e.seq, "fill_seq": f.fill_seq, "taker_side": taker_side.as_str(),
                    "price": f.price, "qty_lots": f.qty_lots, "taker": auction, "maker": f.maker.to_string(),
                    "maker_fee": f.maker_fee, "slot": self.e.slot, "block_time": self.e.block_time,
                    "batch_id": x.batch_id,
                });
                self.message(Kind::Fills, Some(&f.maker.to_string()), trade).await?;
            }
        }
        for o in &x.orders {
            self.batch_order_settled(x.batch_id, o).await?;
        }
        for r in &x.reduced {
            self.reduced(r).await?;
        }
        if x.done {
            let row: Option<Value> = sqlx::query_scalar(
                "UPDATE batches SET status = CASE WHEN status = 'voided' THEN 'voided' ELSE 'done' END,
                   done_seq = $3, done_slot = $4
                 WHERE market = $1 AND batch_id = $2 AND status IN ('cleared', 'voided')
                 RETURNING to_jsonb(batches.*)",
            )
            .bind(&self.market)
            .bind(batch_id)
            .bind(self.e.seq)
            .bind(self.e.slot)
            .fetch_optional(&mut **self.tx)
            .await?;
            self.updated_batch(x.batch_id, "done", row).await?;
        }
        Ok(())
    }

    /// One sealed order's settlement, as the event reports it. A void order's
    /// contents stay unknown (the event's order fields are then empty defaults). A
    /// remainder that rests becomes an open order, told to its owner after the
    /// sealed order's row (which names it), so a client that keeps open orders by
    /// id ends with it open.
    async fn batch_order_settled(&mut self, batch: u64, o: &BatchOrderSettled) -> anyhow::Result<()> {
        let rests = o.void_reason.is_none() && o.rested_lots > 0;
        let (status, void) = match o.void_reason {
            None => ("done", None),
            Some(reason) => ("void", Some(void_reason(reason))),
        };
        let row: Option<Value> = sqlx::query_scalar(
            "UPDATE sealed_orders SET status = $4, void_reason = COALESCE($5, void_reason), settled_seq = $6,
               filled_lots = $7, base = $8, quote = $9, taker_fee = $10, fee_kept = $11, rested_lots = $12,
               order_id = $13
             WHERE market = $1 AND batch_id = $2 AND idx = $3 AND trader = $14 AND order_seq = $15
               AND settled_seq IS NULL AND status = CASE WHEN $5::TEXT IS NULL THEN 'revealed' ELSE 'void' END
             RETURNING to_jsonb(sealed_orders.*)",
        )
        .bind(&self.market)
        .bind(bigint(batch)?)
        .bind(i64::from(o.index))
        .bind(status)
        .bind(void)
        .bind(self.e.seq)
        .bind(Numeric::from(o.filled_lots))
        .bind(Numeric::from(o.base_atoms))
        .bind(Numeric::from(o.quote_atoms))
        .bind(Numeric::from(o.taker_fee))
        .bind(Numeric::from(o.sealed_fee))
        .bind(Numeric::from(o.rested_lots))
        .bind(rests.then(|| o.order_id.to_string()))
        .bind(o.trader.to_string())
        .bind(bigint(o.order_seq)?)
        .fetch_optional(&mut **self.tx)
        .await?;
        self.sealed_message(batch, o.index, row).await?;
        if rests {
            self.insert_order(NewOrder {
                order_id: o.order_id,
                trader: o.trader.to_string(),
                side: o.side,
                order_type: o.order_type,
                client_order_id: o.client_order_id,
                price: o.price,
                qty_lots: o.qty_lots,
                filled_lots: o.filled_lots,
                remaining_lots: o.rested_lots,
                status: "open",
            })
            .await?;
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
        // Batch markets (ADR 8).
        SolexEvent::AuctionCreated(a) => ctx.auction_created(a).await?,
        SolexEvent::SealedSubmitted(s) => ctx.sealed_submitted(s).await?,
        SolexEvent::SealedCancelled(c) => ctx.sealed_cancelled(c).await?,
        SolexEvent::OrdersRevealed(r) => ctx.revealed(r).await?,
        SolexEvent::BatchCleared(c) => ctx.cleared(c).await?,
        SolexEvent::BatchExecuted(x) => ctx.executed(x).await?,
        SolexEvent::BatchVoided(v) => ctx.batch_voided(v).await?,
        // The market is continuous again: its batches stay as history.
        SolexEvent::AuctionClosed(_) => {
            sqlx::query(
                "UPDATE markets SET auction = NULL, keyper_set = NULL, batch_slots = NULL, reveal_timeout_slots = NULL,
                   sealed_fee = NULL, batch_capacity = NULL
                 WHERE market = $1",
            )
            .bind(&ctx.market)
            .execute(&mut **ctx.tx)
            .await?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATION: &str = include_str!("../../migrations/0008_batch_markets.sql");

    /// The names a CHECK constraint of the migration allows: the quoted words of the
    /// line that names it and those that follow, up to the closing parenthesis.
    fn check_list(constraint: &str) -> Vec<&'static str> {
        let at = MIGRATION.find(constraint).unwrap_or_else(|| panic!("{constraint} is in the migration"));
        let rest = &MIGRATION[at..];
        let list = &rest[rest.find(" IN (").expect("an IN list") + 5..];
        let list = &list[..list.find(')').unwrap()];
        list.split(',').map(|w| w.trim().trim_matches('\'')).collect()
    }

    #[test]
    fn the_void_reasons_and_sealed_order_types_are_the_ones_the_database_takes() {
        let reasons = [
            VoidReason::BadKey,
            VoidReason::BadTag,
            VoidReason::Malformed,
            VoidReason::EnvelopeTooSmall,
            VoidReason::NotionalTooLarge,
            VoidReason::Timeout,
        ];
        // Every reason the program has (from_u8 maps every byte onto one of them).
        let all: BTreeSet<&str> = (0..=u8::MAX).map(|b| void_reason(VoidReason::from_u8(b))).collect();
        assert_eq!(all.len(), reasons.len());
        assert_eq!(check_list("sealed_orders_void_reason"), reasons.map(void_reason).to_vec());
        // The order types a sealed order may have (solex::auction::sealed_type).
        let types: Vec<&str> = (0..=u8::MAX).filter_map(solex::auction::sealed_type).map(OrderType::as_str).collect();
        assert_eq!(check_list("sealed_orders_order_type"), types);
        assert_eq!(check_list("sealed_orders_side"), ["bid", "ask"]);
        assert_eq!(check_list("batches_status"), ["collecting", "opened", "cleared", "done", "voided"]);
        assert_eq!(check_list("sealed_orders_status CHECK"), ["sealed", "cancelled", "revealed", "void", "done"]);
    }

    #[test]
    fn secrets_are_lower_case_hex() {
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
    }
}
