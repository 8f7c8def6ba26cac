//! Sealed orders for Solex batch auctions (docs/adr/0008-sealed-batch-auctions.md).
//!
//! A trader encrypts an order to a batch's public key `P = s·G` (ristretto255) with
//! DHIES: a fresh ephemeral key `r`, `R = r·G` and the shared point `Z = r·P`.
//! HKDF-SHA256 over `Z`, its info binding the ciphertext to (program, market, batch,
//! trader account, `R`), gives a 40-byte keystream and a 32-byte MAC key; the
//! ciphertext is the plaintext XOR the keystream, and its tag the first 16 bytes of
//! HMAC-SHA256(MAC key, ciphertext). Once the keypers publish the batch secret `s`,
//! anyone computes `Z = s·R` and opens the order: the program does so itself, so a
//! trader has nothing to reveal and nothing to withhold.
//!
//! What runs on chain ([`open`], [`shared_secret`], [`public_key`]) uses only the
//! `sol_sha256` and ristretto syscalls (through `solana-sha256-hasher` and
//! `solana-curve25519`, which fall back to `sha2` and `curve25519-dalek` on a host, so
//! the same code is tested here). Sealing and combining keyper shares (feature
//! `client`) use curve25519-dalek and frost-ristretto255 directly.
use solana_curve25519::ristretto::{multiply_ristretto, validate_ristretto, PodRistrettoPoint};
use solana_curve25519::scalar::PodScalar;
use solana_sha256_hasher::hashv;

/// HKDF's salt: the construction and its version.
pub const DOMAIN: &[u8] = b"solex-seal-v1";
/// The version byte every plaintext starts with.
pub const VERSION: u8 = 1;
pub const PLAINTEXT_LEN: usize = 40;
pub const TAG_LEN: usize = 16;
/// HKDF's info: program, market, batch (u64 LE), trader account, ephemeral point.
pub const INFO_LEN: usize = 32 + 32 + 8 + 32 + 32;

/// The compressed ristretto255 base point `G`.
pub const BASEPOINT: [u8; 32] = [
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f, 0x58, 0xe3, 0x0b,
    0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76,
];

/// What a ciphertext is bound to: the same bytes under another program, market,
/// batch or trader account derive another key, so a copy fails its tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    pub program: [u8; 32],
    pub market: [u8; 32],
    pub batch: u64,
    /// The trader account (not the wallet) the order is submitted for.
    pub trader: [u8; 32],
}

impl Binding {
    fn info(&self, ephemeral: &[u8; 32]) -> [u8; INFO_LEN] {
        let mut info = [0u8; INFO_LEN];
        info[..32].copy_from_slice(&self.program);
        info[32..64].copy_from_slice(&self.market);
        info[64..72].copy_from_slice(&self.batch.to_le_bytes());
        info[72..104].copy_from_slice(&self.trader);
        info[104..].copy_from_slice(ephemeral);
        info
    }
}

/// A sealed order as the trader submits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// `R = r·G`, compressed.
    pub ephemeral: [u8; 32],
    pub ciphertext: [u8; PLAINTEXT_LEN],
    pub tag: [u8; TAG_LEN],
}

/// The order inside a seal, as raw fields: the program maps `side` and
/// `order_type` onto its own enums (their Borsh bytes) and refuses other values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OrderPlaintext {
    pub side: u8,
    pub order_type: u8,
    /// Limit price in ticks.
    pub price: u64,
    pub qty_lots: u64,
    pub client_order_id: u64,
    /// `Expiry::encode` of the remainder's expiry, if it rests (0: never).
    pub expiry: u64,
}

impl OrderPlaintext {
    /// `[version, side, order_type, 0 × 5, price, qty_lots, client_order_id, expiry]`, integers little-endian.
    pub fn encode(&self) -> [u8; PLAINTEXT_LEN] {
        let mut b = [0u8; PLAINTEXT_LEN];
        b[0] = VERSION;
        b[1] = self.side;
        b[2] = self.order_type;
        b[8..16].copy_from_slice(&self.price.to_le_bytes());
        b[16..24].copy_from_slice(&self.qty_lots.to_le_bytes());
        b[24..32].copy_from_slice(&self.client_order_id.to_le_bytes());
        b[32..40].copy_from_slice(&self.expiry.to_le_bytes());
        b
    }

    /// The fields, if the version is known and the reserved bytes are zero.
    pub fn decode(b: &[u8; PLAINTEXT_LEN]) -> Option<Self> {
        if b[0] != VERSION || b[3..8] != [0; 5] {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        Some(Self {
            side: b[1],
            order_type: b[2],
            price: u64_at(8),
            qty_lots: u64_at(16),
            client_order_id: u64_at(24),
            expiry: u64_at(32),
        })
    }
}

/// An HMAC-SHA256 (RFC 2104) key of at most 64 bytes, its pads computed once, so
/// each MAC costs two `sha256` syscalls and the pads' XOR (8 bytes at a time) is
/// paid once per key, not once per MAC.
struct HmacKey {
    ipad: [u8; 64],
    opad: [u8; 64],
}

impl HmacKey {
    fn new(key: &[u8]) -> Self {
        debug_assert!(key.len() <= 64);
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(key);
        let (mut ipad, mut opad) = ([0u8; 64], [0u8; 64]);
        for ((word, i), o) in k.chunks_exact(8).zip(ipad.chunks_exact_mut(8)).zip(opad.chunks_exact_mut(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            i.copy_from_slice(&(w ^ 0x3636_3636_3636_3636).to_le_bytes());
            o.copy_from_slice(&(w ^ 0x5c5c_5c5c_5c5c_5c5c).to_le_bytes());
        }
        Self { ipad, opad }
    }

    /// The MAC of the concatenation of `msg` (at most four parts).
    fn mac(&self, msg: &[&[u8]]) -> [u8; 32] {
        debug_assert!(msg.len() <= 4);
        let mut parts: [&[u8]; 5] = [&self.ipad, &[], &[], &[], &[]];
        parts[1..=msg.len()].copy_from_slice(msg);
        let inner = hashv(&parts[..=msg.len()]).to_bytes();
        hashv(&[&self.opad, &inner]).to_bytes()
    }
}

#[cfg(test)]
fn hmac(key: &[u8], msg: &[&[u8]]) -> [u8; 32] {
    HmacKey::new(key).mac(msg)
}

/// HKDF-SHA256 (RFC 5869) of the shared point: the keystream and the MAC key.
fn keys(shared: &[u8; 32], binding: &Binding, ephemeral: &[u8; 32]) -> ([u8; PLAINTEXT_LEN], [u8; 32]) {
    let prk = HmacKey::new(&HmacKey::new(DOMAIN).mac(&[shared]));
    let info = binding.info(ephemeral);
    let t1 = prk.mac(&[&info, &[1]]);
    let t2 = prk.mac(&[&t1, &info, &[2]]);
    let t3 = prk.mac(&[&t2, &info, &[3]]);
    let mut stream = [0u8; PLAINTEXT_LEN];
    stream[..32].copy_from_slice(&t1);
    stream[32..].copy_from_slice(&t2[..PLAINTEXT_LEN - 32]);
    let mut mac_key = [0u8; 32];
    mac_key[..32 - (PLAINTEXT_LEN - 32)].copy_from_slice(&t2[PLAINTEXT_LEN - 32..]);
    mac_key[32 - (PLAINTEXT_LEN - 32)..].copy_from_slice(&t3[..PLAINTEXT_LEN - 32]);
    (stream, mac_key)
}

fn tag(mac_key: &[u8; 32], ciphertext: &[u8; PLAINTEXT_LEN]) -> [u8; TAG_LEN] {
    let mut t = [0u8; TAG_LEN];
    t.copy_from_slice(&HmacKey::new(mac_key).mac(&[ciphertext])[..TAG_LEN]);
    t
}

/// Seals `plaintext` given the shared point `Z = r·P` and `R = r·G`: deterministic,
/// so the on-chain [`open`] is tested against it; [`seal`] picks `r`.
pub fn seal_with(
    shared: &[u8; 32],
    binding: &Binding,
    ephemeral: &[u8; 32],
    plaintext: &[u8; PLAINTEXT_LEN],
) -> Sealed {
    let (stream, mac_key) = keys(shared, binding, ephemeral);
    let mut ciphertext = *plaintext;
    ciphertext.iter_mut().zip(stream).for_each(|(c, k)| *c ^= k);
    Sealed { ephemeral: *ephemeral, ciphertext, tag: tag(&mac_key, &ciphertext) }
}

/// The plaintext, if the tag verifies under the shared point `Z = s·R` and `binding`.
pub fn open(shared: &[u8; 32], binding: &Binding, sealed: &Sealed) -> Option<[u8; PLAINTEXT_LEN]> {
    let (stream, mac_key) = keys(shared, binding, &sealed.ephemeral);
    let expected = tag(&mac_key, &sealed.ciphertext);
    // Constant time, though nothing secret remains once the batch secret is public.
    if expected.iter().zip(sealed.tag).fold(0u8, |d, (a, b)| d | (a ^ b)) != 0 {
        return None;
    }
    let mut plaintext = sealed.ciphertext;
    plaintext.iter_mut().zip(stream).for_each(|(p, k)| *p ^= k);
    Some(plaintext)
}

/// SHA-256 of the concatenation of `parts` (the `sol_sha256` syscall on chain).
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    hashv(parts).to_bytes()
}

/// The compressed identity point: `R` must not be it, or `Z` would be public.
const IDENTITY: [u8; 32] = [0; 32];

/// `Z = s·R` for the batch secret `s` (a canonical scalar) and an ephemeral point
/// `R`; `None` if `R` is not a valid point (or is the identity) or `s` not canonical.
pub fn shared_secret(secret: &[u8; 32], ephemeral: &[u8; 32]) -> Option<[u8; 32]> {
    if *ephemeral == IDENTITY {
        return None;
    }
    // The multiplication decompresses (so validates) the point itself.
    multiply_ristretto(&PodScalar(*secret), &PodRistrettoPoint(*ephemeral)).map(|p| p.0)
}

/// A valid ristretto255 point other than the identity: what a registered key or
/// verifying share must be.
pub fn valid_point(p: &[u8; 32]) -> bool {
    *p != IDENTITY && validate_ristretto(&PodRistrettoPoint(*p))
}

/// `s·G`: what a batch secret (or a keyper's share) must equal the registered
/// public key (or the keyper's verifying share) under.
pub fn public_key(secret: &[u8; 32]) -> Option<[u8; 32]> {
    multiply_ristretto(&PodScalar(*secret), &PodRistrettoPoint(BASEPOINT)).map(|p| p.0)
}

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
pub use client::*;

#[cfg(test)]
mod tests;
