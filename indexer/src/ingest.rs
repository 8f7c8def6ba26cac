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
                data,
            })
        })
        .collect()
}

/// Indexes every transaction since the cursor (at most `max_transactions` of them,
/// for tests that stop an indexer half-way).
pub async fn backfill(
    rpc: Arc<RpcClient>,
    pool: &PgPool,
    program: Pubkey,
    max_transactions: Option<usize>,
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
        report.inserted += db::store(pool, &events, Some((&last.signature, last.slot))).await?;
        report.transactions += chunk.len();
    }
    Ok(report)
}
