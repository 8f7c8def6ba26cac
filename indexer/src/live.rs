//! Redis: the live feed and the cached order books.
//!
//! After a batch commits to PostgreSQL, ingestion appends one `Entry` per new event
//! to the stream `solex:events`: the ordered queue to the publisher, a consumer
//! group (`run_publisher`) that applies each entry's book changes to the market's
//! cached book, publishes its messages on `solex:<channel>` (the WebSocket API's
//! channels, `channel::Channel`), and acknowledges it. PostgreSQL stays the source
//! of truth: Redis losing everything loses no data. A cached book only takes a
//! diff whose previous sequence number is the one it holds; anything else deletes
//! it, and the next reader rebuilds it from PostgreSQL.
//!
//! Each payload is rendered once: a message's data by ingestion (into the entry,
//! as JSON), the client's whole message by the publisher (around that JSON,
//! unparsed), which every server's hub (`hub::Hub`) forwards to its clients as the
//! bytes it received (`Frame`).
use std::collections::BTreeMap;

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use solex::state::Side;
use sqlx::PgPool;

use crate::channel::{Channel, Kind, REDIS_PREFIX};
use crate::derive::{Changes, Level};
use crate::numeric::Numeric;
use crate::stored::StoredEvent;

/// The stream every new event is appended to, in commit order.
pub const EVENT_STREAM: &str = "solex:events";
/// Entries the stream keeps (approximately).
const STREAM_LEN: u64 = 100_000;

fn book_keys(market: &str) -> [String; 3] {
    ["seq", "bids", "asks"].map(|k| format!("solex:book:{market}:{k}"))
}

/// One stream entry: what one committed event changed. Ingestion writes it with
/// `C = &Channel, D = &Value`; the publisher reads it with `C = &str, D = &RawValue`,
/// borrowing each message's JSON as ingestion rendered it.
#[derive(Debug, Serialize, Deserialize)]
struct Entry<'a, C, D> {
    market: &'a str,
    seq: i64,
    /// The book levels the event changed, as (side, price, new total); None for an
    /// event of a quarantined market, which changes no derived book (no diff).
    book: Option<Vec<(u8, u64, u64)>>,
    /// Each message's channel and data, the `events` channel's first.
    messages: Vec<(C, D)>,
}

impl<'a> Entry<'a, &'a Channel, &'a Value> {
    fn of(e: &'a StoredEvent, changes: &'a Changes) -> Self {
        Self {
            market: &e.market,
            seq: e.seq,
            book: (!changes.quarantined)
                .then(|| changes.levels.iter().map(|l| (l.side.as_u8(), l.price, l.qty_lots)).collect()),
            messages: changes.messages.iter().map(|m| (&m.channel, &m.data)).collect(),
        }
    }
}

/// A client's message, `{"channel", "data", "type"}`: the fields in the order the
/// feed has always sent them (alphabetical, as serde_json's maps are).
#[derive(Serialize)]
struct ClientMessage<'a, C, D> {
    channel: C,
    data: D,
    #[serde(rename = "type")]
    kind: &'a str,
}

/// The book channel's data for one event: the new totals of the levels it changed
/// (qty 0: the level is gone). Every event has one, so `seq` runs 1, 2, 3, … on the
/// channel and a client detects a missed message at once. (Fields in alphabetical
/// order, as the feed has always sent them.)
#[derive(Serialize)]
struct BookDiff<'a> {
    asks: Vec<[u64; 2]>,
    bids: Vec<[u64; 2]>,
    market: &'a str,
    seq: i64,
}

impl<'a> BookDiff<'a> {
    fn new(market: &'a str, seq: i64, levels: &[Level]) -> Self {
        let side = |side| levels.iter().filter(|l| l.side == side).map(|l| [l.price, l.qty_lots]).collect();
        Self { asks: side(Side::Ask), bids: side(Side::Bid), market, seq }
    }
}

/// The data of a `reset` (alphabetical fields, as ever).
#[derive(Serialize)]
struct Reset<'a> {
    market: &'a str,
    reset: bool,
    seq: i64,
}

/// A live message as pub/sub carries it: a header line, the market sequence number
/// a book diff carries (empty for any other message: only diffs are filtered by
/// it), then the exact text every client of the channel receives.
pub struct Frame;

impl Frame {
    /// Renders a client's message of `kind` (`update`, `reset`) on `channel`.
    pub fn render(seq: Option<i64>, channel: impl Serialize, kind: &str, data: impl Serialize) -> Vec<u8> {
        let mut out = seq.map(|s| s.to_string()).unwrap_or_default().into_bytes();
        out.push(b'\n');
        serde_json::to_writer(&mut out, &ClientMessage { channel, data, kind }).expect("JSON into memory");
        out
    }

    /// The sequence number and the client's text (None: not a frame). The text is
    /// not parsed: compact JSON has no raw newline, so the first one ends the header.
    pub fn parse(payload: &[u8]) -> Option<(Option<i64>, &[u8])> {
        let at = payload.iter().position(|b| *b == b'\n')?;
        let (header, text) = (&payload[..at], &payload[at + 1..]);
        let seq = match header {
            [] => None,
            digits => Some(std::str::from_utf8(digits).ok()?.parse().ok()?),
        };
        Some((seq, text))
    }
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
        let entry = serde_json::to_string(&Entry::of(e, changes)).expect("JSON into memory");
        pipe.cmd("XADD")
            .arg(EVENT_STREAM)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_LEN)
            .arg("*")
            .arg("entry")
            .arg(entry)
            .ignore();
    }
    pipe.query_async::<()>(redis).await
}

/// What the publisher makes of one stream entry: the cached book's diff (the
/// market and `APPLY_DIFF`'s arguments), then each (pub/sub channel, frame).
#[derive(Debug, Default)]
struct Publication {
    diff: Option<(String, Vec<String>)>,
    frames: Vec<(String, Vec<u8>)>,
}

/// Renders one entry: each message's client text around the data the entry holds
/// (borrowed, not parsed), then the book channel's diff, which carries its `seq`.
fn publication(text: &str) -> serde_json::Result<Publication> {
    let entry: Entry<&str, &RawValue> = serde_json::from_str(text)?;
    let (market, seq) = (entry.market, entry.seq);
    let mut out = Publication::default();
    let levels: Option<Vec<Level>> = entry.book.map(|book| {
        book.into_iter().map(|(side, price, qty_lots)| Level { side: Side::from_u8(side), price, qty_lots }).collect()
    });
    if let Some(levels) = &levels {
        let mut args = vec![(seq - 1).to_string(), seq.to_string()];
        args.push(levels.iter().filter(|l| l.side == Side::Bid).count().to_string());
        for side in [Side::Bid, Side::Ask] {
            for l in levels.iter().filter(|l| l.side == side) {
                args.extend([l.price.to_string(), l.qty_lots.to_string()]);
            }
        }
        out.diff = Some((market.to_string(), args));
    }
    for (channel, data) in &entry.messages {
        out.frames.push((format!("{REDIS_PREFIX}{channel}"), Frame::render(None, channel, "update", data)));
    }
    if let Some(levels) = &levels {
        let channel = Channel::new(Kind::Book, market);
        let diff = Frame::render(Some(seq), &channel, "update", BookDiff::new(market, seq, levels));
        out.frames.push((channel.redis_name(), diff));
    }
    Ok(out)
}

/// One stream entry as pipeline commands: the cache first, then the messages, so a
/// client that receives diff n and then reads the cached book finds n (or later).
/// An entry that is not one (written by another version) is skipped: the next diff
/// finds the cached book behind and drops it, and clients see the gap and resync.
fn publish_entry(pipe: &mut redis::Pipeline, text: &str) {
    let publication = match publication(text) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "skipped a live stream entry that is not one");
            return;
        }
    };
    if let Some((market, args)) = &publication.diff {
        let [seq_key, bids_key, asks_key] = book_keys(market);
        pipe.cmd("EVAL").arg(APPLY_DIFF).arg(3).arg(&seq_key).arg(&bids_key).arg(&asks_key).arg(args).ignore();
    }
    for (channel, frame) in &publication.frames {
        pipe.publish(channel, frame).ignore();
    }
}

/// Reads one page of the stream for the group: `pending` re-reads what this
/// consumer was given but did not acknowledge (after a crash), else new entries.
async fn read_page(
    conn: &mut redis::aio::MultiplexedConnection,
    pending: bool,
) -> redis::RedisResult<Vec<(String, String)>> {
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
            let entry = id.get::<String>("entry").unwrap_or_default();
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
/// A reset's frame carries no sequence number: no client's snapshot filters it out.
pub async fn reset(redis: &mut ConnectionManager, market: &str, seq: i64) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    pipe.del(&book_keys(market)).ignore();
    for (channel, frame) in reset_frames(market, seq) {
        pipe.publish(channel, frame).ignore();
    }
    pipe.query_async(redis).await
}

fn reset_frames(market: &str, seq: i64) -> Vec<(String, Vec<u8>)> {
    [Kind::Book, Kind::Events]
        .map(|kind| {
            let channel = Channel::new(kind, market);
            (channel.redis_name(), Frame::render(None, &channel, "reset", Reset { market, reset: true, seq }))
        })
        .into()
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

#[cfg(test)]
mod tests {
    use serde_json::json;
    use solex_sdk::Pubkey;

    use super::*;
    use crate::derive::Live;

    /// What a client received from the relay before the typed feed: the data
    /// serialised into the stream entry, parsed by the publisher, serialised onto
    /// pub/sub, parsed by the hub and wrapped as `{"channel", "type", "data"}`.
    fn relayed(channel: &Channel, data: &Value) -> String {
        let hop = |v: &Value| -> Value { serde_json::from_str(&v.to_string()).unwrap() };
        let data = hop(&hop(data));
        let kind = if data["reset"] == true { "reset" } else { "update" };
        json!({"channel": channel.to_string(), "type": kind, "data": data}).to_string()
    }

    fn client_text(frame: &[u8]) -> (Option<i64>, String) {
        let (seq, text) = Frame::parse(frame).expect("a frame");
        (seq, String::from_utf8(text.to_vec()).unwrap())
    }

    #[test]
    fn clients_receive_the_bytes_the_relay_always_sent() {
        let market = Pubkey::new_from_array([1; 32]).to_string();
        let owner = Pubkey::new_from_array([2; 32]).to_string();
        let order = json!({
            "market": market, "order_id": "340282366920938463463374607431768211455", "price": u64::MAX,
            "qty_lots": 7, "status": "open", "side": "bid", "updated_seq": 3, "note": "a \" and a \n and é",
            "nested": {"z": [1, 2], "a": null},
        });
        let candle = json!({"interval": "1m", "start": 1_700_000_000, "open": 1, "volume": "18446744073709551616"});
        let e = StoredEvent::from_log(market.clone(), 3, "sig".into(), 9, None, vec![]);
        let logged = json!({"market": market, "seq": 3, "kind": "OrderPlaced", "slot": 9, "signature": "sig"});
        let changes = Changes {
            levels: vec![
                Level { side: Side::Bid, price: 99, qty_lots: 1 },
                Level { side: Side::Bid, price: 100, qty_lots: 5 },
                Level { side: Side::Ask, price: 101, qty_lots: 0 },
            ],
            messages: vec![
                Live { channel: Channel::new(Kind::Events, market.clone()), data: logged },
                Live { channel: Channel::new(Kind::Orders, owner), data: order },
                Live { channel: Channel::new(Kind::Candles, market.clone()), data: candle },
            ],
            quarantined: false,
        };
        let p = publication(&serde_json::to_string(&Entry::of(&e, &changes)).unwrap()).unwrap();
        // The cached book goes from seq 2 to 3: two bid levels, then one ask level.
        let args = ["2", "3", "2", "99", "1", "100", "5", "101", "0"].map(String::from).to_vec();
        assert_eq!(p.diff, Some((market.clone(), args)));
        assert_eq!(p.frames.len(), 4);
        for (m, (redis, frame)) in changes.messages.iter().zip(&p.frames) {
            assert_eq!(*redis, m.channel.redis_name());
            assert_eq!(client_text(frame), (None, relayed(&m.channel, &m.data)));
        }
        // Last, the book diff: the only frame with a sequence number.
        let book = Channel::new(Kind::Book, market.clone());
        let diff = json!({"market": market, "seq": 3, "bids": [[99, 1], [100, 5]], "asks": [[101, 0]]});
        assert_eq!(p.frames[3].0, book.redis_name());
        assert_eq!(client_text(&p.frames[3].1), (Some(3), relayed(&book, &diff)));

        // A quarantined market's event: its log message only, and no diff.
        let p = publication(&serde_json::to_string(&Entry::of(&e, &crate::derive::logged_only(&e))).unwrap()).unwrap();
        assert_eq!((p.diff, p.frames.len()), (None, 1));
        assert_eq!(p.frames[0].0, Channel::new(Kind::Events, market.clone()).redis_name());

        // A reset, on the book and events channels, with no sequence number to filter by.
        for (kind, (redis, frame)) in [Kind::Book, Kind::Events].into_iter().zip(reset_frames(&market, 7)) {
            let channel = Channel::new(kind, market.clone());
            assert_eq!(redis, channel.redis_name());
            let data = json!({"market": market, "seq": 7, "reset": true});
            assert_eq!(client_text(&frame), (None, relayed(&channel, &data)));
        }
    }

    #[test]
    fn entries_and_frames_of_another_shape_are_refused() {
        let old = r#"{"event":{},"market":"m","seq":1,"levels":[],"book":true,"messages":[]}"#;
        assert!(publication(old).is_err());
        assert!(publication("not json").is_err());
        assert_eq!(Frame::parse(b"{\"no\":\"header\"}"), None);
        assert_eq!(Frame::parse(b"x\n{}"), None);
        assert_eq!(Frame::parse(b"\n{}"), Some((None, &b"{}"[..])));
        assert_eq!(Frame::parse(b"42\n{}"), Some((Some(42), &b"{}"[..])));
    }
}
