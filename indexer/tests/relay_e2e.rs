//! The transaction API defending itself, on the real `solex-indexer serve` binary
//! in front of a scripted JSON-RPC node that records every call (so a test can
//! see what was sent to the chain and how many bytes came back): the relay sends
//! only Solex's order flow with verified signatures, bounds the relays in flight
//! and each client's rate, answers "pending" within a bounded time for a
//! transaction that never lands, builders refuse (without downloading it) an
//! account that is not a Solex market, read a batch market's auction and keyper
//! set with bounded slices, and CORS on /tx/* (and the batch key, which reads the
//! chain) is for configured origins only while read-only REST stays open.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::Discriminator;
use axum::extract::State;
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use solana_transaction::Transaction;
use solex_localnet::{Keypair, Signer};
use solex_sdk::instructions::{self as ix, MarketKeys};
use solex_sdk::{flow, Instruction, Market, Pubkey};
use support::{Indexer, TestDb};

mod support;

const TOKEN_PROGRAM: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

// ---- a scripted JSON-RPC node -----------------------------------------------------

/// One call the node answered: its method, params and the size of its answer.
#[derive(Clone, Debug)]
struct Call {
    method: String,
    params: Value,
    bytes: usize,
}

#[derive(Default)]
struct Node {
    /// address -> (owner, data)
    accounts: HashMap<String, (String, Vec<u8>)>,
    calls: Vec<Call>,
}

type Shared = Arc<Mutex<Node>>;

fn account_json(owner: &str, data: &[u8], slice: &Value) -> Value {
    let data = match (slice["offset"].as_u64(), slice["length"].as_u64()) {
        (Some(offset), Some(length)) => {
            let start = (offset as usize).min(data.len());
            &data[start..(start + length as usize).min(data.len())]
        }
        _ => data,
    };
    json!({"lamports": 1_000_000, "owner": owner, "executable": false, "rentEpoch": 0,
        "data": [base64::engine::general_purpose::STANDARD.encode(data), "base64"]})
}

/// Answers the calls the transaction API makes; a sent transaction never lands.
async fn rpc(State(node): State<Shared>, Json(request): Json<Value>) -> Json<Value> {
    let method = request["method"].as_str().unwrap_or_default().to_string();
    let params = request["params"].clone();
    let mut node = node.lock().unwrap();
    let context = json!({"slot": 1000});
    let result = match method.as_str() {
        "getAccountInfo" => {
            let key = params[0].as_str().unwrap_or_default();
            let value = node.accounts.get(key).map(|(o, d)| account_json(o, d, &params[1]["dataSlice"]));
            json!({"context": context, "value": value})
        }
        "getMultipleAccounts" => {
            let values: Vec<Value> = params[0]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| {
                    let account = node.accounts.get(k.as_str().unwrap_or_default());
                    account.map_or(Value::Null, |(o, d)| account_json(o, d, &params[1]["dataSlice"]))
                })
                .collect();
            json!({"context": context, "value": values})
        }
        "getLatestBlockhash" => json!({"context": context,
            "value": {"blockhash": solana_hash::Hash::new_from_array([7; 32]).to_string(), "lastValidBlockHeight": 2000}}),
        "sendTransaction" => {
            let tx = flow::decode_transaction(params[0].as_str().unwrap_or_default()).unwrap();
            json!(tx.signatures[0].to_string())
        }
        "getSignatureStatuses" => json!({"context": context, "value": [null]}),
        "getGenesisHash" => json!(solana_hash::Hash::new_from_array([9; 32]).to_string()),
        _ => json!(null),
    };
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": result});
    node.calls.push(Call { method, params, bytes: answer.to_string().len() });
    Json(answer)
}

/// The scripted node on a free port: (its URL, its state).
async fn start_node() -> (String, Shared) {
    let node: Shared = Arc::default();
    let app = axum::Router::new().route("/", axum::routing::post(rpc)).with_state(node.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, node)
}

fn calls(node: &Shared, method: &str) -> Vec<Call> {
    node.lock().unwrap().calls.iter().filter(|c| c.method == method).cloned().collect()
}

// ---- the indexer in front of it ---------------------------------------------------

struct Api {
    base: String,
    node: Shared,
    db: TestDb,
    indexer: Indexer,
}

impl Api {
    /// `solex-indexer serve` over the scripted node, with the transaction API's `flags`.
    async fn start(flags: &[&str]) -> Self {
        let (url, node) = start_node().await;
        let db = TestDb::create().await;
        let bin = env!("CARGO_BIN_EXE_solex-indexer");
        let migrated = std::process::Command::new(bin).args(["--database-url", &db.url, "migrate"]).status().unwrap();
        assert!(migrated.success());
        let port = support::free_port();
        let indexer = Indexer(
            std::process::Command::new(bin)
                .args(["--database-url", &db.url, "serve", "--rpc-url", &url, "--redis-url", "none"])
                .args(["--api-addr", &format!("127.0.0.1:{port}")])
                .args(flags)
                .spawn()
                .expect("start solex-indexer"),
        );
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while request("GET", &format!("{base}/openapi.json"), &[], None).await.0 != 200 {
            assert!(start.elapsed() < Duration::from_secs(30), "the API did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { base, node, db, indexer }
    }

    async fn send(&self, tx: &Transaction) -> (u16, Value) {
        let body = json!({"transaction": flow::encode_transaction(tx)});
        let (status, _, body) = request("POST", &format!("{}/tx/send", self.base), &[], Some(body)).await;
        (status, body)
    }

    async fn stop(mut self) {
        let _ = self.indexer.0.kill();
        let _ = self.indexer.0.wait();
        self.db.drop_db().await;
    }
}

/// One HTTP request: (status, lower-cased headers, JSON body or Null).
async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, HashMap<String, String>, Value) {
    let (method, url) = (method.to_string(), url.to_string());
    let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let mut req = ureq::request(&method, &url);
        for (k, v) in &headers {
            req = req.set(k, v);
        }
        let response = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let response = match response {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return (0, HashMap::new(), json!(e.to_string())),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .iter()
            .map(|h| (h.to_lowercase(), response.header(h).unwrap().to_string()))
            .collect();
        let text = response.into_string().unwrap_or_default();
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
    })
    .await
    .unwrap()
}

// ---- transactions -----------------------------------------------------------------

fn fake_market() -> MarketKeys {
    MarketKeys::new(
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        1,
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    )
}

/// A Solex instruction of `owner`'s (the relay does not need it to succeed on chain).
fn solex_ix(owner: &Pubkey) -> Instruction {
    ix::cancel_all(*owner, *owner, &fake_market(), None, 32)
}

fn signed(ixs: &[Instruction], payer: &Keypair) -> Transaction {
    Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &[payer], solana_hash::Hash::new_from_array([7; 32]))
}

fn system_transfer(from: &Pubkey, to: &Pubkey, lamports: u64) -> Instruction {
    let mut data = 2u32.to_le_bytes().to_vec();
    data.extend_from_slice(&lamports.to_le_bytes());
    Instruction {
        program_id: anchor_lang::system_program::ID,
        accounts: vec![solex_sdk::AccountMeta::new(*from, true), solex_sdk::AccountMeta::new(*to, false)],
        data,
    }
}

// ---- the tests --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_refuses_transactions_for_other_programs() {
    let api = Api::start(&["--tx-confirm-timeout-ms", "1000"]).await;
    let payer = Keypair::new();
    let me = payer.pubkey();
    let thief = Pubkey::new_unique();
    let ata = Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
    let recover_nested = Instruction { program_id: ata, accounts: vec![], data: vec![2] };
    let other_program = Instruction { program_id: Pubkey::new_unique(), accounts: vec![], data: vec![1, 2, 3] };
    for (what, ixs) in [
        ("a system transfer", vec![system_transfer(&me, &thief, 1_000_000_000)]),
        ("a Solex instruction with a system transfer", vec![solex_ix(&me), system_transfer(&me, &thief, 1)]),
        ("another program", vec![other_program]),
        ("an associated-token RecoverNested", vec![solex_ix(&me), recover_nested]),
        ("no Solex instruction", vec![flow::create_ata(&me, &Pubkey::new_unique(), &anchor_lang::system_program::ID)]),
    ] {
        let (status, body) = api.send(&signed(&ixs, &payer)).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("program_not_allowed")), "{what}: {body}");
    }
    assert!(calls(&api.node, "sendTransaction").is_empty(), "nothing reached the chain");
    // Solex's own flow (with compute budget and an associated token account) is relayed.
    let budget = Instruction {
        program_id: Pubkey::from_str_const("ComputeBudget111111111111111111111111111111"),
        accounts: vec![],
        data: [vec![2], 300_000u32.to_le_bytes().to_vec()].concat(),
    };
    let ata_create = flow::create_ata(&me, &Pubkey::new_unique(), &Pubkey::from_str_const(TOKEN_PROGRAM));
    let (status, body) = api.send(&signed(&[budget, ata_create, solex_ix(&me)], &payer)).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("pending")), "{body}");
    assert_eq!(calls(&api.node, "sendTransaction").len(), 1);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_refuses_a_missing_or_bad_fee_payer_signature() {
    let api = Api::start(&[]).await;
    let payer = Keypair::new();
    let good = signed(&[solex_ix(&payer.pubkey())], &payer);

    let mut unsigned = good.clone();
    unsigned.signatures[0] = Default::default();
    let mut other_key = good.clone();
    other_key.signatures[0] = Keypair::new().sign_message(&good.message_data());
    let mut other_message = good.clone();
    other_message.message.recent_blockhash = solana_hash::Hash::new_from_array([8; 32]);
    let mut flipped = good.clone();
    let mut bytes: [u8; 64] = good.signatures[0].as_ref().try_into().unwrap();
    bytes[10] ^= 1;
    flipped.signatures[0] = bytes.into();
    let mut no_signatures = good.clone();
    no_signatures.signatures.clear();
    for (what, tx, code) in [
        ("unsigned", unsigned, "unsigned"),
        ("signed by another key", other_key, "invalid_signature"),
        ("signed over another message", other_message, "invalid_signature"),
        ("a flipped bit", flipped, "invalid_signature"),
        ("no signature slot", no_signatures, "invalid_transaction"),
    ] {
        let (status, body) = api.send(&tx).await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{what}: {body}");
    }
    assert!(calls(&api.node, "sendTransaction").is_empty(), "nothing reached the chain");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_beyond_the_concurrency_bound_get_503_busy() {
    let api = Api::start(&["--tx-max-in-flight", "2", "--tx-burst", "1000", "--tx-confirm-timeout-ms", "4000"]).await;
    let payer = Keypair::new();
    // Eight at once (each different), none of which ever lands: two slots, no queue.
    let txs: Vec<Transaction> = (0..8u64)
        .map(|i| signed(&[ix::cancel_by_client_id(payer.pubkey(), payer.pubkey(), &fake_market(), i)], &payer))
        .collect();
    let started = Instant::now();
    let answers = futures_util::future::join_all(txs.iter().map(|tx| api.send(tx))).await;
    let pending = answers.iter().filter(|(s, b)| *s == 202 && b["status"] == "pending").count();
    let busy = answers.iter().filter(|(s, b)| *s == 503 && b["code"] == "busy").count();
    assert_eq!((pending, busy), (2, 6), "{answers:?}");
    assert!(started.elapsed() < Duration::from_secs(15), "answered within the bound");
    assert_eq!(calls(&api.node, "sendTransaction").len(), 2, "only the relays in flight were sent");
    // Once they answered, the slots are free again.
    let (status, body) = api.send(&txs[7]).await;
    assert_eq!(status, 202, "{body}");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_rate_gets_429_and_others_do_not() {
    let api = Api::start(&["--tx-burst", "5", "--tx-rate-per-sec", "0.1", "--tx-trust-forwarded-for"]).await;
    let url = format!("{}/tx/send", api.base);
    let mut statuses = vec![];
    let mut limited = None;
    for _ in 0..12 {
        let (status, headers, body) = request("POST", &url, &[], Some(json!({}))).await;
        statuses.push(status);
        if status == 429 {
            limited = Some((headers, body));
        }
    }
    assert_eq!(statuses, [[400; 5].as_slice(), [429; 7].as_slice()].concat(), "the burst, then the limit");
    let (headers, body) = limited.unwrap();
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(headers.get("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1), "{headers:?}");
    // Another client (behind the trusted proxy) has its own bucket.
    let (status, _, body) = request("POST", &url, &[("X-Forwarded-For", "198.51.100.9")], Some(json!({}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("missing_field")));
    // batch-key reads the chain: the same bucket limits it.
    let (status, _, body) =
        request("GET", &format!("{}/markets/{}/batch-key", api.base, Pubkey::new_unique()), &[], None).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
    // Read-only REST is not limited.
    for _ in 0..10 {
        assert_eq!(request("GET", &format!("{}/openapi.json", api.base), &[], None).await.0, 200);
    }
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_never_lands_answers_pending_within_the_bound() {
    let api = Api::start(&["--tx-confirm-timeout-ms", "3000"]).await;
    let payer = Keypair::new();
    let tx = signed(&[solex_ix(&payer.pubkey())], &payer);
    let started = Instant::now();
    let (status, body) = api.send(&tx).await;
    let took = started.elapsed();
    assert_eq!(
        (status, body["status"].as_str(), body["code"].as_str()),
        (202, Some("pending"), Some("pending")),
        "{body}"
    );
    assert_eq!(body["signature"].as_str(), Some(tx.signatures[0].to_string().as_str()));
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(6), "answered after the bound: {took:?}");
    let polls = calls(&api.node, "getSignatureStatuses").len();
    assert!((2..=12).contains(&polls), "polled with backoff, a bounded number of times: {polls}");
    api.stop().await;
}

/// A market account's bytes for `m`.
fn market_bytes(m: &Market) -> Vec<u8> {
    [Market::DISCRIMINATOR, anchor_lang::__private::bytemuck::bytes_of(m)].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builders_refuse_an_account_that_is_not_a_solex_market_without_downloading_it() {
    let api = Api::start(&[]).await;
    let (base_mint, quote_mint) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut m: Market = anchor_lang::__private::bytemuck::Zeroable::zeroed();
    (m.base_lot_size, m.quote_tick_size, m.taker_fee_bps) = (1000, 10, 5);
    (m.base_mint, m.quote_mint) = (base_mint, quote_mint);
    let good = market_bytes(&m);
    assert_eq!(good.len(), Market::LEN);
    // 4 MiB owned by the program that starts like a market; a mint; a big system account.
    let mut big_solex = good.clone();
    big_solex.resize(4 << 20, 0);
    let (market, big, mint, system) =
        (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
    {
        let mut node = api.node.lock().unwrap();
        let a = &mut node.accounts;
        a.insert(market.to_string(), (solex::ID.to_string(), good));
        a.insert(big.to_string(), (solex::ID.to_string(), big_solex));
        a.insert(mint.to_string(), (TOKEN_PROGRAM.to_string(), vec![1; 82]));
        a.insert(system.to_string(), (anchor_lang::system_program::ID.to_string(), vec![0; 1 << 20]));
        for key in [base_mint, quote_mint] {
            a.insert(key.to_string(), (TOKEN_PROGRAM.to_string(), vec![0; 82]));
        }
    }
    let owner = Pubkey::new_unique().to_string();
    let settle = |market: &Pubkey| json!({"market": market.to_string(), "owner": owner});
    let url = format!("{}/tx/settle", api.base);
    for (what, key) in [("a big program-owned account", big), ("a token mint", mint), ("a big system account", system)]
    {
        let (status, _, body) = request("POST", &url, &[], Some(settle(&key))).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("unknown_market")), "{what}: {body}");
        let reads: Vec<Call> =
            calls(&api.node, "getAccountInfo").into_iter().filter(|c| c.params[0] == key.to_string()).collect();
        assert_eq!(reads.len(), 1, "{what}");
        let slice = reads[0].params[1]["dataSlice"]["length"].as_u64();
        assert!(
            slice.is_some_and(|n| n as usize <= Market::LEN + 1),
            "{what}: read with a bounded slice: {:?}",
            reads[0]
        );
        assert!(reads[0].bytes < 2 * Market::LEN, "{what}: {} bytes came back", reads[0].bytes);
    }
    // A real market account is used, its mints read without their data.
    let (status, _, body) = request("POST", &url, &[], Some(settle(&market))).await;
    assert_eq!(status, 200, "{body}");
    let mints = calls(&api.node, "getMultipleAccounts");
    assert_eq!(mints.last().unwrap().params[1]["dataSlice"]["length"], 0, "{mints:?}");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_on_tx_answers_only_configured_origins_and_read_only_rest_stays_open() {
    let preflight = |base: &str, path: &str, origin: &str| {
        let (url, origin) = (format!("{base}{path}"), origin.to_string());
        async move {
            let headers = [
                ("Origin", origin.as_str()),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ];
            let (_, headers, _) = request("OPTIONS", &url, &headers, None).await;
            headers.get("access-control-allow-origin").cloned()
        }
    };
    // By default no origin may call /tx/* from a browser; anyone may read.
    let api = Api::start(&[]).await;
    for path in ["/tx/place", "/tx/send", "/tx/settle"] {
        assert_eq!(preflight(&api.base, path, "https://evil.example").await, None, "{path}");
    }
    let (_, headers, _) =
        request("GET", &format!("{}/markets", api.base), &[("Origin", "https://evil.example")], None).await;
    assert_eq!(headers.get("access-control-allow-origin").map(String::as_str), Some("*"));
    assert_eq!(preflight(&api.base, "/markets", "https://evil.example").await.as_deref(), Some("*"));
    api.stop().await;

    // A configured origin may; others still may not.
    let api = Api::start(&["--tx-allowed-origin", "https://wallet.example"]).await;
    assert_eq!(
        preflight(&api.base, "/tx/place", "https://wallet.example").await.as_deref(),
        Some("https://wallet.example")
    );
    assert_eq!(preflight(&api.base, "/tx/place", "https://evil.example").await, None);
    // A request another site's page makes anyway (no preflight) is refused before any work.
    let send = format!("{}/tx/send", api.base);
    let (status, headers, body) = request("POST", &send, &[("Origin", "https://evil.example")], Some(json!({}))).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("origin_not_allowed")), "{body}");
    assert_eq!(headers.get("access-control-allow-origin"), None);
    // The configured origin, the server's own page and non-browser clients are served.
    let (status, headers, _) = request("POST", &send, &[("Origin", "https://wallet.example")], Some(json!({}))).await;
    assert_eq!(
        (status, headers.get("access-control-allow-origin").map(String::as_str)),
        (400, Some("https://wallet.example"))
    );
    let own = api.base.clone();
    assert_eq!(request("POST", &send, &[("Origin", own.as_str())], Some(json!({}))).await.0, 400);
    assert_eq!(request("POST", &send, &[], Some(json!({}))).await.0, 400);
    api.stop().await;
}

/// A batch market whose auction and keyper set are 4 MiB each: `batch-key` and
/// `/tx/sealed` read them (the auction's header, the keyper set's header and the one
/// round key the batch needs) with bounded slices, and `batch-key` answers only the
/// server's own page and configured origins, like `/tx/*`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_markets_are_read_with_bounded_slices_however_big_their_accounts() {
    use anchor_lang::__private::bytemuck;
    use solex::state::{Auction, KeyperSet, RoundKey};
    let api = Api::start(&[]).await;
    let (market, auction, keyper_set, base_mint, quote_mint) =
        (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
    let mut m: Market = bytemuck::Zeroable::zeroed();
    (m.base_lot_size, m.quote_tick_size, m.taker_fee_bps, m.maker_fee_bps) = (1000, 10, 5, 2);
    (m.base_mint, m.quote_mint, m.auction) = (base_mint, quote_mint, auction);
    let mut a: Auction = bytemuck::Zeroable::zeroed();
    (a.market, a.keyper_set, a.batch_slots, a.sealed_fee, a.capacity) = (market, keyper_set, 8, 100, 256);
    let mut auction_bytes = [Auction::DISCRIMINATOR, bytemuck::bytes_of(&a)].concat();
    auction_bytes.resize(4 << 20, 0);
    // The node is at slot 1000: batch 125 closes at 1008, sealed to round 125's key.
    let mut set: KeyperSet = bytemuck::Zeroable::zeroed();
    (set.round_slots, set.retain_rounds, set.capacity, set.n, set.threshold) = (8, 4, 4096, 3, 2);
    let mut set_bytes = [KeyperSet::DISCRIMINATOR, bytemuck::bytes_of(&set)].concat();
    set_bytes.resize(KeyperSet::space(4096), 0);
    let group_key = solex_seal::public_key(&[5; 32]).unwrap();
    let mut entry: RoundKey = bytemuck::Zeroable::zeroed();
    (entry.round, entry.group_key, entry.status) = (125, group_key, 2);
    let at = KeyperSet::LEN + 125 * RoundKey::LEN;
    set_bytes[at..at + RoundKey::LEN].copy_from_slice(bytemuck::bytes_of(&entry));
    {
        let mut node = api.node.lock().unwrap();
        let accounts = &mut node.accounts;
        accounts.insert(market.to_string(), (solex::ID.to_string(), market_bytes(&m)));
        accounts.insert(auction.to_string(), (solex::ID.to_string(), auction_bytes));
        accounts.insert(keyper_set.to_string(), (solex::ID.to_string(), set_bytes));
        for key in [base_mint, quote_mint] {
            accounts.insert(key.to_string(), (TOKEN_PROGRAM.to_string(), vec![0; 82]));
        }
    }
    let bounded = |what: &str| {
        for key in [auction, keyper_set] {
            let reads: Vec<Call> =
                calls(&api.node, "getAccountInfo").into_iter().filter(|c| c.params[0] == key.to_string()).collect();
            assert!(!reads.is_empty(), "{what}: {key} was read");
            for read in reads {
                let slice = read.params[1]["dataSlice"]["length"].as_u64();
                assert!(slice.is_some_and(|n| n as usize <= RoundKey::LEN), "{what}: a bounded slice: {read:?}");
                assert!(read.bytes < 2 * RoundKey::LEN, "{what}: {} bytes came back", read.bytes);
            }
        }
    };

    let url = format!("{}/markets/{market}/batch-key", api.base);
    let (status, _, key) = request("GET", &url, &[], None).await;
    assert_eq!(status, 200, "{key}");
    let hex: String = group_key.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        (key["batch_id"].as_u64(), key["close_slot"].as_u64(), key["key_round"].as_u64(), key["group_key"].as_str()),
        (Some(125), Some(1008), Some(125), Some(hex.as_str())),
        "{key}"
    );
    assert_eq!((key["key_status"].as_str(), key["slots_left"].as_u64()), (Some("active"), Some(8)));
    bounded("batch-key");

    let body = json!({"market": market.to_string(), "owner": Pubkey::new_unique().to_string(), "batch_id": 125,
        "ephemeral": solex_seal::BASEPOINT.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "ciphertext": "11".repeat(40), "tag": "22".repeat(16), "collateral_base": 0, "collateral_quote": 1000});
    let (status, _, built) = request("POST", &format!("{}/tx/sealed", api.base), &[], Some(body)).await;
    assert_eq!(status, 200, "{built}");
    bounded("/tx/sealed");

    // Another site's page may not make its visitors' browsers read it.
    let (status, _, body) = request("GET", &url, &[("Origin", "https://evil.example")], None).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("origin_not_allowed")), "{body}");
    let own = api.base.clone();
    assert_eq!(request("GET", &url, &[("Origin", own.as_str())], None).await.0, 200);
    api.stop().await;
}
