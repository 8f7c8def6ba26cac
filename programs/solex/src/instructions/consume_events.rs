//! `consume_events`: the permissionless crank. Applies queued fills (and expired
//! orders) to their makers' trader accounts, strictly in fill sequence order.
use anchor_lang::prelude::*;

use crate::error::SolexError;
use crate::events::{emit, Balances, FillsConsumed, Settled};
use crate::state::{trader_parts, Asset, FillQueue, Market, QueueEvent, QueueEventKind, Trader};

#[event_cpi]
#[derive(Accounts)]
pub struct ConsumeEvents<'info> {
    #[account(mut, has_one = fill_queue @ SolexError::WrongFillQueue)]
    pub market: AccountLoader<'info, Market>,
    #[account(mut)]
    pub fill_queue: AccountLoader<'info, FillQueue>,
    // Remaining accounts: the makers' trader accounts (writable), in any order.
}

/// Consumes up to `limit` events from the head of the queue, which must be at
/// `expected_head` (so a crank's retry or a competing crank cannot settle events
/// it did not intend to: the stale transaction fails with `QueueHeadMismatch`).
/// Stops early at the first event whose maker account was not passed.
pub fn handle_consume_events<'info>(
    ctx: Context<'info, ConsumeEvents<'info>>,
    expected_head: u64,
    limit: u8,
) -> Result<()> {
    let market_key = ctx.accounts.market.key();
    let makers = ctx
        .remaining_accounts
        .iter()
        .map(|info| {
            let loader =
                AccountLoader::<Trader>::try_from(info).map_err(|_| error!(SolexError::InvalidTraderAccount))?;
            require!(info.is_writable, SolexError::InvalidTraderAccount);
            require_keys_eq!(loader.load()?.market, market_key, SolexError::InvalidTraderAccount);
            Ok(info)
        })
        .collect::<Result<Vec<_>>>()?;

    let mut queue = ctx.accounts.fill_queue.load_mut()?;
    require!(queue.head_seq == expected_head, SolexError::QueueHeadMismatch);
    // At most MAX_BATCH: the event must fit the heap (see matching::MAX_BATCH).
    let limit = limit.min(crate::matching::MAX_BATCH) as usize;
    let mut settled = Vec::with_capacity(limit);
    while settled.len() < limit {
        let Some(event) = queue.front().copied() else { break };
        let Some(info) = makers.iter().find(|i| *i.key == event.maker) else { break };
        let balances = apply(info, &event)?;
        queue.pop();
        settled.push(Settled {
            fill_seq: event.fill_seq,
            maker: event.maker,
            order_id: event.order_id(),
            kind: event.kind(),
            side: event.side(),
            qty_lots: event.qty_lots,
            base_atoms: event.base_atoms,
            quote_atoms: event.quote_atoms,
            maker_fee: event.maker_fee,
            unlocked: event.unlock,
            balances,
        });
    }
    require!(!settled.is_empty(), SolexError::NothingToConsume);
    drop(queue);

    let event_authority = &ctx.accounts.event_authority;
    emit(event_authority, &mut *ctx.accounts.market.load_mut()?, |seq| FillsConsumed {
        market: market_key,
        seq,
        settled,
    })
}

/// A maker's side of a queue event: the filled funds leave its locked balance and
/// the proceeds (less its fee, plus its rebate) become available. Returns the
/// maker's balances afterwards.
fn apply(info: &AccountInfo, event: &QueueEvent) -> Result<Balances> {
    let (mut trader, mut slots) = trader_parts(info.try_borrow_mut_data()?);
    let side = event.side();
    match event.kind() {
        QueueEventKind::Fill => {
            let fee = event.maker_fee;
            match side {
                crate::state::Side::Ask => {
                    trader.spend_locked(Asset::Base, event.base_atoms)?;
                    let proceeds = (event.quote_atoms as i128 - fee as i128) as u64;
                    trader.credit(Asset::Quote, proceeds)?;
                }
                crate::state::Side::Bid => {
                    // A bid locked its fee with its notional; a rebate is paid in quote.
                    trader.spend_locked(Asset::Quote, event.quote_atoms + fee.max(0) as u64)?;
                    trader.credit(Asset::Base, event.base_atoms)?;
                    trader.credit(Asset::Quote, fee.min(0).unsigned_abs())?;
                }
            }
            // The remainder of an order that fell below the minimum size left with the fill.
            if event.unlock > 0 {
                trader.unlock(Asset::locked_by(side), event.unlock)?;
            }
        }
        QueueEventKind::Out => trader.unlock(Asset::locked_by(side), event.unlock)?,
    }
    if event.order_done != 0 {
        trader.remove_order(&mut slots, event.order_seq)?;
    }
    Ok(Balances::of(&trader))
}
