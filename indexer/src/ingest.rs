//! Backfill: every confirmed transaction of the program since the cursor, oldest
//! first, with its events written to the log in batches that move the cursor.
use std::sync::Arc;

use solex_sdk::events::decode_event;
use solex_sdk::rpc::{transaction_event_data, RpcClient, SignatureInfo};
use solex_sdk::Pubkey;
use sqlx::PgPool;

use crate::db::{self, StoredEvent};

/// Transactions fetched and written per database transaction.
const BATCH: usize = 32;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub transactions: usize,
    pub inserted: u64,
}

/// The program's transactions newer than `cursor`, oldest first (failed ones left out:
/// they changed nothing and emitted nothing).
fn pending_signatures(rpc: &RpcClient, program: &Pubkey, cursor: Option<&str>) -> anyhow::Result<Vec<SignatureInfo>> {
    let mut all = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = rpc.signature_page(program, before.as_deref(), cursor)?;
        let full = page.len() == 1000;
        before = page.last().map(|s| s.signature.clone());
        all.extend(page);
        if !full {
            break;
        }
    }
    all.reverse();
    all.retain(|s| !s.failed);
    Ok(all)
}

fn events_of(rpc: &RpcClient, sig: &SignatureInfo) -> anyhow::Result<Vec<StoredEvent>> {
    let details = rpc.transaction(&sig.signature)?;
    let block_time = details["blockTime"].as_i64();
    transaction_event_data(&details)
        .into_iter()
        .map(|data| {
            let event = decode_event(&data)?;
            Ok(StoredEvent {
                market: event.market().to_string(),
                seq: event.seq() as i64,
                kind: event.name(),
                signature: sig.signature.clone(),
                slot: sig.slot as i64,
                block_time,
                data,
            })
        })
        .collect()
}

/// Redis channel of a market's live events (one JSON message per new event, in
/// sequence order, published only after the event is committed to PostgreSQL).
pub fn market_channel(market: &str) -> String {
    format!("solex:events:{market}")
}

/// The Redis stream every new event is appended to, in commit order.
pub const EVENT_STREAM: &str = "solex:events";

async fn publish(redis: &mut redis::aio::MultiplexedConnection, events: &[&StoredEvent]) -> anyhow::Result<()> {
    let mut pipe = redis::pipe();
    for e in events {
        let msg = serde_json::json!({"market": e.market, "seq": e.seq, "kind": e.kind, "slot": e.slot, "signature": e.signature})
            .to_string();
        pipe.publish(market_channel(&e.market), &msg).ignore();
        pipe.cmd("XADD").arg(EVENT_STREAM).arg("MAXLEN").arg("~").arg(100_000).arg("*").arg("event").arg(&msg).ignore();
    }
    pipe.query_async::<()>(redis).await?;
    Ok(())
}

/// Indexes every transaction since the cursor (at most `max_transactions` of them,
/// for tests that stop an indexer half-way), publishing each new event to Redis
/// once it is committed. Redis is a live feed, not a store: losing a message
/// there loses nothing, since PostgreSQL has it and clients resync from the REST
/// event feed by sequence number.
pub async fn backfill(
    rpc: Arc<RpcClient>,
    pool: &PgPool,
    program: Pubkey,
    max_transactions: Option<usize>,
    mut redis: Option<&mut redis::aio::MultiplexedConnection>,
) -> anyhow::Result<Report> {
    let cursor = db::cursor(pool).await?;
    let r = rpc.clone();
    let mut pending =
        tokio::task::spawn_blocking(move || pending_signatures(&r, &program, cursor.as_deref())).await??;
    if let Some(max) = max_transactions {
        pending.truncate(max);
    }
    let mut report = Report::default();
    for chunk in pending.chunks(BATCH) {
        let r = rpc.clone();
        let sigs = chunk.to_vec();
        let events = tokio::task::spawn_blocking(move || {
            sigs.iter().map(|s| events_of(&r, s)).collect::<anyhow::Result<Vec<_>>>()
        })
        .await??;
        let events: Vec<StoredEvent> = events.into_iter().flatten().collect();
        let last = chunk.last().expect("chunks are not empty");
        let inserted = db::store(pool, &events, Some((&last.signature, last.slot))).await?;
        report.inserted += inserted.len() as u64;
        if let Some(conn) = redis.as_deref_mut() {
            if let Err(e) = publish(conn, &inserted).await {
                tracing::warn!(error = %e, "publishing to Redis failed; the events are in PostgreSQL");
            }
        }
        report.transactions += chunk.len();
    }
    Ok(report)
}
