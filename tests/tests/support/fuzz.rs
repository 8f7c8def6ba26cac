//! The fuzzers' mutations of a valid instruction, and the values they draw.
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use proptest::prelude::*;
use solex_sdk::Pubkey;

#[derive(Debug, Clone)]
pub enum Mutation {
    None,
    /// Overwrite one data byte (index modulo the length).
    Byte(usize, u8),
    Truncate(usize),
    Extend(Vec<u8>),
    /// Random data, keeping the 8-byte discriminator or not.
    Replace {
        keep_discriminator: bool,
        data: Vec<u8>,
    },
    /// Account `i` (modulo) becomes pool entry `j` (modulo).
    Substitute(usize, usize),
    Swap(usize, usize),
    DropLast,
    AddAccount(usize),
    /// Account `i` (modulo) is passed without its signature.
    Unsign(usize),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => Just(Mutation::None),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        1 => (0usize..40).prop_map(Mutation::Truncate),
        1 => prop::collection::vec(any::<u8>(), 1..40).prop_map(Mutation::Extend),
        1 => (any::<bool>(), prop::collection::vec(any::<u8>(), 0..120))
            .prop_map(|(keep_discriminator, data)| Mutation::Replace { keep_discriminator, data }),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Substitute(i, j)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        1 => Just(Mutation::DropLast),
        1 => any::<usize>().prop_map(Mutation::AddAccount),
        1 => any::<usize>().prop_map(Mutation::Unsign),
    ]
}

pub fn apply(m: &Mutation, ix: &mut Instruction, pool: &[Pubkey]) {
    let n = ix.accounts.len();
    match m {
        Mutation::None => {}
        Mutation::Byte(i, b) if !ix.data.is_empty() => {
            let at = i % ix.data.len();
            ix.data[at] = *b;
        }
        Mutation::Byte(..) => {}
        Mutation::Truncate(len) => ix.data.truncate(*len),
        Mutation::Extend(more) => ix.data.extend_from_slice(more),
        Mutation::Replace { keep_discriminator, data } => {
            let head: Vec<u8> = if *keep_discriminator { ix.data.iter().take(8).copied().collect() } else { vec![] };
            ix.data = head.into_iter().chain(data.iter().copied()).collect();
        }
        Mutation::Substitute(i, j) if n > 0 => ix.accounts[i % n].pubkey = pool[j % pool.len()],
        Mutation::Swap(i, j) if n > 0 => ix.accounts.swap(i % n, j % n),
        Mutation::DropLast => {
            ix.accounts.pop();
        }
        Mutation::AddAccount(j) => ix.accounts.push(AccountMeta::new(pool[j % pool.len()], false)),
        Mutation::Unsign(i) if n > 0 => ix.accounts[i % n].is_signer = false,
        _ => {}
    }
}

/// Every u64 edge an adversary would try: zero, one, the i64 and JavaScript-number
/// limits, 2^63 (the expiry flag) and the top.
pub const EDGES: [u64; 9] =
    [0, 1, 1 << 32, (1 << 53) + 1, i64::MAX as u64, 1 << 63, (1 << 63) + 1, u64::MAX - 1, u64::MAX];

/// Mostly near the book (so orders trade), sometimes at a u64 edge.
pub fn value(near: std::ops::Range<u64>) -> impl Strategy<Value = u64> {
    prop_oneof![6 => near, 1 => prop::sample::select(&EDGES[..])]
}
