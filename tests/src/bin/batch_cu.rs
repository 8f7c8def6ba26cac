//! Compute units of a batch market's steps, per step and per sealed order end to
//! end, for batches of 32, 128 and 256 sealed orders, beside a continuous
//! place + consume. LiteSVM on the built `.so`.
//!
//!     cargo run -p solex-tests --bin batch-cu --ignore-rust-version
use solex::state::Auction;
use solex_sdk::auction::{self as ax, SealedOrder};
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, Expiry, OrderType, PlaceOrderArgs, Side};
use solex_tests::auction::{with_budget, Committee, TestAuction};
use solex_tests::bots::Lcg;
use solex_tests::ledger::{Landed, Ledger};
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::Wallet;
use solex_tests::{Keypair, Signer};

const WALLETS: usize = 16;
const RESTING: u64 = 16;

#[derive(Default)]
struct Steps {
    submit: Vec<u64>,
    decrypt: Vec<u64>,
    clear: Vec<u64>,
    execute: Vec<u64>,
    consume: Vec<u64>,
}

fn sum(v: &[u64]) -> u64 {
    v.iter().sum()
}

fn run(orders: u64) -> Steps {
    let mut l = SvmLedger::new();
    l.wait_until_slot(1_000);
    let crank = Keypair::new();
    l.airdrop(&crank.pubkey(), 1_000_000_000_000);
    let mut c = Committee::create(&mut l, &crank, 3, 2, 8, 32, 64);
    let first = c.register_ahead(&mut l, 16);
    l.wait_until_slot(first * 8);
    let args = CreateMarketArgs {
        market_id: 1,
        base_lot_size: 1_000,
        quote_tick_size: 10,
        min_order_lots: 1,
        maker_fee_bps: -1,
        taker_fee_bps: 4,
    };
    let rules = solex::CreateAuctionArgs { batch_slots: 8, reveal_timeout_slots: 40, sealed_fee: 100 };
    let (a, _) = TestAuction::create(&mut l, &c, args, rules, orders as u32);
    let k = a.m.keys;
    let wallets: Vec<Wallet> = (0..WALLETS)
        .map(|_| {
            let w = a.m.wallet(&mut l, 1 << 50, 1 << 50);
            l.send(
                &[a.m.deposit_ix(&w, k.base_mint, 1 << 45), a.m.deposit_ix(&w, k.quote_mint, 1 << 45)],
                &[&w.keypair],
            )
            .unwrap();
            w
        })
        .collect();
    // A resting ask ladder the batch's bids sweep into.
    let maker = &wallets[0];
    for i in 0..RESTING {
        let args =
            PlaceOrderArgs { order_type: OrderType::PostOnly, ..PlaceOrderArgs::limit(Side::Ask, 1_000 + i, 5, i) };
        l.send(&[ix::place_order(maker.pubkey(), &k, args)], &[&maker.keypair]).unwrap();
    }
    let mut steps = Steps::default();
    let mut rng = Lcg(17);
    let (batch, _, round) = a.current(&l, &c);
    for n in 0..orders {
        let w = &wallets[1 + (n as usize % (WALLETS - 1))];
        let side = if n % 2 == 0 { Side::Bid } else { Side::Ask };
        let price = if side == Side::Bid { 1_000 + rng.next(20) } else { 990 + rng.next(20) };
        let order = SealedOrder {
            side,
            order_type: OrderType::Limit,
            price,
            qty_lots: 1 + rng.next(8),
            client_order_id: n,
            expiry: Expiry::Never,
        };
        let landed = l.send(&[a.seal_ix(&l, &c, w, order, None)], &[&w.keypair]).expect("submit");
        steps.submit.push(landed.compute_units);
    }
    let (h, _) = a.state(&l).batch(batch).map(|(h, r)| (*h, r.len())).unwrap();
    l.wait_until_slot(h.close_slot);
    c.release(&mut l, &crank, round, &[0, 1]);
    let send = |l: &mut SvmLedger, ix| -> Landed { l.send(&with_budget(ix), &[&crank]).expect("step") };
    while let Some(ix) = a.next_decrypt_ix(&l, batch) {
        steps.decrypt.push(send(&mut l, ix).compute_units);
    }
    steps.clear.push(send(&mut l, ax::clear_batch(&a.keys, batch)).compute_units);
    while let Some(ix) = a.next_execute_ix(&l, batch, 16) {
        steps.execute.push(send(&mut l, ix).compute_units);
    }
    while let Some(ix) = a.m.next_consume_ix(&l) {
        steps.consume.push(l.send(&with_budget(ix), &[&crank]).expect("consume").compute_units);
    }
    let cleared = a.state(&l).auction;
    assert_eq!(cleared.batches_cleared, 1);
    let _ = Auction::LEN;
    steps
}

fn main() {
    println!("| batch of N sealed orders | submit (each) | decrypt (per tx, per order) | clear | execute (per tx, per order) | consume (per tx) | end to end per sealed order |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in [32u64, 128, 256] {
        let s = run(n);
        let total = sum(&s.submit) + sum(&s.decrypt) + sum(&s.clear) + sum(&s.execute) + sum(&s.consume);
        println!(
            "| {n} | {} | {} txs, {} per order | {} | {} txs, {} per order | {} txs, {} | {} |",
            sum(&s.submit) / n,
            s.decrypt.len(),
            sum(&s.decrypt) / n,
            sum(&s.clear),
            s.execute.len(),
            sum(&s.execute) / n,
            s.consume.len(),
            sum(&s.consume) / s.consume.len().max(1) as u64,
            total / n,
        );
    }
    println!(
        "\nContinuous, for comparison (`cargo cu-table`): place_order crossing with 1 fill + consume_events of it."
    );
}
