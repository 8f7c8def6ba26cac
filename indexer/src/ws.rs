//! The WebSocket API at `/ws`.
//!
//! A client sends `{"op": "subscribe", "channel": "<kind>:<key>"}` (or
//! `unsubscribe`). Market channels (`<key>` a market address the index knows, else
//! `unknown_market`): `events`, `book`, `trades`, `candles`, `batches`. Trader
//! channels (`<key>` the owner's wallet, which may have no trader account yet):
//! `orders`, `fills`, `balances`. A connection holds at most `MAX_SUBSCRIPTIONS` channels
//! (`too_many_subscriptions`). Messages are `{"channel", "type", "data"}`.
//!
//! `book:<market>` first sends `type: "snapshot"` (every level, with the `seq` it
//! reflects), then one `type: "update"` per later event with `seq` one higher than
//! the last and the new totals of the levels it changed (0: gone). A client that
//! sees a `seq` jump has missed a message and resubscribes; so does one that
//! receives `type: "reset"` (the indexer rolled back events of a dropped fork). The server pings every
//! 15 s, and a client that does not keep up (its outgoing queue fills) is dropped
//! rather than slowing anyone else down.
//!
//! One Redis connection per server (`hub::Hub`) receives every channel and fans
//! each message out to the clients subscribed to it, as the bytes the publisher
//! rendered once.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::channel::{Channel, Kind};
use crate::http::{market_exists, App};
use crate::hub::{Hub, Update, CLIENT_QUEUE};
use crate::live;

/// Channels one connection may subscribe to at once: each costs a forwarding task
/// and a broadcast receiver, so a single socket must not hold unboundedly many.
pub const MAX_SUBSCRIPTIONS: usize = 64;
const HEARTBEAT: Duration = Duration::from_secs(15);

pub async fn handler(ws: WebSocketUpgrade, State(app): State<App>) -> Response {
    ws.on_upgrade(move |socket| client(socket, app))
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

fn error(code: &str, message: &str) -> Message {
    text(json!({"op": "error", "code": code, "message": message}))
}

/// A subscription refused, naming its channel.
fn refused(channel: &Channel, code: &str, message: &str) -> Message {
    text(json!({"op": "error", "channel": channel, "code": code, "message": message}))
}

/// Copies one channel's updates (those after `floor`) into the client's queue; a
/// full queue, or a lag in the broadcast itself, kicks the client.
fn forward(
    mut rx: broadcast::Receiver<Arc<Update>>,
    floor: Option<i64>,
    out: mpsc::Sender<Message>,
    kick: mpsc::Sender<()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(u) => {
                    if floor.is_some_and(|f| u.seq.is_some_and(|s| s <= f)) {
                        continue;
                    }
                    if out.try_send(Message::Text(u.text.clone())).is_err() {
                        let _ = kick.try_send(());
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = kick.try_send(());
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

/// Subscribes a client to `channel`: queues the acknowledgement (and for a book,
/// the snapshot), then starts forwarding updates. A market channel is refused
/// before anything else for a market the index does not know, so an arbitrary key
/// reads no book and caches nothing.
async fn open(
    app: &App,
    hub: &Hub,
    channel: &Channel,
    out: &mpsc::Sender<Message>,
    kick: &mpsc::Sender<()>,
) -> Result<tokio::task::JoinHandle<()>, Message> {
    let key = channel.key();
    if channel.kind().is_market() {
        let known =
            market_exists(&app.db, key).await.map_err(|_| refused(channel, "unavailable", "database unavailable"))?;
        if !known {
            return Err(refused(channel, "unknown_market", &format!("no market {key}")));
        }
    }
    // Registered before the snapshot is read, so no update falls in between.
    let rx = hub.subscribe(channel);
    let mut first = vec![text(json!({"op": "subscribed", "channel": channel}))];
    let mut floor = None;
    if channel.kind() == Kind::Book {
        let (book, _) =
            live::book(&app.db, app.cache.as_ref(), key).await.map_err(|_| error("unavailable", "book unavailable"))?;
        floor = Some(book.seq);
        first.push(text(json!({"channel": channel, "type": "snapshot", "data": book})));
    }
    for m in first {
        if out.try_send(m).is_err() {
            let _ = kick.try_send(());
        }
    }
    Ok(forward(rx, floor, out.clone(), kick.clone()))
}

async fn client(socket: WebSocket, app: App) {
    let (mut to_client, mut from_client) = socket.split();
    let Some(hub) = app.hub.clone() else {
        let _ = to_client.send(error("unavailable", "live feed not configured")).await;
        return;
    };
    app.metrics.ws_clients.increment(1.0);
    let (out, mut queue) = mpsc::channel::<Message>(CLIENT_QUEUE);
    let (kick, mut kicked) = mpsc::channel::<()>(1);
    let writer = tokio::spawn(async move {
        while let Some(m) = queue.recv().await {
            if to_client.send(m).await.is_err() {
                break;
            }
        }
    });
    let mut subscriptions: HashMap<Channel, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut too_slow = false;
    loop {
        let reply: Vec<Message> = tokio::select! {
            msg = from_client.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let req: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    let (op, channel) = (req["op"].as_str().unwrap_or(""), req["channel"].as_str().unwrap_or(""));
                    match (op, channel.parse::<Channel>().ok()) {
                        ("subscribe" | "unsubscribe", None) => {
                            vec![error("invalid_channel", &format!("channels are {}", Channel::grammar()))]
                        }
                        ("subscribe", Some(ch)) if subscriptions.len() >= MAX_SUBSCRIPTIONS
                            && !subscriptions.contains_key(&ch) => vec![refused(
                            &ch,
                            "too_many_subscriptions",
                            &format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection: unsubscribe from one first"),
                        )],
                        ("subscribe", Some(ch)) => match open(&app, &hub, &ch, &out, &kick).await {
                            Ok(task) => {
                                if let Some(old) = subscriptions.insert(ch, task) {
                                    old.abort();
                                }
                                vec![]
                            }
                            Err(e) => vec![e],
                        },
                        ("unsubscribe", Some(ch)) => {
                            if let Some(task) = subscriptions.remove(&ch) {
                                task.abort();
                            }
                            vec![text(json!({"op": "unsubscribed", "channel": ch}))]
                        }
                        _ => vec![error("invalid_op", "op must be subscribe or unsubscribe")],
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            _ = kicked.recv() => {
                too_slow = true;
                break;
            }
            _ = heartbeat.tick() => vec![Message::Ping(Vec::new().into())],
            // The server is draining: say so (1001 going away), so clients reconnect elsewhere.
            _ = app.shutdown.triggered() => {
                let frame = CloseFrame { code: close_code::AWAY, reason: "server shutting down".into() };
                let _ = out.try_send(Message::Close(Some(frame)));
                break;
            }
        };
        for m in reply {
            if out.try_send(m).is_err() {
                too_slow = true;
            }
        }
        if too_slow {
            break;
        }
    }
    for (_, task) in subscriptions.drain() {
        task.abort();
    }
    hub.prune();
    drop(out);
    if too_slow {
        tracing::warn!("dropped a WebSocket client that does not keep up");
        app.metrics.ws_dropped.increment(1);
        // Its socket is not draining: waiting for the queue to flush could take forever.
        writer.abort();
    }
    let _ = writer.await;
    app.metrics.ws_clients.decrement(1.0);
}
