//! What an adversary could do cheaply before the hardening (issue 14, each test
//! named for what it now proves), on LiteSVM with the built program. Every refusal
//! is a named error and changes nothing; conservation holds after every step.
use solex_sdk::event_types::ReduceReason;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, SelfTradeMode, Side, SolexError};
use solex_tests::ledger::Ledger;
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

mod support;
use spl_token_2022_interface::extension::ExtensionType;
use spl_token_2022_interface::instruction as token_ix;
use support::Env;

/// lot = 1_000 base atoms, tick = 10 quote atoms; no fees unless a test sets them.
fn args(min_order_lots: u64) -> CreateMarketArgs {
    CreateMarketArgs { min_order_lots, maker_fee_bps: 0, taker_fee_bps: 0, ..market_args(7) }
}

fn limit(side: Side, price: u64, qty: u64) -> PlaceOrderArgs {
    PlaceOrderArgs::limit(side, price, qty, 0)
}

fn typed(order_type: OrderType, side: Side, price: u64, qty: u64) -> PlaceOrderArgs {
    PlaceOrderArgs { order_type, max_fills: 32, ..limit(side, price, qty) }
}

trait Squatting {
    fn fill_bid_side(&mut self);
    fn owner_index(&self, trader: &solex_sdk::Pubkey) -> usize;
}

impl Squatting for Env {
    /// Fills the bid side with `BOOK_CAPACITY` one-lot bids from 16 squatters, at
    /// prices 904..=1_000: what squatting cost before eviction (fees and rent only).
    fn fill_bid_side(&mut self) {
        let per = 256;
        let squatters: Vec<usize> = (0..solex_sdk::BOOK_CAPACITY / per).map(|_| self.add_wallet(per as u16)).collect();
        for i in 0..solex_sdk::BOOK_CAPACITY {
            let w = &self.wallets[squatters[i / per]];
            let args = limit(Side::Bid, 1_000 - (i as u64 % 97), 1);
            self.l.send(&[ix::place_order(w.pubkey(), &self.m.keys, args)], &[&w.keypair]).unwrap();
        }
        assert_eq!(book(&self.l, &self.m.keys.bids).len as usize, solex_sdk::BOOK_CAPACITY);
    }

    fn owner_index(&self, trader: &solex_sdk::Pubkey) -> usize {
        self.wallets.iter().position(|w| pda::trader(&self.m.keys.market, &w.pubkey()) == *trader).unwrap()
    }
}

#[test]
fn a_full_side_takes_a_better_order_by_evicting_its_worst() {
    let mut e = Env::with_slots(args(0), 2, 256);
    e.fill_bid_side();
    let worst = *book(&e.l, &e.m.keys.bids).worst().unwrap();
    assert_eq!(worst.price, 904);
    let squatter = e.owner_index(&worst.trader);
    let locked_before = e.trader(squatter).quote_locked;

    // Before: a bid that partly fills and would rest failed whole with BookFull.
    // Now its remainder rests and the side's worst order goes.
    e.placed(0, limit(Side::Ask, 1_100, 1));
    let t = e.placed(1, limit(Side::Bid, 1_100, 3));
    assert_eq!((t.filled_lots, t.rested_lots), (1, 2));
    assert_eq!(t.reduced.len(), 1);
    let r = &t.reduced[0];
    assert_eq!((r.order_id, r.reason, r.qty_lots, r.unlocked), (worst.id(), ReduceReason::Evicted, 1, 9_040));
    let bids = book(&e.l, &e.m.keys.bids);
    assert_eq!(bids.len as usize, solex_sdk::BOOK_CAPACITY);
    assert!(bids.find(worst.id()).is_none() && bids.find(t.order_id).is_some());
    // The evicted owner's funds unlock through the queue, like an expired order's.
    e.consume_all();
    assert_eq!(e.trader(squatter).quote_locked, locked_before - 9_040);

    // No better than the worst: refused, nothing changed.
    let before = e.snapshot();
    assert_program_error(e.place(0, typed(OrderType::PostOnly, Side::Bid, 904, 1)), SolexError::BookFull);
    assert_program_error(e.place(0, limit(Side::Bid, 900, 1)), SolexError::BookFull);
    before.assert_unchanged(&e.l);
    // To keep a side, a squatter must now out-quote everyone, with real funds at risk.
    let better = e.placed(0, typed(OrderType::PostOnly, Side::Bid, 905, 1));
    assert_eq!(better.reduced[0].reason, ReduceReason::Evicted);
    e.consume_all();
}

#[test]
fn an_order_whose_notional_cannot_be_taken_never_rests() {
    // quote_tick_size 1 so the price alone carries the notional; a 4 bps taker fee.
    let mut e = Env::with_slots(CreateMarketArgs { quote_tick_size: 1, taker_fee_bps: 4, ..args(0) }, 3, 256);
    let before = e.snapshot();
    // Before the fix this ask rested and every bid reaching it failed with Overflow.
    assert_program_error(e.place(0, limit(Side::Ask, 1 << 63, 2)), SolexError::NotionalTooLarge);
    // One lot at u64::MAX fits, but not with the taker's fee on top.
    assert_program_error(e.place(0, limit(Side::Ask, u64::MAX, 1)), SolexError::NotionalTooLarge);
    before.assert_unchanged(&e.l);
    // An ask at the largest takeable price rests, and "buy at any price" takes it
    // when it can pay, or fails for want of funds, never with Overflow.
    e.placed(1, limit(Side::Ask, 100, 3));
    let any_price =
        PlaceOrderArgs { max_quote_atoms: u64::MAX, ..typed(OrderType::ImmediateOrCancel, Side::Bid, u64::MAX, 3) };
    let t = e.placed(2, any_price);
    assert_eq!((t.filled_lots, t.filled_quote, t.taker_fee), (3, 300, 1));
    e.consume_all();
}

#[test]
fn expired_orders_no_longer_use_up_a_takers_fill_limit_and_can_be_pruned() {
    let mut e = Env::with_slots(args(0), 3, 256);
    let k = e.m.keys;
    e.l.set_clock(100, 1_000_000);
    // 40 asks that expire at slot 101, at better prices than the live ask.
    for i in 0..40 {
        e.placed(0, PlaceOrderArgs { expiry: Expiry::Slot(101), ..limit(Side::Ask, 100 + i % 4, 1) });
    }
    e.placed(1, limit(Side::Ask, 110, 5));
    e.l.set_clock(102, 1_000_010);
    // A taker with a fill limit of 2 meets 32 expired orders (removed) and still trades.
    let t = e.placed(2, PlaceOrderArgs { max_fills: 2, ..typed(OrderType::ImmediateOrCancel, Side::Bid, 110, 2) });
    assert_eq!(t.reduced.len(), 32);
    assert!(t.reduced.iter().all(|r| r.reason == ReduceReason::Expired && r.unlocked == 1_000));
    assert_eq!(t.filled_lots, 0, "32 expired orders is the most one taker removes; the live ask is behind 8 more");
    let t = e.placed(2, PlaceOrderArgs { max_fills: 2, ..typed(OrderType::ImmediateOrCancel, Side::Bid, 110, 2) });
    assert_eq!((t.reduced.len(), t.filled_lots), (8, 2));
    e.consume_all();

    // Anyone prunes expired orders anywhere in a side, without trading.
    e.l.set_clock(200, 1_000_100);
    for i in 0..5 {
        e.placed(0, PlaceOrderArgs { expiry: Expiry::Slot(201), ..limit(Side::Ask, 120 + i, 1) });
    }
    e.placed(1, limit(Side::Ask, 119, 1));
    let crank = e.crank.insecure_clone();
    let before = e.snapshot();
    assert_program_error(e.l.send(&[ix::prune_expired(&k, Side::Ask, 8)], &[&crank]), SolexError::NothingToPrune);
    before.assert_unchanged(&e.l);
    e.l.set_clock(202, 1_000_110);
    let locked = e.trader(0).base_locked;
    let pruned = e.l.send(&[ix::prune_expired(&k, Side::Ask, 3)], &[&crank]).unwrap();
    let [SolexEvent::OrdersPruned(p)] = &pruned.events[..] else { panic!("{:?}", pruned.events) };
    assert_eq!((p.side, p.orders.len()), (Side::Ask, 3));
    e.l.send(&[ix::prune_expired(&k, Side::Ask, 32)], &[&crank]).unwrap();
    let asks = book(&e.l, &k.asks);
    let prices: Vec<u64> = asks.orders().iter().map(|o| o.price).collect();
    assert_eq!(prices, vec![119, 110], "live orders stay, in order (worst first)");
    e.consume_all();
    assert_eq!(e.trader(0).base_locked, locked - 5_000);
    assert_eq!(e.trader(0).open_orders, 0);
}

#[test]
fn remainders_below_the_minimum_size_never_rest() {
    let mut e = Env::with_slots(args(5), 3, 256);
    let k = e.m.keys;
    // A maker's remainder after a partial fill: 10 - 7 = 3 < 5 leaves the book.
    let maker = e.placed(0, limit(Side::Ask, 100, 10));
    let t = e.placed(1, typed(OrderType::ImmediateOrCancel, Side::Bid, 100, 7));
    assert_eq!(t.filled_lots, 7);
    assert!(
        matches!(&t.reduced[..], [r] if r.reason == ReduceReason::BelowMinimum && r.qty_lots == 3 && r.order_id == maker.order_id && r.unlocked == 3_000)
    );
    assert!(book(&e.l, &k.asks).find(maker.order_id).is_none());
    e.consume_all();
    assert_eq!((e.trader(0).base_locked, e.trader(0).open_orders), (0, 0));

    // A taker's remainder: 8 lots, 6 fill, 2 would rest: cancelled instead.
    e.placed(0, limit(Side::Ask, 100, 6));
    let t = e.placed(1, limit(Side::Bid, 100, 8));
    assert_eq!((t.filled_lots, t.rested_lots), (6, 0));
    assert_eq!(book(&e.l, &k.bids).len, 0);

    // A decrement-both self-trade that would leave dust takes the dust too.
    let own = e.placed(2, limit(Side::Ask, 100, 7));
    let t = e.placed(
        2,
        PlaceOrderArgs {
            self_trade: SelfTradeMode::DecrementBoth,
            ..typed(OrderType::ImmediateOrCancel, Side::Bid, 100, 5)
        },
    );
    assert!(
        matches!(&t.reduced[..], [r] if r.reason == ReduceReason::SelfTrade && r.qty_lots == 7 && r.order_id == own.order_id)
    );
    assert_eq!((e.trader(2).base_locked, e.trader(2).open_orders), (0, 0));
    e.consume_all();
}

#[test]
fn a_full_fill_queue_stops_takers_with_a_named_error_not_midway() {
    let mut e = Env::with_slots(args(0), 5, 256);
    let k = e.m.keys;
    // 512 one-lot asks (two makers of 256 slots) taken by 16 takers of 32 fills:
    // the queue is full until someone consumes.
    for maker in [0, 1] {
        for i in 0..256 {
            e.placed(maker, limit(Side::Ask, 100 + i % 3, 1));
        }
        for _ in 0..8 {
            e.placed(2, typed(OrderType::ImmediateOrCancel, Side::Bid, 200, 32));
        }
    }
    assert!(fill_queue(&e.l, &k.fill_queue).is_full());
    e.placed(3, limit(Side::Ask, 100, 4));
    let before = e.snapshot();
    assert_program_error(e.place(4, typed(OrderType::ImmediateOrCancel, Side::Bid, 200, 4)), SolexError::FillQueueFull);
    before.assert_unchanged(&e.l);
    // Resting without crossing still works; a consume in the same transaction makes room.
    e.placed(4, limit(Side::Bid, 50, 1));
    let consume = e.m.next_consume_ix(&e.l).unwrap();
    let owner = e.wallets[4].pubkey();
    let kp = e.wallets[4].keypair.insecure_clone();
    let take = ix::place_order(owner, &k, typed(OrderType::ImmediateOrCancel, Side::Bid, 200, 4));
    let landed = e.l.send(&[consume, take], &[&kp]).unwrap();
    assert!(landed.events.iter().any(|ev| matches!(ev, SolexEvent::OrderPlaced(p) if p.filled_lots == 4)));
    e.consume_all();
}

#[test]
fn a_delegate_cannot_move_its_owners_funds_to_itself() {
    let mut e = Env::with_slots(args(0), 2, 256);
    let k = e.m.keys;
    let (alice, mallory) = (e.wallets[0].pubkey(), e.wallets[1].pubkey());
    let mallory_kp = e.wallets[1].keypair.insecure_clone();
    // Alice lets Mallory quote for her: bids up to 100, asks from 110.
    e.send_as(0, ix::set_delegate(alice, k.market, Some((mallory, 100, 110)))).unwrap();
    let as_mallory = |e: &mut Env, args: PlaceOrderArgs| {
        let r = e.l.send(&[ix::place_order_as(mallory, alice, &k, args)], &[&mallory_kp]);
        e.check();
        r
    };
    // The old drain: Mallory rests an ask of Alice's at a give-away price, or makes
    // Alice take Mallory's own absurd ask.
    e.placed(1, limit(Side::Ask, 1_000_000, 1));
    let before_taking = e.snapshot();
    assert_program_error(as_mallory(&mut e, limit(Side::Bid, 1_000_000, 1)), SolexError::DelegatePostOnly);
    assert_program_error(
        as_mallory(&mut e, typed(OrderType::ImmediateOrCancel, Side::Bid, 1_000_000, 1)),
        SolexError::DelegatePostOnly,
    );
    assert_program_error(
        as_mallory(&mut e, typed(OrderType::PostOnly, Side::Ask, 1, 1)),
        SolexError::DelegatePriceBand,
    );
    assert_program_error(
        as_mallory(&mut e, typed(OrderType::PostOnly, Side::Bid, 101, 1)),
        SolexError::DelegatePriceBand,
    );
    before_taking.assert_unchanged(&e.l);
    // Inside the band, post-only, it quotes for Alice.
    let placed = as_mallory(&mut e, typed(OrderType::PostOnly, Side::Bid, 100, 1)).unwrap();
    assert!(matches!(&placed.events[..], [SolexEvent::OrderPlaced(p)] if p.trader == pda::trader(&k.market, &alice)));
    // An inverted band is refused.
    assert_program_error(
        e.send_as(0, ix::set_delegate(alice, k.market, Some((mallory, 111, 110)))),
        SolexError::InvalidDelegateBand,
    );
}

#[test]
fn cancel_by_client_id_picks_the_order_still_on_the_book() {
    let mut e = Env::with_slots(args(0), 2, 256);
    let owner = e.wallets[0].pubkey();
    let k = e.m.keys;
    // Client id 7 twice: the first is filled but not yet consumed (its slot stays used).
    e.placed(0, PlaceOrderArgs::limit(Side::Ask, 100, 1, 7));
    e.placed(1, typed(OrderType::ImmediateOrCancel, Side::Bid, 100, 1));
    let live = e.placed(0, PlaceOrderArgs::limit(Side::Ask, 105, 1, 7));
    let landed = e.send_as(0, ix::cancel_by_client_id(owner, owner, &k, 7)).unwrap();
    assert!(matches!(&landed.events[..], [SolexEvent::OrdersCancelled(c)] if c.orders[0].order_id == live.order_id));
    e.consume_all();
}

#[test]
fn expiries_that_cannot_be_stored_as_given_are_refused() {
    let mut e = Env::with_slots(args(0), 1, 256);
    let before = e.snapshot();
    for expiry in [Expiry::Slot((1 << 63) + 5_000_000), Expiry::Slot(0), Expiry::UnixTime(-1), Expiry::UnixTime(0)] {
        assert_program_error(
            e.place(0, PlaceOrderArgs { expiry, ..limit(Side::Bid, 90, 1) }),
            SolexError::InvalidExpiry,
        );
    }
    before.assert_unchanged(&e.l);
}

#[test]
fn donations_and_strangers_cannot_keep_a_market_from_closing_and_it_is_never_recreated() {
    let mut e = Env::with_slots(args(0), 0, 256);
    let k = e.m.keys;
    let auth = e.m.mint_authority.insecure_clone();
    // A stranger opens an empty trader account and donates one atom to each vault.
    let stranger = e.add_wallet(1);
    let (s_key, s_kp) = (e.wallets[stranger].pubkey(), e.wallets[stranger].keypair.insecure_clone());
    e.l.send(&[e.m.withdraw_ix(&e.wallets[stranger], k.base_mint, 1 << 36)], &[&s_kp]).unwrap();
    e.l.send(&[e.m.withdraw_ix(&e.wallets[stranger], k.quote_mint, 1 << 36)], &[&s_kp]).unwrap();
    for (from, vault) in [(e.wallets[stranger].base, k.base_vault), (e.wallets[stranger].quote, k.quote_vault)] {
        let t = spl_token_interface::instruction::transfer(&TOKEN_PROGRAM, &from, &vault, &s_key, &[], 1).unwrap();
        e.l.send(&[t], &[&s_kp]).unwrap();
    }
    let leftovers = (
        create_token_account(&mut e.l, &auth, &k.base_mint, &auth.pubkey(), &auth, 0),
        create_token_account(&mut e.l, &auth, &k.quote_mint, &auth.pubkey(), &auth, 0),
    );
    let close = ix::close_market(auth.pubkey(), auth.pubkey(), &k, leftovers, TOKEN_PROGRAM, TOKEN_PROGRAM);
    assert_program_error(e.l.send(std::slice::from_ref(&close), &[&auth]), SolexError::MarketNotEmpty);
    // The authority may close an empty account of someone else only while paused.
    let by_authority = ix::close_trader(auth.pubkey(), s_key, k.market);
    assert_program_error(e.l.send(std::slice::from_ref(&by_authority), &[&auth]), SolexError::NotOwner);
    e.l.send(&[ix::set_paused(auth.pubkey(), k.market, true)], &[&auth]).unwrap();
    let rent_before = e.l.lamports(&s_key);
    e.l.send(&[by_authority], &[&auth]).unwrap();
    assert!(e.l.lamports(&s_key) > rent_before, "the rent goes to the account's owner");
    // The donations go to the authority's accounts; the market closes.
    e.l.send(&[close], &[&auth]).unwrap();
    assert_eq!((token_balance(&e.l, &leftovers.0), token_balance(&e.l, &leftovers.1)), (1, 1));
    assert_eq!(market(&e.l, &k.market).closed, 1);
    let before = Snapshot::take(&e.l, &[k.market]);
    assert_program_error(
        e.l.send(&[ix::set_paused(auth.pubkey(), k.market, false)], &[&auth]),
        SolexError::MarketClosed,
    );
    before.assert_unchanged(&e.l);
    // The same market can never be created again, so its sequence never restarts at 1.
    let (_, [bids, asks, queue], ixs) =
        create_market_ixs(&e.l, &auth, &auth.pubkey(), k.base_mint, k.quote_mint, args(0));
    assert!(e.l.send(&ixs, &[&auth, &bids, &asks, &queue]).is_err());
}

/// A Token-2022 mint with the given extensions, initialised by `init` before the mint itself.
fn mint_2022(
    l: &mut SvmLedger,
    payer: &Keypair,
    extensions: &[ExtensionType],
    init: impl Fn(&solex_sdk::Pubkey) -> Vec<solex_sdk::Instruction>,
) -> solex_sdk::Pubkey {
    let mint = Keypair::new();
    let len = ExtensionType::try_calculate_account_len::<spl_token_2022_interface::state::Mint>(extensions).unwrap();
    let mut ixs = vec![create_account_ix(l, &payer.pubkey(), &mint.pubkey(), len, &TOKEN_2022_PROGRAM)];
    ixs.extend(init(&mint.pubkey()));
    ixs.push(token_ix::initialize_mint2(&TOKEN_2022_PROGRAM, &mint.pubkey(), &payer.pubkey(), None, 6).unwrap());
    l.send(&ixs, &[payer, &mint]).expect("create Token-2022 mint");
    mint.pubkey()
}

#[test]
fn mints_whose_extensions_could_empty_or_freeze_a_vault_are_refused() {
    let mut l = SvmLedger::new();
    let payer = Keypair::new();
    l.airdrop(&payer.pubkey(), 100_000_000_000);
    let quote = create_mint(&mut l, &payer, 6);
    let p = payer.pubkey();
    let fee = mint_2022(&mut l, &payer, &[ExtensionType::TransferFeeConfig], |m| {
        vec![spl_token_2022_interface::extension::transfer_fee::instruction::initialize_transfer_fee_config(
            &TOKEN_2022_PROGRAM,
            m,
            Some(&p),
            Some(&p),
            100,
            u64::MAX,
        )
        .unwrap()]
    });
    let delegate = mint_2022(&mut l, &payer, &[ExtensionType::PermanentDelegate], |m| {
        vec![token_ix::initialize_permanent_delegate(&TOKEN_2022_PROGRAM, m, &p).unwrap()]
    });
    let closable = mint_2022(&mut l, &payer, &[ExtensionType::MintCloseAuthority], |m| {
        vec![token_ix::initialize_mint_close_authority(&TOKEN_2022_PROGRAM, m, Some(&p)).unwrap()]
    });
    for (i, base) in [fee, delegate, closable].into_iter().enumerate() {
        let (_, [b, a, q], ixs) = create_market_ixs(&l, &payer, &p, base, quote, market_args(i as u64));
        let r = l.send(&ixs, &[&payer, &b, &a, &q]);
        assert_program_error(r, SolexError::UnsupportedMintExtension);
        // Quote side too.
        let (_, [b, a, q], ixs) = create_market_ixs(&l, &payer, &p, quote, base, market_args(10 + i as u64));
        assert_program_error(l.send(&ixs, &[&payer, &b, &a, &q]), SolexError::UnsupportedMintExtension);
    }
    // Metadata is fine.
    let with_metadata = mint_2022(&mut l, &payer, &[ExtensionType::MetadataPointer], |m| {
        vec![spl_token_2022_interface::extension::metadata_pointer::instruction::initialize(
            &TOKEN_2022_PROGRAM,
            m,
            Some(p),
            Some(*m),
        )
        .unwrap()]
    });
    let (_, [b, a, q], ixs) = create_market_ixs(&l, &payer, &p, with_metadata, quote, market_args(20));
    l.send(&ixs, &[&payer, &b, &a, &q]).expect("a mint with a metadata pointer is accepted");
}
