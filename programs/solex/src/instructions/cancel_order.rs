use anchor_lang::prelude::*;

use super::place_order::{lock_amount, OrderBook};
use crate::error::SolexError;
use crate::events::OrderCancelled;
use crate::state::{Asset, Side};

pub fn handle_cancel_order(ctx: Context<OrderBook>, side: Side, order_id: u128) -> Result<()> {
    let a = &ctx.accounts;
    let mut market = a.market.load_mut()?;
    let mut trader = a.trader.load_mut()?;
    let mut book = match side {
        Side::Bid => a.bids.load_mut()?,
        Side::Ask => a.asks.load_mut()?,
    };
    let at = book.find(order_id).ok_or(SolexError::OrderNotFound)?;
    require_keys_eq!(book.orders[at].trader, a.trader.key(), SolexError::NotOrderOwner);
    let order = book.remove(at);
    drop(book);

    let unlocked = lock_amount(&market, side, order.price, order.qty_lots)?;
    trader.unlock(Asset::locked_by(side), unlocked)?;

    let event = OrderCancelled {
        market: a.market.key(),
        seq: market.next_event_seq(),
        trader: a.trader.key(),
        order_id,
        client_order_id: order.client_order_id,
        side,
        price: order.price,
        qty_lots: order.qty_lots,
        unlocked,
    };
    drop((market, trader));
    emit_cpi!(event);
    Ok(())
}
