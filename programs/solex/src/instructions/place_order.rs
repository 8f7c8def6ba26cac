use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::OrderPlaced;
use crate::state::{Asset, BookSide, Market, RestingOrder, Side, Trader};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaceOrderArgs {
    pub side: Side,
    /// Limit price in ticks.
    pub price: u64,
    /// Quantity in base lots.
    pub qty_lots: u64,
    pub client_order_id: u64,
}

/// The accounts every order-book instruction uses. The signer is the trader
/// account's owner or its delegate.
#[event_cpi]
#[derive(Accounts)]
pub struct OrderBook<'info> {
    pub signer: Signer<'info>,
    #[account(mut, has_one = bids @ SolexError::WrongBook, has_one = asks @ SolexError::WrongBook)]
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
}

/// Atoms an order of `qty_lots` at `price` locks: base for an ask, quote for a bid.
pub fn lock_amount(market: &Market, side: Side, price: u64, qty_lots: u64) -> Result<u64> {
    let atoms = match side {
        Side::Ask => qty_lots as u128 * market.base_lot_size as u128,
        Side::Bid => (qty_lots as u128)
            .checked_mul(price as u128)
            .and_then(|v| v.checked_mul(market.quote_tick_size as u128))
            .ok_or(SolexError::Overflow)?,
    };
    u64::try_from(atoms).map_err(|_| error!(SolexError::Overflow))
}

pub fn handle_place_order(ctx: Context<OrderBook>, args: PlaceOrderArgs) -> Result<()> {
    require!(args.price > 0, SolexError::ZeroPrice);
    require!(args.qty_lots > 0, SolexError::ZeroQuantity);
    let a = &ctx.accounts;
    let mut market = a.market.load_mut()?;
    require!(!market.is_paused(), SolexError::MarketPaused);
    let mut trader = a.trader.load_mut()?;
    let (own, opposite) = match args.side {
        Side::Bid => (&a.bids, &a.asks),
        Side::Ask => (&a.asks, &a.bids),
    };
    require!(!opposite.load()?.crosses(args.price), SolexError::WouldCross);

    let locked = lock_amount(&market, args.side, args.price, args.qty_lots)?;
    trader.lock(Asset::locked_by(args.side), locked)?;

    market.order_seq += 1;
    let order = RestingOrder {
        trader: a.trader.key(),
        price: args.price,
        seq: market.order_seq,
        qty_lots: args.qty_lots,
        client_order_id: args.client_order_id,
    };
    own.load_mut()?.insert(order)?;
    let event = OrderPlaced {
        market: a.market.key(),
        seq: market.next_event_seq(),
        trader: a.trader.key(),
        order_id: order.id(),
        client_order_id: args.client_order_id,
        side: args.side,
        price: args.price,
        qty_lots: args.qty_lots,
        locked,
    };
    drop((market, trader));
    emit_cpi!(event);
    Ok(())
}
