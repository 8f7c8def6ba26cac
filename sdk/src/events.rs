//! Decoding the program's `emit_cpi!` events from inner-instruction data.
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, Discriminator};
use solex::events::*;

/// Declares `SolexEvent` over every event type once: the enum, its accessors and the decoder.
macro_rules! solex_events {
    ($($t:ident),* $(,)?) => {
        /// Every event the program emits.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum SolexEvent {
            $($t($t),)*
        }

        impl SolexEvent {
            /// The market whose sequence the event belongs to.
            pub fn market(&self) -> Pubkey {
                match self { $(Self::$t(e) => e.market,)* }
            }

            /// The per-market sequence number: 1, 2, 3, … with no gaps.
            pub fn seq(&self) -> u64 {
                match self { $(Self::$t(e) => e.seq,)* }
            }

            pub fn name(&self) -> &'static str {
                match self { $(Self::$t(_) => stringify!($t),)* }
            }
        }

        fn decode_body(disc: &[u8], body: &[u8]) -> Result<SolexEvent, EventDecodeError> {
            $(if disc == $t::DISCRIMINATOR {
                return parse::<$t>(stringify!($t), body).map(SolexEvent::$t);
            })*
            Err(EventDecodeError::UnknownEvent(disc.try_into().expect("8 bytes")))
        }
    };
}

solex_events!(
    MarketCreated,
    TraderCreated,
    Deposited,
    Withdrawn,
    OrderPlaced,
    OrdersCancelled,
    OrdersPruned,
    FillsConsumed,
    FundsSettled,
    FeesSwept,
    TraderClosed,
    MarketClosed,
    MarketStatusChanged,
    DelegateSet,
    AuctionCreated,
    SealedSubmitted,
    SealedCancelled,
    OrdersRevealed,
    BatchCleared,
    BatchExecuted,
    BatchVoided,
    AuctionClosed,
);

impl SolexEvent {
    /// The balances the event carries, per trader account, in order: every event
    /// that moves funds carries each touched trader's balances after it. A maker may
    /// appear several times in a `FillsConsumed`; its last entry is its state after
    /// the event.
    pub fn balances(&self) -> Vec<(Pubkey, Balances)> {
        match self {
            Self::Deposited(e) => vec![(e.trader, e.balances)],
            Self::Withdrawn(e) => vec![(e.trader, e.balances)],
            Self::OrderPlaced(e) => vec![(e.trader, e.balances)],
            Self::OrdersCancelled(e) => vec![(e.trader, e.balances)],
            Self::FundsSettled(e) => vec![(e.trader, e.balances)],
            Self::FillsConsumed(e) => e.settled.iter().map(|s| (s.maker, s.balances)).collect(),
            Self::SealedSubmitted(e) => vec![(e.trader, e.balances)],
            Self::SealedCancelled(e) => vec![(e.trader, e.balances)],
            // Makers of the resting orders a batch took settle at consume_events.
            Self::BatchExecuted(e) => e.orders.iter().map(|o| (o.trader, o.balances)).collect(),
            // No balance changes: a new account holds nothing, pruned orders unlock at
            // consume_events.
            Self::MarketCreated(_)
            | Self::TraderCreated(_)
            | Self::OrdersPruned(_)
            | Self::FeesSwept(_)
            | Self::TraderClosed(_)
            | Self::MarketClosed(_)
            | Self::MarketStatusChanged(_)
            | Self::DelegateSet(_)
            | Self::AuctionCreated(_)
            | Self::OrdersRevealed(_)
            | Self::BatchCleared(_)
            | Self::BatchVoided(_)
            | Self::AuctionClosed(_) => vec![],
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
    decode_body(disc, body)
}
