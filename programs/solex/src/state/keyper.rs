use core::cell::{Ref, RefMut};

use anchor_lang::prelude::*;

/// The most members a keyper set has (one bit each in a `u8` bitmap).
pub const MAX_KEYPERS: usize = 8;

/// A committee of keypers that holds each round's batch secret `t`-of-`n`
/// (ADR 8). Keys are generated off chain by a distributed key generation, one per
/// round of `round_slots` slots, and registered here ahead of use; a round's key is
/// usable once `threshold` members registered the same key. After the round ends,
/// each keyper posts its share of the secret (checked against its verifying share),
/// and anyone who combines `threshold` of them publishes the secret (checked
/// against the key): then every order sealed to that key can be opened.
///
/// The account is `KeyperSet::LEN + capacity * RoundKey::LEN` bytes: the header is
/// followed by a ring of `capacity` round keys, round `r` in entry `r % capacity`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct KeyperSet {
    pub authority: Pubkey,
    /// The members' identity keys (their transactions' signers); `n` are used.
    pub members: [Pubkey; MAX_KEYPERS],
    /// A round is slots `[r * round_slots, (r + 1) * round_slots)`.
    pub round_slots: u64,
    /// Rounds kept after they end, so a batch can still be opened (or voided) up to
    /// its reveal timeout: a market's timeout may be at most this many rounds.
    pub retain_rounds: u64,
    /// Entries in the ring after the header.
    pub capacity: u32,
    pub n: u8,
    pub threshold: u8,
    pub _padding: [u8; 2],
    pub _reserved: [u8; 64],
}

const _: () =
    assert!(KeyperSet::LEN == 384 && RoundKey::LEN == 592, "the keyper set layout is part of the wire format");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RoundKeyStatus {
    /// No key registered for the entry's round.
    Empty,
    /// Registered by fewer than `threshold` members: not usable yet.
    Pending,
    /// Registered by at least `threshold` members: orders may be sealed to it.
    Active,
    /// Members registered different keys for the round: it is never used.
    Disputed,
    /// The secret is published: every order sealed to the key can be opened.
    Released,
}

/// One round's key: the group key `P`, each member's verifying share `Y_i = s_i·G`,
/// the shares posted so far and, once combined, the secret `s` (`s·G == P`).
#[zero_copy]
#[derive(Debug)]
pub struct RoundKey {
    pub round: u64,
    pub group_key: [u8; 32],
    pub verifying_shares: [[u8; 32]; MAX_KEYPERS],
    pub shares: [[u8; 32]; MAX_KEYPERS],
    pub secret: [u8; 32],
    /// Members that registered this key (bit `i`: member `i`).
    pub attested: u8,
    /// Members whose share is in `shares`.
    pub posted: u8,
    /// `RoundKeyStatus as u8`.
    pub status: u8,
    pub _padding: [u8; 5],
}

impl RoundKey {
    pub const LEN: usize = core::mem::size_of::<RoundKey>();

    pub fn status(&self) -> RoundKeyStatus {
        match self.status {
            1 => RoundKeyStatus::Pending,
            2 => RoundKeyStatus::Active,
            3 => RoundKeyStatus::Disputed,
            4 => RoundKeyStatus::Released,
            _ => RoundKeyStatus::Empty,
        }
    }

    /// Orders may be sealed to this key (it is registered by enough members and not disputed).
    pub fn usable(&self, round: u64) -> bool {
        self.round == round && matches!(self.status(), RoundKeyStatus::Active | RoundKeyStatus::Released)
    }

    /// The published secret of `round`, if this entry holds it.
    pub fn released_secret(&self, round: u64) -> Option<[u8; 32]> {
        (self.round == round && self.status() == RoundKeyStatus::Released).then_some(self.secret)
    }
}

impl KeyperSet {
    pub const LEN: usize = 8 + core::mem::size_of::<KeyperSet>();

    pub fn space(capacity: u32) -> usize {
        Self::LEN + capacity as usize * RoundKey::LEN
    }

    pub fn members(&self) -> &[Pubkey] {
        &self.members[..self.n as usize]
    }

    /// The member index of `key`, if it is a member.
    pub fn member_index(&self, key: &Pubkey) -> Option<usize> {
        self.members().iter().position(|m| m == key)
    }

    /// The round a slot is in.
    pub fn round_of(&self, slot: u64) -> u64 {
        slot / self.round_slots
    }

    /// The first slot after `round`: its share may be released once this slot is confirmed.
    pub fn round_end(&self, round: u64) -> u64 {
        round.saturating_add(1).saturating_mul(self.round_slots)
    }

    /// The rounds whose keys may be registered at `slot`: after the current round,
    /// and no further ahead than the ring can hold without overwriting a round
    /// still within its retention.
    pub fn registrable(&self, slot: u64, round: u64) -> bool {
        let now = self.round_of(slot);
        round > now && round <= now + (self.capacity as u64).saturating_sub(self.retain_rounds)
    }
}

/// Splits a keyper set's data (its discriminator already checked) into its header
/// and its ring of round keys.
pub fn keyper_parts<'a>(data: RefMut<'a, &mut [u8]>) -> (RefMut<'a, KeyperSet>, RefMut<'a, [RoundKey]>) {
    RefMut::map_split(data, |d| {
        let (header, ring) = d[8..].split_at_mut(core::mem::size_of::<KeyperSet>());
        let ring_bytes = ring.len() / RoundKey::LEN * RoundKey::LEN;
        (bytemuck::from_bytes_mut(header), bytemuck::cast_slice_mut(&mut ring[..ring_bytes]))
    })
}

/// The read-only form of [`keyper_parts`].
pub fn keyper_parts_ref<'a>(data: Ref<'a, &mut [u8]>) -> (Ref<'a, KeyperSet>, Ref<'a, [RoundKey]>) {
    Ref::map_split(data, |d| {
        let (header, ring) = d[8..].split_at(core::mem::size_of::<KeyperSet>());
        let ring_bytes = ring.len() / RoundKey::LEN * RoundKey::LEN;
        (bytemuck::from_bytes(header), bytemuck::cast_slice(&ring[..ring_bytes]))
    })
}
