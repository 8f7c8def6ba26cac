//! Recovery: the indexer is SIGKILLed mid-stream and restarted, PostgreSQL is
//! stopped and started under it, and Redis is flushed, all while a trading
//! session runs. Afterwards the database equals a fresh full replay of the chain
//! (no duplicate, no missing event), and the book served from the rebuilt Redis
//! cache and over WebSocket equals the chain's.
//!
//! This binary holds one test, because it restarts the shared PostgreSQL server:
//! `SOLEX_TEST_PG_STOP` / `SOLEX_TEST_PG_START` (shell commands) say how; by default
//! the newest Debian cluster through pg_ctlcluster.
use std::sync::Arc;
use std::time::{Duration, Instant};

use solex_indexer::{db, ingest};
use support::{chain_book, get, Session, TestDb, Ws};

mod support;

async fn events_indexed(base: &str, market: &str) -> u64 {
    match get(base, &format!("/markets/{market}/events?limit=1000")).await {
        (200, body) => body["events"].as_array().unwrap().len() as u64,
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_postgres_restart_and_redis_flush_lose_nothing() {
    let mut stack = support::Stack::start().await;
    let base = stack.base.clone();
    let validator_url = stack.validator.rpc_url();
    let sessions = Session::open_two(&stack.validator).await;
    let m1 = sessions[0].market.keys.market.to_string();
    let url = validator_url.clone();
    let s = sessions.clone();
    let trading = tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        for s in s.iter() {
            s.trade(&mut chain);
        }
    });

    // 1. SIGKILL mid-stream (some of the first market's session indexed), then restart.
    let start = Instant::now();
    while events_indexed(&base, &m1).await < 20 {
        assert!(start.elapsed() < Duration::from_secs(60), "the indexer did not start indexing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::task::block_in_place(|| stack.kill_and_restart());

    // 2. PostgreSQL stops under the running indexer (which reports it and keeps
    //    going), then starts again.
    let start = Instant::now();
    while get_status(&base).await != 200 {
        assert!(start.elapsed() < Duration::from_secs(30), "the restarted indexer did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    solex_localnet::services::postgres("stop");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, body) = get(&base, "/health").await;
    solex_localnet::services::postgres("start");
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")), "{body}");
    assert!(stack.indexer.0.try_wait().unwrap().is_none(), "the indexer survives PostgreSQL going away");

    // 3. Redis loses everything (cached books included).
    let client = redis::Client::open(support::redis_url()).unwrap();
    let mut redis = redis::aio::ConnectionManager::new(client).await.unwrap();
    redis::cmd("FLUSHALL").query_async::<()>(&mut redis).await.unwrap();

    trading.await.unwrap();
    let chain = solex_localnet::rpc::RpcClient::new(validator_url.clone());
    for s in sessions.iter() {
        let m = s.market.keys.market;
        let (seq, bids, asks) = chain_book(&chain, &m);
        support::wait_indexed(&base, &m.to_string(), seq).await;
        // The book is served again (rebuilt into the cache from PostgreSQL) and over
        // WebSocket, equal to the chain's.
        let (_, body) = get(&base, &format!("/markets/{m}/book?depth=1000")).await;
        let (_, again) = get(&base, &format!("/markets/{m}/book?depth=1000")).await;
        assert_eq!(again["source"], "cache", "the second read comes from the rebuilt cache");
        for b in [&body, &again] {
            assert_eq!(b["seq"].as_u64(), Some(seq));
            assert_eq!((b["bids"].clone(), b["asks"].clone()), (serde_json::json!(bids), serde_json::json!(asks)));
        }
        let mut ws = Ws::connect(&base).await;
        ws.subscribe(&format!("book:{m}")).await;
        let snapshot = ws.next().await;
        assert_eq!((snapshot["type"].as_str(), snapshot["data"]["seq"].as_u64()), (Some("snapshot"), Some(seq)));
        assert_eq!(snapshot["data"]["bids"], serde_json::json!(bids));
        // The live feed flows again after the flush: a new event's diff follows the snapshot.
        let (url, s) = (validator_url.clone(), sessions.clone());
        let i = sessions.iter().position(|x| x.market.keys.market == m).unwrap();
        tokio::task::spawn_blocking(move || {
            let mut chain = solex_localnet::rpc::RpcClient::new(url);
            let (market, w) = (&s[i].market, &s[i].wallets[0]);
            solex_localnet::ledger::Ledger::send(
                &mut chain,
                &[market.deposit_ix(w, market.keys.quote_mint, 1)],
                &[&w.keypair],
            )
            .unwrap();
        })
        .await
        .unwrap();
        let update = ws.next().await;
        assert_eq!(
            (update["type"].as_str(), update["data"]["seq"].as_u64()),
            (Some("update"), Some(seq + 1)),
            "{update}"
        );
    }

    // The database equals a fresh full replay of the chain into an empty one.
    let pool = db::connect(&stack.db.url).await.unwrap();
    assert_eq!(db::gaps(&pool).await.unwrap(), vec![]);
    let fresh_db = TestDb::create().await;
    let fresh = db::connect(&fresh_db.url).await.unwrap();
    db::migrate(&fresh).await.unwrap();
    let rpc = Arc::new(solex_sdk::rpc::RpcClient::new(validator_url.clone()));
    ingest::backfill(rpc, &fresh, solex::ID, None, None).await.unwrap();
    let (ours, replayed) = (support::derived_tables(&pool).await, support::derived_tables(&fresh).await);
    for ((table, a), (_, b)) in ours.iter().zip(&replayed) {
        assert_eq!(a.len(), b.len(), "{table}: rows");
        assert_eq!(a, b, "{table}");
    }
    let events = &ours.iter().find(|(t, _)| *t == "events").unwrap().1;
    let on_chain: u64 =
        sessions.iter().map(|s| solex_localnet::scenario::market(&chain, &s.market.keys.market).event_seq).sum();
    assert_eq!(events.len() as u64, on_chain, "every event once");

    pool.close().await;
    fresh.close().await;
    fresh_db.drop_db().await;
    stack.stop().await;
}

async fn get_status(base: &str) -> u16 {
    let url = format!("{base}/health");
    tokio::task::spawn_blocking(move || match ureq::get(&url).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(_) => 0,
    })
    .await
    .unwrap()
}
