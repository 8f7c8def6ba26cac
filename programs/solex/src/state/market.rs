use anchor_lang::prelude::*;

use crate::error::SolexError;

pub const MARKET_SEED: &[u8] = b"market";
pub const BASE_VAULT_SEED: &[u8] = b"base_vault";
pub const QUOTE_VAULT_SEED: &[u8] = b"quote_vault";

/// Fees are in basis points of the quote notional of a fill.
pub const FEE_DENOMINATOR: u128 = 10_000;
/// No fee (or rebate) may exceed 10% of the notional.
pub const MAX_FEE_BPS: i16 = 1_000;
/// The largest notional of a resting order: n + ceil(n / 10) fits in u64 for every
/// n up to it, so the fee on any fill of it, taker's or maker's, can be paid.
pub const MAX_NOTIONAL: u64 = u64::MAX / 11 * 10;

/// A spot market: a base/quote pair, its vaults, books and fill queue, its lot and
/// tick sizes and its fees.
///
/// Prices are integers in ticks and quantities in base lots:
/// an order of `qty` lots at `price` ticks is worth `qty * base_lot_size` base atoms
/// against `qty * price * quote_tick_size` quote atoms (its notional).
#[account(zero_copy)]
#[derive(Debug)]
pub struct Market {
    pub authority: Pubkey,
    pub base_mint: Pubkey,
    pub quote_mint: Pubkey,
    pub base_vault: Pubkey,
    pub quote_vault: Pubkey,
    pub bids: Pubkey,
    pub asks: Pubkey,
    pub fill_queue: Pubkey,
    /// Caller-chosen id, part of the PDA seeds, so one pair can have several markets.
    pub market_id: u64,
    /// Base atoms per lot.
    pub base_lot_size: u64,
    /// Quote atoms per base lot per tick of price.
    pub quote_tick_size: u64,
    /// Orders for fewer lots are rejected.
    pub min_order_lots: u64,
    /// Sequence number of the last event this market emitted (0: none yet).
    /// Every event carries the next one, so a gap is visible to an indexer.
    pub event_seq: u64,
    /// Sequence of the last order placed; the low half of every order id.
    pub order_seq: u64,
    /// Quote atoms of fees charged and not yet swept by the authority.
    pub fees_accrued: u64,
    /// Open trader accounts; the market can be closed only when none is left.
    pub trader_count: u64,
    /// Negative: a rebate paid to makers out of the taker fee.
    pub maker_fee_bps: i16,
    pub taker_fee_bps: i16,
    pub bump: u8,
    pub base_decimals: u8,
    pub quote_decimals: u8,
    /// 1 while the authority has paused the market: no new traders, deposits or
    /// orders; cancels, settlement and withdrawals still work, so funds can always leave.
    pub paused: u8,
    /// 1 once `close_market` ran: the account stays as a tombstone so the address
    /// (and its event sequence) can never be created again.
    pub closed: u8,
    pub _padding: [u8; 7],
    /// A batch market (`auction` set): from this slot on, nothing may change the
    /// book until the batch closing then has executed (0: not frozen). See `Auction`.
    pub frozen_from_slot: u64,
    /// The market's auction account when it is a batch market (ADR 8); default: a
    /// continuous market.
    pub auction: Pubkey,
    /// Room for later fields, so markets created now keep their layout.
    pub _reserved: [u8; 16],
}

const _: () = assert!(Market::LEN == 400, "the market layout is part of the wire format");

impl Market {
    pub const LEN: usize = 8 + core::mem::size_of::<Market>();

    /// Takes the next per-market event sequence number.
    pub fn next_event_seq(&mut self) -> u64 {
        self.event_seq += 1;
        self.event_seq
    }

    pub fn is_paused(&self) -> bool {
        self.paused != 0
    }

    /// A batch market: only its auction takes; the book takes post-only orders.
    pub fn is_batch(&self) -> bool {
        self.auction != Pubkey::default()
    }

    /// Refuses book changes while a closed batch waits to execute (no last look).
    pub fn check_book_open(&self, slot: u64) -> Result<()> {
        require!(self.frozen_from_slot == 0 || slot < self.frozen_from_slot, SolexError::BatchInProgress);
        Ok(())
    }

    pub fn signer_seeds(&self) -> [&[u8]; 5] {
        [
            MARKET_SEED,
            self.base_mint.as_ref(),
            self.quote_mint.as_ref(),
            bytemuck::bytes_of(&self.market_id),
            core::slice::from_ref(&self.bump),
        ]
    }

    /// Base atoms of `qty_lots`.
    pub fn base_atoms(&self, qty_lots: u64) -> Result<u64> {
        qty_lots.checked_mul(self.base_lot_size).ok_or_else(|| error!(SolexError::Overflow))
    }

    /// Quote atoms of `qty_lots` at `price` ticks.
    pub fn notional(&self, qty_lots: u64, price: u64) -> Result<u64> {
        // Two u64 factors fit u128; the third may not (u64::MAX lots at u64::MAX ticks).
        let n = (qty_lots as u128 * price as u128).checked_mul(self.quote_tick_size as u128);
        n.and_then(|n| u64::try_from(n).ok()).ok_or_else(|| error!(SolexError::Overflow))
    }

    /// The taker fee on a notional, rounded up (the exchange never rounds in its own disfavour).
    pub fn taker_fee(&self, notional: u64) -> u64 {
        ceil_bps(notional, self.taker_fee_bps.max(0) as u128)
    }

    /// The fee a maker's bid of this notional must lock besides the notional:
    /// the whole maker fee, rounded up, when makers pay one.
    pub fn maker_fee_lock(&self, notional: u64) -> u64 {
        ceil_bps(notional, self.maker_fee_bps.max(0) as u128)
    }

    /// The maker fee of a fill of `filled` lots out of a resting order of `qty_lots`
    /// at `price`: positive, a fee; negative, a rebate.
    ///
    /// Positive fees telescope (`lock(q) - lock(q - f)`), so however an order is
    /// split into fills its maker pays exactly the fee it locked. Rebates are
    /// rounded down per fill, so together they never exceed the taker fees.
    pub fn maker_fee(&self, qty_lots: u64, filled: u64, price: u64) -> Result<i64> {
        if self.maker_fee_bps >= 0 {
            let before = self.maker_fee_lock(self.notional(qty_lots, price)?);
            let after = self.maker_fee_lock(self.notional(qty_lots - filled, price)?);
            Ok((before - after) as i64)
        } else {
            let n = self.notional(filled, price)? as u128;
            Ok(-((n * self.maker_fee_bps.unsigned_abs() as u128 / FEE_DENOMINATOR) as i64))
        }
    }

    /// The maker fee (positive) or rebate (negative) on a fill of `quote` notional
    /// at a price other than the order's own, as a batch auction's uniform price may
    /// be: a fee rounded up, a rebate rounded down.
    pub fn maker_fee_on(&self, quote: u64) -> i64 {
        if self.maker_fee_bps >= 0 {
            ceil_bps(quote, self.maker_fee_bps as u128) as i64
        } else {
            -((quote as u128 * self.maker_fee_bps.unsigned_abs() as u128 / FEE_DENOMINATOR) as i64)
        }
    }

    /// Refuses a resting order that a taker could not trade in full: its notional,
    /// with any fee on top (at most 10%, rounded up), must fit in u64. One
    /// comparison against `MAX_NOTIONAL` instead of computing both fees.
    pub fn check_takeable(&self, price: u64, qty_lots: u64) -> Result<()> {
        let n = self.notional(qty_lots, price).map_err(|_| error!(SolexError::NotionalTooLarge))?;
        require!(n <= MAX_NOTIONAL, SolexError::NotionalTooLarge);
        Ok(())
    }

    /// What a resting order of `qty_lots` at `price` locks: base atoms for an ask;
    /// the notional plus the maker fee for a bid.
    pub fn lock_amount(&self, side: super::Side, price: u64, qty_lots: u64) -> Result<u64> {
        match side {
            super::Side::Ask => self.base_atoms(qty_lots),
            super::Side::Bid => {
                let n = self.notional(qty_lots, price)?;
                n.checked_add(self.maker_fee_lock(n)).ok_or_else(|| error!(SolexError::Overflow))
            }
        }
    }
}

fn ceil_bps(notional: u64, bps: u128) -> u64 {
    // notional * bps / 10_000 <= notional / 10 fits in u64.
    (notional as u128 * bps).div_ceil(FEE_DENOMINATOR) as u64
}

/// Fee schedule checks shared by market creation and its tests: each fee at most
/// 10%, takers never paid, and a maker rebate never larger than the taker fee, so
/// the exchange's net fee on every fill is at least zero.
pub fn valid_fees(maker_fee_bps: i16, taker_fee_bps: i16) -> bool {
    (0..=MAX_FEE_BPS).contains(&taker_fee_bps)
        && (-MAX_FEE_BPS..=MAX_FEE_BPS).contains(&maker_fee_bps)
        && maker_fee_bps + taker_fee_bps >= 0
}
