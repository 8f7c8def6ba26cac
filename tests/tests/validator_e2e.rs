//! End to end on a real solana-test-validator with the built program deployed:
//! wallets from keypair files, a market, deposits, orders and cancels, all
//! signed and sent over RPC, and the accounts read back over RPC.
use anchor_lang::{AnchorDeserialize, InstructionData};
use solana_keypair::{read_keypair_file, write_keypair_file};
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, PlaceOrderArgs, Side, SolexError};
use solex_tests::ledger::Ledger;
use solex_tests::scenario::*;
use solex_tests::validator::TestValidator;
use solex_tests::Keypair;

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

    let args = CreateMarketArgs { market_id: 1, base_lot_size: 1_000_000, quote_tick_size: 100 };
    let (m, created) = TestMarket::create(&mut chain, args);
    let k = m.keys;
    let (alice, alice_created) = m.wallet_from(&mut chain, alice_kp, 50_000_000_000, 0);
    let (bob, bob_created) = m.wallet_from(&mut chain, bob_kp, 0, 5_000_000_000);

    let mut events: Vec<_> = [created, alice_created, bob_created].into_iter().flat_map(|l| l.events).collect();
    let mut send = |chain: &mut dyn Ledger, ixs: &[_], who: &Wallet| {
        let landed = chain.send(ixs, &[&who.keypair]).expect("transaction lands");
        events.extend(landed.events.iter().cloned());
        landed
    };
    send(&mut chain, &[m.deposit_ix(&alice, k.base_mint, 20_000_000_000)], &alice);
    send(&mut chain, &[m.deposit_ix(&bob, k.quote_mint, 3_000_000_000)], &bob);
    // Alice offers 5 lots at 2_000 ticks; Bob bids 10 lots at 1_500 ticks and 1 lot at 1_400.
    send(
        &mut chain,
        &[ix::place_order(
            alice.pubkey(),
            &k,
            PlaceOrderArgs { side: Side::Ask, price: 2_000, qty_lots: 5, client_order_id: 1 },
        )],
        &alice,
    );
    let bid = send(
        &mut chain,
        &[ix::place_order(
            bob.pubkey(),
            &k,
            PlaceOrderArgs { side: Side::Bid, price: 1_500, qty_lots: 10, client_order_id: 2 },
        )],
        &bob,
    );
    send(
        &mut chain,
        &[ix::place_order(
            bob.pubkey(),
            &k,
            PlaceOrderArgs { side: Side::Bid, price: 1_400, qty_lots: 1, client_order_id: 3 },
        )],
        &bob,
    );

    // A rejected order is reported with its program error and changes nothing.
    let before = Snapshot::take(&chain, &[k.market, k.bids, k.asks]);
    assert_program_error(
        chain.send(
            &[ix::place_order(
                bob.pubkey(),
                &k,
                PlaceOrderArgs { side: Side::Bid, price: 2_000, qty_lots: 1, client_order_id: 4 },
            )],
            &[&bob.keypair],
        ),
        SolexError::WouldCross,
    );
    before.assert_unchanged(&chain);

    // Read back over RPC.
    let a = trader_account(&chain, &k.market, &alice.pubkey());
    let b = trader_account(&chain, &k.market, &bob.pubkey());
    // 5 lots x 1_000_000 base atoms per lot.
    assert_eq!((a.base_available, a.base_locked), (20_000_000_000 - 5_000_000, 5_000_000));
    assert_eq!((b.quote_available, b.quote_locked), (3_000_000_000 - 1_500_000 - 140_000, 1_500_000 + 140_000));
    let bids = book(&chain, &k.bids);
    assert_eq!(bids.orders().iter().map(|o| o.price).collect::<Vec<_>>(), vec![1_400, 1_500]);
    assert_eq!(book(&chain, &k.asks).best().map(|o| o.price), Some(2_000));
    m.assert_conserved(&chain, &[&alice, &bob]);

    // Bob cancels his best bid, then both withdraw everything available.
    let SolexEvent::OrderPlaced(placed) = &bid.events[0] else { panic!("no OrderPlaced") };
    send(&mut chain, &[ix::cancel_order(bob.pubkey(), &k, Side::Bid, placed.order_id)], &bob);
    let b = trader_account(&chain, &k.market, &bob.pubkey());
    assert_eq!((b.quote_available, b.quote_locked), (3_000_000_000 - 140_000, 140_000));
    send(&mut chain, &[m.withdraw_ix(&bob, k.quote_mint, b.quote_available)], &bob);
    send(&mut chain, &[m.withdraw_ix(&alice, k.base_mint, 15_000_000_000)], &alice);
    assert_eq!(token_balance(&chain, &bob.quote), 5_000_000_000 - 140_000);
    assert_eq!(token_balance(&chain, &alice.base), 50_000_000_000 - 5_000_000_000);
    m.assert_conserved(&chain, &[&alice, &bob]);

    // Events came back through getTransaction's inner instructions, gapless.
    let market_events: Vec<_> = events.iter().filter(|e| e.market() == k.market).map(|e| e.seq()).collect();
    assert_eq!(market_events, (1..=market_events.len() as u64).collect::<Vec<_>>(), "{events:?}");
    assert!(market_events.len() >= 10, "market, 2 traders, 2 deposits, 3 orders, 1 cancel, 2 withdrawals");
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
