//! `solex-indexer migrate | run | check` (see `--help`).
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use solex_indexer::{api, db, ingest};
use solex_sdk::rpc::RpcClient;

#[derive(Parser)]
#[command(name = "solex-indexer", about = "Mirrors the Solex program's events into PostgreSQL")]
struct Cli {
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/solex")]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Applies the migrations in migrations/.
    Migrate,
    /// Migrates, then indexes every new transaction of the program (polling) and serves the REST API.
    Run {
        #[arg(long, env = "SOLEX_RPC_URL", default_value = "http://127.0.0.1:8899")]
        rpc_url: String,
        #[arg(long, default_value_t = 1000)]
        poll_ms: u64,
        #[arg(long, default_value = "127.0.0.1:8080")]
        api_addr: std::net::SocketAddr,
        /// Websocket for logsSubscribe on the program, which wakes ingestion at once
        /// (default: the RPC URL's, port + 1); "none" to only poll.
        #[arg(long)]
        ws_url: Option<String>,
        /// Publish new events to Redis (channel per market, and a stream); "none" to skip.
        #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
        redis_url: String,
    },
    /// Rebuilds the derived tables (markets, trades) from the event log.
    Rebuild,
    /// Reports each market's event count and any gap; exits 1 on a gap.
    Check,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("solex-indexer: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let pool = db::connect(&cli.database_url).await?;
    match cli.command {
        Command::Migrate => db::migrate(&pool).await,
        Command::Rebuild => {
            let n = db::rebuild(&pool).await?;
            println!("rebuilt the derived tables from {n} events");
            Ok(())
        }
        Command::Check => {
            for (market, max, count) in db::markets(&pool).await? {
                println!("{market} events {count} newest seq {max}");
            }
            let gaps = db::gaps(&pool).await?;
            for g in &gaps {
                println!("GAP {} stored {} of 1..={}", g.market, g.stored, g.max_seq);
            }
            if gaps.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} market(s) with gaps", gaps.len())
            }
        }
        Command::Run { rpc_url, poll_ms, api_addr, ws_url, redis_url } => {
            db::migrate(&pool).await?;
            let client = match redis_url.as_str() {
                "none" => None,
                url => Some(redis::Client::open(url)?),
            };
            let mut redis = match &client {
                Some(c) => Some(c.get_multiplexed_async_connection().await?),
                None => None,
            };
            let rpc = Arc::new(RpcClient::new(rpc_url));
            let server =
                tokio::spawn(api::serve(api_addr, api::App { db: pool.clone(), rpc: rpc.clone(), redis: client }));
            let wake = Arc::new(tokio::sync::Notify::new());
            let (stop, shutdown) = tokio::sync::watch::channel(false);
            let ws_url = match ws_url {
                Some(none) if none == "none" => None,
                Some(url) => Some(url),
                None => Some(solex_sdk::wake::default_ws_url(rpc.url())?),
            };
            if let Some(url) = ws_url {
                let sub = solex_sdk::wake::Subscription {
                    method: "logsSubscribe",
                    params: serde_json::json!([{"mentions": [solex::ID.to_string()]}, {"commitment": "confirmed"}]),
                    wake: wake.clone(),
                };
                tokio::spawn(solex_sdk::wake::run(url, vec![sub], |_| {}, shutdown));
            }
            let _stop_on_exit = stop;
            loop {
                tokio::select! {
                    r = ingest::backfill(rpc.clone(), &pool, solex::ID, None, redis.as_mut()) => match r {
                        Ok(report) if report.transactions > 0 => {
                            tracing::info!(transactions = report.transactions, inserted = report.inserted, "indexed")
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "backfill failed; retrying"),
                    },
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                }
                // A program transaction on the websocket wakes us at once; polling is the fallback.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(poll_ms)) => {}
                    _ = wake.notified() => {}
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                }
                if server.is_finished() {
                    return server.await?;
                }
            }
        }
    }
}
