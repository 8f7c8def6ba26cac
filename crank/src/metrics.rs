//! Prometheus metrics, kept in memory and rendered in the text exposition format,
//! served with `/health` over HTTP.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use solex_sdk::service::{serve_http, Shutdown};
use solex_sdk::Pubkey;

#[derive(Default, Debug, Clone)]
pub struct MarketStats {
    pub events_settled: u64,
    pub queue_depth: u64,
    /// Slots since the oldest pending fill was first seen (0 when the queue is empty).
    pub lag_slots: u64,
    pub compute_units: u64,
}

/// A per-market metric family: name, type, help, and how to read it.
type PerMarket = (&'static str, &'static str, &'static str, fn(&MarketStats) -> u64);

#[derive(Default)]
struct Inner {
    markets: BTreeMap<Pubkey, MarketStats>,
    /// (result, reason) -> count; result is sent, confirmed or failed.
    transactions: BTreeMap<(&'static str, String), u64>,
    fees_lamports: u64,
    last_success: Option<Instant>,
    rpc_ok: bool,
    ws_connected: bool,
}

#[derive(Clone, Default)]
pub struct Metrics(Arc<Mutex<Inner>>);

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.0.lock().expect("metrics lock"))
    }

    pub fn market(&self, market: Pubkey, f: impl FnOnce(&mut MarketStats)) {
        self.with(|i| f(i.markets.entry(market).or_default()))
    }

    pub fn market_stats(&self, market: &Pubkey) -> MarketStats {
        self.with(|i| i.markets.get(market).cloned().unwrap_or_default())
    }

    pub fn transaction(&self, result: &'static str, reason: &str) {
        self.with(|i| *i.transactions.entry((result, reason.to_string())).or_default() += 1)
    }

    pub fn fee(&self, lamports: u64) {
        self.with(|i| i.fees_lamports += lamports)
    }

    pub fn rpc_ok(&self, ok: bool) {
        self.with(|i| {
            i.rpc_ok = ok;
            if ok {
                i.last_success = Some(Instant::now());
            }
        })
    }

    pub fn render(&self) -> String {
        self.with(|i| {
            let mut out = String::new();
            let per_market: [PerMarket; 4] = [
                ("solex_crank_events_settled_total", "counter", "Queue events settled by this crank.", |s| {
                    s.events_settled
                }),
                ("solex_crank_queue_depth", "gauge", "Pending fill queue events.", |s| s.queue_depth),
                ("solex_crank_lag_slots", "gauge", "Slots since the queue last became non-empty.", |s| s.lag_slots),
                (
                    "solex_crank_compute_units_total",
                    "counter",
                    "Compute units used by this crank's transactions.",
                    |s| s.compute_units,
                ),
            ];
            for (name, kind, help, value) in per_market {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                for (m, s) in &i.markets {
                    let _ = writeln!(out, "{name}{{market=\"{m}\"}} {}", value(s));
                }
            }
            let name = "solex_crank_transactions_total";
            let _ = writeln!(out, "# HELP {name} Transactions by result and reason.\n# TYPE {name} counter");
            for ((result, reason), count) in &i.transactions {
                let _ = writeln!(out, "{name}{{result=\"{result}\",reason=\"{reason}\"}} {count}");
            }
            let name = "solex_crank_fees_lamports_total";
            let _ = writeln!(
                out,
                "# HELP {name} Transaction fees paid.\n# TYPE {name} counter\n{name} {}",
                i.fees_lamports
            );
            let name = "solex_crank_ws_connected";
            let _ = writeln!(
                out,
                "# HELP {name} 1 while the websocket subscriptions are up (else polling only).\n# TYPE {name} gauge\n{name} {}",
                i.ws_connected as u8
            );
            let name = "solex_crank_rpc_up";
            let _ = writeln!(
                out,
                "# HELP {name} 1 while RPC calls succeed.\n# TYPE {name} gauge\n{name} {}",
                i.rpc_ok as u8
            );
            out
        })
    }

    pub fn ws_connected(&self, up: bool) {
        self.with(|i| i.ws_connected = up)
    }

    /// Healthy while RPC calls succeed.
    pub fn healthy(&self) -> bool {
        self.with(|i| i.rpc_ok)
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
