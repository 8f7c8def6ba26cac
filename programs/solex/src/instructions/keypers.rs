//! The keyper set (ADR 8): created once by whoever runs a committee, its members
//! register each round's key ahead of use, post their shares of the round's secret
//! once the round has ended, and anyone publishes the secret their shares combine
//! to. These instructions belong to no market, so they emit no market event: the
//! account is their record, and the batches that use a key report its release.
use anchor_lang::prelude::*;
use solex_seal::{public_key, valid_point};

use crate::error::SolexError;
use crate::state::{keyper_parts, KeyperSet, RoundKey, RoundKeyStatus, MAX_KEYPERS};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct CreateKeyperSetArgs {
    /// The members' identity keys, in the order of their FROST identifiers (1, 2, …).
    pub members: Vec<Pubkey>,
    pub threshold: u8,
    pub round_slots: u64,
    /// Rounds a key is kept after its round ends (at least 2).
    pub retain_rounds: u64,
}

#[derive(Accounts)]
pub struct CreateKeyperSet<'info> {
    pub authority: Signer<'info>,
    /// Created by the caller with `KeyperSet::space(capacity)` bytes, owned by this program.
    #[account(zero)]
    pub keyper_set: AccountLoader<'info, KeyperSet>,
}

pub fn handle_create_keyper_set(ctx: Context<CreateKeyperSet>, args: CreateKeyperSetArgs) -> Result<()> {
    let info = ctx.accounts.keyper_set.to_account_info();
    let capacity = (info.data_len().saturating_sub(KeyperSet::LEN) / RoundKey::LEN) as u64;
    let n = args.members.len();
    let distinct =
        args.members.iter().enumerate().all(|(i, m)| *m != Pubkey::default() && !args.members[..i].contains(m));
    require!(
        (1..=MAX_KEYPERS).contains(&n)
            && (1..=n as u8).contains(&args.threshold)
            && distinct
            && args.round_slots > 0
            && args.retain_rounds >= 2
            && capacity > args.retain_rounds,
        SolexError::InvalidKeyperSet
    );
    let mut set = ctx.accounts.keyper_set.load_init()?;
    set.authority = ctx.accounts.authority.key();
    set.members[..n].copy_from_slice(&args.members);
    set.n = n as u8;
    set.threshold = args.threshold;
    set.round_slots = args.round_slots;
    set.retain_rounds = args.retain_rounds;
    set.capacity = capacity as u32;
    Ok(())
}

/// A round's key as its keypers' distributed key generation produced it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RoundKeyData {
    /// `P = s·G`, compressed ristretto255.
    pub group_key: [u8; 32],
    /// `Y_i = s_i·G` for each member, in member order.
    pub verifying_shares: Vec<[u8; 32]>,
}

#[derive(Accounts)]
pub struct KeyperAction<'info> {
    pub keyper: Signer<'info>,
    #[account(mut)]
    pub keyper_set: AccountLoader<'info, KeyperSet>,
}

/// The signer's member index, after checking the account is a keyper set.
fn member(a: &KeyperAction) -> Result<usize> {
    a.keyper_set.load()?.member_index(&a.keyper.key()).ok_or_else(|| error!(SolexError::NotAKeyper))
}

/// A member attests the keys of rounds `first_round, first_round + 1, …`. A round's
/// key is usable once `threshold` members attested the same key; members who
/// register different keys for a round dispute it, and it is never used.
pub fn handle_register_keys(ctx: Context<KeyperAction>, first_round: u64, keys: Vec<RoundKeyData>) -> Result<()> {
    let me = member(ctx.accounts)?;
    let slot = Clock::get()?.slot;
    let info = ctx.accounts.keyper_set.to_account_info();
    let (set, mut ring) = keyper_parts(info.try_borrow_mut_data()?);
    let (n, bit) = (set.n as usize, 1u8 << me);
    for (i, key) in keys.iter().enumerate() {
        let round = first_round.checked_add(i as u64).ok_or(SolexError::Overflow)?;
        require!(set.registrable(slot, round), SolexError::KeyRoundOutOfRange);
        require!(
            key.verifying_shares.len() == n
                && valid_point(&key.group_key)
                && key.verifying_shares.iter().all(valid_point),
            SolexError::InvalidKeyData
        );
        let entry = &mut ring[(round % set.capacity as u64) as usize];
        let same = entry.group_key == key.group_key && entry.verifying_shares[..n] == key.verifying_shares[..];
        if entry.round != round || entry.status() == RoundKeyStatus::Empty {
            // The ring's entry holds a round past its retention (`registrable`): reuse it.
            *entry = bytemuck::Zeroable::zeroed();
            entry.round = round;
            entry.group_key = key.group_key;
            entry.verifying_shares[..n].copy_from_slice(&key.verifying_shares);
        } else if entry.status() == RoundKeyStatus::Disputed {
            continue;
        } else if !same {
            // Before `threshold` members agree, members that differ dispute the round
            // (no order is ever sealed to it). Once they agreed the key is final: a
            // member registering another one then changes nothing, so no member
            // below the threshold can strand a batch that already holds orders.
            if matches!(entry.status(), RoundKeyStatus::Pending) {
                entry.status = RoundKeyStatus::Disputed as u8;
            }
            continue;
        }
        entry.attested |= bit;
        let attested = entry.attested.count_ones() as u8;
        if entry.status() != RoundKeyStatus::Released {
            let active = attested >= set.threshold;
            entry.status = if active { RoundKeyStatus::Active } else { RoundKeyStatus::Pending } as u8;
        }
    }
    Ok(())
}

/// A member releases its share of a round's secret, once the round has ended
/// (the keyper itself waits for a confirmed block past it: the program can only
/// refuse an early one). Checked against the member's verifying share.
pub fn handle_post_share(ctx: Context<KeyperAction>, round: u64, share: [u8; 32]) -> Result<()> {
    let me = member(ctx.accounts)?;
    let slot = Clock::get()?.slot;
    let info = ctx.accounts.keyper_set.to_account_info();
    let (set, mut ring) = keyper_parts(info.try_borrow_mut_data()?);
    let entry = &mut ring[(round % set.capacity as u64) as usize];
    require!(entry.usable(round), SolexError::KeyNotUsable);
    require!(slot >= set.round_end(round), SolexError::ShareTooEarly);
    require!(public_key(&share) == Some(entry.verifying_shares[me]), SolexError::InvalidShare);
    entry.shares[me] = share;
    entry.posted |= 1 << me;
    Ok(())
}

#[derive(Accounts)]
pub struct PublishSecret<'info> {
    #[account(mut)]
    pub keyper_set: AccountLoader<'info, KeyperSet>,
}

/// Permissionless: publishes a round's secret (combined from `threshold` shares,
/// on chain or not), checked against the round's key: `s·G == P`.
pub fn handle_publish_secret(ctx: Context<PublishSecret>, round: u64, secret: [u8; 32]) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts.keyper_set.load()?;
    let info = ctx.accounts.keyper_set.to_account_info();
    let (set, mut ring) = keyper_parts(info.try_borrow_mut_data()?);
    let entry = &mut ring[(round % set.capacity as u64) as usize];
    require!(entry.usable(round), SolexError::KeyNotUsable);
    require!(entry.status() != RoundKeyStatus::Released, SolexError::SecretAlreadyPublished);
    require!(slot >= set.round_end(round), SolexError::ShareTooEarly);
    require!(public_key(&secret) == Some(entry.group_key), SolexError::WrongSecret);
    entry.secret = secret;
    entry.status = RoundKeyStatus::Released as u8;
    Ok(())
}
