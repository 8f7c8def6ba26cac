//! Every Solex instruction on LiteSVM, running the built SBF program.
use anchor_lang::prelude::Pubkey;
use solex_sdk::errors::describe;
use solex_sdk::event_types::Balances;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{order_id, CreateMarketArgs, OrderType, PlaceOrderArgs, Side, SolexError};
use solex_tests::ledger::Ledger;
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

const ARGS: CreateMarketArgs = CreateMarketArgs {
    market_id: 7,
    base_lot_size: 1_000_000,
    quote_tick_size: 10,
    min_order_lots: 0,
    maker_fee_bps: 0,
    taker_fee_bps: 0,
};

fn setup() -> (SvmLedger, TestMarket, Wallet, Wallet) {
    let mut l = SvmLedger::new();
    let (m, _) = TestMarket::create(&mut l, ARGS);
    let alice = m.wallet(&mut l, 1_000_000_000_000, 1_000_000_000_000);
    let bob = m.wallet(&mut l, 1_000_000_000_000, 1_000_000_000_000);
    (l, m, alice, bob)
}

fn order(side: Side, price: u64, qty_lots: u64, client_order_id: u64) -> PlaceOrderArgs {
    PlaceOrderArgs::limit(side, price, qty_lots, client_order_id)
}

fn state_keys(m: &TestMarket, wallets: &[&Wallet]) -> Vec<Pubkey> {
    let k = &m.keys;
    let mut keys = vec![k.market, k.bids, k.asks, k.fill_queue, k.base_vault, k.quote_vault];
    for w in wallets {
        keys.extend([solex_sdk::pda::trader(&k.market, &w.pubkey()), w.base, w.quote]);
    }
    keys
}

#[test]
fn create_market_initialises_market_books_and_vaults() {
    let mut l = SvmLedger::new();
    let (m, landed) = TestMarket::create(&mut l, ARGS);
    let market = market(&l, &m.keys.market);
    assert_eq!(market.base_mint, m.keys.base_mint);
    assert_eq!(market.quote_mint, m.keys.quote_mint);
    assert_eq!(market.base_vault, m.keys.base_vault);
    assert_eq!(market.bids, m.keys.bids);
    assert_eq!((market.base_lot_size, market.quote_tick_size, market.market_id), (1_000_000, 10, 7));
    assert_eq!((market.base_decimals, market.quote_decimals), (9, 6));
    assert_eq!(market.event_seq, 1);
    assert_eq!(token_balance(&l, &m.keys.base_vault), 0);
    let (bids, asks) = (book(&l, &m.keys.bids), book(&l, &m.keys.asks));
    assert_eq!((bids.market, bids.side, bids.len), (m.keys.market, Side::Bid as u8, 0));
    assert_eq!((asks.market, asks.side, asks.len), (m.keys.market, Side::Ask as u8, 0));
    match &landed.events[..] {
        [SolexEvent::MarketCreated(e)] => {
            assert_eq!((e.market, e.seq, e.base_lot_size, e.quote_tick_size), (m.keys.market, 1, 1_000_000, 10));
        }
        other => panic!("expected one MarketCreated event, got {other:?}"),
    }
}

#[test]
fn create_market_rejects_bad_parameters_and_changes_nothing() {
    let mut l = SvmLedger::new();
    let payer = Keypair::new();
    l.airdrop(&payer.pubkey(), 100_000_000_000);
    let base = create_mint(&mut l, &payer, 9);
    let quote = create_mint(&mut l, &payer, 6);
    let cases = [
        (base, quote, CreateMarketArgs { base_lot_size: 0, ..ARGS }, SolexError::InvalidLotSize),
        (base, quote, CreateMarketArgs { quote_tick_size: 0, ..ARGS }, SolexError::InvalidLotSize),
        (base, base, ARGS, SolexError::SameMint),
        (base, quote, CreateMarketArgs { taker_fee_bps: -1, ..ARGS }, SolexError::InvalidFees),
        (base, quote, CreateMarketArgs { taker_fee_bps: 1_001, ..ARGS }, SolexError::InvalidFees),
        (base, quote, CreateMarketArgs { maker_fee_bps: 1_001, ..ARGS }, SolexError::InvalidFees),
        // A rebate larger than the taker fee would pay out more than it takes in.
        (base, quote, CreateMarketArgs { maker_fee_bps: -6, taker_fee_bps: 5, ..ARGS }, SolexError::InvalidFees),
    ];
    for (b, q, args, expected) in cases {
        let (keys, [bids, asks, queue], ixs) = create_market_ixs(&l, &payer, &payer.pubkey(), b, q, args);
        // (The payer's lamports do change: a failed transaction still pays its fee.)
        let before = Snapshot::take(&l, &[keys.market, keys.bids, keys.asks, keys.fill_queue, keys.base_vault]);
        assert_program_error(l.send(&ixs, &[&payer, &bids, &asks, &queue]), expected);
        before.assert_unchanged(&l);
        assert!(l.account_data(&keys.market).is_none());
    }
    // The same book account for both sides.
    let (mut keys, [bids, _asks, queue], mut ixs) = create_market_ixs(&l, &payer, &payer.pubkey(), base, quote, ARGS);
    keys.asks = keys.bids;
    ixs.remove(1);
    *ixs.last_mut().unwrap() =
        ix::create_market(payer.pubkey(), payer.pubkey(), &keys, TOKEN_PROGRAM, TOKEN_PROGRAM, ARGS);
    assert!(l.send(&ixs, &[&payer, &bids, &queue]).is_err(), "one account as both book sides must be rejected");
    assert!(l.account_data(&keys.market).is_none());
    // A book account smaller than BookSide::LEN: Anchor's AccountDidNotDeserialize (3003).
    let (keys, [bids, asks, queue], mut ixs) = create_market_ixs(&l, &payer, &payer.pubkey(), base, quote, ARGS);
    ixs[0] = create_account_ix(&l, &payer.pubkey(), &bids.pubkey(), solex_sdk::BookSide::LEN - 8, &solex::ID);
    let rejected = l.send(&ixs, &[&payer, &bids, &asks, &queue]).expect_err("undersized book must be rejected");
    assert_eq!(rejected.custom_code, Some(3003), "{}", rejected.error);
    assert!(l.account_data(&keys.market).is_none());
    // A market id can be used once per pair.
    create_market(&mut l, &payer, base, quote, ARGS);
    let (_, [bids, asks, queue], ixs) = create_market_ixs(&l, &payer, &payer.pubkey(), base, quote, ARGS);
    assert!(
        l.send(&ixs, &[&payer, &bids, &asks, &queue]).is_err(),
        "a second market with the same id must be rejected"
    );
}

#[test]
fn deposit_and_withdraw_move_tokens_and_available_balance() {
    let (mut l, m, alice, _) = setup();
    let k = m.keys;
    let landed = l.send(&[m.deposit_ix(&alice, k.base_mint, 5_000_000_000)], &[&alice.keypair]).unwrap();
    let quote_landed = l.send(&[m.deposit_ix(&alice, k.quote_mint, 7_000_000)], &[&alice.keypair]).unwrap();
    let t = trader_account(&l, &k.market, &alice.pubkey());
    assert_eq!((t.base_available, t.quote_available, t.base_locked, t.quote_locked), (5_000_000_000, 7_000_000, 0, 0));
    assert_eq!(token_balance(&l, &k.base_vault), 5_000_000_000);
    assert_eq!(token_balance(&l, &alice.base), 1_000_000_000_000 - 5_000_000_000);
    match (&landed.events[..], &quote_landed.events[..]) {
        ([SolexEvent::Deposited(a)], [SolexEvent::Deposited(b)]) => {
            assert_eq!((a.mint, a.amount, a.balances.base_available), (k.base_mint, 5_000_000_000, 5_000_000_000));
            assert_eq!(b.seq, a.seq + 1, "sequence numbers are consecutive");
            // Each event carries the account's balances after it.
            let after_b = Balances { base_available: 5_000_000_000, quote_available: 7_000_000, ..Default::default() };
            assert_eq!((a.balances.quote_available, b.balances), (0, after_b));
        }
        other => panic!("expected Deposited events, got {other:?}"),
    }

    let w = l.send(&[m.withdraw_ix(&alice, k.base_mint, 2_000_000_000)], &[&alice.keypair]).unwrap();
    let t = trader_account(&l, &k.market, &alice.pubkey());
    assert_eq!(t.base_available, 3_000_000_000);
    assert_eq!(token_balance(&l, &k.base_vault), 3_000_000_000);
    assert_eq!(token_balance(&l, &alice.base), 1_000_000_000_000 - 3_000_000_000);
    assert!(
        matches!(&w.events[..], [SolexEvent::Withdrawn(e)] if e.amount == 2_000_000_000 && e.balances.base_available == 3_000_000_000)
    );
    m.assert_conserved(&l, &[&alice]);
}

#[test]
fn deposit_and_withdraw_reject_bad_input_and_change_nothing() {
    let (mut l, m, alice, bob) = setup();
    let k = m.keys;
    l.send(&[m.deposit_ix(&alice, k.base_mint, 1_000)], &[&alice.keypair]).unwrap();
    let before = Snapshot::take(&l, &state_keys(&m, &[&alice, &bob]));

    assert_program_error(l.send(&[m.deposit_ix(&alice, k.base_mint, 0)], &[&alice.keypair]), SolexError::ZeroAmount);
    assert_program_error(l.send(&[m.withdraw_ix(&alice, k.base_mint, 0)], &[&alice.keypair]), SolexError::ZeroAmount);
    assert_program_error(
        l.send(&[m.withdraw_ix(&alice, k.base_mint, 1_001)], &[&alice.keypair]),
        SolexError::InsufficientFunds,
    );
    assert_program_error(
        l.send(&[m.withdraw_ix(&alice, k.quote_mint, 1)], &[&alice.keypair]),
        SolexError::InsufficientFunds,
    );

    // A mint that is not the market's, with a token account of it.
    let other_mint = create_mint(&mut l, &m.mint_authority, 6);
    let other = create_token_account(&mut l, &m.mint_authority, &other_mint, &alice.pubkey(), &m.mint_authority, 1_000);
    let mut wrong = ix::deposit(alice.pubkey(), &k, other, other_mint, TOKEN_PROGRAM, 10);
    wrong.accounts[4].pubkey = k.base_vault;
    assert_program_error(l.send(&[wrong], &[&alice.keypair]), SolexError::WrongMint);

    // The quote vault named for a base deposit.
    let mut wrong = m.deposit_ix(&alice, k.base_mint, 10);
    wrong.accounts[4].pubkey = k.quote_vault;
    assert!(l.send(&[wrong], &[&alice.keypair]).is_err(), "quote vault with the base mint must be rejected");
    let mut wrong = m.withdraw_ix(&alice, k.base_mint, 10);
    wrong.accounts[4] = anchor_lang::solana_program::instruction::AccountMeta::new(alice.quote, false);
    assert!(l.send(&[wrong], &[&alice.keypair]).is_err(), "a wallet as the vault must be rejected");

    // Bob signs for Alice's trader account (withdrawing to his own wallet).
    let mut steal = m.withdraw_ix(&bob, k.base_mint, 1_000);
    steal.accounts[2].pubkey = solex_sdk::pda::trader(&k.market, &alice.pubkey());
    assert_program_error(l.send(&[steal], &[&bob.keypair]), SolexError::NotOwner);

    // Bob's trader account used on another market.
    let (m2, _) = TestMarket::create(&mut l, CreateMarketArgs { market_id: 8, ..ARGS });
    let (bob2, _) = m2.wallet_from(&mut l, Keypair::try_from(&bob.keypair.to_bytes()[..]).unwrap(), 0, 0);
    let mut cross = m.deposit_ix(&bob, k.base_mint, 1);
    cross.accounts[2].pubkey = solex_sdk::pda::trader(&m2.keys.market, &bob2.pubkey());
    assert_program_error(l.send(&[cross], &[&bob.keypair]), SolexError::WrongMarket);

    before.assert_unchanged(&l);
    m.assert_conserved(&l, &[&alice, &bob]);
}

#[test]
fn place_and_cancel_lock_and_unlock_funds() {
    let (mut l, m, alice, _) = setup();
    let k = m.keys;
    l.send(
        &[m.deposit_ix(&alice, k.base_mint, 10_000_000), m.deposit_ix(&alice, k.quote_mint, 1_000_000)],
        &[&alice.keypair],
    )
    .unwrap();

    // Bid 3 lots at 100 ticks locks 3 * 100 * 10 quote atoms.
    let bid = l.send(&[ix::place_order(alice.pubkey(), &k, order(Side::Bid, 100, 3, 11))], &[&alice.keypair]).unwrap();
    // Ask 4 lots at 120 ticks locks 4 * 1_000_000 base atoms.
    let ask = l.send(&[ix::place_order(alice.pubkey(), &k, order(Side::Ask, 120, 4, 12))], &[&alice.keypair]).unwrap();
    let t = trader_account(&l, &k.market, &alice.pubkey());
    assert_eq!((t.quote_locked, t.quote_available), (3_000, 997_000));
    assert_eq!((t.base_locked, t.base_available), (4_000_000, 6_000_000));
    assert_eq!(t.open_orders, 2);
    m.assert_conserved(&l, &[&alice]);

    let (bid_id, ask_id) = match (&bid.events[..], &ask.events[..]) {
        ([SolexEvent::OrderPlaced(b)], [SolexEvent::OrderPlaced(a)]) => {
            assert_eq!((b.side, b.price, b.qty_lots, b.client_order_id, b.locked), (Side::Bid, 100, 3, 11, 3_000));
            assert_eq!((a.side, a.locked), (Side::Ask, 4_000_000));
            assert_eq!(a.seq, b.seq + 1);
            (b.order_id, a.order_id)
        }
        other => panic!("expected OrderPlaced events, got {other:?}"),
    };
    let bids = book(&l, &k.bids);
    assert_eq!(bids.len, 1);
    assert_eq!(bids.orders[0].id(), bid_id);
    assert_eq!(bids.orders[0].trader, solex_sdk::pda::trader(&k.market, &alice.pubkey()));

    let c = l.send(&[ix::cancel_order(alice.pubkey(), &k, Side::Bid, bid_id)], &[&alice.keypair]).unwrap();
    assert!(
        matches!(&c.events[..], [SolexEvent::OrdersCancelled(e)] if e.orders.len() == 1 && e.orders[0].order_id == bid_id && e.orders[0].unlocked == 3_000 && e.orders[0].client_order_id == 11)
    );
    l.send(&[ix::cancel_order(alice.pubkey(), &k, Side::Ask, ask_id)], &[&alice.keypair]).unwrap();
    let t = trader_account(&l, &k.market, &alice.pubkey());
    assert_eq!((t.quote_locked, t.quote_available, t.base_locked, t.base_available), (0, 1_000_000, 0, 10_000_000));
    assert_eq!(t.open_orders, 0);
    assert_eq!((book(&l, &k.bids).len, book(&l, &k.asks).len), (0, 0));
    m.assert_conserved(&l, &[&alice]);
}

#[test]
fn book_keeps_price_time_priority() {
    let (mut l, m, alice, bob) = setup();
    let k = m.keys;
    for w in [&alice, &bob] {
        l.send(
            &[m.deposit_ix(w, k.base_mint, 1_000_000_000), m.deposit_ix(w, k.quote_mint, 1_000_000_000)],
            &[&w.keypair],
        )
        .unwrap();
    }
    let mut placed = vec![];
    for (i, (w, side, price)) in [
        (&alice, Side::Bid, 100),
        (&bob, Side::Bid, 105),
        (&alice, Side::Bid, 100),
        (&bob, Side::Bid, 99),
        (&alice, Side::Ask, 130),
        (&bob, Side::Ask, 110),
        (&alice, Side::Ask, 110),
        (&bob, Side::Ask, 150),
    ]
    .into_iter()
    .enumerate()
    {
        let landed =
            l.send(&[ix::place_order(w.pubkey(), &k, order(side, price, 1, i as u64))], &[&w.keypair]).unwrap();
        let SolexEvent::OrderPlaced(e) = &landed.events[0] else { panic!("no OrderPlaced") };
        placed.push((side, price, e.order_id));
    }
    // Best last: bids by price descending then time; asks by price ascending then time.
    let order_of = |side: Side| {
        let mut v: Vec<_> = placed.iter().filter(|p| p.0 == side).collect();
        v.sort_by(|a, b| match side {
            Side::Bid => b.1.cmp(&a.1).then(a.2.cmp(&b.2)),
            Side::Ask => a.1.cmp(&b.1).then(a.2.cmp(&b.2)),
        });
        v.into_iter().map(|p| p.2).rev().collect::<Vec<_>>()
    };
    let bids: Vec<_> = book(&l, &k.bids).orders().iter().map(|o| o.id()).collect();
    let asks: Vec<_> = book(&l, &k.asks).orders().iter().map(|o| o.id()).collect();
    assert_eq!(bids, order_of(Side::Bid));
    assert_eq!(asks, order_of(Side::Ask));
    assert_eq!(book(&l, &k.bids).best().unwrap().price, 105);
    assert_eq!(book(&l, &k.asks).best().unwrap().price, 110);

    // Cancelling from the middle keeps the rest in order.
    let mid = bids[1];
    let owner = if book(&l, &k.bids).orders()[1].trader == solex_sdk::pda::trader(&k.market, &alice.pubkey()) {
        &alice
    } else {
        &bob
    };
    l.send(&[ix::cancel_order(owner.pubkey(), &k, Side::Bid, mid)], &[&owner.keypair]).unwrap();
    let after: Vec<_> = book(&l, &k.bids).orders().iter().map(|o| o.id()).collect();
    assert_eq!(after, bids.iter().copied().filter(|id| *id != mid).collect::<Vec<_>>());
    m.assert_conserved(&l, &[&alice, &bob]);
}

#[test]
fn place_and_cancel_reject_bad_input_and_change_nothing() {
    let (mut l, m, alice, bob) = setup();
    let k = m.keys;
    l.send(
        &[m.deposit_ix(&alice, k.base_mint, 10_000_000), m.deposit_ix(&alice, k.quote_mint, 1_000_000)],
        &[&alice.keypair],
    )
    .unwrap();
    let placed =
        l.send(&[ix::place_order(alice.pubkey(), &k, order(Side::Bid, 100, 1, 1))], &[&alice.keypair]).unwrap();
    let SolexEvent::OrderPlaced(bid) = placed.events[0].clone() else { panic!("no OrderPlaced") };
    l.send(&[ix::place_order(alice.pubkey(), &k, order(Side::Ask, 200, 1, 2))], &[&alice.keypair]).unwrap();
    let before = Snapshot::take(&l, &state_keys(&m, &[&alice, &bob]));
    let place = |args| ix::place_order(alice.pubkey(), &k, args);

    assert_program_error(l.send(&[place(order(Side::Bid, 0, 1, 0))], &[&alice.keypair]), SolexError::ZeroPrice);
    assert_program_error(l.send(&[place(order(Side::Bid, 100, 0, 0))], &[&alice.keypair]), SolexError::ZeroQuantity);
    // 1_000_000 quote available: 1001 lots * 100 ticks * 10 needs 1_001_000 (999_000 is left after the bid).
    assert_program_error(
        l.send(&[place(order(Side::Bid, 100, 1_000, 0))], &[&alice.keypair]),
        SolexError::InsufficientFunds,
    );
    assert_program_error(
        l.send(&[place(order(Side::Ask, 150, 10, 0))], &[&alice.keypair]),
        SolexError::InsufficientFunds,
    );
    // Post-only orders that would cross.
    let post_only =
        |side, price| PlaceOrderArgs { order_type: solex_sdk::OrderType::PostOnly, ..order(side, price, 1, 0) };
    assert_program_error(l.send(&[place(post_only(Side::Bid, 200))], &[&alice.keypair]), SolexError::WouldCross);
    assert_program_error(l.send(&[place(post_only(Side::Ask, 100))], &[&alice.keypair]), SolexError::WouldCross);
    // qty * price * tick beyond u64: such an order could never be taken, so it never rests.
    let mut huge = |side, price| l.send(&[place(order(side, price, u64::MAX, 0))], &[&alice.keypair]);
    assert_program_error(huge(Side::Bid, 150), SolexError::NotionalTooLarge);
    assert_program_error(huge(Side::Ask, 300), SolexError::NotionalTooLarge);

    // Books swapped.
    let mut swapped = place(order(Side::Bid, 90, 1, 0));
    swapped.accounts.swap(3, 4);
    assert_program_error(l.send(&[swapped], &[&alice.keypair]), SolexError::WrongBook);

    // Someone else's order, through their own trader account.
    assert_program_error(
        l.send(&[ix::cancel_order(bob.pubkey(), &k, Side::Bid, bid.order_id)], &[&bob.keypair]),
        SolexError::NotOrderOwner,
    );
    // Someone else's trader account (Bob is not Alice's delegate).
    assert_program_error(
        l.send(&[ix::cancel_order_as(bob.pubkey(), alice.pubkey(), &k, Side::Bid, bid.order_id)], &[&bob.keypair]),
        SolexError::NotOwnerOrDelegate,
    );
    // Wrong side, unknown id.
    assert_program_error(
        l.send(&[ix::cancel_order(alice.pubkey(), &k, Side::Ask, bid.order_id)], &[&alice.keypair]),
        SolexError::OrderNotFound,
    );
    assert_program_error(
        l.send(&[ix::cancel_order(alice.pubkey(), &k, Side::Bid, order_id(100, 999))], &[&alice.keypair]),
        SolexError::OrderNotFound,
    );

    before.assert_unchanged(&l);
    m.assert_conserved(&l, &[&alice, &bob]);
}

#[test]
fn event_sequence_is_gapless_across_instructions() {
    let (mut l, m, alice, _) = setup();
    let k = m.keys;
    let mut seqs = vec![];
    for ixs in [
        vec![m.deposit_ix(&alice, k.quote_mint, 1_000_000)],
        vec![
            ix::place_order(alice.pubkey(), &k, order(Side::Bid, 10, 5, 0)),
            ix::place_order(alice.pubkey(), &k, order(Side::Bid, 11, 5, 0)),
        ],
        vec![m.withdraw_ix(&alice, k.quote_mint, 1)],
    ] {
        let landed = l.send(&ixs, &[&alice.keypair]).unwrap();
        seqs.extend(landed.events.iter().map(|e| {
            assert_eq!(e.market(), k.market);
            e.seq()
        }));
    }
    let first = seqs[0];
    assert_eq!(seqs, (first..first + 4).collect::<Vec<_>>());
    assert_eq!(market(&l, &k.market).event_seq, first + 3);
}

#[test]
fn error_codes_decode_to_names() {
    assert!(describe(u32::from(SolexError::WouldCross)).starts_with("WouldCross"));
}

#[test]
fn paused_market_refuses_new_business_but_lets_funds_leave() {
    let (mut l, m, alice, bob) = setup();
    let k = m.keys;
    l.send(&[m.deposit_ix(&alice, k.quote_mint, 1_000_000)], &[&alice.keypair]).unwrap();
    let placed =
        l.send(&[ix::place_order(alice.pubkey(), &k, order(Side::Bid, 100, 1, 1))], &[&alice.keypair]).unwrap();
    let SolexEvent::OrderPlaced(bid) = placed.events[0].clone() else { panic!("no OrderPlaced") };

    // Only the authority (the mint authority created the market) may pause.
    let before = Snapshot::take(&l, &[k.market]);
    assert_program_error(
        l.send(&[ix::set_paused(bob.pubkey(), k.market, true)], &[&bob.keypair]),
        SolexError::NotMarketAuthority,
    );
    before.assert_unchanged(&l);
    let paused = l.send(&[ix::set_paused(m.mint_authority.pubkey(), k.market, true)], &[&m.mint_authority]).unwrap();
    assert!(matches!(&paused.events[..], [SolexEvent::MarketStatusChanged(e)] if e.paused && e.market == k.market));
    assert_eq!(market(&l, &k.market).paused, 1);

    let before = Snapshot::take(&l, &state_keys(&m, &[&alice, &bob]));
    assert_program_error(l.send(&[m.deposit_ix(&alice, k.quote_mint, 1)], &[&alice.keypair]), SolexError::MarketPaused);
    assert_program_error(
        l.send(&[ix::place_order(alice.pubkey(), &k, order(Side::Bid, 90, 1, 2))], &[&alice.keypair]),
        SolexError::MarketPaused,
    );
    let carol = solex_tests::Keypair::new();
    l.airdrop(&carol.pubkey(), 1_000_000_000);
    assert_program_error(
        l.send(&[ix::create_trader(carol.pubkey(), carol.pubkey(), k.market, 8)], &[&carol]),
        SolexError::MarketPaused,
    );
    before.assert_unchanged(&l);

    // Funds can always leave: cancel and withdraw still work.
    l.send(&[ix::cancel_order(alice.pubkey(), &k, Side::Bid, bid.order_id)], &[&alice.keypair]).unwrap();
    l.send(&[m.withdraw_ix(&alice, k.quote_mint, 1_000_000)], &[&alice.keypair]).unwrap();
    assert_eq!(token_balance(&l, &alice.quote), 1_000_000_000_000);

    let resumed = l.send(&[ix::set_paused(m.mint_authority.pubkey(), k.market, false)], &[&m.mint_authority]).unwrap();
    assert!(matches!(&resumed.events[..], [SolexEvent::MarketStatusChanged(e)] if !e.paused));
    l.send(&[m.deposit_ix(&alice, k.quote_mint, 1_000)], &[&alice.keypair]).unwrap();
    l.send(&[ix::place_order(alice.pubkey(), &k, order(Side::Bid, 100, 1, 3))], &[&alice.keypair]).unwrap();
    m.assert_conserved(&l, &[&alice, &bob]);
}

#[test]
fn delegate_places_and_cancels_but_never_withdraws() {
    let (mut l, m, alice, bob) = setup();
    let k = m.keys;
    l.send(&[m.deposit_ix(&alice, k.quote_mint, 1_000_000)], &[&alice.keypair]).unwrap();
    let alice_trader = solex_sdk::pda::trader(&k.market, &alice.pubkey());
    // A delegate places post-only orders inside the owner's band (here: bids up to 100).
    let bid = PlaceOrderArgs { order_type: OrderType::PostOnly, ..order(Side::Bid, 100, 2, 7) };

    // Without a delegate, Bob cannot trade for Alice.
    assert_program_error(
        l.send(&[ix::place_order_as(bob.pubkey(), alice.pubkey(), &k, bid)], &[&bob.keypair]),
        SolexError::NotOwnerOrDelegate,
    );
    // Only the owner sets a delegate.
    let mut hijack = ix::set_delegate(bob.pubkey(), k.market, Some((bob.pubkey(), 100, 100)));
    hijack.accounts[2].pubkey = alice_trader;
    assert_program_error(l.send(&[hijack], &[&bob.keypair]), SolexError::NotOwner);
    let set = l.send(&[ix::set_delegate(alice.pubkey(), k.market, Some((bob.pubkey(), 100, 100)))], &[&alice.keypair]);
    assert!(matches!(&set.unwrap().events[..], [SolexEvent::DelegateSet(e)]
        if e.delegate == bob.pubkey() && e.trader == alice_trader && (e.max_bid_price, e.min_ask_price) == (100, 100)));
    assert_eq!(trader_account(&l, &k.market, &alice.pubkey()).delegate, bob.pubkey());

    // Bob places and cancels with Alice's funds.
    let placed = l.send(&[ix::place_order_as(bob.pubkey(), alice.pubkey(), &k, bid)], &[&bob.keypair]).unwrap();
    let SolexEvent::OrderPlaced(e) = placed.events[0].clone() else { panic!("no OrderPlaced") };
    assert_eq!(e.trader, alice_trader);
    assert_eq!(trader_account(&l, &k.market, &alice.pubkey()).quote_locked, 2_000);
    assert_eq!(trader_account(&l, &k.market, &bob.pubkey()).quote_locked, 0);
    l.send(&[ix::cancel_order_as(bob.pubkey(), alice.pubkey(), &k, Side::Bid, e.order_id)], &[&bob.keypair]).unwrap();

    // But never withdraws, to his wallet or hers, and cannot re-delegate.
    let before = Snapshot::take(&l, &state_keys(&m, &[&alice, &bob]));
    for wallet in [bob.quote, alice.quote] {
        let mut w = ix::withdraw(bob.pubkey(), &k, wallet, k.quote_mint, TOKEN_PROGRAM, 1);
        w.accounts[2].pubkey = alice_trader;
        assert_program_error(l.send(&[w], &[&bob.keypair]), SolexError::NotOwner);
    }
    let mut redelegate = ix::set_delegate(bob.pubkey(), k.market, None);
    redelegate.accounts[2].pubkey = alice_trader;
    assert_program_error(l.send(&[redelegate], &[&bob.keypair]), SolexError::NotOwner);
    before.assert_unchanged(&l);

    // Removing the delegate revokes it.
    l.send(&[ix::set_delegate(alice.pubkey(), k.market, None)], &[&alice.keypair]).unwrap();
    assert_program_error(
        l.send(&[ix::place_order_as(bob.pubkey(), alice.pubkey(), &k, bid)], &[&bob.keypair]),
        SolexError::NotOwnerOrDelegate,
    );
    m.assert_conserved(&l, &[&alice, &bob]);
}
