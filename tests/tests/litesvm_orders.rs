//! Order types, matching edges, settlement and fees on LiteSVM, running the built
//! SBF program. Every step checks conservation: vault balances equal the traders'
//! balances plus fees (corrected for fills not yet consumed).
use solex_sdk::event_types::ReduceReason;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, SelfTradeMode, Side, SolexError};
use solex_tests::ledger::Ledger;
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

mod support;
use support::Env;

/// lot = 1_000 base atoms, tick = 10 quote atoms: a lot at price p costs p * 10 quote atoms.
fn args(maker_fee_bps: i16, taker_fee_bps: i16) -> CreateMarketArgs {
    CreateMarketArgs { maker_fee_bps, taker_fee_bps, ..market_args(3) }
}

fn limit(side: Side, price: u64, qty: u64) -> PlaceOrderArgs {
    PlaceOrderArgs::limit(side, price, qty, 0)
}

fn typed(order_type: OrderType, side: Side, price: u64, qty: u64) -> PlaceOrderArgs {
    PlaceOrderArgs { order_type, ..limit(side, price, qty) }
}

const FUNDS: u64 = 1 << 36;

#[test]
fn limit_order_takes_across_levels_then_rests_the_remainder() {
    let mut e = Env::new(args(0, 0), 2);
    e.placed(0, limit(Side::Ask, 100, 5));
    e.placed(0, limit(Side::Ask, 101, 5));
    e.placed(0, limit(Side::Ask, 105, 5));
    let taker = e.placed(1, PlaceOrderArgs::limit(Side::Bid, 101, 12, 77));
    assert_eq!((taker.filled_lots, taker.rested_lots, taker.fills.len()), (10, 2, 2));
    assert_eq!(taker.filled_quote, 5 * 100 * 10 + 5 * 101 * 10);
    assert_eq!((taker.fills[0].price, taker.fills[1].price), (100, 101));
    assert_eq!(taker.locked, 2 * 101 * 10);
    // Both price levels are exhausted; the remainder rests at the limit.
    assert_eq!(e.book_prices(Side::Ask), vec![(105, 5)]);
    assert_eq!(e.book_prices(Side::Bid), vec![(101, 2)]);
    // The taker is settled at once...
    let t = e.trader(1);
    assert_eq!(t.base_available, FUNDS + 10 * 1_000);
    assert_eq!(t.quote_available, FUNDS - 10_050 - 2_020);
    assert_eq!((t.quote_locked, t.open_orders), (2_020, 1));
    // ... the maker only when its fills are consumed.
    let before = e.trader(0);
    assert_eq!((before.base_locked, before.open_orders), (15_000, 3));
    e.consume_all();
    let after = e.trader(0);
    assert_eq!((after.base_locked, after.quote_available, after.open_orders), (5_000, FUNDS + 10_050, 1));
}

#[test]
fn partial_fills_keep_time_priority_and_exact_fills_free_the_slot() {
    let mut e = Env::new(args(0, 0), 3);
    let a = e.placed(0, limit(Side::Ask, 100, 10));
    let b = e.placed(1, limit(Side::Ask, 100, 10));
    let t1 = e.placed(2, typed(OrderType::ImmediateOrCancel, Side::Bid, 100, 4));
    assert_eq!(t1.fills[0].maker_order_id, a.order_id);
    assert_eq!(e.book_prices(Side::Ask), vec![(100, 6), (100, 10)]);
    let t2 = e.placed(2, typed(OrderType::ImmediateOrCancel, Side::Bid, 100, 10));
    assert_eq!(
        t2.fills.iter().map(|f| (f.maker_order_id, f.qty_lots)).collect::<Vec<_>>(),
        vec![(a.order_id, 6), (b.order_id, 4)]
    );
    assert_eq!(e.book_prices(Side::Ask), vec![(100, 6)]);
    e.consume_all();
    // A's order is done: its slot is free; B's is still open.
    assert_eq!((e.trader(0).open_orders, e.trader(1).open_orders), (0, 1));
    assert_eq!(e.trader(0).base_locked, 0);
}

#[test]
fn fees_round_in_the_exchanges_favour_and_telescope_for_makers() {
    // Maker pays 3 bps, taker 5 bps.
    let mut e = Env::new(args(3, 5), 2);
    // A bid of 3 lots at 7 ticks: notional 210, maker fee locked ceil(0.063) = 1.
    let bid = e.placed(0, limit(Side::Bid, 7, 3));
    assert_eq!(bid.locked, 211);
    // Three 1-lot sells: each pays a taker fee of ceil(70 * 5 / 10_000) = 1.
    for _ in 0..3 {
        let t = e.placed(1, typed(OrderType::ImmediateOrCancel, Side::Ask, 7, 1));
        assert_eq!((t.filled_quote, t.taker_fee), (70, 1));
    }
    // The maker's fee over its fills telescopes to exactly what it locked: 0, 0, 1.
    let q = fill_queue(&e.l, &e.m.keys.fill_queue);
    assert_eq!(q.pending().map(|f| f.maker_fee).collect::<Vec<_>>(), vec![0, 0, 1]);
    assert_eq!(market(&e.l, &e.m.keys.market).fees_accrued, 4);
    e.consume_all();
    let maker = e.trader(0);
    assert_eq!((maker.quote_locked, maker.quote_available, maker.base_available), (0, FUNDS - 211, FUNDS + 3_000));
    assert_eq!(e.trader(1).quote_available, FUNDS + 210 - 3);

    // A large fill: 1_000_003 lots at 1 tick = 10_000_030 notional; 5 bps = 5_000.015 -> 5_001.
    let mut e = Env::new(args(-2, 5), 2);
    e.placed(0, limit(Side::Ask, 1, 1_000_003));
    let t = e.placed(1, limit(Side::Bid, 1, 1_000_003));
    assert_eq!((t.filled_quote, t.taker_fee), (10_000_030, 5_001));
    // The maker's 2 bps rebate rounds down: 2_000.006 -> 2_000.
    assert_eq!(t.fills[0].maker_fee, -2_000);
    assert_eq!(market(&e.l, &e.m.keys.market).fees_accrued, 3_001);
    e.consume_all();
    assert_eq!(e.trader(0).quote_available, FUNDS + 10_000_030 + 2_000);
}

#[test]
fn post_only_rejects_or_slides() {
    let mut e = Env::new(args(0, 0), 2);
    e.placed(0, limit(Side::Ask, 100, 5));
    e.placed(0, limit(Side::Bid, 90, 5));
    let before = e.snapshot();
    assert_program_error(e.place(1, typed(OrderType::PostOnly, Side::Bid, 100, 1)), SolexError::WouldCross);
    assert_program_error(e.place(1, typed(OrderType::PostOnly, Side::Ask, 90, 1)), SolexError::WouldCross);
    before.assert_unchanged(&e.l);
    // Not crossing: rests as asked.
    assert_eq!(e.placed(1, typed(OrderType::PostOnly, Side::Bid, 95, 1)).price, 95);
    // Slides to one tick inside the best opposite order.
    let slid = e.placed(1, typed(OrderType::PostOnlySlide, Side::Bid, 150, 2));
    assert_eq!((slid.price, slid.filled_lots, slid.rested_lots, slid.locked), (99, 0, 2, 2 * 99 * 10));
    // The best bid is now the slid 99: an ask slides to 100.
    let slid = e.placed(1, typed(OrderType::PostOnlySlide, Side::Ask, 1, 2));
    assert_eq!(slid.price, 100);
    assert_eq!(e.book_prices(Side::Bid), vec![(99, 2), (95, 1), (90, 5)]);
    // No price below an ask at 1 tick.
    let mut e = Env::new(args(0, 0), 2);
    e.placed(0, limit(Side::Ask, 1, 5));
    assert_program_error(e.place(1, typed(OrderType::PostOnlySlide, Side::Bid, 3, 1)), SolexError::NoSlidePrice);
}

#[test]
fn immediate_or_cancel_fill_or_kill_and_market_orders() {
    let mut e = Env::new(args(0, 10), 2);
    e.placed(0, limit(Side::Ask, 100, 3));
    e.placed(0, limit(Side::Ask, 110, 3));
    // IOC takes what crosses at its limit; the rest is dropped, nothing locked.
    let ioc = e.placed(1, typed(OrderType::ImmediateOrCancel, Side::Bid, 100, 5));
    assert_eq!((ioc.filled_lots, ioc.rested_lots, ioc.locked), (3, 0, 0));
    assert_eq!(e.trader(1).quote_locked, 0);
    // FOK that cannot fill entirely fails and changes nothing.
    let before = e.snapshot();
    assert_program_error(e.place(1, typed(OrderType::FillOrKill, Side::Bid, 110, 4)), SolexError::WouldNotFill);
    before.assert_unchanged(&e.l);
    let fok = e.placed(1, typed(OrderType::FillOrKill, Side::Bid, 110, 3));
    assert_eq!(fok.filled_lots, 3);

    // Market orders: by base quantity with a worst price, or by quote budget.
    e.placed(0, limit(Side::Ask, 200, 10));
    e.placed(0, limit(Side::Ask, 300, 10));
    let m = e.placed(1, typed(OrderType::Market, Side::Bid, 250, 15));
    assert_eq!((m.filled_lots, m.rested_lots), (10, 0), "stops at the worst price");
    // A budget of 10_000 quote atoms, fees included: 3_000 per lot + 0.1% fee buys 3 lots
    // (9_000 + 9 fee); the 991 left over (dust below a lot) stays with the buyer.
    let by_quote = PlaceOrderArgs { max_quote_atoms: 10_000, ..typed(OrderType::Market, Side::Bid, 300, u64::MAX) };
    let before = e.trader(1).quote_available;
    let m = e.placed(1, by_quote);
    assert_eq!((m.filled_lots, m.filled_quote, m.taker_fee), (3, 9_000, 9));
    assert_eq!(before - e.trader(1).quote_available, 9_009);
    // A market sell for a quote amount.
    e.placed(0, limit(Side::Bid, 50, 10));
    let sell = PlaceOrderArgs { max_quote_atoms: 1_200, ..typed(OrderType::Market, Side::Ask, 1, u64::MAX) };
    assert_eq!(e.placed(1, sell).filled_lots, 2);
    assert_program_error(e.place(1, typed(OrderType::Market, Side::Bid, 300, u64::MAX)), SolexError::NoMarketSize);
}

#[test]
fn the_fill_limit_bounds_work_and_a_crossing_remainder_never_rests() {
    let mut e = Env::new(args(0, 0), 2);
    for _ in 0..5 {
        e.placed(0, limit(Side::Ask, 100, 1));
    }
    let t = e.placed(1, PlaceOrderArgs { max_fills: 2, ..limit(Side::Bid, 100, 5) });
    assert_eq!((t.filled_lots, t.rested_lots), (2, 0));
    assert_eq!(e.book_prices(Side::Ask).len(), 3);
    assert!(e.book_prices(Side::Bid).is_empty(), "the book never holds a crossed order");
    for bad in [0, 33] {
        assert_program_error(
            e.place(1, PlaceOrderArgs { max_fills: bad, ..limit(Side::Bid, 100, 1) }),
            SolexError::InvalidFillLimit,
        );
    }
}

#[test]
fn expired_orders_are_skipped_and_refunded_when_met() {
    let mut e = Env::new(args(0, 0), 2);
    let now = e.l.clock();
    let by_slot = e.placed(0, PlaceOrderArgs { expiry: Expiry::Slot(now.slot + 5), ..limit(Side::Ask, 100, 2) });
    let by_time =
        e.placed(0, PlaceOrderArgs { expiry: Expiry::UnixTime(now.unix_timestamp + 60), ..limit(Side::Ask, 101, 2) });
    e.placed(0, limit(Side::Ask, 102, 2));
    // Still valid: a 1-lot buy trades with the slot-limited order.
    assert_eq!(e.placed(1, typed(OrderType::ImmediateOrCancel, Side::Bid, 100, 1)).filled_lots, 1);
    e.l.set_clock(now.slot + 6, now.unix_timestamp + 61);
    let t = e.placed(1, typed(OrderType::ImmediateOrCancel, Side::Bid, 102, 3));
    assert_eq!(
        t.reduced.iter().map(|r| (r.order_id, r.reason)).collect::<Vec<_>>(),
        vec![(by_slot.order_id, ReduceReason::Expired), (by_time.order_id, ReduceReason::Expired)]
    );
    assert_eq!((t.filled_lots, t.fills[0].price), (2, 102));
    assert!(e.book_prices(Side::Ask).is_empty());
    e.consume_all();
    let maker = e.trader(0);
    assert_eq!((maker.base_locked, maker.open_orders), (0, 0), "expired orders unlocked and their slots freed");
    assert_eq!(maker.base_available, FUNDS - 3_000);
    // An order whose expiry already passed is refused.
    let past = PlaceOrderArgs { expiry: Expiry::Slot(now.slot), ..limit(Side::Ask, 100, 1) };
    assert_program_error(e.place(0, past), SolexError::OrderExpired);
}

#[test]
fn self_trade_prevention_modes() {
    let stp = |mode| PlaceOrderArgs { self_trade: mode, ..limit(Side::Bid, 100, 3) };
    // Cancel the resting order, then rest (nothing else crosses).
    let mut e = Env::new(args(0, 0), 1);
    e.placed(0, limit(Side::Ask, 100, 2));
    let t = e.placed(0, stp(SelfTradeMode::CancelResting));
    assert_eq!((t.filled_lots, t.rested_lots, t.reduced[0].qty_lots), (0, 3, 2));
    assert_eq!(t.reduced[0].reason, ReduceReason::SelfTrade);
    assert_eq!((e.trader(0).base_locked, e.trader(0).open_orders), (0, 1));
    // Cancel the taking order: the resting one stays, nothing rests.
    let mut e = Env::new(args(0, 0), 1);
    e.placed(0, limit(Side::Ask, 100, 2));
    let t = e.placed(0, stp(SelfTradeMode::CancelTaking));
    assert_eq!((t.filled_lots, t.rested_lots), (0, 0));
    assert_eq!(e.book_prices(Side::Ask), vec![(100, 2)]);
    // Decrement both by the overlap: the ask (2) is gone, the bid rests with 1.
    let mut e = Env::new(args(0, 0), 1);
    e.placed(0, limit(Side::Ask, 100, 2));
    let t = e.placed(0, stp(SelfTradeMode::DecrementBoth));
    assert_eq!((t.filled_lots, t.rested_lots), (0, 1));
    assert!(e.book_prices(Side::Ask).is_empty());
    assert_eq!((e.trader(0).base_locked, e.trader(0).quote_locked), (0, 1_000));
    // Abort: the whole instruction fails.
    let mut e = Env::new(args(0, 0), 1);
    e.placed(0, limit(Side::Ask, 100, 2));
    let before = e.snapshot();
    assert_program_error(e.place(0, stp(SelfTradeMode::Abort)), SolexError::SelfTrade);
    before.assert_unchanged(&e.l);
}

#[test]
fn cancel_by_client_id_cancel_all_and_atomic_replace() {
    let mut e = Env::new(args(0, 0), 1);
    let owner = e.w(0).pubkey();
    let k = e.m.keys;
    for (side, price, client) in [(Side::Bid, 90, 1), (Side::Bid, 91, 2), (Side::Ask, 110, 3), (Side::Ask, 111, 4)] {
        e.placed(0, PlaceOrderArgs::limit(side, price, 1, client));
    }
    let c = e.send_as(0, ix::cancel_by_client_id(owner, owner, &k, 2)).unwrap();
    assert!(matches!(&c.events[..], [SolexEvent::OrdersCancelled(x)] if x.orders[0].client_order_id == 2));
    assert_program_error(e.send_as(0, ix::cancel_by_client_id(owner, owner, &k, 2)), SolexError::ClientOrderNotFound);
    let c = e.send_as(0, ix::cancel_all(owner, owner, &k, Some(Side::Ask), 32)).unwrap();
    assert!(matches!(&c.events[..], [SolexEvent::OrdersCancelled(x)] if x.orders.len() == 2));
    assert_eq!((e.book_prices(Side::Ask), e.book_prices(Side::Bid)), (vec![], vec![(90, 1)]));

    // Replace: the old order goes and the new one rests, in one instruction.
    let old = book(&e.l, &k.bids).orders()[0].id();
    let r =
        e.send_as(0, ix::replace_order(owner, owner, &k, Side::Bid, old, PlaceOrderArgs::limit(Side::Bid, 95, 2, 5)));
    let r = r.unwrap();
    assert!(matches!(&r.events[..], [SolexEvent::OrdersCancelled(_), SolexEvent::OrderPlaced(p)] if p.price == 95));
    assert_eq!(e.book_prices(Side::Bid), vec![(95, 2)]);
    // A replacement that cannot be placed leaves the original in place.
    let current = book(&e.l, &k.bids).orders()[0].id();
    let before = e.snapshot();
    let too_big = PlaceOrderArgs::limit(Side::Bid, 95, u64::MAX / 1_000, 6);
    assert!(e.send_as(0, ix::replace_order(owner, owner, &k, Side::Bid, current, too_big)).is_err());
    before.assert_unchanged(&e.l);
    e.send_as(0, ix::cancel_all(owner, owner, &k, None, 32)).unwrap();
    assert_eq!(e.trader(0).open_orders, 0);
}

#[test]
fn open_order_bound_and_minimum_size() {
    let mut l = SvmLedger::new();
    let (m, _) = TestMarket::create(&mut l, CreateMarketArgs { min_order_lots: 5, ..market_args(4) });
    let w = Keypair::new();
    l.airdrop(&w.pubkey(), 1_000_000_000);
    for bad in [0, 257] {
        assert_program_error(
            l.send(&[ix::create_trader(w.pubkey(), w.pubkey(), m.keys.market, bad)], &[&w]),
            SolexError::InvalidMaxOrders,
        );
    }
    l.send(&[ix::create_trader(w.pubkey(), w.pubkey(), m.keys.market, 2)], &[&w]).unwrap();
    let wallet = Wallet {
        base: create_token_account(&mut l, &m.mint_authority, &m.keys.base_mint, &w.pubkey(), &m.mint_authority, 0),
        quote: create_token_account(
            &mut l,
            &m.mint_authority,
            &m.keys.quote_mint,
            &w.pubkey(),
            &m.mint_authority,
            1 << 30,
        ),
        keypair: w,
    };
    l.send(&[m.deposit_ix(&wallet, m.keys.quote_mint, 1 << 30)], &[&wallet.keypair]).unwrap();
    let place = |l: &mut SvmLedger, price, qty| {
        l.send(&[ix::place_order(wallet.pubkey(), &m.keys, limit(Side::Bid, price, qty))], &[&wallet.keypair])
    };
    assert_program_error(place(&mut l, 10, 4), SolexError::OrderTooSmall);
    place(&mut l, 10, 5).unwrap();
    place(&mut l, 11, 5).unwrap();
    assert_program_error(place(&mut l, 12, 5), SolexError::TooManyOpenOrders);
    m.assert_conserved(&l, &[&wallet]);
}

#[test]
fn a_full_book_side_refuses_the_next_order() {
    let mut e = Env::new(args(0, 0), 0);
    let capacity = solex_sdk::BOOK_CAPACITY;
    let per_wallet = 256;
    let mut wallets = vec![];
    for _ in 0..capacity / per_wallet {
        let w = Keypair::new();
        e.l.airdrop(&w.pubkey(), 1_000_000_000);
        e.l.send(&[ix::create_trader(w.pubkey(), w.pubkey(), e.m.keys.market, per_wallet as u16)], &[&w]).unwrap();
        let base = create_token_account(
            &mut e.l,
            &e.m.mint_authority,
            &e.m.keys.base_mint,
            &w.pubkey(),
            &e.m.mint_authority,
            1 << 30,
        );
        let quote = create_token_account(
            &mut e.l,
            &e.m.mint_authority,
            &e.m.keys.quote_mint,
            &w.pubkey(),
            &e.m.mint_authority,
            0,
        );
        let wallet = Wallet { keypair: w, base, quote };
        e.l.send(&[e.m.deposit_ix(&wallet, e.m.keys.base_mint, 1 << 30)], &[&wallet.keypair]).unwrap();
        wallets.push(wallet);
    }
    for i in 0..capacity {
        let w = &wallets[i / per_wallet];
        e.l.send(&[ix::place_order(w.pubkey(), &e.m.keys, limit(Side::Ask, 1_000 + i as u64 % 97, 1))], &[&w.keypair])
            .unwrap();
    }
    let extra = e.m.wallet(&mut e.l, 1 << 30, 0);
    e.l.send(&[e.m.deposit_ix(&extra, e.m.keys.base_mint, 1 << 20)], &[&extra.keypair]).unwrap();
    let before = Snapshot::take(&e.l, &[e.m.keys.asks, e.m.keys.market]);
    assert_program_error(
        e.l.send(&[ix::place_order(extra.pubkey(), &e.m.keys, limit(Side::Ask, 5_000, 1))], &[&extra.keypair]),
        SolexError::BookFull,
    );
    before.assert_unchanged(&e.l);
    assert_eq!(book(&e.l, &e.m.keys.asks).len as usize, capacity);
    // A taker still trades against the full side.
    let buyer = e.m.wallet(&mut e.l, 0, 1 << 30);
    e.l.send(&[e.m.deposit_ix(&buyer, e.m.keys.quote_mint, 1 << 30)], &[&buyer.keypair]).unwrap();
    let t = e.l.send(&[ix::place_order(buyer.pubkey(), &e.m.keys, limit(Side::Bid, 1_000, 100))], &[&buyer.keypair]);
    assert!(t.is_ok());
    let mut all: Vec<&Wallet> = wallets.iter().collect();
    all.extend([&extra, &buyer]);
    e.m.assert_conserved(&e.l, &all);
}

#[test]
fn u64_limits_overflow_cleanly() {
    let mut e = Env::new(CreateMarketArgs { base_lot_size: u64::MAX / 2, ..args(0, 0) }, 1);
    let before = e.snapshot();
    // Base atoms of 3 lots exceed u64.
    assert_program_error(e.place(0, limit(Side::Ask, 1, 3)), SolexError::Overflow);
    // Notional beyond u64.
    assert_program_error(e.place(0, limit(Side::Bid, u64::MAX, 2)), SolexError::NotionalTooLarge);
    before.assert_unchanged(&e.l);
}

#[test]
fn consume_events_is_ordered_permissionless_and_never_repeats() {
    let mut e = Env::new(args(0, 0), 3);
    let k = e.m.keys;
    e.placed(0, limit(Side::Ask, 100, 1));
    e.placed(1, limit(Side::Ask, 101, 1));
    e.placed(2, typed(OrderType::ImmediateOrCancel, Side::Bid, 101, 2));
    let (m0, m1) = (pda::trader(&k.market, &e.w(0).pubkey()), pda::trader(&k.market, &e.w(1).pubkey()));
    let crank = e.crank.insecure_clone();
    let before = e.snapshot();
    // The first event's maker missing: nothing to do.
    assert_program_error(e.l.send(&[ix::consume_events(&k, &[m1], 0, 8)], &[&crank]), SolexError::NothingToConsume);
    // A wrong expected head.
    assert_program_error(
        e.l.send(&[ix::consume_events(&k, &[m0, m1], 1, 8)], &[&crank]),
        SolexError::QueueHeadMismatch,
    );
    // Something that is not a trader account of this market.
    assert_program_error(
        e.l.send(&[ix::consume_events(&k, &[m0, k.market], 0, 8)], &[&crank]),
        SolexError::InvalidTraderAccount,
    );
    before.assert_unchanged(&e.l);
    // Only the first maker passed: stops after its event.
    let one = e.l.send(&[ix::consume_events(&k, &[m0], 0, 8)], &[&crank]).unwrap();
    assert!(
        matches!(&one.events[..], [SolexEvent::FillsConsumed(c)] if c.settled.len() == 1 && c.settled[0].fill_seq == 0)
    );
    e.check();
    // Replaying the same consume (a new transaction, same head) settles nothing twice.
    assert_program_error(e.l.send(&[ix::consume_events(&k, &[m0], 0, 8)], &[&crank]), SolexError::QueueHeadMismatch);
    e.l.send(&[ix::consume_events(&k, &[m1], 1, 8)], &[&crank]).unwrap();
    assert_eq!(fill_queue(&e.l, &k.fill_queue).count, 0);
    e.check();
    assert_program_error(e.l.send(&[ix::consume_events(&k, &[m1], 2, 8)], &[&crank]), SolexError::NothingToConsume);
}

#[test]
fn settle_funds_pays_only_the_owner_and_fees_are_swept_by_the_authority() {
    let mut e = Env::new(args(-1, 5), 2);
    let k = e.m.keys;
    e.placed(0, limit(Side::Ask, 1_000, 10));
    e.placed(1, limit(Side::Bid, 1_000, 10));
    e.consume_all();
    let crank = e.crank.insecure_clone();
    // Anyone may settle, but only to the owner's token accounts.
    let mut stolen = e.m.settle_ix(e.w(0));
    let thief_quote = e.w(1).quote;
    stolen.accounts[3].pubkey = thief_quote;
    assert_program_error(e.l.send(&[stolen], &[&crank]), SolexError::WrongTokenOwner);
    // A substituted vault (a token account of the right mint that is not the market's).
    let mut wrong_vault = e.m.settle_ix(e.w(0));
    wrong_vault.accounts[4].pubkey = e.w(1).base;
    assert_program_error(e.l.send(&[wrong_vault], &[&crank]), SolexError::WrongVault);
    let (base0, quote0) = (token_balance(&e.l, &e.w(0).base), token_balance(&e.l, &e.w(0).quote));
    let t = e.trader(0);
    let settle = e.m.settle_ix(e.w(0));
    let landed = e.l.send(std::slice::from_ref(&settle), &[&crank]).unwrap();
    assert!(
        matches!(&landed.events[..], [SolexEvent::FundsSettled(s)] if s.base_amount == t.base_available && s.quote_amount == t.quote_available)
    );
    assert_eq!(token_balance(&e.l, &e.w(0).base), base0 + t.base_available);
    assert_eq!(token_balance(&e.l, &e.w(0).quote), quote0 + t.quote_available);
    assert_program_error(e.l.send(&[settle], &[&crank]), SolexError::NothingToSettle);
    e.check();

    // 100_000 notional: taker 5 bps = 50, maker rebate 1 bp = 10: 40 accrued.
    let fees = market(&e.l, &k.market).fees_accrued;
    assert_eq!(fees, 40);
    let dest = e.w(1).quote;
    assert_program_error(
        e.l.send(&[ix::sweep_fees(crank.pubkey(), &k, dest, TOKEN_PROGRAM)], &[&crank]),
        SolexError::NotMarketAuthority,
    );
    let before = token_balance(&e.l, &dest);
    let auth = e.m.mint_authority.insecure_clone();
    let swept = e.l.send(&[ix::sweep_fees(auth.pubkey(), &k, dest, TOKEN_PROGRAM)], &[&auth]).unwrap();
    assert!(matches!(&swept.events[..], [SolexEvent::FeesSwept(s)] if s.amount == 40));
    assert_eq!(token_balance(&e.l, &dest), before + 40);
    assert_program_error(
        e.l.send(&[ix::sweep_fees(auth.pubkey(), &k, dest, TOKEN_PROGRAM)], &[&auth]),
        SolexError::NoFees,
    );
    e.check();
}

#[test]
fn accounts_of_another_market_are_refused() {
    let mut e = Env::new(args(0, 0), 1);
    let (other, _) = TestMarket::create(&mut e.l, market_args(9));
    let w2 = other.wallet(&mut e.l, 1 << 30, 1 << 30);
    let owner = e.w(0).pubkey();
    let before = e.snapshot();
    // The other market's fill queue.
    let mut ix1 = ix::place_order(owner, &e.m.keys, limit(Side::Bid, 10, 1));
    ix1.accounts[5].pubkey = other.keys.fill_queue;
    assert_program_error(e.send_as(0, ix1), SolexError::WrongFillQueue);
    // The other market's books.
    let mut ix2 = ix::place_order(owner, &e.m.keys, limit(Side::Bid, 10, 1));
    ix2.accounts[3].pubkey = other.keys.bids;
    assert_program_error(e.send_as(0, ix2), SolexError::WrongBook);
    // A trader account of the other market.
    let mut ix3 = ix::place_order(w2.pubkey(), &e.m.keys, limit(Side::Bid, 10, 1));
    ix3.accounts[2].pubkey = pda::trader(&other.keys.market, &w2.pubkey());
    assert_program_error(e.l.send(&[ix3], &[&w2.keypair]), SolexError::WrongMarket);
    // Settling one market's trader through the other market (whose vaults differ).
    let mut ix4 = e.m.settle_ix(e.w(0));
    ix4.accounts[0].pubkey = other.keys.market;
    assert_program_error(e.l.send(&[ix4], &[&e.crank.insecure_clone()]), SolexError::WrongVault);
    // Depositing into one market's trader account through the other market.
    let mut ix5 = e.m.deposit_ix(e.w(0), e.m.keys.base_mint, 1);
    ix5.accounts[1].pubkey = other.keys.market;
    assert_program_error(e.send_as(0, ix5), SolexError::WrongMarket);
    before.assert_unchanged(&e.l);
}

#[test]
fn paused_markets_still_settle_and_closed_markets_are_gone() {
    let mut e = Env::new(args(0, 5), 2);
    let k = e.m.keys;
    let auth = e.m.mint_authority.insecure_clone();
    e.placed(0, limit(Side::Ask, 100, 2));
    e.placed(1, limit(Side::Bid, 100, 1));
    e.l.send(&[ix::set_paused(auth.pubkey(), k.market, true)], &[&auth]).unwrap();
    assert_program_error(e.place(1, limit(Side::Bid, 100, 1)), SolexError::MarketPaused);
    let owner = e.w(1).pubkey();
    assert_program_error(
        e.send_as(1, ix::replace_order(owner, owner, &k, Side::Bid, 0, limit(Side::Bid, 100, 1))),
        SolexError::MarketPaused,
    );
    // Settlement and cancels go on while paused.
    e.consume_all();
    let maker = e.w(0).pubkey();
    e.send_as(0, ix::cancel_all(maker, maker, &k, None, 8)).unwrap();

    // Not empty yet: traders still hold funds.
    let dest = Keypair::new().pubkey();
    let leftovers = (e.wallets[0].base, e.wallets[0].quote);
    let close = ix::close_market(auth.pubkey(), dest, &k, leftovers, TOKEN_PROGRAM, TOKEN_PROGRAM);
    assert_program_error(e.l.send(std::slice::from_ref(&close), &[&auth]), SolexError::MarketNotEmpty);
    assert_program_error(e.send_as(0, ix::close_trader(maker, maker, k.market)), SolexError::TraderNotEmpty);
    // Everyone settles and closes; fees are swept; then the market closes.
    let crank = e.crank.insecure_clone();
    let mut rent_back = 0;
    for i in 0..2 {
        let settle = e.m.settle_ix(e.w(i));
        e.l.send(&[settle], &[&crank]).unwrap();
        let owner = e.w(i).pubkey();
        let trader = pda::trader(&k.market, &owner);
        let lamports = e.l.lamports(&owner) + e.l.lamports(&trader);
        let closed = e.l.send(&[ix::close_trader(owner, owner, k.market)], &[&e.wallets[i].keypair]).unwrap();
        assert!(matches!(&closed.events[..], [SolexEvent::TraderClosed(c)] if c.trader == trader));
        assert!(e.l.account_data(&trader).is_none());
        assert_eq!(e.l.lamports(&owner), lamports - 5_000, "rent back to the owner, less the fee");
        rent_back += 1;
    }
    assert_eq!(rent_back, 2);
    assert_program_error(e.l.send(std::slice::from_ref(&close), &[&auth]), SolexError::MarketNotEmpty);
    let fees_dest = create_token_account(&mut e.l, &auth, &k.quote_mint, &auth.pubkey(), &auth, 0);
    e.l.send(&[ix::sweep_fees(auth.pubkey(), &k, fees_dest, TOKEN_PROGRAM)], &[&auth]).unwrap();
    // Only the authority closes.
    let mut by_other = close.clone();
    by_other.accounts[0].pubkey = crank.pubkey();
    assert_program_error(e.l.send(&[by_other], &[&crank]), SolexError::NotMarketAuthority);
    let closed = e.l.send(&[close], &[&auth]).unwrap();
    assert!(matches!(&closed.events[..], [SolexEvent::MarketClosed(c)] if c.market == k.market));
    for key in [k.bids, k.asks, k.fill_queue, k.base_vault, k.quote_vault] {
        assert!(e.l.account_data(&key).is_none(), "{key} closed");
    }
    assert!(e.l.lamports(&dest) > 4_000_000_000, "the rent of books, queue and vaults returned");
    // The market stays as a closed tombstone: it accepts nothing and its address can
    // never be created again, so its event sequence never restarts.
    let market = market(&e.l, &k.market);
    assert_eq!((market.closed, market.paused), (1, 1));
    assert_program_error(
        e.l.send(&[ix::create_trader(crank.pubkey(), crank.pubkey(), k.market, 4)], &[&crank]),
        SolexError::MarketClosed,
    );
}

/// The largest events one instruction emits fit the program's 32 KiB heap, with
/// every balance they carry right: a taker that removes 32 expired orders, makes 32
/// fills and leaves a maker's remainder below the minimum (65 entries), and one
/// `consume_events` of 32 fills of 32 makers. (`emit_cpi!`'s growing buffer and two
/// copies of the event did not leave room for these.)
#[test]
fn the_largest_events_fit_the_heap() {
    let mut e = Env::with_slots(CreateMarketArgs { min_order_lots: 2, ..args(3, 5) }, 34, 32);
    let k = e.m.keys;
    e.l.set_clock(100, 1_000_000);
    for _ in 0..32 {
        e.placed(0, PlaceOrderArgs { expiry: Expiry::Slot(101), ..limit(Side::Ask, 100, 2) });
    }
    for maker in 1..=32 {
        e.placed(maker, limit(Side::Ask, 101, if maker == 32 { 3 } else { 2 }));
    }
    e.l.set_clock(102, 1_000_010);
    // 31 makers of 2 lots and 2 of the last one's 3: its 1 left is below the minimum.
    let t = e.placed(33, PlaceOrderArgs { max_fills: 32, ..limit(Side::Bid, 101, 64) });
    assert_eq!((t.fills.len(), t.reduced.len(), t.filled_lots, t.rested_lots), (32, 33, 64, 0));
    assert_eq!(t.fills.last().unwrap().remaining_lots, 1);
    let dust = t.reduced.last().unwrap();
    assert_eq!((dust.reason, dust.qty_lots, dust.remaining_lots), (ReduceReason::BelowMinimum, 1, 0));
    assert_eq!(t.balances, solex_sdk::event_types::Balances::of(&e.trader(33)));

    // The queue: 32 expired entries of one owner, then the 32 fills of 32 makers.
    let crank = e.crank.insecure_clone();
    let head = fill_queue(&e.l, &k.fill_queue).head_seq;
    let owner = pda::trader(&k.market, &e.w(0).pubkey());
    e.l.send(&[ix::consume_events(&k, &[owner], head, 32)], &[&crank]).expect("32 expired entries");
    let makers: Vec<_> = (1..=32).map(|i| pda::trader(&k.market, &e.w(i).pubkey())).collect();
    let landed = e.l.send(&[ix::consume_events(&k, &makers, head + 32, 32)], &[&crank]).expect("32 makers at once");
    let [SolexEvent::FillsConsumed(c)] = &landed.events[..] else { panic!("{:?}", landed.events) };
    assert_eq!(c.settled.len(), 32);
    assert_carried_balances(&e.l, &landed.events);
    e.check();
    assert_eq!(fill_queue(&e.l, &k.fill_queue).count, 0);
}
