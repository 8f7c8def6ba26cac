use core::cell::RefMut;

use anchor_lang::prelude::*;

use crate::error::SolexError;

/// The most sealed orders one batch holds: bounds the clearing instruction's
/// compute and heap (it sorts every order of the batch once).
pub const MAX_BATCH_ORDERS: u32 = 256;
/// The most orders one `decrypt_batch` opens (each costs ~5k CU; the event lists them).
pub const MAX_DECRYPT: u8 = 64;

/// A batch market's auction (ADR 8): the rules it was created with, and the two
/// batches it holds at a time, one collecting sealed orders while the one before
/// it is opened, cleared and executed.
///
/// Batch `b` collects during slots `[b * batch_slots, (b + 1) * batch_slots)` and
/// its orders are sealed to the keyper set's key of the round ending at its close.
/// The account is `Auction::LEN + 2 * capacity * SealedRecord::LEN` bytes: the
/// header, then `capacity` records for each of `batches[0]` and `batches[1]`
/// (batch `b` uses `batches[b % 2]`).
#[account(zero_copy)]
#[derive(Debug)]
pub struct Auction {
    pub market: Pubkey,
    pub keyper_set: Pubkey,
    pub batch_slots: u64,
    /// Slots after its close a batch may wait for its key; then anyone voids it.
    pub reveal_timeout_slots: u64,
    /// Quote atoms a sealed order pays, kept when it is junk, refunded only when the
    /// keypers fail (a timeout void).
    pub sealed_fee: u64,
    /// The last clearing price: the tie-break reference for the next batch (0: none yet).
    pub last_price: u64,
    pub batches_cleared: u64,
    pub batches_voided: u64,
    /// Records per batch.
    pub capacity: u32,
    pub _padding: [u8; 4],
    pub batches: [BatchHeader; 2],
    pub _reserved: [u8; 64],
}

const _: () = assert!(
    Auction::LEN == 480 && BatchHeader::LEN == 144 && SealedRecord::LEN == 200,
    "the auction layout is part of the wire format"
);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BatchStatus {
    /// Holds no batch.
    Free,
    /// Takes sealed orders until its close slot, then waits for its key.
    Collecting,
    /// The key is published; `cursor` records are opened.
    Decrypting,
    /// Cleared (or voided); resting fills are taken first, then `cursor` records settled.
    Executing,
}

#[zero_copy]
#[derive(Debug, Default)]
pub struct BatchHeader {
    pub batch_id: u64,
    pub close_slot: u64,
    /// The keyper set round whose key seals this batch's orders.
    pub key_round: u64,
    /// Records submitted (the next index).
    pub count: u32,
    /// Records not cancelled: a batch with none needs no processing.
    pub live: u32,
    /// Decrypting: records opened. Executing: records settled.
    pub cursor: u32,
    /// `BatchStatus as u8`.
    pub status: u8,
    /// 1 when the batch was voided (its key never came): every record is refunded.
    pub voided: u8,
    pub _padding: [u8; 2],
    pub secret: [u8; 32],
    /// The clearing: the uniform price (ticks) and the lots traded at it.
    pub price: u64,
    pub volume: u64,
    /// Lots bid and offered at the price (the larger side is rationed).
    pub demand: u64,
    pub supply: u64,
    /// Resting lots still to take from the bids / asks, best first.
    pub bid_sweep: u64,
    pub ask_sweep: u64,
    /// The clock resting orders' expiry is judged by, in the clearing and in
    /// execution: the batch's last slot, and the time of its last submission or
    /// cancel. Fixed before anything of the batch is readable, so no maker can time
    /// an expiry against the opening (a last look).
    pub judge_slot: u64,
    pub judge_unix_time: i64,
    /// Fees of the executed part (taker, maker and sealed-order fees), added to the
    /// market's at the end, so maker rebates never run ahead of the fees paying them.
    pub fees: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
#[repr(u8)]
pub enum RecordStatus {
    /// Submitted, not opened.
    Sealed,
    /// Cancelled by its trader before the close: its funds are back.
    Cancelled,
    /// Opened: a valid order (its fields are set).
    Revealed,
    /// Opened and invalid, or its batch timed out (`void_reason`).
    Void,
    /// Settled to its trader account.
    Done,
}

/// Why a sealed order was voided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
#[repr(u8)]
pub enum VoidReason {
    /// The ephemeral key is not a valid point: nothing can open it.
    BadKey,
    /// The tag does not verify: junk, or a ciphertext made for another program,
    /// market, batch or trader account.
    BadTag,
    /// It opened, but is not a valid order (version, side, type, zero price or
    /// size, below the minimum, an expiry that cannot be stored).
    Malformed,
    /// Its collateral does not cover what the order could cost.
    EnvelopeTooSmall,
    /// A limit order whose notional with fees would not fit in u64.
    NotionalTooLarge,
    /// The batch's key was not published within the reveal timeout (fee refunded).
    Timeout,
}

impl VoidReason {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::BadKey,
            1 => Self::BadTag,
            2 => Self::Malformed,
            3 => Self::EnvelopeTooSmall,
            4 => Self::NotionalTooLarge,
            _ => Self::Timeout,
        }
    }
}

/// A sealed order: what the trader submitted (ciphertext and collateral in the
/// clear), what opening it revealed, and what clearing allotted it.
#[zero_copy]
#[derive(Debug)]
pub struct SealedRecord {
    /// The trader account whose funds back it (part of the ciphertext's binding).
    pub trader: Pubkey,
    pub ephemeral: [u8; 32],
    pub ciphertext: [u8; 40],
    pub tag: [u8; 16],
    /// Collateral locked at submission: base atoms and quote atoms (the quote
    /// includes `fee`).
    pub base_envelope: u64,
    pub quote_envelope: u64,
    /// The sealed-order fee charged (quote atoms, inside `quote_envelope`).
    pub fee: u64,
    /// The order's sequence number, taken at submission: its id if it rests, and
    /// its open-order slot's key.
    pub order_seq: u64,
    pub price: u64,
    pub qty_lots: u64,
    pub client_order_id: u64,
    /// `Expiry::encode` of a remainder that rests.
    pub expiry: u64,
    pub filled_lots: u64,
    /// `RecordStatus as u8`.
    pub status: u8,
    /// `VoidReason as u8` when `status` is `Void`.
    pub void_reason: u8,
    /// `Side as u8` and `OrderType`'s Borsh byte, once revealed.
    pub side: u8,
    pub order_type: u8,
    pub _padding: [u8; 4],
}

impl SealedRecord {
    pub const LEN: usize = core::mem::size_of::<SealedRecord>();

    pub fn status(&self) -> RecordStatus {
        match self.status {
            0 => RecordStatus::Sealed,
            1 => RecordStatus::Cancelled,
            2 => RecordStatus::Revealed,
            3 => RecordStatus::Void,
            _ => RecordStatus::Done,
        }
    }

    pub fn side(&self) -> super::Side {
        super::Side::from_u8(self.side)
    }

    pub fn void(&mut self, reason: VoidReason) {
        self.status = RecordStatus::Void as u8;
        self.void_reason = reason as u8;
    }
}

impl BatchHeader {
    pub const LEN: usize = core::mem::size_of::<BatchHeader>();

    pub fn status(&self) -> BatchStatus {
        match self.status {
            1 => BatchStatus::Collecting,
            2 => BatchStatus::Decrypting,
            3 => BatchStatus::Executing,
            _ => BatchStatus::Free,
        }
    }

    /// Holds a batch that still has work to do (live orders not yet settled).
    pub fn unfinished(&self) -> bool {
        self.status() != BatchStatus::Free && self.live > 0
    }
}

impl Auction {
    pub const LEN: usize = 8 + core::mem::size_of::<Auction>();

    pub fn space(capacity: u32) -> usize {
        Self::LEN + 2 * capacity as usize * SealedRecord::LEN
    }

    /// The batch collecting at `slot`.
    pub fn batch_at(&self, slot: u64) -> u64 {
        slot / self.batch_slots
    }

    /// The first slot after batch `b`: from it on, `b` takes no orders.
    pub fn close_slot(&self, batch: u64) -> u64 {
        batch.saturating_add(1).saturating_mul(self.batch_slots)
    }

    /// Which of the two headers batch `b` uses.
    pub fn header_index(batch: u64) -> usize {
        (batch % 2) as usize
    }

    /// The header holding batch `b`, or `BatchNotFound`.
    pub fn header_of(&self, batch: u64) -> Result<usize> {
        let i = Self::header_index(batch);
        let h = &self.batches[i];
        require!(h.status() != BatchStatus::Free && h.batch_id == batch, SolexError::BatchNotFound);
        Ok(i)
    }

    /// Batches clear in order: refuses `b` while the other header holds an earlier
    /// batch with work left.
    pub fn check_in_order(&self, batch: u64) -> Result<()> {
        let other = &self.batches[1 - Self::header_index(batch)];
        require!(!(other.unfinished() && other.batch_id < batch), SolexError::BatchOutOfOrder);
        Ok(())
    }

    /// The slot from which the book is frozen: the close of the earliest batch with
    /// live orders not yet executed (0: none). Nothing may change the book from a
    /// batch's close until it has executed, so nobody trades on what its opening shows.
    pub fn frozen_from_slot(&self) -> u64 {
        self.batches.iter().filter(|h| h.unfinished()).map(|h| h.close_slot).min().unwrap_or(0)
    }
}

/// Splits an auction account's data into its header and its records (both batches').
pub fn auction_parts<'a>(data: RefMut<'a, &mut [u8]>) -> (RefMut<'a, Auction>, RefMut<'a, [SealedRecord]>) {
    RefMut::map_split(data, |d| {
        let (header, records) = d[8..].split_at_mut(core::mem::size_of::<Auction>());
        let bytes = records.len() / SealedRecord::LEN * SealedRecord::LEN;
        (bytemuck::from_bytes_mut(header), bytemuck::cast_slice_mut(&mut records[..bytes]))
    })
}

/// The records of batch header `i` out of all of an auction's records.
pub fn batch_records(records: &mut [SealedRecord], capacity: u32, i: usize) -> &mut [SealedRecord] {
    let c = capacity as usize;
    &mut records[i * c..(i + 1) * c]
}
