//! Demo bots for the local exchange: a market maker that requotes a ladder around
//! a drifting mid price, and a taker that crosses the spread with small IOC
//! orders, so trades flow as soon as the exchange starts. Each signs its own
//! transactions with its own wallet, like any user.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use solex_sdk::instructions as ix;
use solex_sdk::{OrderType, PlaceOrderArgs, Side};

use crate::ledger::Ledger;
use crate::rpc::RpcClient;
use crate::scenario::{TestMarket, Wallet};

/// A small deterministic generator (no dependency, same walk every run from one
/// seed), shared by the bots, the chaos suite and the load test.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..n`.
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    /// A duration between `lo` and `hi` milliseconds.
    pub fn millis(&mut self, lo: u64, hi: u64) -> std::time::Duration {
        std::time::Duration::from_millis(lo + self.next(hi - lo))
    }
}

/// Levels quoted on each side, and their spacing in ticks.
const LEVELS: u64 = 3;
const STEP: u64 = 20;

/// Requotes every `every`: cancel all, then `LEVELS` bids and asks around a mid
/// that moves by up to ±`STEP` ticks, in one transaction (the book never shows a
/// half-updated ladder). Runs until `stop`.
pub fn market_maker(rpc_url: String, m: &TestMarket, w: &Wallet, mid: u64, every: Duration, stop: Arc<AtomicBool>) {
    let mut chain = RpcClient::new(rpc_url);
    let (mut rng, mut mid) = (Lcg(7), mid);
    while !stop.load(Ordering::SeqCst) {
        mid = (mid + rng.next(2 * STEP + 1)).saturating_sub(STEP).max(LEVELS * STEP + 1);
        let mut ixs = vec![ix::cancel_all(w.pubkey(), w.pubkey(), &m.keys, None, 32)];
        for i in 1..=LEVELS {
            let qty = 5 + rng.next(10);
            ixs.push(ix::place_order(w.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, mid - i * STEP, qty, i)));
            ixs.push(ix::place_order(
                w.pubkey(),
                &m.keys,
                PlaceOrderArgs::limit(Side::Ask, mid + i * STEP, qty, 100 + i),
            ));
        }
        if let Err(e) = chain.send(&ixs, &[&w.keypair]) {
            eprintln!("market maker: requote refused: {e}");
        }
        std::thread::sleep(every);
    }
}

/// Every `every`, buys or sells 1 to 3 lots with an IOC order that crosses the
/// spread (at most 5% through the best price). Runs until `stop`.
pub fn taker(rpc_url: String, m: &TestMarket, w: &Wallet, every: Duration, stop: Arc<AtomicBool>) {
    let mut chain = RpcClient::new(rpc_url);
    let mut rng = Lcg(11);
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(every);
        let market = crate::scenario::market(&chain, &m.keys.market);
        let side = if rng.next(2) == 0 { Side::Bid } else { Side::Ask };
        let book = crate::scenario::book(&chain, if side == Side::Bid { &market.asks } else { &market.bids });
        let Some(best) = book.best().map(|o| o.price) else { continue };
        let price = if side == Side::Bid { best + best / 20 } else { best - best / 20 };
        let order = PlaceOrderArgs {
            order_type: OrderType::ImmediateOrCancel,
            ..PlaceOrderArgs::limit(side, price, 1 + rng.next(3), 0)
        };
        if let Err(e) = chain.send(&[ix::place_order(w.pubkey(), &m.keys, order)], &[&w.keypair]) {
            eprintln!("taker: order refused: {e}");
        }
    }
}

/// A batch market's market maker: whenever the book is open (no batch closing),
/// every `every` it replaces its ladder of post-only orders (`LEVELS` a side around
/// a drifting mid) in one transaction. Runs until `stop`.
pub fn batch_maker(
    rpc_url: String,
    a: &crate::auction::TestAuction,
    w: &Wallet,
    mid: u64,
    every: Duration,
    stop: Arc<AtomicBool>,
) {
    let mut chain = RpcClient::new(rpc_url);
    let (mut rng, mut mid) = (Lcg(23), mid);
    let m = &a.m;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(every);
        if crate::scenario::market(&chain, &m.keys.market).frozen_from_slot != 0 {
            continue; // a batch is closing: the book takes nothing until it executed
        }
        mid = (mid + rng.next(2 * STEP + 1)).saturating_sub(STEP).max(LEVELS * STEP + 1);
        let mut ixs = vec![ix::cancel_all(w.pubkey(), w.pubkey(), &m.keys, None, 32)];
        for i in 1..=LEVELS {
            let qty = 5 + rng.next(10);
            for (side, price, client) in [(Side::Bid, mid - i * STEP, i), (Side::Ask, mid + i * STEP, 100 + i)] {
                let order = PlaceOrderArgs {
                    order_type: OrderType::PostOnly,
                    ..PlaceOrderArgs::limit(side, price, qty, client)
                };
                ixs.push(ix::place_order(w.pubkey(), &m.keys, order));
            }
        }
        // Refused when a batch closed on the way (BatchInProgress): the next round retries.
        let _ = chain.send(&ixs, &[&w.keypair]);
    }
}

/// A batch market's taker: every `every`, seals an IOC order of 1 to 3 lots that
/// crosses the book (at most 5% through its best price) and submits it to the batch
/// collecting. Runs until `stop`.
pub fn sealed_taker(
    rpc_url: String,
    a: &crate::auction::TestAuction,
    committee: &crate::auction::Committee,
    w: &Wallet,
    every: Duration,
    stop: Arc<AtomicBool>,
) {
    let mut chain = RpcClient::new(rpc_url);
    let mut rng = Lcg(29);
    let m = &a.m;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(every);
        let side = if rng.next(2) == 0 { Side::Bid } else { Side::Ask };
        let book = crate::scenario::book(&chain, if side == Side::Bid { &m.keys.asks } else { &m.keys.bids });
        let Some(best) = book.best().map(|o| o.price) else { continue };
        let price = if side == Side::Bid { best + best / 20 } else { best - best / 20 };
        let order = solex_sdk::auction::SealedOrder {
            side,
            order_type: OrderType::ImmediateOrCancel,
            price,
            qty_lots: 1 + rng.next(3),
            client_order_id: 0,
            expiry: Default::default(),
        };
        // A batch without a registered key (keypers still starting) is skipped.
        if committee.state(&chain).round(a.current(&chain, committee).2).is_none() {
            continue;
        }
        if let Err(e) = chain.send(&[a.seal_ix(&chain, committee, w, order, None)], &[&w.keypair]) {
            eprintln!("sealed taker: order refused: {}", e.describe());
        }
    }
}
