//! Ingestion has PostgreSQL connections of its own: with every connection of the
//! API's pool taken (as a flood of API requests would), `service::run` still
//! indexes a new market from a real validator within seconds.
use std::time::{Duration, Instant};

use solex_indexer::{db, service};
use solex_localnet::scenario::{market_args, TestMarket};
use solex_localnet::validator::TestValidator;

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingestion_goes_on_while_the_api_pool_is_exhausted() {
    let test_db = support::TestDb::create().await;
    let validator = TestValidator::start();
    let api_pool = db::connect_sized(&test_db.url, 1).await.unwrap();
    let held = api_pool.acquire().await.unwrap();
    let config = service::Config {
        rpc_url: validator.rpc_url(),
        ws_url: Some(validator.ws_url()),
        poll: Duration::from_millis(200),
        api_addr: format!("127.0.0.1:{}", support::free_port()).parse().unwrap(),
        redis_url: None,
        drain: Duration::from_secs(5),
    };
    let stop = solex_sdk::service::Shutdown::new();
    let indexer = tokio::spawn(service::run(api_pool.clone(), config, stop.clone()));

    let url = validator.rpc_url();
    let market = tokio::task::spawn_blocking(move || {
        TestMarket::create(&mut solex_localnet::rpc::RpcClient::new(url), market_args(1)).0.keys.market
    })
    .await
    .unwrap();
    let reader = db::connect(&test_db.url).await.unwrap();
    let start = Instant::now();
    loop {
        let indexed: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE market = $1")
            .bind(market.to_string())
            .fetch_one(&reader)
            .await
            .unwrap_or(None);
        if indexed == Some(1) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "not indexed while the API pool was exhausted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(held);
    stop.trigger();
    indexer.await.unwrap().unwrap();
    reader.close().await;
    api_pool.close().await;
    test_db.drop_db().await;
}
