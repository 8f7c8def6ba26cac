//! The service: one task per market, each settling its fill queue whenever it is
//! not empty, with backoff on RPC faults, and a clean stop on shutdown.
//!
//! Nothing is kept between runs: the queue head on chain is the only state, so a
//! restarted crank resumes exactly where the last confirmed `consume_events` left it.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::Discriminator;
use solana_keypair::Keypair;
use solex_sdk::rpc::RpcClient;
use solex_sdk::wake::Subscription;
use solex_sdk::{Market, Pubkey};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::settle::{step, Outcome};

const MAX_BACKOFF: Duration = Duration::from_secs(10);

struct Shared {
    cfg: Config,
    rpc: RpcClient,
    payer: Keypair,
    metrics: Metrics,
    /// Bounds how many markets have a step in flight at once.
    slots: Semaphore,
}

/// Sleeps for `d` or until `wake` fires; returns false when shutdown is requested.
async fn pause(shutdown: &mut watch::Receiver<bool>, d: Duration, wake: Option<&Notify>) -> bool {
    let woken = async {
        match wake {
            Some(n) => n.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::time::sleep(d) => !*shutdown.borrow(),
        _ = woken => !*shutdown.borrow(),
        _ = shutdown.changed() => false,
    }
}

async fn crank_market(shared: Arc<Shared>, market: Pubkey, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let poll = Duration::from_millis(shared.cfg.poll_ms);
    let mut backoff = poll;
    let mut pending_since: Option<u64> = None;
    tracing::info!(%market, "cranking market");
    while !*shutdown.borrow() {
        let permit = shared.slots.acquire().await.expect("semaphore open");
        // The step runs to completion even if shutdown arrives meanwhile: in-flight work finishes.
        let s = shared.clone();
        let result = tokio::task::spawn_blocking(move || {
            let outcome = step(&s.rpc, &s.payer, &market, &s.cfg);
            let slot = s.rpc.slot().ok();
            (outcome, slot)
        })
        .await
        .expect("settlement step panicked");
        drop(permit);
        let m = &shared.metrics;
        let next = match result {
            (Ok(outcome), slot) => {
                m.rpc_ok(true);
                backoff = poll;
                match outcome {
                    Outcome::Idle => {
                        pending_since = None;
                        m.market(market, |s| {
                            s.queue_depth = 0;
                            s.lag_slots = 0;
                        });
                        poll
                    }
                    Outcome::Settled { settled, depth_before, compute_units, fee } => {
                        let since = *pending_since.get_or_insert(slot.unwrap_or_default());
                        m.transaction("confirmed", "consume_events");
                        m.fee(fee);
                        m.market(market, |s| {
                            s.events_settled += settled;
                            s.queue_depth = depth_before - settled;
                            s.compute_units += compute_units;
                            s.lag_slots = slot.unwrap_or_default().saturating_sub(since);
                        });
                        if depth_before == settled {
                            pending_since = None;
                        }
                        tracing::info!(%market, settled, remaining = depth_before - settled, compute_units, "settled");
                        Duration::ZERO
                    }
                    Outcome::Raced { reason } => {
                        m.transaction("failed", reason);
                        tracing::debug!(%market, reason, "another crank settled first");
                        Duration::ZERO
                    }
                    Outcome::Unconfirmed => {
                        m.transaction("failed", "unconfirmed");
                        tracing::warn!(%market, "transaction not confirmed in time; retrying with a fresh blockhash");
                        Duration::ZERO
                    }
                }
            }
            (Err(e), _) => {
                m.rpc_ok(!matches!(e, crate::settle::StepError::Rpc(_)));
                m.transaction("failed", e.reason());
                tracing::warn!(%market, error = %e, backoff_ms = backoff.as_millis() as u64, "settlement step failed");
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            }
        };
        // Idle waits end early when the websocket reports a queue change; backoff waits do not.
        let wake = (next == poll).then_some(&*wake);
        if !next.is_zero() && !pause(&mut shutdown, next, wake).await {
            break;
        }
    }
    tracing::info!(%market, "stopped");
}

/// The fill queue a market names.
fn fill_queue_of(rpc: &RpcClient, market: &Pubkey) -> anyhow::Result<Pubkey> {
    let data = rpc.account(market)?.ok_or_else(|| anyhow::anyhow!("market {market} not found"))?.data;
    let m: Market = solex_sdk::accounts::decode(&data)?;
    Ok(m.fill_queue)
}

/// Every market of the program (accounts with the `Market` discriminator).
fn discover(rpc: &RpcClient) -> anyhow::Result<Vec<Pubkey>> {
    Ok(rpc.program_accounts(&solex::ID, Market::DISCRIMINATOR)?.into_iter().map(|(k, _)| k).collect())
}

/// Runs until `shutdown` turns true, then waits for in-flight steps to finish.
pub async fn run(
    cfg: Config,
    payer: Keypair,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut rpc = RpcClient::new(cfg.rpc_url.clone());
    rpc.commitment = cfg.commitment.clone();
    rpc.confirm_timeout = Duration::from_millis(cfg.confirm_timeout_ms);
    let slots = Semaphore::new(cfg.concurrency);
    let shared = Arc::new(Shared { cfg, rpc, payer, metrics, slots });
    let mut tasks: HashMap<Pubkey, JoinHandle<()>> = HashMap::new();
    // Each market's fill queue and wake-up; the watcher is restarted when markets are added.
    let mut queues: Vec<(Pubkey, Arc<Notify>)> = Vec::new();
    let mut watcher: Option<(watch::Sender<bool>, JoinHandle<()>)> = None;
    let rediscover = Duration::from_millis(shared.cfg.rediscover_ms);
    loop {
        let markets = if shared.cfg.markets.is_empty() {
            let s = shared.clone();
            match tokio::task::spawn_blocking(move || discover(&s.rpc)).await? {
                Ok(found) => found,
                Err(e) => {
                    shared.metrics.rpc_ok(false);
                    tracing::warn!(error = %e, "market discovery failed; retrying");
                    tasks.keys().copied().collect()
                }
            }
        } else {
            shared.cfg.markets.clone()
        };
        let mut added = false;
        for market in markets {
            if tasks.contains_key(&market) {
                continue;
            }
            let s = shared.clone();
            let queue = match tokio::task::spawn_blocking(move || fill_queue_of(&s.rpc, &market)).await? {
                Ok(q) => q,
                Err(e) => {
                    tracing::warn!(%market, error = %e, "cannot read the market yet; retrying at the next discovery");
                    continue;
                }
            };
            let wake = Arc::new(Notify::new());
            queues.push((queue, wake.clone()));
            tasks.insert(market, tokio::spawn(crank_market(shared.clone(), market, wake, shutdown.clone())));
            added = true;
        }
        if let (true, Some(url)) = (added, &shared.cfg.ws_url) {
            if let Some((stop, handle)) = watcher.take() {
                let _ = stop.send(true);
                let _ = handle.await;
            }
            let (stop, rx) = watch::channel(false);
            let subs = queues
                .iter()
                .map(|(queue, wake)| Subscription {
                    method: "accountSubscribe",
                    params: serde_json::json!([queue.to_string(), {"encoding": "base64", "commitment": shared.cfg.commitment}]),
                    wake: wake.clone(),
                })
                .collect();
            let metrics = shared.metrics.clone();
            let watch_task = solex_sdk::wake::run(url.clone(), subs, move |up| metrics.ws_connected(up), rx);
            watcher = Some((stop, tokio::spawn(watch_task)));
        }
        if !pause(&mut shutdown, rediscover, None).await {
            break;
        }
    }
    if let Some((stop, handle)) = watcher.take() {
        let _ = stop.send(true);
        let _ = handle.await;
    }
    tracing::info!("shutting down: waiting for in-flight settlements");
    for (_, task) in tasks {
        task.await?;
    }
    Ok(())
}
