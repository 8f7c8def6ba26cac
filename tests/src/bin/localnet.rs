//! The local exchange: a solana-test-validator with the Solex program deployed,
//! a demo market over two fresh mints, and two funded demo wallets whose keypair
//! files it writes. Prints the addresses and runs until Ctrl-C, then stops the
//! validator and removes its ledger.
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
    println!("Ctrl-C stops the validator.");

    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!("stopping ...");
    drop(validator);
    eprintln!("stopped.");
}
