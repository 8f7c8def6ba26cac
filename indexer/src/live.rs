//! Redis: the live feed and the cached order books.
//!
//! After a batch commits to PostgreSQL, ingestion appends one entry per new event
//! to the stream `solex:events`: the ordered queue to the publisher, a consumer
//! group (`run_publisher`) that applies each entry's book changes to the market's
//! cached book, publishes its messages on `solex:<channel>` (the WebSocket API's
//! channels), and acknowledges it. PostgreSQL stays the source of truth: Redis
//! losing everything loses no data. A cached book only takes a diff whose previous
//! sequence number is the one it holds; anything else deletes it, and the next
//! reader rebuilds it from PostgreSQL.
use std::collections::BTreeMap;

use redis::aio::ConnectionManager;
use serde::Serialize;
use serde_json::{json, Value};
use solex::state::Side;
use sqlx::PgPool;

use crate::db::{Numeric, StoredEvent};
use crate::derive::{Changes, Level};

/// The stream every new event is appended to, in commit order.
pub const EVENT_STREAM: &str = "solex:events";
/// Entries the stream keeps (approximately).
const STREAM_LEN: u64 = 100_000;

/// The Redis pub/sub channel behind a WebSocket channel name.
pub fn redis_channel(channel: &str) -> String {
    format!("solex:{channel}")
}

fn book_keys(market: &str) -> [String; 3] {
    ["seq", "bids", "asks"].map(|k| format!("solex:book:{market}:{k}"))
}

/// Applies one diff to a cached book if it holds exactly the previous sequence
/// number (a market's first event starts from an absent book); otherwise drops it.
const APPLY_DIFF: &str = r"
local cur = redis.call('GET', KEYS[1]) or '0'
if cur ~= ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 0
end
local nbids = tonumber(ARGV[3])
for i = 4, #ARGV, 2 do
  local key = KEYS[3]
  if (i - 4) / 2 < nbids then key = KEYS[2] end
  if ARGV[i + 1] == '0' then redis.call('HDEL', key, ARGV[i]) else redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
";

/// Stores a whole book unless another writer already cached one.
const STORE_BOOK: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
local nbids = tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local key = KEYS[3]
  if (i - 3) / 2 < nbids then key = KEYS[2] end
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
";

fn levels_json(levels: &[Level], side: Side) -> Vec<[u64; 2]> {
    levels.iter().filter(|l| l.side == side).map(|l| [l.price, l.qty_lots]).collect()
}

/// The book channel's message for one event: the new totals of the levels it
/// changed (qty 0: the level is gone). Every event has one, so `seq` runs 1, 2, 3, …
/// on the channel and a client detects a missed message at once.
pub fn book_diff(market: &str, seq: i64, levels: &[Level]) -> Value {
    json!({"market": market, "seq": seq, "bids": levels_json(levels, Side::Bid), "asks": levels_json(levels, Side::Ask)})
}

/// The consumer group whose publisher turns stream entries into live messages.
pub const GROUP: &str = "solex-live";
/// The publisher's consumer name: stable, so entries a crashed publisher left
/// pending are delivered again to the next one.
const CONSUMER: &str = "publisher";

/// Appends what a committed batch changed to the stream, one entry per event in
/// commit order: the ordered queue between ingestion (which has already written
/// PostgreSQL) and the publisher (which updates the cached books and fans the
/// messages out on pub/sub).
pub async fn enqueue(redis: &mut ConnectionManager, batch: &[(&StoredEvent, Changes)]) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    for (e, changes) in batch {
        let entry = json!({
            "event": changes.messages[0].data,
            "market": e.market,
            "seq": e.seq,
            "levels": changes.levels.iter().map(|l| (l.side.as_u8(), l.price, l.qty_lots)).collect::<Vec<_>>(),
            // A quarantined market's events change no derived book: no diff.
            "book": !changes.quarantined,
            "messages": changes.messages.iter().map(|m| (&m.channel, &m.data)).collect::<Vec<_>>(),
        });
        pipe.cmd("XADD")
            .arg(EVENT_STREAM)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_LEN)
            .arg("*")
            .arg("entry")
            .arg(entry.to_string())
            .ignore();
    }
    pipe.query_async::<()>(redis).await
}

/// One stream entry as pipeline commands: the cache first, then the messages, so a
/// client that receives diff n and then reads the cached book finds n (or later).
fn publish_entry(pipe: &mut redis::Pipeline, entry: &Value) {
    let (Some(market), Some(seq)) = (entry["market"].as_str(), entry["seq"].as_i64()) else { return };
    // (Entries from before the field existed all had a diff.)
    let book = entry["book"] != false;
    let levels: Vec<Level> = entry["levels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let side = Side::from_u8(l[0].as_u64()? as u8);
            Some(Level { side, price: l[1].as_u64()?, qty_lots: l[2].as_u64()? })
        })
        .collect();
    if book {
        let [seq_key, bids_key, asks_key] = book_keys(market);
        let mut args = vec![(seq - 1).to_string(), seq.to_string()];
        args.push(levels.iter().filter(|l| l.side == Side::Bid).count().to_string());
        for side in [Side::Bid, Side::Ask] {
            for l in levels.iter().filter(|l| l.side == side) {
                args.extend([l.price.to_string(), l.qty_lots.to_string()]);
            }
        }
        pipe.cmd("EVAL").arg(APPLY_DIFF).arg(3).arg(&seq_key).arg(&bids_key).arg(&asks_key).arg(&args).ignore();
    }
    for m in entry["messages"].as_array().into_iter().flatten() {
        if let Some(channel) = m[0].as_str() {
            pipe.publish(redis_channel(channel), m[1].to_string()).ignore();
        }
    }
    if book {
        pipe.publish(redis_channel(&format!("book:{market}")), book_diff(market, seq, &levels).to_string()).ignore();
    }
}

/// Reads one page of the stream for the group: `pending` re-reads what this
/// consumer was given but did not acknowledge (after a crash), else new entries.
async fn read_page(
    conn: &mut redis::aio::MultiplexedConnection,
    pending: bool,
) -> redis::RedisResult<Vec<(String, Value)>> {
    use redis::streams::{StreamReadOptions, StreamReadReply};
    let mut options = StreamReadOptions::default().group(GROUP, CONSUMER).count(256);
    if !pending {
        options = options.block(1_000);
    }
    let reply: Option<StreamReadReply> =
        redis::AsyncCommands::xread_options(conn, &[EVENT_STREAM], &[if pending { "0" } else { ">" }], &options)
            .await?;
    Ok(reply
        .into_iter()
        .flat_map(|r| r.keys)
        .flat_map(|k| k.ids)
        .map(|id| {
            let entry = id.get::<String>("entry").and_then(|e| serde_json::from_str(&e).ok()).unwrap_or(Value::Null);
            (id.id, entry)
        })
        .collect())
}

async fn create_group(conn: &mut redis::aio::MultiplexedConnection, from: &str) -> redis::RedisResult<()> {
    let created: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(EVENT_STREAM)
        .arg(GROUP)
        .arg(from)
        .arg("MKSTREAM")
        .query_async(conn)
        .await;
    match created {
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}

/// How long a Redis command may take before it counts as failed. Redis is a cache
/// and a transport here (docs/adr/0005): ingestion must never wait on it for long.
pub const REDIS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// A reconnecting Redis connection with bounded waits: each connection attempt and
/// each command times out, so an unreachable or restarting Redis yields errors, not
/// a stalled caller.
pub async fn connect(client: &redis::Client) -> redis::RedisResult<ConnectionManager> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(REDIS_TIMEOUT)
        .set_response_timeout(REDIS_TIMEOUT)
        .set_number_of_retries(3)
        .set_max_delay(1000);
    ConnectionManager::new_with_config(client.clone(), config).await
}

/// A single connection with the same bounded waits (the publisher's: its blocking
/// reads wait 1 s, less than the timeout).
async fn connect_once(client: &redis::Client) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let config =
        redis::AsyncConnectionConfig::new().set_connection_timeout(REDIS_TIMEOUT).set_response_timeout(REDIS_TIMEOUT);
    client.get_multiplexed_async_connection_with_config(&config).await
}

/// Creates the stream and its consumer group if missing. Awaited before ingestion
/// starts, so the group exists before the first entry is appended.
pub async fn prepare(client: &redis::Client) -> redis::RedisResult<()> {
    let mut conn = connect_once(client).await?;
    create_group(&mut conn, "$").await
}

/// The publisher: consumes the stream in order, applying each entry to the cached
/// book and publishing its messages, then acknowledging it. Runs until the
/// process ends, reconnecting with backoff; when Redis lost the group (a flush) it
/// recreates it from the start of the new stream. Run one per Redis: the stream
/// is one ordered queue.
pub async fn run_publisher(client: redis::Client) {
    let mut backoff = std::time::Duration::from_millis(100);
    loop {
        let result: redis::RedisResult<()> = async {
            let mut conn = connect_once(&client).await?;
            // `prepare` made the group; if it is missing now, Redis lost it, and every
            // entry of the new stream is unpublished.
            create_group(&mut conn, "0").await?;
            let mut pending = true;
            loop {
                let page = read_page(&mut conn, pending).await?;
                if pending && page.is_empty() {
                    pending = false;
                    continue;
                }
                if page.is_empty() {
                    continue;
                }
                let mut pipe = redis::pipe();
                for (_, entry) in &page {
                    publish_entry(&mut pipe, entry);
                }
                let ids: Vec<&String> = page.iter().map(|(id, _)| id).collect();
                pipe.cmd("XACK").arg(EVENT_STREAM).arg(GROUP).arg(&ids).ignore();
                pipe.query_async::<()>(&mut conn).await?;
            }
        }
        .await;
        if let Err(e) = result {
            // The group is gone only if Redis lost everything: all entries in the new
            // stream are then unpublished.
            if e.code() == Some("NOGROUP") {
                tracing::warn!("the live stream's consumer group was lost (Redis flushed?); recreating it");
                continue;
            }
            tracing::warn!(error = %e, "live publisher: Redis failed; retrying");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
    }
}

/// Tells a market's live clients that its history changed (a rollback: its events
/// from `seq + 1` on were on a dropped fork) and drops its cached book. Clients
/// receive `type: "reset"` on the market's book and events channels and resubscribe.
pub async fn reset(redis: &mut ConnectionManager, market: &str, seq: i64) -> redis::RedisResult<()> {
    let msg = json!({"market": market, "seq": seq, "reset": true}).to_string();
    redis::pipe()
        .del(&book_keys(market))
        .ignore()
        .publish(redis_channel(&format!("book:{market}")), &msg)
        .ignore()
        .publish(redis_channel(&format!("events:{market}")), &msg)
        .ignore()
        .query_async(redis)
        .await
}

/// A market's book aggregated by price level, best first, and the sequence number
/// it reflects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Book {
    pub seq: i64,
    pub bids: Vec<[u64; 2]>,
    pub asks: Vec<[u64; 2]>,
}

impl Book {
    /// Keeps the best `depth` levels of each side.
    pub fn truncate(mut self, depth: usize) -> Self {
        self.bids.truncate(depth);
        self.asks.truncate(depth);
        self
    }
}

fn sorted(levels: BTreeMap<u64, u64>, side: Side) -> Vec<[u64; 2]> {
    let it = levels.into_iter().map(|(p, q)| [p, q]);
    match side {
        Side::Bid => it.rev().collect(),
        Side::Ask => it.collect(),
    }
}

/// The newest event of a market that its derived rows reflect: the newest stored,
/// or, for a quarantined market, the last one before the event it stopped at.
const DERIVED_SEQ: &str = "SELECT MAX(seq) FROM events WHERE market = $1
    AND seq < COALESCE((SELECT q.seq FROM quarantined_markets q WHERE q.market = $1), 9223372036854775807)";

/// A price or a level's total (bounded by the vault it is locked in) as the book's u64.
fn to_u64(v: Numeric) -> sqlx::Result<u64> {
    u64::try_from(v.0).map_err(|_| sqlx::Error::Decode(format!("{} is not a u64", v.0).into()))
}

/// The book from PostgreSQL: the open orders and the newest sequence number they
/// reflect, read in one snapshot so they agree.
pub async fn book_from_db(db: &PgPool, market: &str) -> sqlx::Result<Book> {
    let mut tx = db.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await?;
    let seq: Option<i64> = sqlx::query_scalar(DERIVED_SEQ).bind(market).fetch_one(&mut *tx).await?;
    let rows: Vec<(String, Numeric, Numeric)> = sqlx::query_as(
        "SELECT side, price, SUM(remaining_lots) FROM orders WHERE market = $1 AND status = 'open'
         GROUP BY side, price",
    )
    .bind(market)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    for (side, price, qty) in rows {
        if side == "bid" { &mut bids } else { &mut asks }.insert(to_u64(price)?, to_u64(qty)?);
    }
    Ok(Book { seq: seq.unwrap_or(0), bids: sorted(bids, Side::Bid), asks: sorted(asks, Side::Ask) })
}

async fn cached(redis: &mut ConnectionManager, market: &str) -> redis::RedisResult<Option<Book>> {
    let [seq_key, bids_key, asks_key] = book_keys(market);
    let (seq, bids, asks): (Option<i64>, BTreeMap<u64, u64>, BTreeMap<u64, u64>) =
        redis::pipe().atomic().get(&seq_key).hgetall(&bids_key).hgetall(&asks_key).query_async(redis).await?;
    Ok(seq.map(|seq| Book { seq, bids: sorted(bids, Side::Bid), asks: sorted(asks, Side::Ask) }))
}

async fn store_book(redis: &mut ConnectionManager, market: &str, book: &Book) -> redis::RedisResult<()> {
    let [seq_key, bids_key, asks_key] = book_keys(market);
    let mut args = vec![book.seq.to_string(), book.bids.len().to_string()];
    for [p, q] in book.bids.iter().chain(&book.asks) {
        args.extend([p.to_string(), q.to_string()]);
    }
    redis::cmd("EVAL")
        .arg(STORE_BOOK)
        .arg(3)
        .arg(&seq_key)
        .arg(&bids_key)
        .arg(&asks_key)
        .arg(&args)
        .query_async::<()>(redis)
        .await
}

/// Where a book snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Cache,
    Database,
}

/// The market's whole book: from the Redis cache when it is current, else from
/// PostgreSQL (caching it for the next reader). Redis being down only costs speed.
pub async fn book(db: &PgPool, redis: Option<&ConnectionManager>, market: &str) -> sqlx::Result<(Book, Source)> {
    let mut conn = redis.cloned();
    if let Some(c) = conn.as_mut() {
        if let Ok(Some(book)) = cached(c, market).await {
            // The cache follows the log through the stream, a moment after each commit:
            // a reader who has seen event n in the log must not get an older book.
            let newest: Option<i64> = sqlx::query_scalar(DERIVED_SEQ).bind(market).fetch_one(db).await?;
            if book.seq >= newest.unwrap_or(0) {
                return Ok((book, Source::Cache));
            }
        }
    }
    let book = book_from_db(db, market).await?;
    if let Some(c) = conn.as_mut() {
        if let Err(e) = store_book(c, market, &book).await {
            tracing::warn!(error = %e, "caching a book in Redis failed");
        }
    }
    Ok((book, Source::Database))
}
