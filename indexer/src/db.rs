//! PostgreSQL: migrations, the event log, the backfill cursor, the gap check, and
//! deriving the tables of `derive` from the log (as events arrive, or rebuilt),
//! with a market whose event cannot be derived quarantined rather than halting all.
use std::collections::{BTreeMap, BTreeSet};

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};

use crate::derive::{self, Changes};
use crate::stored::StoredEvent;

/// The schema in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The backfill cursor's name (one program, one cursor).
const CURSOR: &str = "program";

pub async fn connect(url: &str) -> anyhow::Result<PgPool> {
    connect_sized(url, 4).await
}

/// A pool of at most `connections` connections.
pub async fn connect_sized(url: &str, connections: u32) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new().max_connections(connections).connect(url).await?)
}

/// Connections of ingestion's own pool: it writes one batch at a time, and the
/// writer lock holds one more, detached.
const INGEST_CONNECTIONS: u32 = 2;

/// A pool of ingestion's own, to the database of `pool`, so that no load on the API
/// (which has `pool`) can keep the writer waiting for a connection.
pub fn ingest_pool(pool: &PgPool) -> PgPool {
    PgPoolOptions::new().max_connections(INGEST_CONNECTIONS).connect_lazy_with((*pool.connect_options()).clone())
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Writes a batch of events, their derived rows and the cursor in one database
/// transaction: a crash leaves either all of it or none. Events already stored are
/// skipped (the (market, seq) key), so replaying a batch changes nothing. Returns
/// the events newly inserted, in order, with what each changed (see `derive_all`:
/// an event of a quarantined market is logged, not derived).
pub async fn store<'e>(
    pool: &PgPool,
    events: &'e [StoredEvent],
    cursor: Option<(&str, u64)>,
) -> anyhow::Result<Vec<(&'e StoredEvent, Changes)>> {
    let mut tx = pool.begin().await?;
    let mut new = Vec::new();
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
            new.push(e);
        }
    }
    let inserted = derive_all(&mut tx, &new).await?;
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

/// Whether a derivation error is the database's own (connection lost, deadlock,
/// shutdown, out of resources): the batch fails and is retried. Any other error
/// belongs to the event, and retrying would only fail again.
fn transient(e: &anyhow::Error) -> bool {
    e.chain().filter_map(|c| c.downcast_ref::<sqlx::Error>()).any(|e| match e {
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|code| ["08", "40", "53", "57", "58", "XX"].iter().any(|class| code.starts_with(class))),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    })
}

/// Derives a run of one market's events under a savepoint. `Ok(Err((i, e)))`: the
/// event at `i` could not be derived, and nothing of the run remains.
async fn try_derive(
    tx: &mut Transaction<'_, Postgres>,
    events: &[&StoredEvent],
) -> anyhow::Result<Result<Vec<Changes>, (usize, anyhow::Error)>> {
    let mut savepoint = sqlx::PgConnection::begin(&mut **tx).await?;
    let mut lookups = derive::Lookups::default();
    let mut changes = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        match derive::apply(&mut savepoint, e, &mut lookups).await {
            Ok(c) => changes.push(c),
            Err(error) if transient(&error) => return Err(error),
            Err(error) => {
                savepoint.rollback().await?;
                return Ok(Err((i, error)));
            }
        }
    }
    savepoint.commit().await?;
    Ok(Ok(changes))
}

/// Folds newly stored events into the derived tables, market by market, each
/// under a savepoint of the caller's transaction: an event that cannot be derived
/// undoes only its own market's part, which is derived again up to that event, and
/// quarantines the market there (its later events are logged, not derived) while
/// every other market goes on. Returns each event's changes, in the order given.
async fn derive_all<'e>(
    tx: &mut Transaction<'_, Postgres>,
    events: &[&'e StoredEvent],
) -> anyhow::Result<Vec<(&'e StoredEvent, Changes)>> {
    let mut by_market: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        by_market.entry(&e.market).or_default().push(i);
    }
    let names: Vec<&str> = by_market.keys().copied().collect();
    let stopped: BTreeSet<String> = sqlx::query_scalar("SELECT market FROM quarantined_markets WHERE market = ANY($1)")
        .bind(&names)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
    let mut out: Vec<Changes> = events.iter().map(|e| derive::logged_only(e)).collect();
    for (market, indices) in by_market {
        if stopped.contains(market) {
            continue;
        }
        let run: Vec<&StoredEvent> = indices.iter().map(|&i| events[i]).collect();
        let (mut upto, mut failed) = (run.len(), None);
        let derived = loop {
            match try_derive(tx, &run[..upto]).await? {
                Ok(changes) => break changes,
                Err((i, error)) => (upto, failed) = (i, Some(error)),
            }
        };
        for (&i, changes) in indices.iter().zip(derived) {
            out[i] = changes;
        }
        if let Some(error) = failed {
            let e = run[upto];
            let error = format!("{error:#}");
            tracing::error!(market, seq = e.seq, kind = e.kind, error, "event cannot be derived: market quarantined");
            sqlx::query("INSERT INTO quarantined_markets (market, seq, kind, error) VALUES ($1, $2, $3, $4)")
                .bind(market)
                .bind(e.seq)
                .bind(e.kind)
                .bind(&error)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(events.iter().copied().zip(out).collect())
}

/// A market whose derived tables stopped before the event at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Quarantined {
    pub market: String,
    pub seq: i64,
    pub kind: String,
    pub error: String,
}

/// Every quarantined market.
pub async fn quarantined(pool: &PgPool) -> sqlx::Result<Vec<Quarantined>> {
    sqlx::query_as("SELECT market, seq, kind, error FROM quarantined_markets ORDER BY market").fetch_all(pool).await
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

/// The tables derived from the event log, each with a `market` column.
const DERIVED: &[&str] = &[
    "markets",
    "traders",
    "orders",
    "order_history",
    "trades",
    "candles",
    "batches",
    "sealed_orders",
    "quarantined_markets",
];

/// Rebuilds every derived table from the event log, in one transaction.
pub async fn rebuild(pool: &PgPool) -> anyhow::Result<u64> {
    rebuild_markets(pool, None).await
}

/// Rebuilds the derived rows of `market` (None: of every market) from the event log,
/// in one transaction: a quarantined market is derived again from its start (after
/// a fix, it may get further).
pub async fn rebuild_markets(pool: &PgPool, market: Option<&str>) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    // A running writer's next batch waits until this commits (rather than logging an
    // event as quarantined that this rebuild, reading the log before it, misses).
    sqlx::query("LOCK TABLE events IN SHARE MODE").execute(&mut *tx).await?;
    let n = rederive(&mut tx, market).await?;
    tx.commit().await?;
    Ok(n)
}

/// Re-derives one market's rows (or every market's) from its events in the log.
async fn rederive(tx: &mut Transaction<'_, Postgres>, market: Option<&str>) -> anyhow::Result<u64> {
    match market {
        None => {
            sqlx::query(&format!("TRUNCATE {}", DERIVED.join(", "))).execute(&mut **tx).await?;
        }
        Some(m) => {
            for table in DERIVED {
                sqlx::query(&format!("DELETE FROM {table} WHERE market = $1")).bind(m).execute(&mut **tx).await?;
            }
        }
    }
    type Row = (String, i64, String, i64, Option<i64>, Vec<u8>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT market, seq, signature, slot, block_time, data FROM events
         WHERE $1::TEXT IS NULL OR market = $1 ORDER BY market, seq",
    )
    .bind(market)
    .fetch_all(&mut **tx)
    .await?;
    let events: Vec<StoredEvent> = rows
        .into_iter()
        .map(|(market, seq, signature, slot, block_time, data)| {
            StoredEvent::from_log(market, seq, signature, slot, block_time, data)
        })
        .collect();
    derive_all(tx, &events.iter().collect::<Vec<_>>()).await?;
    Ok(events.len() as u64)
}

/// Signatures of events indexed at `confirmed` in slots up to `slot` and not yet
/// known to be finalized, oldest first.
pub async fn unfinalized(pool: &PgPool, slot: u64, limit: i64) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT signature FROM events WHERE NOT finalized AND slot <= $1
         GROUP BY signature ORDER BY MIN(slot) LIMIT $2",
    )
    .bind(slot as i64)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn mark_finalized(pool: &PgPool, signatures: &[String]) -> anyhow::Result<()> {
    sqlx::query("UPDATE events SET finalized = true WHERE signature = ANY($1)").bind(signatures).execute(pool).await?;
    Ok(())
}

/// A market rolled back: its events from `from_seq` on were removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledBack {
    pub market: String,
    pub from_seq: i64,
    pub events: u64,
}

/// Removes the events of transactions the cluster dropped, with every later event
/// of the same markets (their sequence numbers were assigned on the dropped fork),
/// re-derives those markets, and moves the cursor back before the oldest dropped
/// transaction so backfill fetches whatever the surviving fork holds. One
/// database transaction.
pub async fn roll_back(pool: &PgPool, dropped: &[String]) -> anyhow::Result<Vec<RolledBack>> {
    let mut tx = pool.begin().await?;
    let from: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT market, MIN(seq), MIN(slot) FROM events WHERE signature = ANY($1) GROUP BY market ORDER BY market",
    )
    .bind(dropped)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = vec![];
    for (market, from_seq, _) in &from {
        let removed = sqlx::query("DELETE FROM events WHERE market = $1 AND seq >= $2")
            .bind(market)
            .bind(from_seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        rederive(&mut tx, Some(market)).await?;
        out.push(RolledBack { market: market.clone(), from_seq: *from_seq, events: removed });
    }
    if let Some(oldest) = from.iter().map(|(_, _, slot)| *slot).min() {
        let before: Option<(String, i64)> =
            sqlx::query_as("SELECT signature, slot FROM events WHERE slot < $1 ORDER BY slot DESC, seq DESC LIMIT 1")
                .bind(oldest)
                .fetch_optional(&mut *tx)
                .await?;
        match before {
            Some((signature, slot)) => {
                sqlx::query("UPDATE cursors SET signature = $2, slot = $3 WHERE name = $1")
                    .bind(CURSOR)
                    .bind(signature)
                    .bind(slot)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM cursors WHERE name = $1").bind(CURSOR).execute(&mut *tx).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// The advisory lock key that makes one indexer the writer ("solex" in ASCII).
const WRITER_LOCK: i64 = 0x0073_6f6c_6578;

/// Which of the indexers sharing a database writes: the one holding a session
/// advisory lock, on a connection of its own (detached from the pool, so the lock
/// ends with that connection: a crashed or partitioned writer releases it). The
/// others serve the API and stand by, and take over within a poll interval.
pub struct WriterLock {
    pool: PgPool,
    held: Option<sqlx::PgConnection>,
}

impl WriterLock {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, held: None }
    }

    /// Whether this process is the writer now: it still holds the lock (its
    /// connection answers), or it just took a free one.
    pub async fn held(&mut self) -> bool {
        if let Some(conn) = self.held.as_mut() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                return true;
            }
            self.held = None; // the connection, and with it the lock, is gone
        }
        let Ok(conn) = self.pool.acquire().await else { return false };
        let mut conn = conn.detach();
        match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
            .bind(WRITER_LOCK)
            .fetch_one(&mut conn)
            .await
        {
            Ok(true) => {
                self.held = Some(conn);
                true
            }
            _ => false,
        }
    }
}

/// The indexed tables with their keys: what a replay must reproduce exactly.
pub const TABLES: &[(&str, &str)] = &[
    ("markets", "market"),
    ("traders", "market, trader"),
    ("orders", "market, order_id"),
    ("order_history", "market, order_id, seq"),
    ("trades", "market, fill_seq"),
    ("candles", "market, interval, start"),
    ("batches", "market, batch_id"),
    ("sealed_orders", "market, batch_id, idx"),
    ("quarantined_markets", "market"),
    ("events", "market, seq"),
];

/// Every row of every indexed table as JSON, in key order, without the columns a
/// replay legitimately changes (when a row was written, whether it is finalized yet).
pub async fn snapshot(pool: &PgPool) -> anyhow::Result<Vec<(&'static str, Vec<serde_json::Value>)>> {
    let mut out = vec![];
    for (table, key) in TABLES {
        let rows = sqlx::query_scalar(&format!(
            "SELECT to_jsonb(t.*) - 'indexed_at' - 'finalized' FROM {table} t ORDER BY {key}"
        ))
        .fetch_all(pool)
        .await?;
        out.push((*table, rows));
    }
    Ok(out)
}

/// Per table: (rows, md5 of the snapshot's rows), to compare two databases (a live
/// index and a fresh replay, or two replicas) without moving their rows.
pub async fn digest(pool: &PgPool) -> anyhow::Result<Vec<(&'static str, i64, String)>> {
    let mut out = vec![];
    for (table, key) in TABLES {
        let (rows, md5): (i64, Option<String>) = sqlx::query_as(&format!(
            "SELECT count(*), md5(string_agg((to_jsonb(t.*) - 'indexed_at' - 'finalized')::text, E'\\n' ORDER BY {key}))
             FROM {table} t"
        ))
        .fetch_one(pool)
        .await?;
        out.push((*table, rows, md5.unwrap_or_default()));
    }
    Ok(out)
}

/// Creates the database `name` on the server of `admin_url` (a URL to any existing
/// database there) and returns the new database's URL.
pub async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let admin = connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await?;
    admin.close().await;
    let server = admin_url.rsplit_once('/').map(|(server, _)| server).unwrap_or(admin_url);
    Ok(format!("{server}/{name}"))
}

/// Drops the database `name`, disconnecting whoever is still in it.
pub async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let admin = connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await?;
    admin.close().await;
    Ok(())
}
