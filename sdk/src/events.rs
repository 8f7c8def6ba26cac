//! Decoding the program's `emit_cpi!` events from inner-instruction data.
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::{AnchorDeserialize, Discriminator};
use solex::events::*;

use anchor_lang::prelude::Pubkey;

/// Every event the program emits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SolexEvent {
    MarketCreated(MarketCreated),
    TraderCreated(TraderCreated),
    Deposited(Deposited),
    Withdrawn(Withdrawn),
    OrderPlaced(OrderPlaced),
    OrderCancelled(OrderCancelled),
    MarketStatusChanged(MarketStatusChanged),
    DelegateSet(DelegateSet),
}

impl SolexEvent {
    /// The market whose sequence the event belongs to.
    pub fn market(&self) -> Pubkey {
        match self {
            Self::MarketCreated(e) => e.market,
            Self::TraderCreated(e) => e.market,
            Self::Deposited(e) => e.market,
            Self::Withdrawn(e) => e.market,
            Self::OrderPlaced(e) => e.market,
            Self::OrderCancelled(e) => e.market,
            Self::MarketStatusChanged(e) => e.market,
            Self::DelegateSet(e) => e.market,
        }
    }

    /// The per-market sequence number: 1, 2, 3, … with no gaps.
    pub fn seq(&self) -> u64 {
        match self {
            Self::MarketCreated(e) => e.seq,
            Self::TraderCreated(e) => e.seq,
            Self::Deposited(e) => e.seq,
            Self::Withdrawn(e) => e.seq,
            Self::OrderPlaced(e) => e.seq,
            Self::OrderCancelled(e) => e.seq,
            Self::MarketStatusChanged(e) => e.seq,
            Self::DelegateSet(e) => e.seq,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::MarketCreated(_) => "MarketCreated",
            Self::TraderCreated(_) => "TraderCreated",
            Self::Deposited(_) => "Deposited",
            Self::Withdrawn(_) => "Withdrawn",
            Self::OrderPlaced(_) => "OrderPlaced",
            Self::OrderCancelled(_) => "OrderCancelled",
            Self::MarketStatusChanged(_) => "MarketStatusChanged",
            Self::DelegateSet(_) => "DelegateSet",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventDecodeError {
    #[error("not an event instruction")]
    NotAnEvent,
    #[error("unknown event discriminator {0:?}")]
    UnknownEvent([u8; 8]),
    #[error("malformed {0} event")]
    Malformed(&'static str),
}

fn parse<T: AnchorDeserialize>(name: &'static str, mut body: &[u8]) -> Result<T, EventDecodeError> {
    T::deserialize(&mut body).map_err(|_| EventDecodeError::Malformed(name))
}

/// Decodes the data of an inner instruction the program sent to itself.
/// The caller checks the instruction's program id is the Solex program.
pub fn decode_event(data: &[u8]) -> Result<SolexEvent, EventDecodeError> {
    let rest = data.strip_prefix(EVENT_IX_TAG_LE).ok_or(EventDecodeError::NotAnEvent)?;
    if rest.len() < 8 {
        return Err(EventDecodeError::NotAnEvent);
    }
    let (disc, body) = rest.split_at(8);
    macro_rules! try_event {
        ($($t:ident),*) => {
            $(if disc == $t::DISCRIMINATOR {
                return parse::<$t>(stringify!($t), body).map(SolexEvent::$t);
            })*
        };
    }
    try_event!(
        MarketCreated,
        TraderCreated,
        Deposited,
        Withdrawn,
        OrderPlaced,
        OrderCancelled,
        MarketStatusChanged,
        DelegateSet
    );
    Err(EventDecodeError::UnknownEvent(disc.try_into().expect("8 bytes")))
}
