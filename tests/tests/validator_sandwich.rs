//! The point of batch markets, demonstrated on solana-test-validator with the real
//! keypers and crank: a sandwich bot that sees the victim's transaction first
//! profits on a continuous market and does not on a batch market
//! (`solex_tests::sandwich`; `cargo run --bin sandwich` prints the same table).
use solex_tests::sandwich::{demo, VICTIM_LOTS};

#[test]
fn a_sandwich_profits_on_a_continuous_market_and_not_on_a_batch_market() {
    let logs = solex_tests::artifacts::target_dir().join(format!("validator_sandwich-{}", std::process::id()));
    std::fs::create_dir_all(&logs).unwrap();
    let validator = solex_tests::validator::TestValidator::start();
    let d = demo(&validator.rpc_url(), &validator.ws_url(), &logs);
    println!("{}", d.table());
    // The victim bought its 20 lots in every run.
    for r in [&d.continuous_alone, &d.continuous_attacked, &d.batch_alone, &d.batch_attacked] {
        assert_eq!(r.victim_lots, VICTIM_LOTS, "{d:?}");
    }
    assert!(d.continuous_attacked.earned > 0, "the sandwich pays on a continuous market: {d:?}");
    assert!(d.continuous_attacked.victim_paid > d.continuous_alone.victim_paid, "at the victim's expense: {d:?}");
    assert!(d.batch_attacked.earned <= 0, "it does not on a batch market: {d:?}");
    let _ = std::fs::remove_dir_all(&logs);
}
