//! Client SDK for the Solex program, shared by the CLI, crank, indexer and tests.
//!
//! Account layouts, events and error codes are the program crate's own types
//! (re-exported here), so nothing is declared twice.
pub mod accounts;
pub mod auction;
pub mod errors;
pub mod events;
pub mod flow;
pub mod instructions;
pub mod pda;
pub mod rpc;
#[cfg(feature = "service")]
pub mod service;
pub mod submit;
#[cfg(feature = "ws")]
pub mod wake;

pub use anchor_lang::prelude::Pubkey;
pub use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
pub use solex::error::SolexError;
pub use solex::events as event_types;
pub use solex::order::{Named, UnknownName, MAX_BATCH};
pub use solex::state::{
    order_id, order_id_parts, BookSide, Expiry, FillQueue, Market, OrderSlot, QueueEvent, QueueEventKind, RestingOrder,
    Side, Trader, BOOK_CAPACITY, FILL_QUEUE_CAPACITY,
};
pub use solex::{CreateMarketArgs, OrderType, PlaceOrderArgs, SelfTradeMode, ID as PROGRAM_ID};
