//! The WebSocket API at `/ws`. A client sends
//! `{"op": "subscribe", "channel": "events:<market>"}` (or `unsubscribe`) and then
//! receives `{"channel": ..., "data": {market, seq, kind, slot, signature}}` for
//! every new event of that market, in sequence order; a missed `seq` tells it to
//! resync from `GET /markets/{market}/events?after=`. The server pings every
//! 15 s, and a client that does not keep up (its outgoing queue is full) is
//! dropped rather than slowing anyone else down.
use std::str::FromStr;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solex_sdk::Pubkey;
use tokio::sync::mpsc;

use crate::api::App;
use crate::ingest::market_channel;

/// Messages queued for one client before it counts as too slow.
pub const CLIENT_QUEUE: usize = 1024;
const HEARTBEAT: Duration = Duration::from_secs(15);

pub async fn handler(ws: WebSocketUpgrade, State(app): State<App>) -> Response {
    ws.on_upgrade(move |socket| client(socket, app))
}

fn error(code: &str, message: &str) -> Message {
    Message::Text(json!({"op": "error", "code": code, "message": message}).to_string().into())
}

/// `events:<market>` -> the Redis channel it reads.
fn redis_channel(channel: &str) -> Option<String> {
    let market = channel.strip_prefix("events:")?;
    Pubkey::from_str(market).ok().map(|m| market_channel(&m.to_string()))
}

async fn client(socket: WebSocket, app: App) {
    let (mut to_client, mut from_client) = socket.split();
    let Some(redis) = app.redis.clone() else {
        let _ = to_client.send(error("unavailable", "live feed not configured")).await;
        return;
    };
    let Ok(pubsub) = redis.get_async_pubsub().await else {
        let _ = to_client.send(error("unavailable", "live feed unavailable")).await;
        return;
    };
    let (mut subscriptions, mut feed) = pubsub.split();
    let (out, mut queue) = mpsc::channel::<Message>(CLIENT_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(m) = queue.recv().await {
            if to_client.send(m).await.is_err() {
                break;
            }
        }
    });
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        let outgoing = tokio::select! {
            msg = from_client.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let req: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let (op, channel) = (req["op"].as_str().unwrap_or(""), req["channel"].as_str().unwrap_or(""));
                    match (op, redis_channel(channel)) {
                        ("subscribe" | "unsubscribe", None) => {
                            error("invalid_channel", "channels are events:<market address>")
                        }
                        ("subscribe", Some(ch)) => match subscriptions.subscribe(&ch).await {
                            Ok(()) => Message::Text(json!({"op": "subscribed", "channel": channel}).to_string().into()),
                            Err(_) => error("unavailable", "live feed unavailable"),
                        },
                        ("unsubscribe", Some(ch)) => match subscriptions.unsubscribe(&ch).await {
                            Ok(()) => Message::Text(json!({"op": "unsubscribed", "channel": channel}).to_string().into()),
                            Err(_) => error("unavailable", "live feed unavailable"),
                        },
                        _ => error("invalid_op", "op must be subscribe or unsubscribe"),
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            msg = feed.next() => {
                let Some(msg) = msg else { break };
                let Ok(payload) = msg.get_payload::<String>() else { continue };
                let data: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                let channel = format!("events:{}", data["market"].as_str().unwrap_or_default());
                Message::Text(json!({"channel": channel, "data": data}).to_string().into())
            }
            _ = heartbeat.tick() => Message::Ping(Vec::new().into()),
        };
        if out.try_send(outgoing).is_err() {
            tracing::warn!("dropping a WebSocket client that does not keep up");
            break;
        }
    }
    drop(out);
    let _ = writer.await;
}
