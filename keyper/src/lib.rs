//! The Solex keyper (ADR 8): one member of a keyper set. With the other members it
//! generates each round's batch key by a distributed key generation (`dkg`), no
//! process ever holding a round's secret; registers the keys on chain ahead of use;
//! and once a block past a batch's close is confirmed, releases its share of that
//! batch's key on chain, where anyone combining `threshold` shares can publish the
//! secret the program opens the batch with.
pub mod chain;
pub mod config;
pub mod dkg;
pub mod peers;
pub mod service;
pub mod store;

/// Serde for a `Pubkey` as base58.
pub mod b58 {
    use anchor_lang::prelude::Pubkey;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(key: &Pubkey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&key.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pubkey, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde for a list of byte strings as hex.
pub mod hexes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|h| hex::decode(h).map_err(serde::de::Error::custom)).collect()
    }
}
