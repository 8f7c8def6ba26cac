//! u64 values above i64::MAX (a lot size, a deposit, a price) are indexed exactly
//! and served by the REST API as the same JSON numbers, digit for digit: once with
//! events fed straight into the derivation over a real PostgreSQL, once from a real
//! validator through `solex-indexer run`.
use serde_json::{json, Value};
use solex_indexer::db;
use solex_indexer::numeric::Numeric;
use solex_sdk::event_types::*;
use solex_sdk::{order_id, OrderType, PlaceOrderArgs, Pubkey, QueueEventKind, Side};
use support::{get, market_created, random_key, stored_event};

mod support;

/// One lot: more base atoms than an i64 holds.
const LOT: u64 = (1 << 63) + 1;
/// A price in ticks (of 1 quote atom) above i64::MAX whose one-lot notional fits a u64.
const PRICE: u64 = 1 << 63;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numerics_round_trip_exactly_through_postgresql() {
    let (test_db, pool) = support::migrated_db().await;
    let edges = [0, 1, 9_999, 10_000, 10_001, i64::MAX as i128 + 1, u64::MAX as i128, -5, -10_000, 10i128.pow(38)];
    for v in edges {
        let back: Numeric = sqlx::query_scalar("SELECT $1::NUMERIC").bind(Numeric(v)).fetch_one(&pool).await.unwrap();
        let text: String =
            sqlx::query_scalar("SELECT $1::NUMERIC::TEXT").bind(Numeric(v)).fetch_one(&pool).await.unwrap();
        assert_eq!((back, text), (Numeric(v), v.to_string()));
    }
    // The u64 domain holds exactly the u64 range.
    for (v, fits) in [(0, true), (u64::MAX as i128, true), (u64::MAX as i128 + 1, false), (-1, false)] {
        let r = sqlx::query("SELECT $1::u64").bind(Numeric(v)).execute(&pool).await;
        assert_eq!(r.is_ok(), fits, "{v}");
    }
    // JSON: a number while it fits a u64, a decimal string beyond (a running total).
    assert_eq!(serde_json::to_string(&Numeric(u64::MAX as i128)).unwrap(), u64::MAX.to_string());
    assert_eq!(serde_json::to_value(Numeric(u64::MAX as i128 + 1)).unwrap(), json!("18446744073709551616"));
    pool.close().await;
    test_db.drop_db().await;
}

fn balances(body: &Value, market: &Pubkey) -> [Option<u64>; 4] {
    let row = body["balances"].as_array().unwrap().iter().find(|b| b["market"] == market.to_string()).unwrap();
    ["base_available", "base_locked", "quote_available", "quote_locked"].map(|k| row[k].as_u64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u64_values_above_i64_max_are_derived_and_served_exactly() {
    let (test_db, pool) = support::migrated_db().await;
    let market = random_key();
    let created = MarketCreated { base_lot_size: LOT, quote_tick_size: 1, ..market_created(market) };
    let [(maker, maker_owner), (taker, taker_owner)] = [(); 2].map(|_| (random_key(), random_key()));
    let trader = |seq, trader, owner| TraderCreated { market, seq, trader, owner, max_orders: 8 };
    let deposit = |seq, trader, mint, amount, balances| Deposited { market, seq, trader, mint, amount, balances };
    let held = |base_available, base_locked, quote_available| Balances {
        base_available,
        base_locked,
        quote_available,
        quote_locked: 0,
    };
    let ask_id = order_id(PRICE, 1);
    // A resting ask of one lot at PRICE, then an IOC bid limited at u64::MAX that takes it.
    let ask = OrderPlaced {
        market,
        seq: 6,
        trader: maker,
        order_id: ask_id,
        client_order_id: u64::MAX,
        side: Side::Ask,
        order_type: OrderType::Limit,
        price: PRICE,
        qty_lots: 1,
        filled_lots: 0,
        filled_quote: 0,
        taker_fee: 0,
        rested_lots: 1,
        locked: LOT,
        fills: vec![],
        reduced: vec![],
        balances: held(0, LOT, 0),
    };
    let bid = OrderPlaced {
        seq: 7,
        trader: taker,
        order_id: order_id(u64::MAX, 2),
        side: Side::Bid,
        order_type: OrderType::ImmediateOrCancel,
        price: u64::MAX,
        filled_lots: 1,
        filled_quote: PRICE,
        rested_lots: 0,
        locked: 0,
        fills: vec![Fill {
            fill_seq: 0,
            maker,
            maker_order_id: ask_id,
            price: PRICE,
            qty_lots: 1,
            base_atoms: LOT,
            quote_atoms: PRICE,
            maker_fee: 0,
            remaining_lots: 0,
        }],
        balances: held(LOT, 0, u64::MAX - PRICE),
        ..ask.clone()
    };
    let settled = Settled {
        fill_seq: 0,
        maker,
        order_id: ask_id,
        kind: QueueEventKind::Fill,
        side: Side::Ask,
        qty_lots: 1,
        base_atoms: LOT,
        quote_atoms: PRICE,
        maker_fee: 0,
        unlocked: 0,
        balances: held(0, 0, PRICE),
    };
    let consumed = FillsConsumed { market, seq: 8, settled: vec![settled] };
    let opening = vec![
        stored_event(&created, 1),
        stored_event(&trader(2, maker, maker_owner), 2),
        stored_event(&trader(3, taker, taker_owner), 3),
        stored_event(&deposit(4, maker, created.base_mint, LOT, held(LOT, 0, 0)), 4),
        stored_event(&deposit(5, taker, created.quote_mint, u64::MAX, held(0, 0, u64::MAX)), 5),
        stored_event(&ask, 6),
    ];
    assert_eq!(db::store(&pool, &opening, None).await.expect("derived, not refused").len(), 6);
    assert_eq!(db::quarantined(&pool).await.unwrap(), vec![]);

    let base = support::serve(support::app(pool.clone()).await).await;
    let (_, markets) = get(&base, "/markets").await;
    assert_eq!(markets["markets"][0]["base_lot_size"].as_u64(), Some(LOT), "{markets}");
    let (_, book) = get(&base, &format!("/markets/{market}/book")).await;
    assert_eq!((&book["seq"], &book["asks"]), (&json!(6), &json!([[PRICE, 1]])), "{book}");
    let mut ws = support::Ws::connect(&base).await;
    ws.subscribe(&format!("book:{market}")).await;
    assert_eq!(ws.next().await["data"]["asks"], json!([[PRICE, 1]]));
    let (_, body) = get(&base, &format!("/traders/{maker_owner}/balances")).await;
    assert_eq!(balances(&body, &market), [Some(0), Some(LOT), Some(0), Some(0)]);

    let rest = [stored_event(&bid, 7), stored_event(&consumed, 8)];
    assert_eq!(db::store(&pool, &rest, None).await.unwrap().len(), 2);
    let (_, body) = get(&base, &format!("/traders/{maker_owner}/balances")).await;
    assert_eq!(balances(&body, &market), [Some(0), Some(0), Some(PRICE), Some(0)]);
    let (_, body) = get(&base, &format!("/traders/{taker_owner}/balances")).await;
    assert_eq!(balances(&body, &market), [Some(LOT), Some(0), Some(u64::MAX - PRICE), Some(0)]);
    let (_, trades) = get(&base, &format!("/markets/{market}/trades")).await;
    assert_eq!(
        (trades["trades"][0]["price"].as_u64(), trades["trades"][0]["qty_lots"].as_u64()),
        (Some(PRICE), Some(1))
    );
    let (_, candles) = get(&base, &format!("/markets/{market}/candles")).await;
    let c = &candles["candles"][0];
    assert_eq!(
        [&c["open"], &c["high"], &c["low"], &c["close"], &c["volume"]],
        [&json!(PRICE), &json!(PRICE), &json!(PRICE), &json!(PRICE), &json!(1)]
    );
    let (_, order) = get(&base, &format!("/markets/{market}/orders/{}", bid.order_id)).await;
    assert_eq!((order["price"].as_u64(), order["status"].as_str()), (Some(u64::MAX), Some("filled")), "{order}");
    let (_, order) = get(&base, &format!("/markets/{market}/orders/{ask_id}")).await;
    assert_eq!(order["client_order_id"], json!(u64::MAX.to_string()), "as before: a decimal string");

    // A rebuild from the log and the digest agree with what was derived live.
    let (before, digest) = (support::derived_tables(&pool).await, db::digest(&pool).await.unwrap());
    db::rebuild(&pool).await.unwrap();
    assert_eq!(support::derived_tables(&pool).await, before);
    assert_eq!(db::digest(&pool).await.unwrap(), digest);
    pool.close().await;
    test_db.drop_db().await;
}

/// On a real validator: a market whose lot is 2^63 + 1 base atoms, a deposit of one
/// lot, an ask at 2^63 ticks of 1 quote atom and a bid that takes it, indexed by the
/// real `solex-indexer run`; the API's balances equal the chain's trader accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_above_i64_max_on_chain_are_indexed_exactly() {
    use solex_localnet::ledger::Ledger;
    use solex_localnet::scenario::{market_args, TestMarket};
    use solex_localnet::{Keypair, Signer};
    use solex_sdk::instructions as ix;

    let stack = support::Stack::start().await;
    let url = stack.validator.rpc_url();
    let (market, wallets) = tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        let args = solex_sdk::CreateMarketArgs { base_lot_size: LOT, quote_tick_size: 1, ..market_args(1) };
        let (m, _) = TestMarket::create(&mut chain, args);
        let maker = m.wallet(&mut chain, LOT, 0);
        let taker = m.wallet(&mut chain, 0, PRICE);
        chain.send(&[m.deposit_ix(&maker, m.keys.base_mint, LOT)], &[&maker.keypair]).unwrap();
        chain.send(&[m.deposit_ix(&taker, m.keys.quote_mint, PRICE)], &[&taker.keypair]).unwrap();
        let ask = PlaceOrderArgs::limit(Side::Ask, PRICE, 1, 1);
        chain.send(&[ix::place_order(maker.pubkey(), &m.keys, ask)], &[&maker.keypair]).unwrap();
        let take = PlaceOrderArgs {
            order_type: OrderType::ImmediateOrCancel,
            ..PlaceOrderArgs::limit(Side::Bid, PRICE, 1, 2)
        };
        chain.send(&[ix::place_order(taker.pubkey(), &m.keys, take)], &[&taker.keypair]).unwrap();
        let crank = Keypair::new();
        chain.airdrop(&crank.pubkey(), 1_000_000_000);
        m.consume_all(&mut chain, &crank);
        (m.keys.market, [maker, taker])
    })
    .await
    .unwrap();
    let chain = stack.validator.rpc();
    let seq = solex_localnet::scenario::market(&chain, &market).event_seq;
    support::wait_indexed(&stack.base, &market.to_string(), seq).await;

    let (_, markets) = get(&stack.base, "/markets").await;
    assert_eq!(markets["markets"][0]["base_lot_size"].as_u64(), Some(LOT), "{markets}");
    for w in &wallets {
        let t = solex_localnet::scenario::trader_account(&chain, &market, &w.pubkey());
        let (_, body) = get(&stack.base, &format!("/traders/{}/balances", w.pubkey())).await;
        let chain_balances = [t.base_available, t.base_locked, t.quote_available, t.quote_locked].map(Some);
        assert_eq!(balances(&body, &market), chain_balances, "balances of {}", w.pubkey());
    }
    let (_, trades) = get(&stack.base, &format!("/markets/{market}/trades")).await;
    assert_eq!(trades["trades"][0]["price"].as_u64(), Some(PRICE), "{trades}");
    let (_, health) = get(&stack.base, "/health").await;
    assert_eq!(health["status"], "ok", "{health}");
    stack.stop().await;
}
