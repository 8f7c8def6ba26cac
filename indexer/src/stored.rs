//! One event as the log stores it: its key, its transaction, its raw bytes, and the
//! event they decode to, decoded once (on ingestion, or when the log is read back
//! for a rebuild) and carried to derivation with the bytes.
use std::sync::Arc;

use solex_sdk::events::{decode_event, EventDecodeError, SolexEvent};

/// One event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub market: String,
    pub seq: i64,
    pub kind: &'static str,
    pub signature: String,
    pub slot: i64,
    /// Unix seconds of the transaction's block (None if the node did not know it).
    pub block_time: Option<i64>,
    /// What the log keeps: the program's self-invocation data.
    pub data: Vec<u8>,
    /// `data` decoded. An error only for bytes read back from the log that this build
    /// cannot decode: deriving them fails, which quarantines their market.
    event: Result<SolexEvent, Arc<EventDecodeError>>,
}

impl StoredEvent {
    /// An event of a transaction, keyed by its own market and sequence number.
    pub fn new(event: SolexEvent, data: Vec<u8>, signature: String, slot: i64, block_time: Option<i64>) -> Self {
        Self {
            market: event.market().to_string(),
            seq: event.seq() as i64,
            kind: event.name(),
            signature,
            slot,
            block_time,
            data,
            event: Ok(event),
        }
    }

    /// Decodes `data` (the program's self-invocation data) into a new event.
    pub fn decode(
        data: Vec<u8>,
        signature: String,
        slot: i64,
        block_time: Option<i64>,
    ) -> Result<Self, EventDecodeError> {
        Ok(Self::new(decode_event(&data)?, data, signature, slot, block_time))
    }

    /// A row of the log, keyed as stored. Bytes that no longer decode are kept (kind
    /// `Undecodable`): deriving them quarantines the market rather than failing a rebuild.
    pub fn from_log(
        market: String,
        seq: i64,
        signature: String,
        slot: i64,
        block_time: Option<i64>,
        data: Vec<u8>,
    ) -> Self {
        let event = decode_event(&data).map_err(Arc::new);
        let kind = event.as_ref().map_or("Undecodable", SolexEvent::name);
        Self { market, seq, kind, signature, slot, block_time, data, event }
    }

    /// The decoded event.
    pub fn event(&self) -> Result<&SolexEvent, Arc<EventDecodeError>> {
        self.event.as_ref().map_err(Arc::clone)
    }
}
