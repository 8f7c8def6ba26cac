//! Ingestion benchmark: a local solana-test-validator with TRADERS traders placing
//! resting orders (4 per transaction), then a cold backfill into a fresh
//! PostgreSQL database; prints events per second (RPC reads included: it is the
//! indexer's real catch-up rate) and the time to the first and last event.
//!
//!     cargo run -p solex-indexer --example ingest_bench --ignore-rust-version [-- ORDERS]
use std::sync::Arc;
use std::time::Instant;

use solex_indexer::{db, ingest};
use solex_localnet::ledger::Ledger;
use solex_localnet::scenario::*;
use solex_localnet::validator::TestValidator;
use solex_sdk::instructions as ix;
use solex_sdk::{PlaceOrderArgs, Side};

#[tokio::main]
async fn main() {
    let orders: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    eprintln!("starting solana-test-validator and placing {orders} orders ...");
    let validator = TestValidator::start();
    let url = validator.rpc_url();
    tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        let (m, _) = TestMarket::create(&mut chain, market_args(1));
        let per_trader = TEST_MAX_ORDERS as u64;
        for t in 0..orders.div_ceil(per_trader) {
            let w = m.wallet(&mut chain, 0, 1 << 40);
            chain.send(&[m.deposit_ix(&w, m.keys.quote_mint, 1 << 40)], &[&w.keypair]).unwrap();
            let n = per_trader.min(orders - t * per_trader);
            let ixs: Vec<_> = (0..n)
                .map(|i| ix::place_order(w.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, 100 + i, 1, i)))
                .collect();
            for chunk in ixs.chunks(4) {
                chain.send(chunk, &[&w.keypair]).unwrap();
            }
        }
    })
    .await
    .unwrap();

    let name = format!("solex_bench_{}", std::process::id());
    let bench = db::connect(&db::create_database(&solex_localnet::services::pg_admin_url(), &name).await.unwrap())
        .await
        .unwrap();
    db::migrate(&bench).await.unwrap();
    let rpc = Arc::new(solex_sdk::rpc::RpcClient::new(validator.rpc_url()));
    let started = Instant::now();
    let report = ingest::backfill(rpc, &bench, solex::ID, None, None).await.unwrap();
    let took = started.elapsed();
    assert!(db::gaps(&bench).await.unwrap().is_empty());
    bench.close().await;
    db::drop_database(&solex_localnet::services::pg_admin_url(), &name).await.unwrap();

    println!("| ingestion (cold backfill, local validator, PostgreSQL) | value |");
    println!("|---|---:|");
    println!("| transactions | {} |", report.transactions);
    println!("| events stored | {} |", report.inserted);
    println!("| time | {:.2} s |", took.as_secs_f64());
    println!("| throughput | {:.0} events/s |", report.inserted as f64 / took.as_secs_f64());
}
