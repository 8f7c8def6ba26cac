//! The load test: many wallets send orders as fast as their transactions confirm
//! (each wallet one at a time, a closed loop) against a local validator with the
//! crank and the indexer running. Every 200 ms it samples the chain and the
//! services, and at the end reports:
//!
//! - orders accepted per second (and refused, by reason)
//! - settlement lag: from a fill being queued to the crank having settled it
//! - indexer lag: from an event existing on chain (confirmed) to the indexer serving it
//! - resident memory of the validator, the crank and the indexer over the run,
//!   and whether it kept growing (exits 1 if a service's memory doubled between
//!   the first and the last quarter of the run)
//!
//!     scripts/load.sh [--seconds N] [--wallets N]
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use solex_localnet::bots::Lcg;
use solex_localnet::exchange::{arg, wait, Exchange};
use solex_localnet::ledger::Ledger;
use solex_localnet::rpc::RpcClient;
use solex_localnet::scenario::{fill_queue, market, TestMarket, Wallet};
use solex_localnet::services;
use solex_sdk::instructions as ix;
use solex_sdk::{OrderType, PlaceOrderArgs, Side};

const MID: u64 = 10_000;
/// Sampling period: the resolution of the lag figures.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    refused: Mutex<BTreeMap<String, u64>>,
}

/// One wallet's order flow: mostly resting limit orders a few ticks from the mid,
/// one in three an IOC that crosses it, and a cancel-all every 16th transaction so
/// its order slots never run out.
fn trader(i: usize, url: String, m: &TestMarket, w: &Wallet, stop: &AtomicBool, counts: &Counts) {
    let mut chain = RpcClient::new(url);
    let mut rng = Lcg(i as u64 * 7919 + 1);
    for n in 1u64.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let place = !n.is_multiple_of(16);
        let ixn = if place {
            let side = if rng.next(2) == 0 { Side::Bid } else { Side::Ask };
            let qty = 1 + rng.next(3);
            let args = if rng.next(3) == 0 {
                let price = if side == Side::Bid { MID + 5 } else { MID - 5 };
                PlaceOrderArgs {
                    order_type: OrderType::ImmediateOrCancel,
                    ..PlaceOrderArgs::limit(side, price, qty, n)
                }
            } else {
                let off = 1 + rng.next(6);
                let price = if side == Side::Bid { MID - off } else { MID + off };
                PlaceOrderArgs::limit(side, price, qty, n)
            };
            ix::place_order(w.pubkey(), &m.keys, args)
        } else {
            ix::cancel_all(w.pubkey(), w.pubkey(), &m.keys, None, 32)
        };
        match chain.send(&[ixn], &[&w.keypair]) {
            Ok(_) if place => {
                counts.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => {
                let reason = e.solex_error().map(|e| format!("{e:?}")).unwrap_or_else(|| e.error.clone());
                *counts.refused.lock().unwrap().entry(reason).or_default() += 1;
            }
        }
    }
}

struct Sample {
    at: Duration,
    accepted: u64,
    /// Fill queue: sequence of the next fill to settle, and one past the newest queued.
    head: u64,
    tail: u64,
    chain_seq: u64,
    indexed_seq: u64,
    rss: [Option<u64>; 3],
}

fn indexed_seq(x: &Exchange) -> u64 {
    let text = ureq::get(&format!("{}/metrics", x.api))
        .timeout(Duration::from_secs(2))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .unwrap_or_default();
    let key = format!("solex_indexer_market_seq{{market=\"{}\"}}", x.m.keys.market);
    text.lines().find_map(|l| l.strip_prefix(&key)?.trim().parse().ok()).unwrap_or(0)
}

fn sample(x: &Exchange, chain: &RpcClient, start: Instant, counts: &Counts) -> Sample {
    let q = fill_queue(chain, &x.m.keys.fill_queue);
    Sample {
        at: start.elapsed(),
        accepted: counts.accepted.load(Ordering::Relaxed),
        head: q.head_seq,
        tail: q.head_seq + q.count,
        chain_seq: market(chain, &x.m.keys.market).event_seq,
        indexed_seq: indexed_seq(x),
        rss: [x.validator.pid(), Some(x.crank.id()), Some(x.indexer.id())].map(|p| p.and_then(services::rss_kib)),
    }
}

/// For each sample with work outstanding (`pending`), the time until a later
/// sample shows it done (`done_by`): the lag distribution, in ms.
fn lags(samples: &[Sample], pending: impl Fn(&Sample) -> Option<u64>, done_by: impl Fn(&Sample) -> u64) -> Vec<u128> {
    let mut out = vec![];
    for (i, s) in samples.iter().enumerate() {
        let Some(target) = pending(s) else { continue };
        if let Some(later) = samples[i..].iter().find(|l| done_by(l) >= target) {
            out.push((later.at - s.at).as_millis());
        }
    }
    out.sort();
    out
}

fn percentiles(v: &[u128]) -> String {
    if v.is_empty() {
        return "none observed".into();
    }
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    format!("p50 {} ms  p99 {} ms  max {} ms  ({} samples)", at(0.5), at(0.99), v[v.len() - 1], v.len())
}

fn main() {
    let seconds = arg("--seconds").unwrap_or(60);
    let wallets = arg("--wallets").unwrap_or(24) as usize;
    let logs = tempfile::Builder::new().prefix("solex-load-").tempdir().expect("log directory").keep();
    println!("load: {wallets} wallets for {seconds} s; service logs in {}", logs.display());
    let x = Exchange::start(&logs, wallets);
    let chain = x.chain();
    let stop = AtomicBool::new(false);
    let counts = Counts::default();
    let mut samples = vec![];
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (i, w) in x.wallets.iter().enumerate() {
            let (url, m, stop, counts) = (x.validator.rpc_url(), &x.m, &stop, &counts);
            scope.spawn(move || trader(i, url, m, w, stop, counts));
        }
        while start.elapsed() < Duration::from_secs(seconds) {
            samples.push(sample(&x, &chain, start, &counts));
            std::thread::sleep(SAMPLE_EVERY);
        }
        stop.store(true, Ordering::SeqCst);
    });
    let traded = start.elapsed();
    // Keep sampling while the crank and the indexer finish what was sent.
    let drained = wait("the crank and the indexer to catch up", Duration::from_secs(120), || {
        let s = sample(&x, &chain, start, &counts);
        let done = s.head == s.tail && s.indexed_seq >= s.chain_seq;
        samples.push(s);
        done
    });

    let accepted = counts.accepted.load(Ordering::Relaxed);
    let refused = counts.refused.lock().unwrap().clone();
    let last = samples.last().unwrap();
    println!("load report ({wallets} wallets, {:.0} s of order flow):", traded.as_secs_f64());
    println!(
        "  orders accepted: {accepted} ({:.1}/s); refused: {}",
        accepted as f64 / traded.as_secs_f64(),
        if refused.is_empty() { "none".to_string() } else { format!("{refused:?}") }
    );
    let per_window: Vec<f64> = samples
        .windows(26)
        .step_by(25)
        .filter(|w| w[25].at <= traded)
        .map(|w| (w[25].accepted - w[0].accepted) as f64 / (w[25].at - w[0].at).as_secs_f64())
        .collect();
    if !per_window.is_empty() {
        let (lo, hi) = per_window.iter().fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        println!("  orders/s over 5 s windows: min {lo:.1}, max {hi:.1}");
    }
    println!(
        "  fills queued and settled: {}; queue depth max {}",
        last.head,
        samples.iter().map(|s| s.tail - s.head).max().unwrap_or(0)
    );
    println!(
        "  settlement lag (fill queued -> settled): {}",
        percentiles(&lags(&samples, |s| (s.tail > s.head).then_some(s.tail), |s| s.head))
    );
    println!(
        "  indexer lag (event confirmed -> served): {}",
        percentiles(&lags(&samples, |s| Some(s.chain_seq), |s| s.indexed_seq))
    );
    println!("  caught up {:.1} s after the flow stopped", drained.as_secs_f64());
    println!("  resident memory (MiB) at 0/25/50/75/100% of the run:");
    let mut grew = vec![];
    let during: Vec<&Sample> = samples.iter().filter(|s| s.at <= traded).collect();
    for (i, name) in ["validator", "crank", "indexer"].iter().enumerate() {
        let at = |p: f64| during[((during.len() - 1) as f64 * p) as usize].rss[i].unwrap_or(0);
        let marks: Vec<String> =
            [0.0, 0.25, 0.5, 0.75, 1.0].iter().map(|p| format!("{:>6.1}", at(*p) as f64 / 1024.0)).collect();
        let quarter = |lo: f64, hi: f64| {
            let s = &during[((during.len() - 1) as f64 * lo) as usize..=((during.len() - 1) as f64 * hi) as usize];
            s.iter().filter_map(|s| s.rss[i]).max().unwrap_or(0)
        };
        let (first, final_) = (quarter(0.0, 0.25), quarter(0.75, 1.0));
        let growth = final_ as f64 / first.max(1) as f64;
        println!("    {name:<10} {}   last quarter / first quarter: {growth:.2}x", marks.join(" "));
        if growth > 2.0 {
            grew.push(name.to_string());
        }
    }
    drop(x);
    let _ = std::fs::remove_dir_all(&logs);
    if !grew.is_empty() {
        eprintln!("memory more than doubled during the run: {grew:?}");
        std::process::exit(1);
    }
}
