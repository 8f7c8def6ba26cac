use anchor_lang::prelude::*;

pub const MARKET_SEED: &[u8] = b"market";
pub const BASE_VAULT_SEED: &[u8] = b"base_vault";
pub const QUOTE_VAULT_SEED: &[u8] = b"quote_vault";

/// A spot market: a base/quote pair, its vaults and books, and its lot and tick sizes.
///
/// Prices are integers in ticks and quantities in base lots:
/// an order of `qty` lots at `price` ticks is worth `qty * base_lot_size` base atoms
/// against `qty * price * quote_tick_size` quote atoms.
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
    /// Caller-chosen id, part of the PDA seeds, so one pair can have several markets.
    pub market_id: u64,
    /// Base atoms per lot.
    pub base_lot_size: u64,
    /// Quote atoms per base lot per tick of price.
    pub quote_tick_size: u64,
    /// Sequence number of the last event this market emitted (0: none yet).
    /// Every event carries the next one, so a gap is visible to an indexer.
    pub event_seq: u64,
    /// Sequence of the last order placed; the low half of every order id.
    pub order_seq: u64,
    pub bump: u8,
    pub base_decimals: u8,
    pub quote_decimals: u8,
    /// 1 while the authority has paused the market: no new traders, deposits or
    /// orders; cancels and withdrawals still work, so funds can always leave.
    pub paused: u8,
    pub _padding: [u8; 4],
    /// Room for fields the full book adds, so markets created now keep their layout.
    pub _reserved: [u8; 128],
}

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

    pub fn signer_seeds(&self) -> [&[u8]; 5] {
        [
            MARKET_SEED,
            self.base_mint.as_ref(),
            self.quote_mint.as_ref(),
            bytemuck::bytes_of(&self.market_id),
            core::slice::from_ref(&self.bump),
        ]
    }
}
