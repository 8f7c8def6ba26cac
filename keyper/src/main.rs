//! `solex-keyper run ...`: runs one member of a keyper set (see the crate's
//! documentation); `solex-keyper create-set ...` creates a keyper set on chain.
use anyhow::Context;
use clap::Parser;
use solana_signer::Signer;
use solex_keyper::config::{Cli, Config, CreateSet};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    solex_sdk::service::init_logging();
    match Cli::parse() {
        Cli::Run(args) => {
            let cfg = Config::load(args)?;
            let identity = read(&cfg.keypair)?;
            solex_keyper::service::run(cfg, identity, solex_sdk::service::Shutdown::on_signals()?).await
        }
        Cli::CreateSet(args) => tokio::task::spawn_blocking(move || create_set(args)).await?,
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<solana_keypair::Keypair> {
    solana_keypair::read_keypair_file(path).map_err(|e| anyhow::anyhow!("reading the keypair {}: {e}", path.display()))
}

fn create_set(a: CreateSet) -> anyhow::Result<()> {
    let payer = read(&a.keypair)?;
    let members = a
        .members
        .iter()
        .map(|m| m.parse().with_context(|| format!("--members: {m} is not a public key")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rpc = solex_sdk::rpc::RpcClient::new(&a.rpc_url);
    let set = solana_keypair::Keypair::new();
    let rent = rpc.rent_exempt(solex::state::KeyperSet::space(a.ring))?;
    let args = solex::CreateKeyperSetArgs {
        members,
        threshold: a.threshold,
        round_slots: a.round_slots,
        retain_rounds: a.retain_rounds,
    };
    let ixs = solex_sdk::auction::create_keyper_set(payer.pubkey(), payer.pubkey(), set.pubkey(), a.ring, rent, args);
    match rpc.submit(&ixs, &[&payer, &set])? {
        Ok(_) => {
            println!("{}", set.pubkey());
            Ok(())
        }
        Err(r) => anyhow::bail!("create_keyper_set refused: {}", r.describe()),
    }
}
