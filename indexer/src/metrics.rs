//! Prometheus metrics of the indexer, rendered in the text exposition format at `/metrics`.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    /// Cumulative counts per bound in `BUCKETS`.
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Requests by route (the route's template, so the label set stays bounded) and status.
#[derive(Default)]
pub struct Http {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

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
    /// The cluster's confirmed slot at the start of the latest ingestion pass.
    pub chain_slot: AtomicU64,
    /// The chain slot at the start of the latest pass that succeeded: every
    /// transaction up to it is indexed (lag in slots = chain_slot - synced_slot).
    pub synced_slot: AtomicU64,
    /// Unix time of the latest successful pass.
    pub synced_at: AtomicU64,
    /// 1 while this process is the writer (holds the writer lock), else 0.
    pub writer: AtomicU64,
    pub http: Mutex<Http>,
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

    /// Counts one HTTP request (WebSocket upgrades count, without a latency).
    pub fn request(&self, route: &str, status: u16, took: Option<Duration>) {
        let mut http = self.http.lock().expect("metrics lock");
        *http.requests.entry((route.to_string(), status)).or_default() += 1;
        if let Some(took) = took {
            let h = http.latency.entry(route.to_string()).or_default();
            let secs = took.as_secs_f64();
            for (bound, n) in BUCKETS.iter().zip(h.buckets.iter_mut()) {
                if secs <= *bound {
                    *n += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// The exposition text; `markets` is each market's newest stored sequence number,
    /// `quarantined` how many markets' derivation stopped at an event (from the
    /// database, so every replica reports it).
    pub fn render(&self, markets: &[(String, i64)], quarantined: i64) -> String {
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
        metric(
            "chain_slot",
            "gauge",
            "Confirmed slot at the start of the latest ingestion pass.",
            get(&self.chain_slot),
        );
        metric("synced_slot", "gauge", "Every transaction up to this slot is indexed.", get(&self.synced_slot));
        metric("synced_timestamp_seconds", "gauge", "Unix time of the latest successful pass.", get(&self.synced_at));
        metric("writer", "gauge", "1 while this indexer is the writer (holds the writer lock).", get(&self.writer));
        metric(
            "quarantined_markets",
            "gauge",
            "Markets whose derived tables stopped at an event that could not be derived (see /health).",
            quarantined.to_string(),
        );
        let http = self.http.lock().expect("metrics lock");
        let name = "solex_indexer_http_requests_total";
        let _ = writeln!(out, "# HELP {name} HTTP requests by route and status.\n# TYPE {name} counter");
        for ((route, status), n) in &http.requests {
            let _ = writeln!(out, "{name}{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        let name = "solex_indexer_http_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} HTTP request latency by route.\n# TYPE {name} histogram");
        for (route, h) in &http.latency {
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(
                out,
                "{name}_sum{{route=\"{route}\"}} {}\n{name}_count{{route=\"{route}\"}} {}",
                h.sum, h.count
            );
        }
        drop(http);
        let _ = writeln!(out, "# HELP solex_indexer_market_seq Newest event sequence number stored per market.");
        let _ = writeln!(out, "# TYPE solex_indexer_market_seq gauge");
        for (market, seq) in markets {
            let _ = writeln!(out, "solex_indexer_market_seq{{market=\"{market}\"}} {seq}");
        }
        out
    }
}
