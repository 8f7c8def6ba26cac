//! The live feed's channels: what a WebSocket client subscribes to, what derivation
//! addresses its messages to, and the Redis pub/sub channel each travels on. Every
//! channel name is spelled by `Kind::NAMES` and parsed back by `Channel::from_str`.
use std::fmt;
use std::str::FromStr;

use solex_sdk::Pubkey;

/// What a channel carries. A market channel's key is a market address, a trader
/// channel's the owner's wallet (which may have no trader account yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The market's event log, one message per event.
    Events,
    /// A snapshot, then one diff per event with the market's sequence number.
    Book,
    Trades,
    Candles,
    Orders,
    Fills,
    Balances,
    /// A batch market's batches: one message per phase of each (a sealed order
    /// submitted or cancelled, opened, cleared, voided, done), the batch's row.
    Batches,
}

impl Kind {
    /// Every kind and its name, in declaration order (`name` indexes it): the one
    /// table of channel names.
    pub const NAMES: [(Kind, &'static str); 8] = [
        (Kind::Events, "events"),
        (Kind::Book, "book"),
        (Kind::Trades, "trades"),
        (Kind::Candles, "candles"),
        (Kind::Orders, "orders"),
        (Kind::Fills, "fills"),
        (Kind::Balances, "balances"),
        (Kind::Batches, "batches"),
    ];

    pub const fn name(self) -> &'static str {
        Self::NAMES[self as usize].1
    }

    /// Whether the key is a market (else an owner's wallet).
    pub const fn is_market(self) -> bool {
        matches!(self, Kind::Events | Kind::Book | Kind::Trades | Kind::Candles | Kind::Batches)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a channel kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no channel kind {0:?}")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES.iter().find(|(_, name)| *name == s).map(|(k, _)| *k).ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// The prefix of every live channel's Redis pub/sub channel (`solex:<channel>`).
pub const REDIS_PREFIX: &str = "solex:";

/// One channel, `<kind>:<key>` with the key a base58 address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Channel {
    kind: Kind,
    key: String,
}

impl Channel {
    /// The channel of `key`, a base58 address as the index stores it (derived from
    /// the program's own keys). Input from clients goes through `from_str`.
    pub fn new(kind: Kind, key: impl Into<String>) -> Self {
        Self { kind, key: key.into() }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The market or owner address.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The Redis pub/sub channel its messages travel on.
    pub fn redis_name(&self) -> String {
        format!("{REDIS_PREFIX}{self}")
    }

    /// The names a client may subscribe to, for error messages:
    /// `events|book|trades|candles|batches:<market> or orders|fills|balances:<owner>`.
    pub fn grammar() -> String {
        let names = |market: bool| {
            Kind::NAMES.iter().filter(|(k, _)| k.is_market() == market).map(|(_, n)| *n).collect::<Vec<_>>().join("|")
        };
        format!("{}:<market> or {}:<owner>", names(true), names(false))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.key)
    }
}

/// A string that is not `<kind>:<base58 address>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a channel: {0:?}")]
pub struct InvalidChannel(pub String);

/// Parses a client's channel name: a known kind and a valid address.
impl FromStr for Channel {
    type Err = InvalidChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidChannel(s.to_string());
        let (kind, key) = s.split_once(':').ok_or_else(invalid)?;
        let kind = kind.parse().map_err(|_| invalid())?;
        let key = Pubkey::from_str(key).map_err(|_| invalid())?;
        Ok(Self::new(kind, key.to_string()))
    }
}

/// As its name.
impl serde::Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_table_is_in_declaration_order_and_round_trips() {
        for (i, (kind, name)) in Kind::NAMES.iter().enumerate() {
            assert_eq!(*kind as usize, i);
            assert_eq!(kind.name(), *name);
            assert_eq!(name.parse::<Kind>(), Ok(*kind));
        }
        assert!("trade".parse::<Kind>().is_err());
    }

    #[test]
    fn channels_parse_normalised_and_display_back() {
        let key = Pubkey::new_from_array([7; 32]).to_string();
        for (kind, name) in Kind::NAMES {
            let channel: Channel = format!("{name}:{key}").parse().unwrap();
            assert_eq!((channel.kind(), channel.key()), (kind, key.as_str()));
            assert_eq!(channel.to_string(), format!("{name}:{key}"));
            assert_eq!(channel.redis_name(), format!("solex:{name}:{key}"));
            assert_eq!(serde_json::to_value(&channel).unwrap(), serde_json::json!(format!("{name}:{key}")));
        }
        let zeros: Channel = "book:11111111111111111111111111111111".parse().unwrap();
        assert_eq!(zeros, Channel::new(Kind::Book, Pubkey::default().to_string()));
        for bad in [
            "",
            "book",
            "book:",
            "book:nope",
            "bogus:11111111111111111111111111111111",
            "Book:11111111111111111111111111111111",
        ] {
            assert!(bad.parse::<Channel>().is_err(), "{bad:?}");
        }
        assert_eq!(Channel::grammar(), "events|book|trades|candles|batches:<market> or orders|fills|balances:<owner>");
    }
}
