//! Prometheus metrics of the indexer, rendered in the text exposition format at `/metrics`.
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub transactions: AtomicU64,
    pub events: AtomicU64,
    pub backfill_errors: AtomicU64,
    pub redis_errors: AtomicU64,
    /// Slot of the newest transaction indexed.
    pub indexed_slot: AtomicU64,
    pub ws_clients: AtomicI64,
    pub ws_dropped: AtomicU64,
    /// Transactions confirmed as finalized.
    pub finalized: AtomicU64,
    /// Events removed because their transaction was dropped.
    pub rolled_back: AtomicU64,
}

impl Metrics {
    /// Counts one backfill pass.
    pub fn record(&self, report: &crate::ingest::Report) {
        self.transactions.fetch_add(report.transactions as u64, Ordering::Relaxed);
        self.events.fetch_add(report.inserted, Ordering::Relaxed);
        self.redis_errors.fetch_add(report.publish_failures, Ordering::Relaxed);
        if let Some(slot) = report.last_slot {
            self.indexed_slot.fetch_max(slot, Ordering::Relaxed);
        }
    }

    /// The exposition text; `markets` is each market's newest stored sequence number.
    pub fn render(&self, markets: &[(String, i64)]) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP solex_indexer_{name} {help}\n# TYPE solex_indexer_{name} {kind}");
            let _ = writeln!(out, "solex_indexer_{name} {value}");
        };
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
        metric("transactions_total", "counter", "Program transactions indexed.", get(&self.transactions));
        metric("events_total", "counter", "Events newly written to the event log.", get(&self.events));
        metric("backfill_errors_total", "counter", "Backfill passes that failed.", get(&self.backfill_errors));
        metric("redis_errors_total", "counter", "Failed Redis publishes.", get(&self.redis_errors));
        metric("indexed_slot", "gauge", "Slot of the newest transaction indexed.", get(&self.indexed_slot));
        metric(
            "ws_clients",
            "gauge",
            "Connected WebSocket clients.",
            self.ws_clients.load(Ordering::Relaxed).to_string(),
        );
        metric("finalized_total", "counter", "Transactions marked finalized.", get(&self.finalized));
        metric("rolled_back_events_total", "counter", "Events rolled back (dropped forks).", get(&self.rolled_back));
        metric("ws_dropped_total", "counter", "WebSocket clients dropped as too slow.", get(&self.ws_dropped));
        let _ = writeln!(out, "# HELP solex_indexer_market_seq Newest event sequence number stored per market.");
        let _ = writeln!(out, "# TYPE solex_indexer_market_seq gauge");
        for (market, seq) in markets {
            let _ = writeln!(out, "solex_indexer_market_seq{{market=\"{market}\"}} {seq}");
        }
        out
    }
}
