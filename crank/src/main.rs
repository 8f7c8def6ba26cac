//! `solex-crank --config crank.toml` (or flags; `--help`).
use clap::Parser;
use solex_crank::config::{Args, Config};
use solex_crank::metrics::{self, Metrics};
use solex_crank::service;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

#[tokio::main]
async fn main() {
    solex_sdk::logging::init();
    if let Err(e) = run().await {
        eprintln!("solex-crank: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cfg = Config::load(Args::parse())?;
    let payer = solana_keypair::read_keypair_file(&cfg.keypair)
        .map_err(|e| anyhow::anyhow!("reading keypair {}: {e}", cfg.keypair.display()))?;
    let (stop, shutdown) = watch::channel(false);
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("signal received: finishing in-flight work");
        let _ = stop.send(true);
    });
    let m = Metrics::default();
    let mut server_stop = shutdown.clone();
    let server = tokio::spawn(metrics::serve(cfg.metrics_addr, m.clone(), async move {
        let _ = server_stop.wait_for(|stop| *stop).await;
    }));
    tracing::info!(
        rpc = %cfg.rpc_url,
        markets = cfg.markets.len(),
        authorities = cfg.authorities.len(),
        unlisted_budget_lamports = cfg.unlisted_budget_lamports,
        batch = cfg.batch,
        "solex-crank starting"
    );
    service::run(cfg, payer, m, shutdown).await?;
    server.await??;
    tracing::info!("stopped");
    Ok(())
}
