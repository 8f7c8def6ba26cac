use anchor_lang::prelude::*;

use crate::error::SolexError;

/// Resting orders per side. Book accounts are created by the caller at this size
/// (they are too large for an in-program `init`) and initialised by `create_market`.
pub const BOOK_CAPACITY: usize = 4096;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Bid,
    Ask,
}

impl Side {
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// Order ids carry the price in the high 64 bits and the market's order sequence
/// number in the low 64 bits, so an id alone locates an order in its side.
pub fn order_id(price: u64, seq: u64) -> u128 {
    ((price as u128) << 64) | seq as u128
}

pub fn order_id_parts(id: u128) -> (u64, u64) {
    ((id >> 64) as u64, id as u64)
}

#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RestingOrder {
    /// The trader account whose funds back this order.
    pub trader: Pubkey,
    pub price: u64,
    pub seq: u64,
    pub qty_lots: u64,
    pub client_order_id: u64,
}

impl RestingOrder {
    pub fn id(&self) -> u128 {
        order_id(self.price, self.seq)
    }
}

/// One side of a market's book, kept sorted by priority with the best order last,
/// so the best order is found in O(1) and an order by id in O(log n) by binary
/// search; inserting and removing shift the tail with one memmove.
#[account(zero_copy)]
pub struct BookSide {
    pub market: Pubkey,
    pub len: u32,
    /// `Side as u8`.
    pub side: u8,
    pub _padding: [u8; 3],
    pub orders: [RestingOrder; BOOK_CAPACITY],
}

impl BookSide {
    pub const LEN: usize = 8 + core::mem::size_of::<BookSide>();

    pub fn side(&self) -> Side {
        if self.side == Side::Bid as u8 {
            Side::Bid
        } else {
            Side::Ask
        }
    }

    /// Sort key: ascending in the array means ascending priority.
    /// Bids: higher price first, then earlier. Asks: lower price first, then earlier.
    fn rank(side: Side, price: u64, seq: u64) -> u128 {
        match side {
            Side::Bid => ((price as u128) << 64) | (!seq) as u128,
            Side::Ask => !(((price as u128) << 64) | seq as u128),
        }
    }

    pub fn orders(&self) -> &[RestingOrder] {
        &self.orders[..self.len as usize]
    }

    pub fn best(&self) -> Option<&RestingOrder> {
        self.orders().last()
    }

    /// Would an order at `price` on the other side cross this side's best?
    pub fn crosses(&self, price: u64) -> bool {
        match (self.side(), self.best()) {
            (_, None) => false,
            (Side::Bid, Some(best)) => price <= best.price,
            (Side::Ask, Some(best)) => price >= best.price,
        }
    }

    fn search(&self, rank: u128) -> core::result::Result<usize, usize> {
        let side = self.side();
        self.orders().binary_search_by(|o| Self::rank(side, o.price, o.seq).cmp(&rank))
    }

    pub fn insert(&mut self, order: RestingOrder) -> Result<()> {
        let len = self.len as usize;
        require!(len < BOOK_CAPACITY, SolexError::BookFull);
        let rank = Self::rank(self.side(), order.price, order.seq);
        let at = match self.search(rank) {
            Ok(_) => return err!(SolexError::DuplicateOrderId),
            Err(at) => at,
        };
        self.orders.copy_within(at..len, at + 1);
        self.orders[at] = order;
        self.len += 1;
        Ok(())
    }

    pub fn find(&self, id: u128) -> Option<usize> {
        let (price, seq) = order_id_parts(id);
        self.search(Self::rank(self.side(), price, seq)).ok()
    }

    pub fn remove(&mut self, at: usize) -> RestingOrder {
        let len = self.len as usize;
        let order = self.orders[at];
        self.orders.copy_within(at + 1..len, at);
        self.orders[len - 1] = RestingOrder::default();
        self.len -= 1;
        order
    }
}
