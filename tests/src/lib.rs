//! Test and benchmark harness for the Solex program.
//!
//! Every scenario is written once against [`ledger::Ledger`], which both LiteSVM
//! (fast, in-process, the same `.so`; [`litesvm_ledger`]) and a real
//! `solana-test-validator` (the local exchange's crate, `solex-localnet`)
//! implement. Nothing here builds or mocks the program: both load
//! `target/deploy/*.so` from `scripts/build-sbf.sh`.
pub mod litesvm_ledger;
pub mod model;

// The scenarios, the validator and the services live with the local exchange;
// the integration tests reach them through this crate as before.
pub use solex_localnet::{
    artifacts, auction, bots, exchange, ledger, proxy, rpc, sandwich, scenario, services, validator, Keypair, Signer,
};
