//! The trading page in a real headless Chromium, served by the real
//! `solex-indexer run` over a real validator: it loads without errors, shows the
//! chain's book and follows it live, shows a loaded wallet's balances, and orders
//! placed and cancelled from it (signed in the page with WebCrypto Ed25519 from a
//! development keypair, or by a Wallet Standard wallet) land on chain and show up
//! in its book, orders, trades and candle chart. A refusal is shown decoded and
//! changes nothing on chain.
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use solex_localnet::ledger::Ledger;
use solex_localnet::rpc::RpcClient;
use solex_localnet::scenario::trader_account;
use solex_localnet::{Keypair, Signer};
use solex_sdk::instructions as ix;
use solex_sdk::{PlaceOrderArgs, Pubkey, Side};
use support::{chain_book, get, Session};

mod browser;
mod support;

use browser::Browser;

/// The page's book, read from its rows: (bids best first, asks best first).
const PAGE_BOOK: &str = "(() => { const side = (id) => [...document.querySelectorAll(`#${id} tr`)]
    .map((r) => [Number(r.dataset.price), Number(r.dataset.qty)]);
    return [side('bids'), side('asks').reverse()]; })()";

async fn page_book(page: &mut Browser) -> (Vec<[u64; 2]>, Vec<[u64; 2]>) {
    serde_json::from_value(page.eval(PAGE_BOOK).await).unwrap()
}

/// Waits until the page's book equals the chain's (bids and asks, every level).
async fn book_matches_chain(page: &mut Browser, rpc: &str, market: &Pubkey) -> (Vec<[u64; 2]>, Vec<[u64; 2]>) {
    let start = Instant::now();
    loop {
        let (_, bids, asks) = chain_book(&RpcClient::new(rpc.to_string()), market);
        let shown = page_book(page).await;
        if shown == (bids.clone(), asks.clone()) {
            return shown;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "page book {shown:?} != chain {bids:?} / {asks:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sets the order form, clicks `button`, and waits for the outcome: (state, code, text).
async fn submit(
    page: &mut Browser,
    kind: &str,
    price: u64,
    qty: u64,
    client_id: u64,
    button: &str,
) -> (String, String, String) {
    page.eval(&format!(
        "document.getElementById('type').value = '{kind}'; document.getElementById('price').value = '{price}';
         document.getElementById('qty').value = '{qty}'; document.getElementById('client-id').value = '{client_id}';
         document.getElementById('result').dataset.state = ''; document.getElementById('{button}').click()"
    ))
    .await;
    outcome(page).await
}

async fn outcome(page: &mut Browser) -> (String, String, String) {
    let expr = "(() => { const r = document.getElementById('result');
        return ['ok', 'error'].includes(r.dataset.state) ? [r.dataset.state, r.dataset.code, r.textContent] : null; })()";
    serde_json::from_value(page.wait_for("a transaction's outcome", expr, 60).await).unwrap()
}

fn keypair_json(kp: &Keypair) -> String {
    serde_json::to_string(&kp.to_bytes().to_vec()).unwrap()
}

/// A browser wallet for the test, registered through the Wallet Standard events the
/// way an extension registers itself; it signs the page's transactions with `kp`.
fn test_wallet_script(kp: &Keypair) -> String {
    let bytes = kp.to_bytes();
    format!(
        r#"(async () => {{
  const seed = Uint8Array.from({seed:?}), pub = Uint8Array.from({public:?});
  const header = [0x30,0x2e,0x02,0x01,0x00,0x30,0x05,0x06,0x03,0x2b,0x65,0x70,0x04,0x22,0x04,0x20];
  const key = await crypto.subtle.importKey('pkcs8', new Uint8Array([...header, ...seed]), {{name: 'Ed25519'}}, false, ['sign']);
  const account = {{ address: '{address}', publicKey: pub, chains: ['solana:localnet'], features: ['solana:signTransaction'] }};
  window.testWalletSigned = 0;
  const wallet = {{ version: '1.0.0', name: 'Test Wallet', icon: 'data:image/svg+xml,%3Csvg/%3E', chains: ['solana:localnet'],
    accounts: [account],
    features: {{
      'standard:connect': {{ version: '1.0.0', connect: async () => ({{ accounts: [account] }}) }},
      'solana:signTransaction': {{ version: '1.0.0', supportedTransactionVersions: ['legacy'],
        signTransaction: async (...inputs) => Promise.all(inputs.map(async ({{ transaction }}) => {{
          // One signer (the fee payer): signature slot 0, message after it.
          if (transaction[0] !== 1) throw new Error('test wallet: expected one signature');
          const out = transaction.slice();
          out.set(new Uint8Array(await crypto.subtle.sign('Ed25519', key, transaction.subarray(65))), 1);
          window.testWalletSigned += 1;
          return {{ signedTransaction: out }};
        }})) }},
    }} }};
  window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', {{ detail: ({{ register }}) => register(wallet) }}));
  return true;
}})()"#,
        seed = &bytes[..32],
        public = &bytes[32..],
        address = kp.pubkey(),
    )
}

/// The tests run one at a time: a validator and Chromium each want both cores, and
/// a page under that contention answered late enough to read a stale outcome.
static VALIDATOR: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_live_exchange_and_trades_with_a_wallet() {
    let _one = VALIDATOR.lock().await;
    let stack = support::Stack::start().await;
    let base = stack.base.clone();
    let rpc = stack.validator.rpc_url();
    let url = rpc.clone();
    let session = tokio::task::spawn_blocking(move || {
        let mut chain = RpcClient::new(url);
        let s = Session::open(&mut chain, 1, 2, 5);
        // A's resting depth, before the page opens.
        let a = &s.wallets[0];
        for (side, price, qty) in [(Side::Ask, 100, 3), (Side::Ask, 102, 5), (Side::Bid, 95, 4), (Side::Bid, 94, 2)] {
            let order = PlaceOrderArgs::limit(side, price, qty, price);
            chain.send(&[ix::place_order(a.pubkey(), &s.market.keys, order)], &[&a.keypair]).unwrap();
        }
        s
    })
    .await
    .unwrap();
    let keys = session.market.keys;
    let market = keys.market;
    let (a, b, c) = (&session.wallets[0], &session.wallets[1], &session.wallets[2]);
    let chain = || RpcClient::new(rpc.clone());
    let (seq, _, _) = chain_book(&chain(), &market);
    support::wait_indexed(&base, &market.to_string(), seq).await;

    // The page loads and shows the chain's book.
    let mut page = Browser::launch().await;
    page.goto(&format!("{base}/?market={market}")).await;
    page.wait_for("the live feed", "document.getElementById('conn').className === 'live'", 30).await;
    let shown = book_matches_chain(&mut page, &rpc, &market).await;
    assert_eq!(shown, (vec![[95, 4], [94, 2]], vec![[100, 3], [102, 5]]));

    // It follows the book live: an order placed elsewhere appears without a reload.
    let (a_key, url) = (a.keypair.insecure_clone(), rpc.clone());
    tokio::task::spawn_blocking(move || {
        let order = PlaceOrderArgs::limit(Side::Ask, 104, 7, 104);
        RpcClient::new(url).send(&[ix::place_order(a_key.pubkey(), &keys, order)], &[&a_key]).unwrap()
    })
    .await
    .unwrap();
    let shown = book_matches_chain(&mut page, &rpc, &market).await;
    assert_eq!(shown.1, vec![[100, 3], [102, 5], [104, 7]]);

    // A development keypair (B's keypair file) is loaded; its balances show.
    page.eval(&format!(
        "document.getElementById('keypair').value = '{}'; document.getElementById('load-keypair').click()",
        keypair_json(&b.keypair)
    ))
    .await;
    let addr = page.wait_for("the wallet", "document.getElementById('wallet-addr').dataset.address", 30).await;
    assert_eq!(addr, json!(b.pubkey().to_string()));
    let trader = trader_account(&chain(), &market, &b.pubkey());
    let balances = page
        .wait_for(
            "the balances",
            "(() => { const rows = [...document.querySelectorAll('#balances tr[data-asset]')];
               return rows.length === 2 ? rows.map((r) => Number(r.dataset.available)) : null; })()",
            30,
        )
        .await;
    assert_eq!(balances, json!([trader.base_available, trader.quote_available]));

    // A bid placed from the page rests on chain and shows in the book and in B's orders.
    let (state, _, text) = submit(&mut page, "limit", 99, 2, 42, "buy").await;
    assert_eq!(state, "ok", "{text}");
    let (_, bids, _) = chain_book(&chain(), &market);
    assert_eq!(bids, vec![[99, 2], [95, 4], [94, 2]], "the page's order is on chain");
    assert_eq!(trader_account(&chain(), &market, &b.pubkey()).open_orders, 1);
    book_matches_chain(&mut page, &rpc, &market).await;
    let orders = page
        .wait_for(
            "B's order",
            "(() => { const rows = [...document.querySelectorAll('#orders tr')];
               return rows.length ? rows.map((r) => [Number(r.dataset.price), r.dataset.side]) : null; })()",
            30,
        )
        .await;
    assert_eq!(orders, json!([[99, "bid"]]));

    // A post-only bid that would cross is refused on chain; the page says why and nothing changes.
    let before = chain().account_data(&solex_sdk::pda::trader(&market, &b.pubkey())).unwrap();
    let (state, code, text) = submit(&mut page, "post_only", 100, 1, 43, "buy").await;
    assert_eq!((state.as_str(), code.as_str()), ("error", "WouldCross"), "{text}");
    assert!(text.contains("WouldCross"), "{text}");
    assert_eq!(chain().account_data(&solex_sdk::pda::trader(&market, &b.pubkey())).unwrap(), before);

    // Cancel from B's orders table.
    page.eval("document.querySelector('#orders tr button').click()").await;
    let (state, _, text) = outcome(&mut page).await;
    assert_eq!(state, "ok", "{text}");
    assert_eq!(chain_book(&chain(), &market).1, vec![[95, 4], [94, 2]]);
    page.wait_for("no open orders", "document.querySelectorAll('#orders tr').length === 0 || null", 30).await;

    // A crossing buy trades: the trade and its candle appear on the page.
    let (state, _, text) = submit(&mut page, "ioc", 100, 2, 44, "buy").await;
    assert_eq!(state, "ok", "{text}");
    let trade = page
        .wait_for("the trade", "[...document.querySelectorAll('#trades tr')].map((r) => r.cells[0].textContent + ' x ' + r.cells[1].textContent)[0]", 30)
        .await;
    assert_eq!(trade, json!("100 x 2"));
    page.wait_for("a candle", "Number(document.getElementById('chart').dataset.candles) >= 1 || null", 30).await;
    assert_eq!(book_matches_chain(&mut page, &rpc, &market).await.1, vec![[100, 1], [102, 5], [104, 7]]);

    // A browser wallet (C) registered through the Wallet Standard signs an ask.
    assert_eq!(page.eval(&test_wallet_script(&c.keypair)).await, json!(true));
    page.eval("[...document.querySelectorAll('#wallet-choices button')].find((b) => b.textContent === 'Connect Test Wallet').click()")
        .await;
    page.wait_for(
        "the browser wallet",
        &format!("document.getElementById('wallet-addr').dataset.address === '{}' || null", c.pubkey()),
        30,
    )
    .await;
    let (state, _, text) = submit(&mut page, "limit", 110, 1, 45, "sell").await;
    assert_eq!(state, "ok", "{text}");
    assert_eq!(page.eval("window.testWalletSigned").await, json!(1));
    assert_eq!(trader_account(&chain(), &market, &c.pubkey()).open_orders, 1);
    assert_eq!(book_matches_chain(&mut page, &rpc, &market).await.1, vec![[100, 1], [102, 5], [104, 7], [110, 1]]);

    page.screenshot(&std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web_e2e.png")).await;
    assert_eq!(page.problems, Vec::<String>::new(), "the page logged no errors");
    drop(page);
    stack.stop().await;
}

/// Replaces what `fetch` returns in the page: the transaction of a response to a
/// path in `window.swaps` is swapped for the one given there (a compromised API),
/// and every relay request is counted in `window.txSends`.
const TAMPER: &str = "(() => {
  window.swaps = {}; window.txSends = 0;
  const real = window.fetch.bind(window);
  window.fetch = async (url, opts) => {
    if (url === '/tx/send') window.txSends += 1;
    const res = await real(url, opts);
    const swap = window.swaps[url];
    if (!swap || !res.ok) return res;
    const body = await res.json();
    return new Response(JSON.stringify({ ...body, transaction: swap }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return true;
})()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_refuses_to_sign_a_transaction_other_than_the_one_asked_for() {
    let _one = VALIDATOR.lock().await;
    let stack = support::Stack::start().await;
    let base = stack.base.clone();
    let rpc = stack.validator.rpc_url();
    let url = rpc.clone();
    let session = tokio::task::spawn_blocking(move || Session::open(&mut RpcClient::new(url), 1, 2, 5)).await.unwrap();
    let keys = session.market.keys;
    let market = keys.market;
    let (b, c) = (&session.wallets[1], &session.wallets[2]);
    let chain = || RpcClient::new(rpc.clone());
    let seq = chain_book(&chain(), &market).0;
    support::wait_indexed(&base, &market.to_string(), seq).await;

    let mut page = Browser::launch().await;
    page.goto(&format!("{base}/?market={market}")).await;
    page.wait_for("the live feed", "document.getElementById('conn').className === 'live'", 30).await;
    // The cluster comes from the server (a local validator is solana:localnet).
    let chain_id = page.wait_for("the chain", "document.getElementById('chain').textContent", 30).await;
    assert_eq!(chain_id, json!("solana:localnet"));
    page.eval(&format!(
        "document.getElementById('keypair').value = '{}'; document.getElementById('load-keypair').click()",
        keypair_json(&b.keypair)
    ))
    .await;
    page.wait_for("the wallet", "document.getElementById('wallet-addr').dataset.address", 30).await;
    // B rests a bid from the page, honestly.
    let (state, _, text) = submit(&mut page, "limit", 91, 2, 7, "buy").await;
    assert_eq!(state, "ok", "{text}");
    page.wait_for("B's order", "document.querySelectorAll('#orders tr').length === 1 || null", 30).await;
    let trader_before = chain().account_data(&solex_sdk::pda::trader(&market, &b.pubkey())).unwrap();
    assert_eq!(page.eval(TAMPER).await, json!(true));

    // What a compromised API could return instead of what B asked for.
    let blockhash = solana_hash::Hash::default();
    let tx =
        |ixs: &[solex_sdk::Instruction], payer: &Pubkey| solex_sdk::flow::unsigned_transaction(ixs, payer, blockhash);
    let quote_program = session.market.program_of(&keys.quote_mint);
    let thief_account = solex_sdk::flow::ata(&c.pubkey(), &keys.quote_mint, &quote_program);
    let withdraw_to_thief =
        tx(&[ix::withdraw(b.pubkey(), &keys, thief_account, keys.quote_mint, quote_program, 1_000)], &b.pubkey());
    let other_price =
        tx(&[ix::place_order(b.pubkey(), &keys, PlaceOrderArgs::limit(Side::Bid, 99, 2, 8))], &b.pubkey());
    let other_qty = tx(&[ix::place_order(b.pubkey(), &keys, PlaceOrderArgs::limit(Side::Bid, 92, 20, 8))], &b.pubkey());
    let other_side = tx(&[ix::place_order(b.pubkey(), &keys, PlaceOrderArgs::limit(Side::Ask, 92, 2, 8))], &b.pubkey());
    let mut transfer_data = 2u32.to_le_bytes().to_vec();
    transfer_data.extend_from_slice(&1_000_000u64.to_le_bytes());
    let transfer = solex_sdk::Instruction {
        program_id: anchor_lang::system_program::ID,
        accounts: vec![solex_sdk::AccountMeta::new(b.pubkey(), true), solex_sdk::AccountMeta::new(c.pubkey(), false)],
        data: transfer_data,
    };
    let honest = ix::place_order(b.pubkey(), &keys, PlaceOrderArgs::limit(Side::Bid, 92, 2, 8));
    let with_transfer = tx(&[honest.clone(), transfer], &b.pubkey());
    let paid_by_other = tx(&[honest], &c.pubkey());
    let cancel_all = tx(&[ix::cancel_all(b.pubkey(), b.pubkey(), &keys, None, 32)], &b.pubkey());
    for (what, path, swap, then) in [
        ("a cancel that is a withdraw to someone else", "/tx/cancel", &withdraw_to_thief, "cancel"),
        ("a cancel that cancels everything", "/tx/cancel", &cancel_all, "cancel"),
        ("a bid at another price", "/tx/place", &other_price, "buy"),
        ("a bid for another quantity", "/tx/place", &other_qty, "buy"),
        ("an ask instead of a bid", "/tx/place", &other_side, "buy"),
        ("a bid with a SOL transfer", "/tx/place", &with_transfer, "buy"),
        ("a bid paid by someone else", "/tx/place", &paid_by_other, "buy"),
    ] {
        page.eval(&format!("window.swaps = {{ '{path}': '{swap}' }}")).await;
        let (state, code, text) = if then == "cancel" {
            page.eval("document.getElementById('result').dataset.state = ''; document.querySelector('#orders tr button').click()")
                .await;
            outcome(&mut page).await
        } else {
            submit(&mut page, "limit", 92, 2, 8, "buy").await
        };
        assert_eq!((state.as_str(), code.as_str()), ("error", "tampered"), "{what}: {text}");
        assert!(text.contains("refused to sign"), "{what}: {text}");
    }
    assert_eq!(page.eval("window.txSends").await, json!(0), "nothing was signed and sent");
    let trader_after = chain().account_data(&solex_sdk::pda::trader(&market, &b.pubkey())).unwrap();
    assert_eq!(trader_after, trader_before, "B's account is unchanged");
    assert_eq!(chain_book(&chain(), &market).1, vec![[91, 2]]);

    // The honest transactions still go through.
    page.eval("window.swaps = {}").await;
    page.eval(
        "document.getElementById('result').dataset.state = ''; document.querySelector('#orders tr button').click()",
    )
    .await;
    let (state, _, text) = outcome(&mut page).await;
    assert_eq!(state, "ok", "{text}");
    assert_eq!(chain_book(&chain(), &market).1, Vec::<[u64; 2]>::new());
    assert_eq!(page.eval("window.txSends").await, json!(1));
    // So do a withdrawal, a deposit (to and from B's associated token account, which
    // the withdrawal creates) and a settlement, each checked by the page.
    let quote_ata = solex_sdk::flow::ata(&b.pubkey(), &keys.quote_mint, &quote_program);
    let balance = || solex_localnet::scenario::token_balance(&chain(), &quote_ata);
    for (button, amount) in [("withdraw", 5), ("deposit", 3), ("settle", 0)] {
        page.eval(&format!(
            "document.getElementById('asset').value = 'quote'; document.getElementById('amount').value = '{amount}';
             document.getElementById('result').dataset.state = ''; document.getElementById('{button}').click()"
        ))
        .await;
        let (state, _, text) = outcome(&mut page).await;
        assert_eq!(state, "ok", "{button}: {text}");
        if button == "deposit" {
            assert_eq!(balance(), 2, "5 withdrawn, 3 deposited back");
        }
    }
    assert!(balance() > 2, "settled into B's associated token account");
    assert_eq!(page.eval("window.txSends").await, json!(4));
    assert_eq!(page.problems, Vec::<String>::new(), "the page logged no errors");
    drop(page);
    stack.stop().await;
}

/// The page served by `solex-indexer serve` over an empty database and no cluster:
/// enough for what runs in the page alone.
async fn page_alone() -> (support::TestDb, support::Indexer, String) {
    let db = support::TestDb::create().await;
    let bin = env!("CARGO_BIN_EXE_solex-indexer");
    assert!(std::process::Command::new(bin).args(["--database-url", &db.url, "migrate"]).status().unwrap().success());
    let port = support::free_port();
    let dead_rpc = format!("http://127.0.0.1:{}", support::free_port());
    let indexer = support::Indexer(
        std::process::Command::new(bin)
            .args(["--database-url", &db.url, "serve", "--rpc-url", &dead_rpc, "--redis-url", "none"])
            .args(["--api-addr", &format!("127.0.0.1:{port}")])
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while tokio::task::spawn_blocking({
        let url = format!("{base}/app.js");
        move || ureq::get(&url).call().is_err()
    })
    .await
    .unwrap()
    {
        assert!(start.elapsed() < Duration::from_secs(30), "the page is not served");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (db, indexer, base)
}

/// The stored development key, as the page's IndexedDB holds it: [is a CryptoKey,
/// extractable, type, what exportKey said].
const STORED_KEY: &str = "(async () => {
  const db = await new Promise((ok, fail) => { const o = indexedDB.open('solex', 1); o.onsuccess = () => ok(o.result); o.onerror = fail; });
  const rec = await new Promise((ok) => { const g = db.transaction('keys').objectStore('keys').get('dev'); g.onsuccess = () => ok(g.result); });
  db.close();
  if (!rec) return null;
  const k = rec.privateKey;
  let exported;
  try { await crypto.subtle.exportKey('pkcs8', k); exported = 'exported'; } catch (e) { exported = e.name; }
  let jwk;
  try { await crypto.subtle.exportKey('jwk', k); jwk = 'exported'; } catch (e) { jwk = e.name; }
  return [k instanceof CryptoKey, k.extractable, k.type, exported, jwk];
})()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_key_is_kept_non_extractable_in_indexeddb_and_never_in_local_storage() {
    let _one = VALIDATOR.lock().await;
    let (db, indexer, base) = page_alone().await;
    let (old, new) = (Keypair::new(), Keypair::new());
    let mut page = Browser::launch().await;
    let loaded = "document.getElementById('units').textContent || null";
    page.goto(&format!("{base}/")).await;
    page.wait_for("the page", loaded, 30).await;
    // An older page left a plaintext keypair in localStorage: migrated once, then deleted.
    page.eval(&format!("localStorage.setItem('solex.devKeypair', '{}')", keypair_json(&old))).await;
    page.goto(&format!("{base}/")).await;
    page.wait_for("the page", loaded, 30).await;
    let addr = page.wait_for("the migrated key", "document.getElementById('wallet-addr').dataset.address", 30).await;
    assert_eq!(addr, json!(old.pubkey().to_string()));
    assert_eq!(page.eval("localStorage.length").await, json!(0), "the plaintext is gone");
    assert_eq!(
        page.eval(STORED_KEY).await,
        json!([true, false, "private", "InvalidAccessError", "InvalidAccessError"])
    );

    // A key loaded from the form replaces it, the same way; the form is emptied.
    page.eval(&format!(
        "document.getElementById('keypair').value = '{}'; document.getElementById('load-keypair').click()",
        keypair_json(&new)
    ))
    .await;
    page.wait_for(
        "the loaded key",
        &format!("document.getElementById('wallet-addr').dataset.address === '{}' || null", new.pubkey()),
        30,
    )
    .await;
    assert_eq!(page.eval("document.getElementById('keypair').value").await, json!(""));
    assert_eq!(page.eval("localStorage.length + sessionStorage.length").await, json!(0));
    assert_eq!(
        page.eval(STORED_KEY).await,
        json!([true, false, "private", "InvalidAccessError", "InvalidAccessError"])
    );

    // After a reload the stored key signs (its signature verifies for its public key).
    page.goto(&format!("{base}/")).await;
    page.wait_for("the page", loaded, 30).await;
    page.wait_for(
        "the restored key",
        &format!("document.getElementById('wallet-addr').dataset.address === '{}' || null", new.pubkey()),
        30,
    )
    .await;
    let keys = solex_sdk::instructions::MarketKeys::new(
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        1,
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let wire = solex_sdk::flow::unsigned_transaction(
        &[ix::cancel_all(new.pubkey(), new.pubkey(), &keys, None, 32)],
        &new.pubkey(),
        solana_hash::Hash::default(),
    );
    let signed = page
        .eval(&format!(
            "(async () => {{ const w = Uint8Array.from(atob('{wire}'), (c) => c.charCodeAt(0));
               const s = await window.solexPage.state.signer.sign(w);
               return btoa(Array.from(s, (b) => String.fromCharCode(b)).join('')); }})()"
        ))
        .await;
    let tx = solex_sdk::flow::decode_transaction(signed.as_str().unwrap()).unwrap();
    let signature: [u8; 64] = tx.signatures[0].as_ref().try_into().unwrap();
    let verified = ed25519_dalek::VerifyingKey::from_bytes(&new.pubkey().to_bytes())
        .unwrap()
        .verify_strict(&tx.message_data(), &ed25519_dalek::Signature::from_bytes(&signature));
    assert!(verified.is_ok(), "the restored key signs");

    // Forgetting it removes it.
    page.eval("document.getElementById('forget-keypair').click()").await;
    page.wait_for("no key", "document.getElementById('wallet-addr').dataset.address === undefined || null", 30).await;
    assert_eq!(page.eval(STORED_KEY).await, json!(null));
    drop(page);
    drop(indexer);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u64_values_above_2_53_survive_the_page() {
    let _one = VALIDATOR.lock().await;
    let (db, indexer, base) = page_alone().await;
    let mut page = Browser::launch().await;
    page.goto(&format!("{base}/")).await;
    page.wait_for("the page", "window.solexPage && document.getElementById('units').textContent || null", 30).await;

    // Read from JSON exactly, shown exactly (a book snapshot with such levels).
    let shown = page
        .eval(
            "(() => { const p = window.solexPage;
               const msg = p.parseJson('{\"type\":\"snapshot\",\"data\":{\"seq\":3,\"bids\":[[9007199254740993,18446744073709551615]],\"asks\":[[18446744073709551614,9007199254740995]]}}');
               p.onBook(msg.type, msg.data);
               const cells = (id) => [...document.querySelectorAll(`#${id} tr`)].map((r) => [r.dataset.price, r.dataset.qty, r.cells[0].textContent]);
               return [cells('bids'), cells('asks'), p.toJson({ price: p.big('18446744073709551615') })]; })()",
        )
        .await;
    assert_eq!(
        shown,
        json!([
            [["9007199254740993", "18446744073709551615", "9,007,199,254,740,993"]],
            [["18446744073709551614", "9007199254740995", "18,446,744,073,709,551,614"]],
            "{\"price\":\"18446744073709551615\"}"
        ])
    );

    // The page's transaction checks compare u64 and u128 arguments exactly: a price
    // of 2^53 + 1 is not 2^53 (equal as JS numbers), nor an order id one more.
    let owner = Keypair::new().pubkey();
    let keys = solex_sdk::instructions::MarketKeys::new(
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        1,
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let (price, qty, client_id) = ((1u64 << 53) + 1, u64::MAX - 1, u64::MAX);
    let args = PlaceOrderArgs::limit(Side::Ask, price, qty, client_id);
    let order_id = solex_sdk::order_id(u64::MAX, 5);
    let blockhash = solana_hash::Hash::default();
    let place = solex_sdk::flow::unsigned_transaction(&[ix::place_order(owner, &keys, args)], &owner, blockhash);
    let cancel = solex_sdk::flow::unsigned_transaction(
        &[ix::cancel_order(owner, &keys, Side::Ask, order_id)],
        &owner,
        blockhash,
    );
    let check = |wire: &str, intent: String| {
        format!(
            "(async () => {{ const p = window.solexPage;
               const tx = p.decodeTransaction(Uint8Array.from(atob('{wire}'), (c) => c.charCodeAt(0)));
               const market = {{ market: '{market}', base_mint: '{base_mint}', quote_mint: '{quote_mint}' }};
               try {{ await p.checkTransaction(tx, {{ owner: '{owner}', market, ...{intent} }}); return 'signs'; }}
               catch (e) {{ return e.message; }} }})()",
            market = keys.market,
            base_mint = keys.base_mint,
            quote_mint = keys.quote_mint,
        )
    };
    let place_intent = |price: &str| {
        format!("{{ instruction: 'place_order', side: 'ask', type: 'limit', price: {price}n, qty: {qty}n, clientId: {client_id}n }}")
    };
    assert_eq!(page.eval(&check(&place, place_intent(&price.to_string()))).await, json!("signs"));
    let refused = page.eval(&check(&place, place_intent(&(1u64 << 53).to_string()))).await;
    assert!(refused.as_str().unwrap().contains("price"), "{refused}");
    let cancel_intent = |id: u128| format!("{{ instruction: 'cancel_order', side: 'ask', orderId: {id}n }}");
    assert_eq!(page.eval(&check(&cancel, cancel_intent(order_id))).await, json!("signs"));
    let refused = page.eval(&check(&cancel, cancel_intent(order_id + 1))).await;
    assert!(refused.as_str().unwrap().contains("order id"), "{refused}");
    drop(page);
    drop(indexer);
    db.drop_db().await;
}

/// The Rust test vector's hex (`VECTOR_EPHEMERAL`, `VECTOR_CIPHERTEXT`, `VECTOR_TAG`), read
/// from `programs/seal/src/tests.rs` (one source for every implementation).
fn rust_vector() -> [String; 3] {
    let source = include_str!("../../programs/seal/src/tests.rs");
    ["VECTOR_EPHEMERAL", "VECTOR_CIPHERTEXT", "VECTOR_TAG"].map(|name| {
        let prefix = format!("const {name}: &str = \"");
        let at = source.find(&prefix).unwrap_or_else(|| panic!("{name}")) + prefix.len();
        source[at..at + source[at..].find('"').unwrap()].to_string()
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_seals_the_test_vector_and_signs_only_the_sealed_order_it_made() {
    let _one = VALIDATOR.lock().await;
    let (db, indexer, base) = page_alone().await;
    let mut page = Browser::launch().await;
    page.goto(&format!("{base}/")).await;
    page.wait_for("the page", "window.solexPage && document.getElementById('units').textContent || null", 30).await;

    // The served module and its vendored libraries, in Chromium: the Rust vector's bytes.
    let sealed = page
        .eval(
            "(async () => { const s = await window.solexPage.sealing();
               const { ristretto255 } = await import('./vendor/noble-curves/ed25519.js');
               const fill = (b) => new Uint8Array(32).fill(b);
               const key = ristretto255.Point.BASE.multiply(s.scalarModOrder(fill(7))).toBytes();
               const plaintext = s.orderPlaintext({ side: 'ask', type: 'ioc', price: 12345n, qty: 67n, clientId: 89n });
               const out = s.sealWith(s.scalarModOrder(fill(9)), key,
                 { program: fill(1), market: fill(2), batch: 42n, trader: fill(3) }, plaintext);
               return [s.toHex(out.ephemeral), s.toHex(out.ciphertext), s.toHex(out.tag)]; })()",
        )
        .await;
    assert_eq!(sealed, json!(rust_vector()));

    // submit_sealed and cancel_sealed are signed only as sealed and asked.
    let owner = Keypair::new().pubkey();
    let market_keys = solex_sdk::instructions::MarketKeys::new(
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        1,
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let keys = solex_sdk::auction::AuctionKeys {
        market: market_keys,
        auction: Pubkey::new_unique(),
        keyper_set: Pubkey::new_unique(),
    };
    let args = solex::SubmitSealedArgs {
        batch_id: (1 << 53) + 1,
        ephemeral: [4; 32],
        ciphertext: [5; 40],
        tag: [6; 16],
        base_envelope: 0,
        quote_envelope: u64::MAX - 1,
    };
    let blockhash = solana_hash::Hash::default();
    let tx = |ix| solex_sdk::flow::unsigned_transaction(&[ix], &owner, blockhash);
    let submit = tx(solex_sdk::auction::submit_sealed(owner, &keys, args));
    let cancel = tx(solex_sdk::auction::cancel_sealed(owner, &keys, (1 << 53) + 1, 7));
    let check = |wire: &str, intent: String| {
        format!(
            "(async () => {{ const p = window.solexPage;
               const tx = p.decodeTransaction(Uint8Array.from(atob('{wire}'), (c) => c.charCodeAt(0)));
               const market = {{ market: '{market}', base_mint: '{base_mint}', quote_mint: '{quote_mint}' }};
               const bytes = (n, b) => new Uint8Array(n).fill(b);
               try {{ await p.checkTransaction(tx, {{ owner: '{owner}', market, auction: '{auction}', keyperSet: '{keyper_set}', ...{intent} }}); return 'signs'; }}
               catch (e) {{ return e.message; }} }})()",
            market = market_keys.market,
            base_mint = market_keys.base_mint,
            quote_mint = market_keys.quote_mint,
            auction = keys.auction,
            keyper_set = keys.keyper_set,
        )
    };
    let submit_intent = |batch: &str, ciphertext_byte: u8, quote: &str| {
        format!(
            "{{ instruction: 'submit_sealed', batchId: {batch}n, ephemeral: bytes(32, 4), ciphertext: bytes(40, {ciphertext_byte}),
               tag: bytes(16, 6), collateralBase: 0n, collateralQuote: {quote}n }}"
        )
    };
    let (batch, quote) = (((1u64 << 53) + 1).to_string(), (u64::MAX - 1).to_string());
    assert_eq!(page.eval(&check(&submit, submit_intent(&batch, 5, &quote))).await, json!("signs"));
    for (what, intent, says) in [
        ("another ciphertext", submit_intent(&batch, 8, &quote), "ciphertext is not the one sealed in this page"),
        ("another collateral", submit_intent(&batch, 5, &u64::MAX.to_string()), "quote collateral"),
        ("another batch", submit_intent(&(1u64 << 53).to_string(), 5, &quote), "batch id"),
    ] {
        let refused = page.eval(&check(&submit, intent)).await;
        assert!(refused.as_str().unwrap().contains(says), "{what}: {refused}");
    }
    let cancel_intent = |index: u32| format!("{{ instruction: 'cancel_sealed', batchId: {batch}n, index: {index}n }}");
    assert_eq!(page.eval(&check(&cancel, cancel_intent(7))).await, json!("signs"));
    let refused = page.eval(&check(&cancel, cancel_intent(8))).await;
    assert!(refused.as_str().unwrap().contains("sealed order index"), "{refused}");
    // A submission asked for as a cancel, or for another auction, is refused.
    let refused = page.eval(&check(&submit, cancel_intent(7))).await;
    assert!(refused.as_str().unwrap().contains("not the cancel_sealed you asked for"), "{refused}");
    let other_auction = tx(solex_sdk::auction::submit_sealed(
        owner,
        &solex_sdk::auction::AuctionKeys { auction: Pubkey::new_unique(), ..keys },
        args,
    ));
    let refused = page.eval(&check(&other_auction, submit_intent(&batch, 5, &quote))).await;
    assert!(refused.as_str().unwrap().contains("its auction is"), "{refused}");
    drop(page);
    drop(indexer);
    db.drop_db().await;
}

/// Every table of the database as text, a row a line (as JSON).
async fn database_text(pool: &sqlx::PgPool) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = String::new();
    for t in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT to_jsonb(t.*)::text FROM \"{t}\" t")).fetch_all(pool).await.unwrap();
        out.push_str(&format!("{t}\n{}\n", rows.join("\n")));
    }
    out
}

/// Whether `text` holds `number`: as a whole decimal token (not part of an address, a
/// hash or a longer number) or as its little-endian u64 bytes in hex.
fn holds(text: &str, number: u64) -> bool {
    let decimal = number.to_string();
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|t| t == decimal)
        || text.to_ascii_lowercase().contains(&hex(&number.to_le_bytes()))
}

/// The order the page seals: distinctive numbers, so a leak anywhere would be found.
const SEALED_PRICE: u64 = 7_919;
const SEALED_QTY: u64 = 4_271;
const SEALED_CLIENT_ID: u64 = 73_421_337;

/// A batch market in the page, end to end: it shows the market is one, the countdown
/// to the batch's close and the batches with their clearing prices; a post-only bid
/// goes to the book; a bid is sealed in the page (to the key `batch-key` read from
/// the chain), built by `/tx/sealed` around its ciphertext, checked, signed and
/// relayed; another is sealed and cancelled from the page. Until the batch opens,
/// neither what the page sent, nor the indexer's database, nor its debug log holds
/// the order's price, size or client id. The harness then releases the batch key
/// (the committee's shares after the close) and opens, clears and executes the
/// batch: the page shows the bid filled at the clearing price, and the balances the
/// chain has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_seals_a_bid_for_a_batch_and_shows_its_fill_at_the_clearing_price() {
    use solex_sdk::events::SolexEvent;
    let _one = VALIDATOR.lock().await;
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web_e2e_batch_indexer.log");
    let stack = support::Stack::start_logging(&log, "debug").await;
    let base = stack.base.clone();
    let rpc = stack.validator.rpc_url();
    let url = rpc.clone();
    let (mut bm, bidder) = tokio::task::spawn_blocking(move || {
        // Batches of 64 slots (about 26 s): time for the page's three transactions in one.
        let mut bm = support::BatchMarket::open(url, 64, 44);
        let maker = bm.wallet(1 << 30, 1 << 30);
        let bidder = bm.wallet(1 << 30, 1 << 30);
        bm.rest(&maker, Side::Ask, 7_903, 5_000);
        (bm, bidder)
    })
    .await
    .unwrap();
    let market = bm.market();
    let chain = || RpcClient::new(rpc.clone());
    support::wait_indexed(&base, &market.to_string(), chain_book(&chain(), &market).0).await;

    let mut page = Browser::launch().await;
    page.record_requests().await;
    page.goto(&format!("{base}/?market={market}")).await;
    page.wait_for("the live feed", "document.getElementById('conn').className === 'live'", 30).await;
    assert_eq!(page.eval("document.getElementById('batch-badge').hidden").await, json!(false), "it says batch market");
    page.wait_for("the countdown", "document.getElementById('batch-countdown').dataset.batchId", 30).await;
    page.eval(&format!(
        "document.getElementById('keypair').value = '{}'; document.getElementById('load-keypair').click()",
        keypair_json(&bidder.keypair)
    ))
    .await;
    page.wait_for("the wallet", "document.getElementById('wallet-addr').dataset.address", 30).await;

    // A post-only bid goes to the book, as on any market.
    let (state, _, text) = submit(&mut page, "post_only", 7_800, 5, 1, "buy").await;
    assert_eq!(state, "ok", "{text}");
    // "ok" may be "sent, not confirmed yet" (the relay's wait ran out on a busy machine).
    let start = Instant::now();
    while chain_book(&chain(), &market).1 != vec![[7_800, 5]] {
        assert!(start.elapsed() < Duration::from_secs(30), "the post-only bid never rested: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A batch that has just begun: its countdown is the chain's.
    let (batch, close) = tokio::task::block_in_place(|| bm.fresh_batch(0.6));
    let shown = page
        .wait_for(
            "this batch's countdown",
            &format!(
                "(() => {{ const d = document.getElementById('batch-countdown').dataset;
                   return d.batchId === '{batch}' ? [d.closeSlot, Number(d.slotsLeft)] : null; }})()"
            ),
            30,
        )
        .await;
    assert_eq!(shown[0], json!(close.to_string()));
    let left = shown[1].as_u64().unwrap();
    assert!(left > 0 && left <= 64, "{shown}");
    let countdown = page.eval("document.getElementById('batch-countdown').textContent").await;
    assert!(countdown.as_str().unwrap().contains(" s)"), "slots and seconds: {countdown}");

    // The sealed bid, and a second one cancelled from the page before the close.
    let (state, _, text) = submit(&mut page, "limit", SEALED_PRICE, SEALED_QTY, SEALED_CLIENT_ID, "buy").await;
    assert_eq!(state, "ok", "{text}");
    assert!(text.contains("SealedSubmitted") && text.contains(&format!("(batch {batch},")), "{text}");
    let (state, _, text) = submit(&mut page, "limit", 7_850, 1, 5, "buy").await;
    assert_eq!(state, "ok", "{text}");
    page.wait_for("the second sealed order", "document.querySelector('#sealed tr[data-idx=\"1\"] button')", 30).await;
    page.eval("document.getElementById('result').dataset.state = ''; document.querySelector('#sealed tr[data-idx=\"1\"] button').click()")
        .await;
    let (state, _, text) = outcome(&mut page).await;
    assert!(state == "ok" && text.contains("SealedCancelled"), "{text}");
    page.wait_for(
        "the cancel",
        "document.querySelector('#sealed tr[data-idx=\"1\"]')?.dataset.status === 'cancelled' || null",
        30,
    )
    .await;
    // Only this page knows what its sealed order is.
    let mine = page.eval("document.querySelector('#sealed tr[data-idx=\"0\"]').cells[1].textContent").await;
    assert_eq!(mine, json!("buy 4,271 @ 7,919 limit (sealed)"));

    // What the page sent: the sealed orders as ciphertext and collateral only, relayed as built.
    let sent: Vec<Value> = page.requests.iter().filter(|r| r["method"] == "POST").cloned().collect();
    let bodies = |path: &str| -> Vec<Value> {
        sent.iter()
            .filter(|r| r["url"].as_str().unwrap().ends_with(path))
            .map(|r| serde_json::from_str(r["postData"].as_str().unwrap()).unwrap())
            .collect()
    };
    let sealed = bodies("/tx/sealed");
    assert_eq!(sealed.len(), 2, "{sent:?}");
    for body in &sealed {
        let mut fields: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["batch_id", "ciphertext", "collateral_base", "collateral_quote", "ephemeral", "market", "owner", "tag"]
        );
        assert_eq!(body["batch_id"], json!(batch.to_string()));
    }
    let m = solex_localnet::scenario::market(&chain(), &market);
    // By default what the program's rule asks, rounded up to a power of two (as the CLI locks it).
    let need = solex_sdk::auction::private_envelope(&m, 100, Side::Bid, SEALED_PRICE, SEALED_QTY, false).unwrap();
    assert_eq!(
        (sealed[0]["collateral_base"].clone(), sealed[0]["collateral_quote"].clone()),
        (json!(need.0.to_string()), json!(need.1.to_string())),
        "the collateral the program's rule asks, rounded up"
    );
    assert!(need.1.is_power_of_two());
    let submitted: Vec<Vec<u8>> = bodies("/tx/send")
        .iter()
        .map(|b| solex_sdk::flow::decode_transaction(b["transaction"].as_str().unwrap()).unwrap())
        .flat_map(|tx| tx.message.instructions.into_iter().map(|ix| ix.data))
        .filter(|data| data.len() == 8 + 8 + 32 + 40 + 16 + 16)
        .collect();
    assert_eq!(submitted.len(), 2, "two submit_sealed relayed");
    for (data, body) in submitted.iter().zip(&sealed) {
        assert_eq!(hex(&data[16..48]), body["ephemeral"].as_str().unwrap());
        assert_eq!(hex(&data[48..88]), body["ciphertext"].as_str().unwrap());
        assert_eq!(hex(&data[88..104]), body["tag"].as_str().unwrap());
    }
    let everything_sent: String = page.requests.iter().map(|r| format!("{} {}\n", r["url"], r["postData"])).collect();
    for n in [SEALED_PRICE, SEALED_QTY, SEALED_CLIENT_ID] {
        assert!(!holds(&everything_sent, n), "the page sent {n} somewhere:\n{everything_sent}");
    }
    assert!(everything_sent.contains("/vendor/noble-curves/ed25519.js"), "the vendored library came from the indexer");

    // Closed, indexed, not opened: neither the database nor the log holds the order.
    tokio::task::block_in_place(|| bm.chain.wait_until_slot(close + 1));
    support::wait_indexed(&base, &market.to_string(), chain_book(&chain(), &market).0).await;
    let pool = solex_indexer::db::connect(&stack.db.url).await.unwrap();
    let before = database_text(&pool).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("DEBUG") && before.contains("sealed_orders"),
        "a debug log and a database with the order's row"
    );
    for n in [SEALED_PRICE, SEALED_QTY, SEALED_CLIENT_ID] {
        assert!(!holds(&before, n), "the database holds {n} before the batch opened");
        assert!(!holds(&logged, n), "the indexer's log holds {n} before the batch opened");
    }
    let (_, row) = get(&base, &format!("/markets/{market}/batches/{batch}")).await;
    assert_eq!((row["status"].as_str(), row["sealed_orders"][0]["price"].clone()), (Some("collecting"), Value::Null));

    // The harness releases the key and runs the batch.
    let landed = tokio::task::block_in_place(|| bm.process(batch));
    let cleared = landed
        .iter()
        .flat_map(|l| &l.events)
        .find_map(|e| match e {
            SolexEvent::BatchCleared(c) => Some((c.price, c.volume)),
            _ => None,
        })
        .expect("the batch cleared");
    assert_eq!(cleared, (7_903, SEALED_QTY), "the clearing price is the resting ask's");

    // The page shows the fill at the clearing price, the batch and its price, and the chain's balances.
    let fill = page
        .wait_for(
            "the fill",
            "(() => { const r = document.querySelector('#sealed tr[data-idx=\"0\"]');
               return r && r.dataset.status === 'done' && r.dataset.fillPrice ? [r.dataset.filled, r.dataset.fillPrice, r.cells[1].textContent, r.cells[4].textContent] : null; })()",
            60,
        )
        .await;
    assert_eq!(fill, json!(["4271", "7903", "buy 4,271 @ 7,919 limit", "4,271 @ 7,903"]));
    let shown = page
        .eval(&format!(
            "(() => {{ const r = document.querySelector('#batches tr[data-batch-id=\"{batch}\"]');
               return [r.dataset.status, r.dataset.price, r.dataset.volume, document.getElementById('batch-last-price').dataset.price]; }})()"
        ))
        .await;
    assert_eq!(shown, json!(["done", "7903", "4271", "7903"]));
    let trade = page
        .wait_for("the batch's trade", "document.querySelector(`#trades tr[data-batch-id]`)?.cells[0].textContent", 30)
        .await;
    assert_eq!(trade, json!("7,903"));
    let trader = trader_account(&chain(), &market, &bidder.pubkey());
    let balances = page
        .wait_for(
            "the balances after the batch",
            &format!(
                "(() => {{ const rows = [...document.querySelectorAll('#balances tr[data-asset]')].map((r) => [r.dataset.available, r.dataset.locked]);
                   return rows.length === 2 && rows[0][0] === '{}' && rows[1][0] === '{}' ? rows : null; }})()",
                trader.base_available, trader.quote_available
            ),
            30,
        )
        .await;
    assert_eq!(
        balances,
        json!([
            [trader.base_available.to_string(), trader.base_locked.to_string()],
            [trader.quote_available.to_string(), trader.quote_locked.to_string()]
        ])
    );
    // Once opened, the index has the order: the searches above would have found it.
    let after = database_text(&pool).await;
    assert!(holds(&after, SEALED_PRICE) && holds(&after, SEALED_QTY) && holds(&after, SEALED_CLIENT_ID));

    page.screenshot(&std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web_e2e_batch.png")).await;
    assert_eq!(page.problems, Vec::<String>::new(), "the page logged no errors");
    drop(page);
    pool.close().await;
    stack.stop().await;
}
