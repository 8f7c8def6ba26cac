//! API benchmark on a local solana-test-validator, PostgreSQL and Redis, with the
//! indexer running in-process (`service::run`, as `solex-indexer run`). Prints:
//!
//! 1. latency from a transaction's confirmation to its WebSocket message (p50/p99/max);
//! 2. REST latency under an open-loop load at fixed request rates (p50/p99/max,
//!    measured from each request's scheduled start, so a stall is not hidden);
//! 3. WebSocket fan-out: CLIENTS subscribers of one channel, messages delivered per
//!    second and publish-to-client latency.
//!
//!     cargo run -p solex-indexer --example api_bench --ignore-rust-version
//!
//! Client and server share the machine: the figures include the load generator's cost.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use solex_indexer::{db, service};
use solex_localnet::ledger::Ledger;
use solex_localnet::scenario::*;
use solex_localnet::validator::TestValidator;
use solex_sdk::instructions as ix;
use solex_sdk::{PlaceOrderArgs, Side};
use tokio_tungstenite::tungstenite::Message;

const CONFIRMATIONS: usize = 100;
const REST_RATES: &[u64] = &[250, 500, 1000];
const REST_SECONDS: u64 = 5;
const FANOUT_CLIENTS: &[usize] = &[100, 500];
const FANOUT_MESSAGES: usize = 200;

fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.99), *v.last().unwrap())
}

fn redis_url() -> String {
    std::env::var("SOLEX_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn subscribe(ws_url: &str, channel: &str) -> WsStream {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("WebSocket connects");
    let sub = serde_json::json!({"op": "subscribe", "channel": channel}).to_string();
    ws.send(Message::Text(sub.into())).await.unwrap();
    loop {
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            assert_eq!(v["op"], "subscribed", "{v}");
            return ws;
        }
    }
}

#[tokio::main]
async fn main() {
    eprintln!("starting solana-test-validator, a database and the indexer ...");
    let validator = TestValidator::start();
    let name = format!("solex_bench_{}", std::process::id());
    let pool = db::connect(&db::create_database(&solex_localnet::services::pg_admin_url(), &name).await.unwrap())
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = service::Config {
        rpc_url: validator.rpc_url(),
        ws_url: Some(validator.ws_url()),
        poll: Duration::from_millis(500),
        api_addr: format!("127.0.0.1:{port}").parse().unwrap(),
        redis_url: Some(redis_url()),
        drain: Duration::from_secs(5),
    };
    tokio::spawn(service::run(pool.clone(), config, solex_sdk::service::Shutdown::new()));
    let base = format!("http://127.0.0.1:{port}");
    let ws_url = format!("ws://127.0.0.1:{port}/ws");

    // A market with a book (32 resting bids over 32 levels) and a wallet to deposit with.
    let url = validator.rpc_url();
    let (m, w) = tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        let (m, _) = TestMarket::create(&mut chain, market_args(1));
        let w = m.wallet(&mut chain, 0, 1 << 40);
        chain.send(&[m.deposit_ix(&w, m.keys.quote_mint, 1 << 39)], &[&w.keypair]).unwrap();
        let bids: Vec<_> = (0..TEST_MAX_ORDERS as u64)
            .map(|i| ix::place_order(w.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, 100 + i, 1, i)))
            .collect();
        for chunk in bids.chunks(4) {
            chain.send(chunk, &[&w.keypair]).unwrap();
        }
        (m, w)
    })
    .await
    .unwrap();
    let market = m.keys.market.to_string();

    // 1. Confirmation to WebSocket.
    let mut ws = subscribe(&ws_url, &format!("events:{market}")).await;
    let arrivals = tokio::spawn(async move {
        let mut at = HashMap::new();
        while at.len() < CONFIRMATIONS {
            if let Some(Ok(Message::Text(t))) = ws.next().await {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if v["data"]["kind"] == "Deposited" {
                    at.insert(v["data"]["seq"].as_u64().unwrap(), Instant::now());
                }
            }
        }
        at
    });
    let url = validator.rpc_url();
    let m = Arc::new(m);
    let mm = m.clone();
    let sent = tokio::task::spawn_blocking(move || {
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        (0..CONFIRMATIONS)
            .map(|_| {
                let sent = Instant::now();
                let landed = chain.send(&[mm.deposit_ix(&w, mm.keys.quote_mint, 1)], &[&w.keypair]).unwrap();
                (landed.events[0].seq(), sent, Instant::now())
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let arrivals =
        tokio::time::timeout(Duration::from_secs(60), arrivals).await.expect("every event on the WebSocket").unwrap();
    // Signed milliseconds from `from` to the event's WebSocket message.
    let since = |from: Instant, seq: u64| {
        let at = arrivals[&seq];
        match at.checked_duration_since(from) {
            Some(d) => d.as_secs_f64() * 1e3,
            None => -(from.duration_since(at).as_secs_f64() * 1e3),
        }
    };
    let from_send = percentiles(sent.iter().map(|(seq, sent, _)| since(*sent, *seq)).collect());
    let from_confirmed = percentiles(sent.iter().map(|(seq, _, confirmed)| since(*confirmed, *seq)).collect());
    println!("| WebSocket message of an event ({CONFIRMATIONS} deposits, one at a time), ms after | p50 | p99 | max |");
    println!("|---|---:|---:|---:|");
    println!("| the transaction was sent | {:.1} | {:.1} | {:.1} |", from_send.0, from_send.1, from_send.2);
    println!(
        "| the sender saw it confirmed (negative: the message came first) | {:.1} | {:.1} | {:.1} |",
        from_confirmed.0, from_confirmed.1, from_confirmed.2
    );
    println!();

    // 2. REST under an open-loop load.
    let paths = Arc::new(vec![
        format!("/markets/{market}/book?depth=50"),
        format!("/markets/{market}/trades?limit=100"),
        format!("/markets/{market}/events?limit=100"),
        format!("/markets/{market}/candles?interval=1m"),
        "/markets".to_string(),
    ]);
    println!("| REST, open loop, {REST_SECONDS} s per rate, 5 endpoints in turn | achieved req/s | p50 ms | p99 ms | max ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    for &rate in REST_RATES {
        let threads = 16u64;
        let total = rate * REST_SECONDS;
        let start = Instant::now() + Duration::from_millis(100);
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let (base, paths) = (base.clone(), paths.clone());
                std::thread::spawn(move || {
                    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
                    let (mut lat, mut errors) = (vec![], 0u64);
                    let mut i = k;
                    while i < total {
                        let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let path = &paths[i as usize % paths.len()];
                        let body = agent.get(&format!("{base}{path}")).call().ok().and_then(|r| r.into_string().ok());
                        match body {
                            Some(_) => lat.push(due.elapsed().as_secs_f64() * 1e3),
                            None => errors += 1,
                        }
                        i += threads;
                    }
                    (lat, errors)
                })
            })
            .collect();
        let (mut lat, mut errors) = (vec![], 0);
        for h in handles {
            let (l, e) = h.join().unwrap();
            lat.extend(l);
            errors += e;
        }
        let took = start.elapsed().as_secs_f64();
        let done = lat.len();
        let (p50, p99, max) = percentiles(lat);
        println!("| target {rate} req/s | {:.0} | {p50:.2} | {p99:.2} | {max:.2} | {errors} |", done as f64 / took);
    }
    println!();

    // 3. WebSocket fan-out: messages published on the market's trades channel reach every subscriber.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut publisher = solex_indexer::live::connect(&client).await.unwrap();
    let epoch = Instant::now();
    let trades = solex_indexer::channel::Channel::new(solex_indexer::channel::Kind::Trades, market.clone());
    println!("| WebSocket fan-out ({FANOUT_MESSAGES} messages at 1,000/s) | deliveries | deliveries/s | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for &clients in FANOUT_CLIENTS {
        let mut readers = vec![];
        for _ in 0..clients {
            let mut ws = subscribe(&ws_url, &format!("trades:{market}")).await;
            readers.push(tokio::spawn(async move {
                let mut lat = vec![];
                while lat.len() < FANOUT_MESSAGES {
                    match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
                        Ok(Some(Ok(Message::Text(t)))) => {
                            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                            let sent = Duration::from_nanos(v["data"]["bench_ns"].as_u64().unwrap());
                            lat.push((epoch.elapsed() - sent).as_secs_f64() * 1e3);
                        }
                        Ok(Some(Ok(_))) => {}
                        _ => break,
                    }
                }
                lat
            }));
        }
        let started = Instant::now();
        for i in 0..FANOUT_MESSAGES {
            let due = started + Duration::from_millis(i as u64);
            tokio::time::sleep_until(due.into()).await;
            // As the publisher sends it: the client's message, rendered once, in a frame.
            let data = serde_json::json!({"bench_ns": epoch.elapsed().as_nanos() as u64, "i": i});
            let msg = solex_indexer::live::Frame::render(None, &trades, "update", data);
            redis::cmd("PUBLISH").arg(trades.redis_name()).arg(msg).query_async::<()>(&mut publisher).await.unwrap();
        }
        let mut lat = vec![];
        for r in readers {
            lat.extend(r.await.unwrap());
        }
        let took = started.elapsed().as_secs_f64();
        let deliveries = lat.len();
        let (p50, p99, max) = percentiles(lat);
        println!(
            "| {clients} clients | {deliveries} of {} | {:.0} | {p50:.1} | {p99:.1} | {max:.1} |",
            clients * FANOUT_MESSAGES,
            deliveries as f64 / took
        );
    }

    pool.close().await;
    db::drop_database(&solex_localnet::services::pg_admin_url(), &name).await.unwrap();
    drop(m);
}
