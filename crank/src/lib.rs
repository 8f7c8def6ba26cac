//! The Solex crank: keeps every market's fill queue settled by sending
//! `consume_events`, and every batch market's closed batches processed (`batch`),
//! through RPC faults, expired blockhashes, restarts and competing cranks. See `config` for its settings and `service` for the loop.
pub mod batch;
pub mod config;
pub mod metrics;
pub mod service;
pub mod settle;
