//! The local exchange: a solana-test-validator with the Solex program deployed,
//! a demo market over two fresh mints, two funded demo wallets whose keypair
//! files it writes, the crank, the indexer (REST, WebSocket and transaction APIs),
//! and two bots trading on the market (a market maker and a taker). Prints the
//! addresses and runs until Ctrl-C, then stops everything and removes the ledger.
//!
//!     scripts/localnet.sh
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use solana_keypair::write_keypair_file;
use solex_sdk::instructions as ix;
use solex_sdk::{CreateMarketArgs, PlaceOrderArgs, Side};
use solex_tests::ledger::Ledger;
use solex_tests::scenario::TestMarket;
use solex_tests::validator::TestValidator;
use solex_tests::{Keypair, Signer};

fn main() {
    let out = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| "target/localnet".into());
    std::fs::create_dir_all(&out).expect("output directory");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).expect("signal handler");

    eprintln!("starting solana-test-validator with target/deploy/solex.so ...");
    let validator = TestValidator::start_on(8899);
    let mut chain = validator.rpc();
    let args = CreateMarketArgs {
        market_id: 0,
        base_lot_size: 1_000_000,
        quote_tick_size: 10,
        min_order_lots: 1,
        maker_fee_bps: -1,
        taker_fee_bps: 4,
    };
    let (m, _) = TestMarket::create(&mut chain, args);
    let k = m.keys;

    let mut wallets = vec![];
    for name in ["maker", "taker"] {
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

    // A crossing order, so the crank has fills to settle as soon as it starts.
    let taker = &wallets[1].2;
    chain.send(&[m.deposit_ix(taker, k.quote_mint, 10_000_000_000)], &[&taker.keypair]).expect("taker deposit");
    let take = PlaceOrderArgs::limit(Side::Bid, 10_100, 4, 1);
    chain.send(&[ix::place_order(taker.pubkey(), &k, take)], &[&taker.keypair]).expect("demo trade");

    // The crank (built next to this binary by scripts/localnet.sh), paying from its own keypair.
    let crank_key = Keypair::new();
    chain.airdrop(&crank_key.pubkey(), 10_000_000_000);
    let crank_path = out.join("crank.json");
    write_keypair_file(&crank_key, &crank_path).expect("write crank keypair");
    let crank_bin = std::env::current_exe().expect("own path").with_file_name("solex-crank");
    let mut crank = std::process::Command::new(&crank_bin)
        .args(["--rpc-url", &validator.rpc_url(), "--keypair"])
        .arg(&crank_path)
        .args(["--metrics-addr", "127.0.0.1:9464"])
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} (cargo build -p solex-crank): {e}", crank_bin.display()));

    // The indexer, into a fresh database, serving the REST and WebSocket APIs.
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    for sql in ["DROP DATABASE IF EXISTS solex_localnet WITH (FORCE)", "CREATE DATABASE solex_localnet"] {
        let ok = std::process::Command::new("psql").args([admin, "-qc", sql]).status().is_ok_and(|s| s.success());
        assert!(ok, "psql {sql:?} failed (is PostgreSQL running? scripts/setup.sh services)");
    }
    let indexer_bin = crank_bin.with_file_name("solex-indexer");
    let mut indexer = std::process::Command::new(&indexer_bin)
        .args(["--database-url", "postgres://postgres@127.0.0.1:5432/solex_localnet", "run", "--rpc-url"])
        .arg(validator.rpc_url())
        .args(["--api-addr", "127.0.0.1:8080"])
        .spawn()
        .unwrap_or_else(|e| panic!("starting {} (cargo build -p solex-indexer): {e}", indexer_bin.display()));

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
        "  crank          pid {} keypair {}; metrics http://127.0.0.1:9464/metrics",
        crank.id(),
        crank_path.display()
    );
    println!(
        "  indexer        pid {}; REST http://127.0.0.1:8080/markets (docs: /openapi.json), WebSocket ws://127.0.0.1:8080/ws",
        indexer.id()
    );
    // The bots: the maker requotes every second, the taker trades every 1.5 s.
    let taker_deposit = [m.deposit_ix(taker, k.base_mint, 100_000_000_000)];
    chain.send(&taker_deposit, &[&taker.keypair]).expect("taker base deposit");
    std::thread::scope(|scope| {
        let url = validator.rpc_url();
        let (m, maker, taker) = (&m, &wallets[0].2, &wallets[1].2);
        let (s1, s2) = (stop.clone(), stop.clone());
        let u1 = url.clone();
        scope.spawn(move || {
            solex_tests::bots::market_maker(u1, m, maker, 10_000, std::time::Duration::from_secs(1), s1)
        });
        scope.spawn(move || solex_tests::bots::taker(url, m, taker, std::time::Duration::from_millis(1500), s2));
        println!("  bots           market maker ({}) and taker ({}) trading", maker.pubkey(), taker.pubkey());
        println!("Ctrl-C stops everything.");
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
    eprintln!("stopping ...");
    // SIGTERM: the crank finishes its in-flight transaction and exits.
    for child in [&mut crank, &mut indexer] {
        let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    drop(validator);
    eprintln!("stopped.");
}
