//! Solex called by another program on a real solana-test-validator, in a v0
//! transaction whose address lookup table holds Solex's program id and event
//! authority (issue 14, finding 4): `getTransaction` names the program by a loaded
//! address, the SDK's decoder finds its events there (resolving against the static
//! keys alone, as it once did, finds none), and the real indexer (`solex-indexer
//! backfill` into PostgreSQL, then `check`) stores every event of the market with no
//! gap. Needs the `solex-indexer` binary built next to this test (cargo test
//! --workspace builds it) and a local PostgreSQL (scripts/setup.sh services).
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;
use solana_message::{v0, VersionedMessage};
use solana_transaction::versioned::VersionedTransaction;
use solex_sdk::events::SolexEvent;
use solex_sdk::instructions as ix;
use solex_sdk::rpc::{transaction_events, AccountKeys, RpcClient as SdkRpc};
use solex_sdk::{pda, PlaceOrderArgs, Side};
use solex_tests::ledger::Ledger;
use solex_tests::litesvm_ledger::{lookup_table_ixs, routed, CPI_ROUTER};
use solex_tests::scenario::*;
use solex_tests::validator::TestValidator;
use solex_tests::{artifacts, services, Keypair, Signer};

/// Signs and sends a v0 transaction, waits for it, and returns getTransaction's answer.
fn send_v0(
    rpc: &SdkRpc,
    ixs: &[anchor_lang::solana_program::instruction::Instruction],
    signers: &[&Keypair],
    tables: &[solana_message::AddressLookupTableAccount],
) -> serde_json::Value {
    let message = v0::Message::try_compile(&signers[0].pubkey(), ixs, tables, rpc.latest_blockhash().unwrap()).unwrap();
    let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), signers).unwrap();
    let wire = base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).unwrap());
    let sig = rpc
        .call("sendTransaction", json!([wire, {"encoding": "base64", "preflightCommitment": "confirmed"}]))
        .unwrap_or_else(|e| panic!("sendTransaction: {e:?}"));
    let sig = sig.as_str().unwrap().to_string();
    assert_eq!(rpc.confirm(&sig).unwrap(), None, "the routed transaction succeeds");
    rpc.transaction(&sig).unwrap()
}

#[test]
fn a_routed_v0_transactions_events_are_indexed_with_no_gap() {
    let cpi_router = artifacts::program_so("cpi_router");
    let programs =
        [(solex::ID, artifacts::solex_so()), (sbf_selftest::ID, artifacts::selftest_so()), (CPI_ROUTER, cpi_router)];
    let validator = TestValidator::start_with(&programs);
    let mut chain = validator.rpc();
    let (m, _) = TestMarket::create(&mut chain, market_args(1));
    let maker = m.wallet(&mut chain, 1 << 40, 0);
    let taker = m.wallet(&mut chain, 0, 1 << 40);
    chain.send(&[m.deposit_ix(&maker, m.keys.base_mint, 1 << 30)], &[&maker.keypair]).unwrap();
    chain.send(&[m.deposit_ix(&taker, m.keys.quote_mint, 1 << 30)], &[&taker.keypair]).unwrap();
    let ask = PlaceOrderArgs::limit(Side::Ask, 110, 5, 1);
    let placed = chain.send(&[ix::place_order(maker.pubkey(), &m.keys, ask)], &[&maker.keypair]).unwrap();
    let before = placed.events.last().expect("OrderPlaced").seq();

    // A lookup table holding Solex's id and its event authority, usable from the next slot.
    let authority = Keypair::new();
    // A slot the SlotHashes sysvar lists: the confirmed bank's parent (a bank's own
    // slot is not yet among its slot hashes).
    let recent_slot = chain.slot().unwrap() - 1;
    let addresses = [solex::ID, pda::event_authority()];
    let (table, create) = lookup_table_ixs(&taker.pubkey(), &authority.pubkey(), recent_slot, &addresses);
    let created = chain.send(&create, &[&taker.keypair, &authority]).expect("lookup table created");
    let extended_at = chain.transaction(&created.signature).unwrap()["slot"].as_u64().expect("its slot");
    let start = Instant::now();
    while chain.slot().unwrap() <= extended_at {
        assert!(start.elapsed() < Duration::from_secs(20), "the validator makes no slots");
        std::thread::sleep(Duration::from_millis(200));
    }

    // The taker's bid, through the router: it takes 2 lots of the maker's ask.
    let bid = ix::place_order(taker.pubkey(), &m.keys, PlaceOrderArgs::limit(Side::Bid, 110, 2, 2));
    let details = send_v0(&chain, &[routed(&bid)], &[&taker.keypair], &[table]);
    let keys = AccountKeys::of_transaction(&details);
    assert!(!keys.static_keys.contains(&solex::ID), "Solex is a loaded address: {keys:?}");
    assert!(keys.loaded_readonly.contains(&solex::ID));
    let events = transaction_events(&details);
    assert_eq!(events.iter().map(|e| e.seq()).collect::<Vec<_>>(), vec![before + 1], "{events:?}");
    assert!(matches!(&events[0], SolexEvent::OrderPlaced(o) if o.filled_lots == 2));
    // What the decoder saw before it read meta.loadedAddresses: nothing.
    let mut static_only = details.clone();
    static_only["meta"]["loadedAddresses"] = json!({"writable": [], "readonly": []});
    assert!(transaction_events(&static_only).is_empty());

    // One more direct event after it; then the real indexer, from scratch.
    let last = chain.send(&[m.deposit_ix(&taker, m.keys.quote_mint, 1)], &[&taker.keypair]).unwrap();
    let newest = last.events[0].seq();
    assert_eq!(newest, before + 2);
    let db_name = "solex_validator_router";
    let db = services::fresh_database(db_name);
    let backfill = services::indexer_command(&db, &["backfill", "--rpc-url", &validator.rpc_url()]);
    eprintln!("{backfill}");
    let check = services::indexer_command(&db, &["check"]);
    eprintln!("{check}");
    let line = check.lines().find(|l| l.starts_with(&m.keys.market.to_string())).expect("the market is indexed");
    assert_eq!(line, format!("{} events {newest} newest seq {newest}", m.keys.market), "every event, no gap");
    assert!(!check.contains("GAP"));
    services::drop_database(db_name);
}
