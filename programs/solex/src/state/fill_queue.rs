use anchor_lang::prelude::*;

use super::{order_id, Side};
use crate::error::SolexError;

/// Pending maker settlements per market. Sized so a crank consuming a batch of
/// 16 every slot keeps up with far more fills than one market sees.
pub const FILL_QUEUE_CAPACITY: usize = 512;

/// What happened to a resting order whose owner was not in the transaction;
/// `consume_events` applies it to the owner's trader account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub enum QueueEventKind {
    /// The maker's order traded `qty_lots`; its locked funds go to the taker and it is paid.
    Fill,
    /// The maker's order left the book unfilled (expired, evicted or pruned): its funds unlock.
    Out,
}

#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QueueEvent {
    /// The maker's trader account.
    pub maker: Pubkey,
    pub price: u64,
    /// The maker order's sequence number (its id is `order_id(price, order_seq)`).
    pub order_seq: u64,
    pub qty_lots: u64,
    /// Fill: base atoms traded. Out: 0.
    pub base_atoms: u64,
    /// Fill: quote notional traded. Out: 0.
    pub quote_atoms: u64,
    /// Fill: the maker's fee (positive) or rebate (negative), in quote atoms.
    pub maker_fee: i64,
    /// Out: the amount to unlock (base for an ask, quote for a bid). Fill: the lock
    /// of a remainder below the market's minimum that left the book with this fill.
    pub unlock: u64,
    /// Position in the market's fill sequence: 0, 1, 2, … with no gaps.
    pub fill_seq: u64,
    /// `QueueEventKind as u8`.
    pub kind: u8,
    /// The maker's side.
    pub side: u8,
    /// 1 when the maker's order is off the book after this event, so its slot is freed.
    pub order_done: u8,
    pub _padding: [u8; 5],
}

impl QueueEvent {
    pub fn kind(&self) -> QueueEventKind {
        if self.kind == QueueEventKind::Fill as u8 {
            QueueEventKind::Fill
        } else {
            QueueEventKind::Out
        }
    }

    pub fn side(&self) -> Side {
        Side::from_u8(self.side)
    }

    pub fn order_id(&self) -> u128 {
        order_id(self.price, self.order_seq)
    }
}

/// A ring buffer of `QueueEvent`s, consumed strictly in `fill_seq` order.
#[account(zero_copy)]
pub struct FillQueue {
    pub market: Pubkey,
    /// `fill_seq` of the oldest pending event (the next to consume).
    pub head_seq: u64,
    /// Pending events.
    pub count: u64,
    pub events: [QueueEvent; FILL_QUEUE_CAPACITY],
}

const _: () = assert!(FillQueue::LEN == 53_304 && core::mem::size_of::<QueueEvent>() == 104);

impl FillQueue {
    pub const LEN: usize = 8 + core::mem::size_of::<FillQueue>();

    fn index(seq: u64) -> usize {
        (seq % FILL_QUEUE_CAPACITY as u64) as usize
    }

    pub fn is_full(&self) -> bool {
        self.count as usize == FILL_QUEUE_CAPACITY
    }

    /// Appends an event, giving it the next fill sequence number.
    pub fn push(&mut self, mut event: QueueEvent) -> Result<u64> {
        require!(!self.is_full(), SolexError::FillQueueFull);
        let seq = self.head_seq + self.count;
        event.fill_seq = seq;
        self.events[Self::index(seq)] = event;
        self.count += 1;
        Ok(seq)
    }

    pub fn front(&self) -> Option<&QueueEvent> {
        (self.count > 0).then(|| &self.events[Self::index(self.head_seq)])
    }

    pub fn pop(&mut self) -> Option<QueueEvent> {
        let event = *self.front()?;
        self.events[Self::index(self.head_seq)] = QueueEvent::default();
        self.head_seq += 1;
        self.count -= 1;
        Some(event)
    }

    /// Pending events, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &QueueEvent> {
        (self.head_seq..self.head_seq + self.count).map(|s| &self.events[Self::index(s)])
    }
}
