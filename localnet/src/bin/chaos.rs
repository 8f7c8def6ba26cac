//! The chaos suite. While the two bots trade on a local validator with the crank
//! and the indexer running, it breaks things at random points, one at a time:
//!
//! - SIGKILLs the crank, and restarts it
//! - SIGKILLs the indexer, and restarts it
//! - stops PostgreSQL, and starts it again
//! - shuts Redis down (it keeps nothing), and starts it again
//! - cuts the services' RPC and websocket connections to the validator (a proxy
//!   severs them and refuses new ones), and restores them
//!
//! After each fault it waits for the system to recover: the indexer healthy
//! and caught up with the chain, the crank settling again. A fault it does not
//! recover from within 90 s fails the run. At the end, with the bots stopped and the
//! queue drained: every vault holds exactly the traders' balances (plus fees),
//! every fill was settled exactly once (from the chain's FillsConsumed events), the
//! index has no gap, and it equals a fresh replay of the chain into an empty
//! database, table by table. It prints what it injected and how long recovery took.
//!
//!     scripts/chaos.sh [--seconds N] [--seed S]
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use solex_localnet::bots::Lcg;
use solex_localnet::exchange::{arg, wait, Exchange};
use solex_localnet::rpc::settled_fill_seqs;
use solex_localnet::scenario::{fill_queue, Wallet};
use solex_localnet::services;

const RECOVERY_BOUND: Duration = Duration::from_secs(90);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    CrankKill,
    IndexerKill,
    PostgresRestart,
    RedisRestart,
    RpcCut,
}

impl Fault {
    const ALL: [Fault; 5] =
        [Fault::CrankKill, Fault::IndexerKill, Fault::PostgresRestart, Fault::RedisRestart, Fault::RpcCut];

    fn label(self) -> &'static str {
        match self {
            Fault::CrankKill => "crank SIGKILL + restart",
            Fault::IndexerKill => "indexer SIGKILL + restart",
            Fault::PostgresRestart => "PostgreSQL stop + start",
            Fault::RedisRestart => "Redis shutdown + start",
            Fault::RpcCut => "RPC + websocket cut",
        }
    }
}

/// Injects one fault, undoes it after `outage`, and returns how long the system
/// took to recover once it was undone.
fn inject(x: &mut Exchange, fault: Fault, outage: Duration) -> Duration {
    match fault {
        Fault::CrankKill => {
            x.crank.kill().unwrap();
            x.crank.wait().unwrap();
            std::thread::sleep(outage);
            x.restart_crank();
        }
        Fault::IndexerKill => {
            x.indexer.kill().unwrap();
            x.indexer.wait().unwrap();
            std::thread::sleep(outage);
            x.restart_indexer();
        }
        Fault::PostgresRestart => {
            services::postgres("stop");
            std::thread::sleep(outage);
            services::postgres("start");
        }
        Fault::RedisRestart => {
            services::redis("stop");
            std::thread::sleep(outage);
            services::redis("start");
        }
        Fault::RpcCut => {
            x.rpc_proxy.set_up(false);
            x.ws_proxy.set_up(false);
            std::thread::sleep(outage);
            x.rpc_proxy.set_up(true);
            x.ws_proxy.set_up(true);
        }
    }
    let start = Instant::now();
    x.wait_indexer_caught_up(RECOVERY_BOUND);
    x.wait_crank_progress(RECOVERY_BOUND);
    start.elapsed()
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn main() {
    let seconds = arg("--seconds").unwrap_or(60);
    let seed = arg("--seed").unwrap_or_else(|| std::time::UNIX_EPOCH.elapsed().unwrap().as_secs());
    let logs = tempfile::Builder::new().prefix("solex-chaos-").tempdir().expect("log directory");
    let logs = logs.keep();
    println!(
        "chaos: {seconds} s of trading with faults, seed {seed} (--seed {seed} repeats it); logs in {}",
        logs.display()
    );
    let mut x = Exchange::start(&logs, 2);
    let stop = Arc::new(AtomicBool::new(false));
    let mut rng = Lcg(seed);
    let mut recovered: BTreeMap<Fault, Vec<Duration>> = BTreeMap::new();

    // The bots' own copies: the fault loop restarts services in `x` meanwhile.
    let (m, maker, taker) = (x.m.clone(), x.wallets[0].clone(), x.wallets[1].clone());
    std::thread::scope(|scope| {
        // Stops the bots however this closure ends (a failed check panics here).
        let _stop_bots = StopOnDrop(stop.clone());
        let (m, maker, taker) = (&m, &maker, &taker);
        let url = x.validator.rpc_url();
        let (s1, s2, u1) = (stop.clone(), stop.clone(), url.clone());
        scope.spawn(move || solex_localnet::bots::market_maker(u1, m, maker, 10_000, Duration::from_millis(700), s1));
        scope.spawn(move || solex_localnet::bots::taker(url, m, taker, Duration::from_millis(400), s2));

        // Faults in a shuffled round-robin: every kind comes up once per round.
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let mut round: Vec<Fault> = vec![];
        // Until the deadline, and at least one fault of every kind.
        while Instant::now() < deadline || recovered.len() < Fault::ALL.len() {
            std::thread::sleep(rng.millis(1_000, 4_000));
            if round.is_empty() {
                round = Fault::ALL.to_vec();
            }
            let fault = round.swap_remove(rng.next(round.len() as u64) as usize);
            let outage = rng.millis(500, 4_000);
            println!("  t+{:>4.0}s  {} ({} ms)", started.elapsed().as_secs_f64(), fault.label(), outage.as_millis());
            let took = inject(&mut x, fault, outage);
            recovered.entry(fault).or_default().push(took);
        }
    });

    // Quiet: the crank drains the queue, the indexer catches up.
    let chain = x.chain();
    wait("the queue to drain", Duration::from_secs(120), || fill_queue(&chain, &x.m.keys.fill_queue).count == 0);
    x.wait_indexer_caught_up(Duration::from_secs(120));

    // 1. Conservation: vault = sum of traders' available + locked (+ fees).
    let wallets: Vec<&Wallet> = x.wallets.iter().collect();
    x.m.assert_conserved(&chain, &wallets);
    // 2. Every fill settled exactly once.
    let head = fill_queue(&chain, &x.m.keys.fill_queue).head_seq;
    let settled = settled_fill_seqs(&chain, &x.m.keys.fill_queue);
    let expected: BTreeMap<u64, usize> = (0..head).map(|s| (s, 1)).collect();
    assert_eq!(settled, expected, "every fill settled exactly once");
    // 3. No gap, and the live index equals a fresh replay.
    services::indexer_command(&x.db_url, &["check"]);
    let replay_db = format!("{}_replay", x.db);
    let replay_url = services::fresh_database(&replay_db);
    services::indexer_command(&replay_url, &["backfill", "--rpc-url", &x.validator.rpc_url()]);
    let (live, replay) =
        (services::indexer_command(&x.db_url, &["digest"]), services::indexer_command(&replay_url, &["digest"]));
    services::drop_database(&replay_db);
    assert_eq!(live, replay, "the live index differs from a fresh replay");
    let rows: BTreeMap<&str, u64> = live
        .lines()
        .filter_map(|l| l.split(' ').collect::<Vec<_>>().get(..2).map(|v| (v[0], v[1].parse().unwrap())))
        .collect();

    let injected: usize = recovered.values().map(Vec::len).sum();
    println!("chaos report (seed {seed}, {seconds} s):");
    println!("  trading: {} orders, {} fills, {} events indexed", rows["orders"], rows["trades"], rows["events"]);
    println!("  faults injected {injected}, survived {injected} (recovery: indexer healthy and caught up, crank settling again)");
    for (fault, times) in &recovered {
        let mut ms: Vec<u128> = times.iter().map(Duration::as_millis).collect();
        ms.sort();
        println!(
            "    {:<27} {:>3}   recovery p50 {:>5} ms  max {:>5} ms",
            fault.label(),
            ms.len(),
            ms[ms.len() / 2],
            ms[ms.len() - 1]
        );
    }
    println!(
        "  connections severed by RPC cuts: {}",
        x.rpc_proxy.severed.load(Ordering::SeqCst) + x.ws_proxy.severed.load(Ordering::SeqCst)
    );
    println!("  vaults conserved: yes; fills settled exactly once: {head} of {head}; gaps: none");
    println!("  index equals a fresh replay: yes ({} tables)", rows.len());
    let _ = std::fs::remove_dir_all(&logs);
}
