//! What every HTTP handler shares (the REST API, the transaction API, the WebSocket
//! API and the web page): the application state and the error type. Handlers import
//! this module; the router (`api`) imports the handlers.
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sqlx::PgPool;

use crate::hub::Hub;
use crate::metrics::Metrics;

/// What the handlers share.
#[derive(Clone)]
pub struct App {
    pub db: PgPool,
    /// The live feed behind the WebSocket API (None: /ws answers "unavailable").
    pub hub: Option<Arc<Hub>>,
    /// The book cache (None: books are read from PostgreSQL).
    pub cache: Option<redis::aio::ConnectionManager>,
    pub metrics: Arc<Metrics>,
    /// The cluster, for the transaction API (None: it answers "unavailable").
    pub rpc: Option<Arc<solex_sdk::rpc::RpcClient>>,
    /// The service's shutdown signal: the server drains on it, WebSocket clients are
    /// told the server is going away.
    pub shutdown: solex_sdk::service::Shutdown,
}

/// An error answer: a JSON body `{"code": "...", "message": "..."}` with a 4xx
/// status, or 503 `unavailable`.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }

    pub(crate) fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self { status: StatusCode::NOT_FOUND, code, message: message.into() }
    }

    /// The error's code (`invalid_field`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self { status: StatusCode::SERVICE_UNAVAILABLE, code: "unavailable", message: message.into() }
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
        Self::unavailable("database unavailable")
    }
}

/// Whether the index knows `market` (its MarketCreated is derived).
pub(crate) async fn market_exists(db: &PgPool, market: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM markets WHERE market = $1)").bind(market).fetch_one(db).await
}
