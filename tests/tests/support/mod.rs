//! One LiteSVM market with funded traders, shared by the order and adversary tests:
//! every send checks conservation (vaults equal the traders' balances plus fees,
//! corrected for fills not yet consumed).
#![allow(dead_code)] // each test binary uses a part of it

pub mod fuzz;

use solex_sdk::event_types::OrderPlaced;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, PlaceOrderArgs, Side, Trader};
use solex_tests::ledger::{Ledger, TxResult};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

pub struct Env {
    pub l: SvmLedger,
    pub m: TestMarket,
    pub wallets: Vec<Wallet>,
    pub crank: Keypair,
}

impl Env {
    /// A market and `traders` wallets with trader accounts of `TEST_MAX_ORDERS` slots.
    pub fn new(args: CreateMarketArgs, traders: usize) -> Self {
        Self::with_slots(args, traders, TEST_MAX_ORDERS)
    }

    pub fn with_slots(args: CreateMarketArgs, traders: usize, slots: u16) -> Self {
        let mut l = SvmLedger::new();
        let (m, _) = TestMarket::create(&mut l, args);
        let crank = Keypair::new();
        l.airdrop(&crank.pubkey(), 10_000_000_000);
        let mut e = Self { l, m, wallets: vec![], crank };
        for _ in 0..traders {
            e.add_wallet(slots);
        }
        e
    }

    /// A wallet with 2^40 atoms of each mint, a trader account of `slots` open
    /// orders and 2^36 of each deposited; returns its index.
    pub fn add_wallet(&mut self, slots: u16) -> usize {
        let kp = Keypair::new();
        self.l.airdrop(&kp.pubkey(), 10_000_000_000);
        let k = self.m.keys;
        self.l.send(&[ix::create_trader(kp.pubkey(), kp.pubkey(), k.market, slots)], &[&kp]).unwrap();
        let auth = self.m.mint_authority.insecure_clone();
        let base = create_token_account(&mut self.l, &auth, &k.base_mint, &kp.pubkey(), &auth, 1 << 40);
        let quote = create_token_account(&mut self.l, &auth, &k.quote_mint, &kp.pubkey(), &auth, 1 << 40);
        let w = Wallet { keypair: kp, base, quote };
        let deposits = [self.m.deposit_ix(&w, k.base_mint, 1 << 36), self.m.deposit_ix(&w, k.quote_mint, 1 << 36)];
        self.l.send(&deposits, &[&w.keypair]).unwrap();
        self.wallets.push(w);
        self.wallets.len() - 1
    }

    pub fn w(&self, i: usize) -> &Wallet {
        &self.wallets[i]
    }

    pub fn send_as(&mut self, i: usize, ix: solex_sdk::Instruction) -> TxResult {
        let kp = self.wallets[i].keypair.insecure_clone();
        let r = self.l.send(&[ix], &[&kp]);
        self.check();
        if let Ok(landed) = &r {
            assert_carried_balances(&self.l, &landed.events);
        }
        r
    }

    pub fn place(&mut self, i: usize, args: PlaceOrderArgs) -> TxResult {
        let owner = self.w(i).pubkey();
        self.send_as(i, ix::place_order(owner, &self.m.keys, args))
    }

    pub fn placed(&mut self, i: usize, args: PlaceOrderArgs) -> OrderPlaced {
        let landed = self.place(i, args).expect("place_order lands");
        match &landed.events[..] {
            [SolexEvent::OrderPlaced(e)] => e.clone(),
            other => panic!("expected one OrderPlaced, got {other:?}"),
        }
    }

    pub fn trader(&self, i: usize) -> Trader {
        trader_account(&self.l, &self.m.keys.market, &self.w(i).pubkey())
    }

    pub fn check(&self) {
        let wallets: Vec<&Wallet> = self.wallets.iter().collect();
        self.m.assert_conserved(&self.l, &wallets);
    }

    pub fn consume_all(&mut self) {
        let crank = self.crank.insecure_clone();
        self.m.consume_all(&mut self.l, &crank);
        self.check();
    }

    /// (price, lots) of one side, best first.
    pub fn book_prices(&self, side: Side) -> Vec<(u64, u64)> {
        let key = if side == Side::Bid { self.m.keys.bids } else { self.m.keys.asks };
        book(&self.l, &key).orders().iter().rev().map(|o| (o.price, o.qty_lots)).collect()
    }

    /// Every account a refused instruction must leave as it was.
    pub fn snapshot(&self) -> Snapshot {
        let k = self.m.keys;
        let mut keys = vec![k.market, k.bids, k.asks, k.fill_queue, k.base_vault, k.quote_vault];
        for w in &self.wallets {
            keys.extend([pda::trader(&k.market, &w.pubkey()), w.base, w.quote]);
        }
        Snapshot::take(&self.l, &keys)
    }
}
