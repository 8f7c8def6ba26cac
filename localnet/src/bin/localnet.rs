//! The local exchange: a solana-test-validator with the Solex program deployed,
//! a demo market over two fresh mints, three funded demo wallets whose keypair
//! files it writes (the bots' two, and `you.json` for the person at the keyboard), the crank, the indexer (REST, WebSocket and transaction APIs),
//! and two bots trading on the market (a market maker and a taker); and a batch
//! market (ADR 8) with its keyper committee (three `solex-keyper` processes,
//! threshold 2), a post-only market maker and a taker of sealed orders. Prints the
//! addresses and runs until Ctrl-C, then stops everything and removes the ledger.
//!
//!     scripts/localnet.sh
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use solana_keypair::write_keypair_file;
use solex::CreateAuctionArgs;
use solex_localnet::auction::{Committee, Keypers, TestAuction};
use solex_localnet::ledger::Ledger;
use solex_localnet::scenario::TestMarket;
use solex_localnet::services;
use solex_localnet::validator::TestValidator;
use solex_localnet::{Keypair, Signer};
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, PlaceOrderArgs, Side};

fn main() {
    let out = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| "target/localnet".into());
    std::fs::create_dir_all(&out).expect("output directory");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).expect("signal handler");

    // Fixed ports by default; the environment can move them (the main job's test does).
    let port = |var: &str, default: u16| std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (rpc_port, api_port, metrics_port) = (
        port("SOLEX_LOCALNET_RPC_PORT", 8899),
        port("SOLEX_LOCALNET_API_PORT", 8080),
        port("SOLEX_LOCALNET_METRICS_PORT", 9464),
    );
    let db_name = std::env::var("SOLEX_LOCALNET_DB").unwrap_or_else(|_| "solex_localnet".into());
    eprintln!("starting solana-test-validator with target/deploy/solex.so ...");
    let validator = TestValidator::start_on(rpc_port);
    let mut chain = validator.rpc();
    let (m, _) = TestMarket::create(&mut chain, solex_localnet::exchange::DEMO_MARKET);
    let k = m.keys;

    let mut wallets = vec![];
    for name in ["maker", "taker", "you"] {
        let kp = Keypair::new();
        let path = out.join(format!("{name}.json"));
        write_keypair_file(&kp, &path).expect("write keypair");
        let (w, _) = m.wallet_from(&mut chain, kp, 1_000_000_000_000, 1_000_000_000_000);
        wallets.push((name, path, w));
    }
    // A little depth so the book is not empty.
    let maker = &wallets[0].2;
    chain
        .send(
            &[m.deposit_ix(maker, k.base_mint, 100_000_000_000), m.deposit_ix(maker, k.quote_mint, 100_000_000_000)],
            &[&maker.keypair],
        )
        .expect("demo deposits");
    for (side, price) in [(Side::Bid, 9_900), (Side::Bid, 9_800), (Side::Ask, 10_100), (Side::Ask, 10_200)] {
        let order = PlaceOrderArgs::limit(side, price, 10, price);
        chain.send(&[ix::place_order(maker.pubkey(), &k, order)], &[&maker.keypair]).expect("demo order");
    }

    // Yours: funds already deposited, so an order from the CLI or the page trades at once.
    let you = &wallets[2].2;
    let yours = [m.deposit_ix(you, k.base_mint, 100_000_000_000), m.deposit_ix(you, k.quote_mint, 100_000_000_000)];
    chain.send(&yours, &[&you.keypair]).expect("your deposits");

    // A crossing order, so the crank has fills to settle as soon as it starts.
    let taker = &wallets[1].2;
    chain.send(&[m.deposit_ix(taker, k.quote_mint, 10_000_000_000)], &[&taker.keypair]).expect("taker deposit");
    let take = PlaceOrderArgs::limit(Side::Bid, 10_100, 4, 1);
    chain.send(&[ix::place_order(taker.pubkey(), &k, take)], &[&taker.keypair]).expect("demo trade");

    // The batch market: a keyper committee (three keyper processes, threshold 2),
    // its keys registered ahead, and a market over two more mints that seals orders.
    let committee_payer = Keypair::new();
    chain.airdrop(&committee_payer.pubkey(), 100_000_000_000);
    let committee = Committee::create(&mut chain, &committee_payer, 3, 2, 8, 64, 512);
    let keyper_dir = out.join("keypers");
    std::fs::create_dir_all(&keyper_dir).expect("keyper directory");
    let keypers = Keypers::start(&validator.rpc_url(), &committee, &keyper_dir, 32);
    eprintln!("keypers generating the first batch keys ...");
    Keypers::wait_keys_ahead(&chain, &committee, 8);
    let rules = CreateAuctionArgs { batch_slots: 8, reveal_timeout_slots: 150, sealed_fee: 1_000 };
    let demo_batch = CreateMarketArgs { market_id: 1, ..solex_localnet::exchange::DEMO_MARKET };
    let (batch, _) = TestAuction::create(&mut chain, &committee, demo_batch, rules, 64);
    let bk = batch.m.keys;
    let mut batch_wallets = vec![];
    for name in ["batch-maker", "batch-taker"] {
        let kp = Keypair::new();
        let path = out.join(format!("{name}.json"));
        write_keypair_file(&kp, &path).expect("write keypair");
        let (w, _) = batch.m.wallet_from(&mut chain, kp, 1_000_000_000_000, 1_000_000_000_000);
        let deposits = [
            batch.m.deposit_ix(&w, bk.base_mint, 100_000_000_000),
            batch.m.deposit_ix(&w, bk.quote_mint, 100_000_000_000),
        ];
        chain.send(&deposits, &[&w.keypair]).expect("batch deposits");
        batch_wallets.push((name, path, w));
    }
    // You trade there too: a trader account with the same deposits (your own wallet's
    // token accounts on the batch market's mints).
    let you_batch =
        batch.m.wallet_from(&mut chain, you.keypair.insecure_clone(), 1_000_000_000_000, 1_000_000_000_000).0;
    let yours = [
        batch.m.deposit_ix(&you_batch, bk.base_mint, 100_000_000_000),
        batch.m.deposit_ix(&you_batch, bk.quote_mint, 100_000_000_000),
    ];
    chain.send(&yours, &[&you.keypair]).expect("your batch deposits");

    // The crank (built next to this binary by scripts/localnet.sh), paying from its
    // own keypair: it settles both markets and processes the batch market's batches.
    let crank_key = Keypair::new();
    chain.airdrop(&crank_key.pubkey(), 10_000_000_000);
    let crank_path = out.join("crank.json");
    write_keypair_file(&crank_key, &crank_path).expect("write crank keypair");
    let mut crank = services::crank(
        &validator.rpc_url(),
        &validator.ws_url(),
        &crank_path,
        &[m.mint_authority.pubkey(), batch.m.mint_authority.pubkey()],
        &format!("127.0.0.1:{metrics_port}"),
        None,
    );

    // The indexer, into a fresh database, serving the REST and WebSocket APIs.
    let db = services::fresh_database(&db_name);
    let api_addr = format!("127.0.0.1:{api_port}");
    let mut indexer = services::indexer(&db, &validator.rpc_url(), &validator.ws_url(), &api_addr, None);

    println!("Solex local exchange is running.");
    println!("  RPC            {}", validator.rpc_url());
    println!("  websocket      {}", validator.ws_url());
    println!("  program        {}", solex::ID);
    println!("  market         {}", k.market);
    println!("  base mint      {} (9 decimals, lot 1_000_000 atoms)", k.base_mint);
    println!("  quote mint     {} (6 decimals, tick 10 atoms per lot)", k.quote_mint);
    println!("  bids / asks    {} / {}", k.bids, k.asks);
    println!("  fill queue     {}", k.fill_queue);
    println!("  fees           maker -1 bps (rebate), taker 4 bps");
    println!("  vaults         {} / {}", k.base_vault, k.quote_vault);
    for (name, path, w) in &wallets {
        println!("  {name:<14} {} keypair {} (base {} quote {})", w.pubkey(), path.display(), w.base, w.quote);
    }
    println!("  mint authority {}", m.mint_authority.pubkey());
    println!(
        "  crank          pid {} keypair {}; metrics http://127.0.0.1:{metrics_port}/metrics",
        crank.id(),
        crank_path.display()
    );
    println!(
        "  indexer        pid {}; REST http://{api_addr}/markets (docs: /openapi.json), WebSocket ws://{api_addr}/ws",
        indexer.id()
    );
    println!("  web page       http://{api_addr}/?market={} (load {} to trade)", k.market, wallets[2].1.display());
    println!("batch market (sealed orders, one price a batch of 8 slots):");
    println!("  market         {}", bk.market);
    println!("  auction        {}", batch.keys.auction);
    println!("  keyper set     {} (3 keypers, threshold 2)", committee.keyper_set);
    for (i, a) in keypers.args.iter().enumerate() {
        println!("  keyper {i}       http://{}/health (state {})", a.listen, a.state_dir.display());
    }
    for (name, path, w) in &batch_wallets {
        println!("  {name:<14} {} keypair {}", w.pubkey(), path.display());
    }
    println!(
        "  you            target/debug/solex --keypair {} place {} bid --ui --price 101 --qty 0.002 --type ioc --sealed",
        wallets[2].1.display(),
        bk.market
    );
    println!("  web page       http://{api_addr}/?market={}", bk.market);
    // The bots: the maker requotes every second, the taker trades every 1.5 s.
    let taker_deposit = [m.deposit_ix(taker, k.base_mint, 100_000_000_000)];
    chain.send(&taker_deposit, &[&taker.keypair]).expect("taker base deposit");
    std::thread::scope(|scope| {
        let url = validator.rpc_url();
        let (m, maker, taker) = (&m, &wallets[0].2, &wallets[1].2);
        let (s1, s2) = (stop.clone(), stop.clone());
        let u1 = url.clone();
        scope.spawn(move || {
            solex_localnet::bots::market_maker(u1, m, maker, 10_000, std::time::Duration::from_secs(1), s1)
        });
        scope.spawn(move || {
            solex_localnet::bots::taker(url.clone(), m, taker, std::time::Duration::from_millis(1500), s2)
        });
        let (batch, committee) = (&batch, &committee);
        let (bmaker, btaker) = (&batch_wallets[0].2, &batch_wallets[1].2);
        let (s3, s4, u3, u4) = (stop.clone(), stop.clone(), validator.rpc_url(), validator.rpc_url());
        scope.spawn(move || {
            solex_localnet::bots::batch_maker(u3, batch, bmaker, 10_000, std::time::Duration::from_millis(700), s3)
        });
        scope.spawn(move || {
            solex_localnet::bots::sealed_taker(u4, batch, committee, btaker, std::time::Duration::from_millis(2000), s4)
        });
        println!("  bots           market maker ({}) and taker ({}) trading", maker.pubkey(), taker.pubkey());
        println!("Ctrl-C stops everything.");
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
    eprintln!("stopping ...");
    // SIGTERM: the crank finishes its in-flight transaction and exits.
    for child in [&mut crank, &mut indexer] {
        services::terminate(child);
    }
    drop(keypers);
    drop(validator);
    eprintln!("stopped.");
}
