use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use super::token::check_mint_extensions;
use crate::error::SolexError;
use crate::events::{emit, MarketCreated};
use crate::state::{valid_fees, BookSide, FillQueue, Market, Side, BASE_VAULT_SEED, MARKET_SEED, QUOTE_VAULT_SEED};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateMarketArgs {
    pub market_id: u64,
    pub base_lot_size: u64,
    pub quote_tick_size: u64,
    /// Smallest order, in lots (0 or 1: any).
    pub min_order_lots: u64,
    /// Negative: a rebate, at most the taker fee.
    pub maker_fee_bps: i16,
    pub taker_fee_bps: i16,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateMarketArgs)]
pub struct CreateMarket<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: recorded as the market's authority; any key may be chosen.
    pub authority: UncheckedAccount<'info>,
    #[account(
        init,
        payer = payer,
        space = Market::LEN,
        seeds = [MARKET_SEED, base_mint.key().as_ref(), quote_mint.key().as_ref(), &args.market_id.to_le_bytes()],
        bump,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mint::token_program = base_token_program)]
    pub base_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mint::token_program = quote_token_program)]
    pub quote_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(
        init,
        payer = payer,
        seeds = [BASE_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = base_mint,
        token::authority = market,
        token::token_program = base_token_program,
    )]
    pub base_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(
        init,
        payer = payer,
        seeds = [QUOTE_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = quote_mint,
        token::authority = market,
        token::token_program = quote_token_program,
    )]
    pub quote_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Created by the caller with `BookSide::LEN` bytes, owned by this program.
    #[account(zero)]
    pub bids: AccountLoader<'info, BookSide>,
    #[account(zero)]
    pub asks: AccountLoader<'info, BookSide>,
    /// Created by the caller with `FillQueue::LEN` bytes, owned by this program.
    #[account(zero)]
    pub fill_queue: AccountLoader<'info, FillQueue>,
    pub base_token_program: Interface<'info, TokenInterface>,
    pub quote_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handle_create_market(ctx: Context<CreateMarket>, args: CreateMarketArgs) -> Result<()> {
    require!(args.base_lot_size > 0 && args.quote_tick_size > 0, SolexError::InvalidLotSize);
    let a = &ctx.accounts;
    require_keys_neq!(a.base_mint.key(), a.quote_mint.key(), SolexError::SameMint);
    require_keys_neq!(a.bids.key(), a.asks.key(), SolexError::SameBookAccount);
    require!(valid_fees(args.maker_fee_bps, args.taker_fee_bps), SolexError::InvalidFees);
    check_mint_extensions(&a.base_mint.to_account_info())?;
    check_mint_extensions(&a.quote_mint.to_account_info())?;

    let market_key = a.market.key();
    for (book, side) in [(&a.bids, Side::Bid), (&a.asks, Side::Ask)] {
        let mut book = book.load_init()?;
        book.market = market_key;
        book.side = side.as_u8();
    }
    a.fill_queue.load_init()?.market = market_key;

    let mut market = a.market.load_init()?;
    market.authority = a.authority.key();
    market.base_mint = a.base_mint.key();
    market.quote_mint = a.quote_mint.key();
    market.base_vault = a.base_vault.key();
    market.quote_vault = a.quote_vault.key();
    market.bids = a.bids.key();
    market.asks = a.asks.key();
    market.market_id = args.market_id;
    market.base_lot_size = args.base_lot_size;
    market.quote_tick_size = args.quote_tick_size;
    market.fill_queue = a.fill_queue.key();
    market.min_order_lots = args.min_order_lots;
    market.maker_fee_bps = args.maker_fee_bps;
    market.taker_fee_bps = args.taker_fee_bps;
    market.bump = ctx.bumps.market;
    market.base_decimals = a.base_mint.decimals;
    market.quote_decimals = a.quote_mint.decimals;
    emit(&a.event_authority, &mut market, |seq| MarketCreated {
        market: market_key,
        seq,
        authority: a.authority.key(),
        base_mint: a.base_mint.key(),
        quote_mint: a.quote_mint.key(),
        base_lot_size: args.base_lot_size,
        quote_tick_size: args.quote_tick_size,
        min_order_lots: args.min_order_lots,
        maker_fee_bps: args.maker_fee_bps,
        taker_fee_bps: args.taker_fee_bps,
    })
}
