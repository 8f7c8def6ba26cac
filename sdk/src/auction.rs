//! Batch markets (ADR 8): instruction builders for the keyper set and the auction,
//! account decoding, and sealing an order on the client (the plaintext never leaves
//! the machine that seals it).
use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use solex::state::{Auction, BatchHeader, KeyperSet, Market, RoundKey, SealedRecord, Side, MAX_DECRYPT};
pub use solex::state::{BatchStatus, RecordStatus, VoidReason};
use solex::{
    accounts, instruction, CreateAuctionArgs, CreateKeyperSetArgs, OrderType, RoundKeyData, SubmitSealedArgs, ID,
};
pub use solex_seal::{Binding, CombineError, OrderPlaintext, SealError, Share};

use crate::accounts::{decode, DecodeError};
use crate::instructions::{create_program_account, MarketKeys};
use crate::pda;

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// A batch market's addresses: the market's, its auction and its keyper set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuctionKeys {
    pub market: MarketKeys,
    pub auction: Pubkey,
    pub keyper_set: Pubkey,
}

// ---- keyper set ---------------------------------------------------------------

/// The system `create_account` for a keyper set of `capacity` round keys (rent
/// `lamports`), then `create_keyper_set`. `authority` and `keyper_set` sign.
pub fn create_keyper_set(
    payer: Pubkey,
    authority: Pubkey,
    keyper_set: Pubkey,
    capacity: u32,
    lamports: u64,
    args: CreateKeyperSetArgs,
) -> [Instruction; 2] {
    [
        create_program_account(&payer, &keyper_set, lamports, KeyperSet::space(capacity)),
        ix(accounts::CreateKeyperSet { authority, keyper_set }, instruction::CreateKeyperSet { args }),
    ]
}

/// Round keys one `register_keys` carries for a set of `n` members: each is 36 bytes
/// plus 32 per member, inside a 1,232-byte transaction with one signer.
pub fn keys_per_transaction(n: usize) -> usize {
    (900 / (36 + 32 * n)).max(1)
}

pub fn register_keys(keyper: Pubkey, keyper_set: Pubkey, first_round: u64, keys: Vec<RoundKeyData>) -> Instruction {
    ix(accounts::KeyperAction { keyper, keyper_set }, instruction::RegisterKeys { first_round, keys })
}

pub fn post_share(keyper: Pubkey, keyper_set: Pubkey, round: u64, share: [u8; 32]) -> Instruction {
    ix(accounts::KeyperAction { keyper, keyper_set }, instruction::PostShare { round, share })
}

pub fn publish_secret(keyper_set: Pubkey, round: u64, secret: [u8; 32]) -> Instruction {
    ix(accounts::PublishSecret { keyper_set }, instruction::PublishSecret { round, secret })
}

// ---- auction ------------------------------------------------------------------

/// The system `create_account` for an auction holding `capacity` sealed orders a
/// batch (rent `lamports`), then `create_auction`. `authority` and `auction` sign.
pub fn create_auction(
    payer: Pubkey,
    authority: Pubkey,
    keys: &AuctionKeys,
    capacity: u32,
    lamports: u64,
    args: CreateAuctionArgs,
) -> [Instruction; 2] {
    [
        create_program_account(&payer, &keys.auction, lamports, Auction::space(capacity)),
        ix(
            accounts::CreateAuction {
                authority,
                market: keys.market.market,
                keyper_set: keys.keyper_set,
                auction: keys.auction,
                event_authority: pda::event_authority(),
                program: ID,
            },
            instruction::CreateAuction { args },
        ),
    ]
}

fn sealed_orders(owner: Pubkey, keys: &AuctionKeys) -> accounts::SealedOrders {
    accounts::SealedOrders {
        owner,
        market: keys.market.market,
        trader: pda::trader(&keys.market.market, &owner),
        auction: keys.auction,
        keyper_set: keys.keyper_set,
        event_authority: pda::event_authority(),
        program: ID,
    }
}

pub fn submit_sealed(owner: Pubkey, keys: &AuctionKeys, args: SubmitSealedArgs) -> Instruction {
    ix(sealed_orders(owner, keys), instruction::SubmitSealed { args })
}

pub fn cancel_sealed(owner: Pubkey, keys: &AuctionKeys, batch_id: u64, index: u32) -> Instruction {
    ix(sealed_orders(owner, keys), instruction::CancelSealed { batch_id, index })
}

fn batch_step(keys: &AuctionKeys) -> accounts::BatchStep {
    accounts::BatchStep {
        market: keys.market.market,
        auction: keys.auction,
        keyper_set: keys.keyper_set,
        bids: keys.market.bids,
        asks: keys.market.asks,
        fill_queue: keys.market.fill_queue,
        event_authority: pda::event_authority(),
        program: ID,
    }
}

pub fn decrypt_batch(keys: &AuctionKeys, batch_id: u64, expected_cursor: u32, limit: u8) -> Instruction {
    ix(batch_step(keys), instruction::DecryptBatch { batch_id, expected_cursor, limit: limit.min(MAX_DECRYPT) })
}

pub fn clear_batch(keys: &AuctionKeys, batch_id: u64) -> Instruction {
    ix(batch_step(keys), instruction::ClearBatch { batch_id })
}

/// `execute_batch` from `expected_cursor`, passing the trader accounts of the
/// sealed orders it should settle (deduplicated).
pub fn execute_batch(
    keys: &AuctionKeys,
    batch_id: u64,
    expected_cursor: u32,
    limit: u8,
    traders: &[Pubkey],
) -> Instruction {
    let mut metas = batch_step(keys).to_account_metas(None);
    let mut seen: Vec<Pubkey> = Vec::new();
    for t in traders {
        if !seen.contains(t) {
            seen.push(*t);
            metas.push(AccountMeta::new(*t, false));
        }
    }
    Instruction {
        program_id: ID,
        accounts: metas,
        data: instruction::ExecuteBatch { batch_id, expected_cursor, limit }.data(),
    }
}

pub fn void_batch(keys: &AuctionKeys, batch_id: u64) -> Instruction {
    ix(batch_step(keys), instruction::VoidBatch { batch_id })
}

pub fn close_auction(authority: Pubkey, destination: Pubkey, keys: &AuctionKeys) -> Instruction {
    ix(
        accounts::CloseAuction {
            authority,
            destination,
            market: keys.market.market,
            auction: keys.auction,
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::CloseAuction {},
    )
}

// ---- reading the accounts -------------------------------------------------------

/// An auction account: its header and each batch's records (as many as submitted).
#[derive(Debug, Clone)]
pub struct AuctionState {
    pub auction: Auction,
    pub records: [Vec<SealedRecord>; 2],
}

impl AuctionState {
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let auction: Auction = decode(data)?;
        let capacity = auction.capacity as usize;
        let need = Auction::space(auction.capacity);
        if data.len() < need {
            return Err(DecodeError::TooShort { expected: need, actual: data.len() });
        }
        let records = [0, 1].map(|i| {
            let h = &auction.batches[i];
            (0..(h.count as usize).min(capacity))
                .map(|k| {
                    let at = Auction::LEN + (i * capacity + k) * SealedRecord::LEN;
                    bytemuck::pod_read_unaligned(&data[at..at + SealedRecord::LEN])
                })
                .collect()
        });
        Ok(Self { auction, records })
    }

    /// The header and records of batch `b`, if the auction holds it.
    pub fn batch(&self, b: u64) -> Option<(&BatchHeader, &[SealedRecord])> {
        let i = Auction::header_index(b);
        let h = &self.auction.batches[i];
        (h.status != 0 && h.batch_id == b).then(|| (h, &self.records[i][..]))
    }
}

/// A keyper set's header and its round-key ring.
#[derive(Debug, Clone)]
pub struct KeyperSetState {
    pub set: KeyperSet,
    pub ring: Vec<RoundKey>,
}

impl KeyperSetState {
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let set: KeyperSet = decode(data)?;
        let need = KeyperSet::space(set.capacity);
        if data.len() < need {
            return Err(DecodeError::TooShort { expected: need, actual: data.len() });
        }
        let ring = (0..set.capacity as usize)
            .map(|k| {
                let at = KeyperSet::LEN + k * RoundKey::LEN;
                bytemuck::pod_read_unaligned(&data[at..at + RoundKey::LEN])
            })
            .collect();
        Ok(Self { set, ring })
    }

    /// The entry of `round`, if the ring holds it.
    pub fn round(&self, round: u64) -> Option<&RoundKey> {
        let e = &self.ring[(round % self.set.capacity as u64) as usize];
        (e.round == round && e.status != 0).then_some(e)
    }
}

// ---- sealing ------------------------------------------------------------------

/// The batch collecting at `slot`, the slot it closes at, and the keyper round whose key seals it.
pub fn batch_at(auction: &Auction, set: &KeyperSet, slot: u64) -> (u64, u64, u64) {
    let batch = auction.batch_at(slot);
    let close = auction.close_slot(batch);
    (batch, close, set.round_of(close) - 1)
}

/// The collateral an order needs, as the program checks it when it opens the
/// order: for an ask its base; for a bid its notional at the limit with a taker's
/// fee and a maker's lock on all of it. Both include the sealed-order fee (quote).
pub fn envelope(market: &Market, sealed_fee: u64, side: Side, price: u64, qty_lots: u64) -> Option<(u64, u64)> {
    let notional = market.notional(qty_lots, price).ok()?;
    match side {
        Side::Ask => Some((market.base_atoms(qty_lots).ok()?, sealed_fee)),
        Side::Bid => {
            let need = [market.taker_fee(notional), market.maker_fee_lock(notional), sealed_fee]
                .into_iter()
                .try_fold(notional, u64::checked_add)?;
            Some((0, need))
        }
    }
}

/// Collateral that tells less than [`envelope`]'s exact need, which would show an
/// ask's exact size and a bid's notional: each part rounded up to a power of two,
/// so the order's size is known only within a factor of two; with `hide_side`, the
/// assets both sides would lock, so its side is not known either (at the cost of
/// locking more). The program unlocks whatever the order did not use.
pub fn private_envelope(
    market: &Market,
    sealed_fee: u64,
    side: Side,
    price: u64,
    qty_lots: u64,
    hide_side: bool,
) -> Option<(u64, u64)> {
    let pad = |v: u64| if v == 0 { 0 } else { v.checked_next_power_of_two().unwrap_or(v) };
    let (base, quote) = if hide_side {
        let ask = envelope(market, sealed_fee, Side::Ask, price, qty_lots)?;
        let bid = envelope(market, sealed_fee, Side::Bid, price, qty_lots)?;
        (ask.0, bid.1)
    } else {
        envelope(market, sealed_fee, side, price, qty_lots)?
    };
    Some((pad(base), pad(quote)))
}

/// What a trader seals: the order's fields (sealed orders are limit, IOC or market).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedOrder {
    pub side: Side,
    pub order_type: OrderType,
    pub price: u64,
    pub qty_lots: u64,
    pub client_order_id: u64,
    pub expiry: solex::state::Expiry,
}

impl SealedOrder {
    pub fn plaintext(&self) -> OrderPlaintext {
        let order_type = match self.order_type {
            OrderType::Limit => 0,
            OrderType::PostOnly => 1,
            OrderType::PostOnlySlide => 2,
            OrderType::ImmediateOrCancel => 3,
            OrderType::FillOrKill => 4,
            OrderType::Market => 5,
        };
        OrderPlaintext {
            side: self.side.as_u8(),
            order_type,
            price: self.price,
            qty_lots: self.qty_lots,
            client_order_id: self.client_order_id,
            expiry: self.expiry.encode(),
        }
    }
}

/// Seals `order` for `owner`'s trader account on `market`, batch `batch_id`, to the
/// batch key `batch_key`, with the given collateral: the arguments of `submit_sealed`.
pub fn seal_order(
    batch_key: &[u8; 32],
    market: &Pubkey,
    owner: &Pubkey,
    batch_id: u64,
    order: &SealedOrder,
    (base_envelope, quote_envelope): (u64, u64),
) -> Result<SubmitSealedArgs, SealError> {
    let binding = Binding {
        program: ID.to_bytes(),
        market: market.to_bytes(),
        batch: batch_id,
        trader: pda::trader(market, owner).to_bytes(),
    };
    let sealed = solex_seal::seal(batch_key, &binding, &order.plaintext())?;
    Ok(SubmitSealedArgs {
        batch_id,
        ephemeral: sealed.ephemeral,
        ciphertext: sealed.ciphertext,
        tag: sealed.tag,
        base_envelope,
        quote_envelope,
    })
}

/// Combines the shares posted for a round (at least `threshold`) into its secret,
/// checked against the round's key.
pub fn combine_posted(set: &KeyperSet, entry: &RoundKey) -> Result<[u8; 32], CombineError> {
    let shares: Vec<Share> = (0..set.n as usize)
        .filter(|i| entry.posted & (1 << i) != 0)
        .map(|i| Share { index: i as u16, share: entry.shares[i] })
        .collect();
    solex_seal::combine_shares(&shares, set.threshold as u16, &entry.group_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_collateral_covers_the_order_and_tells_its_size_within_a_factor_of_two_only() {
        let mut m: Market = bytemuck::Zeroable::zeroed();
        (m.base_lot_size, m.quote_tick_size, m.taker_fee_bps, m.maker_fee_bps) = (1_000, 10, 4, 2);
        for (side, price, qty) in [(Side::Bid, 101, 7), (Side::Ask, 99, 13), (Side::Bid, 3, 1)] {
            let need = envelope(&m, 100, side, price, qty).unwrap();
            let (b, q) = private_envelope(&m, 100, side, price, qty, false).unwrap();
            assert!(b >= need.0 && q >= need.1 && b < 2 * need.0.max(1) && q < 2 * need.1.max(1));
            assert!(b == 0 || b.is_power_of_two());
            assert!(q.is_power_of_two());
            // Hiding the side locks both assets, whichever the side.
            let both = private_envelope(&m, 100, side, price, qty, true).unwrap();
            let other =
                private_envelope(&m, 100, if side == Side::Bid { Side::Ask } else { Side::Bid }, price, qty, true);
            assert_eq!(Some(both), other);
            assert!(both.0 >= need.0 && both.1 >= need.1 && both.0 > 0);
        }
    }
}
