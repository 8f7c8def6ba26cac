//! Markets over Token-2022 mints (no extensions), alone and mixed with SPL Token.
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, PlaceOrderArgs, Side};
use solex_tests::ledger::Ledger;
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::scenario::*;
use solex_tests::Signer;

const ARGS: CreateMarketArgs = CreateMarketArgs {
    market_id: 1,
    base_lot_size: 1_000,
    quote_tick_size: 10,
    min_order_lots: 0,
    maker_fee_bps: -2,
    taker_fee_bps: 5,
};

fn round_trip(base_program: solex_sdk::Pubkey, quote_program: solex_sdk::Pubkey) {
    let mut l = SvmLedger::new();
    let (m, _) = TestMarket::create_with(&mut l, ARGS, base_program, quote_program);
    let k = m.keys;
    assert_eq!(l.owner(&k.base_vault), Some(base_program), "base vault belongs to the base mint's program");
    assert_eq!(l.owner(&k.quote_vault), Some(quote_program), "quote vault belongs to the quote mint's program");
    let w = m.wallet(&mut l, 5_000_000, 5_000_000);
    l.send(&[m.deposit_ix(&w, k.base_mint, 2_000_000), m.deposit_ix(&w, k.quote_mint, 3_000_000)], &[&w.keypair])
        .expect("deposits");
    assert_eq!((token_balance(&l, &k.base_vault), token_balance(&l, &k.quote_vault)), (2_000_000, 3_000_000));

    // Bid 10 lots at 100 ticks: 10 * 100 * 10 = 10_000 quote atoms locked.
    let placed = l
        .send(&[ix::place_order(w.pubkey(), &k, PlaceOrderArgs::limit(Side::Bid, 100, 10, 1))], &[&w.keypair])
        .expect("place");
    let SolexEvent::OrderPlaced(order) = &placed.events[0] else { panic!("no OrderPlaced") };
    assert_eq!(trader_account(&l, &k.market, &w.pubkey()).quote_locked, 10_000);
    m.assert_conserved(&l, &[&w]);

    // A seller takes 4 lots: 4_000 quote notional, taker fee 2 (5 bps, rounded up), maker rebate 0 (2 bps, rounded down).
    let s = m.wallet(&mut l, 5_000_000, 0);
    l.send(&[m.deposit_ix(&s, k.base_mint, 4_000)], &[&s.keypair]).expect("seller deposit");
    l.send(&[ix::place_order(s.pubkey(), &k, PlaceOrderArgs::limit(Side::Ask, 100, 4, 9))], &[&s.keypair])
        .expect("take");
    m.assert_conserved(&l, &[&w, &s]);
    m.consume_all(&mut l, &m.mint_authority);
    m.assert_conserved(&l, &[&w, &s]);
    l.send(&[m.settle_ix(&s)], &[&m.mint_authority]).expect("settle seller");
    assert_eq!((token_balance(&l, &s.base), token_balance(&l, &s.quote)), (5_000_000 - 4_000, 4_000 - 2));
    l.send(&[ix::cancel_order(w.pubkey(), &k, Side::Bid, order.order_id)], &[&w.keypair]).expect("cancel");
    l.send(&[m.settle_ix(&w)], &[&w.keypair]).expect("settle");
    assert_eq!((token_balance(&l, &w.base), token_balance(&l, &w.quote)), (5_000_000 + 4_000, 5_000_000 - 4_000));
    l.send(&[ix::sweep_fees(m.mint_authority.pubkey(), &k, s.quote, quote_program)], &[&m.mint_authority])
        .expect("sweep");
    assert_eq!(token_balance(&l, &s.quote), 4_000);
    assert_eq!((token_balance(&l, &k.base_vault), token_balance(&l, &k.quote_vault)), (0, 0));
    m.assert_conserved(&l, &[&w, &s]);

    // The other token program for a mint is rejected and changes nothing.
    let wrong_program = if quote_program == TOKEN_PROGRAM { TOKEN_2022_PROGRAM } else { TOKEN_PROGRAM };
    let before =
        Snapshot::take(&l, &[k.market, k.quote_vault, w.quote, solex_sdk::pda::trader(&k.market, &w.pubkey())]);
    let wrong = ix::deposit(w.pubkey(), &k, w.quote, k.quote_mint, wrong_program, 1);
    assert!(l.send(&[wrong], &[&w.keypair]).is_err(), "deposit through the wrong token program must fail");
    before.assert_unchanged(&l);
}

#[test]
fn token_2022_quote_with_spl_token_base() {
    round_trip(TOKEN_PROGRAM, TOKEN_2022_PROGRAM);
}

#[test]
fn token_2022_base_and_quote() {
    round_trip(TOKEN_2022_PROGRAM, TOKEN_2022_PROGRAM);
}
