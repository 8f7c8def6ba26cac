//! The services' kit (feature `service`), shared by the crank, the indexer and the
//! keyper: the log setup, one shutdown signal that every task observes, and HTTP
//! served with a bounded drain.
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Tracing to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
}

/// A service's one shutdown signal. Every task holds a clone and observes it
/// (`triggered().await` in its `select!`, or `is_triggered()` between steps); the
/// service's entry point joins the tasks after it fires. It fires once, for good.
#[derive(Clone)]
pub struct Shutdown {
    fire: Arc<watch::Sender<bool>>,
    fired: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        let (fire, fired) = watch::channel(false);
        Self { fire: Arc::new(fire), fired }
    }
}

impl Shutdown {
    /// A signal fired only by `trigger` (tests, and services embedded in a process).
    pub fn new() -> Self {
        Self::default()
    }

    /// A signal fired by SIGTERM (what a container runtime sends to stop a process)
    /// or Ctrl-C, or by `trigger`.
    pub fn on_signals() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let shutdown = Self::new();
        let mut term = signal(SignalKind::terminate())?;
        let fire = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("signal received: finishing in-flight work");
            fire.trigger();
        });
        Ok(shutdown)
    }

    pub fn trigger(&self) {
        self.fire.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.fired.borrow()
    }

    /// Resolves once the signal has fired (at once if it already has).
    pub async fn triggered(&self) {
        let mut fired = self.fired.clone();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = fired.wait_for(|f| *f).await;
    }

    /// The signal as a watch receiver (`true` once fired), for tasks written against one.
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.fired.clone()
    }
}

/// Serves `router` on `listener` until `shutdown` fires; then stops accepting
/// connections, lets every request already accepted finish, closes idle
/// keep-alive connections, and returns once none is left, or after `drain` at the
/// latest (dropping what is still open then). Handlers see the peer's address
/// (`ConnectInfo<SocketAddr>`).
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: Shutdown,
    drain: Duration,
) -> std::io::Result<()> {
    let stop = shutdown.clone();
    let server = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move { stop.triggered().await })
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r,
        _ = async { shutdown.triggered().await; tokio::time::sleep(drain).await } => {
            tracing::warn!(drain_seconds = drain.as_secs_f64(), "connections still open after the drain bound: closing them");
            Ok(())
        }
    }
}

/// A service's metrics: the `metrics` crate's handles, registered on a Prometheus
/// recorder of the service's own and rendered in the text exposition format. Not
/// the process-global recorder, so services sharing a process (tests, benchmarks)
/// keep their numbers apart; cloning shares the same metrics.
#[derive(Clone)]
pub struct Registry(Arc<Recorder>);

struct Recorder {
    recorder: metrics_exporter_prometheus::PrometheusRecorder,
    handle: metrics_exporter_prometheus::PrometheusHandle,
}

/// What kind of metric a name is, with its help text (`Registry::describe`).
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

static METADATA: metrics::Metadata<'static> =
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl Registry {
    /// Histograms are rendered as Prometheus histograms with these bucket bounds.
    pub fn new(buckets: &[f64]) -> Self {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets(buckets)
            .expect("histogram buckets must not be empty")
            .build_recorder();
        let handle = recorder.handle();
        let inner = Arc::new(Recorder { recorder, handle });
        // Histogram samples are folded into their buckets by upkeep (the exporter's
        // own installer runs it too); it stops with the last clone of the registry.
        let weak = Arc::downgrade(&inner);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            match weak.upgrade() {
                Some(r) => r.handle.run_upkeep(),
                None => return,
            }
        });
        Self(inner)
    }

    /// The `# HELP` text of a metric name (each name is described once, up front).
    pub fn describe(&self, kind: Kind, name: &'static str, help: &'static str) {
        use metrics::Recorder as _;
        let r = &self.0.recorder;
        match kind {
            Kind::Counter => r.describe_counter(name.into(), None, help.into()),
            Kind::Gauge => r.describe_gauge(name.into(), None, help.into()),
            Kind::Histogram => r.describe_histogram(name.into(), None, help.into()),
        }
    }

    pub fn counter(&self, name: &'static str, labels: &[(&'static str, String)]) -> metrics::Counter {
        use metrics::Recorder as _;
        self.0.recorder.register_counter(&key(name, labels), &METADATA)
    }

    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, String)]) -> metrics::Gauge {
        use metrics::Recorder as _;
        self.0.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    pub fn histogram(&self, name: &'static str, labels: &[(&'static str, String)]) -> metrics::Histogram {
        use metrics::Recorder as _;
        self.0.recorder.register_histogram(&key(name, labels), &METADATA)
    }

    /// The exposition text, for `/metrics`.
    pub fn render(&self) -> String {
        self.0.handle.render()
    }
}

fn key(name: &'static str, labels: &[(&'static str, String)]) -> metrics::Key {
    metrics::Key::from_parts(name, labels.iter().map(|(k, v)| metrics::Label::new(*k, v.clone())).collect::<Vec<_>>())
}

/// Layered settings, each option declared once, on one struct that clap parses
/// (flags and environment) and serde reads from a TOML file: the file's values,
/// overridden by every flag given (a flag left unset, or a list left empty, keeps
/// the file's). Unknown keys in the file are refused if `S` denies them.
pub fn layered<S: serde::Serialize + serde::de::DeserializeOwned>(
    flags: S,
    file: Option<&std::path::Path>,
) -> anyhow::Result<S> {
    use anyhow::Context;
    let Some(path) = file else { return Ok(flags) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut merged: serde_json::Map<String, serde_json::Value> =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let serde_json::Value::Object(given) = serde_json::to_value(flags)? else {
        anyhow::bail!("settings must be a struct");
    };
    for (key, value) in given {
        let unset = value.is_null() || value.as_array().is_some_and(|a| a.is_empty());
        if !unset {
            merged.insert(key, value);
        }
    }
    serde_json::from_value(serde_json::Value::Object(merged)).with_context(|| format!("parsing {}", path.display()))
}
