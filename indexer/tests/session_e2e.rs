//! A scripted trading session on a real validator, indexed by the real
//! `solex-indexer run` into a real PostgreSQL and Redis: the API's balances, open
//! orders, book, trades and candles equal what the chain says, field by field; a
//! WebSocket client rebuilds the book from a snapshot and every diff, in sequence;
//! and rebuilding the derived tables from the event log changes nothing.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use solex_indexer::db;
use solex_localnet::ledger::{Landed, Ledger};
use solex_localnet::scenario::{book, market};
use solex_localnet::Signer;
use solex_sdk::accounts::decode_trader;
use solex_sdk::events::SolexEvent;
use solex_sdk::{order_id, pda, Side};
use support::{chain_book, get, Session, Ws};

mod support;

/// Applies book messages to a local book; checks each `seq` follows the last.
#[derive(Default, Debug)]
struct LocalBook {
    seq: u64,
    bids: BTreeMap<u64, u64>,
    asks: BTreeMap<u64, u64>,
    updates: usize,
}

impl LocalBook {
    fn apply(&mut self, msg: &Value) {
        let data = &msg["data"];
        let seq = data["seq"].as_u64().unwrap();
        match msg["type"].as_str() {
            Some("snapshot") => {
                (self.bids, self.asks) = (BTreeMap::new(), BTreeMap::new());
            }
            Some("update") => {
                assert_eq!(seq, self.seq + 1, "book diffs arrive in sequence, none missed: {msg}");
                self.updates += 1;
            }
            other => panic!("unexpected book message {other:?}: {msg}"),
        }
        self.seq = seq;
        for (levels, book) in [(&data["bids"], &mut self.bids), (&data["asks"], &mut self.asks)] {
            for l in levels.as_array().unwrap() {
                let (p, q) = (l[0].as_u64().unwrap(), l[1].as_u64().unwrap());
                if q == 0 {
                    book.remove(&p);
                } else {
                    book.insert(p, q);
                }
            }
        }
    }

    fn levels(&self) -> (Vec<[u64; 2]>, Vec<[u64; 2]>) {
        (self.bids.iter().rev().map(|(p, q)| [*p, *q]).collect(), self.asks.iter().map(|(p, q)| [*p, *q]).collect())
    }
}

fn as_levels(v: &Value) -> Vec<[u64; 2]> {
    v.as_array().unwrap().iter().map(|l| [l[0].as_u64().unwrap(), l[1].as_u64().unwrap()]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_equals_the_chain_field_by_field() {
    let stack = support::Stack::start().await;
    let (validator, base) = (&stack.validator, stack.base.clone());
    let sessions = Session::open_two(validator).await;
    let m1 = sessions[0].market.keys.market.to_string();
    let owner_a = sessions[0].wallets[0].pubkey().to_string();

    // Live clients from before the trading starts: the books of both markets, and
    // the first market's trades and wallet A's balances and orders.
    let mut book_ws = Ws::connect(&base).await;
    let mut books: BTreeMap<String, LocalBook> = BTreeMap::new();
    for s in sessions.iter() {
        let m = s.market.keys.market.to_string();
        book_ws.subscribe(&format!("book:{m}")).await;
        let snapshot = book_ws.next().await;
        assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
        books.entry(m).or_default().apply(&snapshot);
    }
    let mut feed_ws = Ws::connect(&base).await;
    for channel in [format!("trades:{m1}"), format!("balances:{owner_a}"), format!("orders:{owner_a}")] {
        feed_ws.subscribe(&channel).await;
    }

    let url = validator.rpc_url();
    let s = sessions.clone();
    let landed: Vec<Vec<Landed>> = tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        s.iter().map(|s| s.trade(&mut chain)).collect()
    })
    .await
    .unwrap();

    let chain = solex_localnet::rpc::RpcClient::new(validator.rpc_url());
    for (s, landed) in sessions.iter().zip(&landed) {
        let m = s.market.keys.market;
        let (seq, chain_bids, chain_asks) = chain_book(&chain, &m);
        support::wait_indexed(&base, &m.to_string(), seq).await;

        // Balances: every wallet's four balances equal its trader account's.
        for w in &s.wallets {
            let (t, slots) = decode_trader(&chain.account_data(&pda::trader(&m, &w.pubkey())).unwrap()).unwrap();
            let (status, body) = get(&base, &format!("/traders/{}/balances", w.pubkey())).await;
            assert_eq!(status, 200);
            let row = body["balances"].as_array().unwrap().iter().find(|b| b["market"] == m.to_string()).unwrap();
            assert_eq!(
                [&row["base_available"], &row["base_locked"], &row["quote_available"], &row["quote_locked"]],
                [t.base_available, t.base_locked, t.quote_available, t.quote_locked].map(Value::from).each_ref(),
                "balances of {} on {m}",
                w.pubkey()
            );
            assert_eq!(row["delegate"].is_null(), t.delegate == solex_sdk::Pubkey::default());
            // Open orders: the trader's slots, with the lots the chain's book holds for each.
            let (_, body) = get(&base, &format!("/traders/{}/orders?market={m}&status=open", w.pubkey())).await;
            let api: BTreeSet<(String, String, u64)> = body["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    let id = o["order_id"].as_str().unwrap().to_string();
                    (id, o["side"].as_str().unwrap().to_string(), o["remaining_lots"].as_u64().unwrap())
                })
                .collect();
            let mk = market(&chain, &m);
            let resting: Vec<_> = [(Side::Bid, book(&chain, &mk.bids)), (Side::Ask, book(&chain, &mk.asks))]
                .into_iter()
                .flat_map(|(side, b)| b.orders().iter().map(|o| (side, *o)).collect::<Vec<_>>())
                .collect();
            let on_chain: BTreeSet<(String, String, u64)> = slots
                .iter()
                .map(|slot| {
                    let id = order_id(slot.price, slot.seq);
                    let (side, o) = resting.iter().find(|(_, o)| o.id() == id).expect("a slot's order is on the book");
                    (id.to_string(), side.as_str().to_string(), o.qty_lots)
                })
                .collect();
            assert_eq!(api, on_chain, "open orders of {}", w.pubkey());
        }

        // The book, at the chain's sequence number.
        let (_, body) = get(&base, &format!("/markets/{m}/book?depth=1000")).await;
        assert_eq!(body["seq"].as_u64(), Some(seq));
        assert_eq!((as_levels(&body["bids"]), as_levels(&body["asks"])), (chain_bids.clone(), chain_asks.clone()));
        assert!(!chain_bids.is_empty() && !chain_asks.is_empty(), "the session leaves both sides non-empty");

        // Trades: every fill the chain reported, newest first, field by field.
        let mut fills = vec![];
        for l in landed {
            for e in &l.events {
                if let SolexEvent::OrderPlaced(o) = e {
                    let time = chain.transaction(&l.signature).unwrap()["blockTime"].as_i64().unwrap();
                    for f in &o.fills {
                        let side = o.side.as_str().to_string();
                        fills.push((f.fill_seq, f.price, f.qty_lots, f.maker_fee, side, f.maker, time));
                    }
                }
            }
        }
        assert_eq!(fills.len(), 5, "the session's fills");
        let (_, body) = get(&base, &format!("/markets/{m}/trades?limit=1000")).await;
        let api: Vec<_> = body["trades"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .map(|t| {
                (
                    t["fill_seq"].as_u64().unwrap(),
                    t["price"].as_u64().unwrap(),
                    t["qty_lots"].as_u64().unwrap(),
                    t["maker_fee"].as_i64().unwrap(),
                    t["taker_side"].as_str().unwrap().to_string(),
                    t["maker"].as_str().unwrap().parse().unwrap(),
                    0,
                )
            })
            .collect();
        let without_time: Vec<_> = fills.iter().map(|f| (f.0, f.1, f.2, f.3, f.4.clone(), f.5, 0)).collect();
        assert_eq!(api, without_time);

        // Candles: OHLCV per interval from the chain's fills and block times.
        for (interval, seconds) in solex_indexer::derive::INTERVALS {
            let mut expected: BTreeMap<i64, [u64; 6]> = BTreeMap::new();
            for (_, price, qty, _, _, _, time) in &fills {
                let c = expected.entry(time / seconds * seconds).or_insert([*price, *price, *price, *price, 0, 0]);
                c[1] = c[1].max(*price);
                c[2] = c[2].min(*price);
                c[3] = *price;
                c[4] += qty;
                c[5] += 1;
            }
            let (_, body) = get(&base, &format!("/markets/{m}/candles?interval={interval}&limit=1000")).await;
            let api: BTreeMap<i64, [u64; 6]> = body["candles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let f = |k: &str| c[k].as_u64().unwrap();
                    (
                        c["time"].as_i64().unwrap(),
                        [f("open"), f("high"), f("low"), f("close"), f("volume"), f("trades")],
                    )
                })
                .collect();
            assert_eq!(api, expected, "{interval} candles of {m}");
        }
    }

    // The book channel: a snapshot, then one diff per event in sequence; the book
    // rebuilt from them equals the REST snapshot (and so the chain's).
    let total: u64 = sessions.iter().map(|s| market(&chain, &s.market.keys.market).event_seq).sum();
    while books.values().map(|b| b.seq).sum::<u64>() < total {
        let msg = book_ws.next().await;
        let market = msg["channel"].as_str().and_then(|c| c.strip_prefix("book:")).unwrap();
        books.get_mut(market).unwrap().apply(&msg);
    }
    for (m, local) in &books {
        let (_, body) = get(&base, &format!("/markets/{m}/book?depth=1000")).await;
        assert_eq!(local.seq, body["seq"].as_u64().unwrap());
        assert_eq!(local.levels(), (as_levels(&body["bids"]), as_levels(&body["asks"])), "book of {m}");
        assert!(local.updates > 20, "{m}: the book was built from diffs, not only the snapshot");
    }

    // Trader and trade channels: every fill of the first market, and A's last
    // balances message equals the API.
    let mut trades = 0;
    let mut last_balances = Value::Null;
    let mut a_orders = BTreeSet::new();
    while let Some(msg) = feed_ws.next_within(2).await {
        match msg["channel"].as_str().unwrap().split(':').next().unwrap() {
            "trades" => trades += 1,
            "balances" if msg["data"]["market"] == m1 => last_balances = msg["data"].clone(),
            "orders" => {
                a_orders.insert(msg["data"]["order_id"].as_str().unwrap().to_string());
            }
            _ => {}
        }
    }
    assert_eq!(trades, 5);
    let (_, body) = get(&base, &format!("/traders/{owner_a}/balances")).await;
    let row = body["balances"].as_array().unwrap().iter().find(|b| b["market"] == m1).unwrap().clone();
    assert_eq!(last_balances, row);
    let (_, body) = get(&base, &format!("/traders/{owner_a}/orders?market={m1}")).await;
    let all: BTreeSet<String> =
        body["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_string()).collect();
    assert!(!all.is_empty() && all.iter().all(|id| a_orders.contains(id)), "every order of A was announced");

    // One order's history: B's bid at 104 was placed (filling one lot), cut by its
    // own ask (decrement), then cancelled.
    let bid_104 = support::placed_id(&landed[0][11]);
    let (status, body) = get(&base, &format!("/markets/{m1}/orders/{bid_104}")).await;
    assert_eq!(status, 200, "{body}");
    let changes: Vec<(&str, &str, u64, u64)> = body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let n = |k: &str| h[k].as_u64().unwrap();
            (h["change"].as_str().unwrap(), h["status"].as_str().unwrap(), n("filled_lots"), n("remaining_lots"))
        })
        .collect();
    assert_eq!(changes, vec![("placed", "open", 1, 2), ("self_trade", "open", 1, 1), ("cancel", "cancelled", 1, 0)]);
    assert_eq!(body["status"], json!("cancelled"));

    // A transaction indexed at `confirmed` that the cluster then drops (a fork): one
    // is injected as if indexed, a deposit to A after the market's last event. The
    // running indexer's finality check finds the cluster does not know it and rolls
    // it back: every derived table returns to what it was.
    let pool = db::connect(&stack.db.url).await.unwrap();
    let before = support::derived_tables(&pool).await;
    let (last_seq, first_slot): (i64, i64) = sqlx::query_as("SELECT MAX(seq), MIN(slot) FROM events WHERE market = $1")
        .bind(&m1)
        .fetch_one(&pool)
        .await
        .unwrap();
    let a = &sessions[0].wallets[0];
    let keys = &sessions[0].market.keys;
    let a_trader = pda::trader(&keys.market, &a.pubkey());
    let (t, _) = decode_trader(&chain.account_data(&a_trader).unwrap()).unwrap();
    let forked = solex_sdk::event_types::Deposited {
        market: keys.market,
        seq: last_seq as u64 + 1,
        trader: a_trader,
        mint: keys.quote_mint,
        amount: 5,
        balances: solex_sdk::event_types::Balances {
            quote_available: t.quote_available + 5,
            ..solex_sdk::event_types::Balances::of(&t)
        },
    };
    let data = [anchor_lang::event::EVENT_IX_TAG_LE, &anchor_lang::Event::data(&forked)].concat();
    let signature = solex_localnet::Keypair::new().sign_message(b"a fork").to_string();
    let stored = solex_indexer::stored::StoredEvent::decode(data, signature, first_slot, None).unwrap();
    assert_eq!((&stored.market, stored.seq, stored.kind), (&m1, last_seq + 1, "Deposited"));
    assert_eq!(db::store(&pool, &[stored], None).await.unwrap().len(), 1);
    let start = std::time::Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE market = $1 AND seq > $2")
            .bind(&m1)
            .bind(last_seq)
            .fetch_one(&pool)
            .await
            .unwrap();
        if n == 0 {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(90), "the dropped transaction was not rolled back");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(support::derived_tables(&pool).await, before, "a rollback restores the derived tables");
    let metrics =
        tokio::task::block_in_place(|| ureq::get(&format!("{base}/metrics")).call().unwrap().into_string().unwrap());
    assert!(metrics.contains("solex_indexer_rolled_back_events_total 1"), "{metrics}");
    let finalized: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE finalized").fetch_one(&pool).await.unwrap();
    assert!(finalized > 0, "the finality check marks finalized events");

    // The derived tables are a function of the event log.
    db::rebuild(&pool).await.unwrap();
    assert_eq!(support::derived_tables(&pool).await, before);
    assert_eq!(db::gaps(&pool).await.unwrap(), vec![]);

    pool.close().await;
    stack.stop().await;
}
