//! The program's newer events, from a real validator through the real
//! `solex-indexer run`: a fill that leaves a maker's remainder below the market's
//! minimum (`ReduceReason::BelowMinimum`, its lock returned at consume through
//! `Settled::unlocked`), a self-trade decrement, and expired orders removed by the
//! permissionless `prune_expired` (`OrdersPruned`, unlocked by an `Out` entry). The
//! API's balances, book and order histories equal what the chain holds.
use std::time::Duration;

use serde_json::Value;
use solex_localnet::ledger::Ledger;
use solex_localnet::scenario::{market_args, TestMarket};
use solex_localnet::{Keypair, Signer};
use solex_sdk::accounts::decode_trader;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, SelfTradeMode, Side};
use support::{chain_book, get, placed_id};

mod support;

/// (change, status, filled, remaining) of each entry of an order's history.
fn history(order: &Value) -> Vec<(String, String, u64, u64)> {
    let n = |h: &Value, k: &str| h[k].as_u64().unwrap();
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let s = |k: &str| h[k].as_str().unwrap().to_string();
            (s("change"), s("status"), n(h, "filled_lots"), n(h, "remaining_lots"))
        })
        .collect()
}

fn entry(change: &str, status: &str, filled: u64, remaining: u64) -> (String, String, u64, u64) {
    (change.into(), status.into(), filled, remaining)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remainders_below_the_minimum_and_pruned_orders_are_derived_as_the_chain_holds_them() {
    let stack = support::Stack::start().await;
    let url = stack.validator.rpc_url();
    let (m, wallets, ids) = tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        let args = CreateMarketArgs { min_order_lots: 2, maker_fee_bps: 2, taker_fee_bps: 5, ..market_args(1) };
        let (m, _) = TestMarket::create(&mut chain, args);
        let (a, b) = (m.wallet(&mut chain, 1_000_000, 10_000_000), m.wallet(&mut chain, 1_000_000, 10_000_000));
        for w in [&a, &b] {
            let deposits =
                [m.deposit_ix(w, m.keys.base_mint, 1_000_000), m.deposit_ix(w, m.keys.quote_mint, 10_000_000)];
            chain.send(&deposits, &[&w.keypair]).unwrap();
        }
        let place = |chain: &mut solex_localnet::rpc::RpcClient, w: &solex_localnet::scenario::Wallet, args| {
            chain.send(&[ix::place_order(w.pubkey(), &m.keys, args)], &[&w.keypair]).unwrap()
        };
        let limit = PlaceOrderArgs::limit;
        // A bids 3 at 90; B's 2-lot IOC sell takes 2, leaving 1 (< 2) that leaves with the fill.
        let bid = placed_id(&place(&mut chain, &a, limit(Side::Bid, 90, 3, 1)));
        let ioc = PlaceOrderArgs { order_type: OrderType::ImmediateOrCancel, ..limit(Side::Ask, 90, 2, 2) };
        place(&mut chain, &b, ioc);
        // A asks 4 at 120, then its own 3-lot bid at 120 decrements it to 1 (< 2): all of it goes.
        let ask = placed_id(&place(&mut chain, &a, limit(Side::Ask, 120, 4, 3)));
        let own = PlaceOrderArgs { self_trade: SelfTradeMode::DecrementBoth, ..limit(Side::Bid, 120, 3, 4) };
        place(&mut chain, &a, own);
        // B asks 2 at 130 and A bids 2 at 80, each valid two more slots, then anyone prunes them.
        let expires = chain.slot().unwrap() + 2;
        let expiring = |side, price, id| PlaceOrderArgs { expiry: Expiry::Slot(expires), ..limit(side, price, 2, id) };
        let stale_ask = placed_id(&place(&mut chain, &b, expiring(Side::Ask, 130, 5)));
        let stale_bid = placed_id(&place(&mut chain, &a, expiring(Side::Bid, 80, 6)));
        while chain.slot().unwrap() <= expires + 1 {
            std::thread::sleep(Duration::from_millis(100));
        }
        let crank = Keypair::new();
        chain.airdrop(&crank.pubkey(), 1_000_000_000);
        for side in [Side::Ask, Side::Bid] {
            chain.send(&[ix::prune_expired(&m.keys, side, 8)], &[&crank]).unwrap();
        }
        m.consume_all(&mut chain, &crank);
        // Both rest again: the book is not empty at the end.
        place(&mut chain, &a, limit(Side::Bid, 70, 2, 7));
        place(&mut chain, &b, limit(Side::Ask, 140, 3, 8));
        (m, [a, b], [bid, ask, stale_ask, stale_bid])
    })
    .await
    .unwrap();

    let chain = stack.validator.rpc();
    let market = m.keys.market;
    let (seq, bids, asks) = chain_book(&chain, &market);
    support::wait_indexed(&stack.base, &market.to_string(), seq).await;
    let kinds: Vec<String> = get(&stack.base, &format!("/markets/{market}/events?limit=1000")).await.1["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "OrdersPruned").count(), 2, "{kinds:?}");

    let (_, health) = get(&stack.base, "/health").await;
    assert_eq!(health["status"], "ok", "nothing quarantined: {health}");
    for w in &wallets {
        let (t, _) = decode_trader(&chain.account_data(&pda::trader(&market, &w.pubkey())).unwrap()).unwrap();
        let (_, body) = get(&stack.base, &format!("/traders/{}/balances", w.pubkey())).await;
        let row = body["balances"].as_array().unwrap().iter().find(|b| b["market"] == market.to_string()).unwrap();
        let api = ["base_available", "base_locked", "quote_available", "quote_locked"].map(|k| row[k].as_u64());
        let on_chain = [t.base_available, t.base_locked, t.quote_available, t.quote_locked].map(Some);
        assert_eq!(api, on_chain, "balances of {}", w.pubkey());
    }
    let (_, book) = get(&stack.base, &format!("/markets/{market}/book?depth=1000")).await;
    assert_eq!((book["bids"].clone(), book["asks"].clone()), (serde_json::json!(bids), serde_json::json!(asks)));
    assert_eq!(book["seq"].as_u64(), Some(seq));

    let order = |id: u128| {
        let base = stack.base.clone();
        async move { get(&base, &format!("/markets/{market}/orders/{id}")).await.1 }
    };
    let [bid, ask, stale_ask, stale_bid] = ids;
    assert_eq!(
        history(&order(bid).await),
        // One row per event: the fill and the removal of its remainder are one.
        [entry("placed", "open", 0, 3), entry("below_minimum", "cancelled", 2, 0)]
    );
    assert_eq!(history(&order(ask).await), [entry("placed", "open", 0, 4), entry("self_trade", "cancelled", 0, 0)]);
    for id in [stale_ask, stale_bid] {
        assert_eq!(history(&order(id).await), [entry("placed", "open", 0, 2), entry("expired", "expired", 0, 0)]);
    }
    stack.stop().await;
}
