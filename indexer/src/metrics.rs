//! Prometheus metrics of the indexer, served at `/metrics`: `metrics` handles on the
//! service kit's registry (`solex_sdk::service::Registry`).
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{Counter, Gauge};
use solex_sdk::service::{Kind, Registry};

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

const HTTP_REQUESTS: &str = "solex_indexer_http_requests_total";
const HTTP_DURATION: &str = "solex_indexer_http_request_duration_seconds";
const MARKET_SEQ: &str = "solex_indexer_market_seq";

/// Every metric name, its kind and help text.
const DESCRIBED: [(Kind, &str, &str); 17] = [
    (Kind::Counter, "solex_indexer_transactions_total", "Program transactions indexed."),
    (Kind::Counter, "solex_indexer_events_total", "Events newly written to the event log."),
    (Kind::Counter, "solex_indexer_backfill_errors_total", "Backfill passes that failed."),
    (Kind::Counter, "solex_indexer_redis_errors_total", "Failed Redis publishes."),
    (Kind::Gauge, "solex_indexer_indexed_slot", "Slot of the newest transaction indexed."),
    (Kind::Gauge, "solex_indexer_ws_clients", "Connected WebSocket clients."),
    (Kind::Counter, "solex_indexer_finalized_total", "Transactions marked finalized."),
    (Kind::Counter, "solex_indexer_rolled_back_events_total", "Events rolled back (dropped forks)."),
    (Kind::Counter, "solex_indexer_ws_dropped_total", "WebSocket clients dropped as too slow."),
    (Kind::Gauge, "solex_indexer_chain_slot", "Confirmed slot at the start of the latest ingestion pass."),
    (Kind::Gauge, "solex_indexer_synced_slot", "Every transaction up to this slot is indexed."),
    (Kind::Gauge, "solex_indexer_synced_timestamp_seconds", "Unix time of the latest successful pass."),
    (Kind::Gauge, "solex_indexer_writer", "1 while this indexer is the writer (holds the writer lock)."),
    (
        Kind::Gauge,
        "solex_indexer_quarantined_markets",
        "Markets whose derived tables stopped at an event that could not be derived (see /health).",
    ),
    (Kind::Counter, HTTP_REQUESTS, "HTTP requests by route and status."),
    (Kind::Histogram, HTTP_DURATION, "HTTP request latency by route."),
    (Kind::Gauge, MARKET_SEQ, "Newest event sequence number stored per market."),
];

pub struct Metrics {
    registry: Registry,
    pub transactions: Counter,
    pub events: Counter,
    pub backfill_errors: Counter,
    pub redis_errors: Counter,
    pub ws_clients: Gauge,
    pub ws_dropped: Counter,
    /// Transactions confirmed as finalized.
    pub finalized: Counter,
    /// Events removed because their transaction was dropped.
    pub rolled_back: Counter,
    /// 1 while this process is the writer (holds the writer lock), else 0.
    pub writer: Gauge,
    /// The cluster's confirmed slot at the start of the latest ingestion pass.
    chain_slot: Slot,
    /// The chain slot at the start of the latest pass that succeeded: every
    /// transaction up to it is indexed (lag in slots = chain_slot - synced_slot).
    synced_slot: Slot,
    indexed_slot: Slot,
    /// Unix time of the latest successful pass.
    synced_at: Gauge,
    quarantined: Gauge,
}

/// A slot gauge that only moves forward.
struct Slot(AtomicU64, Gauge);

impl Slot {
    fn raise(&self, slot: u64) {
        let newest = self.0.fetch_max(slot, Ordering::Relaxed).max(slot);
        self.1.set(newest as f64);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new(&BUCKETS);
        for (kind, name, help) in DESCRIBED {
            registry.describe(kind, name, help);
        }
        let counter = |name| registry.counter(name, &[]);
        let gauge = |name| registry.gauge(name, &[]);
        let slot = |name| Slot(AtomicU64::new(0), gauge(name));
        Self {
            transactions: counter("solex_indexer_transactions_total"),
            events: counter("solex_indexer_events_total"),
            backfill_errors: counter("solex_indexer_backfill_errors_total"),
            redis_errors: counter("solex_indexer_redis_errors_total"),
            ws_clients: gauge("solex_indexer_ws_clients"),
            ws_dropped: counter("solex_indexer_ws_dropped_total"),
            finalized: counter("solex_indexer_finalized_total"),
            rolled_back: counter("solex_indexer_rolled_back_events_total"),
            writer: gauge("solex_indexer_writer"),
            chain_slot: slot("solex_indexer_chain_slot"),
            synced_slot: slot("solex_indexer_synced_slot"),
            indexed_slot: slot("solex_indexer_indexed_slot"),
            synced_at: gauge("solex_indexer_synced_timestamp_seconds"),
            quarantined: gauge("solex_indexer_quarantined_markets"),
            registry,
        }
    }
}

impl Metrics {
    /// Counts one backfill pass.
    pub fn record(&self, report: &crate::ingest::Report) {
        self.transactions.increment(report.transactions as u64);
        self.events.increment(report.inserted);
        self.redis_errors.increment(report.publish_failures);
        if let Some(slot) = report.last_slot {
            self.indexed_slot.raise(slot);
        }
    }

    /// The chain's slot at the start of an ingestion pass.
    pub fn chain_slot(&self, slot: u64) {
        self.chain_slot.raise(slot);
    }

    /// A pass that started at `chain_slot` succeeded.
    pub fn synced(&self, chain_slot: u64) {
        self.synced_slot.raise(chain_slot);
        self.synced_at.set(std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_secs()) as f64);
    }

    /// Counts one HTTP request (WebSocket upgrades count, without a latency). `route`
    /// is the route's template, so the label set stays bounded.
    pub fn request(&self, route: &str, status: u16, took: Option<Duration>) {
        self.registry
            .counter(HTTP_REQUESTS, &[("route", route.to_string()), ("status", status.to_string())])
            .increment(1);
        if let Some(took) = took {
            self.registry.histogram(HTTP_DURATION, &[("route", route.to_string())]).record(took.as_secs_f64());
        }
    }

    /// The exposition text; `markets` is each market's newest stored sequence number,
    /// `quarantined` how many markets' derivation stopped at an event (from the
    /// database, so every replica reports it).
    pub fn render(&self, markets: &[(String, i64)], quarantined: i64) -> String {
        self.quarantined.set(quarantined as f64);
        for (market, seq) in markets {
            self.registry.gauge(MARKET_SEQ, &[("market", market.clone())]).set(*seq as f64);
        }
        self.registry.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exposition lines the dashboards and alert rules read, names and labels as before.
    #[test]
    fn renders_the_names_and_labels_the_dashboards_read() {
        let m = Metrics::default();
        m.request("/markets", 200, Some(Duration::from_millis(3)));
        m.request("/ws", 101, None);
        m.rolled_back.increment(1);
        m.writer.set(1.0);
        m.chain_slot(500);
        m.chain_slot(400);
        let text = m.render(&[("M1".into(), 7)], 1);
        for line in [
            "solex_indexer_http_requests_total{route=\"/markets\",status=\"200\"} 1",
            "solex_indexer_http_requests_total{route=\"/ws\",status=\"101\"} 1",
            "solex_indexer_http_request_duration_seconds_bucket{route=\"/markets\",le=\"0.0025\"} 0",
            "solex_indexer_http_request_duration_seconds_bucket{route=\"/markets\",le=\"0.005\"} 1",
            "solex_indexer_http_request_duration_seconds_bucket{route=\"/markets\",le=\"+Inf\"} 1",
            "solex_indexer_http_request_duration_seconds_count{route=\"/markets\"} 1",
            "solex_indexer_rolled_back_events_total 1",
            "solex_indexer_writer 1",
            "solex_indexer_chain_slot 500",
            "solex_indexer_quarantined_markets 1",
            "solex_indexer_market_seq{market=\"M1\"} 7",
            "# TYPE solex_indexer_http_request_duration_seconds histogram",
            "# HELP solex_indexer_writer 1 while this indexer is the writer (holds the writer lock).",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
        }
        // A second registry (another service in this process) starts from zero.
        assert!(Metrics::default().render(&[], 0).lines().any(|l| l == "solex_indexer_rolled_back_events_total 0"));
    }
}
