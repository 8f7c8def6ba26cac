//! The trading page in a real headless Chromium, served by the real
//! `solex-indexer run` over a real validator: it loads without errors, shows the
//! chain's book and follows it live, shows a loaded wallet's balances, and orders
//! placed and cancelled from it (signed in the page with WebCrypto Ed25519 from a
//! development keypair, or by a Wallet Standard wallet) land on chain and show up
//! in its book, orders, trades and candle chart. A refusal is shown decoded and
//! changes nothing on chain.
use std::time::{Duration, Instant};

use serde_json::json;
use solex_sdk::instructions as ix;
use solex_sdk::{PlaceOrderArgs, Pubkey, Side};
use solex_tests::ledger::Ledger;
use solex_tests::rpc::RpcClient;
use solex_tests::scenario::trader_account;
use solex_tests::{Keypair, Signer};
use support::{chain_book, Session};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_live_exchange_and_trades_with_a_wallet() {
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
    let (state, code, text) = submit(&mut page, "post-only", 100, 1, 43, "buy").await;
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
