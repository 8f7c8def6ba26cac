//! The transaction API on a real validator and the real `solex-indexer run`: the
//! server builds unsigned transactions, the wallet signs them (here with its
//! keypair, as a browser wallet would), the server relays them; orders placed
//! this way reach the indexed book, refusals come back decoded, and bad requests
//! get 4xx JSON errors. The server never sees a key.
use serde_json::{json, Value};
use solex_sdk::flow;
use solex_tests::{Keypair, Signer};
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
