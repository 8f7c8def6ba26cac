//! PostgreSQL: migrations, the event log, the backfill cursor and the gap check.
use solex_sdk::events::{decode_event, SolexEvent};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

/// The schema in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The backfill cursor's name (one program, one cursor).
const CURSOR: &str = "program";

pub async fn connect(url: &str) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new().max_connections(4).connect(url).await?)
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// One event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub market: String,
    pub seq: i64,
    pub kind: &'static str,
    pub signature: String,
    pub slot: i64,
    /// Unix seconds of the transaction's block (None if the node did not know it).
    pub block_time: Option<i64>,
    pub data: Vec<u8>,
}

/// Writes a batch of events and moves the cursor, in one database transaction:
/// a crash leaves either all of it or none. Events already stored are skipped
/// (the (market, seq) key), so replaying a batch changes nothing. Returns the
/// events newly inserted, in order.
pub async fn store<'e>(
    pool: &PgPool,
    events: &'e [StoredEvent],
    cursor: Option<(&str, u64)>,
) -> anyhow::Result<Vec<&'e StoredEvent>> {
    let mut tx = pool.begin().await?;
    let mut inserted = Vec::new();
    for e in events {
        let done = sqlx::query(
            "INSERT INTO events (market, seq, kind, signature, slot, block_time, data) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (market, seq) DO NOTHING",
        )
        .bind(&e.market)
        .bind(e.seq)
        .bind(e.kind)
        .bind(&e.signature)
        .bind(e.slot)
        .bind(e.block_time)
        .bind(&e.data)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            inserted.push(e);
            derive(&mut tx, e).await?;
        }
    }
    if let Some((signature, slot)) = cursor {
        sqlx::query(
            "INSERT INTO cursors (name, signature, slot) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET signature = EXCLUDED.signature, slot = EXCLUDED.slot",
        )
        .bind(CURSOR)
        .bind(signature)
        .bind(slot as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// The newest transaction already indexed.
pub async fn cursor(pool: &PgPool) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT signature FROM cursors WHERE name = $1").bind(CURSOR).fetch_optional(pool).await?)
}

/// A market whose stored sequence numbers are not exactly 1..=max.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub market: String,
    pub max_seq: i64,
    pub stored: i64,
}

/// Every market with a gap in its event sequence (empty: the log is complete up to
/// each market's newest stored event).
pub async fn gaps(pool: &PgPool) -> anyhow::Result<Vec<Gap>> {
    let rows: Vec<(String, i64, i64, i64)> =
        sqlx::query_as("SELECT market, MIN(seq), MAX(seq), COUNT(*) FROM events GROUP BY market ORDER BY market")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, min, max, count)| *min != 1 || count != max)
        .map(|(market, _, max_seq, stored)| Gap { market, max_seq, stored })
        .collect())
}

/// (market, newest seq, event count) per market.
pub async fn markets(pool: &PgPool) -> anyhow::Result<Vec<(String, i64, i64)>> {
    Ok(sqlx::query_as("SELECT market, MAX(seq), COUNT(*) FROM events GROUP BY market ORDER BY market")
        .fetch_all(pool)
        .await?)
}

/// Writes the derived rows of one event (idempotent, like the log itself).
async fn derive(tx: &mut Transaction<'_, Postgres>, e: &StoredEvent) -> anyhow::Result<()> {
    match decode_event(&e.data)? {
        SolexEvent::MarketCreated(m) => {
            sqlx::query(
                "INSERT INTO markets (market, authority, base_mint, quote_mint, base_lot_size, quote_tick_size,
                 min_order_lots, maker_fee_bps, taker_fee_bps, created_slot)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (market) DO NOTHING",
            )
            .bind(m.market.to_string())
            .bind(m.authority.to_string())
            .bind(m.base_mint.to_string())
            .bind(m.quote_mint.to_string())
            .bind(m.base_lot_size as i64)
            .bind(m.quote_tick_size as i64)
            .bind(m.min_order_lots as i64)
            .bind(m.maker_fee_bps)
            .bind(m.taker_fee_bps)
            .bind(e.slot)
            .execute(&mut **tx)
            .await?;
        }
        SolexEvent::OrderPlaced(o) => {
            for f in &o.fills {
                sqlx::query(
                    "INSERT INTO trades (market, fill_seq, seq, taker, taker_order_id, taker_side, maker, maker_order_id,
                     price, qty_lots, maker_fee, slot, signature, block_time)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                     ON CONFLICT (market, fill_seq) DO NOTHING",
                )
                .bind(o.market.to_string())
                .bind(f.fill_seq as i64)
                .bind(o.seq as i64)
                .bind(o.trader.to_string())
                .bind(o.order_id.to_string())
                .bind(format!("{:?}", o.side).to_lowercase())
                .bind(f.maker.to_string())
                .bind(f.maker_order_id.to_string())
                .bind(f.price as i64)
                .bind(f.qty_lots as i64)
                .bind(f.maker_fee)
                .bind(e.slot)
                .bind(&e.signature)
                .bind(e.block_time)
                .execute(&mut **tx)
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Rebuilds every derived table from the event log, in one transaction.
pub async fn rebuild(pool: &PgPool) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query("TRUNCATE markets, trades").execute(&mut *tx).await?;
    type Row = (String, i64, String, i64, Option<i64>, Vec<u8>);
    let rows: Vec<Row> =
        sqlx::query_as("SELECT market, seq, signature, slot, block_time, data FROM events ORDER BY market, seq")
            .fetch_all(&mut *tx)
            .await?;
    let n = rows.len() as u64;
    for (market, seq, signature, slot, block_time, data) in rows {
        let kind = decode_event(&data)?.name();
        derive(&mut tx, &StoredEvent { market, seq, kind, signature, slot, block_time, data }).await?;
    }
    tx.commit().await?;
    Ok(n)
}
