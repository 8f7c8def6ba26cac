//! The live feed's fan-out in each server: one Redis pattern subscription receives
//! every channel's messages, already rendered for clients by the publisher
//! (`live::Frame`), and hands each to the WebSocket clients of its channel as the
//! same shared bytes, without parsing them.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::Utf8Bytes;
use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::channel::{Channel, REDIS_PREFIX};
use crate::live::Frame;

/// Messages queued for one client (and in one channel's broadcast) before it counts
/// as too slow.
pub const CLIENT_QUEUE: usize = 1024;

/// One live message, rendered once for every client of its channel.
#[derive(Debug)]
pub struct Update {
    /// The market sequence number of a book diff (a client's snapshot filters by it).
    pub seq: Option<i64>,
    /// Shared bytes: every client's copy is a reference count, not a new string.
    pub text: Utf8Bytes,
}

/// Fans Redis pub/sub messages out to WebSocket clients: one pattern subscription
/// for the server, one broadcast channel per subscribed channel (by name).
#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Update>>>>,
}

impl Hub {
    /// Starts the hub's Redis reader (it reconnects with backoff on its own).
    pub fn start(client: redis::Client) -> Arc<Hub> {
        let hub = Arc::new(Hub::default());
        tokio::spawn(hub.clone().run(client));
        hub
    }

    async fn run(self: Arc<Self>, client: redis::Client) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.psubscribe(format!("{REDIS_PREFIX}*")).await {
                    Ok(()) => {
                        backoff = Duration::from_millis(100);
                        let mut messages = pubsub.on_message();
                        while let Some(msg) = messages.next().await {
                            self.dispatch(msg.get_channel_name(), msg.get_payload_bytes());
                        }
                        tracing::warn!("live feed connection to Redis lost; reconnecting");
                    }
                    Err(e) => tracing::warn!(error = %e, "PSUBSCRIBE failed"),
                },
                Err(e) => tracing::warn!(error = %e, "live feed: Redis unreachable"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    fn dispatch(&self, redis_channel: &str, payload: &[u8]) {
        let Some(channel) = redis_channel.strip_prefix(REDIS_PREFIX) else { return };
        let channels = self.channels.lock().expect("hub lock");
        let Some(tx) = channels.get(channel) else { return };
        let Some((seq, text)) = Frame::parse(payload) else {
            tracing::warn!(channel, "dropped a live message that is not a frame");
            return;
        };
        // (A UTF-8 check of the bytes, not a parse.)
        let Ok(text) = Utf8Bytes::try_from(Bytes::copy_from_slice(text)) else { return };
        let _ = tx.send(Arc::new(Update { seq, text }));
    }

    pub fn subscribe(&self, channel: &Channel) -> broadcast::Receiver<Arc<Update>> {
        let mut channels = self.channels.lock().expect("hub lock");
        channels.entry(channel.to_string()).or_insert_with(|| broadcast::channel(CLIENT_QUEUE).0).subscribe()
    }

    /// Forgets channels nobody listens to any more.
    pub fn prune(&self) {
        self.channels.lock().expect("hub lock").retain(|_, tx| tx.receiver_count() > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Kind;

    #[test]
    fn the_hub_forwards_a_frames_text_as_received() {
        let hub = Hub::default();
        let book = Channel::new(Kind::Book, "11111111111111111111111111111111");
        let mut rx = hub.subscribe(&book);
        let frame = Frame::render(Some(5), &book, "update", serde_json::json!({"seq": 5}));
        hub.dispatch(&book.redis_name(), &frame);
        // Another channel's message, and a payload that is not a frame, reach no one.
        hub.dispatch("solex:trades:11111111111111111111111111111111", &frame);
        hub.dispatch(&book.redis_name(), b"{\"seq\": 6}");
        let update = rx.try_recv().unwrap();
        assert_eq!(update.seq, Some(5));
        assert_eq!(update.text.as_str(), &*String::from_utf8_lossy(&frame[2..]));
        assert!(rx.try_recv().is_err());
        drop(rx);
        hub.prune();
        assert!(hub.channels.lock().unwrap().is_empty());
    }
}
