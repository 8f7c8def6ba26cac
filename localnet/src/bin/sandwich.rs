//! `cargo run -p solex-localnet --bin sandwich --ignore-rust-version`: the sandwich bot
//! against a continuous and a batch market on solana-test-validator, with the real
//! keypers and crank; prints what it earned in each (see `solex_localnet::sandwich`).
fn main() {
    let logs = solex_localnet::artifacts::target_dir().join("sandwich");
    std::fs::create_dir_all(&logs).expect("log directory");
    let validator = solex_localnet::validator::TestValidator::start();
    let demo = solex_localnet::sandwich::demo(&validator.rpc_url(), &validator.ws_url(), &logs);
    println!("{}", demo.table());
}
