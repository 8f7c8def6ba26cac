//! Fuzzing batch markets on the built program (LiteSVM): property-based sequences
//! of valid and mutated instructions (every batch instruction, sealed orders valid,
//! junk or under-collateralised, post-only orders and cancels, consume, settle,
//! deposits and withdrawals; mutated as `litesvm_fuzz` mutates, with a second batch
//! market's auction and keyper set in the substitution pool), interleaved with the
//! clock moving and the keypers releasing keys. After every step:
//!
//! - a rejection is a defined error and changes no account;
//! - both markets conserve their vaults (with what a batch being executed holds) and
//!   keep an ordered, uncrossed book.
//!
//! And at the end of every case, liveness: every batch left can be finished (its key
//! released, or its timeout passed) by the permissionless steps, after which no batch
//! holds orders, the book is open and the fill queue can be emptied.
//!
//! Cases: `SOLEX_FUZZ_CASES` (default 150), each a new batch market with up to 24 steps.
use std::cell::RefCell;
use std::collections::BTreeMap;

use anchor_lang::solana_program::instruction::Instruction;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use solex::state::BatchStatus;
use solex_sdk::auction::{self as ax, SealedOrder};
use solex_sdk::instructions as ix;
use solex_sdk::{pda, Expiry, OrderType, PlaceOrderArgs, Pubkey, Side};
use solex_tests::auction::{with_budget, Committee, TestAuction};
use solex_tests::ledger::{Ledger, TxResult};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

mod support;
use support::fuzz::{apply, mutation, value, Mutation};

const ROUND: u64 = 4;
const TIMEOUT: u64 = 24;
/// Templates 0..=13 are instructions; 14 moves the clock, 15 releases a key.
const TEMPLATES: usize = 16;
const WARP: usize = 14;
const RELEASE: usize = 15;

struct Fuzz {
    l: SvmLedger,
    c: Committee,
    wallets: Vec<Keypair>,
    crank: Keypair,
    /// A batch market that is never fuzzed, whose accounts are substituted in.
    other: Option<TestAuction>,
    next_market: u64,
    tally: BTreeMap<String, u64>,
}

fn rules() -> solex::CreateAuctionArgs {
    solex::CreateAuctionArgs { batch_slots: ROUND, reveal_timeout_slots: TIMEOUT, sealed_fee: 50 }
}

impl Fuzz {
    fn new() -> Self {
        let mut l = SvmLedger::new();
        l.wait_until_slot(1_000);
        let crank = Keypair::new();
        l.airdrop(&crank.pubkey(), 1_000_000_000_000);
        let c = Committee::create(&mut l, &crank, 3, 2, ROUND, 16, 128);
        let mut f = Self {
            l,
            c,
            wallets: (0..3).map(|_| Keypair::new()).collect(),
            crank,
            other: None,
            next_market: 0,
            tally: BTreeMap::new(),
        };
        f.keep_keys_ahead();
        f.other = Some(f.open_market().0);
        f
    }

    /// Keys registered well ahead, whatever the clock did.
    fn keep_keys_ahead(&mut self) {
        let round = self.c.round_of(self.l.current_slot());
        let registered = (round + 2..).take_while(|r| self.c.rounds.contains_key(r)).count() as u64;
        if registered < 40 {
            let from = round + 2 + registered;
            let everyone = [0, 1, 2];
            for r in self.c.register(&mut self.l, from..round + 2 + 80, &everyone) {
                r.expect("register keys");
            }
        }
    }

    /// A new batch market with every wallet funded on it and a little depth.
    fn open_market(&mut self) -> (TestAuction, Vec<Wallet>) {
        self.next_market += 1;
        let args = solex_sdk::CreateMarketArgs { market_id: self.next_market, ..market_args(self.next_market) };
        let (a, _) = TestAuction::create(&mut self.l, &self.c, args, rules(), 8);
        let wallets: Vec<Wallet> = self
            .wallets
            .iter()
            .map(|kp| {
                let (w, _) = a.m.wallet_from(&mut self.l, kp.insecure_clone(), 1 << 50, 1 << 50);
                let deposits =
                    [a.m.deposit_ix(&w, a.m.keys.base_mint, 1 << 24), a.m.deposit_ix(&w, a.m.keys.quote_mint, 1 << 28)];
                self.l.send(&deposits, &[&w.keypair]).expect("deposits");
                w
            })
            .collect();
        for (side, price) in [(Side::Ask, 105), (Side::Bid, 95)] {
            let order = PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(side, price, 3, 0) };
            self.l
                .send(&[ix::place_order(wallets[0].pubkey(), &a.m.keys, order)], &[&wallets[0].keypair])
                .expect("depth");
        }
        (a, wallets)
    }

    fn pool(&self, a: &TestAuction) -> Vec<Pubkey> {
        let mut pool = vec![];
        for x in std::iter::once(a).chain(&self.other) {
            let k = &x.m.keys;
            pool.extend([
                x.keys.auction,
                x.keys.keyper_set,
                k.market,
                k.bids,
                k.asks,
                k.fill_queue,
                k.base_vault,
                k.quote_vault,
            ]);
            pool.extend(self.wallets.iter().map(|w| pda::trader(&k.market, &w.pubkey())));
        }
        pool.extend(self.wallets.iter().map(|w| w.pubkey()));
        pool.extend([self.crank.pubkey(), solex::ID, pda::event_authority(), Pubkey::new_unique()]);
        pool
    }

    /// The oldest batch with work left, if any.
    fn oldest(&self, a: &TestAuction) -> Option<solex::state::BatchHeader> {
        a.state(&self.l).auction.batches.iter().filter(|h| h.unfinished()).min_by_key(|h| h.batch_id).copied()
    }

    fn template(
        &self,
        a: &TestAuction,
        wallets: &[Wallet],
        t: usize,
        price: u64,
        qty: u64,
        who: usize,
    ) -> Option<Instruction> {
        let k = &a.m.keys;
        let w = &wallets[who % 3];
        let side = if price.is_multiple_of(2) { Side::Bid } else { Side::Ask };
        let sealed = |order_type, envelope: Option<(u64, u64)>| {
            let order =
                SealedOrder { side, order_type, price, qty_lots: qty, client_order_id: price, expiry: Expiry::Never };
            let (_, _, round) = a.current(&self.l, &self.c);
            // An order too large to price has no envelope: lock something anyway (it voids).
            let mk = market(&self.l, &k.market);
            let envelope =
                envelope.or_else(|| ax::envelope(&mk, rules().sealed_fee, side, price, qty)).unwrap_or((1_000, 100));
            self.c.state(&self.l).round(round).map(|_| a.seal_ix(&self.l, &self.c, w, order, Some(envelope)))
        };
        let oldest = self.oldest(a);
        Some(match t {
            0 => sealed(OrderType::Limit, None)?,
            1 => sealed(OrderType::ImmediateOrCancel, None)?,
            // Collateral that may not cover the order: voided when the batch opens.
            2 => sealed(OrderType::Limit, Some((qty.saturating_mul(500), price.saturating_mul(3))))?,
            3 => {
                let (b, _, _) = a.current(&self.l, &self.c);
                ax::cancel_sealed(w.pubkey(), &a.keys, b, (qty % 4) as u32)
            }
            4 => ix::place_order(
                w.pubkey(),
                k,
                PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(side, price, qty, 4) },
            ),
            5 => ix::cancel_all(w.pubkey(), w.pubkey(), k, None, 8),
            6 => {
                let h = oldest?;
                ax::decrypt_batch(
                    &a.keys,
                    h.batch_id,
                    if h.status() == BatchStatus::Decrypting { h.cursor } else { 0 },
                    (qty % 70) as u8,
                )
            }
            7 => ax::clear_batch(&a.keys, oldest?.batch_id),
            8 => a.next_execute_ix(&self.l, oldest?.batch_id, (qty % 4) as usize)?,
            9 => ax::void_batch(&a.keys, oldest?.batch_id),
            10 => a.m.next_consume_ix(&self.l).unwrap_or_else(|| ix::consume_events(k, &[], 0, 8)),
            11 => a.m.settle_ix(w),
            12 => a.m.withdraw_ix(
                w,
                if qty.is_multiple_of(2) { k.base_mint } else { k.quote_mint },
                qty.saturating_mul(100),
            ),
            // A taking order on a batch market: refused.
            _ => ix::place_order(
                w.pubkey(),
                k,
                PlaceOrderArgs {
                    order_type: OrderType::ImmediateOrCancel,
                    ..PlaceOrderArgs::limit(side, price, qty, 13)
                },
            ),
        })
    }

    fn send(&mut self, wallets: &[Wallet], mut ix: Instruction) -> TxResult {
        let mut signers: Vec<Keypair> = vec![self.crank.insecure_clone()];
        for meta in ix.accounts.iter_mut().filter(|a| a.is_signer) {
            match wallets.iter().find(|w| w.pubkey() == meta.pubkey) {
                Some(w) if !signers.iter().any(|s| s.pubkey() == w.pubkey()) => {
                    signers.push(w.keypair.insecure_clone())
                }
                Some(_) => {}
                None if meta.pubkey == self.crank.pubkey() => {}
                None => meta.is_signer = false,
            }
        }
        let refs: Vec<&Keypair> = signers.iter().collect();
        self.l.send(&with_budget(ix), &refs)
    }

    fn state_keys(&self, a: &TestAuction, wallets: &[Wallet]) -> Vec<Pubkey> {
        let mut keys = vec![];
        for x in std::iter::once(a).chain(&self.other) {
            let k = &x.m.keys;
            keys.extend([x.keys.auction, k.market, k.bids, k.asks, k.fill_queue, k.base_vault, k.quote_vault]);
            keys.extend(self.wallets.iter().map(|w| pda::trader(&k.market, &w.pubkey())));
        }
        keys.extend(wallets.iter().flat_map(|w| [w.base, w.quote]));
        keys.push(self.c.keyper_set);
        keys
    }

    fn step(&mut self, a: &TestAuction, wallets: &[Wallet], step: &Step) {
        let (t, price, qty, who, m) = (step.0, step.1, step.2, step.3, &step.4);
        let outcome = match t {
            WARP => {
                let slot = self.l.current_slot();
                self.l.wait_until_slot(slot + 1 + qty % 16);
                self.keep_keys_ahead();
                "clock moved".to_string()
            }
            RELEASE => match self.oldest(a) {
                Some(h) if self.l.current_slot() >= self.c.state(&self.l).set.round_end(h.key_round) => {
                    let released = self
                        .c
                        .state(&self.l)
                        .round(h.key_round)
                        .is_some_and(|e| e.released_secret(h.key_round).is_some());
                    if !released {
                        let crank = self.crank.insecure_clone();
                        for r in self.c.post_shares(&mut self.l, h.key_round, &[who % 3, (who + 1) % 3]) {
                            r.expect("post share");
                        }
                        self.c.publish(&mut self.l, &crank, h.key_round).expect("publish");
                    }
                    "key released".to_string()
                }
                _ => "nothing to release".to_string(),
            },
            _ => match self.template(a, wallets, t, price, qty, who) {
                None => "no instruction".to_string(),
                Some(mut ix) => {
                    let pool = self.pool(a);
                    apply(m, &mut ix, &pool);
                    let before = Snapshot::take(&self.l, &self.state_keys(a, wallets));
                    match self.send(wallets, ix) {
                        Ok(_) => "landed".to_string(),
                        Err(r) => {
                            let logs = r.logs.join("\n");
                            for bad in ["panicked", "Access violation", "exceeded CUs", "memory allocation failed"] {
                                assert!(!logs.contains(bad), "template {t} {m:?}: {bad}\n{logs}");
                            }
                            before.assert_unchanged(&self.l);
                            refusal(&r)
                        }
                    }
                }
            },
        };
        *self.tally.entry(outcome).or_default() += 1;
        self.check(a, wallets);
    }

    fn check(&self, a: &TestAuction, wallets: &[Wallet]) {
        let refs: Vec<&Wallet> = wallets.iter().collect();
        a.m.assert_conserved(&self.l, &refs);
        for m in std::iter::once(&a.m).chain(self.other.as_ref().map(|o| &o.m)) {
            let (bids, asks) = (book(&self.l, &m.keys.bids), book(&self.l, &m.keys.asks));
            let (b, s) = (bids.orders(), asks.orders());
            assert!(b.windows(2).all(|w| w[0].price <= w[1].price), "bids out of order");
            assert!(s.windows(2).all(|w| w[0].price >= w[1].price), "asks out of order");
            if let (Some(bb), Some(ba)) = (b.last(), s.last()) {
                assert!(bb.price < ba.price, "crossed book: {} >= {}", bb.price, ba.price);
            }
        }
    }

    /// Liveness: finishes every batch left with the permissionless steps (releasing its
    /// key, or waiting out its timeout when the key holders are "gone").
    fn finish(&mut self, a: &TestAuction, wallets: &[Wallet], release: bool) {
        for _ in 0..64 {
            let Some(h) = self.oldest(a) else { break };
            let slot = self.l.current_slot();
            if slot < h.close_slot {
                self.l.wait_until_slot(h.close_slot);
                continue;
            }
            let step = match h.status() {
                BatchStatus::Collecting => {
                    let released = self
                        .c
                        .state(&self.l)
                        .round(h.key_round)
                        .is_some_and(|e| e.released_secret(h.key_round).is_some());
                    if release && !released {
                        let crank = self.crank.insecure_clone();
                        let posted = self.c.state(&self.l).round(h.key_round).map_or(0, |e| e.posted);
                        let by: Vec<usize> = (0..3).filter(|i| posted & (1 << i) == 0).take(2).collect();
                        for r in self.c.post_shares(&mut self.l, h.key_round, &by) {
                            r.expect("post share");
                        }
                        if self
                            .c
                            .state(&self.l)
                            .round(h.key_round)
                            .is_some_and(|e| e.released_secret(h.key_round).is_none())
                        {
                            self.c.publish(&mut self.l, &crank, h.key_round).expect("publish");
                        }
                        continue;
                    }
                    if released {
                        ax::decrypt_batch(&a.keys, h.batch_id, 0, 64)
                    } else {
                        self.l.wait_until_slot(h.close_slot + TIMEOUT);
                        ax::void_batch(&a.keys, h.batch_id)
                    }
                }
                BatchStatus::Decrypting if h.cursor < h.count => ax::decrypt_batch(&a.keys, h.batch_id, h.cursor, 64),
                BatchStatus::Decrypting => ax::clear_batch(&a.keys, h.batch_id),
                BatchStatus::Executing => a.next_execute_ix(&self.l, h.batch_id, 8).expect("an execute step"),
                BatchStatus::Free => break,
            };
            let crank = self.crank.insecure_clone();
            if let Err(r) = self.l.send(&with_budget(step), &[&crank]) {
                // The queue may need consuming before the sweep can go on.
                if r.solex_error().is_some_and(|e| {
                    matches!(e, solex_sdk::SolexError::FillQueueFull | solex_sdk::SolexError::NothingToExecute)
                }) {
                    for landed in a.m.consume_all(&mut self.l, &crank) {
                        assert_carried_balances(&self.l, &landed.events);
                    }
                    continue;
                }
                panic!("a batch could not be finished: {}\n{}", r.describe(), r.logs.join("\n"));
            }
            self.check(a, wallets);
        }
        let crank = self.crank.insecure_clone();
        a.m.consume_all(&mut self.l, &crank);
        assert!(self.oldest(a).is_none(), "every batch finished");
        assert_eq!(market(&self.l, &a.m.keys.market).frozen_from_slot, 0, "the book is open");
        self.check(a, wallets);
    }
}

/// A step: template, price, quantity, which wallet, and the mutation.
type Step = (usize, u64, u64, usize, Mutation);

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec((0..TEMPLATES, value(90..112), value(1..6), 0usize..3, mutation()), 1..24)
}

#[test]
fn batch_markets_refuse_mutated_instructions_cleanly_break_no_invariant_and_always_finish() {
    let cases = std::env::var("SOLEX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    let fuzz = RefCell::new(Fuzz::new());
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&(steps(), any::<bool>()), |(steps, release)| {
        let mut f = fuzz.borrow_mut();
        f.keep_keys_ahead();
        let (a, wallets) = f.open_market();
        for step in &steps {
            f.step(&a, &wallets, step);
        }
        f.finish(&a, &wallets, release);
        Ok(())
    });
    let f = fuzz.into_inner();
    let total: u64 = f.tally.values().sum();
    println!("batch fuzz: {cases} cases, {total} steps");
    for (outcome, n) in &f.tally {
        println!("  {n:>6}  {outcome}");
    }
    result.unwrap();
    assert!(f.tally.get("landed").copied().unwrap_or(0) > 0, "some instructions must land");
}
