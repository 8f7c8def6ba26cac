//! Two `solex-indexer run` processes on one database: one is the writer (it holds
//! the writer lock), the other serves the same API and stands by. SIGKILL the
//! writer and the standby takes over by itself, indexing on with no gap.
use std::time::{Duration, Instant};

use solex_indexer::db;
use solex_localnet::ledger::Ledger;
use solex_localnet::rpc::RpcClient;
use solex_sdk::instructions as ix;
use solex_sdk::{PlaceOrderArgs, Side};
use support::{free_port, get, Session, Stack};

mod support;

/// The `solex_indexer_writer` gauge of the indexer at `base`, once it answers.
async fn writer(base: &str) -> Option<u64> {
    let url = format!("{base}/metrics");
    let text = tokio::task::spawn_blocking(move || ureq::get(&url).call().ok()?.into_string().ok()).await.unwrap()?;
    text.lines().find_map(|l| l.strip_prefix("solex_indexer_writer ")?.trim().parse().ok())
}

async fn wait_writer(base: &str, expected: u64) {
    let start = Instant::now();
    while writer(base).await != Some(expected) {
        assert!(start.elapsed() < Duration::from_secs(30), "{base} writer gauge never became {expected}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_indexer_takes_over_when_the_writer_dies() {
    let mut stack = Stack::start().await;
    wait_writer(&stack.base, 1).await;
    let port = free_port();
    let standby = Stack::spawn(&stack.db.url, &stack.validator, port);
    let standby_base = format!("http://127.0.0.1:{port}");
    wait_writer(&standby_base, 0).await;

    // Trading while the first one writes: both serve what it indexed.
    let url = stack.validator.rpc_url();
    let session = tokio::task::spawn_blocking(move || Session::open(&mut RpcClient::new(url), 1, 0, 5)).await.unwrap();
    let market = session.market.keys.market;
    let chain = stack.validator.rpc();
    let seq = solex_localnet::scenario::market(&chain, &market).event_seq;
    support::wait_indexed(&stack.base, &market.to_string(), seq).await;
    support::wait_indexed(&standby_base, &market.to_string(), seq).await;
    assert_eq!(writer(&standby_base).await, Some(0), "the standby does not write");

    // The writer dies; the standby takes over and indexes what comes next.
    stack.indexer.0.kill().unwrap();
    stack.indexer.0.wait().unwrap();
    let (url, w) = (stack.validator.rpc_url(), session.wallets[0].clone());
    let keys = session.market.keys;
    tokio::task::spawn_blocking(move || {
        let order = PlaceOrderArgs::limit(Side::Bid, 90, 1, 1);
        RpcClient::new(url).send(&[ix::place_order(w.pubkey(), &keys, order)], &[&w.keypair]).unwrap()
    })
    .await
    .unwrap();
    let seq = solex_localnet::scenario::market(&chain, &market).event_seq;
    wait_writer(&standby_base, 1).await;
    support::wait_indexed(&standby_base, &market.to_string(), seq).await;
    let (_, book) = get(&standby_base, &format!("/markets/{market}/book")).await;
    assert_eq!(book["bids"], serde_json::json!([[90, 1]]));

    let pool = db::connect(&stack.db.url).await.unwrap();
    assert!(db::gaps(&pool).await.unwrap().is_empty(), "no gap across the takeover");
    pool.close().await;
    stack.indexer = standby;
    stack.stop().await;
}
