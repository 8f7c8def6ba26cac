//! The trading page, served at `/` by the API. It is static (HTML and plain
//! JavaScript compiled into the binary, no build step) and talks only to the public
//! REST, WebSocket and transaction APIs, signing in the browser.
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::http::App;

const INDEX: &str = include_str!("../web/index.html");
const APP: &str = include_str!("../web/app.js");

/// `/`, `/app.js` and `/config.json` (the page's settings). Not API routes, so not in `openapi.json`.
pub fn router() -> Router<App> {
    // no-cache: a browser revalidates, so a new binary's page is picked up at once.
    Router::new()
        .route(
            "/",
            get(|| async { ([(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-cache")], INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], APP) }),
        )
        .route("/config.json", get(config))
}

/// The Wallet Standard chain of a cluster, from its genesis hash (any other cluster,
/// a local validator's included, is `solana:localnet`).
pub fn chain_of(genesis_hash: &str) -> &'static str {
    match genesis_hash {
        "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d" => "solana:mainnet",
        "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG" => "solana:devnet",
        "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY" => "solana:testnet",
        _ => "solana:localnet",
    }
}

/// The cluster the indexer's RPC endpoint serves, asked once (genesis never changes).
static GENESIS: OnceLock<String> = OnceLock::new();

/// `{"chain", "genesis_hash", "program"}`: what the page needs to know of the cluster
/// (the chain it asks a wallet to sign for). 503 while the RPC cannot say.
async fn config(State(app): State<App>) -> Response {
    let unavailable =
        |m: &str| (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"code": "unavailable", "message": m}))).into_response();
    let genesis = match GENESIS.get() {
        Some(g) => g.clone(),
        None => {
            let Some(rpc) = app.rpc.clone() else { return unavailable("no RPC endpoint configured") };
            let asked = tokio::task::spawn_blocking(move || rpc.call("getGenesisHash", json!([]))).await;
            match asked.ok().and_then(|r| r.ok()).and_then(|v| v.as_str().map(String::from)) {
                Some(g) => GENESIS.get_or_init(|| g).clone(),
                None => return unavailable("the cluster did not answer"),
            }
        }
    };
    let body = json!({"chain": chain_of(&genesis), "genesis_hash": genesis, "program": solex::ID.to_string()});
    ([(CACHE_CONTROL, "no-cache")], Json(body)).into_response()
}
