//! End to end on a real solana-test-validator with the built program deployed:
//! wallets from keypair files, a market with fees, deposits, resting and crossing
//! orders, a crank consuming the fills, settlement to wallets and a fee sweep, all
//! signed and sent over RPC, and the accounts read back over RPC.
use anchor_lang::{AnchorDeserialize, InstructionData};
use solana_keypair::{read_keypair_file, write_keypair_file};
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, PlaceOrderArgs, Side, SolexError};
use solex_tests::ledger::Ledger;
use solex_tests::scenario::*;
use solex_tests::validator::TestValidator;
use solex_tests::{Keypair, Signer};

#[test]
fn trading_session_on_a_real_validator() {
    let mut validator = TestValidator::start();
    let mut chain = validator.rpc();

    // Two users whose keys live in keypair files, as the Solana CLI keeps them.
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<_> = ["alice.json", "bob.json"].iter().map(|n| dir.path().join(n)).collect();
    for p in &paths {
        write_keypair_file(&Keypair::new(), p).unwrap();
    }
    let [alice_kp, bob_kp] = [&paths[0], &paths[1]].map(|p| read_keypair_file(p).unwrap());

    let args = CreateMarketArgs {
        market_id: 1,
        base_lot_size: 1_000_000,
        quote_tick_size: 100,
        min_order_lots: 1,
        maker_fee_bps: -1,
        taker_fee_bps: 4,
    };
    let (m, created) = TestMarket::create(&mut chain, args);
    let k = m.keys;
    let (alice, alice_created) = m.wallet_from(&mut chain, alice_kp, 50_000_000_000, 0);
    let (bob, bob_created) = m.wallet_from(&mut chain, bob_kp, 0, 5_000_000_000);
    let (carol, carol_created) = m.wallet_from(&mut chain, Keypair::new(), 10_000_000_000, 1_000_000_000);
    let all = [&alice, &bob, &carol];
    let crank = Keypair::new();
    Ledger::airdrop(&mut chain, &crank.pubkey(), 1_000_000_000);

    let mut events: Vec<_> =
        [created, alice_created, bob_created, carol_created].into_iter().flat_map(|l| l.events).collect();
    let mut send = |chain: &mut dyn Ledger, ixs: &[_], who: &Keypair| {
        let landed = chain.send(ixs, &[who]).expect("transaction lands");
        events.extend(landed.events.iter().cloned());
        landed
    };
    send(&mut chain, &[m.deposit_ix(&alice, k.base_mint, 20_000_000_000)], &alice.keypair);
    send(&mut chain, &[m.deposit_ix(&bob, k.quote_mint, 3_000_000_000)], &bob.keypair);
    send(
        &mut chain,
        &[m.deposit_ix(&carol, k.base_mint, 10_000_000_000), m.deposit_ix(&carol, k.quote_mint, 1_000_000_000)],
        &carol.keypair,
    );
    // Alice offers 5 lots at 2_000 and 5 at 2_100; Bob bids 10 lots at 1_500 and 1 lot at 1_400.
    let limit = PlaceOrderArgs::limit;
    send(&mut chain, &[ix::place_order(alice.pubkey(), &k, limit(Side::Ask, 2_000, 5, 1))], &alice.keypair);
    send(&mut chain, &[ix::place_order(alice.pubkey(), &k, limit(Side::Ask, 2_100, 5, 2))], &alice.keypair);
    send(&mut chain, &[ix::place_order(bob.pubkey(), &k, limit(Side::Bid, 1_500, 10, 3))], &bob.keypair);
    send(&mut chain, &[ix::place_order(bob.pubkey(), &k, limit(Side::Bid, 1_400, 1, 4))], &bob.keypair);
    m.assert_conserved(&chain, &all);

    // A rejected order is reported with its program error and changes nothing.
    let before = Snapshot::take(&chain, &[k.market, k.bids, k.asks, k.fill_queue]);
    let post_only = PlaceOrderArgs { order_type: solex_sdk::OrderType::PostOnly, ..limit(Side::Bid, 2_000, 1, 5) };
    assert_program_error(
        chain.send(&[ix::place_order(bob.pubkey(), &k, post_only)], &[&bob.keypair]),
        SolexError::WouldCross,
    );
    before.assert_unchanged(&chain);

    // Bob lifts 7 lots up to 2_100: 5 from Alice at 2_000, 2 at 2_100.
    let take = send(&mut chain, &[ix::place_order(bob.pubkey(), &k, limit(Side::Bid, 2_100, 7, 6))], &bob.keypair);
    let SolexEvent::OrderPlaced(taken) = &take.events[0] else { panic!("no OrderPlaced") };
    assert_eq!((taken.filled_lots, taken.fills.len(), taken.rested_lots), (7, 2, 0));
    assert_eq!(taken.filled_quote, 5 * 2_000 * 100 + 2 * 2_100 * 100);
    // Carol sells 12 lots into Bob's bids as an immediate-or-cancel order: 10 at 1_500, 1 at 1_400, 1 cancelled.
    let ioc = PlaceOrderArgs { order_type: solex_sdk::OrderType::ImmediateOrCancel, ..limit(Side::Ask, 1_000, 12, 7) };
    let sold = send(&mut chain, &[ix::place_order(carol.pubkey(), &k, ioc)], &carol.keypair);
    let SolexEvent::OrderPlaced(sold) = &sold.events[0] else { panic!("no OrderPlaced") };
    assert_eq!((sold.filled_lots, sold.rested_lots), (11, 0));
    m.assert_conserved(&chain, &all);
    assert_eq!(fill_queue(&chain, &k.fill_queue).count, 4);

    // A crank (any key) settles the makers, in order; replaying a consumed head fails.
    while let Some(consume) = m.next_consume_ix(&chain) {
        send(&mut chain, &[consume], &crank);
    }
    assert_program_error(chain.send(&[ix::consume_events(&k, &[], 0, 8)], &[&crank]), SolexError::QueueHeadMismatch);
    m.assert_conserved(&chain, &all);

    // Everyone cancels what rests and settles to their wallets; the authority sweeps the fees.
    for w in all {
        let t = trader_account(&chain, &k.market, &w.pubkey());
        if t.open_orders > 0 {
            send(&mut chain, &[ix::cancel_all(w.pubkey(), w.pubkey(), &k, None, 32)], &w.keypair);
        }
        send(&mut chain, &[m.settle_ix(w)], &crank);
    }
    let fees = market(&chain, &k.market).fees_accrued;
    assert!(fees > 0);
    let treasury =
        create_token_account(&mut chain, &m.mint_authority, &k.quote_mint, &crank.pubkey(), &m.mint_authority, 0);
    send(&mut chain, &[ix::sweep_fees(m.mint_authority.pubkey(), &k, treasury, TOKEN_PROGRAM)], &m.mint_authority);
    assert_eq!(token_balance(&chain, &treasury), fees);

    // Vaults are empty and every atom is back in a wallet (or the treasury).
    assert_eq!((token_balance(&chain, &k.base_vault), token_balance(&chain, &k.quote_vault)), (0, 0));
    let base_total: u64 = all.iter().map(|w| token_balance(&chain, &w.base)).sum();
    let quote_total: u64 = all.iter().map(|w| token_balance(&chain, &w.quote)).sum::<u64>() + fees;
    assert_eq!((base_total, quote_total), (60_000_000_000, 6_000_000_000));
    // Bob bought 18 lots (7 + 11 via his bids), Alice sold 7, Carol sold 11.
    assert_eq!(token_balance(&chain, &bob.base), 18_000_000);
    assert_eq!(token_balance(&chain, &alice.base), 50_000_000_000 - 7_000_000);
    assert_eq!(token_balance(&chain, &carol.base), 10_000_000_000 - 11_000_000);
    m.assert_conserved(&chain, &all);

    // Events came back through getTransaction's inner instructions, gapless.
    let market_events: Vec<_> = events.iter().filter(|e| e.market() == k.market).map(|e| e.seq()).collect();
    assert_eq!(market_events, (1..=market_events.len() as u64).collect::<Vec<_>>(), "{events:?}");
    assert_eq!(market(&chain, &k.market).event_seq, *market_events.last().unwrap());

    // The toolchain's i128 libcalls on the real runtime.
    let payer = &m.mint_authority;
    for (op, a, b, want) in [
        (sbf_selftest::op::MUL, -3i128 << 70, 5i128, (-3i128 << 70) * 5),
        (sbf_selftest::op::UDIV, (u64::MAX as i128) << 20, 12_345, (((u64::MAX as u128) << 20) / 12_345) as i128),
        (sbf_selftest::op::UMOD, (u64::MAX as i128) << 20, 12_345, (((u64::MAX as u128) << 20) % 12_345) as i128),
        (sbf_selftest::op::IDIV, -(1i128 << 100), 7, -(1i128 << 100) / 7),
        (sbf_selftest::op::IMOD, -(1i128 << 100), 7, -(1i128 << 100) % 7),
    ] {
        let data = sbf_selftest::instruction::Check { op, a, b }.data();
        let check = anchor_lang::solana_program::instruction::Instruction {
            program_id: sbf_selftest::ID,
            accounts: vec![],
            data,
        };
        let landed = chain.send(&[check], &[payer]).expect("selftest lands");
        assert_eq!(i128::deserialize(&mut &landed.return_data[..]).unwrap(), want, "op {op}");
    }

    // Clean shutdown: the process is gone.
    let pid = validator.pid().expect("running");
    validator.stop();
    assert!(!validator.is_running());
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "validator process {pid} still exists");
}
