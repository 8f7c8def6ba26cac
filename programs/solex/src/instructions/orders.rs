//! Order entry: place, cancel (by id, by client id, all) and replace. The signer is
//! the trader account's owner or its delegate.
use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::{emit, Balances, CancelledOrder, OrderPlaced, OrdersCancelled, OrdersPruned, ReduceReason};
use crate::matching::{Account, Book, Placed};
use crate::order::{OrderType, PlaceOrderArgs};
use crate::state::{trader_parts, BookSide, FillQueue, Market, Now, Side, Trader};

#[event_cpi]
#[derive(Accounts)]
pub struct OrderBook<'info> {
    pub signer: Signer<'info>,
    #[account(
        mut,
        has_one = bids @ SolexError::WrongBook,
        has_one = asks @ SolexError::WrongBook,
        has_one = fill_queue @ SolexError::WrongFillQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(
        mut,
        has_one = market @ SolexError::WrongMarket,
        constraint = trader.load()?.may_trade(&signer.key()) @ SolexError::NotOwnerOrDelegate,
    )]
    pub trader: AccountLoader<'info, Trader>,
    #[account(mut)]
    pub bids: AccountLoader<'info, BookSide>,
    #[account(mut)]
    pub asks: AccountLoader<'info, BookSide>,
    #[account(mut)]
    pub fill_queue: AccountLoader<'info, FillQueue>,
}

impl OrderBook<'_> {
    /// Runs `f` over the loaded market state and trader account; returns its result
    /// and the trader's balances afterwards, for the event.
    fn with_book<R>(&self, f: impl FnOnce(&mut Book, &mut Account) -> Result<R>) -> Result<(R, Balances)> {
        let mut market = self.market.load_mut()?;
        let mut bids = self.bids.load_mut()?;
        let mut asks = self.asks.load_mut()?;
        let mut queue = self.fill_queue.load_mut()?;
        let trader_info = self.trader.to_account_info();
        let (mut trader, mut slots) = trader_parts(trader_info.try_borrow_mut_data()?);
        let mut book = Book { market: &mut market, bids: &mut bids, asks: &mut asks, queue: &mut queue };
        let mut account = Account { key: self.trader.key(), trader: &mut trader, slots: &mut slots };
        let r = f(&mut book, &mut account)?;
        Ok((r, Balances::of(account.trader)))
    }

    fn placed_event(&self, seq: u64, args: &PlaceOrderArgs, placed: Placed, balances: Balances) -> OrderPlaced {
        OrderPlaced {
            market: self.market.key(),
            seq,
            trader: self.trader.key(),
            order_id: placed.order_id,
            client_order_id: args.client_order_id,
            side: args.side,
            order_type: args.order_type,
            price: placed.price,
            qty_lots: args.qty_lots,
            filled_lots: placed.filled_lots,
            filled_quote: placed.filled_quote,
            taker_fee: placed.taker_fee,
            rested_lots: placed.rested_lots,
            locked: placed.locked,
            fills: placed.fills,
            reduced: placed.reduced,
            balances,
        }
    }

    fn cancelled_event(&self, seq: u64, orders: Vec<CancelledOrder>, balances: Balances) -> OrdersCancelled {
        OrdersCancelled { market: self.market.key(), seq, trader: self.trader.key(), orders, balances }
    }
}

/// A delegate may only add liquidity, inside the owner's band: it can never make
/// the owner take, buy above `delegate_max_bid` or sell below `delegate_min_ask`,
/// so trading against its own orders cannot move the owner's funds to it.
fn check_delegate(trader: &Trader, signer: &Pubkey, args: &PlaceOrderArgs) -> Result<()> {
    if *signer == trader.owner {
        return Ok(());
    }
    require!(matches!(args.order_type, OrderType::PostOnly | OrderType::PostOnlySlide), SolexError::DelegatePostOnly);
    // A slide only moves a price away from the other side, so the request's price bounds it.
    let in_band = match args.side {
        Side::Bid => args.price <= trader.delegate_max_bid,
        Side::Ask => args.price >= trader.delegate_min_ask,
    };
    require!(in_band, SolexError::DelegatePriceBand);
    Ok(())
}

fn now() -> Result<Now> {
    let clock = Clock::get()?;
    Ok(Now { slot: clock.slot, unix_time: clock.unix_timestamp })
}

/// A batch market's book takes only post-only orders (its auction does the
/// taking), and nothing changes it from a batch's close until the batch executed.
fn check_batch_rules(market: &Market, now: &Now, placing: Option<&PlaceOrderArgs>) -> Result<()> {
    if let Some(args) = placing.filter(|_| market.is_batch()) {
        let post_only = matches!(args.order_type, OrderType::PostOnly | OrderType::PostOnlySlide);
        require!(post_only, SolexError::BatchMarketTakes);
    }
    market.check_book_open(now.slot)
}

pub fn handle_place_order(ctx: Context<OrderBook>, args: PlaceOrderArgs) -> Result<()> {
    let a = &ctx.accounts;
    let (now, signer) = (now()?, a.signer.key());
    {
        let market = a.market.load()?;
        require!(!market.is_paused(), SolexError::MarketPaused);
        check_batch_rules(&market, &now, Some(&args))?;
    }
    let (placed, balances) = a.with_book(|book, trader| {
        check_delegate(trader.trader, &signer, &args)?;
        book.place(trader, &args, &now)
    })?;
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| a.placed_event(seq, &args, placed, balances))
}

pub fn handle_cancel_order(ctx: Context<OrderBook>, side: Side, order_id: u128) -> Result<()> {
    let a = &ctx.accounts;
    check_batch_rules(&*a.market.load()?, &now()?, None)?;
    let (cancelled, balances) = a.with_book(|book, trader| book.cancel(trader, side, order_id))?;
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| a.cancelled_event(seq, vec![cancelled], balances))
}

pub fn handle_cancel_by_client_id(ctx: Context<OrderBook>, client_order_id: u64) -> Result<()> {
    let a = &ctx.accounts;
    check_batch_rules(&*a.market.load()?, &now()?, None)?;
    let (cancelled, balances) = a.with_book(|book, trader| {
        // An order filled but not yet consumed keeps its slot: pick the one still on the book.
        let slot = trader
            .slots
            .iter()
            .find(|s| s.used != 0 && s.client_order_id == client_order_id && book.is_resting(s.side(), s.order_id()))
            .copied()
            .ok_or(SolexError::ClientOrderNotFound)?;
        book.cancel(trader, slot.side(), slot.order_id())
    })?;
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| a.cancelled_event(seq, vec![cancelled], balances))
}

pub fn handle_cancel_all(ctx: Context<OrderBook>, side: Option<Side>, limit: u8) -> Result<()> {
    let a = &ctx.accounts;
    check_batch_rules(&*a.market.load()?, &now()?, None)?;
    let (cancelled, balances) = a.with_book(|book, trader| book.cancel_all(trader, side, limit))?;
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| a.cancelled_event(seq, cancelled, balances))
}

/// Cancel one order and place another, atomically: if the placement fails, the cancel is undone too.
pub fn handle_replace_order(ctx: Context<OrderBook>, side: Side, order_id: u128, args: PlaceOrderArgs) -> Result<()> {
    let a = &ctx.accounts;
    let (now, signer) = (now()?, a.signer.key());
    {
        let market = a.market.load()?;
        require!(!market.is_paused(), SolexError::MarketPaused);
        check_batch_rules(&market, &now, Some(&args))?;
    }
    let ((cancelled, after_cancel, placed), balances) = a.with_book(|book, trader| {
        check_delegate(trader.trader, &signer, &args)?;
        let cancelled = book.cancel(trader, side, order_id)?;
        let after_cancel = Balances::of(trader.trader);
        Ok((cancelled, after_cancel, book.place(trader, &args, &now)?))
    })?;
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| a.cancelled_event(seq, vec![cancelled], after_cancel))?;
    emit(&a.event_authority, &mut *a.market.load_mut()?, |seq| a.placed_event(seq, &args, placed, balances))
}

#[event_cpi]
#[derive(Accounts)]
pub struct PruneExpired<'info> {
    #[account(
        mut,
        has_one = bids @ SolexError::WrongBook,
        has_one = asks @ SolexError::WrongBook,
        has_one = fill_queue @ SolexError::WrongFillQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut)]
    pub bids: AccountLoader<'info, BookSide>,
    #[account(mut)]
    pub asks: AccountLoader<'info, BookSide>,
    #[account(mut)]
    pub fill_queue: AccountLoader<'info, FillQueue>,
}

/// Permissionless: removes up to `limit` (at most 32, and at most the queue's free
/// room) expired orders from one side; their owners' funds unlock at `consume_events`.
pub fn handle_prune_expired(ctx: Context<PruneExpired>, side: Side, limit: u8) -> Result<()> {
    let a = &ctx.accounts;
    let now = now()?;
    let mut market = a.market.load_mut()?;
    check_batch_rules(&market, &now, None)?;
    let mut queue = a.fill_queue.load_mut()?;
    let mut book = match side {
        Side::Bid => a.bids.load_mut()?,
        Side::Ask => a.asks.load_mut()?,
    };
    let room = crate::state::FILL_QUEUE_CAPACITY - queue.count as usize;
    require!(room > 0, SolexError::FillQueueFull);
    let limit = (limit.min(crate::matching::MAX_BATCH) as usize).min(room);
    let removed = book.remove_where(limit, |o| o.expiry().has_passed(&now));
    require!(!removed.is_empty(), SolexError::NothingToPrune);
    let mut orders = Vec::with_capacity(removed.len());
    for order in &removed {
        let unlocked = market.lock_amount(side, order.price, order.qty_lots)?;
        crate::matching::queue_out(&mut queue, side, order, unlocked)?;
        orders.push(crate::matching::reduced(order, side, order.qty_lots, 0, ReduceReason::Expired, unlocked));
    }
    drop((queue, book));
    emit(&a.event_authority, &mut market, |seq| OrdersPruned { market: a.market.key(), seq, side, orders })
}
