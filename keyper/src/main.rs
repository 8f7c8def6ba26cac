//! `solex-keyper`: runs one member of a keyper set (see the crate's documentation).
use clap::Parser;
use solex_keyper::config::{Args, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    solex_sdk::logging::init();
    let cfg = Config::load(Args::parse())?;
    let identity = solana_keypair::read_keypair_file(&cfg.keypair)
        .map_err(|e| anyhow::anyhow!("reading the keypair {}: {e}", cfg.keypair.display()))?;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        solex_sdk::logging::shutdown_signal().await;
        let _ = stop.send(true);
    });
    solex_keyper::service::run(cfg, identity, shutdown).await
}
