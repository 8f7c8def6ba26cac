//! The REST API over the indexed tables (axum). Every error is a JSON body
//! `{"code": "...", "message": "..."}` with a 4xx status; nothing answers 500 for
//! bad input.
use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

use solex_sdk::accounts::{decode, decode_boxed};
use solex_sdk::rpc::RpcClient;
use solex_sdk::{BookSide, Market, Pubkey};
use sqlx::PgPool;

/// Largest page any list endpoint returns.
pub const MAX_LIMIT: i64 = 1000;
const DEFAULT_LIMIT: i64 = 100;

pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"code": self.code, "message": self.message}))).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        Self { status: StatusCode::SERVICE_UNAVAILABLE, code: "unavailable", message: "database unavailable".into() }
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

fn market_key(s: &str) -> Result<String, ApiError> {
    Pubkey::from_str(s)
        .map(|k| k.to_string())
        .map_err(|_| ApiError::bad("invalid_market", format!("{s:?} is not a base58 address")))
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

async fn known_market(db: &PgPool, market: &str) -> Result<(), ApiError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT market FROM markets WHERE market = $1").bind(market).fetch_optional(db).await?;
    found.map(|_| ()).ok_or(ApiError {
        status: StatusCode::NOT_FOUND,
        code: "unknown_market",
        message: format!("no market {market}"),
    })
}

async fn health(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&app.db).await?;
    Ok(Json(json!({"status": "ok"})))
}

#[derive(sqlx::FromRow, serde::Serialize)]
struct MarketRow {
    market: String,
    base_mint: String,
    quote_mint: String,
    base_lot_size: i64,
    quote_tick_size: i64,
    min_order_lots: i64,
    maker_fee_bps: i16,
    taker_fee_bps: i16,
}

async fn markets(State(app): State<App>) -> ApiResult {
    let markets: Vec<MarketRow> = sqlx::query_as(
        "SELECT market, base_mint, quote_mint, base_lot_size, quote_tick_size, min_order_lots, maker_fee_bps, taker_fee_bps
         FROM markets ORDER BY market",
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
    price: i64,
    qty_lots: i64,
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
    let next = (trades.len() as i64 == limit).then(|| trades.last().map(|t| t.fill_seq)).flatten();
    Ok(Json(json!({"market": market, "trades": trades, "next_before": next})))
}

#[derive(sqlx::FromRow, serde::Serialize)]
struct Candle {
    /// Start of the interval, unix seconds.
    time: i64,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    /// Base lots traded.
    volume: i64,
    trades: i64,
}

/// OHLCV candles from the trades table, newest first: interval 1m, 5m, 1h or 1d.
async fn candles(
    State(app): State<App>,
    Path(market): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let market = market_key(&market)?;
    let interval = q.get("interval").map(String::as_str).unwrap_or("1m");
    let seconds: i64 = match interval {
        "1m" => 60,
        "5m" => 300,
        "1h" => 3_600,
        "1d" => 86_400,
        _ => return Err(ApiError::bad("invalid_interval", "interval must be 1m, 5m, 1h or 1d")),
    };
    let limit = limit(&q)?;
    known_market(&app.db, &market).await?;
    let candles: Vec<Candle> = sqlx::query_as(
        "SELECT (block_time / $2) * $2 AS time,
                (array_agg(price ORDER BY fill_seq))[1] AS open,
                MAX(price) AS high, MIN(price) AS low,
                (array_agg(price ORDER BY fill_seq DESC))[1] AS close,
                SUM(qty_lots)::BIGINT AS volume, COUNT(*) AS trades
         FROM trades WHERE market = $1 AND block_time IS NOT NULL
         GROUP BY 1 ORDER BY 1 DESC LIMIT $3",
    )
    .bind(&market)
    .bind(seconds)
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    Ok(Json(json!({"market": market, "interval": interval, "candles": candles})))
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
    let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
        "SELECT seq, kind, slot, signature FROM events WHERE market = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(&market)
    .bind(after)
    .bind(limit)
    .fetch_all(&app.db)
    .await?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.0)).flatten();
    let events: Vec<Value> = rows
        .into_iter()
        .map(|(seq, kind, slot, sig)| json!({"seq": seq, "kind": kind, "slot": slot, "signature": sig}))
        .collect();
    Ok(Json(json!({"market": market, "events": events, "next_after": next})))
}

async fn not_found() -> ApiError {
    ApiError { status: StatusCode::NOT_FOUND, code: "not_found", message: "no such endpoint".into() }
}

/// What the handlers share: the database, and RPC for live book snapshots.
#[derive(Clone)]
pub struct App {
    pub db: PgPool,
    pub rpc: Arc<RpcClient>,
    /// The live feed for the WebSocket API (None: /ws answers "unavailable").
    pub redis: Option<redis::Client>,
}

/// Depth by price level, best first: `[[price, qty_lots], ...]`.
fn levels(book: &BookSide, depth: usize) -> Vec<[u64; 2]> {
    let mut out: Vec<[u64; 2]> = Vec::new();
    for o in book.orders().iter().rev() {
        if let Some(level) = out.last_mut().filter(|l| l[0] == o.price) {
            level[1] += o.qty_lots;
        } else if out.len() == depth {
            break;
        } else {
            out.push([o.price, o.qty_lots]);
        }
    }
    out
}

/// The order book aggregated by price level, read from the chain in one
/// `getMultipleAccounts` (market and both sides at the same slot), with the market
/// sequence number it reflects: a client applying the event feed continues from `seq`.
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
    let unavailable = |e: String| {
        tracing::warn!(error = %e, "book snapshot failed");
        ApiError { status: StatusCode::SERVICE_UNAVAILABLE, code: "unavailable", message: "chain unavailable".into() }
    };
    let key = Pubkey::from_str(&market).expect("validated above");
    let rpc = app.rpc.clone();
    let snapshot = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let (_, first) = rpc.multiple_accounts(&[key]).map_err(|e| e.to_string())?;
        let m: Market = decode(&first[0].as_ref().ok_or("market gone")?.data).map_err(|e| e.to_string())?;
        let (slot, accounts) = rpc.multiple_accounts(&[key, m.bids, m.asks]).map_err(|e| e.to_string())?;
        let data = |i: usize| accounts[i].as_ref().map(|a| a.data.clone()).ok_or("account gone");
        let m: Market = decode(&data(0)?).map_err(|e| e.to_string())?;
        let bids: Box<BookSide> = decode_boxed(&data(1)?).map_err(|e| e.to_string())?;
        let asks: Box<BookSide> = decode_boxed(&data(2)?).map_err(|e| e.to_string())?;
        Ok((slot, m.event_seq, levels(&bids, depth), levels(&asks, depth)))
    })
    .await
    .map_err(|e| unavailable(e.to_string()))?
    .map_err(unavailable)?;
    let (slot, seq, bids, asks) = snapshot;
    Ok(Json(json!({"market": market, "seq": seq, "slot": slot, "bids": bids, "asks": asks})))
}

/// Every route, as documented in `openapi.json` (a test keeps the two equal).
pub const ROUTES: &[&str] = &[
    "/health",
    "/markets",
    "/markets/{market}/book",
    "/markets/{market}/trades",
    "/markets/{market}/events",
    "/markets/{market}/candles",
    "/openapi.json",
    "/ws",
];

/// The OpenAPI document, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub fn router(app: App) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/ws", get(crate::ws::handler))
        .route("/markets", get(markets))
        .route("/markets/{market}/book", get(book))
        .route("/markets/{market}/trades", get(trades))
        .route("/markets/{market}/events", get(events))
        .route("/markets/{market}/candles", get(candles))
        .fallback(not_found)
        // Read-only public data: any origin may read it from a browser.
        .layer(tower_http::cors::CorsLayer::permissive())
        .with_state(app)
}

pub async fn serve(addr: std::net::SocketAddr, app: App) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "REST API listening");
    axum::serve(listener, router(app)).await?;
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
            assert!(include_str!("api.rs").contains(&format!("\"{code}\"")), "{code} is not returned by the API");
        }
    }
}
