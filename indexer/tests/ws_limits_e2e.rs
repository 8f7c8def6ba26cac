//! WebSocket limits, over the real API with a real PostgreSQL and Redis: one
//! connection holds at most `MAX_SUBSCRIPTIONS` channels, and a market channel of a
//! market the index does not know is refused before it reads a book or writes to
//! Redis.
use serde_json::json;
use solex_indexer::ws::MAX_SUBSCRIPTIONS;
use solex_sdk::Pubkey;
use support::{market_created, random_key, stored_event, Ws};

mod support;

/// Every Redis key of `market`'s cached book.
async fn cached_book_keys(market: &Pubkey) -> Vec<String> {
    let client = redis::Client::open(support::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("KEYS").arg(format!("solex:book:{market}:*")).query_async(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_holds_at_most_64_subscriptions() {
    let (test_db, pool) = support::migrated_db().await;
    let base = support::serve(support::app(pool.clone()).await).await;
    let mut ws = Ws::connect(&base).await;
    let channels: Vec<String> = (0..MAX_SUBSCRIPTIONS).map(|_| format!("orders:{}", random_key())).collect();
    for channel in &channels {
        ws.subscribe(channel).await;
    }
    let extra = format!("fills:{}", random_key());
    ws.send(json!({"op": "subscribe", "channel": extra})).await;
    let refused = ws.next().await;
    assert_eq!(
        (&refused["op"], &refused["code"], &refused["channel"]),
        (&json!("error"), &json!("too_many_subscriptions"), &json!(extra))
    );
    assert!(refused["message"].as_str().unwrap().contains("64"), "{refused}");
    // Subscribing again to a channel it holds costs nothing; freeing one makes room.
    ws.subscribe(&channels[0]).await;
    ws.send(json!({"op": "unsubscribe", "channel": channels[1]})).await;
    assert_eq!(ws.next().await["op"], "unsubscribed");
    ws.subscribe(&extra).await;
    // The connection is still served.
    ws.send(json!({"op": "dance"})).await;
    assert_eq!(ws.next().await["code"], "invalid_op");
    assert_eq!(MAX_SUBSCRIPTIONS, 64);
    pool.close().await;
    test_db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_book_subscription_to_an_unknown_market_is_refused_and_writes_nothing() {
    let (test_db, pool) = support::migrated_db().await;
    let known = random_key();
    db_store(&pool, known).await;
    let base = support::serve(support::app(pool.clone()).await).await;
    let before = support::derived_tables(&pool).await;
    let mut ws = Ws::connect(&base).await;

    let unknown = random_key();
    for kind in ["book", "events", "trades", "candles"] {
        let channel = format!("{kind}:{unknown}");
        ws.send(json!({"op": "subscribe", "channel": channel})).await;
        let refused = ws.next().await;
        assert_eq!((&refused["code"], &refused["channel"]), (&json!("unknown_market"), &json!(channel)), "{refused}");
    }
    // Nothing was cached for it, and it holds no subscription: no book message follows.
    assert_eq!(cached_book_keys(&unknown).await, Vec::<String>::new());
    assert_eq!(ws.next_within(1).await, None);
    assert_eq!(support::derived_tables(&pool).await, before);

    // A known market's book is served as before (and cached).
    ws.subscribe(&format!("book:{known}")).await;
    let snapshot = ws.next().await;
    assert_eq!((&snapshot["type"], &snapshot["data"]["seq"]), (&json!("snapshot"), &json!(1)), "{snapshot}");
    assert!(!cached_book_keys(&known).await.is_empty());
    pool.close().await;
    test_db.drop_db().await;
}

/// Indexes `market`'s MarketCreated.
async fn db_store(pool: &sqlx::PgPool, market: Pubkey) {
    let events = [stored_event(&market_created(market), 1)];
    assert_eq!(solex_indexer::db::store(pool, &events, None).await.unwrap().len(), 1);
}
