//! The tables derived from the event log, and the live messages each event makes.
//!
//! `apply` folds one event into markets, traders (balances), orders (with their
//! history), trades and candles, inside the caller's database transaction, so the
//! log and everything derived from it commit together. Balances are replayed with
//! the program's own arithmetic (`solex::state::Market`), so the indexer agrees with
//! the chain by construction rather than by a second implementation.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{anyhow, Context};
use serde_json::{json, Value};
use solex::events::*;
use solex::state::{order_id_parts, Asset, Market, QueueEventKind, Side};
use solex_sdk::accounts::market_terms;
use solex_sdk::events::{decode_event, SolexEvent};
use sqlx::{Postgres, Transaction};

use crate::db::StoredEvent;

/// Candle intervals and their length in seconds.
pub const INTERVALS: &[(&str, i64)] = &[("1m", 60), ("5m", 300), ("1h", 3_600), ("1d", 86_400)];

/// A message for a live channel (the WebSocket API's channel name, e.g. `book:<market>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub channel: String,
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
/// messages for the other channels.
#[derive(Debug, Default)]
pub struct Changes {
    pub levels: Vec<Level>,
    pub messages: Vec<Live>,
}

pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Bid => "bid",
        Side::Ask => "ask",
    }
}

fn order_type_name(t: solex::OrderType) -> &'static str {
    use solex::OrderType::*;
    match t {
        Limit => "limit",
        PostOnly => "post_only",
        PostOnlySlide => "post_only_slide",
        ImmediateOrCancel => "ioc",
        FillOrKill => "fok",
        Market => "market",
    }
}

/// u64 amounts are BIGINT columns: refuse rather than wrap what does not fit.
fn big(v: u64) -> anyhow::Result<i64> {
    i64::try_from(v).map_err(|_| anyhow!("amount {v} exceeds the database's BIGINT"))
}

fn program<T>(r: anchor_lang::Result<T>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow!("program arithmetic: {e}"))
}

/// Signed balance deltas of one trader.
#[derive(Default, Clone, Copy)]
struct Delta {
    base_available: i128,
    base_locked: i128,
    quote_available: i128,
    quote_locked: i128,
}

impl Delta {
    fn available(&mut self, asset: Asset, v: i128) {
        match asset {
            Asset::Base => self.base_available += v,
            Asset::Quote => self.quote_available += v,
        }
    }

    fn locked(&mut self, asset: Asset, v: i128) {
        match asset {
            Asset::Base => self.base_locked += v,
            Asset::Quote => self.quote_locked += v,
        }
    }

    /// Locked back to available (a cancel, an expiry, a self-trade cut).
    fn unlock(&mut self, asset: Asset, v: u64) {
        self.locked(asset, -(v as i128));
        self.available(asset, v as i128);
    }
}

/// What `apply` looks up and may keep across the events of one database
/// transaction: a market's terms never change, nor does a trader's owner.
#[derive(Default)]
pub struct Lookups {
    terms: HashMap<String, Terms>,
    /// (market, trader) -> owner.
    owners: HashMap<(String, String), String>,
}

struct Ctx<'t, 'c> {
    tx: &'t mut Transaction<'c, Postgres>,
    e: &'t StoredEvent,
    market: String,
    /// Balance changes, applied once at the end (a trader may appear many times).
    deltas: BTreeMap<String, Delta>,
    /// Book levels touched: (side, price).
    levels: BTreeSet<(u8, u64)>,
    changes: Changes,
    lookups: &'t mut Lookups,
}

#[derive(Clone)]
struct Terms {
    market: Market,
    base_mint: String,
}

impl Ctx<'_, '_> {
    async fn terms(&mut self) -> anyhow::Result<Terms> {
        if let Some(t) = self.lookups.terms.get(&self.market) {
            return Ok(t.clone());
        }
        let (lot, tick, maker, taker, base_mint): (i64, i64, i16, i16, String) = sqlx::query_as(
            "SELECT base_lot_size, quote_tick_size, maker_fee_bps, taker_fee_bps, base_mint FROM markets WHERE market = $1",
        )
        .bind(&self.market)
        .fetch_optional(&mut **self.tx)
        .await?
        .ok_or_else(|| anyhow!("event {} of a market never created", self.e.seq))?;
        let terms = Terms { market: market_terms(lot as u64, tick as u64, maker, taker), base_mint };
        self.lookups.terms.insert(self.market.clone(), terms.clone());
        Ok(terms)
    }

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

    fn delta(&mut self, trader: &anchor_lang::prelude::Pubkey) -> &mut Delta {
        self.deltas.entry(trader.to_string()).or_default()
    }

    fn level(&mut self, side: Side, price: u64) {
        self.levels.insert((side.as_u8(), price));
    }

    async fn message(&mut self, kind: &str, owner_of: Option<&str>, data: Value) -> anyhow::Result<()> {
        let key = match owner_of {
            Some(trader) => self.owner(trader).await?,
            None => self.market.clone(),
        };
        self.changes.messages.push(Live { channel: format!("{kind}:{key}"), data });
        Ok(())
    }

    /// Takes `filled` and `removed` lots off a resting order; when none remain it
    /// becomes `done_status`. Returns the order's side and the lots it had before.
    async fn order_change(
        &mut self,
        order_id: u128,
        change: &str,
        filled: u64,
        removed: u64,
        done_status: &str,
    ) -> anyhow::Result<(Side, u64)> {
        let (trader, side, remaining, row): (String, String, i64, Value) = sqlx::query_as(
            "UPDATE orders SET filled_lots = filled_lots + $3, remaining_lots = remaining_lots - $3 - $4,
                 status = CASE WHEN remaining_lots - $3 - $4 = 0 THEN $5 ELSE status END, updated_seq = $6
             WHERE market = $1 AND order_id = $2
             RETURNING trader, side, remaining_lots, to_jsonb(orders.*)",
        )
        .bind(&self.market)
        .bind(order_id.to_string())
        .bind(big(filled)?)
        .bind(big(removed)?)
        .bind(done_status)
        .bind(self.e.seq)
        .fetch_optional(&mut **self.tx)
        .await?
        .ok_or_else(|| anyhow!("order {order_id} of market {} never placed", self.market))?;
        anyhow::ensure!(remaining >= 0, "order {order_id} went below zero lots");
        self.history(order_id, change, &row).await?;
        let side = if side == "bid" { Side::Bid } else { Side::Ask };
        let (price, _) = order_id_parts(order_id);
        self.level(side, price);
        self.message("orders", Some(&trader), row).await?;
        Ok((side, remaining as u64 + filled + removed))
    }

    async fn history(&mut self, order_id: u128, change: &str, row: &Value) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO order_history (market, order_id, seq, change, status, filled_lots, remaining_lots, slot)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&self.market)
        .bind(order_id.to_string())
        .bind(self.e.seq)
        .bind(change)
        .bind(row["status"].as_str())
        .bind(row["filled_lots"].as_i64())
        .bind(row["remaining_lots"].as_i64())
        .bind(self.e.slot)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }

    async fn set_available(&mut self, trader: &str, mint: &str, available: u64) -> anyhow::Result<()> {
        let terms = self.terms().await?;
        let column = if mint == terms.base_mint { "base_available" } else { "quote_available" };
        sqlx::query(&format!("UPDATE traders SET {column} = $3, seq = $4 WHERE market = $1 AND trader = $2"))
            .bind(&self.market)
            .bind(trader)
            .bind(big(available)?)
            .bind(self.e.seq)
            .execute(&mut **self.tx)
            .await?;
        self.deltas.entry(trader.to_string()).or_default();
        Ok(())
    }

    async fn placed(&mut self, o: &OrderPlaced) -> anyhow::Result<()> {
        let terms = self.terms().await?;
        let m = &terms.market;
        for f in &o.fills {
            sqlx::query(
                "INSERT INTO trades (market, fill_seq, seq, taker, taker_order_id, taker_side, maker, maker_order_id,
                 price, qty_lots, maker_fee, slot, signature, block_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&self.market)
            .bind(big(f.fill_seq)?)
            .bind(self.e.seq)
            .bind(o.trader.to_string())
            .bind(o.order_id.to_string())
            .bind(side_name(o.side))
            .bind(f.maker.to_string())
            .bind(f.maker_order_id.to_string())
            .bind(big(f.price)?)
            .bind(big(f.qty_lots)?)
            .bind(f.maker_fee)
            .bind(self.e.slot)
            .bind(&self.e.signature)
            .bind(self.e.block_time)
            .execute(&mut **self.tx)
            .await?;
            self.order_change(f.maker_order_id, "fill", f.qty_lots, 0, "filled").await?;
            let trade = json!({
                "market": self.market, "seq": self.e.seq, "fill_seq": f.fill_seq, "taker_side": side_name(o.side),
                "price": f.price, "qty_lots": f.qty_lots, "taker": o.trader.to_string(), "maker": f.maker.to_string(),
                "maker_fee": f.maker_fee, "slot": self.e.slot, "block_time": self.e.block_time,
            });
            self.message("trades", None, trade.clone()).await?;
            self.message("fills", Some(&o.trader.to_string()), trade.clone()).await?;
            self.message("fills", Some(&f.maker.to_string()), trade).await?;
            self.candle(f.price, f.qty_lots).await?;
        }
        for r in &o.reduced {
            let (price, _) = order_id_parts(r.order_id);
            match r.reason {
                ReduceReason::Expired => {
                    self.order_change(r.order_id, "expired", 0, r.qty_lots, "expired").await?;
                    // Another trader's expired order unlocks when the crank applies its Out event.
                    if r.trader == o.trader {
                        let unlock = program(m.lock_amount(r.side, price, r.qty_lots))?;
                        self.delta(&r.trader).unlock(Asset::locked_by(r.side), unlock);
                    }
                }
                ReduceReason::SelfTrade => {
                    let (_, before) = self.order_change(r.order_id, "self_trade", 0, r.qty_lots, "cancelled").await?;
                    let unlock = program(m.lock_amount(r.side, price, before))?
                        - program(m.lock_amount(r.side, price, before - r.qty_lots))?;
                    self.delta(&r.trader).unlock(Asset::locked_by(r.side), unlock);
                }
            }
        }
        // The taker settles at once (matching::Book::take), then locks what rests.
        let base = program(m.base_atoms(o.filled_lots))? as i128;
        let (quote, fee) = (o.filled_quote as i128, o.taker_fee as i128);
        let d = self.delta(&o.trader);
        match o.side {
            Side::Bid => {
                d.quote_available -= quote + fee;
                d.base_available += base;
            }
            Side::Ask => {
                d.base_available -= base;
                d.quote_available += quote - fee;
            }
        }
        d.available(Asset::locked_by(o.side), -(o.locked as i128));
        d.locked(Asset::locked_by(o.side), o.locked as i128);

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
        .bind(side_name(o.side))
        .bind(order_type_name(o.order_type))
        .bind(o.client_order_id.to_string())
        .bind(big(o.price)?)
        // A market order sized only by its quote budget has qty u64::MAX.
        .bind(o.qty_lots.min(i64::MAX as u64) as i64)
        .bind(big(o.filled_lots)?)
        .bind(big(o.rested_lots)?)
        .bind(status)
        .bind(self.e.seq)
        .bind(self.e.slot)
        .fetch_one(&mut **self.tx)
        .await?;
        self.history(o.order_id, "placed", &row).await?;
        if o.rested_lots > 0 {
            self.level(o.side, o.price);
        }
        self.message("orders", Some(&o.trader.to_string()), row).await
    }

    async fn candle(&mut self, price: u64, qty_lots: u64) -> anyhow::Result<()> {
        let Some(time) = self.e.block_time else { return Ok(()) };
        for (interval, seconds) in INTERVALS {
            let candle: Value = sqlx::query_scalar(
                "INSERT INTO candles (market, interval, start, open, high, low, close, volume, trades)
                 VALUES ($1, $2, $3, $4, $4, $4, $4, $5, 1)
                 ON CONFLICT (market, interval, start) DO UPDATE SET high = GREATEST(candles.high, EXCLUDED.high),
                   low = LEAST(candles.low, EXCLUDED.low), close = EXCLUDED.close,
                   volume = candles.volume + EXCLUDED.volume, trades = candles.trades + 1
                 RETURNING to_jsonb(candles.*) - 'market'",
            )
            .bind(&self.market)
            .bind(interval)
            .bind(time / seconds * seconds)
            .bind(big(price)?)
            .bind(big(qty_lots)?)
            .fetch_one(&mut **self.tx)
            .await?;
            self.message("candles", None, candle).await?;
        }
        Ok(())
    }

    async fn consumed(&mut self, c: &FillsConsumed) -> anyhow::Result<()> {
        let terms = self.terms().await?;
        let m = &terms.market;
        for s in &c.settled {
            let (price, _) = order_id_parts(s.order_id);
            match s.kind {
                QueueEventKind::Fill => {
                    let (taker_side, maker_fee): (String, i64) = sqlx::query_as(
                        "UPDATE trades SET consumed_seq = $3 WHERE market = $1 AND fill_seq = $2
                         RETURNING taker_side, maker_fee",
                    )
                    .bind(&self.market)
                    .bind(big(s.fill_seq)?)
                    .bind(self.e.seq)
                    .fetch_optional(&mut **self.tx)
                    .await?
                    .ok_or_else(|| anyhow!("fill {} consumed before it was made", s.fill_seq))?;
                    let quote = program(m.notional(s.qty_lots, price))? as i128;
                    let base = program(m.base_atoms(s.qty_lots))? as i128;
                    let fee = maker_fee as i128;
                    // As consume_events::apply: the maker's locked side pays, the other receives.
                    let d = self.delta(&s.maker);
                    if taker_side == "bid" {
                        d.base_locked -= base;
                        d.quote_available += quote - fee;
                    } else {
                        d.quote_locked -= quote + fee.max(0);
                        d.base_available += base;
                        d.quote_available += (-fee).max(0);
                    }
                }
                QueueEventKind::Out => {
                    let side: String =
                        sqlx::query_scalar("SELECT side FROM orders WHERE market = $1 AND order_id = $2")
                            .bind(&self.market)
                            .bind(s.order_id.to_string())
                            .fetch_one(&mut **self.tx)
                            .await?;
                    let side = if side == "bid" { Side::Bid } else { Side::Ask };
                    let unlock = program(m.lock_amount(side, price, s.qty_lots))?;
                    self.delta(&s.maker).unlock(Asset::locked_by(side), unlock);
                }
            }
        }
        Ok(())
    }

    async fn cancelled(&mut self, c: &OrdersCancelled) -> anyhow::Result<()> {
        for o in &c.orders {
            self.order_change(o.order_id, "cancel", 0, o.qty_lots, "cancelled").await?;
            self.delta(&c.trader).unlock(Asset::locked_by(o.side), o.unlocked);
        }
        Ok(())
    }

    /// Applies the balance deltas and publishes each touched trader's balances.
    async fn flush_balances(&mut self) -> anyhow::Result<()> {
        for (trader, d) in std::mem::take(&mut self.deltas) {
            let narrow = |v: i128| i64::try_from(v).map_err(|_| anyhow!("balance delta {v} out of range"));
            let row: Value = sqlx::query_scalar(
                "UPDATE traders SET base_available = base_available + $3, base_locked = base_locked + $4,
                   quote_available = quote_available + $5, quote_locked = quote_locked + $6, seq = $7
                 WHERE market = $1 AND trader = $2 RETURNING to_jsonb(traders.*)",
            )
            .bind(&self.market)
            .bind(&trader)
            .bind(narrow(d.base_available)?)
            .bind(narrow(d.base_locked)?)
            .bind(narrow(d.quote_available)?)
            .bind(narrow(d.quote_locked)?)
            .bind(self.e.seq)
            .fetch_optional(&mut **self.tx)
            .await?
            .ok_or_else(|| anyhow!("trader {trader} never created"))?;
            for field in ["base_available", "base_locked", "quote_available", "quote_locked"] {
                anyhow::ensure!(row[field].as_i64() >= Some(0), "{trader} {field} went negative at seq {}", self.e.seq);
            }
            self.message("balances", Some(&trader), row).await?;
        }
        Ok(())
    }

    /// The new totals of every touched level, from the orders still open.
    async fn flush_levels(&mut self) -> anyhow::Result<()> {
        for (side, price) in std::mem::take(&mut self.levels) {
            let side = Side::from_u8(side);
            let qty: i64 = sqlx::query_scalar(
                "SELECT COALESCE(SUM(remaining_lots), 0)::BIGINT FROM orders
                 WHERE market = $1 AND side = $2 AND price = $3 AND status = 'open'",
            )
            .bind(&self.market)
            .bind(side_name(side))
            .bind(big(price)?)
            .fetch_one(&mut **self.tx)
            .await?;
            self.changes.levels.push(Level { side, price, qty_lots: qty as u64 });
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
    let event = decode_event(&e.data)?;
    let mut ctx = Ctx {
        tx,
        e,
        market: e.market.clone(),
        deltas: BTreeMap::new(),
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
            .bind(big(m.base_lot_size)?)
            .bind(big(m.quote_tick_size)?)
            .bind(big(m.min_order_lots)?)
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
            ctx.deltas.entry(t.trader.to_string()).or_default();
        }
        SolexEvent::Deposited(d) => ctx.set_available(&d.trader.to_string(), &d.mint.to_string(), d.available).await?,
        SolexEvent::Withdrawn(w) => ctx.set_available(&w.trader.to_string(), &w.mint.to_string(), w.available).await?,
        SolexEvent::OrderPlaced(o) => ctx.placed(o).await?,
        SolexEvent::OrdersCancelled(c) => ctx.cancelled(c).await?,
        SolexEvent::FillsConsumed(c) => ctx.consumed(c).await?,
        SolexEvent::FundsSettled(s) => {
            let d = ctx.delta(&s.trader);
            d.base_available -= s.base_amount as i128;
            d.quote_available -= s.quote_amount as i128;
        }
        SolexEvent::FeesSwept(f) => {
            sqlx::query("UPDATE markets SET fees_swept = fees_swept + $2 WHERE market = $1")
                .bind(&ctx.market)
                .bind(big(f.amount)?)
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
    }
    ctx.flush_balances().await.with_context(|| format!("{} seq {}", e.market, e.seq))?;
    ctx.flush_levels().await?;
    let mut changes = ctx.changes;
    changes.messages.insert(
        0,
        Live {
            channel: format!("events:{}", e.market),
            data: json!({"market": e.market, "seq": e.seq, "kind": e.kind, "slot": e.slot, "signature": e.signature}),
        },
    );
    Ok(changes)
}
