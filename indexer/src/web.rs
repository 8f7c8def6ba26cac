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

/// The page's ES modules besides `app.js`, by path: its sealing module (batch
/// markets) and the vendored libraries it imports, with their licenses
/// (`web/vendor/`, made by `web/vendor/update.sh`; a test checks that every file
/// there is served).
pub const MODULES: &[(&str, &str)] = &[
    ("/seal.js", include_str!("../web/seal.js")),
    ("/vendor/versions.json", include_str!("../web/vendor/versions.json")),
    ("/vendor/noble-curves/LICENSE", include_str!("../web/vendor/noble-curves/LICENSE")),
    ("/vendor/noble-curves/ed25519.js", include_str!("../web/vendor/noble-curves/ed25519.js")),
    ("/vendor/noble-curves/utils.js", include_str!("../web/vendor/noble-curves/utils.js")),
    ("/vendor/noble-curves/abstract/curve.js", include_str!("../web/vendor/noble-curves/abstract/curve.js")),
    ("/vendor/noble-curves/abstract/edwards.js", include_str!("../web/vendor/noble-curves/abstract/edwards.js")),
    ("/vendor/noble-curves/abstract/fft.js", include_str!("../web/vendor/noble-curves/abstract/fft.js")),
    ("/vendor/noble-curves/abstract/frost.js", include_str!("../web/vendor/noble-curves/abstract/frost.js")),
    (
        "/vendor/noble-curves/abstract/hash-to-curve.js",
        include_str!("../web/vendor/noble-curves/abstract/hash-to-curve.js"),
    ),
    ("/vendor/noble-curves/abstract/modular.js", include_str!("../web/vendor/noble-curves/abstract/modular.js")),
    ("/vendor/noble-curves/abstract/montgomery.js", include_str!("../web/vendor/noble-curves/abstract/montgomery.js")),
    ("/vendor/noble-curves/abstract/oprf.js", include_str!("../web/vendor/noble-curves/abstract/oprf.js")),
    ("/vendor/noble-hashes/LICENSE", include_str!("../web/vendor/noble-hashes/LICENSE")),
    ("/vendor/noble-hashes/_md.js", include_str!("../web/vendor/noble-hashes/_md.js")),
    ("/vendor/noble-hashes/_u64.js", include_str!("../web/vendor/noble-hashes/_u64.js")),
    ("/vendor/noble-hashes/hkdf.js", include_str!("../web/vendor/noble-hashes/hkdf.js")),
    ("/vendor/noble-hashes/hmac.js", include_str!("../web/vendor/noble-hashes/hmac.js")),
    ("/vendor/noble-hashes/sha2.js", include_str!("../web/vendor/noble-hashes/sha2.js")),
    ("/vendor/noble-hashes/utils.js", include_str!("../web/vendor/noble-hashes/utils.js")),
];

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

/// `/`, `/app.js`, the page's modules and `/config.json` (the page's settings). Not
/// API routes, so not in `openapi.json`.
pub fn router() -> Router<App> {
    // no-cache: a browser revalidates, so a new binary's page is picked up at once.
    let mut router = Router::new()
        .route(
            "/",
            get(|| async { ([(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-cache")], INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], APP) }),
        )
        .route("/config.json", get(config));
    for (path, body) in MODULES {
        let kind = content_type(path);
        router = router
            .route(path, get(move || async move { ([(CONTENT_TYPE, kind), (CACHE_CONTROL, "no-cache")], *body) }));
    }
    router
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file the vendoring script leaves in `web/vendor/` (but the script) is
    /// served, and nothing else is listed.
    #[test]
    fn every_vendored_file_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut on_disk = vec!["/seal.js".to_string()];
        let mut stack = vec![dir.join("vendor")];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.file_name().is_some_and(|n| n != "update.sh") {
                    on_disk.push(format!("/{}", path.strip_prefix(&dir).unwrap().display()));
                }
            }
        }
        let mut served: Vec<String> = MODULES.iter().map(|(p, _)| p.to_string()).collect();
        on_disk.sort();
        served.sort();
        assert_eq!(served, on_disk);
        for (path, body) in MODULES {
            let file = std::fs::read_to_string(dir.join(&path[1..])).unwrap();
            assert_eq!(*body, file, "{path} is the file's content");
        }
    }
}
