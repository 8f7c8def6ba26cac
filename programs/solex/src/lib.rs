//! Solex: a central-limit order book on Solana.
//!
//! Funds live in program-owned vaults; each trader's share is an available and a
//! locked balance in a per-(market, owner) account. Every state change emits an
//! event (a self-CPI, see `events::emit`) carrying the market's next sequence number.
#![allow(unexpected_cfgs)]
use anchor_lang::prelude::*;
#[cfg(target_os = "solana")]
use {sbf_builtins as _, solana_compiler_builtins as _};

pub mod auction;
pub mod error;
pub mod events;
pub mod instructions;
pub mod matching;
pub mod order;
pub mod state;

pub use instructions::*;
pub use order::{Expiry, OrderType, PlaceOrderArgs, SelfTradeMode, Side};

declare_id!("4N2SLdxfASiiGQNiAaMmijsBULCQxEU393VjJHMtKiLC");

#[program]
pub mod solex {
    use super::*;

    /// Creates a market with its vaults; initialises the caller-created book accounts.
    pub fn create_market(ctx: Context<CreateMarket>, args: CreateMarketArgs) -> Result<()> {
        instructions::handle_create_market(ctx, args)
    }

    /// Opens the owner's trader account on a market, with room for `max_orders` open orders.
    pub fn create_trader(ctx: Context<CreateTrader>, max_orders: u16) -> Result<()> {
        instructions::handle_create_trader(ctx, max_orders)
    }

    /// Moves tokens from the owner's wallet into the vault: available += amount.
    pub fn deposit(ctx: Context<MoveFunds>, amount: u64) -> Result<()> {
        instructions::handle_deposit(ctx, amount)
    }

    /// Moves available tokens from the vault to the owner's wallet.
    pub fn withdraw(ctx: Context<MoveFunds>, amount: u64) -> Result<()> {
        instructions::handle_withdraw(ctx, amount)
    }

    /// Places an order: matches what crosses (settling the taker at once and queueing
    /// the makers' fills), then rests the remainder if the order type allows, locking its funds.
    pub fn place_order(ctx: Context<OrderBook>, args: PlaceOrderArgs) -> Result<()> {
        instructions::handle_place_order(ctx, args)
    }

    /// Lets another key cancel and place post-only orders inside a price band for the
    /// owner (never withdraw, never take); `None` removes it.
    pub fn set_delegate(
        ctx: Context<SetDelegate>,
        delegate: Option<Pubkey>,
        max_bid_price: u64,
        min_ask_price: u64,
    ) -> Result<()> {
        instructions::handle_set_delegate(ctx, delegate, max_bid_price, min_ask_price)
    }

    /// Pauses (or resumes) the market; only its authority may.
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        instructions::handle_set_paused(ctx, paused)
    }

    /// Removes the owner's order and unlocks its funds (locked -> available).
    pub fn cancel_order(ctx: Context<OrderBook>, side: Side, order_id: u128) -> Result<()> {
        instructions::handle_cancel_order(ctx, side, order_id)
    }

    /// Cancels the owner's open order with this client order id.
    pub fn cancel_by_client_id(ctx: Context<OrderBook>, client_order_id: u64) -> Result<()> {
        instructions::handle_cancel_by_client_id(ctx, client_order_id)
    }

    /// Cancels up to `limit` of the owner's resting orders, on one side or both.
    pub fn cancel_all(ctx: Context<OrderBook>, side: Option<Side>, limit: u8) -> Result<()> {
        instructions::handle_cancel_all(ctx, side, limit)
    }

    /// Cancels an order and places another, atomically.
    pub fn replace_order(ctx: Context<OrderBook>, side: Side, order_id: u128, args: PlaceOrderArgs) -> Result<()> {
        instructions::handle_replace_order(ctx, side, order_id, args)
    }

    /// Permissionless: applies up to `limit` queued fills to their makers, from `expected_head` on.
    pub fn consume_events<'info>(
        ctx: Context<'info, ConsumeEvents<'info>>,
        expected_head: u64,
        limit: u8,
    ) -> Result<()> {
        instructions::handle_consume_events(ctx, expected_head, limit)
    }

    /// Permissionless: removes up to `limit` expired orders from one side of the book.
    pub fn prune_expired(ctx: Context<PruneExpired>, side: Side, limit: u8) -> Result<()> {
        instructions::handle_prune_expired(ctx, side, limit)
    }

    /// Permissionless: pays a trader's available balances to its owner's token accounts.
    pub fn settle_funds(ctx: Context<SettleFunds>) -> Result<()> {
        instructions::handle_settle_funds(ctx)
    }

    /// The market authority collects the accrued fees.
    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        instructions::handle_sweep_fees(ctx)
    }

    /// Closes an empty trader account, its rent to its owner: by the owner, or by the
    /// market authority while the market is paused (so no stranger's empty account
    /// can keep a market from closing).
    pub fn close_trader(ctx: Context<CloseTrader>) -> Result<()> {
        instructions::handle_close_trader(ctx)
    }

    /// The authority closes an empty market with its books, queue and vaults.
    pub fn close_market(ctx: Context<CloseMarket>) -> Result<()> {
        instructions::handle_close_market(ctx)
    }

    // ---- batch markets: sealed-bid frequent batch auctions (ADR 8) ----

    /// Creates a keyper set over a caller-created account: the committee that holds
    /// each round's batch secret `threshold`-of-`members`.
    pub fn create_keyper_set(ctx: Context<CreateKeyperSet>, args: CreateKeyperSetArgs) -> Result<()> {
        instructions::handle_create_keyper_set(ctx, args)
    }

    /// A keyper attests the keys its committee generated for rounds from `first_round` on.
    pub fn register_keys(ctx: Context<KeyperAction>, first_round: u64, keys: Vec<RoundKeyData>) -> Result<()> {
        instructions::handle_register_keys(ctx, first_round, keys)
    }

    /// A keyper releases its share of an ended round's secret.
    pub fn post_share(ctx: Context<KeyperAction>, round: u64, share: [u8; 32]) -> Result<()> {
        instructions::handle_post_share(ctx, round, share)
    }

    /// Permissionless: publishes an ended round's secret, checked against its key.
    pub fn publish_secret(ctx: Context<PublishSecret>, round: u64, secret: [u8; 32]) -> Result<()> {
        instructions::handle_publish_secret(ctx, round, secret)
    }

    /// The market authority makes a new market a batch market.
    pub fn create_auction(ctx: Context<CreateAuction>, args: CreateAuctionArgs) -> Result<()> {
        instructions::handle_create_auction(ctx, args)
    }

    /// Submits an order sealed to the current batch's key, locking its collateral.
    pub fn submit_sealed(ctx: Context<SealedOrders>, args: SubmitSealedArgs) -> Result<()> {
        instructions::handle_submit_sealed(ctx, args)
    }

    /// Withdraws a sealed order before its batch closes.
    pub fn cancel_sealed(ctx: Context<SealedOrders>, batch_id: u64, index: u32) -> Result<()> {
        instructions::handle_cancel_sealed(ctx, batch_id, index)
    }

    /// Permissionless: opens up to `limit` of a closed batch's orders with its published secret.
    pub fn decrypt_batch(ctx: Context<BatchStep>, batch_id: u64, expected_cursor: u32, limit: u8) -> Result<()> {
        instructions::handle_decrypt_batch(ctx, batch_id, expected_cursor, limit)
    }

    /// Permissionless: clears an opened batch at one price against the book.
    pub fn clear_batch(ctx: Context<BatchStep>, batch_id: u64) -> Result<()> {
        instructions::handle_clear_batch(ctx, batch_id)
    }

    /// Permissionless: takes the resting orders a cleared batch allotted, then settles its sealed orders.
    pub fn execute_batch<'info>(
        ctx: Context<'info, BatchStep<'info>>,
        batch_id: u64,
        expected_cursor: u32,
        limit: u8,
    ) -> Result<()> {
        instructions::handle_execute_batch(ctx, batch_id, expected_cursor, limit)
    }

    /// Permissionless: voids a batch whose key did not come within its reveal timeout.
    pub fn void_batch(ctx: Context<BatchStep>, batch_id: u64) -> Result<()> {
        instructions::handle_void_batch(ctx, batch_id)
    }

    /// The authority closes a paused batch market's auction (the market becomes continuous).
    pub fn close_auction(ctx: Context<CloseAuction>) -> Result<()> {
        instructions::handle_close_auction(ctx)
    }
}
