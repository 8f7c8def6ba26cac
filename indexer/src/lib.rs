//! The Solex indexer: mirrors the program's events into PostgreSQL (an append-only
//! event log and tables derived from it), publishes them through Redis, and serves
//! them over REST and WebSocket, with a trading page (`web`).
pub mod api;
pub mod channel;
pub mod db;
pub mod derive;
pub mod http;
pub mod hub;
pub mod ingest;
pub mod live;
pub mod metrics;
pub mod numeric;
pub mod service;
pub mod stored;
pub mod txapi;
pub mod web;
pub mod ws;
