//! Settlement benchmark on a local solana-test-validator, with 4 makers and the
//! crank in process at its default settings:
//! - backlog: FILLS fills queued before the crank starts; prints how fast it drains
//!   them (fills settled per second, from its start to an empty queue);
//! - live: with the crank running, a taker lifts FILLS more asks (32 fills per
//!   transaction); prints the settlement lag in slots, from each fill's slot to the
//!   slot of the consume_events that settled it (p50 / p99 / max).
//!
//!     cargo run -p solex-crank --example settle_bench --ignore-rust-version [-- FILLS]
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use solana_keypair::write_keypair_file;
use solex_crank::config::{Args, Config};
use solex_crank::metrics::Metrics;
use solex_localnet::ledger::Ledger;
use solex_localnet::rpc::RpcClient;
use solex_localnet::scenario::*;
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::rpc::transaction_events;
use solex_sdk::{OrderType, PlaceOrderArgs, Side};

const MAKERS: u64 = 4;

struct Bench {
    chain: RpcClient,
    m: TestMarket,
    makers: Vec<Wallet>,
    taker: Wallet,
}

impl Bench {
    fn rest(&mut self, fills: u64) {
        for w in &self.makers {
            let orders: Vec<_> = (0..fills / MAKERS)
                .map(|i| ix::place_order(w.pubkey(), &self.m.keys, PlaceOrderArgs::limit(Side::Ask, 100 + i, 1, i)))
                .collect();
            for chunk in orders.chunks(4) {
                self.chain.send(chunk, &[&w.keypair]).unwrap();
            }
        }
    }

    /// Lifts `fills` asks; returns each fill's sequence number and slot.
    fn take(&mut self, fills: u64) -> BTreeMap<u64, u64> {
        let mut slots = BTreeMap::new();
        let mut left = fills;
        while left > 0 {
            let n = left.min(solex::matching::MAX_BATCH as u64);
            let args = PlaceOrderArgs {
                order_type: OrderType::ImmediateOrCancel,
                max_fills: n as u8,
                ..PlaceOrderArgs::limit(Side::Bid, 10_000, n, 0)
            };
            let landed = self
                .chain
                .send(&[ix::place_order(self.taker.pubkey(), &self.m.keys, args)], &[&self.taker.keypair])
                .unwrap();
            let slot = self.chain.transaction(&landed.signature).unwrap()["slot"].as_u64().unwrap();
            let SolexEvent::OrderPlaced(e) = &landed.events[0] else { panic!("no OrderPlaced") };
            slots.extend(e.fills.iter().map(|f| (f.fill_seq, slot)));
            left -= n;
        }
        slots
    }

    fn wait_empty(&self, since: Instant) -> Duration {
        while fill_queue(&self.chain, &self.m.keys.fill_queue).count > 0 {
            assert!(since.elapsed() < Duration::from_secs(300), "not settled in 5 minutes");
            std::thread::sleep(Duration::from_millis(20));
        }
        since.elapsed()
    }

    /// Slot each fill was settled in, and how many consume_events transactions did it.
    fn settled(&self) -> (BTreeMap<u64, u64>, usize) {
        let mut slots = BTreeMap::new();
        let mut transactions = 0;
        for sig in self.chain.signatures_for(&self.m.keys.fill_queue).unwrap() {
            let details = self.chain.transaction(&sig).unwrap();
            let slot = details["slot"].as_u64().unwrap();
            for e in transaction_events(&details) {
                if let SolexEvent::FillsConsumed(c) = e {
                    transactions += 1;
                    for s in c.settled {
                        assert!(slots.insert(s.fill_seq, slot).is_none(), "fill {} settled twice", s.fill_seq);
                    }
                }
            }
        }
        (slots, transactions)
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let fills: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(128);
    assert!(
        fills.is_multiple_of(MAKERS) && fills / MAKERS <= TEST_MAX_ORDERS as u64,
        "FILLS: a multiple of 4, at most 128"
    );
    eprintln!("starting solana-test-validator and queueing {fills} fills ...");
    let validator = TestValidator::start();
    let mut chain = validator.rpc();
    let (m, _) = TestMarket::create(&mut chain, market_args(1));
    let makers: Vec<Wallet> = (0..MAKERS).map(|_| m.wallet(&mut chain, 1_000_000, 0)).collect();
    for w in &makers {
        chain.send(&[m.deposit_ix(w, m.keys.base_mint, 1_000_000)], &[&w.keypair]).unwrap();
    }
    let taker = m.wallet(&mut chain, 0, 1_000_000_000);
    chain.send(&[m.deposit_ix(&taker, m.keys.quote_mint, 1_000_000_000)], &[&taker.keypair]).unwrap();
    let payer = Keypair::new();
    chain.airdrop(&payer.pubkey(), 10_000_000_000);
    let mut b = Bench { chain, m, makers, taker };

    // Backlog: everything queued first.
    b.rest(fills);
    b.take(fills);
    let dir = tempfile::tempdir().unwrap();
    let keypair = dir.path().join("crank.json");
    write_keypair_file(&payer, &keypair).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let args = Args {
        rpc_url: Some(validator.rpc_url()),
        keypair: Some(keypair),
        metrics_addr: Some(([127, 0, 0, 1], port).into()),
        poll_ms: Some(100),
        authorities: vec![b.m.mint_authority.pubkey().to_string()],
        ..Args::default()
    };
    let cfg = Config::load(args).unwrap();
    let batch = cfg.batch;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let crank = tokio::spawn(solex_crank::service::run(cfg, payer, Metrics::default(), shutdown));
    let drained = b.wait_empty(started);
    let (_, backlog_txs) = b.settled();

    // Live: the crank is running while the fills happen.
    b.rest(fills);
    let fill_slots = b.take(fills);
    b.wait_empty(Instant::now());
    stop.send(true).unwrap();
    crank.await.unwrap().unwrap();
    let (settled, txs) = b.settled();
    let mut lags: Vec<u64> = fill_slots.iter().map(|(seq, slot)| settled[seq] - slot).collect();
    lags.sort_unstable();
    assert_eq!(settled.len() as u64, 2 * fills, "every fill settled exactly once");

    println!("| settlement, local validator, 4 makers, batch {batch}, one crank | value |");
    println!("|---|---:|");
    println!("| backlog: {fills} fills drained in | {:.2} s ({} transactions) |", drained.as_secs_f64(), backlog_txs);
    println!("| backlog throughput | {:.1} fills/s |", fills as f64 / drained.as_secs_f64());
    println!("| live: {fills} fills, settled by | {} transactions |", txs - backlog_txs);
    println!("| live lag p50 (slots from fill to settlement) | {} |", percentile(&lags, 0.5));
    println!("| live lag p99 | {} |", percentile(&lags, 0.99));
    println!("| live lag max | {} |", lags.last().unwrap());
}
