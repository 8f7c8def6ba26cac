//! An event that cannot be derived quarantines its own market and nothing else: the
//! raw event stays in the log (no gap), that market's derived rows stop just
//! before it, it shows in /health, /markets and the `solex_indexer_quarantined_markets`
//! gauge, and every other market in the same batches goes on being indexed. Events
//! are fed straight into the real derivation (`db::store`) over a real PostgreSQL,
//! with the failure injected by deleting a derived row the next event needs.
use serde_json::json;
use solex_indexer::db;
use solex_indexer::stored::StoredEvent;
use solex_sdk::event_types::{Balances, Deposited, TraderCreated};
use solex_sdk::Pubkey;
use support::{get, market_created, random_key, stored_event};

mod support;

/// A market with one trader: its events by sequence number.
struct Market {
    key: Pubkey,
    trader: Pubkey,
    owner: Pubkey,
    quote_mint: Pubkey,
}

impl Market {
    fn new() -> Self {
        Self { key: random_key(), trader: random_key(), owner: random_key(), quote_mint: random_key() }
    }

    /// seq 1 creates the market, seq 2 the trader.
    fn opening(&self) -> Vec<StoredEvent> {
        let created = solex_sdk::event_types::MarketCreated { quote_mint: self.quote_mint, ..market_created(self.key) };
        let trader = TraderCreated { market: self.key, seq: 2, trader: self.trader, owner: self.owner, max_orders: 8 };
        vec![stored_event(&created, 1), stored_event(&trader, 2)]
    }

    /// A quote deposit at `seq` leaving `available`.
    fn deposit(&self, seq: u64, available: u64) -> StoredEvent {
        let balances = Balances { quote_available: available, ..Default::default() };
        let d = Deposited { market: self.key, seq, trader: self.trader, mint: self.quote_mint, amount: 1, balances };
        stored_event(&d, seq as i64)
    }
}

async fn quote_available(pool: &sqlx::PgPool, m: &Market) -> Option<u64> {
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT to_jsonb(quote_available) FROM traders WHERE market = $1 AND trader = $2")
            .bind(m.key.to_string())
            .bind(m.trader.to_string())
            .fetch_optional(pool)
            .await
            .unwrap();
    v.and_then(|v| v.as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_cannot_be_derived_quarantines_only_its_market() {
    let (test_db, pool) = support::migrated_db().await;
    let (a, b) = (Market::new(), Market::new());
    let first: Vec<StoredEvent> = [a.opening(), b.opening(), vec![a.deposit(3, 10), b.deposit(3, 10)]].concat();
    assert_eq!(db::store(&pool, &first, None).await.unwrap().len(), 6);

    // A's trader row goes missing from the index, so A's next deposit cannot be derived.
    sqlx::query("DELETE FROM traders WHERE market = $1").bind(a.key.to_string()).execute(&pool).await.unwrap();
    // One batch, the two markets interleaved, A's bad event first.
    let second = vec![a.deposit(4, 20), b.deposit(4, 20), a.deposit(5, 30), b.deposit(5, 30)];
    let stored = db::store(&pool, &second, None).await.expect("one market's bad event fails no batch");
    let quarantined: Vec<(i64, bool)> =
        stored.iter().filter(|(e, _)| e.market == a.key.to_string()).map(|(e, c)| (e.seq, c.quarantined)).collect();
    assert_eq!(quarantined, vec![(4, true), (5, true)], "A's events from the bad one on are logged, not derived");
    assert!(stored.iter().filter(|(e, _)| e.market == b.key.to_string()).all(|(_, c)| !c.quarantined));
    assert_eq!(quote_available(&pool, &b).await, Some(30), "B goes on being derived");

    // A later batch: A is still only logged, B still derived.
    let third = vec![a.deposit(6, 40), b.deposit(6, 40)];
    assert_eq!(db::store(&pool, &third, None).await.unwrap().len(), 2);
    assert_eq!(quote_available(&pool, &b).await, Some(40));
    let q = db::quarantined(&pool).await.unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!((q[0].market.as_str(), q[0].seq, q[0].kind.as_str()), (a.key.to_string().as_str(), 4, "Deposited"));
    assert!(q[0].error.contains("never created"), "{}", q[0].error);

    // The raw log holds every event of both markets, with no gap.
    assert_eq!(db::gaps(&pool).await.unwrap(), vec![]);
    let logged = db::markets(&pool).await.unwrap();
    assert!(logged.iter().all(|(_, max, count)| (*max, *count) == (6, 6)), "{logged:?}");

    // Visible through the API.
    let base = support::serve(support::app(pool.clone()).await).await;
    let (status, health) = get(&base, "/health").await;
    assert_eq!((status, &health["status"]), (200, &json!("degraded")), "{health}");
    assert_eq!(health["quarantined"][0]["market"], json!(a.key.to_string()));
    assert_eq!(health["quarantined"][0]["seq"], json!(4));
    let (_, markets) = get(&base, "/markets").await;
    let by_key =
        |k: &Pubkey| markets["markets"].as_array().unwrap().iter().find(|m| m["market"] == k.to_string()).cloned();
    assert_eq!(by_key(&a.key).unwrap()["quarantined"]["seq"], json!(4), "{markets}");
    assert_eq!(by_key(&a.key).unwrap()["quarantined"]["kind"], json!("Deposited"));
    assert_eq!(by_key(&b.key).unwrap()["quarantined"], json!(null));
    // A's book reflects what was derived (seq 3); its event feed, the whole log.
    let (_, book) = get(&base, &format!("/markets/{}/book", a.key)).await;
    assert_eq!(book["seq"], json!(3), "{book}");
    let (_, events) = get(&base, &format!("/markets/{}/events", a.key)).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 6);
    let metrics_url = format!("{base}/metrics");
    let metrics = tokio::task::spawn_blocking(move || ureq::get(&metrics_url).call().unwrap().into_string().unwrap())
        .await
        .unwrap();
    assert!(metrics.contains("\nsolex_indexer_quarantined_markets 1\n"), "{metrics}");

    // Rebuilding from the log (the fix for a lost row) derives A in full again.
    db::rebuild(&pool).await.unwrap();
    assert_eq!(db::quarantined(&pool).await.unwrap(), vec![]);
    assert_eq!((quote_available(&pool, &a).await, quote_available(&pool, &b).await), (Some(40), Some(40)));
    let (_, health) = get(&base, "/health").await;
    assert_eq!(health, json!({"status": "ok", "database": "ok", "redis": "ok"}));

    pool.close().await;
    test_db.drop_db().await;
}

/// Quarantine is deterministic: rebuilding a database whose event log holds an
/// event no derivation can take (here an order cancelled that was never placed)
/// quarantines that market again at that event, and the rest of the rebuild holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_quarantines_the_same_event_again_and_derives_the_rest() {
    let (test_db, pool) = support::migrated_db().await;
    let (a, b) = (Market::new(), Market::new());
    let phantom = solex_sdk::event_types::OrdersCancelled {
        market: a.key,
        seq: 3,
        trader: a.trader,
        orders: vec![solex_sdk::event_types::CancelledOrder {
            order_id: 42,
            client_order_id: 0,
            side: solex_sdk::Side::Bid,
            price: 1,
            qty_lots: 1,
            unlocked: 10,
        }],
        balances: Balances { quote_available: 10, ..Default::default() },
    };
    let events = [a.opening(), b.opening(), vec![stored_event(&phantom, 3), a.deposit(4, 5), b.deposit(3, 7)]].concat();
    assert_eq!(db::store(&pool, &events, None).await.unwrap().len(), 7);
    let before = support::derived_tables(&pool).await;
    let q = db::quarantined(&pool).await.unwrap();
    assert_eq!(q.iter().map(|q| (q.market.clone(), q.seq)).collect::<Vec<_>>(), vec![(a.key.to_string(), 3)]);
    assert_eq!(quote_available(&pool, &a).await, Some(0), "A stopped before seq 3");
    assert_eq!(quote_available(&pool, &b).await, Some(7));

    db::rebuild(&pool).await.unwrap();
    assert_eq!(support::derived_tables(&pool).await, before, "a rebuild reproduces the index, quarantine included");
    pool.close().await;
    test_db.drop_db().await;
}
