//! The trading page, served at `/` by the API. It is static (HTML and plain
//! JavaScript compiled into the binary, no build step) and talks only to the public
//! REST, WebSocket and transaction APIs, signing in the browser.
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("../web/index.html");
const APP: &str = include_str!("../web/app.js");

/// `/` and `/app.js`. Not API routes, so not in `openapi.json`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
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
}
