//! What the indexer's end-to-end tests share: a throwaway database, Redis, an HTTP
//! getter and a WebSocket client.
#![allow(dead_code)] // each test binary uses its own part of this

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use solex_indexer::db;
use solex_indexer::stored::StoredEvent;
use tokio_tungstenite::tungstenite::Message;

/// A throwaway database on the local server (`SOLEX_TEST_DATABASE_URL`), dropped at the end.
pub struct TestDb {
    name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let name = format!("solex_test_{}_{}", std::process::id(), std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos());
        let url = db::create_database(&solex_localnet::services::pg_admin_url(), &name)
            .await
            .expect("PostgreSQL reachable (scripts/setup.sh services starts it)");
        Self { name, url }
    }

    pub async fn drop_db(self) {
        db::drop_database(&solex_localnet::services::pg_admin_url(), &self.name).await.unwrap();
    }
}

/// A validator, a throwaway database, and `solex-indexer run` (the real binary)
/// indexing the one into the other, with the live feed in Redis.
pub struct Stack {
    pub db: TestDb,
    pub validator: TestValidator,
    pub port: u16,
    /// The API's base URL.
    pub base: String,
    pub indexer: Indexer,
}

/// The indexer process, killed if a failing test leaves it running.
pub struct Indexer(pub std::process::Child);

impl Drop for Indexer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Stack {
    pub async fn start() -> Self {
        let db = TestDb::create().await;
        let validator = TestValidator::start();
        let port = free_port();
        let indexer = Self::spawn(&db.url, &validator, port);
        Self { db, validator, port, base: format!("http://127.0.0.1:{port}"), indexer }
    }

    pub fn spawn(db_url: &str, validator: &TestValidator, port: u16) -> Indexer {
        Indexer(Self::command(db_url, validator, port).spawn().expect("start solex-indexer"))
    }

    fn command(db_url: &str, validator: &TestValidator, port: u16) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_solex-indexer"));
        c.args(["--database-url", db_url, "run", "--rpc-url", &validator.rpc_url()])
            .args(["--ws-url", &validator.ws_url(), "--poll-ms", "200", "--redis-url", &redis_url()])
            .args(["--api-addr", &format!("127.0.0.1:{port}")]);
        c
    }

    /// `start`, with the indexer logging at `rust_log` (its `RUST_LOG`) into `log`.
    pub async fn start_logging(log: &std::path::Path, rust_log: &str) -> Self {
        let db = TestDb::create().await;
        let validator = TestValidator::start();
        let port = free_port();
        let file = std::fs::File::create(log).unwrap();
        let indexer = Indexer(
            Self::command(&db.url, &validator, port)
                .env("RUST_LOG", rust_log)
                .stdout(file.try_clone().unwrap())
                .stderr(file)
                .spawn()
                .expect("start solex-indexer"),
        );
        Self { db, validator, port, base: format!("http://127.0.0.1:{port}"), indexer }
    }

    /// SIGKILLs the indexer (no chance to finish anything), then starts it again.
    pub fn kill_and_restart(&mut self) {
        self.indexer.0.kill().unwrap();
        self.indexer.0.wait().unwrap();
        std::thread::sleep(Duration::from_secs(1));
        self.indexer = Self::spawn(&self.db.url, &self.validator, self.port);
    }

    /// Stops the indexer with SIGINT (it must exit 0) and drops the database.
    pub async fn stop(mut self) {
        std::process::Command::new("kill").args(["-INT", &self.indexer.0.id().to_string()]).status().unwrap();
        assert!(self.indexer.0.wait().unwrap().success(), "the indexer stops cleanly on SIGINT");
        self.db.drop_db().await;
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn redis_url() -> String {
    std::env::var("SOLEX_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// GET `base + path`: (status, JSON body), for any status.
pub async fn get(base: &str, path: &str) -> (u16, Value) {
    let url = format!("{base}{path}");
    tokio::task::spawn_blocking(move || match ureq::get(&url).call() {
        Ok(r) => (r.status(), r.into_json::<Value>().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json::<Value>().unwrap()),
        Err(e) => panic!("{url}: {e}"),
    })
    .await
    .unwrap()
}

/// POST a JSON body to `base + path`: (status, JSON body), for any status.
pub async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let url = format!("{base}{path}");
    tokio::task::spawn_blocking(move || match ureq::post(&url).send_json(body) {
        Ok(r) => (r.status(), r.into_json::<Value>().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json::<Value>().unwrap()),
        Err(e) => panic!("{url}: {e}"),
    })
    .await
    .unwrap()
}

/// Serves the API of `app` on a free local port; returns its base URL.
pub async fn serve(app: solex_indexer::http::App) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(solex_indexer::api::serve_on(listener, app, std::time::Duration::from_secs(5)));
    base
}

/// An API over `db` with Redis for the live feed and the book cache.
pub async fn app(db: sqlx::PgPool) -> solex_indexer::http::App {
    let client = redis::Client::open(redis_url()).unwrap();
    let cache = solex_indexer::live::connect(&client).await.expect("Redis reachable");
    let hub = Some(solex_indexer::hub::Hub::start(client));
    solex_indexer::http::App {
        db,
        hub,
        cache: Some(cache),
        metrics: Default::default(),
        rpc: None,
        shutdown: Default::default(),
    }
}

pub struct Ws(tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>);

impl Ws {
    /// Connects to the `/ws` of an API at `base` (http://host:port).
    pub async fn connect(base: &str) -> Self {
        let url = format!("{}/ws", base.replacen("http", "ws", 1));
        Self(tokio_tungstenite::connect_async(&url).await.expect("WebSocket connects").0)
    }

    pub async fn send(&mut self, v: Value) {
        self.0.send(Message::Text(v.to_string().into())).await.unwrap();
    }

    /// The next JSON message (pings skipped), within `secs` seconds.
    pub async fn next_within(&mut self, secs: u64) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(secs), self.0.next()).await.ok()?.unwrap().unwrap();
            if let Message::Text(t) = msg {
                return Some(serde_json::from_str(&t).unwrap());
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(10).await.expect("a message within 10 s")
    }

    /// Subscribes and checks the acknowledgement.
    pub async fn subscribe(&mut self, channel: &str) {
        self.send(serde_json::json!({"op": "subscribe", "channel": channel})).await;
        let ack = self.next().await;
        assert_eq!((ack["op"].as_str(), ack["channel"].as_str()), (Some("subscribed"), Some(channel)), "{ack}");
    }
}

use solex_localnet::ledger::{Landed, Ledger};
use solex_localnet::rpc::RpcClient;
use solex_localnet::scenario::{book, market, market_args, TestMarket, Wallet};
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::accounts::book_levels;
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, SelfTradeMode, Side};

/// A market on the validator with three funded wallets (A, B, C) and a crank key.
pub struct Session {
    pub market: TestMarket,
    pub wallets: Vec<Wallet>,
    pub crank: Keypair,
}

impl Session {
    /// Two sessions: a maker fee on the first market, a maker rebate on the second.
    pub async fn open_two(validator: &TestValidator) -> std::sync::Arc<[Session; 2]> {
        let url = validator.rpc_url();
        let sessions = tokio::task::spawn_blocking(move || {
            let mut chain = RpcClient::new(url);
            [(1, 2, 5), (2, -1, 4)].map(|(id, maker, taker)| Session::open(&mut chain, id, maker, taker))
        })
        .await
        .unwrap();
        std::sync::Arc::new(sessions)
    }

    /// Creates the market and the wallets, each with 1,000 base lots and 10^7 quote atoms deposited.
    pub fn open(chain: &mut RpcClient, id: u64, maker_fee_bps: i16, taker_fee_bps: i16) -> Self {
        let args = CreateMarketArgs { maker_fee_bps, taker_fee_bps, ..market_args(id) };
        let (market, _) = TestMarket::create(chain, args);
        let mut wallets = vec![];
        for _ in 0..3 {
            let w = market.wallet(chain, 2_000_000, 20_000_000);
            let deposits = [
                market.deposit_ix(&w, market.keys.base_mint, 1_000_000),
                market.deposit_ix(&w, market.keys.quote_mint, 10_000_000),
            ];
            chain.send(&deposits, &[&w.keypair]).unwrap();
            wallets.push(w);
        }
        let crank = Keypair::new();
        chain.airdrop(&crank.pubkey(), 1_000_000_000);
        Self { market, wallets, crank }
    }

    fn place(&self, chain: &mut RpcClient, w: usize, args: PlaceOrderArgs) -> Landed {
        let w = &self.wallets[w];
        chain.send(&[ix::place_order(w.pubkey(), &self.market.keys, args)], &[&w.keypair]).unwrap()
    }

    /// A session that makes every kind of change the indexer derives: resting and
    /// crossing orders over several levels, an IOC, cancels, a self-trade cancel and
    /// a decrement, an order that expires before a taker meets it, a replace, a
    /// post-only slide, a delegate, a pause, the crank, settlement and a withdrawal.
    /// Returns every transaction that landed.
    pub fn trade(&self, chain: &mut RpcClient) -> Vec<Landed> {
        let keys = &self.market.keys;
        let (a, b, c) = (0, 1, 2);
        let mut landed = vec![];
        let limit = PlaceOrderArgs::limit;
        for (w, side, price, qty, id) in [
            (a, Side::Ask, 100, 3, 1),
            (a, Side::Ask, 101, 2, 2),
            (a, Side::Ask, 103, 4, 3),
            (a, Side::Bid, 95, 5, 4),
            (a, Side::Bid, 96, 1, 5),
            (b, Side::Bid, 96, 2, 1),
            (b, Side::Bid, 97, 3, 2),
            (b, Side::Ask, 104, 2, 3),
        ] {
            landed.push(self.place(chain, w, limit(side, price, qty, id)));
        }
        let ioc = |side, price, qty| PlaceOrderArgs {
            order_type: OrderType::ImmediateOrCancel,
            ..limit(side, price, qty, 0)
        };
        // C takes 100 x3 and 101 x1 from A, then sells into B's 97 and A's 96.
        landed.push(self.place(chain, c, ioc(Side::Bid, 101, 4)));
        landed.push(self.place(chain, c, limit(Side::Ask, 96, 4, 7)));
        // A cancels its ask at 103.
        let (wa, wb) = (&self.wallets[a], &self.wallets[b]);
        let ask_103 = placed_id(&landed[2]);
        landed.push(chain.send(&[ix::cancel_order(wa.pubkey(), keys, Side::Ask, ask_103)], &[&wa.keypair]).unwrap());
        // B's bid at 104 takes A's last lot at 101, cancels B's own ask at 104, rests 2.
        let stp = PlaceOrderArgs { self_trade: SelfTradeMode::CancelResting, ..limit(Side::Bid, 104, 3, 8) };
        landed.push(self.place(chain, b, stp));
        // An ask valid for two more slots, met by a taker after it expired.
        let expires = chain.slot().unwrap() + 2;
        landed.push(self.place(
            chain,
            a,
            PlaceOrderArgs { expiry: Expiry::Slot(expires), ..limit(Side::Ask, 110, 1, 9) },
        ));
        while chain.slot().unwrap() <= expires + 1 {
            std::thread::sleep(Duration::from_millis(100));
        }
        landed.push(self.place(chain, c, ioc(Side::Bid, 110, 1)));
        // A replaces its bid at 95 by one at 94 for 6.
        let bid_95 = placed_id(&landed[3]);
        let replace = ix::replace_order(wa.pubkey(), wa.pubkey(), keys, Side::Bid, bid_95, limit(Side::Bid, 94, 6, 10));
        landed.push(chain.send(&[replace], &[&wa.keypair]).unwrap());
        // A post-only ask at 100 would cross B's 104 bid: it slides to 105.
        landed.push(self.place(
            chain,
            a,
            PlaceOrderArgs { order_type: OrderType::PostOnlySlide, ..limit(Side::Ask, 100, 1, 11) },
        ));
        // B's ask at 104 meets its own bid: both decrement by 1.
        landed.push(self.place(
            chain,
            b,
            PlaceOrderArgs { self_trade: SelfTradeMode::DecrementBoth, ..limit(Side::Ask, 104, 1, 12) },
        ));
        landed.extend(self.market.consume_all(chain, &self.crank));
        let delegate = solex_sdk::Pubkey::new_unique();
        landed.push(
            chain
                .send(
                    &[ix::set_delegate(wa.pubkey(), keys.market, Some((delegate, u64::MAX / 2, u64::MAX / 2)))],
                    &[&wa.keypair],
                )
                .unwrap(),
        );
        let authority = &self.market.mint_authority;
        for paused in [true, false] {
            landed.push(chain.send(&[ix::set_paused(authority.pubkey(), keys.market, paused)], &[authority]).unwrap());
        }
        landed.push(chain.send(&[self.market.settle_ix(wa)], &[&self.crank]).unwrap());
        let wc = &self.wallets[c];
        landed.push(chain.send(&[self.market.withdraw_ix(wc, keys.base_mint, 1_500)], &[&wc.keypair]).unwrap());
        landed.push(chain.send(&[ix::cancel_all(wb.pubkey(), wb.pubkey(), keys, None, 32)], &[&wb.keypair]).unwrap());
        landed.extend(self.market.consume_all(chain, &self.crank));
        landed
    }
}

/// The id of the order a place_order transaction placed.
pub fn placed_id(landed: &Landed) -> u128 {
    landed
        .events
        .iter()
        .find_map(|e| match e {
            solex_sdk::events::SolexEvent::OrderPlaced(o) => Some(o.order_id),
            _ => None,
        })
        .expect("an OrderPlaced event")
}

/// The chain's book of `market`: (event seq, bids, asks).
pub fn chain_book(chain: &dyn Ledger, market_key: &solex_sdk::Pubkey) -> (u64, Vec<[u64; 2]>, Vec<[u64; 2]>) {
    let m = market(chain, market_key);
    (m.event_seq, book_levels(&book(chain, &m.bids), usize::MAX), book_levels(&book(chain, &m.asks), usize::MAX))
}

/// Waits until the API at `base` has indexed `market` up to `seq`.
pub async fn wait_indexed(base: &str, market: &str, seq: u64) {
    let start = std::time::Instant::now();
    loop {
        let (status, body) = get(base, &format!("/markets/{market}/events?after={}&limit=1", seq - 1)).await;
        if status == 200 && body["events"][0]["seq"].as_u64() == Some(seq) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{market} not indexed to seq {seq} within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every derived table, as JSON rows in key order (to compare two databases or a rebuild).
pub async fn derived_tables(pool: &sqlx::PgPool) -> Vec<(&'static str, Vec<Value>)> {
    db::snapshot(pool).await.unwrap()
}

/// `event` as ingestion stores it (the program's self-invocation data), for tests
/// that feed events straight into `db::store` without a validator.
pub fn stored_event<E: anchor_lang::Event>(event: &E, slot: i64) -> StoredEvent {
    let data = [anchor_lang::event::EVENT_IX_TAG_LE, &event.data()].concat();
    let signature = Keypair::new().sign_message(&data).to_string();
    StoredEvent::decode(data, signature, slot, Some(1_700_000_000 + slot)).expect("a Solex event")
}

/// A throwaway database, migrated, with its pool.
pub async fn migrated_db() -> (TestDb, sqlx::PgPool) {
    let test_db = TestDb::create().await;
    let pool = db::connect(&test_db.url).await.unwrap();
    db::migrate(&pool).await.unwrap();
    (test_db, pool)
}

/// A random address. (`Pubkey::new_unique` counts from the same start in every test
/// process, and the tests share one Redis.)
pub fn random_key() -> solex_sdk::Pubkey {
    Keypair::new().pubkey()
}

/// A `MarketCreated` of `market` (lot 1,000 base atoms, tick 10, no fees), to store
/// with `stored_event`.
pub fn market_created(market: solex_sdk::Pubkey) -> solex_sdk::event_types::MarketCreated {
    solex_sdk::event_types::MarketCreated {
        market,
        seq: 1,
        authority: random_key(),
        base_mint: random_key(),
        quote_mint: random_key(),
        base_lot_size: 1_000,
        quote_tick_size: 10,
        min_order_lots: 0,
        maker_fee_bps: 0,
        taker_fee_bps: 0,
    }
}

/// A batch market on the validator for the transaction API's and the page's tests:
/// a 2-of-3 keyper committee with dealt keys (`solex_localnet::auction`), a batch
/// market over it (lot 1,000 base atoms, tick 10, minimum 1 lot, maker fee 2 bps,
/// taker 5, sealed-order fee `SEALED_FEE`, 8 sealed orders a batch) and a crank key.
pub struct BatchMarket {
    pub chain: RpcClient,
    pub crank: Keypair,
    pub committee: solex_localnet::auction::Committee,
    pub auction: solex_localnet::auction::TestAuction,
    pub batch_slots: u64,
}

impl BatchMarket {
    pub const ROUND_SLOTS: u64 = 16;
    pub const SEALED_FEE: u64 = 100;

    /// Keys for `rounds` keyper rounds of 16 slots, from the round after next (a round
    /// may begin while the registrations land, and a key can only be registered for a
    /// round not yet begun); batches of `batch_slots`, a key may take 32 slots after a close.
    pub fn open(url: String, batch_slots: u64, rounds: u64) -> Self {
        let mut chain = RpcClient::new(url);
        let crank = Keypair::new();
        chain.airdrop(&crank.pubkey(), 100_000_000_000);
        let mut committee =
            solex_localnet::auction::Committee::create(&mut chain, &crank, 3, 2, Self::ROUND_SLOTS, 16, 64);
        let first = committee.round_of(chain.current_slot()) + 2;
        for r in committee.register(&mut chain, first..first + rounds, &[0, 1, 2]) {
            r.expect("register keys");
        }
        chain.wait_until_slot(first * Self::ROUND_SLOTS);
        let args = CreateMarketArgs {
            market_id: 1,
            base_lot_size: 1_000,
            quote_tick_size: 10,
            min_order_lots: 1,
            maker_fee_bps: 2,
            taker_fee_bps: 5,
        };
        let rules = solex::CreateAuctionArgs { batch_slots, reveal_timeout_slots: 32, sealed_fee: Self::SEALED_FEE };
        let (auction, _) = solex_localnet::auction::TestAuction::create(&mut chain, &committee, args, rules, 8);
        Self { chain, crank, committee, auction, batch_slots }
    }

    pub fn market(&self) -> solex_sdk::Pubkey {
        self.auction.keys.market.market
    }

    /// A wallet with a trader account and `base` atoms and `quote` atoms deposited.
    pub fn wallet(&mut self, base: u64, quote: u64) -> Wallet {
        let m = &self.auction.m;
        let (w, _) = m.wallet_from(&mut self.chain, Keypair::new(), base, quote);
        let deposits = [m.deposit_ix(&w, m.keys.base_mint, base), m.deposit_ix(&w, m.keys.quote_mint, quote)];
        self.chain.send(&deposits, &[&w.keypair]).expect("deposit");
        w
    }

    /// Rests a post-only order of `w` on the book.
    pub fn rest(&mut self, w: &Wallet, side: Side, price: u64, qty: u64) -> Landed {
        let args = PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(side, price, qty, price) };
        self.chain.send(&[ix::place_order(w.pubkey(), &self.auction.m.keys, args)], &[&w.keypair]).expect("rest")
    }

    /// The batch collecting now, its close slot and its key round.
    pub fn current(&self) -> (u64, u64, u64) {
        self.auction.current(&self.chain, &self.committee)
    }

    /// Waits for a batch with at least `share` of its slots left; returns (batch, close slot).
    pub fn fresh_batch(&mut self, share: f64) -> (u64, u64) {
        let (_, close, _) = self.current();
        if ((close - self.chain.current_slot()) as f64) < self.batch_slots as f64 * share {
            self.chain.wait_until_slot(close);
        }
        let (batch, close, _) = self.current();
        (batch, close)
    }

    /// After batch `b` closed: its key released (members 0 and 2), its orders opened,
    /// the batch cleared and executed, and the resting fills consumed, with the
    /// harness's steps. Returns what landed.
    pub fn process(&mut self, b: u64) -> Vec<Landed> {
        use solex_localnet::auction::with_budget;
        let h = *self.auction.state(&self.chain).batch(b).expect("the batch").0;
        self.chain.wait_until_slot(h.close_slot + 1);
        let crank = self.crank.insecure_clone();
        self.committee.release(&mut self.chain, &crank, h.key_round, &[0, 2]);
        let mut landed = vec![];
        while let Some(ix) = self.auction.next_decrypt_ix(&self.chain, b) {
            landed.push(self.chain.send(&with_budget(ix), &[&crank]).expect("decrypt"));
        }
        let clear = solex_sdk::auction::clear_batch(&self.auction.keys, b);
        landed.push(self.chain.send(&with_budget(clear), &[&crank]).expect("clear"));
        while let Some(ix) = self.auction.next_execute_ix(&self.chain, b, 8) {
            landed.push(self.chain.send(&with_budget(ix), &[&crank]).expect("execute"));
        }
        landed.extend(self.auction.m.consume_all(&mut self.chain, &crank));
        landed
    }
}
