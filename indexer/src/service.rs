//! `solex-indexer run`: follow the program, index into PostgreSQL, publish through
//! Redis, and serve the API, until shut down; `serve`: the API alone. On shutdown
//! both stop accepting connections and answer every request already accepted
//! (within the drain bound) before returning.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use solex_sdk::rpc::RpcClient;
use solex_sdk::service::Shutdown;
use sqlx::PgPool;

use crate::http::App;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::{api, db, ingest};

pub struct Config {
    pub rpc_url: String,
    /// Websocket for logsSubscribe on the program, which wakes ingestion at once (None: only poll).
    pub ws_url: Option<String>,
    pub poll: Duration,
    pub api_addr: SocketAddr,
    /// Redis for the live feed and the book cache (None: neither).
    pub redis_url: Option<String>,
    /// On shutdown, how long requests in flight may take to finish.
    pub drain: Duration,
}

/// The Redis client (for subscriptions) and a reconnecting connection (for commands),
/// when Redis is configured. The connection reconnects by itself, so Redis
/// restarting costs only the live messages meanwhile.
async fn redis(url: Option<&str>) -> anyhow::Result<(Option<redis::Client>, Option<redis::aio::ConnectionManager>)> {
    let Some(url) = url else { return Ok((None, None)) };
    let client = redis::Client::open(url)?;
    let cache = crate::live::connect(&client).await?;
    Ok((Some(client), Some(cache)))
}

/// `solex-indexer serve`: the API alone (REST, WebSocket, transaction API, page),
/// reading what a `run` process writes. Stateless, so any number can run behind a
/// load balancer; each keeps one Redis subscription for its WebSocket clients.
pub async fn serve(
    pool: PgPool,
    rpc_url: String,
    api_addr: SocketAddr,
    redis_url: Option<String>,
    drain: Duration,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let (client, cache) = redis(redis_url.as_deref()).await?;
    let app = App {
        db: pool,
        hub: client.map(Hub::start),
        cache,
        metrics: Arc::new(Metrics::default()),
        rpc: Some(Arc::new(RpcClient::new(rpc_url))),
        shutdown,
    };
    api::serve(api_addr, app, drain).await
}

/// Migrates, serves the API, and indexes every new transaction of the program until
/// `shutdown` fires (or the API server fails); then waits for the API to drain.
/// `api_pool` serves the API; ingestion (and the writer lock) have a pool of their
/// own to the same database, so no amount of API traffic can keep the writer
/// waiting for a connection.
pub async fn run(api_pool: PgPool, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = db::ingest_pool(&api_pool);
    db::migrate(&pool).await?;
    let (client, cache) = redis(config.redis_url.as_deref()).await?;
    let mut redis = cache.clone();
    let rpc = Arc::new(RpcClient::new(config.rpc_url));
    let metrics = Arc::new(Metrics::default());
    if let Some(c) = &client {
        crate::live::prepare(c).await?;
    }
    // The live stream has one publisher: the writer's (started when this process
    // becomes the writer, stopped if it ever stops being it).
    let mut publisher: Option<tokio::task::JoinHandle<()>> = None;
    let mut writer = db::WriterLock::new(pool.clone());
    let (mut standing_by, mut writing) = (false, false);
    let hub = client.clone().map(Hub::start);
    let app =
        App { db: api_pool, hub, cache, metrics: metrics.clone(), rpc: Some(rpc.clone()), shutdown: shutdown.clone() };
    let server = tokio::spawn(api::serve(config.api_addr, app, config.drain));
    let wake = Arc::new(tokio::sync::Notify::new());
    if let Some(url) = config.ws_url.clone() {
        let sub = solex_sdk::wake::Subscription {
            method: "logsSubscribe",
            params: serde_json::json!([{"mentions": [solex::ID.to_string()]}, {"commitment": "confirmed"}]),
            wake: wake.clone(),
        };
        tokio::spawn(solex_sdk::wake::run(url, vec![sub], |_| {}, shutdown.receiver()));
    }
    // Ingestion ends on the signal (or when the server fails, whose error is returned below).
    let ended: anyhow::Result<()> = async {
        loop {
            if !writer.held().await {
                if !std::mem::replace(&mut standing_by, true) {
                    tracing::info!("another indexer is the writer: serving the API and standing by");
                }
                writing = false;
                metrics.writer.set(0.0);
                if let Some(p) = publisher.take() {
                    p.abort();
                }
                tokio::select! {
                    _ = tokio::time::sleep(config.poll.max(Duration::from_millis(500))) => {}
                    _ = shutdown.triggered() => return Ok(()),
                }
                if server.is_finished() {
                    return Ok(());
                }
                continue;
            }
            standing_by = false;
            if !std::mem::replace(&mut writing, true) {
                metrics.writer.set(1.0);
                tracing::info!("this indexer is the writer");
                publisher = client.clone().map(|c| tokio::spawn(crate::live::run_publisher(c)));
            }
            // The chain's slot before the pass: once it succeeds, everything up to it is indexed.
            let r = rpc.clone();
            let chain_slot = tokio::task::spawn_blocking(move || r.slot()).await?.ok();
            if let Some(slot) = chain_slot {
                metrics.chain_slot(slot);
            }
            tokio::select! {
                r = ingest::backfill(rpc.clone(), &pool, solex::ID, None, redis.as_mut()) => match r {
                    Ok(report) => {
                        if let Some(slot) = chain_slot {
                            metrics.synced(slot);
                        }
                        if report.transactions > 0 {
                            tracing::info!(transactions = report.transactions, inserted = report.inserted, "indexed");
                        }
                        metrics.record(&report);
                    }
                    Err(e) => {
                        tracing::warn!(error = format!("{e:#}"), "backfill failed; retrying");
                        metrics.backfill_errors.increment(1);
                    }
                },
                _ = shutdown.triggered() => return Ok(()),
            }
            match ingest::finalize(rpc.clone(), &pool, redis.as_mut()).await {
                Ok(f) => {
                    metrics.finalized.increment(f.finalized as u64);
                    for r in &f.rolled_back {
                        tracing::warn!(market = r.market, from_seq = r.from_seq, events = r.events, "rolled back");
                        metrics.rolled_back.increment(r.events);
                    }
                }
                Err(e) => tracing::warn!(error = format!("{e:#}"), "finality check failed; retrying"),
            }
            // A program transaction on the websocket wakes us at once; polling is the fallback.
            tokio::select! {
                _ = tokio::time::sleep(config.poll) => {}
                _ = wake.notified() => {}
                _ = shutdown.triggered() => return Ok(()),
            }
            if server.is_finished() {
                return Ok(());
            }
        }
    }
    .await;
    // Whatever ended ingestion, the API stops too, after the requests it accepted.
    shutdown.trigger();
    if let Some(p) = publisher.take() {
        p.abort();
    }
    server.await??;
    ended
}
