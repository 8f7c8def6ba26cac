//! Websocket account subscriptions on the markets' fill queues: a change wakes
//! the market's task at once instead of at its next poll. Polling stays on as the
//! fallback, so a dropped or missing websocket only slows settlement down.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solex_sdk::Pubkey;
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::Message;

use crate::metrics::Metrics;

/// Subscribes to every queue in `queues` and wakes its `Notify` on each change;
/// reconnects with backoff until `shutdown`.
pub async fn run(
    url: String,
    commitment: String,
    queues: Vec<(Pubkey, Arc<Notify>)>,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(250);
    while !*shutdown.borrow() {
        match session(&url, &commitment, &queues, &metrics, &mut shutdown).await {
            Ok(()) => return,
            Err(e) => {
                metrics.ws_connected(false);
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
    commitment: &str,
    queues: &[(Pubkey, Arc<Notify>)],
    metrics: &Metrics,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    for (i, (queue, _)) in queues.iter().enumerate() {
        let req = json!({"jsonrpc": "2.0", "id": i, "method": "accountSubscribe",
            "params": [queue.to_string(), {"encoding": "base64", "commitment": commitment}]});
        ws.send(Message::Text(req.to_string().into())).await?;
    }
    // Subscription id -> the queue's notifier, filled in as the confirmations arrive.
    let mut subs: HashMap<u64, Arc<Notify>> = HashMap::new();
    metrics.ws_connected(true);
    tracing::info!(%url, queues = queues.len(), "websocket subscribed");
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
            if let Some((_, notify)) = queues.get(id as usize) {
                subs.insert(sub, notify.clone());
            }
        } else if let Some(sub) = v["params"]["subscription"].as_u64() {
            if let Some(notify) = subs.get(&sub) {
                notify.notify_one();
            }
        }
    }
}
