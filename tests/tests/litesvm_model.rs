//! Property test: random order sequences run against the built program (LiteSVM)
//! and against the reference model in `solex_tests::model`. After every step the
//! outcome (landed, or the same error), both books, every trader's balances and
//! open orders, the fill queue and the accrued fees must agree, and the vaults
//! must be conserved. The events must carry what changed: every balance they carry
//! equals the trader account's, each fill's and settled entry's amounts equal its
//! queue entry's, and each order's remaining lots equal the book's.
//!
//! Cases: `SOLEX_MODEL_CASES` (default 2000), each a fresh market.
use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::QueueEvent;
use solex_sdk::{errors::solex_error, pda, CreateMarketArgs, OrderType, PlaceOrderArgs, Pubkey, SelfTradeMode, Side};
use solex_tests::ledger::Ledger;
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::model::{Balances, Kind, Model, Params, Place, Stp};
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

const TRADERS: usize = 3;
const MAX_ORDERS: u16 = 6;
const BASE: u64 = 30_000; // 30 lots
const QUOTE: u64 = 40_000; // 40 lots at 100 ticks

#[derive(Debug, Clone)]
enum Op {
    Place { t: usize, bid: bool, price: u64, qty: u64, kind: Kind, stp: Stp, max_fills: u8, budget: u64 },
    Cancel { t: usize, pick: usize },
    CancelAll { t: usize },
    Consume { n: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let kind = prop_oneof![
        4 => Just(Kind::Limit),
        1 => Just(Kind::PostOnly),
        1 => Just(Kind::ImmediateOrCancel),
        1 => Just(Kind::FillOrKill),
        1 => Just(Kind::MarketByQuote),
    ];
    let stp =
        prop_oneof![Just(Stp::CancelResting), Just(Stp::CancelTaking), Just(Stp::DecrementBoth), Just(Stp::Abort)];
    prop_oneof![
        6 => (0..TRADERS, any::<bool>(), 95u64..=105, 1u64..=12, kind, stp, 1u8..=5, 500u64..=15_000).prop_map(
            |(t, bid, price, qty, kind, stp, max_fills, budget)| Op::Place { t, bid, price, qty, kind, stp, max_fills, budget }
        ),
        2 => (0..TRADERS, any::<usize>()).prop_map(|(t, pick)| Op::Cancel { t, pick }),
        1 => (0..TRADERS).prop_map(|t| Op::CancelAll { t }),
        2 => (1u8..=4).prop_map(|n| Op::Consume { n }),
    ]
}

struct Chain {
    l: SvmLedger,
    mint_authority: Keypair,
    base_mint: Pubkey,
    quote_mint: Pubkey,
    wallets: Vec<Wallet>,
    crank: Keypair,
    next_market: u64,
}

impl Chain {
    /// One ledger for all cases: each case opens a new market (a new market id) with
    /// the same mints and wallets.
    fn new() -> Self {
        let mut l = SvmLedger::new();
        let mint_authority = Keypair::new();
        l.airdrop(&mint_authority.pubkey(), 100_000_000_000);
        let base_mint = create_mint(&mut l, &mint_authority, 9);
        let quote_mint = create_mint(&mut l, &mint_authority, 6);
        let wallets = (0..TRADERS)
            .map(|_| {
                let keypair = Keypair::new();
                l.airdrop(&keypair.pubkey(), 100_000_000_000);
                let owner = keypair.pubkey();
                let base = create_token_account(&mut l, &mint_authority, &base_mint, &owner, &mint_authority, 1 << 50);
                let quote =
                    create_token_account(&mut l, &mint_authority, &quote_mint, &owner, &mint_authority, 1 << 50);
                Wallet { keypair, base, quote }
            })
            .collect();
        let crank = Keypair::new();
        l.airdrop(&crank.pubkey(), 100_000_000_000);
        Self { l, mint_authority, base_mint, quote_mint, wallets, crank, next_market: 0 }
    }

    fn open_market(&mut self, maker_bps: i16, taker_bps: i16, min_order_lots: u64) -> TestMarket {
        self.next_market += 1;
        // Each market's accounts cost ~4.5 SOL of rent.
        self.l.airdrop(&self.mint_authority.pubkey(), 5_000_000_000);
        let args = CreateMarketArgs {
            maker_fee_bps: maker_bps,
            taker_fee_bps: taker_bps,
            min_order_lots,
            ..market_args(self.next_market)
        };
        let (keys, _) = create_market(&mut self.l, &self.mint_authority, self.base_mint, self.quote_mint, args);
        let m = TestMarket {
            keys,
            mint_authority: self.mint_authority.insecure_clone(),
            base_program: TOKEN_PROGRAM,
            quote_program: TOKEN_PROGRAM,
        };
        for w in &self.wallets {
            let ixs = [
                ix::create_trader(w.pubkey(), w.pubkey(), keys.market, MAX_ORDERS),
                m.deposit_ix(w, keys.base_mint, BASE),
                m.deposit_ix(w, keys.quote_mint, QUOTE),
            ];
            self.l.send(&ixs, &[&w.keypair]).expect("trader setup");
        }
        m
    }
}

fn program_error_name(r: &solex_tests::ledger::TxResult) -> Result<(), String> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => Err(e
            .custom_code
            .and_then(solex_error)
            .map(|e| format!("{e:?}"))
            .unwrap_or_else(|| format!("non-program error: {}", e.error))),
    }
}

/// Compares every piece of state the model keeps with the chain's.
fn compare(chain: &Chain, m: &TestMarket, model: &Model) -> Result<(), TestCaseError> {
    let l = &chain.l;
    let index: Vec<Pubkey> = chain.wallets.iter().map(|w| pda::trader(&m.keys.market, &w.pubkey())).collect();
    let who = |k: &Pubkey| index.iter().position(|x| x == k).expect("known trader");
    for (side, expected) in [(m.keys.bids, &model.bids), (m.keys.asks, &model.asks)] {
        let actual: Vec<_> =
            book(l, &side).orders().iter().rev().map(|o| (who(&o.trader), o.price, o.seq, o.qty_lots)).collect();
        let expected: Vec<_> = expected.iter().map(|o| (o.trader, o.price, o.seq, o.qty)).collect();
        prop_assert_eq!(actual, expected, "book side {}", side);
    }
    for (i, w) in chain.wallets.iter().enumerate() {
        let t = trader_account(l, &m.keys.market, &w.pubkey());
        let actual = Balances {
            base_available: t.base_available,
            base_locked: t.base_locked,
            quote_available: t.quote_available,
            quote_locked: t.quote_locked,
            open_orders: t.open_orders as usize,
        };
        prop_assert_eq!(&actual, &model.traders[i], "trader {}", i);
    }
    let queue = fill_queue(l, &m.keys.fill_queue);
    let actual: Vec<_> = queue
        .pending()
        .map(|e| (who(&e.maker), e.qty_lots, e.base_atoms, e.quote_atoms, e.maker_fee, e.order_done != 0, e.unlock))
        .collect();
    let expected: Vec<_> =
        model.queue.iter().map(|p| (p.maker, p.qty, p.base, p.quote, p.fee, p.order_done, p.unlock)).collect();
    prop_assert_eq!(actual, expected, "fill queue");
    prop_assert_eq!(market(l, &m.keys.market).fees_accrued, model.fees, "fees");
    let wallets: Vec<&Wallet> = chain.wallets.iter().collect();
    m.assert_conserved(l, &wallets);
    Ok(())
}

/// What a fill or a settled entry says it moved, to compare with its queue entry.
fn moved(e: &QueueEvent) -> (u64, Side, u64, u64, i64, u64) {
    (e.fill_seq, e.side(), e.base_atoms, e.quote_atoms, e.maker_fee, e.unlock)
}

/// The events of a landed step carry the state it left: balances equal the trader
/// accounts', amounts equal the queue entries' (`queued`: the queue before the step,
/// for consumed entries), and remaining lots equal the book's.
fn check_events(
    chain: &Chain,
    m: &TestMarket,
    events: &[SolexEvent],
    queued: &[QueueEvent],
) -> Result<(), TestCaseError> {
    let l = &chain.l;
    assert_carried_balances(l, events);
    let queue = fill_queue(l, &m.keys.fill_queue);
    let on_book = |side: Side, id: u128| {
        let b = book(l, if side == Side::Bid { &m.keys.bids } else { &m.keys.asks });
        b.find(id).map(|at| b.orders[at].qty_lots)
    };
    for event in events {
        match event {
            SolexEvent::OrderPlaced(o) => {
                let maker_side = if o.side == Side::Bid { Side::Ask } else { Side::Bid };
                for f in &o.fills {
                    let q = queue.pending().find(|q| q.fill_seq == f.fill_seq).expect("a fill is queued");
                    prop_assert_eq!(
                        (f.qty_lots, f.base_atoms, f.quote_atoms, f.maker_fee),
                        (q.qty_lots, q.base_atoms, q.quote_atoms, q.maker_fee)
                    );
                    // A remainder below the minimum left with the fill: its Reduced says so.
                    if !o.reduced.iter().any(|r| r.order_id == f.maker_order_id) {
                        prop_assert_eq!(
                            on_book(maker_side, f.maker_order_id),
                            (f.remaining_lots > 0).then_some(f.remaining_lots)
                        );
                    }
                }
                for r in &o.reduced {
                    prop_assert_eq!(on_book(r.side, r.order_id), (r.remaining_lots > 0).then_some(r.remaining_lots));
                }
            }
            SolexEvent::FillsConsumed(c) => {
                let settled: Vec<_> = c
                    .settled
                    .iter()
                    .map(|s| (s.fill_seq, s.side, s.base_atoms, s.quote_atoms, s.maker_fee, s.unlocked))
                    .collect();
                let expected: Vec<_> = queued.iter().take(settled.len()).map(moved).collect();
                prop_assert_eq!(settled, expected, "settled entries carry their queue entries' amounts");
            }
            _ => {}
        }
    }
    Ok(())
}

fn run_case(chain: &mut Chain, fees: (i16, i16), min_lots: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let m = chain.open_market(fees.0, fees.1, min_lots);
    let params = Params {
        lot: 1_000,
        tick: 10,
        maker_bps: fees.0 as i64,
        taker_bps: fees.1 as i64,
        max_orders: MAX_ORDERS as usize,
        min_lots,
    };
    let start = Balances { base_available: BASE, quote_available: QUOTE, ..Default::default() };
    let mut model = Model::new(params, vec![start; TRADERS]);
    for op in ops {
        let queued: Vec<QueueEvent> = fill_queue(&chain.l, &m.keys.fill_queue).pending().copied().collect();
        let (expected, result) = match *op {
            Op::Place { t, bid, price, qty, kind, stp, max_fills, budget } => {
                let (qty, max_quote) = if kind == Kind::MarketByQuote { (u64::MAX, budget) } else { (qty, u64::MAX) };
                let expected = model.place(t, &Place { bid, price, qty, kind, stp, max_fills, max_quote });
                let args = PlaceOrderArgs {
                    side: if bid { Side::Bid } else { Side::Ask },
                    price,
                    qty_lots: qty,
                    max_quote_atoms: max_quote,
                    client_order_id: 0,
                    order_type: match kind {
                        Kind::Limit => OrderType::Limit,
                        Kind::PostOnly => OrderType::PostOnly,
                        Kind::ImmediateOrCancel => OrderType::ImmediateOrCancel,
                        Kind::FillOrKill => OrderType::FillOrKill,
                        Kind::MarketByQuote => OrderType::Market,
                    },
                    self_trade: match stp {
                        Stp::CancelResting => SelfTradeMode::CancelResting,
                        Stp::CancelTaking => SelfTradeMode::CancelTaking,
                        Stp::DecrementBoth => SelfTradeMode::DecrementBoth,
                        Stp::Abort => SelfTradeMode::Abort,
                    },
                    expiry: solex_sdk::Expiry::Never,
                    max_fills,
                };
                let w = &chain.wallets[t];
                (expected, chain.l.send(&[ix::place_order(w.pubkey(), &m.keys, args)], &[&w.keypair]))
            }
            Op::Cancel { t, pick } => {
                // Any resting order (sometimes someone else's): both must agree on the outcome.
                let all: Vec<(bool, u64, u64)> = model
                    .bids
                    .iter()
                    .map(|o| (true, o.price, o.seq))
                    .chain(model.asks.iter().map(|o| (false, o.price, o.seq)))
                    .collect();
                if all.is_empty() {
                    continue;
                }
                let (bid, price, seq) = all[pick % all.len()];
                let expected = model.cancel(t, bid, seq);
                let w = &chain.wallets[t];
                let side = if bid { Side::Bid } else { Side::Ask };
                let cancel = ix::cancel_order(w.pubkey(), &m.keys, side, solex_sdk::order_id(price, seq));
                (expected, chain.l.send(&[cancel], &[&w.keypair]))
            }
            Op::CancelAll { t } => {
                model.cancel_all(t);
                let w = &chain.wallets[t];
                (Ok(()), chain.l.send(&[ix::cancel_all(w.pubkey(), w.pubkey(), &m.keys, None, 32)], &[&w.keypair]))
            }
            Op::Consume { n } => {
                let expected = model.consume(n as usize);
                let queue = fill_queue(&chain.l, &m.keys.fill_queue);
                let makers: Vec<Pubkey> =
                    chain.wallets.iter().map(|w| pda::trader(&m.keys.market, &w.pubkey())).collect();
                let consume = ix::consume_events(&m.keys, &makers, queue.head_seq, n);
                (expected, chain.l.send(&[consume], &[&chain.crank]))
            }
        };
        prop_assert_eq!(program_error_name(&result), expected.map_err(|e| e.to_string()), "outcome of {:?}", op);
        compare(chain, &m, &model)?;
        if let Ok(landed) = &result {
            check_events(chain, &m, &landed.events, &queued)?;
        }
    }
    // Finally everything settles: the plain invariant with an empty queue.
    while !model.queue.is_empty() {
        model.consume(8).unwrap();
        let queue = fill_queue(&chain.l, &m.keys.fill_queue);
        let makers: Vec<Pubkey> = chain.wallets.iter().map(|w| pda::trader(&m.keys.market, &w.pubkey())).collect();
        chain.l.send(&[ix::consume_events(&m.keys, &makers, queue.head_seq, 8)], &[&chain.crank]).unwrap();
    }
    compare(chain, &m, &model)
}

#[test]
fn program_matches_the_reference_model() {
    let cases = std::env::var("SOLEX_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let chain = RefCell::new(Chain::new());
    let fees = prop_oneof![Just((0i16, 0i16)), Just((-2, 5)), Just((3, 7)), Just((10, 10))];
    // Minimum sizes of 0 (any) and 3 lots: remainders below it never rest.
    let strategy = (fees, prop_oneof![Just(0u64), Just(3u64)], prop::collection::vec(op(), 1..40));
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let started = std::time::Instant::now();
    runner
        .run(&strategy, |(fees, min_lots, ops)| run_case(&mut chain.borrow_mut(), fees, min_lots, &ops))
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{cases} random sequences matched the model in {:.1?}", started.elapsed());
}
