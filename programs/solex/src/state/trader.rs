use anchor_lang::prelude::*;

use crate::error::SolexError;

pub const TRADER_SEED: &[u8] = b"trader";

/// A trader's funds on one market. Tokens sit in the market's vaults; this
/// account says how much of them is the trader's, and how much of that is
/// locked behind resting orders.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Trader {
    pub market: Pubkey,
    pub owner: Pubkey,
    pub base_available: u64,
    pub base_locked: u64,
    pub quote_available: u64,
    pub quote_locked: u64,
    pub open_orders: u32,
    pub bump: u8,
    pub _padding: [u8; 3],
    /// May place and cancel orders for the owner, never withdraw. Default: none.
    pub delegate: Pubkey,
    pub _reserved: [u8; 32],
}

impl Trader {
    pub const LEN: usize = 8 + core::mem::size_of::<Trader>();

    /// The owner, or the delegate if one is set, may trade.
    pub fn may_trade(&self, signer: &Pubkey) -> bool {
        *signer == self.owner || (self.delegate != Pubkey::default() && *signer == self.delegate)
    }
}

/// Which of the market's two assets a balance is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asset {
    Base,
    Quote,
}

impl Asset {
    /// The asset an order on `side` locks: asks sell base, bids pay quote.
    pub fn locked_by(side: super::Side) -> Asset {
        match side {
            super::Side::Ask => Asset::Base,
            super::Side::Bid => Asset::Quote,
        }
    }
}

impl Trader {
    fn balances(&mut self, asset: Asset) -> (&mut u64, &mut u64) {
        match asset {
            Asset::Base => (&mut self.base_available, &mut self.base_locked),
            Asset::Quote => (&mut self.quote_available, &mut self.quote_locked),
        }
    }

    /// available += amount; returns the new available balance.
    pub fn credit(&mut self, asset: Asset, amount: u64) -> Result<u64> {
        let (available, _) = self.balances(asset);
        *available = available.checked_add(amount).ok_or(SolexError::Overflow)?;
        Ok(*available)
    }

    /// available -= amount; returns the new available balance.
    pub fn debit(&mut self, asset: Asset, amount: u64) -> Result<u64> {
        let (available, _) = self.balances(asset);
        *available = available.checked_sub(amount).ok_or(SolexError::InsufficientFunds)?;
        Ok(*available)
    }

    /// available -> locked, for a new resting order.
    pub fn lock(&mut self, asset: Asset, amount: u64) -> Result<()> {
        let (available, locked) = self.balances(asset);
        *available = available.checked_sub(amount).ok_or(SolexError::InsufficientFunds)?;
        *locked = locked.checked_add(amount).ok_or(SolexError::Overflow)?;
        self.open_orders = self.open_orders.checked_add(1).ok_or(SolexError::Overflow)?;
        Ok(())
    }

    /// locked -> available, for an order leaving the book unfilled.
    pub fn unlock(&mut self, asset: Asset, amount: u64) -> Result<()> {
        let (available, locked) = self.balances(asset);
        // Locked always covers a resting order: place_order locked exactly this amount.
        *locked = locked.checked_sub(amount).ok_or(SolexError::Overflow)?;
        *available = available.checked_add(amount).ok_or(SolexError::Overflow)?;
        self.open_orders = self.open_orders.checked_sub(1).ok_or(SolexError::Overflow)?;
        Ok(())
    }
}
