//! Prints compute units per Solex instruction and account rent, measured by
//! running the built SBF program on LiteSVM.
//!
//!     cargo cu-table            (alias for `cargo run -p solex-tests --bin cu-table`)
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{BookSide, CreateMarketArgs, Expiry, FillQueue, Market, PlaceOrderArgs, Side, Trader};
use solex_tests::ledger::{Landed, Ledger};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

/// Resting orders on the deep side (bids), spread over wallets of `SLOTS` open orders each.
const DEPTH: u64 = 1_000;
const SLOTS: u16 = 250;

fn order_id(landed: &Landed) -> u128 {
    match &landed.events[0] {
        SolexEvent::OrderPlaced(e) => e.order_id,
        other => panic!("expected OrderPlaced, got {other:?}"),
    }
}

/// Fixed keys: PDA bump searches cost compute units that depend on the addresses,
/// so random keys would make the figures differ from run to run.
fn key(seed: u8) -> Keypair {
    Keypair::new_from_array([seed; 32])
}

struct Bench {
    l: SvmLedger,
    m: TestMarket,
    rows: Vec<(String, u64)>,
}

impl Bench {
    fn row(&mut self, name: impl Into<String>, landed: &Landed) {
        self.rows.push((name.into(), landed.compute_units));
    }

    /// A funded wallet with a trader account of `slots` open orders, from a fixed key.
    fn wallet(&mut self, seed: u8, slots: u16) -> (Wallet, Landed) {
        let owner = key(seed);
        self.l.airdrop(&owner.pubkey(), 10_000_000_000);
        let (base, quote) = (self.m.keys.base_mint, self.m.keys.quote_mint);
        let auth = &self.m.mint_authority;
        let w = Wallet {
            base: create_token_account(&mut self.l, auth, &base, &owner.pubkey(), auth, u64::MAX / 64),
            quote: create_token_account(&mut self.l, auth, &quote, &owner.pubkey(), auth, u64::MAX / 64),
            keypair: owner,
        };
        let created = self
            .l
            .send(&[ix::create_trader(w.pubkey(), w.pubkey(), self.m.keys.market, slots)], &[&w.keypair])
            .unwrap();
        self.l
            .send(&[self.m.deposit_ix(&w, base, 1 << 50), self.m.deposit_ix(&w, quote, 1 << 50)], &[&w.keypair])
            .unwrap();
        (w, created)
    }

    fn place(&mut self, w: &Wallet, side: Side, price: u64, qty_lots: u64) -> Landed {
        let args = PlaceOrderArgs { max_fills: 32, ..PlaceOrderArgs::limit(side, price, qty_lots, price) };
        self.l.send(&[ix::place_order(w.pubkey(), &self.m.keys, args)], &[&w.keypair]).expect("place")
    }

    fn consume(&mut self, limit: u8) -> Landed {
        let queue = fill_queue(&self.l, &self.m.keys.fill_queue);
        let makers: Vec<_> = queue.pending().take(limit as usize).map(|e| e.maker).collect();
        let ix = ix::consume_events(&self.m.keys, &makers, queue.head_seq, limit);
        self.l.send(&[ix], &[&self.m.mint_authority]).expect("consume")
    }
}

fn main() {
    let mut l = SvmLedger::new();
    let payer = key(1);
    l.airdrop(&payer.pubkey(), 1_000_000_000_000);
    let base = create_mint_at(&mut l, &payer, &key(2), 9, TOKEN_PROGRAM);
    let quote = create_mint_at(&mut l, &payer, &key(3), 6, TOKEN_PROGRAM);
    let args = CreateMarketArgs {
        market_id: 0,
        base_lot_size: 1_000,
        quote_tick_size: 1,
        min_order_lots: 1,
        maker_fee_bps: -1,
        taker_fee_bps: 4,
    };
    let (keys, [bids, asks, queue], ixs) = create_market_ixs(&l, &payer, &payer.pubkey(), base, quote, args);
    // Book and queue accounts first, so the create_market row counts only the program.
    l.send(&ixs[..3], &[&payer, &bids, &asks, &queue]).expect("book accounts");
    let created = l.send(&ixs[3..], &[&payer]).expect("create_market");
    let m = TestMarket { keys, mint_authority: payer, base_program: TOKEN_PROGRAM, quote_program: TOKEN_PROGRAM };
    let mut b = Bench { l, m, rows: vec![] };
    b.row("create_market (2 vaults, 2 books, fill queue)", &created);

    let (w, created) = b.wallet(4, 32);
    b.row("create_trader (32 open orders)", &created);
    let landed = b.l.send(&[b.m.deposit_ix(&w, base, 1)], &[&w.keypair]).unwrap();
    b.row("deposit (SPL Token)", &landed);
    let landed = b.l.send(&[b.m.withdraw_ix(&w, base, 1)], &[&w.keypair]).unwrap();
    b.row("withdraw (SPL Token)", &landed);
    let auth = b.m.mint_authority.insecure_clone();
    let landed = b.l.send(&[ix::set_paused(auth.pubkey(), keys.market, true)], &[&auth]).unwrap();
    b.row("set_paused", &landed);
    b.l.send(&[ix::set_paused(auth.pubkey(), keys.market, false)], &[&auth]).unwrap();

    let first = b.place(&w, Side::Bid, 100_000, 10);
    b.row("place_order, resting limit (empty side)", &first);
    let cancel = b.l.send(&[ix::cancel_order(w.pubkey(), &keys, Side::Bid, order_id(&first))], &[&w.keypair]).unwrap();
    b.row("cancel_order (only order)", &cancel);

    // Bids at DEPTH+1..=2*DEPTH from several wallets: a bid at 1 is the worst
    // (inserted at the front, the whole side shifts), one at 10*DEPTH the best.
    let depth: Vec<Wallet> = (0..DEPTH.div_ceil(SLOTS as u64)).map(|i| b.wallet(10 + i as u8, SLOTS).0).collect();
    for (i, p) in (DEPTH + 1..=2 * DEPTH).enumerate() {
        let d = &depth[i / SLOTS as usize];
        b.place(d, Side::Bid, p, 10);
    }
    let worst = b.place(&w, Side::Bid, 1, 10);
    b.row(format!("place_order, resting (side of {DEPTH}, at the back)"), &worst);
    let best = b.place(&w, Side::Bid, 10 * DEPTH, 10);
    b.row(format!("place_order, resting (side of {DEPTH}, new best)"), &best);
    let c = b.l.send(&[ix::cancel_order(w.pubkey(), &keys, Side::Bid, order_id(&worst))], &[&w.keypair]).unwrap();
    b.row(format!("cancel_order (side of {DEPTH}, deepest)"), &c);
    let c = b.l.send(&[ix::cancel_order(w.pubkey(), &keys, Side::Bid, order_id(&best))], &[&w.keypair]).unwrap();
    b.row(format!("cancel_order (side of {DEPTH}, best)"), &c);

    // Crossing: a maker's asks above the bids, taken by `w`.
    let (maker, _) = b.wallet(5, 64);
    // `fills` asks of `lots` each, lifted by one bid, then consumed in one batch;
    // 32 is the most one instruction accepts (solex::matching::MAX_BATCH).
    for (fills, lots, take_row, consume_row) in [
        (1, 10, "place_order, crossing, 1 fill", "consume_events, 1 fill"),
        (10, 10, "place_order, crossing, 10 fills", "consume_events, 10 fills (one maker)"),
        (32, 1, "place_order, crossing, 32 fills (the most)", "consume_events, 32 fills (the most, one maker)"),
    ] {
        for p in 0..fills {
            b.place(&maker, Side::Ask, 50_000 + p, lots);
        }
        let take = b.place(&w, Side::Bid, 60_000, fills * lots);
        b.row(take_row, &take);
        let consume = b.consume(fills as u8);
        b.row(consume_row, &consume);
    }

    for p in 0..32 {
        b.place(&w, Side::Ask, 70_000 + p, 1);
    }
    let all = b.l.send(&[ix::cancel_all(w.pubkey(), w.pubkey(), &keys, None, 32)], &[&w.keypair]).unwrap();
    b.row("cancel_all, 32 orders", &all);
    let settle = b.l.send(&[b.m.settle_ix(&maker)], &[&auth]).unwrap();
    b.row("settle_funds (base and quote, SPL Token)", &settle);

    // 32 asks that expire, behind the side of 1,000 bids' opposite, pruned by anyone.
    let now = b.l.clock();
    for p in 0..32 {
        let args =
            PlaceOrderArgs { expiry: Expiry::Slot(now.slot + 1), ..PlaceOrderArgs::limit(Side::Ask, 80_000 + p, 1, p) };
        b.l.send(&[ix::place_order(w.pubkey(), &keys, args)], &[&w.keypair]).expect("expiring ask");
    }
    b.l.set_clock(now.slot + 2, now.unix_timestamp + 1);
    let prune = b.l.send(&[ix::prune_expired(&keys, Side::Ask, 32)], &[&auth]).unwrap();
    b.row("prune_expired, 32 orders", &prune);
    b.consume(32);

    // A full side (4,096 bids) and an order better than its worst: the worst is evicted.
    let rest = solex_sdk::BOOK_CAPACITY as u64 - book(&b.l, &keys.bids).len as u64;
    let fillers: Vec<Wallet> = (0..rest.div_ceil(256)).map(|i| b.wallet(40 + i as u8, 256).0).collect();
    for i in 0..rest {
        b.place(&fillers[(i / 256) as usize], Side::Bid, 3 * DEPTH + i, 1);
    }
    let evicts = b.place(&w, Side::Bid, 10 * DEPTH, 10);
    b.row("place_order, resting on a full side (evicts the worst)", &evicts);

    println!("| instruction | compute units |");
    println!("|---|---:|");
    for (name, cu) in &b.rows {
        println!("| {name} | {cu} |");
    }
    println!();
    let l = &b.l;
    let sol = |len: usize| l.rent_exempt(len) as f64 / 1e9;
    println!("| account | bytes | rent-exempt SOL |");
    println!("|---|---:|---:|");
    println!("| market | {} | {:.6} |", Market::LEN, sol(Market::LEN));
    println!(
        "| book side (x2 per market, {} orders each) | {} | {:.6} |",
        solex_sdk::BOOK_CAPACITY,
        BookSide::LEN,
        sol(BookSide::LEN)
    );
    println!(
        "| fill queue ({} pending fills) | {} | {:.6} |",
        solex_sdk::FILL_QUEUE_CAPACITY,
        FillQueue::LEN,
        sol(FillQueue::LEN)
    );
    println!("| vault token account (x2 per market) | 165 | {:.6} |", sol(165));
    println!(
        "| **market total** (market + 2 books + queue + 2 vaults) | {} | {:.6} |",
        Market::LEN + 2 * BookSide::LEN + FillQueue::LEN + 2 * 165,
        sol(Market::LEN) + 2.0 * sol(BookSide::LEN) + sol(FillQueue::LEN) + 2.0 * sol(165)
    );
    for slots in [8u16, 32, 128] {
        println!("| trader ({slots} open orders) | {} | {:.6} |", Trader::space(slots), sol(Trader::space(slots)));
    }
}
