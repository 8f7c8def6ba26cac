//! The clearing against an independent reference: every price from 1 to `MAX_PRICE`
//! is tried by brute force (D, S and the volume at each), the rule is applied as
//! written in the module's documentation, and the allocation is rebuilt from a
//! plain sort of all orders. 10,000 random batches.
use proptest::prelude::*;

use super::*;

const MAX_PRICE: u64 = 40;

#[derive(Debug, Clone)]
struct Case {
    batch: Vec<BatchOrder>,
    bids: Vec<RestingOrder>,
    asks: Vec<RestingOrder>,
    now: Now,
    reference: Option<u64>,
    seed: u64,
}

/// A book side as stored: best last.
fn stored(side: Side, mut orders: Vec<RestingOrder>) -> Vec<RestingOrder> {
    orders.sort_by(|a, b| match side {
        Side::Bid => a.price.cmp(&b.price).then(b.seq.cmp(&a.seq)),
        Side::Ask => b.price.cmp(&a.price).then(b.seq.cmp(&a.seq)),
    });
    orders
}

fn case() -> impl Strategy<Value = Case> {
    let order = (any::<bool>(), 1..=MAX_PRICE, 1u64..=12).prop_map(|(bid, price, qty_lots)| BatchOrder {
        side: if bid { Side::Bid } else { Side::Ask },
        price,
        qty_lots,
    });
    // Resting prices around a split, so the book is never crossed; a few expire.
    let resting = prop::collection::vec((1u64..=MAX_PRICE / 2, 1u64..=10, 0u8..8), 0..12);
    (
        prop::collection::vec(order, 0..14),
        resting.clone(),
        resting,
        2..=MAX_PRICE / 2,
        prop::option::of(1..=MAX_PRICE),
        any::<u64>(),
    )
        .prop_map(|(batch, rb, ra, split, reference, seed)| {
            let mut seq = 0;
            let mut make = |offset: i64, v: &[(u64, u64, u8)]| -> Vec<RestingOrder> {
                v.iter()
                    .map(|&(p, q, e)| {
                        seq += 1;
                        let price = (p as i64 + offset).clamp(1, MAX_PRICE as i64) as u64;
                        // expires 0: never; 1..: slot 99 (expired at slot 100) once in eight.
                        let expires = if e == 0 { 99 } else { 0 };
                        RestingOrder { trader: Pubkey::default(), price, seq, qty_lots: q, expires }
                    })
                    .collect()
            };
            // Bids below the split, asks at or above it.
            let bids: Vec<_> = make(0, &rb).into_iter().filter(|o| o.price < split).collect();
            let asks: Vec<_> = make(split as i64 - 1, &ra).into_iter().filter(|o| o.price >= split).collect();
            Case {
                batch,
                bids: stored(Side::Bid, bids),
                asks: stored(Side::Ask, asks),
                now: Now { slot: 100, unix_time: 0 },
                reference,
                seed,
            }
        })
}

fn tiebreak(seed: u64) -> impl Fn(usize) -> [u8; 32] {
    move |k| solex_seal::sha256(&[&seed.to_le_bytes(), &(k as u64).to_le_bytes()])
}

/// A pooled order for the reference: `resting` orders rank before the batch's at a
/// price, by their sequence; the batch's by position.
#[derive(Debug, Clone, Copy)]
struct Pooled {
    side: Side,
    price: u64,
    qty: u64,
    resting: Option<u64>,
    batch: Option<usize>,
}

fn pool(c: &Case) -> Vec<Pooled> {
    let live = |o: &&RestingOrder| !o.expiry().has_passed(&c.now);
    let mut all: Vec<Pooled> = c
        .batch
        .iter()
        .enumerate()
        .map(|(k, o)| Pooled { side: o.side, price: o.price, qty: o.qty_lots, resting: None, batch: Some(k) })
        .collect();
    for (side, book) in [(Side::Bid, &c.bids), (Side::Ask, &c.asks)] {
        all.extend(book.iter().filter(live).map(|o| Pooled {
            side,
            price: o.price,
            qty: o.qty_lots,
            resting: Some(o.seq),
            batch: None,
        }));
    }
    all
}

/// The clearing price, volume, demand and supply by brute force over every price.
fn reference_price(c: &Case) -> (u64, u64, u64, u64) {
    let all = pool(c);
    let demand = |p: u64| all.iter().filter(|o| o.side == Side::Bid && o.price >= p).map(|o| o.qty).sum::<u64>();
    let supply = |p: u64| all.iter().filter(|o| o.side == Side::Ask && o.price <= p).map(|o| o.qty).sum::<u64>();
    let best = (1..=MAX_PRICE).max_by_key(|&p| {
        let (d, s) = (demand(p), supply(p));
        let distance = c.reference.map_or(0, |r| p.abs_diff(r));
        // Most volume, then least imbalance, then nearest the reference, then lowest.
        (d.min(s), std::cmp::Reverse(d.abs_diff(s)), std::cmp::Reverse(distance), std::cmp::Reverse(p))
    });
    let p = best.unwrap();
    let v = demand(p).min(supply(p));
    if v == 0 {
        return (0, 0, 0, 0);
    }
    (p, v, demand(p), supply(p))
}

/// Each batch order's fill and each side's resting lots, by the allocation rule.
fn reference_allocation(c: &Case, volume: u64) -> (Vec<u64>, u64, u64) {
    let all = pool(c);
    let tb = tiebreak(c.seed);
    let mut fills = vec![0; c.batch.len()];
    let mut sweeps = [0u64; 2];
    for (s, side) in [Side::Bid, Side::Ask].into_iter().enumerate() {
        let mut mine: Vec<Pooled> = all.iter().copied().filter(|o| o.side == side).collect();
        mine.sort_by(|a, b| {
            let by_price = match side {
                Side::Bid => b.price.cmp(&a.price),
                Side::Ask => a.price.cmp(&b.price),
            };
            // Resting first (None sorts first after the negation), oldest first.
            by_price.then(a.resting.is_none().cmp(&b.resting.is_none())).then(a.resting.cmp(&b.resting))
        });
        let mut left = volume;
        let mut i = 0;
        while left > 0 && i < mine.len() {
            let price = mine[i].price;
            let level: Vec<Pooled> = mine[i..].iter().copied().take_while(|o| o.price == price).collect();
            i += level.len();
            let total: u64 = level.iter().map(|o| o.qty).sum();
            if total <= left {
                for o in &level {
                    match o.batch {
                        Some(k) => fills[k] = o.qty,
                        None => sweeps[s] += o.qty,
                    }
                }
                left -= total;
                continue;
            }
            for o in level.iter().filter(|o| o.resting.is_some()) {
                let q = o.qty.min(left);
                sweeps[s] += q;
                left -= q;
            }
            let members: Vec<usize> = level.iter().filter_map(|o| o.batch).collect();
            let batch_total: u64 = members.iter().map(|&k| c.batch[k].qty_lots).sum();
            if left > 0 {
                let mut given = 0;
                for &k in &members {
                    fills[k] = left * c.batch[k].qty_lots / batch_total;
                    given += fills[k];
                }
                let mut order = members.clone();
                order.sort_by_key(|&k| (u64::from_be_bytes(tb(k)[..8].try_into().unwrap()), k));
                for &k in order.iter().take((left - given) as usize) {
                    fills[k] += 1;
                }
            }
            left = 0;
        }
    }
    (fills, sweeps[0], sweeps[1])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn clearing_matches_the_reference_and_keeps_every_limit(c in case()) {
        let got = clear(&c.batch, &c.bids, &c.asks, &c.now, c.reference, tiebreak(c.seed));
        let (price, volume, demand, supply) = reference_price(&c);
        prop_assert_eq!((got.price, got.volume, got.demand, got.supply), (price, volume, demand, supply), "{:?}", c);
        let (fills, bid_sweep, ask_sweep) = reference_allocation(&c, volume);
        prop_assert_eq!(&got.fills, &fills, "{:?}", c);
        prop_assert_eq!((got.bid_sweep, got.ask_sweep), (bid_sweep, ask_sweep), "{:?}", c);

        // The properties themselves, independently of the reference:
        // both sides trade the volume (base and, at one price, quote are conserved);
        let side_total = |s: Side| c.batch.iter().zip(&got.fills).filter(|(o, _)| o.side == s).map(|(_, f)| f).sum::<u64>();
        prop_assert_eq!(side_total(Side::Bid) + got.bid_sweep, got.volume);
        prop_assert_eq!(side_total(Side::Ask) + got.ask_sweep, got.volume);
        // no order trades beyond its size or its limit;
        for (o, &f) in c.batch.iter().zip(&got.fills) {
            prop_assert!(f <= o.qty_lots);
            if f > 0 {
                let within = match o.side { Side::Bid => o.price >= got.price, Side::Ask => o.price <= got.price };
                prop_assert!(within);
            }
        }
        // resting orders of one side at most trade (the book is not crossed);
        prop_assert!(got.bid_sweep == 0 || got.ask_sweep == 0);
        // a better-priced order of a side fills in full before a worse one fills at all.
        for (a, &fa) in c.batch.iter().zip(&got.fills) {
            for (b, &fb) in c.batch.iter().zip(&got.fills) {
                let better = a.side == b.side && match a.side { Side::Bid => a.price > b.price, Side::Ask => a.price < b.price };
                if better && fb > 0 {
                    prop_assert_eq!(fa, a.qty_lots);
                }
            }
        }
    }
}

#[test]
fn a_crossed_pair_trades_at_the_zero_imbalance_price_nearest_the_reference() {
    let bid = BatchOrder { side: Side::Bid, price: 110, qty_lots: 5 };
    let ask = BatchOrder { side: Side::Ask, price: 100, qty_lots: 5 };
    let now = Now::default();
    for (reference, price) in [(None, 100), (Some(104), 104), (Some(200), 110), (Some(1), 100)] {
        let c = clear(&[bid, ask], &[], &[], &now, reference, tiebreak(0));
        assert_eq!((c.price, c.volume, c.fills.clone()), (price, 5, vec![5, 5]), "reference {reference:?}");
    }
}

#[test]
fn resting_orders_at_the_marginal_price_go_first_then_the_batch_pro_rata() {
    // Asks: resting 4 lots at 100 (seq 1), then batch asks 6 and 3 lots at 100.
    let asks = stored(Side::Ask, vec![RestingOrder { price: 100, seq: 1, qty_lots: 4, ..Default::default() }]);
    let batch = [
        BatchOrder { side: Side::Bid, price: 100, qty_lots: 10 },
        BatchOrder { side: Side::Ask, price: 100, qty_lots: 6 },
        BatchOrder { side: Side::Ask, price: 100, qty_lots: 3 },
    ];
    let c = clear(&batch, &[], &asks, &Now::default(), None, tiebreak(0));
    assert_eq!((c.price, c.volume, c.ask_sweep), (100, 10, 4));
    // 6 lots left for 9 offered: 6*6/9 = 4, 6*3/9 = 2.
    assert_eq!(c.fills, vec![10, 4, 2]);
}

#[test]
fn nothing_crosses_nothing_trades() {
    let batch = [BatchOrder { side: Side::Bid, price: 99, qty_lots: 1 }];
    let asks = stored(Side::Ask, vec![RestingOrder { price: 100, seq: 1, qty_lots: 4, ..Default::default() }]);
    let c = clear(&batch, &[], &asks, &Now::default(), Some(100), tiebreak(0));
    assert_eq!(c, Clearing { fills: vec![0], ..Default::default() });
}
