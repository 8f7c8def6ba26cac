//! A batch market's events fed straight into the real derivation (`db::store`) over
//! a real PostgreSQL, for what a validator run does not easily show: a sealed
//! order's remainder rested and evicted in the same execution step, a batch that
//! crossed a resting order whose fill is consumed later, the auction closed (the
//! market continuous again), a batch event the index cannot place quarantining only
//! its market, and a rebuild from the log deriving exactly the same rows. The live
//! messages of a submission carry nothing of the order.
use serde_json::{json, Value};
use solex::state::{order_id, QueueEventKind};
use solex_indexer::channel::Kind;
use solex_indexer::db;
use solex_indexer::stored::StoredEvent;
use solex_sdk::event_types::*;
use solex_sdk::{OrderType, Pubkey, Side};
use support::{market_created, random_key, stored_event};

mod support;

fn ev<E: anchor_lang::Event>(e: &E, seq: u64) -> StoredEvent {
    stored_event(e, seq as i64)
}

fn submitted(market: Pubkey, seq: u64, trader: Pubkey, index: u32, order_seq: u64) -> SealedSubmitted {
    SealedSubmitted {
        market,
        seq,
        trader,
        batch_id: 10,
        index,
        order_seq,
        base_envelope: 0,
        quote_envelope: 5_000,
        fee: 100,
        balances: Balances { quote_available: 1_000_000 - 5_000, quote_locked: 5_000, ..Default::default() },
    }
}

fn revealed(index: u32, trader: Pubkey, order_seq: u64, price: u64, qty_lots: u64) -> Revealed {
    Revealed {
        index,
        trader,
        order_seq,
        outcome: RevealOutcome::Order {
            side: Side::Bid,
            order_type: OrderType::Limit,
            price,
            qty_lots,
            client_order_id: order_seq,
            expiry: 0,
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn settled(
    index: u32,
    trader: Pubkey,
    order_seq: u64,
    price: u64,
    qty_lots: u64,
    filled_lots: u64,
    rested_lots: u64,
) -> BatchOrderSettled {
    BatchOrderSettled {
        index,
        trader,
        order_seq,
        client_order_id: order_seq,
        void_reason: None,
        side: Side::Bid,
        order_type: OrderType::Limit,
        price,
        qty_lots,
        filled_lots,
        base_atoms: filled_lots * 1_000,
        quote_atoms: filled_lots * 1_000,
        taker_fee: 0,
        sealed_fee: 100,
        rested_lots,
        order_id: order_id(price, order_seq),
        unlocked_base: 0,
        unlocked_quote: 0,
        balances: Balances { quote_available: 990_000, ..Default::default() },
    }
}

async fn one(pool: &sqlx::PgPool, sql: &str) -> Value {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `SELECT what FROM table WHERE market = 'market' [and]`, one JSON value.
async fn select(pool: &sqlx::PgPool, market: &Pubkey, what: &str, table: &str, and: &str) -> Value {
    one(pool, &format!("SELECT {what} FROM {table} WHERE market = '{market}' {and}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_market_derives_from_its_events_and_rebuilds_the_same() {
    let (test_db, pool) = support::migrated_db().await;
    let (m, auction, keyper_set) = (random_key(), random_key(), random_key());
    let [maker, t1, t2] = [random_key(), random_key(), random_key()];
    let owners = [random_key(), random_key(), random_key()];
    let mut events = vec![ev(&market_created(m), 1)];
    for (i, (trader, owner)) in [maker, t1, t2].into_iter().zip(owners).enumerate() {
        let seq = 2 + i as u64;
        events.push(ev(&TraderCreated { market: m, seq, trader, owner, max_orders: 8 }, seq));
    }
    let created = AuctionCreated {
        market: m,
        seq: 5,
        auction,
        keyper_set,
        batch_slots: 8,
        reveal_timeout_slots: 150,
        sealed_fee: 100,
        capacity: 16,
    };
    events.push(ev(&created, 5));
    // The maker's post-only ask at 100 x2 (order seq 1).
    let ask = order_id(100, 1);
    let placed = OrderPlaced {
        market: m,
        seq: 6,
        trader: maker,
        order_id: ask,
        client_order_id: 1,
        side: Side::Ask,
        order_type: OrderType::PostOnly,
        price: 100,
        qty_lots: 2,
        filled_lots: 0,
        filled_quote: 0,
        taker_fee: 0,
        rested_lots: 2,
        locked: 2_000,
        fills: vec![],
        reduced: vec![],
        balances: Balances::default(),
    };
    events.push(ev(&placed, 6));
    // Batch 10: T1 bids 100 x3, T2 bids 90 x2.
    events.push(ev(&submitted(m, 7, t1, 0, 2), 7));
    events.push(ev(&submitted(m, 8, t2, 1, 3), 8));
    let opened = OrdersRevealed {
        market: m,
        seq: 9,
        batch_id: 10,
        key_round: 9,
        secret: [0xab; 32],
        orders: vec![revealed(0, t1, 2, 100, 3), revealed(1, t2, 3, 90, 2)],
    };
    events.push(ev(&opened, 9));
    let cleared = BatchCleared {
        market: m,
        seq: 10,
        batch_id: 10,
        price: 100,
        volume: 2,
        demand: 3,
        supply: 2,
        orders: 2,
        voids: 0,
        bid_sweep: 0,
        ask_sweep: 2,
        reference: 0,
    };
    events.push(ev(&cleared, 10));
    // The batch takes the maker's ask whole (fill 0); T1 fills 2 and rests 1 at 100;
    // T2 rests 2 at 90 and is evicted in the same step.
    let (rested, evicted) = (order_id(100, 2), order_id(90, 3));
    let executed = BatchExecuted {
        market: m,
        seq: 11,
        batch_id: 10,
        fills: vec![Fill {
            fill_seq: 0,
            maker,
            maker_order_id: ask,
            price: 100,
            qty_lots: 2,
            base_atoms: 2_000,
            quote_atoms: 2_000,
            maker_fee: 0,
            remaining_lots: 0,
        }],
        reduced: vec![Reduced {
            order_id: evicted,
            trader: t2,
            side: Side::Bid,
            qty_lots: 2,
            reason: ReduceReason::Evicted,
            unlocked: 1_800,
            remaining_lots: 0,
        }],
        orders: vec![settled(0, t1, 2, 100, 3, 2, 1), settled(1, t2, 3, 90, 2, 0, 2)],
        done: true,
    };
    events.push(ev(&executed, 11));
    let consumed = FillsConsumed {
        market: m,
        seq: 12,
        settled: vec![Settled {
            fill_seq: 0,
            maker,
            order_id: ask,
            kind: QueueEventKind::Fill,
            side: Side::Ask,
            qty_lots: 2,
            base_atoms: 2_000,
            quote_atoms: 2_000,
            maker_fee: 0,
            unlocked: 0,
            balances: Balances { quote_available: 2_000, ..Default::default() },
        }],
    };
    events.push(ev(&consumed, 12));
    // Another market whose clearing names a batch that never took an order.
    let other = random_key();
    let stray = BatchCleared { market: other, seq: 2, batch_id: 5, ..cleared.clone() };
    events.extend([ev(&market_created(other), 1), ev(&stray, 2)]);

    let stored = db::store(&pool, &events, None).await.unwrap();
    let q = db::quarantined(&pool).await.unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!((q[0].market.clone(), q[0].seq, q[0].kind.as_str()), (other.to_string(), 2, "BatchCleared"));
    assert!(q[0].error.contains("batch 5"), "{}", q[0].error);

    // What the submissions told the live feed: the count, and the owner's sealed row with no order in it.
    let messages = |seq: i64| -> Vec<(Kind, Value)> {
        stored
            .iter()
            .find(|(e, _)| e.market == m.to_string() && e.seq == seq)
            .unwrap()
            .1
            .messages
            .iter()
            .map(|l| (l.channel.kind(), l.data.clone()))
            .collect()
    };
    let first = messages(7);
    let batch = first.iter().find(|(k, _)| *k == Kind::Batches).unwrap();
    assert_eq!((batch.1["phase"].clone(), batch.1["orders"].clone()), (json!("submitted"), json!(1)));
    let order = first.iter().find(|(k, _)| *k == Kind::Orders).unwrap();
    for field in ["side", "order_type", "price", "qty_lots", "client_order_id"] {
        assert!(order.1[field].is_null(), "{field}: {}", order.1);
    }
    assert!(messages(8).iter().all(|(_, d)| !d.to_string().contains("\"bid\"")));
    let phases: Vec<String> = (7..=12)
        .flat_map(messages)
        .filter(|(k, _)| *k == Kind::Batches)
        .map(|(_, d)| d["phase"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(phases, ["submitted", "submitted", "opened", "cleared", "done"]);
    let trades = messages(10).into_iter().filter(|(k, _)| *k == Kind::Trades).collect::<Vec<_>>();
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].1["price"].clone(), trades[0].1["qty_lots"].clone()), (json!(100), json!(2)));
    assert!(messages(11).iter().all(|(k, _)| *k != Kind::Trades), "the resting fill is not a second trade");

    let mk = m.to_string();
    assert_eq!(
        select(&pool, &m, "jsonb_build_object('a', auction, 'k', keyper_set, 'c', batch_capacity)", "markets", "")
            .await,
        json!({"a": auction.to_string(), "k": keyper_set.to_string(), "c": 16})
    );
    // The fill: taken by the batch, consumed by seq 12.
    assert_eq!(
        select(
            &pool,
            &m,
            "jsonb_agg(jsonb_build_array(taker, taker_order_id, taker_side, qty_lots, consumed_seq))",
            "trades",
            ""
        )
        .await,
        json!([[auction.to_string(), "10", "bid", 2, 12]])
    );
    // The orders: the maker's filled; T1's remainder open; T2's rested and evicted in one event.
    let fields = "jsonb_object_agg(order_id, jsonb_build_array(status, filled_lots, remaining_lots, qty_lots))";
    let orders = select(&pool, &m, fields, "orders", "").await;
    assert_eq!(orders[ask.to_string()], json!(["filled", 2, 0, 2]));
    assert_eq!(orders[rested.to_string()], json!(["open", 2, 1, 3]));
    assert_eq!(orders[evicted.to_string()], json!(["cancelled", 0, 0, 2]));
    assert_eq!(
        one(&pool, &format!("SELECT jsonb_agg(change ORDER BY seq) FROM order_history WHERE order_id = '{evicted}'"))
            .await,
        json!(["evicted"])
    );
    let levels = &stored.iter().find(|(e, _)| e.market == mk && e.seq == 11).unwrap().1.levels;
    let mut levels: Vec<(Side, u64, u64)> = levels.iter().map(|l| (l.side, l.price, l.qty_lots)).collect();
    levels.sort_by_key(|l| (l.0.as_u8(), l.1));
    assert_eq!(levels, [(Side::Bid, 90, 0), (Side::Bid, 100, 1), (Side::Ask, 100, 0)]);
    // The batch and its orders.
    assert_eq!(
        select(
            &pool,
            &m,
            "jsonb_build_array(status, price, volume, imbalance, valid, voids, secret, done_seq)",
            "batches",
            ""
        )
        .await,
        json!(["done", 100, 2, 1, 2, 0, "ab".repeat(32), 11])
    );
    assert_eq!(
        select(
            &pool,
            &m,
            "jsonb_agg(jsonb_build_array(status, side, filled_lots, rested_lots, order_id) ORDER BY idx)",
            "sealed_orders",
            ""
        )
        .await,
        json!([["done", "bid", 2, 1, rested.to_string()], ["done", "bid", 0, 2, evicted.to_string()]])
    );
    // One candle trade for the batch.
    assert_eq!(
        select(&pool, &m, "jsonb_agg(jsonb_build_array(volume, trades))", "candles", "AND interval = '1m'").await,
        json!([[2, 1]])
    );

    // The auction closed: the market is continuous again, its batches kept.
    let closed = AuctionClosed { market: m, seq: 13, auction };
    db::store(&pool, &[ev(&closed, 13)], None).await.unwrap();
    assert_eq!(
        select(&pool, &m, "to_jsonb(auction IS NULL AND batch_slots IS NULL AND sealed_fee IS NULL)", "markets", "")
            .await,
        json!(true)
    );
    assert_eq!(select(&pool, &m, "to_jsonb(count(*))", "batches", "").await, json!(1));

    // A rebuild from the log derives exactly the same rows (and quarantines the same event).
    let before = support::derived_tables(&pool).await;
    db::rebuild(&pool).await.unwrap();
    assert_eq!(support::derived_tables(&pool).await, before);
    pool.close().await;
    test_db.drop_db().await;
}
