//! Backfill: every confirmed transaction of the program since the cursor, oldest
//! first, with its events written to the log in batches that move the cursor.
use std::sync::Arc;

use solex_sdk::rpc::{transaction_decoded_events, RpcClient, SignatureInfo};
use solex_sdk::Pubkey;
use sqlx::PgPool;

use crate::db;
use crate::stored::StoredEvent;

/// Transactions fetched and written per database transaction.
const BATCH: usize = 32;
/// getTransaction calls in flight at once while catching up: RPC round trips, not
/// CPU, bound ingestion, so a batch is fetched concurrently (and stored in order).
const FETCH_CONCURRENCY: usize = 8;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub transactions: usize,
    pub inserted: u64,
    /// Slot of the newest transaction indexed.
    pub last_slot: Option<u64>,
    /// Batches whose live messages could not be published to Redis.
    pub publish_failures: u64,
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

/// The transaction's events, each decoded once, here: derivation and the live feed
/// use the decoded event the `StoredEvent` carries.
fn events_of(rpc: &RpcClient, sig: &SignatureInfo) -> anyhow::Result<Vec<StoredEvent>> {
    let details = rpc.transaction(&sig.signature)?;
    let block_time = details["blockTime"].as_i64();
    Ok(transaction_decoded_events(&details)
        .into_iter()
        .map(|(event, data)| StoredEvent::new(event, data, sig.signature.clone(), sig.slot as i64, block_time))
        .collect())
}

/// The events of each transaction, in the order given, fetched by up to
/// `FETCH_CONCURRENCY` threads.
fn fetch_all(rpc: &RpcClient, sigs: &[SignatureInfo]) -> anyhow::Result<Vec<Vec<StoredEvent>>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<anyhow::Result<Vec<StoredEvent>>>>> =
        sigs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..FETCH_CONCURRENCY.min(sigs.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(sig) = sigs.get(i) else { break };
                *results[i].lock().expect("result slot") = Some(events_of(rpc, sig));
            });
        }
    });
    results.into_iter().map(|r| r.into_inner().expect("result slot").expect("every slot filled")).collect()
}

/// Indexes every transaction since the cursor (at most `max_transactions` of them,
/// for tests that stop an indexer half-way), publishing each new event to Redis
/// once it is committed. Redis is a live feed and a cache, not a store: losing a
/// message there loses nothing, since PostgreSQL has it and clients resync from
/// the REST API by sequence number.
pub async fn backfill(
    rpc: Arc<RpcClient>,
    pool: &PgPool,
    program: Pubkey,
    max_transactions: Option<usize>,
    mut redis: Option<&mut redis::aio::ConnectionManager>,
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
        let events = tokio::task::spawn_blocking(move || fetch_all(&r, &sigs)).await??;
        let events: Vec<StoredEvent> = events.into_iter().flatten().collect();
        let last = chunk.last().expect("chunks are not empty");
        let inserted = db::store(pool, &events, Some((&last.signature, last.slot))).await?;
        report.inserted += inserted.len() as u64;
        if let Some(conn) = redis.as_deref_mut() {
            // Bounded: a stalled Redis costs live messages, never ingestion.
            let sent = tokio::time::timeout(crate::live::REDIS_TIMEOUT, crate::live::enqueue(conn, &inserted)).await;
            if let Err(e) = sent.map_err(|_| "timed out".to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                tracing::warn!(error = %e, "publishing to Redis failed; the events are in PostgreSQL");
                report.publish_failures += 1;
            }
        }
        report.transactions += chunk.len();
        report.last_slot = Some(last.slot);
    }
    Ok(report)
}

/// Unfinalized transactions checked per `finalize` call.
const FINALIZE_BATCH: i64 = 256;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Finality {
    /// Transactions newly known to be finalized.
    pub finalized: usize,
    /// Markets rolled back because a transaction was dropped.
    pub rolled_back: Vec<db::RolledBack>,
}

/// Settles what was indexed at `confirmed`: transactions at or below the finalized
/// slot are marked finalized when the cluster says so, and rolled back (with their
/// markets' later events; see `db::roll_back`) when it no longer knows them. Live
/// clients of a rolled-back market are told to resync.
pub async fn finalize(
    rpc: Arc<RpcClient>,
    pool: &PgPool,
    redis: Option<&mut redis::aio::ConnectionManager>,
) -> anyhow::Result<Finality> {
    let r = rpc.clone();
    let slot = tokio::task::spawn_blocking(move || r.finalized_slot()).await??;
    let pending = db::unfinalized(pool, slot, FINALIZE_BATCH).await?;
    if pending.is_empty() {
        return Ok(Finality::default());
    }
    let sigs = pending.clone();
    let statuses = tokio::task::spawn_blocking(move || rpc.confirmation_statuses(&sigs)).await??;
    let (mut finalized, mut dropped) = (vec![], vec![]);
    for (sig, status) in pending.into_iter().zip(statuses) {
        match status.as_deref() {
            Some("finalized") => finalized.push(sig),
            None => dropped.push(sig),
            // Known but not finalized yet: ask again later.
            Some(_) => {}
        }
    }
    db::mark_finalized(pool, &finalized).await?;
    let mut report = Finality { finalized: finalized.len(), rolled_back: vec![] };
    if !dropped.is_empty() {
        tracing::warn!(transactions = dropped.len(), "confirmed transactions were dropped; rolling back");
        report.rolled_back = db::roll_back(pool, &dropped).await?;
        if let Some(conn) = redis {
            for r in &report.rolled_back {
                if let Err(e) = crate::live::reset(conn, &r.market, r.from_seq - 1).await {
                    tracing::warn!(error = %e, market = r.market, "announcing a rollback on Redis failed");
                }
            }
        }
    }
    Ok(report)
}
