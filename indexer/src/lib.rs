//! The Solex indexer: mirrors the program's events into PostgreSQL. This first
//! part is ingestion into the append-only event log: backfill from a durable
//! cursor, idempotent writes keyed by (market, seq), and a gap check that proves
//! every market's sequence is complete.
pub mod api;
pub mod db;
pub mod ingest;
pub mod ws;
