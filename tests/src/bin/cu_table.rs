//! Prints compute units per Solex instruction and account rent, measured by
//! running the built SBF program on LiteSVM.
//!
//!     cargo cu-table            (alias for `cargo run -p solex-tests --bin cu-table`)
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{BookSide, CreateMarketArgs, Market, PlaceOrderArgs, Side, Trader};
use solex_tests::ledger::{Landed, Ledger};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

const DEPTH: u64 = 1_000;

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

fn main() {
    let mut l = SvmLedger::new();
    let mut rows: Vec<(String, u64)> = vec![];
    let payer = key(1);
    l.airdrop(&payer.pubkey(), 1_000_000_000_000);
    let base = create_mint_at(&mut l, &payer, &key(2), 9, TOKEN_PROGRAM);
    let quote = create_mint_at(&mut l, &payer, &key(3), 6, TOKEN_PROGRAM);
    let args = CreateMarketArgs { market_id: 0, base_lot_size: 1_000, quote_tick_size: 1 };
    let (keys, [bids, asks], ixs) = create_market_ixs(&l, &payer, &payer.pubkey(), base, quote, args);
    // Book accounts first, so the create_market row counts only the program.
    l.send(&ixs[..2], &[&payer, &bids, &asks]).expect("book accounts");
    let landed = l.send(&ixs[2..], &[&payer]).expect("create_market");
    rows.push(("create_market (2 vaults, 2 books)".into(), landed.compute_units));
    let m = TestMarket { keys, mint_authority: payer, base_program: TOKEN_PROGRAM, quote_program: TOKEN_PROGRAM };
    let owner = key(4);
    l.airdrop(&owner.pubkey(), 10_000_000_000);
    let landed = l.send(&[ix::create_trader(owner.pubkey(), owner.pubkey(), keys.market)], &[&owner]).unwrap();
    rows.push(("create_trader".into(), landed.compute_units));
    let w = Wallet {
        base: create_token_account(&mut l, &m.mint_authority, &base, &owner.pubkey(), &m.mint_authority, u64::MAX / 4),
        quote: create_token_account(
            &mut l,
            &m.mint_authority,
            &quote,
            &owner.pubkey(),
            &m.mint_authority,
            u64::MAX / 4,
        ),
        keypair: owner,
    };
    let landed = l.send(&[m.deposit_ix(&w, base, 1 << 50)], &[&w.keypair]).unwrap();
    rows.push(("deposit (SPL Token)".into(), landed.compute_units));
    l.send(&[m.deposit_ix(&w, quote, 1 << 50)], &[&w.keypair]).unwrap();
    let landed = l.send(&[m.withdraw_ix(&w, base, 1)], &[&w.keypair]).unwrap();
    rows.push(("withdraw (SPL Token)".into(), landed.compute_units));

    let authority = &m.mint_authority;
    let landed = l.send(&[ix::set_paused(authority.pubkey(), keys.market, true)], &[authority]).unwrap();
    rows.push(("set_paused".into(), landed.compute_units));
    l.send(&[ix::set_paused(authority.pubkey(), keys.market, false)], &[authority]).unwrap();

    let place = |l: &mut SvmLedger, side, price| {
        l.send(
            &[ix::place_order(w.pubkey(), &keys, PlaceOrderArgs { side, price, qty_lots: 10, client_order_id: 0 })],
            &[&w.keypair],
        )
        .expect("place")
    };
    let first = place(&mut l, Side::Bid, 100_000);
    rows.push(("place_order, resting (empty side)".into(), first.compute_units));
    let cancel = l.send(&[ix::cancel_order(w.pubkey(), &keys, Side::Bid, order_id(&first))], &[&w.keypair]).unwrap();
    rows.push(("cancel_order (only order)".into(), cancel.compute_units));

    // A side of DEPTH orders at prices DEPTH+1..=2*DEPTH: a bid at 1 is the worst
    // (inserted at the front, the whole side shifts), one at 10*DEPTH the best (no shift).
    for p in DEPTH + 1..=2 * DEPTH {
        place(&mut l, Side::Bid, p);
    }
    let worst = place(&mut l, Side::Bid, 1);
    rows.push((format!("place_order, resting (side of {DEPTH}, at the back of the queue)"), worst.compute_units));
    let best = place(&mut l, Side::Bid, 10 * DEPTH);
    rows.push((format!("place_order, resting (side of {DEPTH}, new best)"), best.compute_units));
    let c = l.send(&[ix::cancel_order(w.pubkey(), &keys, Side::Bid, order_id(&worst))], &[&w.keypair]).unwrap();
    rows.push((format!("cancel_order (side of {DEPTH}, deepest order)"), c.compute_units));
    let c = l.send(&[ix::cancel_order(w.pubkey(), &keys, Side::Bid, order_id(&best))], &[&w.keypair]).unwrap();
    rows.push((format!("cancel_order (side of {DEPTH}, best order)"), c.compute_units));

    println!("| instruction | compute units |");
    println!("|---|---:|");
    for (name, cu) in &rows {
        println!("| {name} | {cu} |");
    }
    println!();
    let sol = |len: usize| l.rent_exempt(len) as f64 / 1e9;
    println!("| account | bytes | rent-exempt SOL |");
    println!("|---|---:|---:|");
    let market_total = Market::LEN;
    println!("| market | {} | {:.6} |", Market::LEN, sol(Market::LEN));
    println!(
        "| book side (x2 per market, {} orders each) | {} | {:.6} |",
        solex_sdk::BOOK_CAPACITY,
        BookSide::LEN,
        sol(BookSide::LEN)
    );
    println!("| vault token account (x2 per market) | 165 | {:.6} |", sol(165));
    println!("| trader | {} | {:.6} |", Trader::LEN, sol(Trader::LEN));
    println!(
        "| **market total** (market + 2 books + 2 vaults) | {} | {:.6} |",
        market_total + 2 * BookSide::LEN + 2 * 165,
        sol(Market::LEN) + 2.0 * sol(BookSide::LEN) + 2.0 * sol(165)
    );
}
