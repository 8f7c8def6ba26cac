//! Test and benchmark harness for the Solex program.
//!
//! Every scenario is written once against [`ledger::Ledger`], which both LiteSVM
//! (fast, in-process, the same `.so`) and a real `solana-test-validator`
//! implement. Nothing here builds or mocks the program: both load
//! `target/deploy/*.so` from `scripts/build-sbf.sh`.
pub mod artifacts;
pub mod auction;
pub mod bots;
pub mod exchange;
pub mod ledger;
pub mod litesvm_ledger;
pub mod model;
pub mod proxy;
pub mod rpc;
pub mod sandwich;
pub mod scenario;
pub mod services;
pub mod validator;

pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
