//! `solex-indexer migrate | run | serve | backfill | rebuild | check | digest` (see `--help`).
use std::time::Duration;

use clap::{Parser, Subcommand};
use solex_indexer::{db, service};
use solex_sdk::service::Shutdown;

#[derive(Parser)]
#[command(name = "solex-indexer", about = "Mirrors the Solex program's events into PostgreSQL")]
struct Cli {
    #[arg(long, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/solex")]
    database_url: String,
    /// Size of the API's PostgreSQL connection pool (`run`, `serve`); ingestion has its own.
    #[arg(long, env = "SOLEX_API_DB_CONNECTIONS", default_value_t = 4)]
    api_db_connections: u32,
    /// On SIGTERM (`run`, `serve`): how long requests already accepted may take to
    /// finish before the process exits.
    #[arg(long, global = true, env = "SOLEX_DRAIN_SECONDS", default_value_t = 20)]
    drain_seconds: u64,
    #[command(subcommand)]
    command: Command,
    /// The transaction API's limits and allowed origins (flags of `run` and `serve`).
    #[command(flatten)]
    tx: solex_indexer::txapi::TxSettings,
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
    /// Serves the APIs alone (no ingestion): stateless replicas behind a load
    /// balancer, reading the database a single `run` process writes.
    Serve {
        /// The cluster, for the transaction API.
        #[arg(long, env = "SOLEX_RPC_URL", default_value = "http://127.0.0.1:8899")]
        rpc_url: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        api_addr: std::net::SocketAddr,
        /// Redis for the live feed and the book cache; "none" to serve without them.
        #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
        redis_url: String,
    },
    /// Rebuilds the derived tables (markets, traders, orders, trades, candles) from
    /// the event log; a quarantined market is derived again from its start.
    Rebuild {
        /// Only this market's rows.
        #[arg(long)]
        market: Option<String>,
    },
    /// Reports each market's event count and any gap; exits 1 on a gap.
    Check,
    /// Migrates, indexes every transaction up to the chain's head once, and exits
    /// (a replay into an empty database, to compare with a live one).
    Backfill {
        #[arg(long, env = "SOLEX_RPC_URL", default_value = "http://127.0.0.1:8899")]
        rpc_url: String,
    },
    /// Prints each indexed table's row count and the md5 of its rows in key order;
    /// two databases with equal digests hold the same index.
    Digest,
}

#[tokio::main]
async fn main() {
    solex_sdk::service::init_logging();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("solex-indexer: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    solex_indexer::txapi::configure(cli.tx.clone());
    let connections = match cli.command {
        Command::Run { .. } | Command::Serve { .. } => cli.api_db_connections,
        _ => 4,
    };
    let pool = db::connect_sized(&cli.database_url, connections).await?;
    let drain = Duration::from_secs(cli.drain_seconds);
    match cli.command {
        Command::Migrate => db::migrate(&pool).await,
        Command::Rebuild { market } => {
            let n = db::rebuild_markets(&pool, market.as_deref()).await?;
            println!("rebuilt the derived tables from {n} events");
            for q in db::quarantined(&pool).await? {
                println!("QUARANTINED {} at seq {} ({}): {}", q.market, q.seq, q.kind, q.error);
            }
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
            for q in db::quarantined(&pool).await? {
                println!("QUARANTINED {} at seq {} ({}): {}", q.market, q.seq, q.kind, q.error);
            }
            if gaps.is_empty() {
                Ok(())
            } else {
                anyhow::bail!("{} market(s) with gaps", gaps.len())
            }
        }
        Command::Serve { rpc_url, api_addr, redis_url } => {
            let redis_url = (redis_url != "none").then_some(redis_url);
            service::serve(pool, rpc_url, api_addr, redis_url, drain, Shutdown::on_signals()?).await
        }
        Command::Backfill { rpc_url } => {
            db::migrate(&pool).await?;
            let rpc = std::sync::Arc::new(solex_sdk::rpc::RpcClient::new(rpc_url));
            let report = solex_indexer::ingest::backfill(rpc, &pool, solex::ID, None, None).await?;
            println!("indexed {} transactions, {} new events", report.transactions, report.inserted);
            Ok(())
        }
        Command::Digest => {
            for (table, rows, md5) in db::digest(&pool).await? {
                println!("{table} {rows} {md5}");
            }
            Ok(())
        }
        Command::Run { rpc_url, poll_ms, api_addr, ws_url, redis_url } => {
            let ws_url = match ws_url {
                Some(none) if none == "none" => None,
                Some(url) => Some(url),
                None => Some(solex_sdk::wake::default_ws_url(&rpc_url)?),
            };
            let config = service::Config {
                rpc_url,
                ws_url,
                poll: Duration::from_millis(poll_ms),
                api_addr,
                redis_url: (redis_url != "none").then_some(redis_url),
                drain,
            };
            service::run(pool, config, Shutdown::on_signals()?).await
        }
    }
}
