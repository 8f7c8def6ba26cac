//! The keypers' channel to each other: each serves the messages of its current DKG
//! session over HTTP and fetches the others'. Messages are signed and round-2 ones
//! encrypted (`dkg`), so the transport needs no trust: it only serves what the keyper
//! published, and only for the session it is running (a stranger cannot make it
//! start one).
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use solana_keypair::Keypair;

use crate::dkg::{Round1, Round2, Session};

/// The sessions this keyper serves, shared by the service loop and the server: the
/// one it runs, and the last few it finished, whose messages slower members may
/// still need (a member that finished stops asking, not answering).
#[derive(Default)]
pub struct Sessions {
    pub active: Option<Session>,
    pub finished: std::collections::VecDeque<Session>,
}

/// Finished sessions kept to serve.
const KEEP_FINISHED: usize = 8;

impl Sessions {
    fn find(&mut self, first_round: u64) -> Option<&mut Session> {
        self.active.iter_mut().chain(self.finished.iter_mut()).find(|s| s.id.first_round == first_round)
    }

    /// Moves the active session to the finished ones.
    pub fn finish_active(&mut self) {
        if let Some(s) = self.active.take() {
            self.finished.push_front(s);
            self.finished.truncate(KEEP_FINISHED);
        }
    }
}

pub type Active = Arc<Mutex<Sessions>>;

#[derive(Clone)]
pub struct Served {
    pub active: Active,
    pub identity: Arc<Keypair>,
    pub metrics: PrometheusHandle,
    pub health: Arc<Mutex<serde_json::Value>>,
}

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "no_message", "message": what}))).into_response()
}

async fn round1(State(s): State<Served>, Path(first_round): Path<u64>) -> Response {
    let mut sessions = s.active.lock().expect("session lock");
    match sessions.find(first_round) {
        Some(session) => Json(session.round1().clone()).into_response(),
        None => not_found("no session starting at this round"),
    }
}

async fn round2(State(s): State<Served>, Path((first_round, to)): Path<(u64, u16)>) -> Response {
    let mut sessions = s.active.lock().expect("session lock");
    match sessions.find(first_round) {
        Some(session) => match session.round2_for(to, &s.identity) {
            Ok(Some(m)) => Json(m).into_response(),
            Ok(None) => not_found("round 2 is not ready (round-1 messages missing) or the member is unknown"),
            Err(e) => (StatusCode::CONFLICT, Json(serde_json::json!({"error": "dkg", "message": e.to_string()})))
                .into_response(),
        },
        None => not_found("no session starting at this round"),
    }
}

async fn health(State(s): State<Served>) -> Json<serde_json::Value> {
    Json(s.health.lock().expect("health lock").clone())
}

async fn metrics(State(s): State<Served>) -> String {
    s.metrics.render()
}

pub fn router(served: Served) -> Router {
    Router::new()
        .route("/v1/dkg/{first_round}/round1", get(round1))
        .route("/v1/dkg/{first_round}/round2/{to}", get(round2))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(served)
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(2)).build()
}

/// A peer's round-1 message for the session starting at `first_round` (None: not published yet).
pub fn fetch_round1(base: &str, first_round: u64) -> anyhow::Result<Option<Round1>> {
    fetch(&format!("{base}/v1/dkg/{first_round}/round1"))
}

/// A peer's round-2 message to member `to` (None: not ready yet).
pub fn fetch_round2(base: &str, first_round: u64, to: u16) -> anyhow::Result<Option<Round2>> {
    fetch(&format!("{base}/v1/dkg/{first_round}/round2/{to}"))
}

fn fetch<T: serde::de::DeserializeOwned>(url: &str) -> anyhow::Result<Option<T>> {
    match agent().get(url).call() {
        Ok(r) => Ok(Some(r.into_json()?)),
        Err(ureq::Error::Status(404, _)) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("{url}: {e}")),
    }
}
