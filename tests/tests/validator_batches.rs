//! Batch markets on solana-test-validator with their real services: three
//! `solex-keyper` processes (threshold 2) that generate the keys by DKG, register
//! them and release their shares, and `solex-crank`, which publishes each secret,
//! opens, clears and executes the batches and settles the makers. Batches clear
//! with all keypers and with one killed; with two killed a batch voids at its
//! timeout and its collateral unlocks; restarted, the keypers resume and batches
//! clear again. Needs `cargo build -p solex-keyper -p solex-crank` (cargo test
//! --workspace builds them).
use std::time::Duration;

use solana_keypair::write_keypair_file;
use solex::CreateAuctionArgs;
use solex_sdk::auction::SealedOrder;
use solex_sdk::{CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, Side, SolexError};
use solex_tests::auction::{Committee, Keypers, TestAuction};
use solex_tests::exchange::wait;
use solex_tests::ledger::Ledger;
use solex_tests::rpc::RpcClient;
use solex_tests::scenario::{trader_account, Wallet};
use solex_tests::services::{self, free_port};
use solex_tests::validator::TestValidator;
use solex_tests::{Keypair, Signer};

/// Slots per keyper round and per batch (1.6 s on the validator).
const ROUND: u64 = 4;
const TIMEOUT: u64 = 40;

/// Submits `order` for `w` to whichever batch is collecting when it lands.
fn submit(chain: &mut RpcClient, c: &Committee, a: &TestAuction, w: &Wallet, order: SealedOrder) -> u64 {
    for _ in 0..10 {
        let batch = a.current(chain, c).0;
        match chain.send(&[a.seal_ix(chain, c, w, order, None)], &[&w.keypair]) {
            Ok(_) => return batch,
            // The batch closed while the transaction was on its way: seal for the next.
            Err(r) if matches!(r.solex_error(), Some(SolexError::BatchClosed)) => continue,
            Err(r) => panic!("submit_sealed: {}\n{}", r.describe(), r.logs.join("\n")),
        }
    }
    panic!("no batch took the order in ten tries");
}

fn order(side: Side, price: u64, qty_lots: u64) -> SealedOrder {
    SealedOrder { side, order_type: OrderType::Limit, price, qty_lots, client_order_id: 1, expiry: Expiry::Never }
}

#[test]
fn batches_clear_with_a_threshold_of_keypers_void_without_one_and_resume_after_restarts() {
    // Logs and keyper state stay under target/ for a look after a failure.
    let dir = solex_tests::artifacts::target_dir().join(format!("validator_batches-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let logs = dir.as_path();
    let validator = TestValidator::start();
    let mut chain = validator.rpc();
    let payer = Keypair::new();
    chain.airdrop(&payer.pubkey(), 100_000_000_000);
    let committee = Committee::create(&mut chain, &payer, 3, 2, ROUND, 16, 64);

    let mut keypers = Keypers::start(&validator.rpc_url(), &committee, logs, 8);
    let took = Keypers::wait_keys_ahead(&chain, &committee, 12);
    println!("keypers: 12 rounds of keys registered ahead after {took:?}");

    let market = CreateMarketArgs {
        market_id: 1,
        base_lot_size: 1_000,
        quote_tick_size: 10,
        min_order_lots: 1,
        maker_fee_bps: -1,
        taker_fee_bps: 4,
    };
    let rules = CreateAuctionArgs { batch_slots: ROUND, reveal_timeout_slots: TIMEOUT, sealed_fee: 100 };
    let (a, _) = TestAuction::create(&mut chain, &committee, market, rules, 16);
    let k = a.m.keys;
    let fund = |chain: &mut RpcClient| {
        let w = a.m.wallet(chain, 1 << 40, 1 << 40);
        let deposits = [a.m.deposit_ix(&w, k.base_mint, 1 << 36), a.m.deposit_ix(&w, k.quote_mint, 1 << 36)];
        chain.send(&deposits, &[&w.keypair]).expect("deposit");
        w
    };
    let (maker, taker) = (fund(&mut chain), fund(&mut chain));
    let crank_key = logs.join("crank.json");
    write_keypair_file(&payer, &crank_key).unwrap();
    let mut crank = services::crank(
        &validator.rpc_url(),
        &validator.ws_url(),
        &crank_key,
        &[a.m.mint_authority.pubkey()],
        &format!("127.0.0.1:{}", free_port()),
        Some(&logs.join("crank.log")),
    );

    let post = |chain: &mut RpcClient, price: u64| {
        let args = PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(Side::Ask, price, 10, 0) };
        chain.send(&[solex_sdk::instructions::place_order(maker.pubkey(), &k, args)], &[&maker.keypair])
    };
    let trader = |chain: &RpcClient| trader_account(chain, &k.market, &taker.pubkey());
    let queue_empty = |chain: &RpcClient| solex_tests::scenario::fill_queue(chain, &k.fill_queue).count == 0;

    // All three keypers: a bid crossing the maker's ask clears, and the maker is settled.
    post(&mut chain, 100).expect("post-only ask");
    let before = trader(&chain);
    let b = submit(&mut chain, &committee, &a, &taker, order(Side::Bid, 101, 4));
    wait("the batch executed", Duration::from_secs(60), || a.state(&chain).auction.batches_cleared >= 1);
    let after = trader(&chain);
    assert_eq!(after.base_available, before.base_available + 4_000, "bought 4 lots in batch {b}");
    assert_eq!(after.quote_locked, 0, "its collateral is back");
    wait("the maker settled", Duration::from_secs(30), || queue_empty(&chain));

    // One keyper killed: two shares still open the batches.
    keypers.kill(2);
    post(&mut chain, 100).expect("post-only ask");
    submit(&mut chain, &committee, &a, &taker, order(Side::Bid, 100, 2));
    wait("a batch executed with two keypers", Duration::from_secs(60), || a.state(&chain).auction.batches_cleared >= 2);

    // Two killed: no batch can open; at its timeout it is voided and refunded in full.
    keypers.kill(1);
    let before = trader(&chain);
    submit(&mut chain, &committee, &a, &taker, order(Side::Bid, 100, 3));
    wait("the batch voided", Duration::from_secs(90), || {
        let s = a.state(&chain);
        s.auction.batches_voided >= 1 && s.auction.batches.iter().all(|h| !h.unfinished())
    });
    let after = trader(&chain);
    assert_eq!((after.quote_available, after.quote_locked), (before.quote_available, 0), "refunded in full");

    // Restarted from their state directories, the keypers resume: keys again, then batches.
    keypers.restart(1);
    keypers.restart(2);
    let took = Keypers::wait_keys_ahead(&chain, &committee, 4);
    println!("keypers: keys registered ahead again {took:?} after the restarts");
    submit(&mut chain, &committee, &a, &taker, order(Side::Bid, 100, 1));
    wait("a batch executed after the restarts", Duration::from_secs(90), || {
        a.state(&chain).auction.batches_cleared >= 3
    });
    wait("the makers settled", Duration::from_secs(30), || queue_empty(&chain));
    a.m.assert_conserved(&chain, &[&maker, &taker]);

    services::terminate(&mut crank);
    drop(keypers);
    let _ = std::fs::remove_dir_all(&dir);
}
