use core::cell::RefMut;

use anchor_lang::prelude::*;

use super::{order_id, Side};
use crate::error::SolexError;

pub const TRADER_SEED: &[u8] = b"trader";
/// The most open orders a trader account can be sized for.
pub const MAX_ORDERS_PER_TRADER: u16 = 256;

/// A trader's funds on one market. Tokens sit in the market's vaults; this
/// account says how much of them is the trader's, and how much of that is
/// locked behind resting orders.
///
/// The account is `Trader::LEN + max_orders * OrderSlot::LEN` bytes: the header is
/// followed by one slot per open order, sized by the owner at creation. A slot
/// is taken when an order rests and freed when it is cancelled, expires or (at
/// `consume_events`) is completely filled.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Trader {
    pub market: Pubkey,
    pub owner: Pubkey,
    /// May place and cancel orders for the owner, never withdraw. Default: none.
    pub delegate: Pubkey,
    pub base_available: u64,
    pub base_locked: u64,
    pub quote_available: u64,
    pub quote_locked: u64,
    /// Slots in use.
    pub open_orders: u16,
    /// Slots after the header.
    pub max_orders: u16,
    pub bump: u8,
    pub _padding: [u8; 3],
    /// The delegate's price band (set with it): its bids at most this price...
    pub delegate_max_bid: u64,
    /// ...and its asks at least this one, so it can never make the owner buy above
    /// or sell below the owner's own limits.
    pub delegate_min_ask: u64,
    pub _reserved: [u8; 16],
}

const _: () = assert!(Trader::LEN == 176 && OrderSlot::LEN == 32, "the trader layout is part of the wire format");

/// `OrderSlot::used` of a slot reserved by a sealed order not yet settled.
pub const SLOT_SEALED: u8 = 2;

/// One open order of a trader: enough to find it on the book (side, price, seq)
/// and to find it by the client's id.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OrderSlot {
    pub price: u64,
    pub seq: u64,
    pub client_order_id: u64,
    pub side: u8,
    pub used: u8,
    pub _padding: [u8; 6],
}

impl OrderSlot {
    pub const LEN: usize = core::mem::size_of::<OrderSlot>();

    pub fn order_id(&self) -> u128 {
        order_id(self.price, self.seq)
    }

    pub fn side(&self) -> Side {
        Side::from_u8(self.side)
    }
}

impl Trader {
    pub const LEN: usize = 8 + core::mem::size_of::<Trader>();

    pub fn space(max_orders: u16) -> usize {
        Self::LEN + max_orders as usize * OrderSlot::LEN
    }

    /// The owner, or the delegate if one is set, may trade.
    pub fn may_trade(&self, signer: &Pubkey) -> bool {
        *signer == self.owner || self.is_delegate(signer)
    }

    pub fn is_delegate(&self, signer: &Pubkey) -> bool {
        self.delegate != Pubkey::default() && *signer == self.delegate
    }

    pub fn is_empty(&self) -> bool {
        self.open_orders == 0
            && self.base_available == 0
            && self.base_locked == 0
            && self.quote_available == 0
            && self.quote_locked == 0
    }
}

/// Splits a trader account's data (already checked by Anchor to be a `Trader`)
/// into its header and its order slots.
pub fn trader_parts<'a>(data: RefMut<'a, &mut [u8]>) -> (RefMut<'a, Trader>, RefMut<'a, [OrderSlot]>) {
    RefMut::map_split(data, |d| {
        let (header, slots) = d[8..].split_at_mut(core::mem::size_of::<Trader>());
        let slot_bytes = slots.len() / OrderSlot::LEN * OrderSlot::LEN;
        (bytemuck::from_bytes_mut(header), bytemuck::cast_slice_mut(&mut slots[..slot_bytes]))
    })
}

/// Which of the market's two assets a balance is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asset {
    Base,
    Quote,
}

impl Asset {
    /// The asset an order on `side` locks (and a taker on `side` pays): asks sell base, bids pay quote.
    pub fn locked_by(side: Side) -> Asset {
        match side {
            Side::Ask => Asset::Base,
            Side::Bid => Asset::Quote,
        }
    }

    /// The asset an order on `side` receives.
    pub fn received_by(side: Side) -> Asset {
        match side {
            Side::Ask => Asset::Quote,
            Side::Bid => Asset::Base,
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

    /// available -> locked, for a resting order.
    pub fn lock(&mut self, asset: Asset, amount: u64) -> Result<()> {
        let (available, locked) = self.balances(asset);
        *available = available.checked_sub(amount).ok_or(SolexError::InsufficientFunds)?;
        *locked = locked.checked_add(amount).ok_or(SolexError::Overflow)?;
        Ok(())
    }

    /// locked -> available, for (part of) an order leaving the book unfilled.
    pub fn unlock(&mut self, asset: Asset, amount: u64) -> Result<()> {
        let (available, locked) = self.balances(asset);
        // Locked always covers a resting order: placing it locked exactly this amount.
        *locked = locked.checked_sub(amount).ok_or(SolexError::Overflow)?;
        *available = available.checked_add(amount).ok_or(SolexError::Overflow)?;
        Ok(())
    }

    /// locked -= amount, for a maker's filled funds leaving to the taker.
    pub fn spend_locked(&mut self, asset: Asset, amount: u64) -> Result<()> {
        let (_, locked) = self.balances(asset);
        *locked = locked.checked_sub(amount).ok_or(SolexError::Overflow)?;
        Ok(())
    }

    /// Records a newly resting order in a free slot.
    pub fn add_order(&mut self, slots: &mut [OrderSlot], side: Side, price: u64, seq: u64, client: u64) -> Result<()> {
        let slot = slots.iter_mut().find(|s| s.used == 0).ok_or(SolexError::TooManyOpenOrders)?;
        *slot = OrderSlot { price, seq, client_order_id: client, side: side.as_u8(), used: 1, _padding: [0; 6] };
        self.open_orders += 1;
        Ok(())
    }

    /// Reserves a slot for a sealed order, whose side and price are unknown until its
    /// batch opens (`used == SLOT_SEALED`; no book order has its id, so cancels by
    /// slot pass it by). Its remainder takes it over if it rests.
    pub fn reserve_sealed_slot(&mut self, slots: &mut [OrderSlot], seq: u64) -> Result<()> {
        let slot = slots.iter_mut().find(|s| s.used == 0).ok_or(SolexError::TooManyOpenOrders)?;
        *slot = OrderSlot { seq, used: SLOT_SEALED, ..Default::default() };
        self.open_orders += 1;
        Ok(())
    }

    /// A sealed order's remainder rests: its reserved slot becomes an open order's.
    pub fn fill_sealed_slot(
        &mut self,
        slots: &mut [OrderSlot],
        seq: u64,
        side: Side,
        price: u64,
        client: u64,
    ) -> Result<()> {
        let slot = slots.iter_mut().find(|s| s.used != 0 && s.seq == seq).ok_or(SolexError::OrderNotFound)?;
        *slot = OrderSlot { price, seq, client_order_id: client, side: side.as_u8(), used: 1, _padding: [0; 6] };
        Ok(())
    }

    /// Frees the slot of the order with this sequence number (sequence numbers are unique per market).
    pub fn remove_order(&mut self, slots: &mut [OrderSlot], seq: u64) -> Result<OrderSlot> {
        let slot = slots.iter_mut().find(|s| s.used != 0 && s.seq == seq).ok_or(SolexError::OrderNotFound)?;
        let removed = *slot;
        *slot = OrderSlot::default();
        self.open_orders -= 1;
        Ok(removed)
    }
}

/// The open order with this client order id, if any.
pub fn find_client_order(slots: &[OrderSlot], client_order_id: u64) -> Option<&OrderSlot> {
    slots.iter().find(|s| s.used != 0 && s.client_order_id == client_order_id)
}
