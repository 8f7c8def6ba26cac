//! Solex: a central-limit order book on Solana.
//!
//! Funds live in program-owned vaults; each trader's share is an available and a
//! locked balance in a per-(market, owner) account. Every state change emits an
//! event (via `emit_cpi!`) carrying the market's next sequence number.
#![allow(unexpected_cfgs)]
use anchor_lang::prelude::*;
#[cfg(target_os = "solana")]
use {sbf_builtins as _, solana_compiler_builtins as _};

pub mod error;
pub mod events;
pub mod instructions;
pub mod state;

pub use instructions::*;
pub use state::Side;

declare_id!("4N2SLdxfASiiGQNiAaMmijsBULCQxEU393VjJHMtKiLC");

#[program]
pub mod solex {
    use super::*;

    /// Creates a market with its vaults; initialises the caller-created book accounts.
    pub fn create_market(ctx: Context<CreateMarket>, args: CreateMarketArgs) -> Result<()> {
        instructions::handle_create_market(ctx, args)
    }

    /// Opens the owner's trader account on a market.
    pub fn create_trader(ctx: Context<CreateTrader>) -> Result<()> {
        instructions::handle_create_trader(ctx)
    }

    /// Moves tokens from the owner's wallet into the vault: available += amount.
    pub fn deposit(ctx: Context<MoveFunds>, amount: u64) -> Result<()> {
        instructions::handle_deposit(ctx, amount)
    }

    /// Moves available tokens from the vault to the owner's wallet.
    pub fn withdraw(ctx: Context<MoveFunds>, amount: u64) -> Result<()> {
        instructions::handle_withdraw(ctx, amount)
    }

    /// Rests a limit order on the book, locking its funds (available -> locked).
    pub fn place_order(ctx: Context<OrderBook>, args: PlaceOrderArgs) -> Result<()> {
        instructions::handle_place_order(ctx, args)
    }

    /// Lets another key place and cancel (never withdraw) for the owner; `None` removes it.
    pub fn set_delegate(ctx: Context<SetDelegate>, delegate: Option<Pubkey>) -> Result<()> {
        instructions::handle_set_delegate(ctx, delegate)
    }

    /// Pauses (or resumes) the market; only its authority may.
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        instructions::handle_set_paused(ctx, paused)
    }

    /// Removes the owner's order and unlocks its funds (locked -> available).
    pub fn cancel_order(ctx: Context<OrderBook>, side: Side, order_id: u128) -> Result<()> {
        instructions::handle_cancel_order(ctx, side, order_id)
    }
}
