//! The `solex` binary against a real solana-test-validator running the compiled
//! program: a wallet's keypair file signs a market's creation, deposits, orders, a
//! cancel and a settlement; refusals are decoded program errors with exit code 1
//! and change nothing; bad usage exits 2.
mod common;

use common::Cli;
use solex_localnet::ledger::Ledger;
use solex_localnet::scenario::{create_mint_at, create_token_account, token_balance, TOKEN_PROGRAM};
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::accounts::decode_trader;
use solex_sdk::pda;

#[test]
fn a_wallet_trades_from_the_terminal() {
    let validator = TestValidator::start();
    let mut chain = solex_localnet::rpc::RpcClient::new(validator.rpc_url());
    // A wallet with SOL and both tokens, as a keypair file like solana-keygen writes.
    let wallet = Keypair::new();
    chain.airdrop(&wallet.pubkey(), 10_000_000_000);
    let base = create_mint_at(&mut chain, &wallet, &Keypair::new(), 9, TOKEN_PROGRAM);
    let quote = create_mint_at(&mut chain, &wallet, &Keypair::new(), 6, TOKEN_PROGRAM);
    let base_account = create_token_account(&mut chain, &wallet, &base, &wallet.pubkey(), &wallet, 1_000_000);
    let quote_account = create_token_account(&mut chain, &wallet, &quote, &wallet.pubkey(), &wallet, 10_000_000);
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::for_wallet(&validator.rpc_url(), dir.path(), "id", &wallet);

    let created = cli.json(&[
        "create-market",
        "--base-mint",
        &base.to_string(),
        "--quote-mint",
        &quote.to_string(),
        "--lot",
        "1000",
        "--tick",
        "10",
        "--taker-fee-bps",
        "5",
    ]);
    let market = created["market"].as_str().unwrap().to_string();
    assert_eq!(created["events"][0]["kind"], "MarketCreated");
    let m = cli.json(&["market", &market]);
    assert_eq!((m["base_lot_size"].as_u64(), m["taker_fee_bps"].as_i64()), (Some(1000), Some(5)));

    cli.json(&["init", &market]);
    cli.json(&["deposit", &market, "quote", "1000000", "--token-account", &quote_account.to_string()]);
    // 0.00005 base tokens (9 decimals) are 50,000 atoms.
    cli.json(&["deposit", &market, "base", "0.00005", "--ui", "--token-account", &base_account.to_string()]);
    let bid = cli.json(&["place", &market, "bid", "--price", "100", "--qty", "5", "--client-id", "7"]);
    assert_eq!(bid["order"]["rested_lots"], 5);
    // In tokens: 1,050 quote per base is 105 ticks (10 quote atoms per lot of 1,000
    // base atoms), 0.000002 base is 2 lots; a price between ticks is refused.
    let err = cli.fails(&["place", &market, "ask", "--ui", "--price", "1050.5", "--qty", "0.000002"], 1);
    assert!(err.contains("not a whole number of ticks"), "{err}");
    cli.json(&["place", &market, "ask", "--ui", "--price", "1050", "--qty", "0.000002", "--type", "post-only"]);
    let book = cli.json(&["book", &market]);
    assert_eq!(
        (book["bids"].clone(), book["asks"].clone()),
        (serde_json::json!([[100, 5]]), serde_json::json!([[105, 2]]))
    );

    // A post-only ask that would cross is refused with the program's error, by name,
    // and changes nothing.
    let trader_key = pda::trader(&market.parse().unwrap(), &wallet.pubkey());
    let before = chain.account_data(&trader_key).unwrap();
    let err = cli.fails(&["place", &market, "ask", "--price", "99", "--qty", "1", "--type", "post_only"], 1);
    assert!(err.contains("WouldCross"), "{err}");
    assert_eq!(chain.account_data(&trader_key).unwrap(), before);

    // Balances equal the trader account: 5 lots at 100 ticks of 10 atoms lock 5,000 quote atoms.
    let balances = cli.json(&["balances", &market]);
    let (t, slots) = decode_trader(&before).unwrap();
    assert_eq!(balances["quote_locked"].as_u64(), Some(t.quote_locked));
    assert_eq!((t.quote_locked, t.quote_available), (5_000, 995_000));
    assert_eq!(balances["open_orders"].as_array().unwrap().len(), slots.len());

    // Cancel by client id, then everything else, then settle to the wallet's
    // associated token accounts (created by the command).
    cli.json(&["cancel", &market, "--client-id", "7"]);
    let all = cli.json(&["cancel-all", &market]);
    assert_eq!(all["events"][0]["kind"], "OrdersCancelled");
    let book = cli.json(&["book", &market]);
    assert_eq!((book["bids"].clone(), book["asks"].clone()), (serde_json::json!([]), serde_json::json!([])));
    cli.json(&["settle", &market]);
    let (t, _) = decode_trader(&chain.account_data(&trader_key).unwrap()).unwrap();
    assert_eq!((t.base_available, t.quote_available, t.base_locked, t.quote_locked), (0, 0, 0, 0));
    let ata = |mint| {
        anchor_spl::associated_token::get_associated_token_address_with_program_id(
            &wallet.pubkey(),
            &mint,
            &TOKEN_PROGRAM,
        )
    };
    assert_eq!((token_balance(&chain, &ata(base)), token_balance(&chain, &ata(quote))), (50_000, 1_000_000));

    // Text output by default, with progress on stderr.
    let out = cli.run(&["book", &market]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("bid price"));

    // History from the indexer API: index the chain into a throwaway database and
    // serve the API; the wallet's two orders are there, cancelled, and no trades.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let name = format!("solex_cli_test_{}", std::process::id());
    let api = rt.block_on(async {
        use solex_indexer::{db, http, ingest};
        let pool = db::connect(&db::create_database(&solex_localnet::services::pg_admin_url(), &name).await.unwrap())
            .await
            .unwrap();
        db::migrate(&pool).await.unwrap();
        let rpc = std::sync::Arc::new(solex_sdk::rpc::RpcClient::new(validator.rpc_url()));
        ingest::backfill(rpc, &pool, solex::ID, None, None).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = http::App {
            db: pool,
            hub: None,
            cache: None,
            metrics: Default::default(),
            rpc: None,
            shutdown: Default::default(),
        };
        tokio::spawn(async move { axum_serve(listener, app).await });
        base
    });
    let with_api = |args: &[&str]| cli.json(&[args, &["--api", &api]].concat());
    let orders = with_api(&["orders", &market]);
    let statuses: Vec<&str> =
        orders["orders"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["cancelled", "cancelled"], "{orders}");
    assert_eq!(with_api(&["trades", &market])["trades"], serde_json::json!([]));
    let unreachable = cli.fails(&["trades", &market, "--api", "http://127.0.0.1:9"], 1);
    assert!(unreachable.contains("cannot reach the indexer API"), "{unreachable}");
    rt.block_on(solex_indexer::db::drop_database(&solex_localnet::services::pg_admin_url(), &name)).unwrap();

    // Bad input: a clear message and a non-zero exit, nothing sent.
    assert!(cli.fails(&["book", "not-a-market"], 1).contains("is not a base58 address"));
    assert!(cli.fails(&["book", &wallet.pubkey().to_string()], 1).contains("is not a Solex market"));
    cli.fails(&["place", &market, "sideways", "--price", "1", "--qty", "1"], 2);
    cli.fails(&["cancel", &market], 1);
    let missing = Cli { url: validator.rpc_url(), keypair: dir.path().join("nope.json") };
    assert!(missing.fails(&["init", &market], 1).contains("cannot read keypair file"));
    let err = cli.fails(&["withdraw", &market, "quote", "1"], 1);
    assert!(err.contains("InsufficientFunds"), "{err}");
}

async fn axum_serve(listener: tokio::net::TcpListener, app: solex_indexer::http::App) {
    solex_indexer::api::serve_on(listener, app, std::time::Duration::from_secs(5)).await.unwrap();
}
