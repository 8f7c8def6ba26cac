//! Solex called by another program, in v0 transactions whose address lookup table
//! holds Solex's program id and event authority (issue 14, finding 4), on the built
//! `.so` files: `programs/cpi-router` forwards a trader's instruction to Solex by
//! CPI. Solex's event self-invocations then name the program by a loaded address,
//! whose index lies past the message's static keys; the events must still be found
//! (they were not, when resolution used the static keys alone), and they must
//! continue the market's sequence with no gap.
use solana_message::{v0, VersionedMessage};
use solana_transaction::versioned::VersionedTransaction;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::{pda, CreateMarketArgs, PlaceOrderArgs, Side};
use solex_tests::ledger::{events_from_inner, AccountKeys, Ledger};
use solex_tests::litesvm_ledger::{routed, SvmLedger};
use solex_tests::scenario::*;
use solex_tests::{Keypair, Signer};

const ARGS: CreateMarketArgs = CreateMarketArgs {
    market_id: 1,
    base_lot_size: 1_000,
    quote_tick_size: 10,
    min_order_lots: 0,
    maker_fee_bps: 0,
    taker_fee_bps: 5,
};

/// What resolving inner instructions against the message's static keys alone saw
/// (the decoders before the fix): the loaded addresses do not exist for it.
fn static_keys_only(keys: &AccountKeys) -> AccountKeys {
    AccountKeys::legacy(keys.static_keys.clone())
}

/// A market with a maker resting asks at 110 and 111, and a funded taker.
fn world() -> (SvmLedger, TestMarket, Wallet, Wallet) {
    let mut l = SvmLedger::new();
    l.add_cpi_router();
    let (m, _) = TestMarket::create(&mut l, ARGS);
    let maker = m.wallet(&mut l, 1 << 40, 0);
    let taker = m.wallet(&mut l, 0, 1 << 40);
    l.send(&[m.deposit_ix(&maker, m.keys.base_mint, 1 << 30)], &[&maker.keypair]).unwrap();
    l.send(&[m.deposit_ix(&taker, m.keys.quote_mint, 1 << 30)], &[&taker.keypair]).unwrap();
    for price in [110, 111] {
        let ask = PlaceOrderArgs::limit(Side::Ask, price, 5, price);
        l.send(&[ix::place_order(maker.pubkey(), &m.keys, ask)], &[&maker.keypair]).unwrap();
    }
    (l, m, maker, taker)
}

fn seqs(events: &[SolexEvent]) -> Vec<u64> {
    events.iter().map(|e| e.seq()).collect()
}

/// The market's newest sequence number, from a direct (legacy, static-key) call.
fn seq_now(l: &mut SvmLedger, m: &TestMarket, w: &Wallet) -> u64 {
    let landed = l.send(&[m.deposit_ix(w, m.keys.quote_mint, 1)], &[&w.keypair]).unwrap();
    landed.events.last().expect("a Deposited event").seq()
}

#[test]
fn events_of_a_cpi_through_a_lookup_table_are_found_past_the_static_keys() {
    let (mut l, m, maker, taker) = world();
    let table = l.create_lookup_table(&taker.keypair, &[solex::ID, pda::event_authority()]);
    let before = seq_now(&mut l, &m, &taker);

    // The taker's bid through the router: it fills against the maker's ask at 110.
    let bid = ix::place_order(taker.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, 110, 2, 7));
    let message = v0::Message::try_compile(&taker.pubkey(), &[routed(&bid)], &[table], l.svm.latest_blockhash())
        .expect("compile");
    let message = VersionedMessage::V0(message);
    let keys = l.account_keys(&message);
    // Solex and its event authority are both loaded (read-only), not static keys.
    assert!(!keys.static_keys.contains(&solex::ID) && !keys.static_keys.contains(&pda::event_authority()));
    assert_eq!(keys.loaded_readonly.len(), 2, "{keys:?}");
    let solex_index = (0..keys.len()).find(|&i| keys.get(i) == Some(&solex::ID)).expect("solex is named");
    assert!(solex_index >= keys.static_keys.len());
    assert_eq!(
        solex_index,
        keys.static_keys.len()
            + keys.loaded_writable.len()
            + keys.loaded_readonly.iter().position(|k| *k == solex::ID).unwrap()
    );

    let tx = VersionedTransaction::try_new(message, &[&taker.keypair]).expect("sign");
    let meta =
        l.svm.send_transaction(tx).unwrap_or_else(|e| panic!("routed bid: {:?}\n{}", e.err, e.meta.logs.join("\n")));
    l.svm.expire_blockhash();
    assert!(
        meta.logs.iter().any(|log| log.contains(&format!("Program {} invoke [2]", solex::ID))),
        "Solex ran as a CPI of the router:\n{}",
        meta.logs.join("\n")
    );
    let inner: Vec<(u8, Vec<u8>)> = meta
        .inner_instructions
        .iter()
        .flatten()
        .map(|i| (i.instruction.program_id_index, i.instruction.data.clone()))
        .collect();
    assert!(inner.iter().any(|(p, _)| *p as usize == solex_index), "Solex's self-CPIs name its loaded index");

    let found = events_from_inner(&keys, inner.clone());
    assert_eq!(seqs(&found), vec![before + 1], "the routed order's event continues the sequence");
    let SolexEvent::OrderPlaced(placed) = &found[0] else { panic!("not OrderPlaced: {found:?}") };
    assert_eq!(
        (placed.trader, placed.filled_lots, placed.fills.len()),
        (pda::trader(&m.keys.market, &taker.pubkey()), 2, 1)
    );
    assert!(events_from_inner(&static_keys_only(&keys), inner).is_empty(), "the static keys alone miss every event");

    // The ledger's own v0 path resolves them too, with a loaded writable address (the
    // market) counted before the read-only ones, and the sequence goes on with no gap.
    let table = l.create_lookup_table(&taker.keypair, &[solex::ID, pda::event_authority(), m.keys.market]);
    let more = ix::place_order(taker.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, 111, 6, 8));
    let compiled = v0::Message::try_compile(
        &taker.pubkey(),
        &[routed(&more)],
        std::slice::from_ref(&table),
        l.svm.latest_blockhash(),
    )
    .unwrap();
    let keys = l.account_keys(&VersionedMessage::V0(compiled));
    assert_eq!(keys.loaded_writable, vec![m.keys.market]);
    assert_eq!(keys.get(keys.static_keys.len() + 1 + 1), Some(&pda::event_authority()), "{keys:?}");
    let landed = l.send_v0(&[routed(&more)], &[&taker.keypair], &[table]).unwrap();
    assert_eq!(seqs(&landed.events), vec![before + 2]);
    assert_eq!(seq_now(&mut l, &m, &taker), before + 3);
    // The crank settles both routed orders' fills as usual.
    let cranker = Keypair::new();
    l.airdrop(&cranker.pubkey(), 1_000_000_000);
    assert!(!m.consume_all(&mut l, &cranker).is_empty());
    assert_eq!(fill_queue(&l, &m.keys.fill_queue).count, 0);
    m.assert_conserved(&l, &[&maker, &taker]);
}

#[test]
fn a_trader_cannot_be_acted_for_through_the_router_without_its_signature() {
    let (mut l, m, maker, taker) = world();
    let table = l.create_lookup_table(&taker.keypair, &[solex::ID, pda::event_authority()]);
    let state = [
        m.keys.market,
        m.keys.bids,
        m.keys.asks,
        m.keys.fill_queue,
        m.keys.base_vault,
        m.keys.quote_vault,
        pda::trader(&m.keys.market, &maker.pubkey()),
        pda::trader(&m.keys.market, &taker.pubkey()),
        maker.base,
        maker.quote,
        taker.base,
        taker.quote,
    ];
    // The taker (the attacker here) names the maker as the signer of the maker's
    // instructions but cannot sign for it: the flag must come off, and Solex refuses.
    let unsigned = |mut ix: anchor_lang::solana_program::instruction::Instruction| {
        ix.accounts.iter_mut().filter(|a| a.pubkey == maker.pubkey()).for_each(|a| a.is_signer = false);
        routed(&ix)
    };
    let attacks = [
        ix::place_order(maker.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, 1_000, 5, 9)),
        ix::cancel_all(maker.pubkey(), maker.pubkey(), &m.keys, None, 8),
        ix::withdraw(maker.pubkey(), &m.keys, taker.base, m.keys.base_mint, TOKEN_PROGRAM, 1_000),
        ix::withdraw(maker.pubkey(), &m.keys, maker.base, m.keys.base_mint, TOKEN_PROGRAM, 1_000),
    ];
    for attack in attacks {
        let before = Snapshot::take(&l, &state);
        let refused =
            l.send_v0(&[unsigned(attack.clone())], &[&taker.keypair], std::slice::from_ref(&table)).unwrap_err();
        assert_eq!(refusal(&refused), "anchor AccountNotSigner", "{}", refused.logs.join("\n"));
        before.assert_unchanged(&l);
        // The same instruction sent directly is refused the same way: the router adds nothing.
        let before = Snapshot::take(&l, &state);
        let mut direct = attack.clone();
        direct.accounts.iter_mut().filter(|a| a.pubkey == maker.pubkey()).for_each(|a| a.is_signer = false);
        let refused = l.send(&[direct], &[&taker.keypair]).unwrap_err();
        assert_eq!(refusal(&refused), "anchor AccountNotSigner");
        before.assert_unchanged(&l);
    }
    // Signed by its owner, the same routed withdrawal lands: the router passes a real
    // signature through, so the refusals above were for the missing one.
    let own = ix::withdraw(maker.pubkey(), &m.keys, maker.base, m.keys.base_mint, TOKEN_PROGRAM, 1_000);
    let landed = l.send_v0(&[routed(&own)], &[&taker.keypair, &maker.keypair], &[table]).unwrap();
    assert!(matches!(landed.events.as_slice(), [SolexEvent::Withdrawn(_)]), "{:?}", landed.events);
    m.assert_conserved(&l, &[&maker, &taker]);
}
