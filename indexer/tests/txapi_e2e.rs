//! The transaction API on a real validator and the real `solex-indexer run`: the
//! server builds unsigned transactions, the wallet signs them (here with its
//! keypair, as a browser wallet would), the server relays them; orders placed
//! this way reach the indexed book, refusals come back decoded, and bad requests
//! get 4xx JSON errors. The server never sees a key.
use serde_json::{json, Value};
use solex_localnet::{Keypair, Signer};
use solex_sdk::flow;
use support::{get, post, Session};

mod support;

/// Builds `path` for `owner`, signs the transaction with `kp`, relays it: (status, body).
async fn sign_and_send(base: &str, path: &str, body: Value, kp: &Keypair) -> (u16, Value) {
    let (status, built) = post(base, path, body).await;
    assert_eq!(status, 200, "{path}: {built}");
    let mut tx = flow::decode_transaction(built["transaction"].as_str().unwrap()).unwrap();
    assert_eq!(tx.message.account_keys[0], kp.pubkey(), "the wallet pays");
    let blockhash = tx.message.recent_blockhash;
    tx.sign(&[kp], blockhash);
    post(base, "/tx/send", json!({"transaction": flow::encode_transaction(&tx)})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_sign_what_the_api_builds() {
    let stack = support::Stack::start().await;
    let base = stack.base.clone();
    let sessions = Session::open_two(&stack.validator).await;
    let s = &sessions[0];
    let market = s.market.keys.market.to_string();
    let (a, b) = (&s.wallets[0].keypair, &s.wallets[1].keypair);
    let owner = |kp: &Keypair| kp.pubkey().to_string();

    // A rests an ask; B's bid rests below it; both appear in the indexed book.
    let ask = json!({"market": market, "owner": owner(a), "side": "ask", "price": 105, "qty": 3, "client_id": 1});
    let (status, sent) = sign_and_send(&base, "/tx/place", ask, a).await;
    assert_eq!((status, sent["status"].as_str()), (200, Some("confirmed")), "{sent}");
    assert_eq!(sent["events"][0]["kind"], "OrderPlaced");
    let bid = json!({"market": market, "owner": owner(b), "side": "bid", "price": "100", "qty": 2, "client_id": 9});
    let (status, sent) = sign_and_send(&base, "/tx/place", bid, b).await;
    assert_eq!(status, 200, "{sent}");
    let seq = sent["events"][0]["seq"].as_u64().unwrap();
    support::wait_indexed(&base, &market, seq).await;
    let (_, book) = get(&base, &format!("/markets/{market}/book")).await;
    assert_eq!((book["bids"].clone(), book["asks"].clone()), (json!([[100, 2]]), json!([[105, 3]])));

    // A post-only bid that would cross is refused on chain, decoded.
    let crossing =
        json!({"market": market, "owner": owner(b), "side": "bid", "price": 105, "qty": 1, "type": "post-only"});
    let (status, refused) = sign_and_send(&base, "/tx/place", crossing, b).await;
    assert_eq!(
        (status, refused["code"].as_str(), refused["program_error"].as_str()),
        (422, Some("rejected"), Some("WouldCross"))
    );
    assert!(refused["message"].as_str().unwrap().contains("WouldCross"), "{refused}");

    // Cancel by client id, cancel all, withdraw and settle, each built, signed and relayed.
    let (status, sent) =
        sign_and_send(&base, "/tx/cancel", json!({"market": market, "owner": owner(b), "client_id": 9}), b).await;
    assert_eq!((status, sent["events"][0]["kind"].as_str()), (200, Some("OrdersCancelled")), "{sent}");
    let (status, _) = sign_and_send(&base, "/tx/cancel-all", json!({"market": market, "owner": owner(a)}), a).await;
    assert_eq!(status, 200);
    let deposit = json!({"market": market, "owner": owner(a), "asset": "quote", "amount": 5,
        "token_account": s.wallets[0].quote.to_string()});
    assert_eq!(sign_and_send(&base, "/tx/deposit", deposit, a).await.0, 200);
    let withdraw = json!({"market": market, "owner": owner(a), "asset": "base", "amount": 1000});
    assert_eq!(sign_and_send(&base, "/tx/withdraw", withdraw, a).await.0, 200);
    let (status, sent) = sign_and_send(&base, "/tx/settle", json!({"market": market, "owner": owner(a)}), a).await;
    assert_eq!((status, sent["events"][0]["kind"].as_str()), (200, Some("FundsSettled")), "{sent}");

    // Bad requests: 4xx JSON errors, nothing sent.
    let other = solex_sdk::Pubkey::new_unique().to_string();
    for (path, body, status, code) in [
        ("/tx/place", json!("not an object"), 400, "invalid_body"),
        ("/tx/place", json!({"market": market, "owner": owner(a), "price": 1, "qty": 1}), 400, "missing_field"),
        (
            "/tx/place",
            json!({"market": market, "owner": owner(a), "side": "up", "price": 1, "qty": 1}),
            400,
            "invalid_field",
        ),
        (
            "/tx/place",
            json!({"market": market, "owner": owner(a), "side": "bid", "price": -1, "qty": 1}),
            400,
            "invalid_field",
        ),
        ("/tx/place", json!({"market": "nope", "owner": owner(a)}), 400, "invalid_field"),
        ("/tx/cancel", json!({"market": market, "owner": owner(a)}), 400, "missing_field"),
        (
            "/tx/deposit",
            json!({"market": market, "owner": owner(a), "asset": "gold", "amount": 1}),
            400,
            "invalid_field",
        ),
        ("/tx/settle", json!({"market": other, "owner": owner(a)}), 404, "unknown_market"),
        ("/tx/send", json!({"transaction": "%%%"}), 400, "invalid_transaction"),
        ("/tx/send", json!({}), 400, "missing_field"),
    ] {
        let (got, body) = post(&base, path, body.clone()).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path} {body}");
    }
    // The chain's own accounts that are not markets are refused, read with a bounded
    // slice: a book side (256 KiB, the program's) and a mint.
    for (what, key) in [("a book side", s.market.keys.bids), ("a mint", s.market.keys.base_mint)] {
        let (status, body) = post(&base, "/tx/settle", json!({"market": key.to_string(), "owner": owner(a)})).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("unknown_market")), "{what}: {body}");
    }
    // An unsigned transaction is refused before it reaches the chain.
    let (_, built) = post(&base, "/tx/settle", json!({"market": market, "owner": owner(a)})).await;
    let (status, body) = post(&base, "/tx/send", json!({"transaction": built["transaction"]})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("unsigned")), "{body}");
    // Signed by the wrong key: refused by the relay's own signature check, before the chain.
    let mut tx = flow::decode_transaction(built["transaction"].as_str().unwrap()).unwrap();
    let forged = Keypair::new().sign_message(&tx.message_data());
    tx.signatures[0] = forged;
    let (status, body) = post(&base, "/tx/send", json!({"transaction": flow::encode_transaction(&tx)})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_signature")), "{body}");
    // A transfer of the wallet's SOL, properly signed, is not Solex's: refused.
    let transfer = solex_sdk::Instruction {
        program_id: anchor_lang::system_program::ID,
        accounts: vec![
            solex_sdk::AccountMeta::new(a.pubkey(), true),
            solex_sdk::AccountMeta::new(solex_sdk::Pubkey::new_unique(), false),
        ],
        data: [2u32.to_le_bytes().as_slice(), 1_000_000u64.to_le_bytes().as_slice()].concat(),
    };
    let blockhash = tx.message.recent_blockhash;
    let theft = solana_transaction::Transaction::new_signed_with_payer(&[transfer], Some(&a.pubkey()), &[a], blockhash);
    let (status, body) = post(&base, "/tx/send", json!({"transaction": flow::encode_transaction(&theft)})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("program_not_allowed")), "{body}");

    stack.stop().await;
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A batch market through the transaction API: the book takes only post-only orders
/// (`/tx/place` names the way to the auction for any other), `batch-key` says what
/// the chain says, a wallet seals an order itself and `/tx/sealed` builds exactly
/// `submit_sealed` around the ciphertext, `/tx/cancel-sealed` cancels one before the
/// close, the relay takes both, and each refusal is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_markets_take_sealed_orders_the_wallet_made() {
    use solex_localnet::ledger::Ledger;
    use solex_sdk::auction::{self as ax, SealedOrder};
    use solex_sdk::{Expiry, OrderType, Side};

    let stack = support::Stack::start().await;
    let base = stack.base.clone();
    let url = stack.validator.rpc_url();
    let (mut bm, maker, bidder, continuous) = tokio::task::spawn_blocking(move || {
        let mut bm = support::BatchMarket::open(url.clone(), 48, 40);
        let (maker, bidder) = (bm.wallet(1 << 30, 1 << 30), bm.wallet(1 << 30, 1 << 30));
        bm.rest(&maker, Side::Ask, 100, 5);
        let mut chain = solex_localnet::rpc::RpcClient::new(url);
        let (continuous, _) =
            solex_localnet::scenario::TestMarket::create(&mut chain, solex_localnet::scenario::market_args(2));
        (bm, maker, bidder, continuous.keys.market.to_string())
    })
    .await
    .unwrap();
    let market = bm.market().to_string();
    let owner = bidder.pubkey().to_string();
    let b = &bidder.keypair;

    // The book takes a post-only bid; a limit bid is sent to the auction by name.
    let limit = json!({"market": market, "owner": owner, "side": "bid", "price": 99, "qty": 1});
    let (status, body) = post(&base, "/tx/place", limit.clone()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("sealed_order_required")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("/tx/sealed"), "{body}");
    let post_only =
        json!({"market": market, "owner": owner, "side": "bid", "price": 95, "qty": 1, "type": "post_only"});
    let (status, sent) = sign_and_send(&base, "/tx/place", post_only, b).await;
    assert_eq!((status, sent["events"][0]["kind"].as_str()), (200, Some("OrderPlaced")), "{sent}");

    // batch-key: the batch collecting now, its close, its round and key, as the chain has them.
    let (batch, close) = tokio::task::block_in_place(|| bm.fresh_batch(0.6));
    let (status, key) = get(&base, &format!("/markets/{market}/batch-key")).await;
    assert_eq!(status, 200, "{key}");
    let (_, _, round) = bm.current();
    let dealt = bm.committee.rounds[&round].group_key;
    assert_eq!(
        (key["batch_id"].as_u64(), key["close_slot"].as_u64(), key["key_round"].as_u64()),
        (Some(batch), Some(close), Some(round)),
        "{key}"
    );
    assert_eq!((key["key_status"].as_str(), key["group_key"].as_str()), (Some("active"), Some(hex(&dealt).as_str())));
    assert_eq!(key["auction"], bm.auction.keys.auction.to_string());
    assert_eq!(key["keyper_set"], bm.auction.keys.keyper_set.to_string());
    let slot = key["slot"].as_u64().unwrap();
    assert_eq!(key["slots_left"].as_u64(), Some(close - slot));
    assert!(key["seconds_left"].as_f64().unwrap() > 0.0, "{key}");
    assert_eq!(
        key["collateral_terms"],
        json!({"base_lot_size": 1000, "quote_tick_size": 10, "taker_fee_bps": 5, "maker_fee_bps": 2, "sealed_fee": 100})
    );

    // The wallet seals a bid itself (to the key batch-key gave) and sends only that.
    let order = SealedOrder {
        side: Side::Bid,
        order_type: OrderType::Limit,
        price: 101,
        qty_lots: 3,
        client_order_id: 7,
        expiry: Expiry::Never,
    };
    let m = solex_localnet::scenario::market(&bm.chain, &bm.market());
    let collateral = ax::envelope(&m, 100, order.side, order.price, order.qty_lots).unwrap();
    let args = ax::seal_order(&dealt, &bm.market(), &bidder.pubkey(), batch, &order, collateral).unwrap();
    let body = |args: &solex::SubmitSealedArgs| {
        json!({"market": market, "owner": owner, "batch_id": args.batch_id, "ephemeral": hex(&args.ephemeral),
            "ciphertext": hex(&args.ciphertext), "tag": hex(&args.tag), "collateral_base": args.base_envelope.to_string(),
            "collateral_quote": args.quote_envelope})
    };
    let (status, built) = post(&base, "/tx/sealed", body(&args)).await;
    assert_eq!(status, 200, "{built}");
    assert_eq!((built["batch_id"].as_u64(), built["close_slot"].as_u64()), (Some(batch), Some(close)));
    let tx = flow::decode_transaction(built["transaction"].as_str().unwrap()).unwrap();
    let want = ax::submit_sealed(bidder.pubkey(), &bm.auction.keys, args);
    assert_eq!(tx.message.instructions.len(), 1, "only submit_sealed");
    assert_eq!(tx.message.instructions[0].data, want.data, "exactly the ciphertext and collateral sent");
    let accounts: Vec<_> =
        tx.message.instructions[0].accounts.iter().map(|i| tx.message.account_keys[*i as usize]).collect();
    assert_eq!(accounts, want.accounts.iter().map(|a| a.pubkey).collect::<Vec<_>>());
    let (status, sent) = sign_and_send(&base, "/tx/sealed", body(&args), b).await;
    assert_eq!((status, sent["events"][0]["kind"].as_str()), (200, Some("SealedSubmitted")), "{sent}");

    // A second one, cancelled before the close.
    let args2 = ax::seal_order(&dealt, &bm.market(), &bidder.pubkey(), batch, &order, collateral).unwrap();
    let (status, sent) = sign_and_send(&base, "/tx/sealed", body(&args2), b).await;
    assert_eq!(status, 200, "{sent}");
    let cancel = json!({"market": market, "owner": owner, "batch_id": batch, "index": 1});
    let (status, sent) = sign_and_send(&base, "/tx/cancel-sealed", cancel, b).await;
    assert_eq!((status, sent["events"][0]["kind"].as_str()), (200, Some("SealedCancelled")), "{sent}");
    let seq = sent["events"][0]["seq"].as_u64().unwrap();
    support::wait_indexed(&base, &market, seq).await;
    let (_, indexed) = get(&base, &format!("/markets/{market}/batches/{batch}")).await;
    let statuses: Vec<&str> =
        indexed["sealed_orders"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["sealed", "cancelled"], "{indexed}");
    assert!(indexed["sealed_orders"][0]["price"].is_null(), "nothing of the order before its batch opens: {indexed}");
    assert_eq!(indexed["sealed_orders"][0]["quote_envelope"], json!(collateral.1));

    // Refusals, each named, none reaching the chain.
    let bad = |f: &dyn Fn(&mut Value)| {
        let mut v = body(&args);
        f(&mut v);
        v
    };
    let other = solex_sdk::Pubkey::new_unique().to_string();
    for (path, request, status, code) in [
        ("/tx/sealed", bad(&|v| v["market"] = json!(continuous)), 400, "not_batch_market"),
        ("/tx/sealed", bad(&|v| v["market"] = json!(other)), 404, "unknown_market"),
        ("/tx/sealed", bad(&|v| v["batch_id"] = json!(batch - 1)), 409, "batch_closed"),
        ("/tx/sealed", bad(&|v| v["batch_id"] = json!(batch + 5)), 409, "batch_not_open"),
        ("/tx/sealed", bad(&|v| v["collateral_quote"] = json!(99)), 400, "collateral_below_fee"),
        ("/tx/sealed", bad(&|v| v["ephemeral"] = json!("ff".repeat(32))), 400, "invalid_field"),
        ("/tx/sealed", bad(&|v| v["ephemeral"] = json!("00".repeat(31))), 400, "invalid_field"),
        ("/tx/sealed", bad(&|v| v["ciphertext"] = json!("zz".repeat(40))), 400, "invalid_field"),
        ("/tx/sealed", bad(&|v| v["tag"] = json!(null)), 400, "missing_field"),
        ("/tx/sealed", bad(&|v| v["collateral_base"] = json!(-1)), 400, "invalid_field"),
        ("/tx/sealed", bad(&|v| v["batch_id"] = json!("18446744073709551616")), 400, "invalid_field"),
        ("/tx/cancel-sealed", json!({"market": market, "owner": owner, "batch_id": batch}), 400, "missing_field"),
        (
            "/tx/cancel-sealed",
            json!({"market": market, "owner": owner, "batch_id": batch, "index": 1u64 << 32}),
            400,
            "invalid_field",
        ),
        (
            "/tx/cancel-sealed",
            json!({"market": continuous, "owner": owner, "batch_id": batch, "index": 0}),
            400,
            "not_batch_market",
        ),
    ] {
        let (got, answer) = post(&base, path, request.clone()).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{path} {request}: {answer}");
    }
    for (path, status, code) in [
        (format!("/markets/{continuous}/batch-key"), 400, "not_batch_market"),
        (format!("/markets/{other}/batch-key"), 404, "unknown_market"),
        ("/markets/nope/batch-key".to_string(), 400, "invalid_market"),
    ] {
        let (got, answer) = get(&base, &path).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{path}: {answer}");
    }

    // After the close, the chain refuses a cancel and a submission; the relay decodes both.
    tokio::task::block_in_place(|| bm.chain.wait_until_slot(close + 1));
    let cancel = json!({"market": market, "owner": owner, "batch_id": batch, "index": 0});
    let (status, refused) = sign_and_send(&base, "/tx/cancel-sealed", cancel, b).await;
    assert_eq!((status, refused["program_error"].as_str()), (422, Some("SealedCancelAfterClose")), "{refused}");
    let (status, refused) = post(&base, "/tx/sealed", body(&args)).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("batch_closed")), "{refused}");
    drop(maker);
    stack.stop().await;
}
