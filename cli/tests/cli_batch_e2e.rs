//! The `solex` binary on a batch market, against a real solana-test-validator
//! running the compiled program. The harness makes the batch market (a keyper
//! committee with dealt keys registered ahead, a market and its auction) and plays
//! the keypers and the crank (releasing the key after the close, opening, clearing
//! and executing the batch); everything a trader does goes through `solex`: a
//! post-only ask on the book, a sealed bid (sealed by the binary to the key the chain
//! holds for the batch), a sealed order withdrawn before its close and one that
//! cannot be after it, `solex batch` through every phase, and the bid filled at
//! the clearing price in `solex balances`. Refusals: a taking order without
//! `--sealed`, `--sealed` with a type, option or collateral it cannot take, and
//! on a continuous market.
mod common;

use common::Cli;
use serde_json::{json, Value};
use solex::CreateAuctionArgs;
use solex_localnet::auction::{with_budget, Committee, TestAuction};
use solex_localnet::ledger::Ledger;
use solex_localnet::scenario::{market_args, Snapshot, TestMarket};
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::auction as ax;
use solex_sdk::CreateMarketArgs;

/// Slots per keyper round, and per batch (12.8 s on the validator: room for a
/// place, a look and a cancel inside one batch on a loaded machine).
const ROUND: u64 = 16;
const BATCH: u64 = 32;
const TIMEOUT: u64 = 200;
const SEALED_FEE: u64 = 100;
/// Quote atoms the taker deposits.
const QUOTE: u64 = 100_000;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

#[test]
fn a_wallet_trades_in_batches_from_the_terminal() {
    let validator = TestValidator::start();
    let mut chain = validator.rpc();
    let payer = Keypair::new();
    chain.airdrop(&payer.pubkey(), 100_000_000_000);
    // Three keypers, any two open a batch; keys registered for 30 rounds (about
    // three minutes) from the round after next: a round may begin while the members'
    // registrations land on a loaded machine, and a key can only be registered for a
    // round not yet begun (`register_ahead`'s next round could be refused so).
    let mut committee = Committee::create(&mut chain, &payer, 3, 2, ROUND, 16, 64);
    let first = committee.round_of(chain.current_slot()) + 2;
    for r in committee.register(&mut chain, first..first + 30, &[0, 1, 2]) {
        r.expect("register keys");
    }
    let terms = CreateMarketArgs {
        market_id: 1,
        base_lot_size: 1_000,
        quote_tick_size: 10,
        min_order_lots: 1,
        maker_fee_bps: 0,
        taker_fee_bps: 4,
    };
    let rules = CreateAuctionArgs { batch_slots: BATCH, reveal_timeout_slots: TIMEOUT, sealed_fee: SEALED_FEE };
    let (a, _) = TestAuction::create(&mut chain, &committee, terms, rules, 16);
    let m = a.keys.market.market.to_string();
    let market = m.as_str();
    let (maker_w, taker_w) =
        (a.m.wallet(&mut chain, 1_000_000, 1_000_000), a.m.wallet(&mut chain, 1_000_000, 1_000_000));
    let dir = tempfile::tempdir().unwrap();
    let url = validator.rpc_url();
    let maker = Cli::for_wallet(&url, dir.path(), "maker", &maker_w.keypair);
    let taker = Cli::for_wallet(&url, dir.path(), "taker", &taker_w.keypair);
    maker.json(&["deposit", market, "base", "100000", "--token-account", &maker_w.base.to_string()]);
    taker.json(&["deposit", market, "quote", &QUOTE.to_string(), "--token-account", &taker_w.quote.to_string()]);

    // `solex market` says it is a batch market.
    let info = taker.json(&["market", market]);
    assert_eq!(
        (info["batch_market"].clone(), info["auction"].clone()),
        (json!(true), json!(a.keys.auction.to_string()))
    );
    assert!(taker.text(&["market", market]).contains("BATCH MARKET"));

    // A post-only ask rests on the book, as on any market.
    let ask = maker.json(&["place", market, "ask", "--price", "100", "--qty", "10", "--type", "post_only"]);
    assert_eq!(ask["order"]["rested_lots"], 10);

    // Refusals, each changing nothing. A taking order without --sealed: exit 1, and
    // what to do instead.
    let trader = solex_sdk::pda::trader(&a.keys.market.market, &taker_w.pubkey());
    let untouched = Snapshot::take(&chain, &[trader, a.keys.auction, a.keys.market.market]);
    for t in ["limit", "ioc", "market"] {
        let err = taker.fails(&["place", market, "bid", "--price", "101", "--qty", "4", "--type", t], 1);
        assert!(err.contains("is a batch market") && err.contains("--sealed"), "{t}: {err}");
    }
    // What a sealed order cannot be: bad usage, exit 2.
    for (extra, says) in [
        (&["--type", "post_only"][..], "limit, ioc or market, not post_only"),
        (&["--type", "fok"][..], "limit, ioc or market, not fok"),
        (&["--max-quote", "5"][..], "no quote budget"),
        (&["--max-fills", "3"][..], "no quote budget"),
    ] {
        let args = [&["place", market, "bid", "--price", "101", "--qty", "4", "--sealed"][..], extra].concat();
        let err = taker.fails(&args, 2);
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    let err = taker.fails(&["place", market, "bid", "--price", "101", "--qty", "4", "--collateral-base", "1"], 2);
    assert!(err.contains("--sealed"), "{err}");
    // Less collateral than the order needs would be voided at opening, its fee lost.
    let err = taker
        .fails(&["place", market, "bid", "--price", "101", "--qty", "4", "--sealed", "--collateral-quote", "4000"], 1);
    assert!(err.contains("less than the order needs (0 base, 4142 quote atoms"), "{err}");
    // --sealed, batch and cancel-sealed on a continuous market: exit 1, said so.
    let (continuous, _) = TestMarket::create(&mut chain, market_args(7));
    let c = continuous.keys.market.to_string();
    let err = taker.fails(&["place", &c, "bid", "--price", "1", "--qty", "1", "--sealed"], 1);
    assert!(err.contains("is a continuous market, not a batch market"), "{err}");
    assert!(taker.fails(&["batch", &c], 1).contains("not a batch market"));
    assert!(taker.fails(&["cancel-sealed", &c, "0", "0"], 1).contains("not a batch market"));
    untouched.assert_unchanged(&chain);

    // The auction's rules and state, once the keys' first round has begun.
    chain.wait_until_slot(first * ROUND);
    let batch = taker.json(&["batch", market]);
    assert_eq!(
        batch["rules"],
        json!({"batch_slots": BATCH, "reveal_timeout_slots": TIMEOUT, "sealed_fee": SEALED_FEE, "capacity": 16})
    );
    let k = &batch["keyper_set"];
    assert_eq!(
        (k["address"].clone(), u(&k["members"]), u(&k["threshold"])),
        (json!(committee.keyper_set.to_string()), 3, 2)
    );
    assert!(u(&k["keys_ahead"]) > 5 && k["current_batch_has_key"] == true, "{batch}");
    assert_eq!((u(&batch["collecting"]["orders"]), batch["processing"].clone()), (0, json!([])));
    assert_eq!(
        (batch["last_price"].clone(), u(&batch["batches_cleared"]), u(&batch["batches_voided"])),
        (Value::Null, 0, 0)
    );
    let text = taker.text(&["batch", market]);
    println!("$ solex batch {market}\n{text}");
    assert!(text.contains("batches of 32 slots") && text.contains("2 of 3 members, rounds of 16 slots"), "{text}");

    // A sealed order withdrawn before its batch closes: from the start of a batch,
    // placed (in text: it says how to cancel it) and cancelled with what it said.
    chain.wait_until_slot(u(&batch["collecting"]["close_slot"]));
    let placed = taker.text(&["place", market, "bid", "--price", "100", "--qty", "1", "--sealed", "--client-id", "5"]);
    println!("$ solex place {market} bid --price 100 --qty 1 --sealed --client-id 5\n{placed}");
    let cancel = placed.lines().find_map(|l| l.trim().strip_prefix("withdraw it before the close: solex ")).unwrap();
    let cancel: Vec<&str> = cancel.split_whitespace().collect();
    assert_eq!(&cancel[..2], ["cancel-sealed", market], "{placed}");
    let now = taker.json(&["batch", market]);
    assert_eq!(
        (now["collecting"]["batch_id"].to_string(), u(&now["collecting"]["orders"])),
        (cancel[2].to_string(), 1)
    );
    let cancelled = taker.json(&cancel);
    assert_eq!(cancelled["cancelled"]["fee"], SEALED_FEE);
    let b = taker.json(&["balances", market]);
    assert_eq!((u(&b["quote_available"]), u(&b["quote_locked"])), (QUOTE - SEALED_FEE, 0), "the fee is kept");

    // The sealed bid: 4 lots at up to 101 need 4,040 quote atoms, a 2-atom taker fee
    // (4 bps, rounded up) and the sealed-order fee, 4,142 in all; by default the
    // collateral in the clear is that rounded up to a power of two, 8,192, so it
    // tells the order's size only within a factor of two.
    let sealed = taker.json(&["place", market, "bid", "--price", "101", "--qty", "4", "--sealed"]);
    let s = &sealed["sealed"];
    let (batch_id, index, close) = (u(&s["batch_id"]), u(&s["index"]), u(&s["close_slot"]));
    assert_eq!((u(&s["base_envelope"]), u(&s["quote_envelope"]), u(&s["fee"])), (0, 8_192, SEALED_FEE), "{sealed}");
    assert!(u(&s["tries"]) >= 1 && u(&s["order_seq"]) > 0, "{sealed}");
    assert_eq!(sealed["events"][0]["kind"], "SealedSubmitted");
    let b = taker.json(&["balances", market]);
    assert_eq!((u(&b["quote_available"]), u(&b["quote_locked"])), (QUOTE - SEALED_FEE - 8_192, 8_192));

    // Closed: it cannot be withdrawn, and the batch waits for its key.
    chain.wait_until_slot(close);
    let err = taker.fails(&["cancel-sealed", market, &batch_id.to_string(), &index.to_string()], 1);
    assert!(err.contains("SealedCancelAfterClose"), "{err}");
    let phase = |cli: &Cli| {
        let v = cli.json(&["batch", market]);
        let p = v["processing"].as_array().unwrap().clone();
        assert_eq!(p.len(), 1, "{v}");
        assert_eq!(u(&p[0]["batch_id"]), batch_id);
        assert!(u(&v["collecting"]["batch_id"]) > batch_id);
        p[0].clone()
    };
    let waiting = phase(&taker);
    assert_eq!(waiting["phase"], "awaiting_key", "{waiting}");
    let round = u(&waiting["key_round"]);
    assert_eq!(round, a.state(&chain).batch(batch_id).unwrap().0.key_round);
    let text = taker.text(&["batch", market]);
    println!("$ solex batch {market}\n{text}");
    assert!(text.contains("waiting for the keypers' key"), "{text}");

    // The keypers release the key; the crank's steps open, clear and execute the batch.
    committee.release(&mut chain, &payer, round, &[0, 2]);
    assert_eq!(phase(&taker)["phase"], "key_released");
    while let Some(ix) = a.next_decrypt_ix(&chain, batch_id) {
        chain.send(&with_budget(ix), &[&payer]).expect("decrypt_batch");
    }
    assert_eq!(phase(&taker)["phase"], "clearing");
    chain.send(&with_budget(ax::clear_batch(&a.keys, batch_id)), &[&payer]).expect("clear_batch");
    let cleared = phase(&taker);
    assert_eq!(
        (cleared["phase"].clone(), cleared["price"].clone(), cleared["volume"].clone()),
        (json!("executing"), json!(100), json!(4))
    );
    while let Some(ix) = a.next_execute_ix(&chain, batch_id, 8) {
        chain.send(&with_budget(ix), &[&payer]).expect("execute_batch");
    }

    // One price for the batch: the ask's 100, so the bid bought 4 lots for 4,000
    // quote atoms (not its limit of 101) plus a 2-atom taker fee and the sealed fee.
    let batch = taker.json(&["batch", market]);
    assert_eq!(
        (
            batch["processing"].clone(),
            batch["last_price"].clone(),
            u(&batch["batches_cleared"]),
            u(&batch["batches_voided"])
        ),
        (json!([]), json!(100), 1, 0)
    );
    let text = taker.text(&["batch", market]);
    println!("$ solex batch {market}\n{text}");
    assert!(text.contains("last clearing price 100; 1 batches cleared, 0 voided"), "{text}");
    let b = taker.json(&["balances", market]);
    assert_eq!(
        (u(&b["base_available"]), u(&b["base_locked"]), u(&b["quote_available"]), u(&b["quote_locked"])),
        (4_000, 0, QUOTE - SEALED_FEE - (4_000 + 2 + SEALED_FEE), 0),
        "{b}"
    );
    assert_eq!(b["open_orders"], json!([]));
    assert_eq!(maker.json(&["book", market])["asks"], json!([[100, 6]]));
    // The maker is paid when its fill is consumed (the crank's job).
    a.m.consume_all(&mut chain, &payer);
    let b = maker.json(&["balances", market]);
    assert_eq!(
        (u(&b["base_available"]), u(&b["base_locked"]), u(&b["quote_available"])),
        (90_000, 6_000, 4_000),
        "{b}"
    );
    a.m.assert_conserved(&chain, &[&maker_w, &taker_w]);
}

#[test]
fn create_market_makes_a_batch_market_over_a_keyper_set_and_refuses_rules_that_do_not_fit_it() {
    let validator = TestValidator::start();
    let mut chain = validator.rpc();
    let payer = Keypair::new();
    chain.airdrop(&payer.pubkey(), 100_000_000_000);
    let committee = Committee::create(&mut chain, &payer, 3, 2, ROUND, 16, 64);
    let base = solex_localnet::scenario::create_mint(&mut chain, &payer, 9);
    let quote = solex_localnet::scenario::create_mint(&mut chain, &payer, 6);
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::for_wallet(&validator.rpc_url(), dir.path(), "creator", &payer);
    let (b, q, set) = (base.to_string(), quote.to_string(), committee.keyper_set.to_string());
    let create = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> =
            ["create-market", "--base-mint", &b, "--quote-mint", &q, "--lot", "1000", "--tick", "10"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    // A batch length that is no multiple of the set's round: refused, nothing created.
    let bad = create(&["--keyper-set", &set, "--batch-slots", &(ROUND + 1).to_string()]);
    let err = cli.fails(&args(&bad), 1);
    assert!(err.contains("InvalidAuctionConfig"), "{err}");
    // Batch options without a keyper set are bad usage.
    let err = cli.fails(&args(&create(&["--batch-slots", "32"])), 2);
    assert!(err.contains("--keyper-set"), "{err}");
    // A batch market with the defaults but the batch length.
    let made =
        cli.json(&args(&create(&["--keyper-set", &set, "--batch-slots", &BATCH.to_string(), "--sealed-fee", "7"])));
    let market = made["market"].as_str().unwrap().to_string();
    let info = cli.json(&["market", &market]);
    assert_eq!((info["batch_market"].clone(), info["auction"].clone()), (json!(true), made["auction"].clone()));
    let batch = cli.json(&["batch", &market]);
    assert_eq!(
        (u(&batch["rules"]["batch_slots"]), u(&batch["rules"]["sealed_fee"]), u(&batch["rules"]["capacity"])),
        (BATCH, 7, 64),
        "{batch}"
    );
    assert_eq!(u(&batch["rules"]["reveal_timeout_slots"]), CreateAuctionArgs::DEFAULT_REVEAL_TIMEOUT_SLOTS);
}
