//! Batch markets (ADR 8) on the built program, in LiteSVM: the keyper set, sealed
//! orders, opening, uniform-price clearing, execution through the fill queue, and
//! every refusal with its exact error and nothing changed. After every transaction:
//! the vaults equal the traders' balances plus fees (corrected for fills in the
//! queue and fees a batch holds), the balances the events carry equal the accounts,
//! and the market's event sequence has no gap.
use solex::auction::BatchOrder;
use solex::state::{RecordStatus, VoidReason, SLOT_SEALED};
use solex::{CreateAuctionArgs, RoundKeyData};
use solex_sdk::auction::{self as ax, SealedOrder};
use solex_sdk::event_types::{RevealOutcome, SealedSubmitted};
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, Side, SolexError};
use solex_tests::auction::{with_budget, Committee, TestAuction};
use solex_tests::ledger::{Landed, Ledger, TxResult};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

const SEALED_FEE: u64 = 100;
const BATCH_SLOTS: u64 = 8;
const TIMEOUT: u64 = 40;

struct Env {
    l: SvmLedger,
    c: Committee,
    a: TestAuction,
    wallets: Vec<Wallet>,
    crank: Keypair,
    /// The market's events so far, to check the sequence has no gap.
    seqs: Vec<u64>,
}

fn market_args() -> CreateMarketArgs {
    CreateMarketArgs {
        market_id: 7,
        base_lot_size: 1_000,
        quote_tick_size: 10,
        min_order_lots: 1,
        maker_fee_bps: 2,
        taker_fee_bps: 5,
    }
}

fn auction_args() -> CreateAuctionArgs {
    CreateAuctionArgs { batch_slots: BATCH_SLOTS, reveal_timeout_slots: TIMEOUT, sealed_fee: SEALED_FEE }
}

impl Env {
    /// A 2-of-3 committee with keys registered 16 rounds ahead, a batch market with
    /// room for 16 sealed orders a batch, and `traders` funded wallets.
    fn new(traders: usize) -> Self {
        Self::with(traders, market_args(), 16)
    }

    fn with(traders: usize, args: CreateMarketArgs, capacity: u32) -> Self {
        let mut l = SvmLedger::new();
        l.wait_until_slot(1_000);
        let crank = Keypair::new();
        l.airdrop(&crank.pubkey(), 100_000_000_000);
        let mut c = Committee::create(&mut l, &crank, 3, 2, BATCH_SLOTS, 32, 64);
        // Start at the first round with a key.
        let first = c.register_ahead(&mut l, 16);
        l.wait_until_slot(first * BATCH_SLOTS);
        let (a, landed) = TestAuction::create(&mut l, &c, args, auction_args(), capacity);
        let seqs = landed.events.iter().map(SolexEvent::seq).collect();
        let mut e = Self { l, c, a, wallets: vec![], crank, seqs };
        for _ in 0..traders {
            e.add_wallet();
        }
        e
    }

    fn add_wallet(&mut self) -> usize {
        let kp = Keypair::new();
        let (w, created) = self.a.m.wallet_from(&mut self.l, kp, 1 << 40, 1 << 40);
        self.record(&created);
        let k = self.a.m.keys;
        let deposits = [self.a.m.deposit_ix(&w, k.base_mint, 1 << 36), self.a.m.deposit_ix(&w, k.quote_mint, 1 << 36)];
        let landed = self.l.send(&deposits, &[&w.keypair]).unwrap();
        self.wallets.push(w);
        self.record(&landed);
        self.wallets.len() - 1
    }

    fn w(&self, i: usize) -> &Wallet {
        &self.wallets[i]
    }

    /// The checks every landed transaction gets.
    fn record(&mut self, landed: &Landed) {
        for e in &landed.events {
            let next = self.seqs.last().map_or(1, |s| s + 1);
            assert_eq!(e.seq(), next, "gapless sequence: {e:?}");
            self.seqs.push(e.seq());
        }
        assert_carried_balances(&self.l, &landed.events);
        let wallets: Vec<&Wallet> = self.wallets.iter().collect();
        self.a.m.assert_conserved(&self.l, &wallets);
    }

    fn send(&mut self, ixs: &[solex_sdk::Instruction], signer: &Keypair) -> TxResult {
        let r = self.l.send(ixs, &[signer]);
        if let Ok(landed) = &r {
            self.record(landed);
        }
        r
    }

    fn send_as(&mut self, i: usize, ix: solex_sdk::Instruction) -> TxResult {
        let kp = self.wallets[i].keypair.insecure_clone();
        self.send(&[ix], &kp)
    }

    fn crank_send(&mut self, ix: solex_sdk::Instruction) -> TxResult {
        let kp = self.crank.insecure_clone();
        self.send(&[ix], &kp)
    }

    fn post_only(&mut self, i: usize, side: Side, price: u64, qty: u64) -> u128 {
        let args = PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(side, price, qty, 0) };
        let owner = self.w(i).pubkey();
        let landed = self.send_as(i, ix::place_order(owner, &self.a.m.keys, args)).expect("post-only order");
        match &landed.events[..] {
            [SolexEvent::OrderPlaced(e)] => e.order_id,
            other => panic!("{other:?}"),
        }
    }

    fn sealed(&self, i: usize, order: SealedOrder) -> solex_sdk::Instruction {
        self.a.seal_ix(&self.l, &self.c, self.w(i), order, None)
    }

    fn submit(&mut self, i: usize, order: SealedOrder) -> SealedSubmitted {
        let ix = self.sealed(i, order);
        let landed = self.send_as(i, ix).expect("submit_sealed");
        match &landed.events[..] {
            [SolexEvent::SealedSubmitted(e)] => e.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn current(&self) -> (u64, u64, u64) {
        self.a.current(&self.l, &self.c)
    }

    /// Moves past batch `b`'s close and has keypers `by` release its key.
    fn close_and_release(&mut self, b: u64, by: &[usize]) {
        let (h, _) = self.a.state(&self.l).batch(b).map(|(h, r)| (*h, r.len())).expect("batch");
        self.l.wait_until_slot(h.close_slot + 1);
        let crank = self.crank.insecure_clone();
        self.c.release(&mut self.l, &crank, h.key_round, by);
    }

    /// Sends a processing step with the most compute a transaction may have, and checks it.
    fn step(&mut self, ix: solex_sdk::Instruction) -> Landed {
        let kp = self.crank.insecure_clone();
        self.send(&with_budget(ix), &kp).unwrap_or_else(|r| panic!("{}: {}", r.error, r.logs.join("\n")))
    }

    fn decrypt_all(&mut self, b: u64) -> Vec<Landed> {
        let mut landed = vec![];
        while let Some(ix) = self.a.next_decrypt_ix(&self.l, b) {
            landed.push(self.step(ix));
        }
        landed
    }

    /// Executes batch `b`, the trader accounts of `per_tx` sealed orders a transaction.
    fn execute_all(&mut self, b: u64, per_tx: usize) -> Vec<Landed> {
        let mut landed = vec![];
        while let Some(ix) = self.a.next_execute_ix(&self.l, b, per_tx) {
            landed.push(self.step(ix));
        }
        landed
    }

    fn consume_all(&mut self) -> Vec<Landed> {
        let mut landed = vec![];
        while let Some(ix) = self.a.m.next_consume_ix(&self.l) {
            landed.push(self.crank_send(ix).expect("consume"));
        }
        landed
    }

    /// Opens, clears and executes batch `b`, then consumes the fill queue; returns every event.
    fn process(&mut self, b: u64) -> Vec<SolexEvent> {
        let mut landed = self.decrypt_all(b);
        landed.push(self.step(ax::clear_batch(&self.a.keys, b)));
        landed.extend(self.execute_all(b, 8));
        landed.extend(self.consume_all());
        landed.into_iter().flat_map(|l| l.events).collect()
    }

    /// Every account a refused instruction must leave as it was.
    fn snapshot(&self) -> Snapshot {
        let k = self.a.m.keys;
        let mut keys = vec![k.market, k.bids, k.asks, k.fill_queue, k.base_vault, k.quote_vault];
        keys.extend([self.a.keys.auction, self.c.keyper_set]);
        for w in &self.wallets {
            keys.extend([pda::trader(&k.market, &w.pubkey()), w.base, w.quote]);
        }
        Snapshot::take(&self.l, &keys)
    }

    /// Sends `ix` signed by `signer` and asserts it fails with `expected`, changing nothing.
    fn refused(&mut self, ix: solex_sdk::Instruction, signer: &Keypair, expected: SolexError) {
        let before = self.snapshot();
        assert_program_error(self.l.send(&[ix], &[signer]), expected);
        before.assert_unchanged(&self.l);
    }

    fn trader(&self, i: usize) -> solex_sdk::Trader {
        trader_account(&self.l, &self.a.m.keys.market, &self.w(i).pubkey())
    }

    fn book_prices(&self, side: Side) -> Vec<(u64, u64)> {
        let key = if side == Side::Bid { self.a.m.keys.bids } else { self.a.m.keys.asks };
        book(&self.l, &key).orders().iter().rev().map(|o| (o.price, o.qty_lots)).collect()
    }
}

fn order(side: Side, order_type: OrderType, price: u64, qty_lots: u64) -> SealedOrder {
    SealedOrder { side, order_type, price, qty_lots, client_order_id: price * 1000 + qty_lots, expiry: Expiry::Never }
}

#[test]
fn a_batch_clears_at_one_price_and_every_order_settles_at_it() {
    let mut e = Env::new(5);
    let (maker, a, b, c, d) = (0, 1, 2, 3, 4);
    // The book: asks 100 x5 and 102 x5, a bid 95 x5.
    e.post_only(maker, Side::Ask, 100, 5);
    e.post_only(maker, Side::Ask, 102, 5);
    e.post_only(maker, Side::Bid, 95, 5);
    let (batch, close, _) = e.current();
    let quote_before = e.trader(a).quote_available;
    let submitted = [
        e.submit(a, order(Side::Bid, OrderType::Limit, 103, 6)),
        e.submit(b, order(Side::Bid, OrderType::ImmediateOrCancel, 101, 3)),
        e.submit(c, order(Side::Ask, OrderType::Limit, 99, 2)),
        e.submit(d, order(Side::Ask, OrderType::Limit, 104, 4)),
    ];
    // Only the collateral is in the clear: the record holds no order field, and the
    // trader's slot is reserved without a side or price.
    let state = e.a.state(&e.l);
    let (h, records) = state.batch(batch).unwrap();
    assert_eq!((h.count, h.live, h.close_slot), (4, 4, close));
    for r in records {
        assert_eq!((r.status(), r.price, r.qty_lots, r.side), (RecordStatus::Sealed, 0, 0, 0));
    }
    // The notional at the limit (6,180), a taker's fee (4) and a maker's lock (2) on it, the fee.
    assert_eq!(submitted[0].quote_envelope, 6_180 + 4 + 2 + SEALED_FEE);
    let (_, slots) = solex_sdk::accounts::decode_trader(
        &e.l.account_data(&pda::trader(&e.a.m.keys.market, &e.w(a).pubkey())).unwrap(),
    )
    .unwrap();
    assert_eq!(slots.iter().map(|s| (s.used, s.price)).collect::<Vec<_>>(), vec![(SLOT_SEALED, 0)]);
    assert_eq!(e.trader(a).quote_available, quote_before - submitted[0].quote_envelope);

    e.close_and_release(batch, &[0, 2]);
    let events = e.process(batch);

    let cleared = events
        .iter()
        .find_map(|ev| match ev {
            SolexEvent::BatchCleared(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    // Max volume 7 at 100 or 101 (bids exceed by 2 at both); the reference, the
    // book's mid 97, picks 100.
    assert_eq!((cleared.price, cleared.volume, cleared.demand, cleared.supply), (100, 7, 9, 7));
    assert_eq!((cleared.bid_sweep, cleared.ask_sweep, cleared.reference), (0, 5, 97));
    // The program's clearing is the host function's, fed the same orders and book.
    let host = solex::auction::clear(
        &[
            BatchOrder { side: Side::Bid, price: 103, qty_lots: 6 },
            BatchOrder { side: Side::Bid, price: 101, qty_lots: 3 },
            BatchOrder { side: Side::Ask, price: 99, qty_lots: 2 },
            BatchOrder { side: Side::Ask, price: 104, qty_lots: 4 },
        ],
        &[solex_sdk::RestingOrder { price: 95, seq: 3, qty_lots: 5, ..Default::default() }],
        &[
            solex_sdk::RestingOrder { price: 102, seq: 2, qty_lots: 5, ..Default::default() },
            solex_sdk::RestingOrder { price: 100, seq: 1, qty_lots: 5, ..Default::default() },
        ],
        &Default::default(),
        Some(97),
        |_| [0; 32],
    );
    assert_eq!((host.price, host.volume, host.fills.clone()), (100, 7, vec![6, 1, 2, 0]));

    let settled: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            SolexEvent::BatchExecuted(x) => Some(x.orders.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let by_trader = |i: usize| {
        settled.iter().find(|o| o.trader == pda::trader(&e.a.m.keys.market, &e.w(i).pubkey())).unwrap().clone()
    };
    // a bought 6 at 100 (its limit 103), paying 100's notional and a taker fee.
    let sa = by_trader(a);
    assert_eq!((sa.filled_lots, sa.quote_atoms, sa.taker_fee, sa.rested_lots), (6, 6_000, 3, 0));
    assert_eq!(e.trader(a).quote_available, quote_before - 6_000 - 3 - SEALED_FEE);
    assert_eq!(e.trader(a).quote_locked, 0);
    // b's IOC got 1 lot; c sold 2; d's limit ask rests in full at 104 with its own id.
    assert_eq!(by_trader(b).filled_lots, 1);
    assert_eq!((by_trader(c).filled_lots, by_trader(c).quote_atoms), (2, 2_000));
    let sd = by_trader(d);
    assert_eq!((sd.filled_lots, sd.rested_lots, sd.order_id), (0, 4, solex_sdk::order_id(104, submitted[3].order_seq)));
    assert_eq!(e.book_prices(Side::Ask), vec![(102, 5), (104, 4)]);
    assert_eq!(e.book_prices(Side::Bid), vec![(95, 5)]);
    // d's reserved slot became its resting order's; the others' are free again.
    assert_eq!(e.trader(d).open_orders, 1);
    assert_eq!((e.trader(a).open_orders, e.trader(b).open_orders, e.trader(c).open_orders), (0, 0, 0));
    // The maker's ask at 100 was taken whole, through the fill queue, at its own price.
    let fills: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            SolexEvent::BatchExecuted(x) => Some(x.fills.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(fills.iter().map(|f| (f.price, f.qty_lots, f.remaining_lots)).collect::<Vec<_>>(), vec![(100, 5, 0)]);
    assert!(events.iter().any(|ev| matches!(ev, SolexEvent::FillsConsumed(_))));
    // The book is open again: the batch is done and the auction is free.
    let state = e.a.state(&e.l);
    assert_eq!((state.auction.last_price, state.auction.batches_cleared), (100, 1));
    assert_eq!(market(&e.l, &e.a.m.keys.market).frozen_from_slot, 0);
    e.post_only(maker, Side::Bid, 96, 1);
}

#[test]
fn the_book_is_frozen_from_a_batch_close_until_it_executes_and_takes_only_post_only_orders() {
    let mut e = Env::new(2);
    let id = e.post_only(0, Side::Ask, 100, 5);
    let owner = e.w(0).keypair.insecure_clone();
    let k = e.a.m.keys;
    // A batch market's book never takes: only its auction does.
    for order_type in [OrderType::Limit, OrderType::ImmediateOrCancel, OrderType::FillOrKill, OrderType::Market] {
        let args = PlaceOrderArgs { order_type, ..PlaceOrderArgs::limit(Side::Bid, 100, 1, 0) };
        e.refused(ix::place_order(owner.pubkey(), &k, args), &owner, SolexError::BatchMarketTakes);
    }
    let (batch, close, _) = e.current();
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 2));
    // Before the close the book moves freely.
    e.post_only(0, Side::Ask, 101, 1);
    e.l.wait_until_slot(close);
    // From the close until it executes nobody changes the book.
    let post = PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(Side::Ask, 105, 1, 0) };
    e.refused(ix::place_order(owner.pubkey(), &k, post), &owner, SolexError::BatchInProgress);
    e.refused(ix::cancel_order(owner.pubkey(), &k, Side::Ask, id), &owner, SolexError::BatchInProgress);
    e.refused(ix::cancel_all(owner.pubkey(), owner.pubkey(), &k, None, 8), &owner, SolexError::BatchInProgress);
    e.refused(ix::cancel_by_client_id(owner.pubkey(), owner.pubkey(), &k, 0), &owner, SolexError::BatchInProgress);
    e.refused(
        ix::replace_order(owner.pubkey(), owner.pubkey(), &k, Side::Ask, id, post),
        &owner,
        SolexError::BatchInProgress,
    );
    let crank = e.crank.insecure_clone();
    e.refused(ix::prune_expired(&k, Side::Ask, 8), &crank, SolexError::BatchInProgress);
    // Funds still move: deposits and withdrawals of available balances.
    let w = e.w(0).clone();
    e.send_as(0, e.a.m.withdraw_ix(&w, k.quote_mint, 10)).expect("withdraw during the freeze");
    e.close_and_release(batch, &[1, 2]);
    e.process(batch);
    // The maker's ask gave 2 lots to the batch; its 3 left cancel again.
    e.send_as(0, ix::cancel_order(owner.pubkey(), &k, Side::Ask, id)).expect("cancel after the batch");
    e.post_only(0, Side::Ask, 105, 1);
}

#[test]
fn junk_and_ciphertexts_made_for_elsewhere_are_voided_with_their_fee_kept_and_collateral_unlocked() {
    let mut e = Env::new(3);
    let (batch, _, round) = e.current();
    let key = e.c.state(&e.l).round(round).unwrap().group_key;
    let k = e.a.keys;
    let market_key = k.market.market;
    let good = order(Side::Bid, OrderType::Limit, 100, 1);
    let envelope = (0, 2_000);
    let args = |owner: &Keypair, market: &solex_sdk::Pubkey, b: u64| {
        ax::seal_order(&key, market, &owner.pubkey(), b, &good, envelope).unwrap()
    };
    let (w0, w1, w2) =
        (e.w(0).keypair.insecure_clone(), e.w(1).keypair.insecure_clone(), e.w(2).keypair.insecure_clone());
    let mut submissions = vec![];
    // 0: random bytes; 1: an ephemeral key that is no point.
    let mut junk = args(&w0, &market_key, batch);
    junk.ciphertext = [7; 40];
    submissions.push((0, junk, VoidReason::BadTag));
    let mut not_a_point = args(&w0, &market_key, batch);
    not_a_point.ephemeral = [0xff; 32];
    submissions.push((0, not_a_point, VoidReason::BadKey));
    // 2: sealed for the next batch, 3: for another market, 4: w1's order copied by w2.
    submissions.push((1, SubmitArgs::with_batch(args(&w1, &market_key, batch + 1), batch), VoidReason::BadTag));
    submissions.push((1, args(&w1, &solex_sdk::Pubkey::new_unique(), batch), VoidReason::BadTag));
    submissions.push((2, args(&w1, &market_key, batch), VoidReason::BadTag));
    // 5: valid, but its collateral does not cover it.
    let mut short = args(&w2, &market_key, batch);
    short.quote_envelope = 1_000;
    submissions.push((2, short, VoidReason::EnvelopeTooSmall));
    let before: Vec<_> = (0..3).map(|i| e.trader(i)).collect();
    for (i, args, _) in &submissions {
        let owner = e.w(*i).pubkey();
        e.send_as(*i, ax::submit_sealed(owner, &k, *args)).expect("junk is accepted until the batch opens");
    }
    e.close_and_release(batch, &[0, 1]);
    let events = e.process(batch);
    let revealed: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            SolexEvent::OrdersRevealed(r) => Some(r.orders.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let reasons: Vec<_> = revealed.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(reasons, submissions.iter().map(|(_, _, r)| RevealOutcome::Void(*r)).collect::<Vec<_>>());
    // Each void cost its trader the fee, and nothing else.
    let fees = [2, 2, 2];
    for i in 0..3 {
        let (b, a) = (&before[i], e.trader(i));
        assert_eq!(a.quote_available, b.quote_available - fees[i] * SEALED_FEE, "trader {i}");
        assert_eq!((a.quote_locked, a.base_locked, a.open_orders), (0, 0, 0), "trader {i}");
    }
    let _ = (w0, w2);
}

/// A submission's arguments moved to another batch id (a ciphertext replayed later).
trait SubmitArgs {
    fn with_batch(self, b: u64) -> Self;
}

impl SubmitArgs for solex::SubmitSealedArgs {
    fn with_batch(mut self, b: u64) -> Self {
        self.batch_id = b;
        self
    }
}

#[test]
fn a_batch_whose_key_never_comes_is_voided_at_its_timeout_and_refunded_in_full() {
    let mut e = Env::new(2);
    let (batch, close, round) = e.current();
    e.post_only(0, Side::Ask, 100, 5);
    let before = e.trader(1);
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 2));
    e.submit(1, order(Side::Bid, OrderType::Limit, 99, 1));
    let crank = e.crank.insecure_clone();
    e.l.wait_until_slot(close);
    // One share is not enough, and the key cannot be opened early or late by it.
    e.c.post_shares(&mut e.l, round, &[1]).into_iter().for_each(|r| {
        r.unwrap();
    });
    e.refused(ax::decrypt_batch(&e.a.keys, batch, 0, 64), &crank, SolexError::KeyNotReleased);
    e.refused(ax::void_batch(&e.a.keys, batch), &crank, SolexError::BatchNotExpired);
    e.l.wait_until_slot(close + TIMEOUT);
    let voided = e.crank_send(ax::void_batch(&e.a.keys, batch)).expect("void");
    assert!(matches!(&voided.events[..], [SolexEvent::BatchVoided(v)] if v.voided == 2));
    e.execute_all(batch, 8);
    let after = e.trader(1);
    assert_eq!((after.quote_available, after.quote_locked, after.open_orders), (before.quote_available, 0, 0));
    let state = e.a.state(&e.l);
    assert_eq!((state.auction.batches_voided, state.auction.batches_cleared), (1, 0));
    assert_eq!(market(&e.l, &e.a.m.keys.market).frozen_from_slot, 0);
    // The book was never touched, and trading goes on with the next batch.
    assert_eq!(e.book_prices(Side::Ask), vec![(100, 5)]);
    let (next, _, _) = e.current();
    assert!(next > batch);
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
}

#[test]
fn once_its_key_is_published_a_batch_can_only_be_opened_not_voided() {
    let mut e = Env::new(2);
    let (batch, close, _) = e.current();
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 2));
    e.close_and_release(batch, &[0, 1]);
    e.l.wait_until_slot(close + TIMEOUT + 5);
    let crank = e.crank.insecure_clone();
    e.refused(ax::void_batch(&e.a.keys, batch), &crank, SolexError::BatchNotExpired);
    e.process(batch);
}

#[test]
fn submissions_and_cancels_are_refused_after_the_close_and_cancels_before_it_keep_the_fee() {
    let mut e = Env::new(2);
    let (batch, close, _) = e.current();
    let owner = e.w(1).keypair.insecure_clone();
    let before = e.trader(1);
    let sub = e.submit(1, order(Side::Bid, OrderType::Limit, 100, 2));
    // Someone else cannot cancel it; its trader can, before the close, for the fee.
    let other = e.w(0).keypair.insecure_clone();
    e.refused(ax::cancel_sealed(other.pubkey(), &e.a.keys, batch, sub.index), &other, SolexError::NotOrderOwner);
    let cancelled = e.send_as(1, ax::cancel_sealed(owner.pubkey(), &e.a.keys, batch, sub.index)).expect("cancel");
    assert!(matches!(&cancelled.events[..], [SolexEvent::SealedCancelled(c)] if c.fee == SEALED_FEE));
    let after = e.trader(1);
    assert_eq!(
        (after.quote_available, after.quote_locked, after.open_orders),
        (before.quote_available - SEALED_FEE, 0, 0)
    );
    e.refused(ax::cancel_sealed(owner.pubkey(), &e.a.keys, batch, sub.index), &owner, SolexError::OrderNotFound);
    let sub = e.submit(1, order(Side::Bid, OrderType::Limit, 100, 2));
    let late = e.sealed(1, order(Side::Bid, OrderType::Limit, 100, 1));
    e.l.wait_until_slot(close);
    e.refused(
        ax::cancel_sealed(owner.pubkey(), &e.a.keys, batch, sub.index),
        &owner,
        SolexError::SealedCancelAfterClose,
    );
    // A submission made for the closed batch is too late.
    e.refused(late, &owner, SolexError::BatchClosed);
    // One for a batch not yet started is too early.
    let mut future = e.sealed(1, order(Side::Bid, OrderType::Limit, 100, 1));
    let mut args: solex::instruction::SubmitSealed =
        anchor_lang::AnchorDeserialize::deserialize(&mut &future.data[8..]).unwrap();
    args.args.batch_id += 5;
    future.data = anchor_lang::InstructionData::data(&args);
    e.refused(future, &owner, SolexError::BatchNotOpen);
    // Collateral that does not cover the fee.
    let k = e.a.keys;
    let (b, _, round) = e.current();
    let key = e.c.state(&e.l).round(round).unwrap().group_key;
    let cheap = ax::seal_order(
        &key,
        &k.market.market,
        &owner.pubkey(),
        b,
        &order(Side::Ask, OrderType::Limit, 100, 1),
        (1_000, SEALED_FEE - 1),
    )
    .unwrap();
    e.refused(ax::submit_sealed(owner.pubkey(), &k, cheap), &owner, SolexError::EnvelopeTooSmall);
    // More collateral than available.
    let rich = ax::seal_order(
        &key,
        &k.market.market,
        &owner.pubkey(),
        b,
        &order(Side::Ask, OrderType::Limit, 100, 1),
        (u64::MAX / 2, SEALED_FEE),
    )
    .unwrap();
    e.refused(ax::submit_sealed(owner.pubkey(), &k, rich), &owner, SolexError::InsufficientFunds);
    // A delegate cannot submit: sealed orders take.
    let delegate = Keypair::new();
    e.l.airdrop(&delegate.pubkey(), 1_000_000_000);
    e.send_as(1, ix::set_delegate(owner.pubkey(), k.market.market, Some((delegate.pubkey(), 0, u64::MAX)))).unwrap();
    let mut by_delegate = ax::submit_sealed(owner.pubkey(), &k, cheap);
    by_delegate.accounts[0].pubkey = delegate.pubkey();
    e.refused(by_delegate, &delegate, SolexError::NotOwner);
}

#[test]
fn a_batch_holds_its_capacity_and_the_next_waits_for_the_one_before_to_finish() {
    let mut e = Env::with(2, market_args(), 2);
    let (batch, _, _) = e.current();
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
    let owner = e.w(1).keypair.insecure_clone();
    let third = e.sealed(1, order(Side::Bid, OrderType::Limit, 100, 1));
    e.refused(third, &owner, SolexError::BatchFull);
    // Batch + 1 collects in the other half while batch waits for its key...
    let (h, _) = e.a.state(&e.l).batch(batch).map(|(h, _)| (*h, ())).unwrap();
    e.l.wait_until_slot(h.close_slot);
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
    // ...but batch + 2 cannot reuse batch's half before it has executed.
    e.l.wait_until_slot(h.close_slot + BATCH_SLOTS);
    let crank = e.crank.insecure_clone();
    let waiting = e.sealed(1, order(Side::Bid, OrderType::Limit, 100, 1));
    e.refused(waiting, &owner, SolexError::BatchBacklog);
    // And batch + 1 cannot clear or execute before batch.
    let next = batch + 1;
    let next_round = e.a.state(&e.l).batch(next).unwrap().0.key_round;
    e.c.release(&mut e.l, &crank, next_round, &[0, 1]);
    e.decrypt_all(next);
    e.refused(ax::clear_batch(&e.a.keys, next), &crank, SolexError::BatchOutOfOrder);
    let key_round = h.key_round;
    e.c.release(&mut e.l, &crank, key_round, &[0, 1]);
    e.process(batch);
    e.process(next);
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
}

#[test]
fn each_processing_step_refuses_out_of_turn_and_stale_calls() {
    let mut e = Env::new(3);
    let crank = e.crank.insecure_clone();
    let (batch, close, round) = e.current();
    e.post_only(0, Side::Ask, 100, 3);
    for _ in 0..3 {
        e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
        e.submit(2, order(Side::Bid, OrderType::Limit, 101, 1));
    }
    let k = e.a.keys;
    e.refused(ax::decrypt_batch(&k, batch, 0, 64), &crank, SolexError::BatchNotClosed);
    e.refused(ax::decrypt_batch(&k, batch + 1, 0, 64), &crank, SolexError::BatchNotFound);
    e.l.wait_until_slot(close);
    e.refused(ax::decrypt_batch(&k, batch, 0, 64), &crank, SolexError::KeyNotReleased);
    e.c.release(&mut e.l, &crank, round, &[1, 2]);
    e.refused(ax::clear_batch(&k, batch), &crank, SolexError::WrongBatchPhase);
    e.crank_send(ax::decrypt_batch(&k, batch, 0, 4)).expect("the first four");
    e.refused(ax::decrypt_batch(&k, batch, 0, 4), &crank, SolexError::CursorMismatch);
    e.refused(ax::clear_batch(&k, batch), &crank, SolexError::WrongBatchPhase);
    e.crank_send(ax::decrypt_batch(&k, batch, 4, 4)).expect("the rest");
    e.refused(ax::decrypt_batch(&k, batch, 6, 4), &crank, SolexError::WrongBatchPhase);
    e.refused(ax::execute_batch(&k, batch, 0, 32, &[]), &crank, SolexError::WrongBatchPhase);
    e.step(ax::clear_batch(&k, batch));
    e.refused(ax::clear_batch(&k, batch), &crank, SolexError::WrongBatchPhase);
    // The resting order is taken first; then records need their trader accounts.
    e.crank_send(ax::execute_batch(&k, batch, 0, 32, &[])).expect("the resting side");
    e.refused(ax::execute_batch(&k, batch, 0, 32, &[]), &crank, SolexError::NothingToExecute);
    let t1 = pda::trader(&k.market.market, &e.w(1).pubkey());
    e.refused(ax::execute_batch(&k, batch, 1, 32, &[t1]), &crank, SolexError::CursorMismatch);
    let mut wrong = ax::execute_batch(&k, batch, 0, 32, &[]);
    wrong.accounts.push(solex_sdk::AccountMeta::new(e.a.m.keys.fill_queue, false));
    e.refused(wrong, &crank, SolexError::InvalidTraderAccount);
    e.crank_send(ax::execute_batch(&k, batch, 0, 32, &[t1])).expect("trader 1's first");
    e.execute_all(batch, 8);
    assert_eq!(e.a.state(&e.l).batch(batch).map(|(h, _)| h.status), None, "the batch is done");
    e.consume_all();
}

#[test]
fn the_keyper_set_takes_keys_ahead_shares_after_the_round_and_only_what_verifies() {
    let mut e = Env::new(1);
    let crank = e.crank.insecure_clone();
    let set = e.c.keyper_set;
    let (_, close, round) = e.current();
    let dealt = e.c.rounds[&round].clone();
    let stranger = Keypair::new();
    e.l.airdrop(&stranger.pubkey(), 1_000_000_000);
    let m0 = e.c.members[0].insecure_clone();
    let data = |k: &solex_tests::auction::DealtKey| RoundKeyData {
        group_key: k.group_key,
        verifying_shares: k.verifying_shares.clone(),
    };
    // Keys only from members, for future rounds within the ring, well formed.
    e.refused(
        ax::register_keys(stranger.pubkey(), set, round + 20, vec![data(&dealt)]),
        &stranger,
        SolexError::NotAKeyper,
    );
    e.refused(ax::register_keys(m0.pubkey(), set, round, vec![data(&dealt)]), &m0, SolexError::KeyRoundOutOfRange);
    e.refused(ax::register_keys(m0.pubkey(), set, round + 40, vec![data(&dealt)]), &m0, SolexError::KeyRoundOutOfRange);
    let mut short = data(&dealt);
    short.verifying_shares.pop();
    e.refused(ax::register_keys(m0.pubkey(), set, round + 20, vec![short]), &m0, SolexError::InvalidKeyData);
    let mut not_a_point = data(&dealt);
    not_a_point.group_key = [0xff; 32];
    e.refused(ax::register_keys(m0.pubkey(), set, round + 20, vec![not_a_point]), &m0, SolexError::InvalidKeyData);
    // Shares only after the round, only the member's own, and only valid ones.
    let share = dealt.shares[0];
    e.refused(ax::post_share(m0.pubkey(), set, round, share), &m0, SolexError::ShareTooEarly);
    e.l.wait_until_slot(close);
    e.refused(ax::post_share(m0.pubkey(), set, round, dealt.shares[1]), &m0, SolexError::InvalidShare);
    e.refused(ax::post_share(stranger.pubkey(), set, round, share), &stranger, SolexError::NotAKeyper);
    e.send(&[ax::post_share(m0.pubkey(), set, round, share)], &m0).expect("share");
    // A secret that is not the key's is refused; the right one once.
    e.refused(ax::publish_secret(set, round, [1; 32]), &crank, SolexError::WrongSecret);
    e.c.post_shares(&mut e.l, round, &[2]).into_iter().for_each(|r| {
        r.unwrap();
    });
    e.c.publish(&mut e.l, &crank, round).expect("secret");
    let again = ax::combine_posted(&e.c.state(&e.l).set, e.c.state(&e.l).round(round).unwrap()).unwrap();
    e.refused(ax::publish_secret(set, round, again), &crank, SolexError::SecretAlreadyPublished);
    // Members registering different keys dispute the round: no sealed order for it.
    let target = e.c.round_of(e.l.current_slot()) + 17;
    let other = solex_tests::auction::deal(3, 2);
    let m1 = e.c.members[1].insecure_clone();
    e.send(&[ax::register_keys(m0.pubkey(), set, target, vec![data(&dealt)])], &m0).unwrap();
    e.send(&[ax::register_keys(m1.pubkey(), set, target, vec![data(&other)])], &m1).unwrap();
    let state = e.c.state(&e.l);
    assert_eq!(state.round(target).unwrap().status, solex::state::RoundKeyStatus::Disputed as u8);
    // A round registered by one member of a 2-of-3 set is not usable yet.
    let pending = target + 1;
    e.send(&[ax::register_keys(m0.pubkey(), set, pending, vec![data(&dealt)])], &m0).unwrap();
    assert_eq!(e.c.state(&e.l).round(pending).unwrap().status, solex::state::RoundKeyStatus::Pending as u8);
    // The batch sealed to the disputed round's key takes no orders.
    e.l.wait_until_slot(target * BATCH_SLOTS);
    let owner = e.w(0).keypair.insecure_clone();
    let (b, _, r) = e.current();
    assert_eq!(r, target);
    let k = e.a.keys;
    let args = ax::seal_order(
        &dealt.group_key,
        &k.market.market,
        &owner.pubkey(),
        b,
        &order(Side::Ask, OrderType::Limit, 100, 1),
        (1_000, SEALED_FEE),
    )
    .unwrap();
    e.refused(ax::submit_sealed(owner.pubkey(), &k, args), &owner, SolexError::NoBatchKey);
}

#[test]
fn a_market_becomes_a_batch_market_only_before_anyone_trades_and_with_valid_rules() {
    let mut e = Env::new(0);
    let c = &e.c;
    // A continuous market with a trader already: too late.
    let (m, _) = TestMarket::create(&mut e.l, market_args());
    let payer = m.mint_authority.insecure_clone();
    let _w = m.wallet(&mut e.l, 10, 10);
    let auction = Keypair::new();
    let keys = ax::AuctionKeys { market: m.keys, auction: auction.pubkey(), keyper_set: c.keyper_set };
    let lamports = e.l.rent_exempt(solex::state::Auction::space(4));
    let ixs = ax::create_auction(payer.pubkey(), payer.pubkey(), &keys, 4, lamports, auction_args());
    assert_program_error(e.l.send(&ixs, &[&payer, &auction]), SolexError::AuctionAfterTrading);
    // Sealed orders on a continuous market are refused.
    let w = m.wallet(&mut e.l, 10, 1_000);
    let sealed = ax::submit_sealed(
        w.pubkey(),
        &ax::AuctionKeys { market: m.keys, auction: e.a.keys.auction, keyper_set: c.keyper_set },
        solex::SubmitSealedArgs {
            batch_id: 0,
            ephemeral: [0; 32],
            ciphertext: [0; 40],
            tag: [0; 16],
            base_envelope: 0,
            quote_envelope: 0,
        },
    );
    assert_program_error(e.l.send(&[sealed], &[&w.keypair]), SolexError::NotBatchMarket);
    // Rules: batches a multiple of the keyper round, a timeout within its retention.
    let (m2, _) = TestMarket::create(&mut e.l, CreateMarketArgs { market_id: 9, ..market_args() });
    let payer = m2.mint_authority.insecure_clone();
    for (args, capacity) in [
        (CreateAuctionArgs { batch_slots: 12, ..auction_args() }, 4),
        (CreateAuctionArgs { reveal_timeout_slots: 31 * BATCH_SLOTS + 1, ..auction_args() }, 4),
        (CreateAuctionArgs { reveal_timeout_slots: 0, ..auction_args() }, 4),
        (auction_args(), 0),
        (auction_args(), 257),
    ] {
        let auction = Keypair::new();
        let keys = ax::AuctionKeys { market: m2.keys, auction: auction.pubkey(), keyper_set: c.keyper_set };
        let lamports = e.l.rent_exempt(solex::state::Auction::space(capacity));
        let ixs = ax::create_auction(payer.pubkey(), payer.pubkey(), &keys, capacity, lamports, args);
        assert_program_error(e.l.send(&ixs, &[&payer, &auction]), SolexError::InvalidAuctionConfig);
    }
}

#[test]
fn a_paused_batch_market_closes_its_auction_once_no_batch_holds_orders() {
    let mut e = Env::new(1);
    let (batch, _, _) = e.current();
    e.submit(0, order(Side::Bid, OrderType::Limit, 100, 1));
    let authority = e.a.m.mint_authority.insecure_clone();
    e.send(&[ix::set_paused(authority.pubkey(), e.a.m.keys.market, true)], &authority).unwrap();
    let close = ax::close_auction(authority.pubkey(), authority.pubkey(), &e.a.keys);
    e.refused(close.clone(), &authority, SolexError::AuctionNotEmpty);
    e.close_and_release(batch, &[0, 1]);
    e.process(batch);
    let landed = e.send(&[close], &authority).expect("close the auction");
    assert!(matches!(&landed.events[..], [SolexEvent::AuctionClosed(_)]));
    assert!(e.l.account_data(&e.a.keys.auction).is_none_or(|d| d.is_empty()));
    assert!(!market(&e.l, &e.a.m.keys.market).is_batch());
}

#[test]
fn decrypting_a_full_batch_and_executing_it_fit_their_budgets() {
    // 64 orders, crossing at many prices: decrypt 64 in one call, clear them all at once.
    let mut e = Env::with(8, market_args(), 64);
    let (batch, _, _) = e.current();
    for k in 0..64u64 {
        let side = if k % 2 == 0 { Side::Bid } else { Side::Ask };
        let price = if side == Side::Bid { 95 + k % 11 } else { 90 + k % 13 };
        e.submit((k % 8) as usize, order(side, OrderType::Limit, price, 1 + k % 5));
    }
    e.close_and_release(batch, &[0, 1]);
    let decrypted = e.decrypt_all(batch);
    assert_eq!(decrypted.len(), 1, "64 orders open in one transaction");
    println!("decrypt_batch, 64 orders: {} CU", decrypted[0].compute_units);
    let cleared = e.step(ax::clear_batch(&e.a.keys, batch));
    println!("clear_batch, 64 orders: {} CU", cleared.compute_units);
    for landed in e.execute_all(batch, 16) {
        println!("execute_batch: {} CU", landed.compute_units);
    }
    e.consume_all();
    let state = e.a.state(&e.l);
    assert_eq!(state.auction.batches_cleared, 1);
    assert!(state.records[(batch % 2) as usize].iter().all(|r| r.status() == RecordStatus::Done));
    assert!(e.a.state(&e.l).batch(batch).is_none(), "done: its half is free");
}

#[test]
fn a_full_batch_of_256_orders_at_one_price_clears_within_the_heap_and_compute() {
    // The worst case for the clearing's memory: every order at the marginal price, so
    // all of one side share it pro rata and the leftover lots are ordered by hash.
    let mut e = Env::with(10, market_args(), 256);
    let (batch, _, _) = e.current();
    for k in 0..256u64 {
        let side = if k % 2 == 0 { Side::Bid } else { Side::Ask };
        // Bids total 3 x 128 = 384 lots against 2 x 127 + 1 = 255 offered: bids are
        // rationed, 1 lot each pro rata and the 127 lots left over one each by hash.
        let qty = if side == Side::Bid {
            3
        } else if k == 255 {
            1
        } else {
            2
        };
        e.submit((k % 10) as usize, order(side, OrderType::ImmediateOrCancel, 100, qty));
    }
    e.close_and_release(batch, &[0, 1]);
    let decrypted = e.decrypt_all(batch);
    assert_eq!(decrypted.len(), 4);
    let cleared = e.step(ax::clear_batch(&e.a.keys, batch));
    println!("clear_batch, 256 orders at one price: {} CU", cleared.compute_units);
    match &cleared.events[..] {
        [SolexEvent::BatchCleared(c)] => assert_eq!((c.price, c.volume, c.demand, c.supply), (100, 255, 384, 255)),
        other => panic!("{other:?}"),
    }
    e.execute_all(batch, 16);
    let state = e.a.state(&e.l);
    let records = &state.records[(batch % 2) as usize];
    assert!(records.iter().all(|r| r.status() == RecordStatus::Done));
    let bids: Vec<u64> = records.iter().filter(|r| r.side() == Side::Bid).map(|r| r.filled_lots).collect();
    assert_eq!((bids.iter().filter(|f| **f == 2).count(), bids.iter().filter(|f| **f == 1).count()), (127, 1));
    assert!(records.iter().filter(|r| r.side() == Side::Ask).all(|r| r.filled_lots == r.qty_lots), "asks fill");
}

// ---- the review's findings, each shown fixed -----------------------------------

#[test]
fn once_a_threshold_agreed_on_a_key_no_member_can_dispute_it_and_strand_a_batch() {
    let mut e = Env::new(2);
    let (batch, _, round) = e.current();
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
    // A member registers another key for the round the batch is sealed to.
    let m2 = e.c.members[2].insecure_clone();
    let other = solex_tests::auction::deal(3, 2);
    let data = RoundKeyData { group_key: other.group_key, verifying_shares: other.verifying_shares };
    // Its round is the current one: a registration for it is out of range...
    e.refused(
        ax::register_keys(m2.pubkey(), e.c.keyper_set, round, vec![data.clone()]),
        &m2,
        SolexError::KeyRoundOutOfRange,
    );
    // ...and for a future round already agreed, it changes nothing.
    let next = round + 1;
    e.send(&[ax::register_keys(m2.pubkey(), e.c.keyper_set, next, vec![data])], &m2).expect("landed, ignored");
    assert_eq!(e.c.state(&e.l).round(next).unwrap().status, solex::state::RoundKeyStatus::Active as u8);
    e.close_and_release(batch, &[0, 1]);
    e.process(batch);
    let (b, _, r) = e.current();
    assert_eq!(r, next);
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
    e.close_and_release(b, &[0, 1]);
    e.process(b);
    assert_eq!(e.a.state(&e.l).auction.batches_cleared, 2);
}

#[test]
fn resting_orders_take_part_in_a_batch_as_they_were_at_its_close_whenever_it_clears() {
    let mut e = Env::new(2);
    let (batch, close, _) = e.current();
    // An ask valid through the batch's last slot, and one that expired before it.
    let owner = e.w(0).keypair.insecure_clone();
    for (price, expiry) in [(100, close - 1), (99, close - 2)] {
        let args = PlaceOrderArgs {
            order_type: OrderType::PostOnly,
            expiry: Expiry::Slot(expiry),
            ..PlaceOrderArgs::limit(Side::Ask, price, 5, price)
        };
        e.send_as(0, ix::place_order(owner.pubkey(), &e.a.m.keys, args)).expect("ask");
    }
    e.submit(1, order(Side::Bid, OrderType::ImmediateOrCancel, 101, 3));
    // The keys come late, long after the first ask's expiry: it still trades, as it
    // was valid when the batch closed; the other never could.
    e.close_and_release(batch, &[0, 1]);
    e.l.wait_until_slot(close + 20);
    let events = e.process(batch);
    let cleared = events
        .iter()
        .find_map(|ev| match ev {
            SolexEvent::BatchCleared(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!((cleared.price, cleared.volume, cleared.ask_sweep), (100, 3, 3));
}

#[test]
fn once_threshold_shares_are_on_chain_a_batch_cannot_be_voided_only_opened() {
    let mut e = Env::new(2);
    let (batch, close, round) = e.current();
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
    e.l.wait_until_slot(close);
    // Two shares posted, nobody publishes; the timeout passes.
    for r in e.c.post_shares(&mut e.l, round, &[0, 2]) {
        r.unwrap();
    }
    e.l.wait_until_slot(close + TIMEOUT + 1);
    let crank = e.crank.insecure_clone();
    e.refused(ax::void_batch(&e.a.keys, batch), &crank, SolexError::BatchNotExpired);
    e.c.publish(&mut e.l, &crank, round).expect("the secret");
    e.process(batch);
    assert_eq!(e.a.state(&e.l).auction.batches_voided, 0);
}

#[test]
fn a_batch_opened_but_never_cleared_is_voided_after_twice_the_timeout_with_valid_orders_refunded() {
    let mut e = Env::new(2);
    let (batch, close, _) = e.current();
    let before = e.trader(1);
    e.submit(1, order(Side::Bid, OrderType::Limit, 100, 1));
    e.close_and_release(batch, &[0, 1]);
    e.decrypt_all(batch);
    let crank = e.crank.insecure_clone();
    e.l.wait_until_slot(close + 2 * TIMEOUT - 1);
    e.refused(ax::void_batch(&e.a.keys, batch), &crank, SolexError::BatchNotExpired);
    e.l.wait_until_slot(close + 2 * TIMEOUT);
    let voided = e.crank_send(ax::void_batch(&e.a.keys, batch)).expect("void");
    assert!(matches!(&voided.events[..], [SolexEvent::BatchVoided(v)] if v.voided == 1));
    e.execute_all(batch, 8);
    let after = e.trader(1);
    assert_eq!((after.quote_available, after.quote_locked, after.open_orders), (before.quote_available, 0, 0));
}

#[test]
fn an_expired_order_at_the_top_of_the_other_side_does_not_keep_a_remainder_from_resting() {
    let mut e = Env::new(3);
    let (batch, close, _) = e.current();
    // An ask at 100 that expires before the batch closes, and a bid of the batch at 101
    // that finds no live ask: its remainder rests at 101, and the dead ask leaves.
    let owner = e.w(0).keypair.insecure_clone();
    let args = PlaceOrderArgs {
        order_type: OrderType::PostOnly,
        expiry: Expiry::Slot(close - 2),
        ..PlaceOrderArgs::limit(Side::Ask, 100, 5, 1)
    };
    e.send_as(0, ix::place_order(owner.pubkey(), &e.a.m.keys, args)).expect("ask");
    e.submit(1, order(Side::Bid, OrderType::Limit, 101, 2));
    e.close_and_release(batch, &[0, 1]);
    let events = e.process(batch);
    let settled: Vec<_> = events
        .iter()
        .filter_map(|ev| match ev {
            SolexEvent::BatchExecuted(x) => Some(x.orders.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!((settled[0].filled_lots, settled[0].rested_lots), (0, 2));
    assert_eq!(e.book_prices(Side::Bid), vec![(101, 2)]);
    assert_eq!(e.book_prices(Side::Ask), vec![], "the expired ask left the book");
}
