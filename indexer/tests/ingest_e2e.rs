//! Ingestion against a real solana-test-validator and a real PostgreSQL: a trading
//! session's events land in the event log exactly once, with no gap, also when the
//! indexer stops half-way and resumes, and a replay changes nothing.
use std::sync::Arc;

use solex_indexer::channel::{Channel, Kind};
use solex_indexer::live::Frame;
use solex_indexer::{db, ingest};
use solex_localnet::ledger::Ledger;
use solex_localnet::scenario::*;
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::events::decode_event;
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, OrderType, PlaceOrderArgs, Side};
use support::{get, TestDb, Ws};

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_log_is_complete_idempotent_and_resumable() {
    let test_db = TestDb::create().await;
    let pool = db::connect(&test_db.url).await.unwrap();
    db::migrate(&pool).await.unwrap();
    db::migrate(&pool).await.unwrap(); // applying twice is a no-op

    // A trading session on two markets (blocking RPC, off the async runtime).
    let validator = TestValidator::start();
    let url = validator.rpc_url();
    let (markets, (m1_market, m1_taker)) = tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        let mut markets = vec![];
        let mut first = None;
        for id in 1..=2 {
            let (m, _) = TestMarket::create(&mut chain, CreateMarketArgs { taker_fee_bps: 5, ..market_args(id) });
            let maker = m.wallet(&mut chain, 1_000_000, 0);
            let taker = m.wallet(&mut chain, 0, 10_000_000);
            chain.send(&[m.deposit_ix(&maker, m.keys.base_mint, 1_000_000)], &[&maker.keypair]).unwrap();
            chain.send(&[m.deposit_ix(&taker, m.keys.quote_mint, 10_000_000)], &[&taker.keypair]).unwrap();
            for p in 0..3 {
                let ask = PlaceOrderArgs::limit(Side::Ask, 100 + p, 2, p);
                chain.send(&[ix::place_order(maker.pubkey(), &m.keys, ask)], &[&maker.keypair]).unwrap();
            }
            let take = PlaceOrderArgs {
                order_type: OrderType::ImmediateOrCancel,
                ..PlaceOrderArgs::limit(Side::Bid, 102, 5, 9)
            };
            chain.send(&[ix::place_order(taker.pubkey(), &m.keys, take)], &[&taker.keypair]).unwrap();
            let crank = Keypair::new();
            chain.airdrop(&crank.pubkey(), 1_000_000_000);
            m.consume_all(&mut chain, &crank);
            chain.send(&[m.settle_ix(&taker)], &[&crank]).unwrap();
            markets.push((m.keys.market, market(&chain, &m.keys.market).event_seq));
            if id == 1 {
                first = Some((m, taker));
            }
        }
        (markets, first.unwrap())
    })
    .await
    .unwrap();
    let rpc = Arc::new(solex_sdk::rpc::RpcClient::new(validator.rpc_url()));

    // Live feed: a Redis subscriber on the first market's channel, from the start.
    let client = redis::Client::open(support::redis_url()).unwrap();
    let mut redis = redis::aio::ConnectionManager::new(client.clone()).await.expect("Redis reachable");
    solex_indexer::live::prepare(&client).await.unwrap();
    tokio::spawn(solex_indexer::live::run_publisher(client.clone()));
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    let events = Channel::new(Kind::Events, markets[0].0.to_string());
    pubsub.subscribe(events.redis_name()).await.unwrap();

    // The indexer stops after 5 transactions (as if killed), then resumes.
    let first = ingest::backfill(rpc.clone(), &pool, solex::ID, Some(5), Some(&mut redis)).await.unwrap();
    assert_eq!(first.transactions, 5);
    let rest = ingest::backfill(rpc.clone(), &pool, solex::ID, None, Some(&mut redis)).await.unwrap();
    let expected: u64 = markets.iter().map(|(_, seq)| seq).sum();
    assert_eq!(first.inserted + rest.inserted, expected, "every event stored once");

    // The subscriber saw every event of its market once, in sequence order, across
    // the stop and the resume (and nothing from the replay below).
    let mut feed = pubsub.into_on_message();
    let mut seen = vec![];
    while seen.len() < markets[0].1 as usize {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), futures_util::StreamExt::next(&mut feed))
            .await
            .expect("a message within 10 s")
            .unwrap();
        // A frame: no sequence header (only book diffs have one), then the client's message.
        let (header, text) = Frame::parse(msg.get_payload_bytes()).expect("a frame");
        assert_eq!(header, None);
        let v: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!((&v["channel"], &v["type"]), (&serde_json::json!(events.to_string()), &serde_json::json!("update")));
        seen.push(v["data"]["seq"].as_i64().unwrap());
    }
    assert_eq!(seen, (1..=markets[0].1 as i64).collect::<Vec<_>>());

    // No gap, and each market's newest stored event is the chain's.
    assert_eq!(db::gaps(&pool).await.unwrap(), vec![]);
    let stored = db::markets(&pool).await.unwrap();
    for (market, seq) in &markets {
        let row = stored.iter().find(|(m, _, _)| *m == market.to_string()).expect("market indexed");
        assert_eq!((row.1, row.2), (*seq as i64, *seq as i64), "market {market}");
    }
    // The stored bytes decode to the events they are keyed by.
    let rows: Vec<(String, i64, String, Vec<u8>)> =
        sqlx::query_as("SELECT market, seq, kind, data FROM events").fetch_all(&pool).await.unwrap();
    for (market, seq, kind, data) in &rows {
        let e = decode_event(data).unwrap();
        assert_eq!((e.market().to_string(), e.seq() as i64, e.name()), (market.clone(), *seq, kind.as_str()));
    }

    // A replay from scratch (cursor removed) changes nothing.
    sqlx::query("DELETE FROM cursors").execute(&pool).await.unwrap();
    let replay = ingest::backfill(rpc.clone(), &pool, solex::ID, None, Some(&mut redis)).await.unwrap();
    assert!(replay.transactions > 0);
    assert_eq!(replay.inserted, 0, "idempotent");
    let late =
        tokio::time::timeout(std::time::Duration::from_millis(500), futures_util::StreamExt::next(&mut feed)).await;
    assert!(late.is_err(), "a replay publishes nothing: {late:?}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&pool).await.unwrap();
    assert_eq!(count as u64, expected);
    // Nothing new: nothing to do.
    assert_eq!(ingest::backfill(rpc.clone(), &pool, solex::ID, None, None).await.unwrap(), ingest::Report::default());

    // Derived tables: markets and trades, equal after a rebuild from the log.
    let trades_before: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT market, fill_seq, price::BIGINT, qty_lots::BIGINT FROM trades ORDER BY market, fill_seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // Each market: a 5-lot IOC bid across asks of 2 lots at 100, 101, 102.
    assert_eq!(trades_before.len(), 6);
    db::rebuild(&pool).await.unwrap();
    let trades_after: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT market, fill_seq, price::BIGINT, qty_lots::BIGINT FROM trades ORDER BY market, fill_seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(trades_before, trades_after);

    // The REST API over it.
    let base = support::serve(support::app(pool.clone()).await).await;
    let (m1, seq1) = (markets[0].0.to_string(), markets[0].1);
    // Browsers may read it from any origin (CORS).
    let cors_url = format!("{base}/markets");
    let base = base.as_str();
    let allowed = tokio::task::spawn_blocking(move || {
        ureq::get(&cors_url)
            .set("Origin", "https://app.example")
            .call()
            .unwrap()
            .header("access-control-allow-origin")
            .map(String::from)
    })
    .await
    .unwrap();
    assert_eq!(allowed.as_deref(), Some("*"));
    assert_eq!(get(base, "/health").await, (200, serde_json::json!({"status": "ok", "database": "ok", "redis": "ok"})));
    let (status, body) = get(base, "/markets").await;
    assert_eq!((status, body["markets"].as_array().unwrap().len()), (200, 2));
    let (status, body) = get(base, &format!("/markets/{m1}/trades")).await;
    assert_eq!(status, 200);
    let trades = body["trades"].as_array().unwrap();
    let got: Vec<(i64, i64, &str)> = trades
        .iter()
        .map(|t| (t["price"].as_i64().unwrap(), t["qty_lots"].as_i64().unwrap(), t["taker_side"].as_str().unwrap()))
        .collect();
    assert_eq!(got, vec![(102, 1, "bid"), (101, 2, "bid"), (100, 2, "bid")], "newest first");
    // The book: one ask of 1 lot left at 102 (a 5-lot bid took 2 + 2 + 1), at the chain's sequence.
    let (status, body) = get(base, &format!("/markets/{m1}/book")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["seq"].as_u64(), &body["asks"], &body["bids"]),
        (Some(seq1), &serde_json::json!([[102, 1]]), &serde_json::json!([]))
    );
    for bad in ["0", "1001", "x"] {
        let (status, body) = get(base, &format!("/markets/{m1}/book?depth={bad}")).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_depth")));
    }
    // Candles: the three fills (100 x2, 101 x2, 102 x1) of one transaction fall in one
    // interval: open 100, high 102, low 100, close 102, volume 5.
    for interval in ["1m", "5m", "1h", "1d"] {
        let (status, body) = get(base, &format!("/markets/{m1}/candles?interval={interval}")).await;
        assert_eq!(status, 200, "{body}");
        let c = &body["candles"][0];
        assert_eq!(
            [&c["open"], &c["high"], &c["low"], &c["close"], &c["volume"], &c["trades"]],
            [100, 102, 100, 102, 5, 3].map(serde_json::Value::from).each_ref()
        );
    }
    let (status, body) = get(base, &format!("/markets/{m1}/candles?interval=7m")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_interval")));
    // Cursor pagination over the event feed, gapless.
    let (mut after, mut seqs) = (0i64, vec![]);
    loop {
        let (status, page) = get(base, &format!("/markets/{m1}/events?limit=4&after={after}")).await;
        assert_eq!(status, 200);
        seqs.extend(page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()));
        match page["next_after"].as_i64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(seqs, (1..=seq1 as i64).collect::<Vec<_>>());
    // Every documented route answers (/ws is tested below; the transaction API's
    // routes, /tx/* and the chain-reading batch-key, in txapi_e2e and relay_e2e); a
    // continuous market has no batch, so one batch's route answers its 404 (batch_e2e
    // reads real ones).
    let (owner, order_id): (String, String) = sqlx::query_as(
        "SELECT t.owner, o.order_id FROM orders o JOIN traders t USING (market, trader) WHERE o.market = $1 LIMIT 1",
    )
    .bind(&m1)
    .fetch_one(&pool)
    .await
    .unwrap();
    let served_here = |r: &&&str| **r != "/ws" && !r.starts_with("/tx/") && !r.ends_with("/batch-key");
    for route in solex_indexer::api::ROUTES.iter().filter(served_here) {
        let mut path = route
            .replace("{market}", &m1)
            .replace("{owner}", &owner)
            .replace("{order_id}", &order_id)
            .replace("{batch_id}", "0");
        if path.ends_with("/orders") || path.ends_with("/fills") {
            path.push_str(&format!("?market={m1}"));
        }
        let (status, body) = if *route == "/metrics" {
            let url = format!("{base}{path}");
            let text = tokio::task::block_in_place(|| ureq::get(&url).call().unwrap().into_string().unwrap());
            assert!(text.contains(&format!("solex_indexer_market_seq{{market=\"{m1}\"}} {seq1}")), "{text}");
            (200, serde_json::Value::Null)
        } else {
            get(base, &path).await
        };
        if route.contains("{batch_id}") {
            assert_eq!((status, body["code"].as_str()), (404, Some("unknown_batch")), "{route}: {body}");
        } else {
            assert_eq!(status, 200, "{route}: {body}");
        }
    }
    // Bad requests: 4xx with a JSON code.
    let other = solex_sdk::Pubkey::new_unique();
    for (path, status, code) in [
        ("/markets/not-a-key/trades".to_string(), 400, "invalid_market"),
        (format!("/markets/{other}/trades"), 404, "unknown_market"),
        (format!("/markets/{m1}/trades?limit=0"), 400, "invalid_limit"),
        (format!("/markets/{m1}/trades?limit=1000000"), 400, "invalid_limit"),
        (format!("/markets/{m1}/trades?before=abc"), 400, "invalid_cursor"),
        (format!("/markets/{m1}/events?after=-1"), 400, "invalid_cursor"),
        ("/nope".to_string(), 404, "not_found"),
        (format!("/markets/{m1}/orders/x1"), 400, "invalid_order_id"),
        (format!("/markets/{m1}/orders/12345"), 404, "unknown_order"),
        ("/traders/zz0/balances".to_string(), 400, "invalid_owner"),
        (format!("/traders/{owner}/orders"), 400, "missing_market"),
        (format!("/traders/{owner}/orders?market={m1}&status=maybe"), 400, "invalid_status"),
        (format!("/traders/{owner}/fills?market={other}"), 404, "unknown_market"),
        (format!("/markets/{m1}/candles?before=-5"), 400, "invalid_cursor"),
        (format!("/markets/{m1}/batches?before=x"), 400, "invalid_cursor"),
        (format!("/markets/{other}/batches"), 404, "unknown_market"),
        (format!("/markets/{m1}/batches/-1"), 400, "invalid_batch_id"),
        (format!("/markets/{m1}/batches/{}", u64::MAX), 404, "unknown_batch"),
    ] {
        let (got, body) = get(base, &path).await;
        assert_eq!((got, body["code"].as_str().unwrap()), (status, code), "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    // WebSocket API: subscribe to the first market's events, then new activity on it
    // arrives as soon as the indexer commits it, in sequence order.
    let mut ws = Ws::connect(base).await;
    ws.send(serde_json::json!({"op": "subscribe", "channel": "events:nope"})).await;
    assert_eq!(ws.next().await["code"], "invalid_channel");
    ws.send(serde_json::json!({"op": "subscribe", "channel": format!("weather:{m1}")})).await;
    assert_eq!(ws.next().await["code"], "invalid_channel");
    ws.send(serde_json::json!({"op": "dance"})).await;
    assert_eq!(ws.next().await["code"], "invalid_op");
    let channel = format!("events:{m1}");
    ws.subscribe(&channel).await;
    let rpc_url = validator.rpc_url();
    tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(rpc_url);
        for amount in [1, 2] {
            let deposit = m1_market.deposit_ix(&m1_taker, m1_market.keys.quote_mint, amount);
            chain.send(&[deposit], &[&m1_taker.keypair]).unwrap();
        }
    })
    .await
    .unwrap();
    ingest::backfill(rpc.clone(), &pool, solex::ID, None, Some(&mut redis)).await.unwrap();
    for expected in [seq1 + 1, seq1 + 2] {
        let msg = ws.next().await;
        assert_eq!((msg["channel"].as_str(), msg["data"]["seq"].as_u64()), (Some(channel.as_str()), Some(expected)));
        assert_eq!(msg["data"]["kind"], "Deposited");
    }

    test_db.drop_db().await;
}

/// `solex-indexer run` follows the program over the websocket: with a one-minute
/// poll interval, a new market reaches the REST API within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_follows_the_program_over_the_websocket() {
    let test_db = TestDb::create().await;
    let validator = TestValidator::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut indexer = std::process::Command::new(env!("CARGO_BIN_EXE_solex-indexer"))
        .args([
            "--database-url",
            &test_db.url,
            "run",
            "--rpc-url",
            &validator.rpc_url(),
            "--ws-url",
            &validator.ws_url(),
        ])
        .args(["--poll-ms", "60000", "--redis-url", "none", "--api-addr", &format!("127.0.0.1:{port}")])
        .spawn()
        .expect("start solex-indexer");
    let api = format!("http://127.0.0.1:{port}");
    let markets_now = move || {
        let api = api.clone();
        move || -> Option<usize> {
            let body: serde_json::Value = ureq::get(&format!("{api}/markets")).call().ok()?.into_json().ok()?;
            Some(body["markets"].as_array()?.len())
        }
    };
    let wait = |what: &str, f: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !f() {
            assert!(start.elapsed() < std::time::Duration::from_secs(20), "{what} not within 20 s");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        start.elapsed()
    };
    let count = markets_now();
    let url = validator.rpc_url();
    let took = tokio::task::spawn_blocking(move || {
        wait("the API", &|| count() == Some(0));
        // Past the first backfill: only a websocket notification can bring the next one before a minute.
        std::thread::sleep(std::time::Duration::from_secs(2));
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        TestMarket::create(&mut chain, market_args(7));
        wait("the new market", &|| count() == Some(1))
    })
    .await
    .unwrap();
    eprintln!("the new market was indexed {took:?} after it landed (poll interval 60 s)");
    std::process::Command::new("kill").args(["-INT", &indexer.id().to_string()]).status().unwrap();
    assert!(indexer.wait().unwrap().success(), "stops cleanly on SIGINT");
    test_db.drop_db().await;
}
