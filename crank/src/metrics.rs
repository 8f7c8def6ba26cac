//! Prometheus metrics (`metrics` handles on the service kit's registry), served
//! with `/health` over HTTP.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use solex_sdk::service::{serve_http, Kind, Registry, Shutdown};
use solex_sdk::Pubkey;

const EVENTS_SETTLED: &str = "solex_crank_events_settled_total";
const QUEUE_DEPTH: &str = "solex_crank_queue_depth";
const LAG_SLOTS: &str = "solex_crank_lag_slots";
const COMPUTE_UNITS: &str = "solex_crank_compute_units_total";
const TRANSACTIONS: &str = "solex_crank_transactions_total";

/// Every metric name, its kind and help text.
const DESCRIBED: [(Kind, &str, &str); 8] = [
    (Kind::Counter, EVENTS_SETTLED, "Queue events settled by this crank."),
    (Kind::Gauge, QUEUE_DEPTH, "Pending fill queue events."),
    (Kind::Gauge, LAG_SLOTS, "Slots since the queue last became non-empty."),
    (Kind::Counter, COMPUTE_UNITS, "Compute units used by this crank's transactions."),
    (Kind::Counter, TRANSACTIONS, "Transactions by result and reason."),
    (Kind::Counter, "solex_crank_fees_lamports_total", "Transaction fees paid."),
    (Kind::Gauge, "solex_crank_ws_connected", "1 while the websocket subscriptions are up (else polling only)."),
    (Kind::Gauge, "solex_crank_rpc_up", "1 while RPC calls succeed."),
];

#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    fees: metrics::Counter,
    ws_connected: metrics::Gauge,
    rpc_up: metrics::Gauge,
    /// What /health answers: RPC calls succeed.
    rpc_ok: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new(&[1.0]);
        for (kind, name, help) in DESCRIBED {
            registry.describe(kind, name, help);
        }
        Self(Arc::new(Inner {
            fees: registry.counter("solex_crank_fees_lamports_total", &[]),
            ws_connected: registry.gauge("solex_crank_ws_connected", &[]),
            rpc_up: registry.gauge("solex_crank_rpc_up", &[]),
            rpc_ok: AtomicBool::new(false),
            registry,
        }))
    }
}

impl Metrics {
    fn market_label(market: &Pubkey) -> [(&'static str, String); 1] {
        [("market", market.to_string())]
    }

    /// The market's queue was found empty.
    pub fn market_idle(&self, market: &Pubkey) {
        let label = Self::market_label(market);
        self.0.registry.gauge(QUEUE_DEPTH, &label).set(0.0);
        self.0.registry.gauge(LAG_SLOTS, &label).set(0.0);
    }

    /// A settlement transaction landed: `settled` events, `depth` left in the queue,
    /// `lag_slots` since the oldest of them was first seen.
    pub fn market_settled(&self, market: &Pubkey, settled: u64, depth: u64, compute_units: u64, lag_slots: u64) {
        let label = Self::market_label(market);
        let r = &self.0.registry;
        r.counter(EVENTS_SETTLED, &label).increment(settled);
        r.gauge(QUEUE_DEPTH, &label).set(depth as f64);
        r.counter(COMPUTE_UNITS, &label).increment(compute_units);
        r.gauge(LAG_SLOTS, &label).set(lag_slots as f64);
    }

    /// `result` is sent, confirmed or failed.
    pub fn transaction(&self, result: &'static str, reason: &str) {
        self.0
            .registry
            .counter(TRANSACTIONS, &[("result", result.to_string()), ("reason", reason.to_string())])
            .increment(1)
    }

    pub fn fee(&self, lamports: u64) {
        self.0.fees.increment(lamports)
    }

    pub fn rpc_ok(&self, ok: bool) {
        self.0.rpc_ok.store(ok, Ordering::Relaxed);
        self.0.rpc_up.set(ok as u8 as f64);
    }

    pub fn ws_connected(&self, up: bool) {
        self.0.ws_connected.set(up as u8 as f64)
    }

    /// Healthy while RPC calls succeed.
    pub fn healthy(&self) -> bool {
        self.0.rpc_ok.load(Ordering::Relaxed)
    }

    pub fn render(&self) -> String {
        self.0.registry.render()
    }
}

async fn metrics(State(m): State<Metrics>) -> String {
    m.render()
}

async fn health(State(m): State<Metrics>) -> (StatusCode, &'static str) {
    if m.healthy() {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "rpc unreachable\n")
    }
}

/// Serves `/metrics` and `/health` until `shutdown` fires.
pub async fn serve(addr: SocketAddr, m: Metrics, shutdown: Shutdown) -> anyhow::Result<()> {
    let app = Router::new().route("/metrics", get(metrics)).route("/health", get(health)).with_state(m);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "metrics and health endpoint listening");
    // A scrape is one quick render: a short drain bound is plenty.
    serve_http(listener, app, shutdown, std::time::Duration::from_secs(2)).await?;
    Ok(())
}
