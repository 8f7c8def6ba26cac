//! The crank against a real solana-test-validator with the built program: fills on
//! several markets get settled within a bound; a crank killed with SIGKILL
//! mid-way and restarted settles every fill exactly once; two cranks at once
//! settle every fill exactly once (the test prints how many of their
//! transactions were wasted); SIGTERM stops it cleanly; a crank whose RPC
//! node goes away recovers by itself when it comes back; and discovery cranks the
//! markets of the listed authorities, and others' only within a fee budget.
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use solana_keypair::write_keypair_file;
use solex_localnet::ledger::Ledger;
use solex_localnet::rpc::{settled_fill_seqs, RpcClient};
use solex_localnet::scenario::*;
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{OrderType, PlaceOrderArgs, Side};

/// The bound the test asserts for settling every queued fill once a crank runs.
const SETTLE_BOUND: Duration = Duration::from_secs(60);

struct Crank {
    child: Child,
    metrics: String,
}

impl Crank {
    /// Polls every 100 ms, without the websocket (so the tests below exercise polling),
    /// and discovers the markets of the fixtures' authorities.
    fn start(rpc_url: &str, keypair: &std::path::Path, batch: u8, ours: &[&Fixture]) -> Self {
        let mut args = vec!["--batch".to_string(), batch.to_string(), "--poll-ms".into(), "100".into()];
        args.extend(["--ws-url".to_string(), "none".into()]);
        args.extend(authorities(ours));
        Self::start_with(rpc_url, keypair, &args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn start_with(rpc_url: &str, keypair: &std::path::Path, args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_solex-crank"))
            .args(["--rpc-url", rpc_url, "--keypair"])
            .arg(keypair)
            .args(args)
            .args(["--metrics-addr", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "solex_crank=info")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start solex-crank");
        Self { child, metrics: format!("http://127.0.0.1:{port}") }
    }

    fn get(&self, path: &str) -> Option<(u16, String)> {
        match ureq::get(&format!("{}{path}", self.metrics)).timeout(Duration::from_secs(2)).call() {
            Ok(r) => Some((r.status(), r.into_string().unwrap_or_default())),
            Err(ureq::Error::Status(code, r)) => Some((code, r.into_string().unwrap_or_default())),
            Err(_) => None,
        }
    }

    /// Sum of a metric's samples whose labels contain `filter`.
    fn metric(&self, name: &str, filter: &str) -> u64 {
        let (_, text) = self.get("/metrics").unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with(name) && l.contains(filter))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status (within 15 s).
    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill").arg(self.child.id().to_string()).status().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "crank did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `--authority` for each fixture's market authority.
fn authorities(ours: &[&Fixture]) -> Vec<String> {
    ours.iter().flat_map(|f| ["--authority".to_string(), f.m.mint_authority.pubkey().to_string()]).collect()
}

/// A market with two makers resting `per_maker` one-lot asks each, and a taker.
struct Fixture {
    m: TestMarket,
    makers: Vec<Wallet>,
    taker: Wallet,
}

fn fixture(chain: &mut RpcClient, market_id: u64, per_maker: u64) -> Fixture {
    let (m, _) = TestMarket::create(chain, market_args(market_id));
    let makers: Vec<Wallet> = (0..2).map(|_| m.wallet(chain, 1_000_000, 0)).collect();
    for w in &makers {
        chain.send(&[m.deposit_ix(w, m.keys.base_mint, 1_000_000)], &[&w.keypair]).unwrap();
    }
    let taker = m.wallet(chain, 0, 100_000_000);
    chain.send(&[m.deposit_ix(&taker, m.keys.quote_mint, 100_000_000)], &[&taker.keypair]).unwrap();
    let f = Fixture { m, makers, taker };
    rest_asks(chain, &f, per_maker);
    f
}

fn rest_asks(chain: &mut RpcClient, f: &Fixture, per_maker: u64) {
    for w in &f.makers {
        let ixs: Vec<_> = (0..per_maker)
            .map(|i| ix::place_order(w.pubkey(), &f.m.keys, PlaceOrderArgs::limit(Side::Ask, 100 + i, 1, i)))
            .collect();
        for chunk in ixs.chunks(4) {
            chain.send(chunk, &[&w.keypair]).unwrap();
        }
    }
}

/// The taker lifts every ask: one fill per resting order, all queued for the crank.
fn take_all(chain: &mut RpcClient, f: &Fixture, fills: u8) {
    let args = PlaceOrderArgs {
        order_type: OrderType::ImmediateOrCancel,
        max_fills: fills,
        ..PlaceOrderArgs::limit(Side::Bid, 10_000, fills as u64, 0)
    };
    let landed = chain.send(&[ix::place_order(f.taker.pubkey(), &f.m.keys, args)], &[&f.taker.keypair]).unwrap();
    let SolexEvent::OrderPlaced(e) = &landed.events[0] else { panic!("no OrderPlaced") };
    assert_eq!(e.fills.len(), fills as usize);
}

fn queue_count(chain: &RpcClient, f: &Fixture) -> (u64, u64) {
    let q = fill_queue(chain, &f.m.keys.fill_queue);
    (q.head_seq, q.count)
}

fn wait_until(what: &str, bound: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

fn assert_exactly_once(chain: &RpcClient, f: &Fixture, fills: u64) {
    let seen = settled_fill_seqs(chain, &f.m.keys.fill_queue);
    let expected: BTreeMap<u64, usize> = (0..fills).map(|s| (s, 1)).collect();
    assert_eq!(seen, expected, "every fill settled exactly once");
    let mut all: Vec<&Wallet> = f.makers.iter().collect();
    all.push(&f.taker);
    f.m.assert_conserved(chain, &all);
    for w in &f.makers {
        let t = trader_account(chain, &f.m.keys.market, &w.pubkey());
        assert_eq!((t.base_locked, t.open_orders), (0, 0), "maker fully settled");
    }
}

/// A validator, an RPC client to it, and a funded fee payer's keypair file for the
/// crank (in a temporary directory that lives as long as the returned guard).
fn chain_with_crank_key() -> (TestValidator, RpcClient, tempfile::TempDir, std::path::PathBuf) {
    let validator = TestValidator::start();
    let mut chain = validator.rpc();
    let dir = tempfile::tempdir().unwrap();
    let payer = Keypair::new();
    chain.airdrop(&payer.pubkey(), 100_000_000_000);
    let keypair = dir.path().join("crank.json");
    write_keypair_file(&payer, &keypair).unwrap();
    (validator, chain, dir, keypair)
}

#[test]
fn crank_settles_markets_survives_sigkill_and_races() {
    let (validator, mut chain, _dir, keypair) = chain_with_crank_key();

    // Two markets with 16 and 6 fills waiting.
    let a = fixture(&mut chain, 1, 8);
    let b = fixture(&mut chain, 2, 3);
    take_all(&mut chain, &a, 16);
    take_all(&mut chain, &b, 6);
    assert_eq!((queue_count(&chain, &a), queue_count(&chain, &b)), ((0, 16), (0, 6)));

    // A crank with small batches, killed with SIGKILL once it has settled some of A.
    let crank = Crank::start(&validator.rpc_url(), &keypair, 2, &[&a, &b]);
    wait_until("the first batches", SETTLE_BOUND, || queue_count(&chain, &a).0 >= 4);
    crank.kill();
    let (head, count) = queue_count(&chain, &a);
    eprintln!("killed the crank with A's queue at head {head}, {count} pending");

    // Restarted: it resumes from the chain's queue head and settles the rest.
    let crank = Crank::start(&validator.rpc_url(), &keypair, 2, &[&a, &b]);
    let took = wait_until("every market settled", SETTLE_BOUND, || {
        queue_count(&chain, &a).1 == 0 && queue_count(&chain, &b).1 == 0
    });
    eprintln!("restarted crank settled both markets in {took:?} (bound {SETTLE_BOUND:?})");
    assert_exactly_once(&chain, &a, 16);
    assert_exactly_once(&chain, &b, 6);

    // Metrics and health.
    wait_until("metrics", Duration::from_secs(10), || crank.metric("solex_crank_events_settled_total", "market=") > 0);
    assert_eq!(crank.get("/health").map(|r| r.0), Some(200));
    let (_, text) = crank.get("/metrics").unwrap();
    for name in [
        "solex_crank_queue_depth",
        "solex_crank_lag_slots",
        "solex_crank_transactions_total",
        "solex_crank_fees_lamports_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics:\n{text}");
    }

    // Two cranks at once on new fills: still exactly once.
    let second = Crank::start(&validator.rpc_url(), &keypair, 2, &[&a]);
    rest_asks(&mut chain, &a, 5);
    take_all(&mut chain, &a, 10);
    wait_until("both cranks settled", SETTLE_BOUND, || queue_count(&chain, &a).1 == 0);
    assert_exactly_once(&chain, &a, 26);
    std::thread::sleep(Duration::from_millis(500));
    let wasted: u64 =
        [&crank, &second].iter().map(|c| c.metric("solex_crank_transactions_total", "result=\"failed\"")).sum();
    let confirmed: u64 =
        [&crank, &second].iter().map(|c| c.metric("solex_crank_transactions_total", "result=\"confirmed\"")).sum();
    eprintln!(
        "two cranks: {confirmed} confirmed transactions, {wasted} lost races (refused in preflight, no fee paid)"
    );

    // SIGTERM: a clean stop.
    assert!(second.terminate().success());
    assert!(crank.terminate().success());
}

#[test]
fn crank_recovers_from_an_rpc_outage_without_a_restart() {
    let (validator, mut chain, _dir, keypair) = chain_with_crank_key();
    let a = fixture(&mut chain, 1, 2);
    take_all(&mut chain, &a, 4);

    let rpc = validator.rpc_url();
    let proxy = solex_localnet::proxy::Proxy::start(rpc.trim_start_matches("http://").to_string());
    let mut crank = Crank::start(&proxy.url(), &keypair, 2, &[&a]);
    wait_until("settled through the proxy", SETTLE_BOUND, || queue_count(&chain, &a).1 == 0);

    // The node goes away; meanwhile new fills queue up.
    proxy.set_up(false);
    rest_asks(&mut chain, &a, 3);
    take_all(&mut chain, &a, 6);
    wait_until("the crank notices", Duration::from_secs(20), || crank.get("/health").map(|r| r.0) == Some(503));
    assert_eq!(queue_count(&chain, &a).1, 6, "nothing settles while the node is unreachable");
    assert!(crank.metric("solex_crank_transactions_total", "reason=\"rpc_transport\"") > 0);
    assert!(crank.is_running(), "an RPC outage does not stop the crank");

    // It comes back: the same process settles everything, exactly once.
    proxy.set_up(true);
    let took = wait_until("settled after the outage", SETTLE_BOUND, || queue_count(&chain, &a).1 == 0);
    eprintln!("settled {took:?} after the RPC node came back");
    assert_exactly_once(&chain, &a, 10);
    wait_until("healthy again", Duration::from_secs(10), || crank.get("/health").map(|r| r.0) == Some(200));
    assert!(crank.terminate().success());
}

#[test]
fn websocket_notifications_wake_the_crank_long_before_its_next_poll() {
    let (validator, mut chain, _dir, keypair) = chain_with_crank_key();
    let a = fixture(&mut chain, 1, 2);

    // Polling once a minute: only a websocket notification can make it settle sooner.
    // (Also the percentile priority-fee policy, which reads getRecentPrioritizationFees.)
    let ws = validator.ws_url();
    let authority = a.m.mint_authority.pubkey().to_string();
    let args = [
        "--authority",
        &authority,
        "--poll-ms",
        "60000",
        "--ws-url",
        &ws,
        "--priority-fee-percentile",
        "75",
        "--priority-fee-micro-lamports",
        "1000",
    ];
    let crank = Crank::start_with(&validator.rpc_url(), &keypair, &args);
    wait_until("websocket subscribed", Duration::from_secs(20), || crank.metric("solex_crank_ws_connected", "") == 1);
    let start = Instant::now();
    take_all(&mut chain, &a, 4);
    let took = wait_until("settled on notification", Duration::from_secs(20), || queue_count(&chain, &a).1 == 0);
    eprintln!("settled {:?} after the fills (poll interval 60 s)", start.elapsed());
    assert!(took < Duration::from_secs(20));
    assert_exactly_once(&chain, &a, 4);
    assert!(crank.terminate().success());
}

#[test]
fn discovery_cranks_the_listed_authorities_markets_and_others_only_within_a_budget() {
    let (validator, mut chain, _dir, keypair) = chain_with_crank_key();
    // Ours, and an attacker's (another authority), each with 4 fills waiting.
    let ours = fixture(&mut chain, 1, 2);
    let theirs = fixture(&mut chain, 2, 2);
    take_all(&mut chain, &ours, 4);
    take_all(&mut chain, &theirs, 4);

    // Discovery with our authority listed: ours is settled, theirs is left alone.
    let crank = Crank::start(&validator.rpc_url(), &keypair, 2, &[&ours]);
    wait_until("our market settled", SETTLE_BOUND, || queue_count(&chain, &ours).1 == 0);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(queue_count(&chain, &theirs), (0, 4), "the attacker's market is not cranked");
    assert_eq!(crank.metric("solex_crank_events_settled_total", &theirs.m.keys.market.to_string()), 0);
    assert!(crank.terminate().success());
    assert_exactly_once(&chain, &ours, 4);

    // With a budget for others' markets of 1 lamport an hour: one transaction (2 of
    // its 4 fills, at --batch 2) spends it, and the crank pays for nothing more.
    let budget = ["--batch", "2", "--poll-ms", "100", "--ws-url", "none", "--unlisted-budget-lamports", "1"];
    let crank = Crank::start_with(&validator.rpc_url(), &keypair, &budget);
    wait_until("one budgeted transaction", SETTLE_BOUND, || queue_count(&chain, &theirs).1 < 4);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(queue_count(&chain, &theirs), (2, 2), "the budget is spent after one transaction");
    assert_eq!(crank.metric("solex_crank_transactions_total", "result=\"confirmed\""), 1);
    assert!(crank.terminate().success());

    // With nothing to bound discovery, the crank refuses to start.
    let out = Command::new(env!("CARGO_BIN_EXE_solex-crank"))
        .args(["--rpc-url", &validator.rpc_url(), "--keypair"])
        .arg(&keypair)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--authority"), "{}", String::from_utf8_lossy(&out.stderr));
}
