//! `solex-crank --config crank.toml` (or flags; `--help`).
use clap::Parser;
use solex_crank::config::{Args, Config};
use solex_crank::metrics::{self, Metrics};
use solex_crank::service;
use solex_sdk::service::Shutdown;

#[tokio::main]
async fn main() {
    solex_sdk::service::init_logging();
    if let Err(e) = run().await {
        eprintln!("solex-crank: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cfg = Config::load(Args::parse())?;
    let payer = solana_keypair::read_keypair_file(&cfg.keypair)
        .map_err(|e| anyhow::anyhow!("reading keypair {}: {e}", cfg.keypair.display()))?;
    let shutdown = Shutdown::on_signals()?;
    let m = Metrics::default();
    let server = tokio::spawn(metrics::serve(cfg.metrics_addr, m.clone(), shutdown.clone()));
    tracing::info!(
        rpc = %cfg.rpc_url,
        markets = cfg.markets.len(),
        authorities = cfg.authorities.len(),
        unlisted_budget_lamports = cfg.unlisted_budget_lamports,
        batch = cfg.batch,
        "solex-crank starting"
    );
    service::run(cfg, payer, m, shutdown.receiver()).await?;
    server.await??;
    tracing::info!("stopped");
    Ok(())
}
