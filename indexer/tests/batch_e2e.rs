//! A batch market (issue 17) on a real validator, indexed by the real
//! `solex-indexer run`: two batches, driven step by step with the test harness
//! (`solex_localnet::auction`, a 2-of-3 keyper committee with dealt keys).
//!
//! Batch 1: a maker's resting asks (one of them expired by the time the batch
//! clears), and four sealed orders: a bid that takes the maker's ask and a sealed
//! ask and rests its remainder, a sealed ask, junk (voided, its fee kept), and one
//! cancelled before the close. Its key is released, it is opened, cleared at one
//! price, executed and its resting fills consumed. Batch 2: a sealed bid whose key
//! never comes: voided at its timeout and refunded.
//!
//! Checked against the chain: nothing of a sealed order's contents is stored or
//! served before its batch opens; every trader's balances equal its account; the
//! batches and sealed orders equal what the auction did (its events and its
//! account's counters); the resting fills are trades marked consumed by the
//! `FillsConsumed` that settled them; the rested remainder is an open order on the
//! book, which equals the chain's; the live `batches:`, `trades:` and `orders:`
//! channels carried each phase; nothing is quarantined; and the index equals a fresh
//! replay of the chain (`solex-indexer backfill` + `digest`).
use std::time::Duration;

use serde_json::Value;
use solex::CreateAuctionArgs;
use solex_localnet::auction::{with_budget, Committee, TestAuction};
use solex_localnet::ledger::{Landed, Ledger};
use solex_localnet::rpc::RpcClient;
use solex_localnet::scenario::{trader_account, Wallet};
use solex_localnet::{Keypair, Signer};
use solex_sdk::auction::{self as ax, SealedOrder};
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, Side};
use support::{chain_book, get, wait_indexed, Ws};

mod support;

/// Keyper rounds of 16 slots, batches of 48 (about 19 s on the validator: time for
/// five submissions on a loaded machine), a key may take 32 slots after the close.
const ROUND_SLOTS: u64 = 16;
const BATCH_SLOTS: u64 = 48;
const TIMEOUT: u64 = 32;
const SEALED_FEE: u64 = 100;

/// The chain side of the test: the validator's RPC, the committee, the batch
/// market and its wallets, and every event that landed.
struct Scene {
    chain: RpcClient,
    crank: Keypair,
    c: Committee,
    a: TestAuction,
    /// The maker, then A, B, C (junk), D (cancels), E (batch 2).
    w: Vec<Wallet>,
    events: Vec<SolexEvent>,
}

const MAKER: usize = 0;
const A: usize = 1;
const B: usize = 2;
const C: usize = 3;
const D: usize = 4;
const E: usize = 5;

fn sealed(side: Side, order_type: OrderType, price: u64, qty_lots: u64, client_order_id: u64) -> SealedOrder {
    SealedOrder { side, order_type, price, qty_lots, client_order_id, expiry: Expiry::Never }
}

impl Scene {
    /// A 2-of-3 committee with keys registered ahead, a batch market over it
    /// (maker fee 2 bps, taker 5, minimum 1 lot, 8 sealed orders a batch), six
    /// funded wallets, and the maker's resting orders.
    fn open(url: String) -> Self {
        let mut chain = RpcClient::new(url);
        let crank = Keypair::new();
        chain.airdrop(&crank.pubkey(), 100_000_000_000);
        let mut c = Committee::create(&mut chain, &crank, 3, 2, ROUND_SLOTS, 16, 64);
        // Keys for 44 rounds (about 4.7 minutes; the ring takes rounds up to 48 ahead),
        // from the round after next: a round may pass while the members'
        // registrations land on a loaded machine, and a key can only be registered for
        // a round not yet begun.
        let first = c.round_of(chain.current_slot()) + 2;
        let everyone: Vec<usize> = (0..3).collect();
        for r in c.register(&mut chain, first..first + 44, &everyone) {
            r.expect("register keys");
        }
        chain.wait_until_slot(first * ROUND_SLOTS);
        let args = CreateMarketArgs {
            market_id: 1,
            base_lot_size: 1_000,
            quote_tick_size: 10,
            min_order_lots: 1,
            maker_fee_bps: 2,
            taker_fee_bps: 5,
        };
        let auction =
            CreateAuctionArgs { batch_slots: BATCH_SLOTS, reveal_timeout_slots: TIMEOUT, sealed_fee: SEALED_FEE };
        let (a, landed) = TestAuction::create(&mut chain, &c, args, auction, 8);
        let mut s = Self { chain, crank, c, a, w: vec![], events: landed.events };
        for _ in 0..6 {
            let (w, created) = s.a.m.wallet_from(&mut s.chain, Keypair::new(), 1 << 40, 1 << 40);
            s.events.extend(created.events);
            let k = s.a.m.keys;
            let deposits = [s.a.m.deposit_ix(&w, k.base_mint, 1 << 30), s.a.m.deposit_ix(&w, k.quote_mint, 1 << 30)];
            s.send(&deposits, &w.keypair.insecure_clone());
            s.w.push(w);
        }
        // The book: asks 100 x5 and 102 x5, a bid 95 x5, and an ask at 99 valid for
        // ten more slots (expired by the time the next batch clears).
        let expires = s.chain.current_slot() + 10;
        for (side, price, qty, expiry) in [
            (Side::Ask, 100, 5, Expiry::Never),
            (Side::Ask, 102, 5, Expiry::Never),
            (Side::Bid, 95, 5, Expiry::Never),
            (Side::Ask, 99, 1, Expiry::Slot(expires)),
        ] {
            let args = PlaceOrderArgs {
                order_type: OrderType::PostOnly,
                expiry,
                ..PlaceOrderArgs::limit(side, price, qty, price)
            };
            let ix = ix::place_order(s.w[MAKER].pubkey(), &s.a.m.keys, args);
            s.send(&[ix], &s.w[MAKER].keypair.insecure_clone());
        }
        s
    }

    fn send(&mut self, ixs: &[solex_sdk::Instruction], signer: &Keypair) -> Landed {
        let landed = self.chain.send(ixs, &[signer]).unwrap_or_else(|r| panic!("{}: {}", r.error, r.logs.join("\n")));
        self.events.extend(landed.events.clone());
        landed
    }

    fn crank_send(&mut self, ixs: &[solex_sdk::Instruction]) -> Landed {
        let crank = self.crank.insecure_clone();
        self.send(ixs, &crank)
    }

    /// Waits for a batch that has just begun (so its submissions fit in it); returns its id.
    fn fresh_batch(&mut self) -> u64 {
        let (_, close, _) = self.a.current(&self.chain, &self.c);
        if close - self.chain.current_slot() < BATCH_SLOTS * 3 / 4 {
            self.chain.wait_until_slot(close);
        }
        self.a.current(&self.chain, &self.c).0
    }

    fn submit(&mut self, i: usize, order: SealedOrder, batch: u64) -> u32 {
        let ix = self.a.seal_ix(&self.chain, &self.c, &self.w[i], order, None);
        let landed = self.send(&[ix], &self.w[i].keypair.insecure_clone());
        match &landed.events[..] {
            [SolexEvent::SealedSubmitted(e)] if e.batch_id == batch => e.index,
            other => panic!("submitted to batch {batch}: {other:?}"),
        }
    }

    /// Batch 1's submissions: A bids 101 x8, B asks 99 x2, C sends junk, D submits and cancels.
    fn batch_one(&mut self) -> u64 {
        let b = self.fresh_batch();
        self.submit(A, sealed(Side::Bid, OrderType::Limit, 101, 8, 11), b);
        self.submit(B, sealed(Side::Ask, OrderType::Limit, 99, 2, 12), b);
        // Junk: a real sealing with its ciphertext overwritten (the tag no longer verifies).
        let (batch, _, round) = self.a.current(&self.chain, &self.c);
        assert_eq!(batch, b, "the submissions fit in one batch");
        let key = self.c.state(&self.chain).round(round).expect("a key").group_key;
        let mut junk = ax::seal_order(
            &key,
            &self.a.keys.market.market,
            &self.w[C].pubkey(),
            b,
            &sealed(Side::Bid, OrderType::Limit, 100, 1, 13),
            (0, 5_000),
        )
        .unwrap();
        junk.ciphertext = [7; 40];
        let ix = ax::submit_sealed(self.w[C].pubkey(), &self.a.keys, junk);
        self.send(&[ix], &self.w[C].keypair.insecure_clone());
        let index = self.submit(D, sealed(Side::Bid, OrderType::Limit, 100, 3, 14), b);
        let ix = ax::cancel_sealed(self.w[D].pubkey(), &self.a.keys, b, index);
        self.send(&[ix], &self.w[D].keypair.insecure_clone());
        b
    }

    /// Releases batch `b`'s key (members 0 and 2), opens, clears and executes it, and consumes every fill.
    fn process(&mut self, b: u64) {
        let (h, _) = self.a.state(&self.chain).batch(b).map(|(h, r)| (*h, r.len())).expect("batch");
        self.chain.wait_until_slot(h.close_slot + 1);
        let crank = self.crank.insecure_clone();
        self.c.release(&mut self.chain, &crank, h.key_round, &[0, 2]);
        while let Some(ix) = self.a.next_decrypt_ix(&self.chain, b) {
            self.crank_send(&with_budget(ix));
        }
        self.crank_send(&with_budget(ax::clear_batch(&self.a.keys, b)));
        while let Some(ix) = self.a.next_execute_ix(&self.chain, b, 8) {
            self.crank_send(&with_budget(ix));
        }
        self.consume();
    }

    fn consume(&mut self) {
        let crank = self.crank.insecure_clone();
        for landed in self.a.m.consume_all(&mut self.chain, &crank) {
            self.events.extend(landed.events);
        }
    }

    /// Batch 2: E's sealed bid, whose key is never released: voided at the timeout and executed (refunded).
    fn batch_two(&mut self) -> u64 {
        let b = self.fresh_batch();
        self.submit(E, sealed(Side::Bid, OrderType::Limit, 100, 1, 15), b);
        let (h, _) = self.a.state(&self.chain).batch(b).map(|(h, r)| (*h, r.len())).expect("batch");
        self.chain.wait_until_slot(h.close_slot + TIMEOUT);
        self.crank_send(&[ax::void_batch(&self.a.keys, b)]);
        while let Some(ix) = self.a.next_execute_ix(&self.chain, b, 8) {
            self.crank_send(&with_budget(ix));
        }
        b
    }

    fn trader_key(&self, i: usize) -> String {
        pda::trader(&self.a.m.keys.market, &self.w[i].pubkey()).to_string()
    }
}

/// Runs `f` on the scene in a blocking thread (the harness's RPC client blocks).
async fn blocking<T: Send + 'static>(scene: Scene, f: impl FnOnce(&mut Scene) -> T + Send + 'static) -> (Scene, T) {
    tokio::task::spawn_blocking(move || {
        let mut scene = scene;
        let out = f(&mut scene);
        (scene, out)
    })
    .await
    .unwrap()
}

/// Reads a WebSocket into a channel (until it goes quiet for 5 minutes, or the task is aborted).
fn collect(mut ws: Ws) -> (tokio::sync::mpsc::UnboundedReceiver<Value>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        while let Some(m) = ws.next_within(300).await {
            if tx.send(m).is_err() {
                return;
            }
        }
    });
    (rx, reader)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_market_is_indexed_as_the_chain_ran_it_and_equals_a_fresh_replay() {
    let stack = support::Stack::start().await;
    let base = stack.base.clone();
    let scene = tokio::task::spawn_blocking({
        let url = stack.validator.rpc_url();
        move || Scene::open(url)
    })
    .await
    .unwrap();
    let market = scene.a.m.keys.market.to_string();
    let chain = stack.validator.rpc();
    let seq_now = |scene: &Scene| solex_localnet::scenario::market(&scene.chain, &scene.a.m.keys.market).event_seq;
    wait_indexed(&base, &market, seq_now(&scene)).await;

    // The market is a batch market, with the auction's parameters.
    let (_, markets) = get(&base, "/markets").await;
    let m = markets["markets"].as_array().unwrap().iter().find(|m| m["market"] == market.as_str()).unwrap().clone();
    let batch_params = serde_json::json!({
        "auction": scene.a.keys.auction.to_string(), "keyper_set": scene.c.keyper_set.to_string(),
        "batch_slots": BATCH_SLOTS, "reveal_timeout_slots": TIMEOUT, "sealed_fee": SEALED_FEE, "capacity": 8,
    });
    assert_eq!(m["batch"], batch_params);

    let mut live = Ws::connect(&base).await;
    let owner_a = scene.w[A].pubkey().to_string();
    for channel in [format!("batches:{market}"), format!("trades:{market}"), format!("orders:{owner_a}")] {
        live.subscribe(&channel).await;
    }
    let (mut live, reader) = collect(live);

    // Batch 1's submissions: indexed with nothing of what the orders are.
    let (scene, b1) = blocking(scene, Scene::batch_one).await;
    wait_indexed(&base, &market, seq_now(&scene)).await;
    let (status, sealed_batch) = get(&base, &format!("/markets/{market}/batches/{b1}")).await;
    assert_eq!(status, 200, "{sealed_batch}");
    assert_eq!((sealed_batch["status"].as_str(), u(&sealed_batch["orders"])), (Some("collecting"), 4));
    assert_eq!(u(&sealed_batch["cancelled"]), 1);
    let rows = sealed_batch["sealed_orders"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for o in rows {
        for field in ["side", "order_type", "price", "qty_lots", "client_order_id", "void_reason", "filled_lots"] {
            assert!(o[field].is_null(), "{field} served before the batch opened: {o}");
        }
    }
    assert_eq!(
        rows.iter().map(|o| o["status"].as_str().unwrap()).collect::<Vec<_>>(),
        ["sealed", "sealed", "sealed", "cancelled"]
    );
    // Nor stored: the database holds no order field for them either.
    let pool = solex_indexer::db::connect(&stack.db.url).await.unwrap();
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sealed_orders WHERE side IS NOT NULL OR order_type IS NOT NULL OR price IS NOT NULL
           OR qty_lots IS NOT NULL OR client_order_id IS NOT NULL OR revealed_seq IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    // Batch 1 processed, then batch 2 voided.
    let (scene, ()) = blocking(scene, move |s| s.process(b1)).await;
    let (scene, b2) = blocking(scene, Scene::batch_two).await;
    assert!(b2 > b1);
    let (seq, bids, asks) = chain_book(&chain, &scene.a.m.keys.market);
    wait_indexed(&base, &market, seq).await;

    let (_, health) = get(&base, "/health").await;
    assert_eq!(health["status"], "ok", "nothing quarantined: {health}");

    // Balances: every trader's equal its account on chain.
    for w in &scene.w {
        let t = trader_account(&chain, &scene.a.m.keys.market, &w.pubkey());
        let (_, body) = get(&base, &format!("/traders/{}/balances", w.pubkey())).await;
        let row = body["balances"].as_array().unwrap().iter().find(|b| b["market"] == market.as_str()).unwrap();
        let api = ["base_available", "base_locked", "quote_available", "quote_locked"].map(|k| row[k].as_u64());
        let on_chain = [t.base_available, t.base_locked, t.quote_available, t.quote_locked].map(Some);
        assert_eq!(api, on_chain, "balances of {}", w.pubkey());
    }
    // The book: the maker's 102 ask, its 95 bid, and A's remainder at 101.
    let (_, book) = get(&base, &format!("/markets/{market}/book?depth=1000")).await;
    assert_eq!((book["bids"].clone(), book["asks"].clone()), (serde_json::json!(bids), serde_json::json!(asks)));
    assert_eq!(book["seq"].as_u64(), Some(seq));
    assert_eq!(bids, vec![[101, 1], [95, 5]]);

    // The batches equal what the auction did.
    let events = &scene.events;
    let cleared = events
        .iter()
        .find_map(|e| match e {
            SolexEvent::BatchCleared(c) if c.batch_id == b1 => Some(c.clone()),
            _ => None,
        })
        .expect("batch 1 cleared");
    assert_eq!((cleared.price, cleared.volume, cleared.orders, cleared.voids), (100, 7, 2, 1));
    let state = scene.a.state(&chain);
    assert_eq!((state.auction.last_price, state.auction.batches_cleared, state.auction.batches_voided), (100, 1, 1));
    let (_, list) = get(&base, &format!("/markets/{market}/batches")).await;
    let list = list["batches"].as_array().unwrap();
    assert_eq!(list.iter().map(|b| u(&b["batch_id"])).collect::<Vec<_>>(), [b2, b1], "newest first");
    let (one, two) = (&list[1], &list[0]);
    assert_eq!(
        [&one["price"], &one["volume"], &one["demand"], &one["supply"], &one["bid_sweep"], &one["ask_sweep"]].map(u),
        [cleared.price, cleared.volume, cleared.demand, cleared.supply, cleared.bid_sweep, cleared.ask_sweep]
    );
    assert_eq!(u(&one["imbalance"]), cleared.demand.abs_diff(cleared.supply));
    assert_eq!(u(&one["reference"]), cleared.reference);
    assert_eq!((u(&one["valid"]), u(&one["voids"])), (cleared.orders as u64, cleared.voids as u64));
    assert_eq!((one["status"].as_str(), u(&one["orders"]), u(&one["cancelled"])), (Some("done"), 4, 1));
    let revealed = events
        .iter()
        .find_map(|e| match e {
            SolexEvent::OrdersRevealed(r) if r.batch_id == b1 => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(u(&one["key_round"]), revealed.key_round);
    let secret: String = revealed.secret.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(one["secret"].as_str(), Some(secret.as_str()));
    for phase in ["first", "opened", "cleared", "done"] {
        assert!(one[format!("{phase}_seq")].is_i64(), "batch 1 {phase}: {one}");
    }
    assert!(one["voided_seq"].is_null());
    let voided = events
        .iter()
        .find_map(|e| match e {
            SolexEvent::BatchVoided(v) if v.batch_id == b2 => Some(v.clone()),
            _ => None,
        })
        .expect("batch 2 voided");
    assert_eq!((two["status"].as_str(), u(&two["voids"]), u(&two["orders"])), (Some("voided"), 1, 1));
    assert_eq!((u(&two["key_round"]), u(&two["voids"])), (voided.key_round, voided.voided as u64));
    assert!(two["price"].is_null() && two["opened_seq"].is_null() && two["done_seq"].is_i64(), "{two}");

    // Each sealed order as it settled.
    let settled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SolexEvent::BatchExecuted(x) => Some(x.orders.iter().map(move |o| (x.batch_id, o.clone()))),
            _ => None,
        })
        .flatten()
        .collect();
    let (_, detail) = get(&base, &format!("/markets/{market}/batches/{b1}")).await;
    let rows = detail["sealed_orders"].as_array().unwrap();
    let row = |i: usize| rows.iter().find(|o| o["trader"] == scene.trader_key(i).as_str()).unwrap().clone();
    let event = |b: u64, i: usize| {
        settled.iter().find(|(batch, o)| *batch == b && o.trader.to_string() == scene.trader_key(i)).unwrap().1.clone()
    };
    for i in [A, B] {
        let (o, e) = (row(i), event(b1, i));
        assert_eq!(o["status"], "done");
        assert_eq!(
            (o["side"].as_str(), o["order_type"].as_str(), u(&o["price"]), u(&o["qty_lots"])),
            (Some(e.side.as_str()), Some("limit"), e.price, e.qty_lots)
        );
        assert_eq!(o["client_order_id"].as_str(), Some(e.client_order_id.to_string().as_str()));
        let got = ["filled_lots", "base", "quote", "taker_fee", "fee_kept", "rested_lots"].map(|k| u(&o[k]));
        assert_eq!(got, [e.filled_lots, e.base_atoms, e.quote_atoms, e.taker_fee, e.sealed_fee, e.rested_lots]);
    }
    let (oa, ea) = (row(A), event(b1, A));
    assert_eq!((ea.filled_lots, ea.rested_lots), (7, 1));
    assert_eq!(oa["order_id"].as_str(), Some(ea.order_id.to_string().as_str()));
    assert!(row(B)["order_id"].is_null());
    let junk = row(C);
    assert_eq!((junk["status"].as_str(), junk["void_reason"].as_str()), (Some("void"), Some("bad_tag")));
    assert_eq!(u(&junk["fee_kept"]), SEALED_FEE);
    assert!(junk["side"].is_null() && junk["price"].is_null() && junk["revealed_seq"].is_i64(), "{junk}");
    let cancelled = row(D);
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["side"].is_null() && cancelled["settled_seq"].is_null(), "{cancelled}");
    let (_, detail) = get(&base, &format!("/markets/{market}/batches/{b2}")).await;
    let timed_out = &detail["sealed_orders"][0];
    assert_eq!((timed_out["status"].as_str(), timed_out["void_reason"].as_str()), (Some("void"), Some("timeout")));
    assert_eq!(u(&timed_out["fee_kept"]), 0, "a timeout refunds the fee");
    assert!(timed_out["side"].is_null() && timed_out["revealed_seq"].is_null(), "{timed_out}");

    // A's remainder rests as an open order: 7 of 8 filled in the batch, 1 on the book.
    let (_, order) = get(&base, &format!("/markets/{market}/orders/{}", ea.order_id)).await;
    assert_eq!(
        (order["status"].as_str(), u(&order["filled_lots"]), u(&order["remaining_lots"]), u(&order["qty_lots"])),
        (Some("open"), 7, 1, 8)
    );
    assert_eq!(order["side"], "bid");

    // The resting fills: the maker's 100 ask taken whole by the batch, settled by a FillsConsumed.
    let fills: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SolexEvent::BatchExecuted(x) => Some(x.fills.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(fills.iter().map(|f| (f.price, f.qty_lots, f.remaining_lots)).collect::<Vec<_>>(), [(100, 5, 0)]);
    let consumed_at = |fill_seq: u64| {
        events.iter().find_map(|e| match e {
            SolexEvent::FillsConsumed(c) if c.settled.iter().any(|s| s.fill_seq == fill_seq) => Some(c.seq),
            _ => None,
        })
    };
    let maker = scene.w[MAKER].pubkey();
    let (_, maker_fills) = get(&base, &format!("/traders/{maker}/fills?market={market}")).await;
    let maker_fills = maker_fills["fills"].as_array().unwrap();
    assert_eq!(maker_fills.len(), fills.len());
    for (f, row) in fills.iter().zip(maker_fills.iter().rev()) {
        assert_eq!(u(&row["fill_seq"]), f.fill_seq);
        assert_eq!(
            (row["role"].as_str(), row["taker"].as_str()),
            (Some("maker"), Some(scene.a.keys.auction.to_string().as_str()))
        );
        assert_eq!(row["taker_order_id"].as_str(), Some(b1.to_string().as_str()));
        assert_eq!(row["taker_side"], "bid");
        assert_eq!((u(&row["price"]), u(&row["qty_lots"])), (f.price, f.qty_lots));
        assert_eq!(row["consumed_seq"].as_u64(), consumed_at(f.fill_seq), "fill {} consumed", f.fill_seq);
        assert!(row["consumed_seq"].is_i64());
    }
    let (_, trades) = get(&base, &format!("/markets/{market}/trades")).await;
    assert_eq!(trades["trades"].as_array().unwrap().len(), fills.len());
    // The expired ask at 99 left the book as the batch met it.
    let expired_id = events
        .iter()
        .find_map(|e| match e {
            SolexEvent::OrderPlaced(o) if o.price == 99 => Some(o.order_id),
            _ => None,
        })
        .unwrap();
    let (_, expired) = get(&base, &format!("/markets/{market}/orders/{expired_id}")).await;
    assert_eq!(expired["status"], "expired", "{expired}");
    // One candle trade for the batch: its price and volume, once.
    let (_, candles) = get(&base, &format!("/markets/{market}/candles?interval=1d")).await;
    let candle = &candles["candles"][0];
    assert_eq!((u(&candle["close"]), u(&candle["volume"]), u(&candle["trades"])), (100, 7, 1));

    // The live feed: each phase on batches:, the batch's trade on trades:, A's order on orders:.
    let mut received = vec![];
    while received.iter().filter(|m: &&Value| m["data"]["phase"] == "done").count() < 2 {
        let m = tokio::time::timeout(Duration::from_secs(30), live.recv()).await.expect("live messages").unwrap();
        received.push(m);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(m) = live.try_recv() {
        received.push(m);
    }
    let on = |prefix: &str| -> Vec<Value> {
        received
            .iter()
            .filter(|m| m["channel"].as_str().unwrap().starts_with(prefix))
            .map(|m| m["data"].clone())
            .collect()
    };
    let phases: Vec<(u64, String)> =
        on("batches:").iter().map(|d| (u(&d["batch_id"]), d["phase"].as_str().unwrap().to_string())).collect();
    let expected: Vec<(u64, String)> = [
        (b1, "submitted"),
        (b1, "submitted"),
        (b1, "submitted"),
        (b1, "submitted"),
        (b1, "cancelled"),
        (b1, "opened"),
        (b1, "cleared"),
        (b1, "done"),
        (b2, "submitted"),
        (b2, "voided"),
        (b2, "done"),
    ]
    .map(|(b, p)| (b, p.to_string()))
    .to_vec();
    assert_eq!(phases, expected);
    let cleared_msg = on("batches:").into_iter().find(|d| d["phase"] == "cleared").unwrap();
    assert_eq!((u(&cleared_msg["price"]), u(&cleared_msg["volume"]), u(&cleared_msg["imbalance"])), (100, 7, 1));
    let trade_msgs = on("trades:");
    assert_eq!(trade_msgs.len(), 1, "one trade message for the batch: {trade_msgs:?}");
    assert_eq!(
        (u(&trade_msgs[0]["batch_id"]), u(&trade_msgs[0]["price"]), u(&trade_msgs[0]["qty_lots"])),
        (b1, 100, 7)
    );
    let a_msgs = on("orders:");
    let sealed_states: Vec<&str> =
        a_msgs.iter().filter(|d| d["idx"].is_i64()).map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(sealed_states, ["sealed", "revealed", "done"]);
    assert!(a_msgs[0]["side"].is_null(), "A's own sealed order is not revealed before its batch opens");
    // Its remainder's order, as it rested, and the settled sealed order naming it.
    let orders: Vec<(&Value, &Value)> =
        a_msgs.iter().filter(|d| d["idx"].is_null()).map(|d| (&d["order_id"], &d["status"])).collect();
    assert_eq!(orders, [(&oa["order_id"], &serde_json::json!("open"))]);
    assert_eq!(a_msgs.last().unwrap()["order_id"], oa["order_id"]);

    // No gap, and the index equals a fresh replay of the chain.
    let indexer = |url: &str, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_solex-indexer"))
            .args(["--database-url", url])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "solex-indexer {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    indexer(&stack.db.url, &["check"]);
    let replay = support::TestDb::create().await;
    let rpc = stack.validator.rpc_url();
    let (live_digest, replay_digest) = tokio::task::spawn_blocking({
        let (live_url, replay_url) = (stack.db.url.clone(), replay.url.clone());
        move || {
            indexer(&replay_url, &["backfill", "--rpc-url", &rpc]);
            (indexer(&live_url, &["digest"]), indexer(&replay_url, &["digest"]))
        }
    })
    .await
    .unwrap();
    replay.drop_db().await;
    assert_eq!(live_digest, replay_digest, "the live index differs from a fresh replay");
    for table in ["batches 2 ", "sealed_orders 5 ", "trades 1 "] {
        assert!(live_digest.contains(table), "{table}in {live_digest}");
    }
    reader.abort();
    pool.close().await;
    stack.stop().await;
}
