//! The REST API over the indexed tables (axum). Every error is a JSON body
//! `{"code": "...", "message": "..."}` with a 4xx status; nothing answers 500 for
//! bad input. u64 values (prices, sizes, amounts) are JSON numbers with every digit
//! exact, also above 2^53 (a client reading them into doubles must use a
//! big-integer-aware parser); only a running total beyond u64, a candle's volume,
//! is a decimal string.
use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use solex_sdk::Pubkey;
use sqlx::PgPool;

use crate::derive::INTERVALS;
use crate::http::{market_exists, ApiError, App};
use crate::live;
use crate::numeric::Numeric;

/// Largest page any list endpoint returns.
pub const MAX_LIMIT: i64 = 1000;
const DEFAULT_LIMIT: i64 = 100;

type ApiResult = Result<Json<Value>, ApiError>;

fn market_key(s: &str) -> Result<String, ApiError> {
    address(s, "invalid_market")
}

fn address(s: &str, code: &'static str) -> Result<String, ApiError> {
    Pubkey::from_str(s)
        .map(|k| k.to_string())
        .map_err(|_| ApiError::bad(code, format!("{s:?} is not a base58 address")))
}

fn limit(q: &HashMap<String, String>) -> Result<i64, ApiError> {
    match q.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad("invalid_limit", format!("limit must be an integer in 1..={MAX_LIMIT}"))),
        },
    }
}

/// A sequence-number cursor (`before` / `after`): a non-negative integer.
fn cursor(q: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    q.get(name)
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::bad("invalid_cursor", format!("{name} must be a non-negative integer")))
        })
        .transpose()
}

/// The cursor of the next page: the last row's key, when the page is full.
fn next_page<T>(rows: &[T], limit: i64, key: impl Fn(&T) -> Option<i64>) -> Option<i64> {
    (rows.len() as i64 == limit).then(|| rows.last().and_then(key)).flatten()
}

async fn known_market(db: &PgPool, market: &str) -> Result<(), ApiError> {
    if market_exists(db, market).await? {
        return Ok(());
    }
    Err(ApiError::not_found("unknown_market", format!("no market {market}")))
}

/// Ready while PostgreSQL answers. Quarantined markets (an event their derived
/// tables could not take) make it `degraded` and are listed, still with 200: the
/// API serves, and restarting would not help.
async fn health(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    let quarantined = crate::db::quarantined(&app.db).await?;
    let redis = match app.cache.clone() {
        None => "disabled",
        Some(mut c) => match redis::cmd("PING").query_async::<String>(&mut c).await {
            Ok(_) => "ok",
            Err(_) => "down",
        },
    };
    let mut body = json!({"status": "ok", "database": "ok", "redis": redis});
    if !quarantined.is_empty() {
        body["status"] = json!("degraded");
        body["quarantined"] = json!(quarantined);
    }
    Ok(Json(body))
}

#[derive(sqlx::FromRow, serde::Serialize)]
struct MarketRow {
    market: String,
    base_mint: String,
    quote_mint: String,
    base_lot_size: Numeric,
    quote_tick_size: Numeric,
    min_order_lots: Numeric,
    maker_fee_bps: i16,
    taker_fee_bps: i16,
    /// null for a continuous market; a batch market's auction and its parameters:
    /// {auction, keyper_set, batch_slots, reveal_timeout_slots, sealed_fee, capacity}.
    batch: Option<Value>,
    /// null, or where its derivation stopped: {seq, kind, error} (see /health).
    quarantined: Option<Value>,
}

async fn markets(State(app): State<App>) -> ApiResult {
    let markets: Vec<MarketRow> = sqlx::query_as(
        "SELECT m.market, base_mint, quote_mint, base_lot_size, quote_tick_size, min_order_lots, maker_fee_bps,
           taker_fee_bps, CASE WHEN m.auction IS NOT NULL THEN jsonb_build_object('auction', m.auction,
           'keyper_set', m.keyper_set, 'batch_slots', m.batch_slots, 'reveal_timeout_slots', m.reveal_timeout_slots,
           'sealed_fee', m.sealed_fee, 'capacity', m.batch_capacity) END AS batch,
           CASE WHEN q.market IS NOT NULL THEN jsonb_build_object('seq', q.seq, 'kind', q.kind,
           'error', q.error) END AS quarantined
         FROM markets m LEFT JOIN quarantined_markets q ON q.market = m.market ORDER BY m.market",
    )
    .fetch_all(&app.db)
    .await?;
    Ok(Json(json!({ "markets": markets })))
}

#[derive(sqlx::FromRow, serde::Serialize)]
struct TradeRow {
    fill_seq: i64,
    taker_side: String,
    taker: String,
    maker: String,
    price: Numeric,
    qty_lots: Numeric,
    maker_fee: i64,
    slot: i64,
    signature: String,
}

/// Newest first; `before` (a fill sequence number) pages back.
async fn trades(
    State(app): State<App>,
    Path(market): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let market = market_key(&market)?;
    let (limit, before) = (limit(&q)?, cursor(&q, "before")?);
    known_market(&app.db, &market).await?;
    let trades: Vec<TradeRow> = sqlx::query_as(
        "SELECT fill_seq, taker_side, taker, maker, price, qty_lots, maker_fee, slot, signature FROM trades
         WHERE market = $1 AND fill_seq < $2 ORDER BY fill_seq DESC LIMIT $3",
    )
    .bind(&market)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    let next = next_page(&trades, limit, |t| Some(t.fill_seq));
    Ok(Json(json!({"market": market, "trades": trades, "next_before": next})))
}

#[derive(sqlx::FromRow, serde::Serialize)]
struct Candle {
    /// Start of the interval, unix seconds.
    time: i64,
    open: Numeric,
    high: Numeric,
    low: Numeric,
    close: Numeric,
    /// Base lots traded.
    volume: Numeric,
    trades: i64,
}

/// OHLCV candles, newest first: interval 1m, 5m, 1h or 1d; `before` (a start
/// time, unix seconds) pages back.
async fn candles(
    State(app): State<App>,
    Path(market): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let market = market_key(&market)?;
    let interval = q.get("interval").map(String::as_str).unwrap_or("1m");
    if !INTERVALS.iter().any(|(name, _)| *name == interval) {
        return Err(ApiError::bad("invalid_interval", "interval must be 1m, 5m, 1h or 1d"));
    }
    let (limit, before) = (limit(&q)?, cursor(&q, "before")?);
    known_market(&app.db, &market).await?;
    let candles: Vec<Candle> = sqlx::query_as(
        "SELECT start AS time, open, high, low, close, volume, trades FROM candles
         WHERE market = $1 AND interval = $2 AND start < $3 ORDER BY start DESC LIMIT $4",
    )
    .bind(&market)
    .bind(interval)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    let next = next_page(&candles, limit, |c| Some(c.time));
    Ok(Json(json!({"market": market, "interval": interval, "candles": candles, "next_before": next})))
}

/// The market's events in sequence order after `after`: the feed an indexer
/// client replays, gap-checkable by `seq`.
async fn events(
    State(app): State<App>,
    Path(market): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let market = market_key(&market)?;
    let (limit, after) = (limit(&q)?, cursor(&q, "after")?.unwrap_or(0));
    known_market(&app.db, &market).await?;
    let rows: Vec<(i64, String, i64, String, bool)> = sqlx::query_as(
        "SELECT seq, kind, slot, signature, finalized FROM events WHERE market = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(&market)
    .bind(after)
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    let next = next_page(&rows, limit, |r| Some(r.0));
    let events: Vec<Value> = rows
        .into_iter()
        .map(|(seq, kind, slot, sig, finalized)| {
            json!({"seq": seq, "kind": kind, "slot": slot, "signature": sig, "finalized": finalized})
        })
        .collect();
    Ok(Json(json!({"market": market, "events": events, "next_after": next})))
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such endpoint")
}

/// The order book aggregated by price level, best first, with the market sequence
/// number it reflects (from the Redis cache, or PostgreSQL when the cache is cold).
/// The `book:<market>` WebSocket channel continues from `seq`.
async fn book(
    State(app): State<App>,
    Path(market): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let market = market_key(&market)?;
    let depth =
        match q.get("depth") {
            None => 50,
            Some(v) => v.parse::<usize>().ok().filter(|d| (1..=MAX_LIMIT as usize).contains(d)).ok_or_else(|| {
                ApiError::bad("invalid_depth", format!("depth must be an integer in 1..={MAX_LIMIT}"))
            })?,
        };
    known_market(&app.db, &market).await?;
    let (book, source) = live::book(&app.db, app.cache.as_ref(), &market).await?;
    let book = book.truncate(depth);
    Ok(Json(json!({"market": market, "seq": book.seq, "bids": book.bids, "asks": book.asks, "source": source})))
}

/// An order with every change the event log recorded for it.
async fn order(State(app): State<App>, Path((market, order_id)): Path<(String, String)>) -> ApiResult {
    let market = market_key(&market)?;
    let id = order_id
        .parse::<u128>()
        .map_err(|_| ApiError::bad("invalid_order_id", "order ids are unsigned decimal integers"))?
        .to_string();
    known_market(&app.db, &market).await?;
    let order: Option<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(o.*) || jsonb_build_object('history', (SELECT jsonb_agg(to_jsonb(h.*) - 'market' - 'order_id'
           ORDER BY h.seq) FROM order_history h WHERE h.market = o.market AND h.order_id = o.order_id))
         FROM orders o WHERE o.market = $1 AND o.order_id = $2",
    )
    .bind(&market)
    .bind(&id)
    .fetch_optional(&app.db)
    .await?;
    order.map(Json).ok_or_else(|| ApiError::not_found("unknown_order", format!("no order {id} in market {market}")))
}

/// A batch market's batches, newest first: each with its status, its sealed orders
/// (submitted, cancelled, valid, voids), its clearing (price, volume, demand, supply,
/// imbalance) and when each phase happened; `before` (a batch id) pages back. A
/// continuous market has none.
async fn batches(
    State(app): State<App>,
    Path(market): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let market = market_key(&market)?;
    let (limit, before) = (limit(&q)?, cursor(&q, "before")?);
    known_market(&app.db, &market).await?;
    let batches: Vec<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(b.*) - 'market' FROM batches b WHERE market = $1 AND batch_id < $2
         ORDER BY batch_id DESC LIMIT $3",
    )
    .bind(&market)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    let next = next_page(&batches, limit, |b| b["batch_id"].as_i64());
    Ok(Json(json!({"market": market, "batches": batches, "next_before": next})))
}

/// One batch with its sealed orders in submission order. An order's contents (side,
/// type, price, size, client id) are null until its batch opens: the index learns
/// them from `OrdersRevealed`, never before.
async fn batch(State(app): State<App>, Path((market, batch_id)): Path<(String, String)>) -> ApiResult {
    let market = market_key(&market)?;
    let id = batch_id
        .parse::<u64>()
        .map_err(|_| ApiError::bad("invalid_batch_id", "batch ids are unsigned decimal integers"))?;
    known_market(&app.db, &market).await?;
    let unknown = || ApiError::not_found("unknown_batch", format!("no batch {id} in market {market}"));
    // Batch ids are stored as BIGINT (the indexer refuses larger ones): a larger id is no batch.
    let key = i64::try_from(id).map_err(|_| unknown())?;
    let batch: Option<Value> = sqlx::query_scalar(
        "SELECT (to_jsonb(b.*) - 'market') || jsonb_build_object('sealed_orders', COALESCE((SELECT
           jsonb_agg(to_jsonb(s.*) - 'market' - 'batch_id' ORDER BY s.idx) FROM sealed_orders s
           WHERE s.market = b.market AND s.batch_id = b.batch_id), '[]'::jsonb))
         FROM batches b WHERE b.market = $1 AND b.batch_id = $2",
    )
    .bind(&market)
    .bind(key)
    .fetch_optional(&app.db)
    .await?;
    let mut batch = batch.ok_or_else(unknown)?;
    batch["market"] = json!(market);
    Ok(Json(batch))
}

/// The `market` query parameter the per-trader lists require.
async fn market_param(app: &App, q: &HashMap<String, String>) -> Result<String, ApiError> {
    let market = q.get("market").ok_or_else(|| ApiError::bad("missing_market", "the market parameter is required"))?;
    let market = market_key(market)?;
    known_market(&app.db, &market).await?;
    Ok(market)
}

/// A trader's orders in one market, newest first: `status` open, done or all;
/// `before` (a placed_seq) pages back.
async fn trader_orders(
    State(app): State<App>,
    Path(owner): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let owner = address(&owner, "invalid_owner")?;
    let (limit, before) = (limit(&q)?, cursor(&q, "before")?);
    let status = match q.get("status").map(String::as_str).unwrap_or("all") {
        "open" => "o.status = 'open'",
        "done" => "o.status <> 'open'",
        "all" => "true",
        _ => return Err(ApiError::bad("invalid_status", "status must be open, done or all")),
    };
    let market = market_param(&app, &q).await?;
    let orders: Vec<Value> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(o.*) FROM orders o JOIN traders t ON t.market = o.market AND t.trader = o.trader
         WHERE o.market = $1 AND t.owner = $2 AND o.placed_seq < $3 AND {status}
         ORDER BY o.placed_seq DESC LIMIT $4"
    ))
    .bind(&market)
    .bind(&owner)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    let next = next_page(&orders, limit, |o| o["placed_seq"].as_i64());
    Ok(Json(json!({"owner": owner, "market": market, "orders": orders, "next_before": next})))
}

/// A trader's fills in one market (as taker or maker), newest first; `before` (a
/// fill_seq) pages back.
async fn trader_fills(
    State(app): State<App>,
    Path(owner): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let owner = address(&owner, "invalid_owner")?;
    let (limit, before) = (limit(&q)?, cursor(&q, "before")?);
    let market = market_param(&app, &q).await?;
    let fills: Vec<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(f.*) || jsonb_build_object('role', CASE WHEN f.taker = t.trader THEN 'taker' ELSE 'maker' END)
         FROM trades f JOIN traders t ON t.market = f.market AND (t.trader = f.taker OR t.trader = f.maker)
         WHERE f.market = $1 AND t.owner = $2 AND f.fill_seq < $3 ORDER BY f.fill_seq DESC LIMIT $4",
    )
    .bind(&market)
    .bind(&owner)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    let next = next_page(&fills, limit, |f| f["fill_seq"].as_i64());
    Ok(Json(json!({"owner": owner, "market": market, "fills": fills, "next_before": next})))
}

/// A wallet's balances in every market it has a trader account in.
async fn trader_balances(State(app): State<App>, Path(owner): Path<String>) -> ApiResult {
    let owner = address(&owner, "invalid_owner")?;
    let balances: Vec<Value> =
        sqlx::query_scalar("SELECT to_jsonb(t.*) FROM traders t WHERE t.owner = $1 ORDER BY t.market")
            .bind(&owner)
            .fetch_all(&app.db)
            .await?;
    Ok(Json(json!({"owner": owner, "balances": balances})))
}

async fn metrics(State(app): State<App>) -> Result<Response, ApiError> {
    let markets: Vec<(String, i64)> =
        sqlx::query_as("SELECT market, MAX(seq) FROM events GROUP BY market ORDER BY market")
            .fetch_all(&app.db)
            .await?;
    let quarantined: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quarantined_markets").fetch_one(&app.db).await?;
    let body = app.metrics.render(&markets, quarantined);
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

/// Every route, as documented in `openapi.json` (a test keeps the two equal).
pub const ROUTES: &[&str] = &[
    "/health",
    "/markets",
    "/markets/{market}/book",
    "/markets/{market}/trades",
    "/markets/{market}/events",
    "/markets/{market}/candles",
    "/markets/{market}/orders/{order_id}",
    "/markets/{market}/batches",
    "/markets/{market}/batches/{batch_id}",
    "/traders/{owner}/orders",
    "/traders/{owner}/fills",
    "/traders/{owner}/balances",
    "/metrics",
    "/tx/place",
    "/tx/cancel",
    "/tx/cancel-all",
    "/tx/deposit",
    "/tx/withdraw",
    "/tx/settle",
    "/tx/sealed",
    "/tx/cancel-sealed",
    "/tx/send",
    "/markets/{market}/batch-key",
    "/openapi.json",
    "/ws",
];

/// The OpenAPI document, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub fn router(app: App) -> Router {
    // The transaction API: its own limits (a token bucket per client, bounded work in
    // flight, small bodies) and CORS for the configured origins only.
    let settings = crate::txapi::settings();
    let guard = crate::txapi::Guard::new(settings);
    let tx = Router::new()
        .route("/tx/place", post(crate::txapi::place))
        .route("/tx/cancel", post(crate::txapi::cancel))
        .route("/tx/cancel-all", post(crate::txapi::cancel_all))
        .route("/tx/deposit", post(crate::txapi::deposit))
        .route("/tx/withdraw", post(crate::txapi::withdraw))
        .route("/tx/settle", post(crate::txapi::settle))
        .route("/tx/sealed", post(crate::txapi::sealed))
        .route("/tx/cancel-sealed", post(crate::txapi::cancel_sealed))
        .route("/tx/send", post(crate::txapi::send))
        // Read-only, but it reads the chain: the transaction API's limits apply.
        .route("/markets/{market}/batch-key", get(crate::txapi::batch_key))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        .layer(axum::Extension(guard.clone()))
        .layer(axum::middleware::from_fn_with_state(guard, crate::txapi::rate_limit))
        .layer(crate::txapi::cors(settings));
    // Read-only public data: any origin may read it from a browser.
    let read = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/ws", get(crate::ws::handler))
        .route("/markets", get(markets))
        .route("/markets/{market}/book", get(book))
        .route("/markets/{market}/trades", get(trades))
        .route("/markets/{market}/events", get(events))
        .route("/markets/{market}/candles", get(candles))
        .route("/markets/{market}/orders/{order_id}", get(order))
        .route("/markets/{market}/batches", get(batches))
        .route("/markets/{market}/batches/{batch_id}", get(batch))
        .route("/traders/{owner}/orders", get(trader_orders))
        .route("/traders/{owner}/fills", get(trader_fills))
        .route("/traders/{owner}/balances", get(trader_balances))
        .route("/metrics", get(metrics))
        .merge(crate::web::router())
        .layer(tower_http::cors::CorsLayer::permissive());
    read.merge(tx)
        // route_layer: runs after routing, so the route's template is known.
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), track))
        .fallback(axum::handler::Handler::layer(not_found, tower_http::cors::CorsLayer::permissive()))
        .with_state(app)
}

/// Counts every request by route template and status, with its latency.
async fn track(
    State(app): State<App>,
    path: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = path.as_ref().map_or("", |p| p.as_str()).to_string();
    let start = std::time::Instant::now();
    let response = next.run(request).await;
    // A WebSocket's "latency" would be its lifetime: counted, not timed.
    let took = (route != "/ws").then(|| start.elapsed());
    app.metrics.request(&route, response.status().as_u16(), took);
    response
}

/// Serves the API until `app.shutdown` fires, then drains the requests in flight
/// for at most `drain` (see `solex_sdk::service::serve_http`).
pub async fn serve(addr: std::net::SocketAddr, app: App, drain: std::time::Duration) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "REST API listening");
    serve_on(listener, app, drain).await
}

/// Serves the API on a bound listener (tests bind port 0 and read the address).
/// Handlers see the peer's address, which the transaction API's rate limit keys on.
pub async fn serve_on(listener: tokio::net::TcpListener, app: App, drain: std::time::Duration) -> anyhow::Result<()> {
    let shutdown = app.shutdown.clone();
    solex_sdk::service::serve_http(listener, router(app), shutdown, drain).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
        let mut documented: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut routes = ROUTES.to_vec();
        documented.sort();
        routes.sort();
        assert_eq!(documented, routes);
        // Every documented error code is one the API returns.
        for code in doc["components"]["schemas"]["Error"]["properties"]["code"]["enum"].as_array().unwrap() {
            let code = code.as_str().unwrap();
            let sources = [include_str!("api.rs"), include_str!("http.rs"), include_str!("txapi.rs")];
            assert!(sources.iter().any(|s| s.contains(&format!("\"{code}\""))), "{code} is not returned by the API");
        }
    }
}
