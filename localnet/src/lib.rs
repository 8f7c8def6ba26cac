//! The local exchange: the main job (`localnet`) and what runs on it.
//!
//! A `solana-test-validator` with the built program, the crank, the indexer and
//! the keypers as separate processes on their own ports, and trading bots. The
//! chaos suite, the load generator and the sandwich demonstration run the same
//! exchange. Scenarios are written once against [`ledger::Ledger`], which the
//! validator implements here and LiteSVM implements in the test harness
//! (`solex-tests`), so the integration tests reuse them on both.
pub mod artifacts;
pub mod auction;
pub mod bots;
pub mod exchange;
pub mod ledger;
pub mod proxy;
pub mod rpc;
pub mod sandwich;
pub mod scenario;
pub mod services;
pub mod validator;

pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
