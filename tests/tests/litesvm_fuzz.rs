//! Fuzzing the built program (LiteSVM): property-based sequences of instructions,
//! each either valid or mutated (instruction data overwritten, truncated, extended
//! or replaced; accounts substituted from a pool that includes a second market's
//! accounts, other traders' PDAs and token accounts, programs and random keys;
//! accounts swapped, dropped or added; signatures withheld). After every step:
//!
//! - a rejection is a defined error: a Solex error code, an Anchor framework error
//!   the program logged by number, or a runtime error; never a panic, an access
//!   violation or an exhausted compute budget;
//! - a rejection changed no account;
//! - both markets' vaults equal their traders' balances plus fees (conservation),
//!   and neither book is crossed or out of order.
//!
//! Cases: `SOLEX_FUZZ_CASES` (default 300), each a new market with up to 24 steps.
//! The tally of outcomes is printed (`cargo test -p solex-tests --test litesvm_fuzz -- --nocapture`).
use std::cell::RefCell;
use std::collections::BTreeMap;

use anchor_lang::solana_program::instruction::Instruction;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use solex_sdk::instructions as ix;
use solex_sdk::{pda, PlaceOrderArgs, Pubkey, Side};
use solex_tests::ledger::{Ledger, TxResult};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

mod support;
use support::fuzz::{apply, mutation, value, Mutation};

/// Which valid instruction a step starts from.
const TEMPLATES: usize = 16;

struct Fuzz {
    l: SvmLedger,
    /// A, B, C: funded wallets with trader accounts on every market.
    wallets: Vec<Wallet>,
    authority: Keypair,
    payer: Keypair,
    /// A market that never changes, whose accounts are substituted into the fuzzed market's instructions.
    other: TestMarket,
    next_market: u64,
    tally: BTreeMap<String, u64>,
}

impl Fuzz {
    fn new() -> Self {
        let mut l = SvmLedger::new();
        let payer = Keypair::new();
        l.airdrop(&payer.pubkey(), 1_000_000_000_000);
        let (other, _) = TestMarket::create(&mut l, market_args(1_000_000));
        let authority = other.mint_authority.insecure_clone();
        let wallets: Vec<Wallet> = (0..3).map(|_| other.wallet(&mut l, 1 << 50, 1 << 50)).collect();
        for w in &wallets {
            let deposits = [
                other.deposit_ix(w, other.keys.base_mint, 1 << 20),
                other.deposit_ix(w, other.keys.quote_mint, 1 << 24),
            ];
            l.send(&deposits, &[&w.keypair]).expect("deposit");
        }
        Self { l, wallets, authority, payer, other, next_market: 0, tally: BTreeMap::new() }
    }

    /// A new market over the same mints, with every wallet's trader account and deposits, and a little depth.
    fn open_market(&mut self, maker_fee_bps: i16, taker_fee_bps: i16) -> TestMarket {
        self.next_market += 1;
        self.l.airdrop(&self.authority.pubkey(), 10_000_000_000);
        let args = solex_sdk::CreateMarketArgs { maker_fee_bps, taker_fee_bps, ..market_args(self.next_market) };
        let (keys, _) =
            create_market(&mut self.l, &self.authority, self.other.keys.base_mint, self.other.keys.quote_mint, args);
        let m = TestMarket {
            keys,
            mint_authority: self.authority.insecure_clone(),
            base_program: self.other.base_program,
            quote_program: self.other.quote_program,
        };
        for w in &self.wallets {
            let ixs = [
                ix::create_trader(w.pubkey(), w.pubkey(), keys.market, 8),
                m.deposit_ix(w, keys.base_mint, 1 << 20),
                m.deposit_ix(w, keys.quote_mint, 1 << 24),
            ];
            self.l.send(&ixs, &[&w.keypair]).expect("trader setup");
        }
        let a = &self.wallets[0];
        for (side, price) in [(Side::Ask, 105), (Side::Bid, 95)] {
            let order = PlaceOrderArgs::limit(side, price, 3, price);
            self.l.send(&[ix::place_order(a.pubkey(), &keys, order)], &[&a.keypair]).expect("depth");
        }
        m
    }

    /// Every account an instruction could be handed instead of the right one.
    fn pool(&self, m: &TestMarket) -> Vec<Pubkey> {
        let mut pool = vec![];
        for k in [&m.keys, &self.other.keys] {
            pool.extend([
                k.market,
                k.bids,
                k.asks,
                k.fill_queue,
                k.base_vault,
                k.quote_vault,
                k.base_mint,
                k.quote_mint,
            ]);
            pool.extend(self.wallets.iter().map(|w| pda::trader(&k.market, &w.pubkey())));
        }
        for w in &self.wallets {
            pool.extend([w.pubkey(), w.base, w.quote]);
        }
        pool.extend([
            self.authority.pubkey(),
            self.payer.pubkey(),
            solex::ID,
            pda::event_authority(),
            anchor_lang::system_program::ID,
            TOKEN_PROGRAM,
            spl_token_2022_interface::ID,
            "SysvarC1ock11111111111111111111111111111111".parse().unwrap(),
            Pubkey::new_unique(),
        ]);
        pool
    }

    /// Valid instruction number `t` for market `m` in its current state.
    fn template(&self, m: &TestMarket, t: usize, price: u64, qty: u64, who: usize) -> Instruction {
        let k = &m.keys;
        let w = &self.wallets[who % 3];
        let side = if price.is_multiple_of(2) { Side::Bid } else { Side::Ask };
        let resting = |side: Side| {
            let b = book(&self.l, if side == Side::Bid { &k.bids } else { &k.asks });
            b.orders().iter().find(|o| o.trader == pda::trader(&k.market, &w.pubkey())).map(|o| o.id())
        };
        match t {
            0 => ix::place_order(w.pubkey(), k, PlaceOrderArgs::limit(side, price, qty, price)),
            1 => ix::place_order(
                w.pubkey(),
                k,
                PlaceOrderArgs {
                    order_type: solex_sdk::OrderType::ImmediateOrCancel,
                    ..PlaceOrderArgs::limit(side, price, qty, 7)
                },
            ),
            2 => ix::cancel_order(w.pubkey(), k, side, resting(side).unwrap_or(price as u128)),
            3 => ix::cancel_by_client_id(w.pubkey(), w.pubkey(), k, price),
            4 => ix::cancel_all(w.pubkey(), w.pubkey(), k, None, 8),
            5 => m.deposit_ix(
                w,
                if qty.is_multiple_of(2) { k.base_mint } else { k.quote_mint },
                qty.saturating_mul(1000),
            ),
            6 => m.withdraw_ix(
                w,
                if qty.is_multiple_of(2) { k.base_mint } else { k.quote_mint },
                qty.saturating_mul(1000),
            ),
            7 => m.next_consume_ix(&self.l).unwrap_or_else(|| ix::consume_events(k, &[], 0, 8)),
            8 => m.settle_ix(w),
            9 => ix::replace_order(
                w.pubkey(),
                w.pubkey(),
                k,
                side,
                resting(side).unwrap_or(1),
                PlaceOrderArgs::limit(side, price, qty, 9),
            ),
            10 => ix::set_delegate(
                w.pubkey(),
                k.market,
                Some((self.wallets[(who + 1) % 3].pubkey(), price, price.saturating_add(qty))),
            ),
            11 => ix::place_order_as(
                self.wallets[(who + 1) % 3].pubkey(),
                w.pubkey(),
                k,
                PlaceOrderArgs::limit(side, price, qty, 11),
            ),
            12 => ix::set_paused(self.authority.pubkey(), k.market, price.is_multiple_of(3)),
            13 => ix::sweep_fees(self.authority.pubkey(), k, w.quote, m.quote_program),
            14 => ix::prune_expired(k, side, qty.min(255) as u8),
            _ => ix::close_trader(w.pubkey(), w.pubkey(), k.market),
        }
    }

    /// Sends one (maybe mutated) instruction, signing for every signer we hold.
    fn send(&mut self, mut ix: Instruction) -> TxResult {
        let mut signers: Vec<&Keypair> = vec![&self.payer];
        let known: Vec<&Keypair> = self.wallets.iter().map(|w| &w.keypair).chain([&self.authority]).collect();
        for meta in ix.accounts.iter_mut().filter(|a| a.is_signer) {
            match known.iter().find(|k| k.pubkey() == meta.pubkey) {
                Some(k) if !signers.iter().any(|s| s.pubkey() == k.pubkey()) => signers.push(k),
                Some(_) => {}
                // A signer we cannot sign for: the runtime would refuse the transaction
                // outright, so pass it unsigned and let the program refuse it.
                None => meta.is_signer = false,
            }
        }
        let signers: Vec<Keypair> = signers.iter().map(|k| k.insecure_clone()).collect();
        let refs: Vec<&Keypair> = signers.iter().collect();
        self.l.send(&[ix], &refs)
    }

    fn state_keys(&self, m: &TestMarket) -> Vec<Pubkey> {
        let mut keys = vec![];
        for k in [&m.keys, &self.other.keys] {
            keys.extend([k.market, k.bids, k.asks, k.fill_queue, k.base_vault, k.quote_vault]);
            keys.extend(self.wallets.iter().map(|w| pda::trader(&k.market, &w.pubkey())));
        }
        keys.extend(self.wallets.iter().flat_map(|w| [w.base, w.quote]));
        keys
    }

    /// One step: checks the outcome and the invariants, and tallies it.
    fn step(&mut self, m: &TestMarket, t: usize, price: u64, qty: u64, who: usize, mutation: &Mutation) {
        let mut ix = self.template(m, t, price, qty, who);
        let pool = self.pool(m);
        apply(mutation, &mut ix, &pool);
        let keys = self.state_keys(m);
        let before = Snapshot::take(&self.l, &keys);
        let result = self.send(ix);
        let outcome = match &result {
            Ok(_) => "landed".to_string(),
            Err(r) => {
                let logs = r.logs.join("\n");
                for bad in ["panicked", "Access violation", "exceeded CUs", "memory allocation failed"] {
                    assert!(!logs.contains(bad), "template {t} {mutation:?}: {bad}\n{logs}");
                }
                before.assert_unchanged(&self.l);
                refusal(r)
            }
        };
        *self.tally.entry(outcome).or_default() += 1;
        self.check(m);
    }

    fn check(&self, m: &TestMarket) {
        let wallets: Vec<&Wallet> = self.wallets.iter().collect();
        for market in [m, &self.other] {
            market.assert_conserved(&self.l, &wallets);
            let (bids, asks) = (book(&self.l, &market.keys.bids), book(&self.l, &market.keys.asks));
            // Stored best-last: bids ascending, asks descending.
            let (b, a) = (bids.orders(), asks.orders());
            assert!(b.windows(2).all(|w| w[0].price <= w[1].price), "bids out of order");
            assert!(a.windows(2).all(|w| w[0].price >= w[1].price), "asks out of order");
            if let (Some(best_bid), Some(best_ask)) = (b.last(), a.last()) {
                assert!(best_bid.price < best_ask.price, "crossed book: {} >= {}", best_bid.price, best_ask.price);
            }
        }
    }
}

fn steps() -> impl Strategy<Value = Vec<(usize, u64, u64, usize, Mutation)>> {
    prop::collection::vec((0..TEMPLATES, value(90..112), value(1..6), 0usize..3, mutation()), 1..24)
}

#[test]
fn mutated_instructions_are_refused_cleanly_and_break_no_invariant() {
    let cases = std::env::var("SOLEX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let fuzz = RefCell::new(Fuzz::new());
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    // A maker rebate never exceeds the taker fee (the program refuses such a market).
    let fees = (0i16..6).prop_flat_map(|taker| (-taker..3, Just(taker)));
    let result = runner.run(&(steps(), fees), |(steps, (maker, taker))| {
        let mut f = fuzz.borrow_mut();
        let m = f.open_market(maker, taker);
        for (t, price, qty, who, mutation) in &steps {
            f.step(&m, *t, *price, *qty, *who, mutation);
        }
        Ok(())
    });
    let f = fuzz.into_inner();
    let total: u64 = f.tally.values().sum();
    println!("fuzz: {cases} cases, {total} instructions");
    for (outcome, n) in &f.tally {
        println!("  {n:>6}  {outcome}");
    }
    result.unwrap();
    assert!(f.tally.get("landed").copied().unwrap_or(0) > 0, "some instructions must land");
    assert!(f.tally.keys().any(|k| k.starts_with(char::is_uppercase)), "some must be refused by the program");
}
