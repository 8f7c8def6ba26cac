//! A whole local exchange for the programs that exercise one: the validator with
//! the program, a market with funded wallets, and the crank and the indexer as
//! processes that reach the validator through proxies a run can cut (the chaos
//! suite and the load test).
use std::process::Child;
use std::time::{Duration, Instant};

use solana_keypair::write_keypair_file;
use solex_sdk::CreateMarketArgs;

use crate::ledger::Ledger;
use crate::proxy::Proxy;
use crate::rpc::RpcClient;
use crate::scenario::{fill_queue, market, TestMarket, Wallet};
use crate::services::{self, free_port};
use crate::validator::TestValidator;
use crate::{Keypair, Signer};

/// The demo market of the local exchange, the chaos suite and the load test: a
/// 9-decimal base in lots of 0.001, a 6-decimal quote in ticks of 10 atoms per lot
/// (so 10,000 ticks = 100 quote per base), a 1 bp maker rebate and a 4 bp taker fee.
pub const DEMO_MARKET: CreateMarketArgs = CreateMarketArgs {
    market_id: 0,
    base_lot_size: 1_000_000,
    quote_tick_size: 10,
    min_order_lots: 1,
    maker_fee_bps: -1,
    taker_fee_bps: 4,
};

pub struct Exchange {
    pub validator: TestValidator,
    pub rpc_proxy: Proxy,
    pub ws_proxy: Proxy,
    pub m: TestMarket,
    pub wallets: Vec<Wallet>,
    pub crank_key: std::path::PathBuf,
    pub crank_metrics: String,
    pub crank: Child,
    pub db: String,
    pub db_url: String,
    pub api: String,
    pub indexer: Child,
    pub logs: std::path::PathBuf,
}

impl Exchange {
    /// Starts it all with `wallets` funded wallets (each 500 base and 500,000 quote
    /// deposited), logging the services into `logs`; returns once the indexer has caught up.
    pub fn start(logs: &std::path::Path, wallets: usize) -> Self {
        let validator = TestValidator::start();
        let mut chain = validator.rpc();
        let (m, _) = TestMarket::create(&mut chain, DEMO_MARKET);
        let k = m.keys;
        let wallets: Vec<Wallet> = (0..wallets)
            .map(|_| {
                let w = m.wallet(&mut chain, 1_000_000_000_000, 1_000_000_000_000);
                let deposits =
                    [m.deposit_ix(&w, k.base_mint, 500_000_000_000), m.deposit_ix(&w, k.quote_mint, 500_000_000_000)];
                chain.send(&deposits, &[&w.keypair]).expect("deposits");
                w
            })
            .collect();
        let crank_payer = Keypair::new();
        chain.airdrop(&crank_payer.pubkey(), 100_000_000_000);
        let crank_key = logs.join("crank.json");
        write_keypair_file(&crank_payer, &crank_key).expect("crank keypair");

        // The services reach the validator through proxies the run can cut.
        let host = |url: &str| url.split("://").nth(1).unwrap().to_string();
        let rpc_proxy = Proxy::start(host(&validator.rpc_url()));
        let ws_proxy = Proxy::start(host(&validator.ws_url()));
        let db = format!("solex_exchange_{}", std::process::id());
        let db_url = services::fresh_database(&db);
        let (api_port, metrics_port) = (free_port(), free_port());
        let x = Self {
            crank: services::crank(
                &rpc_proxy.url(),
                &ws_url(&ws_proxy),
                &crank_key,
                &[m.mint_authority.pubkey()],
                &format!("127.0.0.1:{metrics_port}"),
                Some(&logs.join("crank.log")),
            ),
            indexer: services::indexer(
                &db_url,
                &rpc_proxy.url(),
                &ws_url(&ws_proxy),
                &format!("127.0.0.1:{api_port}"),
                Some(&logs.join("indexer.log")),
            ),
            validator,
            rpc_proxy,
            ws_proxy,
            m,
            wallets,
            crank_key,
            crank_metrics: format!("127.0.0.1:{metrics_port}"),
            db,
            db_url,
            api: format!("http://127.0.0.1:{api_port}"),
            logs: logs.to_path_buf(),
        };
        x.wait_indexer_caught_up(Duration::from_secs(120));
        x
    }

    pub fn chain(&self) -> RpcClient {
        self.validator.rpc()
    }

    pub fn restart_crank(&mut self) {
        let log = self.logs.join("crank.log");
        // The previous run's log is kept beside it, named by its pid.
        let _ = std::fs::rename(&log, self.logs.join(format!("crank.{}.log", self.crank.id())));
        self.crank = services::crank(
            &self.rpc_proxy.url(),
            &ws_url(&self.ws_proxy),
            &self.crank_key,
            &[self.m.mint_authority.pubkey()],
            &self.crank_metrics,
            Some(&log),
        );
    }

    pub fn restart_indexer(&mut self) {
        let log = self.logs.join("indexer.log");
        let _ = std::fs::rename(&log, self.logs.join(format!("indexer.{}.log", self.indexer.id())));
        let addr = self.api.trim_start_matches("http://").to_string();
        self.indexer =
            services::indexer(&self.db_url, &self.rpc_proxy.url(), &ws_url(&self.ws_proxy), &addr, Some(&log));
    }

    /// Whether the indexer serves the market's event `seq`.
    pub fn indexed(&self, seq: u64) -> bool {
        let url = format!("{}/markets/{}/events?after={}&limit=1", self.api, self.m.keys.market, seq - 1);
        let body: Option<serde_json::Value> =
            ureq::get(&url).timeout(Duration::from_secs(2)).call().ok().and_then(|r| r.into_json().ok());
        body.is_some_and(|b| b["events"][0]["seq"].as_u64() == Some(seq))
    }

    pub fn healthy(&self) -> bool {
        ureq::get(&format!("{}/health", self.api))
            .timeout(Duration::from_secs(2))
            .call()
            .is_ok_and(|r| r.status() == 200)
    }

    /// Waits until the indexer is healthy (database and Redis) and has indexed
    /// every event the market had when the wait began.
    pub fn wait_indexer_caught_up(&self, bound: Duration) -> Duration {
        let target = market(&self.chain(), &self.m.keys.market).event_seq;
        wait("the indexer to recover and catch up", bound, || self.healthy() && self.indexed(target))
    }

    /// Waits until the crank has settled every fill that was queued when the wait began.
    pub fn wait_crank_progress(&self, bound: Duration) -> Duration {
        let q = fill_queue(&self.chain(), &self.m.keys.fill_queue);
        let target = q.head_seq + q.count;
        wait("the crank to settle again", bound, || {
            fill_queue(&self.chain(), &self.m.keys.fill_queue).head_seq >= target
        })
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        for child in [&mut self.crank, &mut self.indexer] {
            let _ = child.kill();
            let _ = child.wait();
        }
        services::drop_database(&self.db);
    }
}

pub fn ws_url(proxy: &Proxy) -> String {
    format!("ws://127.0.0.1:{}", proxy.port)
}

/// The number after `name` on the command line (`--seconds 60`), if given.
pub fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(|v| v.parse().expect("a number"))
}

/// Polls `done` every 200 ms; panics after `bound`. Returns how long it took.
pub fn wait(what: &str, bound: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < bound, "gave up waiting for {what} after {bound:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}
