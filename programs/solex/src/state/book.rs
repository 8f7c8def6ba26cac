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

    pub fn from_u8(v: u8) -> Side {
        if v == Side::Bid as u8 {
            Side::Bid
        } else {
            Side::Ask
        }
    }
}

/// Would an incoming order limited to `price` trade against a resting order on
/// `resting_side` at `resting`? (A bid rests below an ask it could take.)
pub fn crosses(resting_side: Side, price: u64, resting: u64) -> bool {
    match resting_side {
        Side::Bid => price <= resting,
        Side::Ask => price >= resting,
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

/// When an order stops being valid. Stored in a resting order as one `u64`:
/// 0 never, a slot, or a unix time with the top bit set.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Expiry {
    #[default]
    Never,
    /// Valid up to and including this slot.
    Slot(u64),
    /// Valid up to and including this unix time (seconds).
    UnixTime(i64),
}

const UNIX_TIME_FLAG: u64 = 1 << 63;

impl Expiry {
    pub fn encode(self) -> u64 {
        match self {
            Expiry::Never => 0,
            Expiry::Slot(slot) => slot & !UNIX_TIME_FLAG,
            Expiry::UnixTime(t) => (t.max(0) as u64 & !UNIX_TIME_FLAG) | UNIX_TIME_FLAG,
        }
    }

    pub fn decode(v: u64) -> Self {
        match v {
            0 => Expiry::Never,
            v if v & UNIX_TIME_FLAG != 0 => Expiry::UnixTime((v & !UNIX_TIME_FLAG) as i64),
            v => Expiry::Slot(v),
        }
    }

    /// Refuses what `encode` cannot store as given: a slot with the top bit set (it
    /// would read back as a unix time) or a negative unix time.
    pub fn validate(self) -> Result<()> {
        let ok = match self {
            Expiry::Never => true,
            Expiry::Slot(slot) => slot & UNIX_TIME_FLAG == 0 && slot != 0,
            Expiry::UnixTime(t) => t > 0,
        };
        require!(ok, SolexError::InvalidExpiry);
        Ok(())
    }

    pub fn has_passed(self, now: &Now) -> bool {
        match self {
            Expiry::Never => false,
            Expiry::Slot(slot) => now.slot > slot,
            Expiry::UnixTime(t) => now.unix_time > t,
        }
    }
}

/// The clock readings expiry is judged by.
#[derive(Clone, Copy, Debug, Default)]
pub struct Now {
    pub slot: u64,
    pub unix_time: i64,
}

/// 64 bytes. The client order id is kept in the owner's open-order slot, not here:
/// the book is most of a market's rent.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RestingOrder {
    /// The trader account whose funds back this order.
    pub trader: Pubkey,
    pub price: u64,
    pub seq: u64,
    pub qty_lots: u64,
    /// `Expiry::encode`.
    pub expires: u64,
}

impl RestingOrder {
    pub fn id(&self) -> u128 {
        order_id(self.price, self.seq)
    }

    pub fn expiry(&self) -> Expiry {
        Expiry::decode(self.expires)
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

const _: () = assert!(BookSide::LEN == 262_192 && core::mem::size_of::<RestingOrder>() == 64);

impl BookSide {
    pub const LEN: usize = 8 + core::mem::size_of::<BookSide>();

    pub fn side(&self) -> Side {
        Side::from_u8(self.side)
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

    pub fn best_mut(&mut self) -> Option<&mut RestingOrder> {
        let len = self.len as usize;
        len.checked_sub(1).map(|i| &mut self.orders[i])
    }

    /// Would an order at `price` on the other side cross this side's best?
    pub fn crosses(&self, price: u64) -> bool {
        self.best().is_some_and(|best| self.crosses_order(price, best.price))
    }

    /// Would an order at `price` on the other side trade against a resting order at `resting`?
    pub fn crosses_order(&self, price: u64, resting: u64) -> bool {
        crosses(self.side(), price, resting)
    }

    /// Removes the best order (the last), in O(1).
    pub fn pop_best(&mut self) -> Option<RestingOrder> {
        let len = self.len as usize;
        let at = len.checked_sub(1)?;
        Some(self.remove(at))
    }

    fn search(&self, rank: u128) -> core::result::Result<usize, usize> {
        let side = self.side();
        self.orders().binary_search_by(|o| Self::rank(side, o.price, o.seq).cmp(&rank))
    }

    /// The lowest-priority order (the first), which a better order evicts from a full side.
    pub fn worst(&self) -> Option<&RestingOrder> {
        self.orders().first()
    }

    /// Can an order at `price` with sequence `seq` rest here: there is room, or it
    /// ranks above the worst order, which it would evict.
    pub fn can_rest(&self, price: u64, seq: u64) -> bool {
        let side = self.side();
        (self.len as usize) < BOOK_CAPACITY
            || self.worst().is_some_and(|w| Self::rank(side, price, seq) > Self::rank(side, w.price, w.seq))
    }

    /// Inserts `order`; on a full side, evicts the worst order to make room (the
    /// caller checked `can_rest`) and returns it. One memmove either way.
    pub fn insert_evicting(&mut self, order: RestingOrder) -> Result<Option<RestingOrder>> {
        if (self.len as usize) < BOOK_CAPACITY {
            return self.insert(order).map(|_| None);
        }
        require!(self.can_rest(order.price, order.seq), SolexError::BookFull);
        let at = match self.search(Self::rank(self.side(), order.price, order.seq)) {
            Ok(_) => return err!(SolexError::DuplicateOrderId),
            Err(at) => at,
        };
        // at >= 1: the order ranks above orders[0]. Shift [1, at) down over the worst.
        let evicted = self.orders[0];
        self.orders.copy_within(1..at, 0);
        self.orders[at - 1] = order;
        Ok(Some(evicted))
    }

    /// Removes up to `limit` orders for which `expired` holds, keeping the others in
    /// order (one memmove per run of kept orders). Returns the removed orders.
    pub fn remove_where(&mut self, limit: usize, expired: impl Fn(&RestingOrder) -> bool) -> Vec<RestingOrder> {
        let len = self.len as usize;
        let mut removed = Vec::with_capacity(limit.min(len));
        let (mut write, mut run_start) = (0, 0);
        let mut i = 0;
        while i < len && removed.len() < limit {
            if expired(&self.orders[i]) {
                self.orders.copy_within(run_start..i, write);
                write += i - run_start;
                removed.push(self.orders[i]);
                run_start = i + 1;
            }
            i += 1;
        }
        self.orders.copy_within(run_start..len, write);
        write += len - run_start;
        for slot in &mut self.orders[write..len] {
            *slot = RestingOrder::default();
        }
        self.len = write as u32;
        removed
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn empty(side: Side) -> Box<BookSide> {
        let mut book: Box<BookSide> = bytemuck::zeroed_box();
        book.side = side.as_u8();
        book
    }

    /// The reference: every resting order in priority order, best first, by a plain sort.
    fn reference(side: Side, orders: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let mut v = orders.to_vec();
        v.sort_by(|a, b| match side {
            Side::Bid => b.0.cmp(&a.0).then(a.1.cmp(&b.1)),
            Side::Ask => a.0.cmp(&b.0).then(a.1.cmp(&b.1)),
        });
        v
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Remove(usize),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![3 => (1u64..50).prop_map(Op::Insert), 1 => any::<usize>().prop_map(Op::Remove)],
            1..300,
        )
    }

    proptest! {
        #[test]
        fn book_matches_reference_model(bid in any::<bool>(), ops in ops()) {
            let side = if bid { Side::Bid } else { Side::Ask };
            let mut book = empty(side);
            let mut model: Vec<(u64, u64)> = vec![];
            let mut seq = 0;
            for op in ops {
                match op {
                    Op::Insert(price) => {
                        seq += 1;
                        book.insert(RestingOrder { price, seq, qty_lots: 1, ..Default::default() }).unwrap();
                        model.push((price, seq));
                    }
                    Op::Remove(i) if !model.is_empty() => {
                        let (price, seq) = model.remove(i % model.len());
                        let at = book.find(order_id(price, seq)).expect("resting order is found by id");
                        let removed = book.remove(at);
                        prop_assert_eq!((removed.price, removed.seq), (price, seq));
                    }
                    Op::Remove(_) => {}
                }
                let expected = reference(side, &model);
                let actual: Vec<_> = book.orders().iter().rev().map(|o| (o.price, o.seq)).collect();
                prop_assert_eq!(&actual, &expected);
                prop_assert_eq!(book.best().map(|o| (o.price, o.seq)), expected.first().copied());
                // Slots past len are cleared, so no stale order can reappear.
                prop_assert!(book.orders[book.len as usize..].iter().all(|o| *o == RestingOrder::default()));
            }
        }
    }

    #[test]
    fn a_full_side_evicts_its_worst_order_for_a_better_one_only() {
        let mut bids = empty(Side::Bid);
        for seq in 1..=BOOK_CAPACITY as u64 {
            bids.insert(RestingOrder { price: 10 + seq % 5, seq, ..Default::default() }).unwrap();
        }
        let worst = *bids.worst().unwrap();
        assert_eq!((worst.price, worst.seq), (10, 4095), "lowest price, latest");
        // Not better than the worst (same price, later): refused.
        assert!(!bids.can_rest(10, 99_999));
        let refused = bids.insert_evicting(RestingOrder { price: 10, seq: 99_999, ..Default::default() });
        assert_eq!(refused.unwrap_err(), crate::error::SolexError::BookFull.into());
        // Better: the worst goes, the book stays sorted and full.
        let evicted = bids.insert_evicting(RestingOrder { price: 12, seq: 100_000, ..Default::default() }).unwrap();
        assert_eq!(evicted, Some(worst));
        assert_eq!(bids.len as usize, BOOK_CAPACITY);
        let ranks: Vec<u128> = bids.orders().iter().map(|o| BookSide::rank(Side::Bid, o.price, o.seq)).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]));
        assert!(bids.find(order_id(12, 100_000)).is_some());
    }

    #[test]
    fn remove_where_keeps_the_rest_in_order() {
        let mut asks = empty(Side::Ask);
        for seq in 1..=40u64 {
            asks.insert(RestingOrder { price: seq % 7 + 1, seq, expires: seq % 3, ..Default::default() }).unwrap();
        }
        let before: Vec<RestingOrder> = asks.orders().to_vec();
        let removed = asks.remove_where(5, |o| o.expires == 1);
        assert_eq!(removed.len(), 5);
        let expected: Vec<RestingOrder> = {
            let mut n = 0;
            before
                .into_iter()
                .filter(|o| {
                    !(o.expires == 1 && {
                        n += 1;
                        n <= 5
                    })
                })
                .collect()
        };
        assert_eq!(asks.orders(), &expected[..]);
        assert!(asks.orders[asks.len as usize..].iter().all(|o| *o == RestingOrder::default()));
    }

    #[test]
    fn crossing_and_capacity() {
        let mut asks = empty(Side::Ask);
        assert!(!asks.crosses(1_000));
        asks.insert(RestingOrder { price: 100, seq: 1, ..Default::default() }).unwrap();
        assert!(asks.crosses(100) && asks.crosses(101) && !asks.crosses(99));
        let mut bids = empty(Side::Bid);
        bids.insert(RestingOrder { price: 100, seq: 1, ..Default::default() }).unwrap();
        assert!(bids.crosses(100) && bids.crosses(99) && !bids.crosses(101));
        assert!(bids.insert(RestingOrder { price: 100, seq: 1, ..Default::default() }).is_err(), "duplicate id");
        for seq in 2..=BOOK_CAPACITY as u64 {
            bids.insert(RestingOrder { price: seq % 7 + 1, seq, ..Default::default() }).unwrap();
        }
        assert_eq!(bids.len as usize, BOOK_CAPACITY);
        let full = bids.insert(RestingOrder { price: 5, seq: 99_999, ..Default::default() });
        assert_eq!(full.unwrap_err(), crate::error::SolexError::BookFull.into());
    }
}
