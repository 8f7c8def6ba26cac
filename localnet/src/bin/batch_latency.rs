//! A batch market on solana-test-validator with its real services (three
//! `solex-keyper` processes, threshold 2, and `solex-crank`): for each of a run of
//! batches with a sealed bid crossing a resting ask, how long from the batch's close
//! to the bid settled (executed) and to the maker settled (consumed), in slots and
//! milliseconds; and what the keypers cost: CPU over the run, per day, and keys
//! registered ahead.
//!
//!     cargo run -p solex-localnet --bin batch-latency --ignore-rust-version [-- BATCHES]
use std::time::{Duration, Instant};

use solex::CreateAuctionArgs;
use solex_localnet::auction::{Committee, Keypers, TestAuction};
use solex_localnet::ledger::Ledger;
use solex_localnet::rpc::RpcClient;
use solex_localnet::sandwich::market_args;
use solex_localnet::scenario::{fill_queue, market, trader_account};
use solex_localnet::{Keypair, Signer};
use solex_sdk::auction::SealedOrder;
use solex_sdk::instructions as ix;
use solex_sdk::{Expiry, OrderType, PlaceOrderArgs, Side};

const BATCH: u64 = 8;

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let batches: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let logs = solex_localnet::artifacts::target_dir().join("batch-latency");
    std::fs::create_dir_all(&logs).unwrap();
    let validator = solex_localnet::validator::TestValidator::start();
    let mut chain = validator.rpc();
    let payer = Keypair::new();
    chain.airdrop(&payer.pubkey(), 100_000_000_000);
    let committee = Committee::create(&mut chain, &payer, 3, 2, BATCH, 64, 256);
    let keypers = Keypers::start(&validator.rpc_url(), &committee, &logs, 32);
    let took = Keypers::wait_keys_ahead(&chain, &committee, 16);
    println!("keys: 16 rounds registered ahead {took:.1?} after the keypers started");
    let rules = CreateAuctionArgs { batch_slots: BATCH, reveal_timeout_slots: 150, sealed_fee: 100 };
    let (a, _) = TestAuction::create(&mut chain, &committee, market_args(1), rules, 16);
    let k = a.m.keys;
    let fund = |chain: &mut RpcClient| {
        let w = a.m.wallet(chain, 1 << 40, 1 << 40);
        chain
            .send(&[a.m.deposit_ix(&w, k.base_mint, 1 << 36), a.m.deposit_ix(&w, k.quote_mint, 1 << 36)], &[&w.keypair])
            .unwrap();
        w
    };
    let (maker, taker) = (fund(&mut chain), fund(&mut chain));
    let crank_key = logs.join("crank.json");
    solana_keypair::write_keypair_file(&payer, &crank_key).unwrap();
    let mut crank = solex_localnet::services::crank_for_markets(
        &validator.rpc_url(),
        &validator.ws_url(),
        &crank_key,
        &[k.market],
        Some(&logs.join("crank.log")),
    );
    let pids: Vec<u32> = keypers.children.iter().flatten().map(|c| c.id()).collect();
    let cpu_start: Vec<f64> = pids.iter().map(|p| cpu_seconds(*p)).collect();
    let run_start = Instant::now();
    let (mut exec_slots, mut exec_ms, mut maker_slots, mut maker_ms) = (vec![], vec![], vec![], vec![]);
    fn poll(chain: &RpcClient, what: &str, done: &dyn Fn(&RpcClient) -> bool) {
        let start = Instant::now();
        while !done(chain) {
            assert!(start.elapsed() < Duration::from_secs(60), "gave up waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for i in 0..batches {
        // The book is open again once the last batch executed.
        poll(&chain, "the book to open", &|c| market(c, &k.market).frozen_from_slot == 0);
        let ask = PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(Side::Ask, 100, 1, 0) };
        chain.send(&[ix::place_order(maker.pubkey(), &k, ask)], &[&maker.keypair]).expect("post-only ask");
        let bid = SealedOrder {
            side: Side::Bid,
            order_type: OrderType::ImmediateOrCancel,
            price: 101,
            qty_lots: 1,
            client_order_id: i as u64,
            expiry: Expiry::Never,
        };
        let (batch, close, _) = a.current(&chain, &committee);
        if chain.send(&[a.seal_ix(&chain, &committee, &taker, bid, None)], &[&taker.keypair]).is_err() {
            continue; // the batch closed on the way: the next iteration tries again
        }
        poll(&chain, "the close", &|c| c.current_slot() >= close);
        let closed = Instant::now();
        poll(&chain, "the bid settled", &|c| {
            a.state(c).batch(batch).is_none() && trader_account(c, &k.market, &taker.pubkey()).quote_locked == 0
        });
        exec_ms.push(closed.elapsed().as_secs_f64() * 1e3);
        exec_slots.push((chain.current_slot() - close) as f64);
        poll(&chain, "the maker settled", &|c| fill_queue(c, &k.fill_queue).count == 0);
        maker_ms.push(closed.elapsed().as_secs_f64() * 1e3);
        maker_slots.push((chain.current_slot() - close) as f64);
    }
    let wall = run_start.elapsed().as_secs_f64();
    let cpu: Vec<f64> = pids.iter().zip(&cpu_start).map(|(p, s)| cpu_seconds(*p) - s).collect();
    let n = exec_ms.len();
    println!("\n| from a batch's close to ({n} batches of {BATCH} slots) | p50 slots | p99 slots | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for (name, slots, ms) in [
        ("the sealed bid settled (batch executed)", &mut exec_slots, &mut exec_ms),
        ("the maker settled (its fill consumed)", &mut maker_slots, &mut maker_ms),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} |",
            percentile(slots, 0.5),
            percentile(slots, 0.99),
            percentile(ms, 0.5),
            percentile(ms, 0.99)
        );
    }
    let per_day: Vec<String> = cpu.iter().map(|c| format!("{:.0}", c / wall * 86_400.0)).collect();
    println!(
        "\nkeypers: CPU over the {wall:.0} s run {:?} s; per day at this rate {} CPU s each; keys registered ahead at the end: {} rounds",
        cpu.iter().map(|c| (c * 10.0).round() / 10.0).collect::<Vec<_>>(),
        per_day.join(" / "),
        Keypers::keys_ahead(&chain, &committee)
    );
    solex_localnet::services::terminate(&mut crank);
    drop(keypers);
}
