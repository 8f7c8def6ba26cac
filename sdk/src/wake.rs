//! Websocket subscriptions that wake tasks (feature `ws`): each subscription's
//! notifications fire its `Notify`, so a service reacts at once instead of at its
//! next poll. Polling stays the caller's fallback: a dropped or missing websocket
//! only slows it down. Reconnects with backoff until shutdown.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::Message;

/// One JSON-RPC pubsub subscription (e.g. `accountSubscribe`, `logsSubscribe`).
#[derive(Clone)]
pub struct Subscription {
    pub method: &'static str,
    pub params: Value,
    pub wake: Arc<Notify>,
}

/// Solana's convention: the websocket listens on the RPC port + 1.
pub fn default_ws_url(rpc_url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = rpc_url.split_once("://").ok_or_else(|| anyhow::anyhow!("rpc_url has no scheme"))?;
    let ws_scheme = if scheme == "https" { "wss" } else { "ws" };
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    Ok(match host.rsplit_once(':').and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?))) {
        Some((h, port)) => format!("{ws_scheme}://{h}:{}/{path}", port + 1),
        None => format!("{ws_scheme}://{host}/{path}"),
    })
}

/// Runs until `shutdown` turns true; `connected(true/false)` reports the link state.
pub async fn run(
    url: String,
    subs: Vec<Subscription>,
    connected: impl Fn(bool) + Send,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(250);
    while !*shutdown.borrow() {
        match session(&url, &subs, &connected, &mut shutdown).await {
            Ok(()) => return,
            Err(e) => {
                connected(false);
                tracing::warn!(%url, error = %e, "websocket down; polling until it reconnects");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn session(
    url: &str,
    subs: &[Subscription],
    connected: &impl Fn(bool),
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    for (i, s) in subs.iter().enumerate() {
        let req = json!({"jsonrpc": "2.0", "id": i, "method": s.method, "params": s.params});
        ws.send(Message::Text(req.to_string().into())).await?;
    }
    // Subscription id -> its notifier, filled in as the confirmations arrive.
    let mut ids: HashMap<u64, Arc<Notify>> = HashMap::new();
    connected(true);
    tracing::info!(%url, subscriptions = subs.len(), "websocket subscribed");
    loop {
        let msg = tokio::select! {
            msg = ws.next() => msg,
            _ = shutdown.changed() => return Ok(()),
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => anyhow::bail!("closed by the server"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        };
        let v: Value = serde_json::from_str(&text)?;
        if let (Some(id), Some(sub)) = (v["id"].as_u64(), v["result"].as_u64()) {
            if let Some(s) = subs.get(id as usize) {
                ids.insert(sub, s.wake.clone());
            }
        } else if let Some(sub) = v["params"]["subscription"].as_u64() {
            if let Some(wake) = ids.get(&sub) {
                wake.notify_one();
            }
        }
    }
}
