//! Batch markets (ADR 8): the auction's life cycle. A market's authority makes it a
//! batch market before anyone trades; traders submit sealed orders to the current
//! batch (and may cancel them until it closes); once the batch's key is published,
//! anyone opens its orders (`decrypt_batch`), clears it (`clear_batch`) and
//! executes it (`execute_batch`), each step permissionless and guarded by a cursor
//! like `consume_events`; a batch whose key never comes is voided at its timeout.
use anchor_lang::prelude::*;

use crate::auction::{clear, reference_price, reveal, settle, sweep, tiebreak_hash, BatchOrder, Execution};
use crate::error::SolexError;
use crate::events::{
    emit, AuctionClosed, AuctionCreated, Balances, BatchCleared, BatchExecuted, BatchVoided, OrdersRevealed, Revealed,
    SealedCancelled, SealedSubmitted,
};
use crate::matching::{Account, Book, MAX_BATCH};
use crate::state::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateAuctionArgs {
    /// Slots a batch collects orders (a multiple of the keyper set's round).
    pub batch_slots: u64,
    /// Slots after a batch's close its key may take before anyone may void it.
    pub reveal_timeout_slots: u64,
    /// Quote atoms each sealed order pays (kept for junk, refunded on a timeout).
    pub sealed_fee: u64,
}

impl CreateAuctionArgs {
    /// Batches of 8 slots (two 4-slot leader terms, ~3 s), 150 slots for the key.
    pub const DEFAULT_BATCH_SLOTS: u64 = 8;
    pub const DEFAULT_REVEAL_TIMEOUT_SLOTS: u64 = 150;
}

#[event_cpi]
#[derive(Accounts)]
pub struct CreateAuction<'info> {
    pub authority: Signer<'info>,
    #[account(mut, has_one = authority @ SolexError::NotMarketAuthority)]
    pub market: AccountLoader<'info, Market>,
    pub keyper_set: AccountLoader<'info, KeyperSet>,
    /// Created by the caller with `Auction::space(capacity)` bytes, owned by this program.
    #[account(zero)]
    pub auction: AccountLoader<'info, Auction>,
}

/// Makes a new market a batch market: only before its first trader account, so
/// nobody ever traded under other rules.
pub fn handle_create_auction(ctx: Context<CreateAuction>, args: CreateAuctionArgs) -> Result<()> {
    let a = &ctx.accounts;
    let mut market = a.market.load_mut()?;
    require!(market.closed == 0, SolexError::MarketClosed);
    require!(!market.is_batch() && market.trader_count == 0 && market.order_seq == 0, SolexError::AuctionAfterTrading);
    let set = a.keyper_set.load()?;
    let info = a.auction.to_account_info();
    let capacity = (info.data_len().saturating_sub(Auction::LEN) / (2 * SealedRecord::LEN)) as u32;
    require!(
        args.batch_slots > 0
            && args.batch_slots.is_multiple_of(set.round_slots)
            && args.reveal_timeout_slots > 0
            // The batch's round key stays in the ring until its timeout has passed.
            && args.reveal_timeout_slots <= (set.retain_rounds - 1).saturating_mul(set.round_slots)
            && (1..=MAX_BATCH_ORDERS).contains(&capacity)
            // Fees are summed signed (with rebates) while a batch executes.
            && args.sealed_fee <= i64::MAX as u64,
        SolexError::InvalidAuctionConfig
    );
    let mut auction = a.auction.load_init()?;
    auction.market = a.market.key();
    auction.keyper_set = a.keyper_set.key();
    auction.batch_slots = args.batch_slots;
    auction.reveal_timeout_slots = args.reveal_timeout_slots;
    auction.sealed_fee = args.sealed_fee;
    auction.capacity = capacity;
    market.auction = a.auction.key();
    emit(&a.event_authority, &mut market, |seq| AuctionCreated {
        market: a.market.key(),
        seq,
        auction: a.auction.key(),
        keyper_set: a.keyper_set.key(),
        batch_slots: args.batch_slots,
        reveal_timeout_slots: args.reveal_timeout_slots,
        sealed_fee: args.sealed_fee,
        capacity,
    })
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubmitSealedArgs {
    /// The batch collecting now (`slot / batch_slots`).
    pub batch_id: u64,
    pub ephemeral: [u8; 32],
    pub ciphertext: [u8; 40],
    pub tag: [u8; 16],
    /// Collateral to lock: an upper bound on what the order can cost (base for an
    /// ask; for a bid the notional at its limit with both fees), the quote including
    /// the sealed-order fee. Locking both assets hides the side.
    pub base_envelope: u64,
    pub quote_envelope: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct SealedOrders<'info> {
    pub owner: Signer<'info>,
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    #[account(
        mut,
        has_one = owner @ SolexError::NotOwner,
        has_one = market @ SolexError::WrongMarket,
    )]
    pub trader: AccountLoader<'info, Trader>,
    #[account(mut)]
    pub auction: AccountLoader<'info, Auction>,
    pub keyper_set: AccountLoader<'info, KeyperSet>,
}

/// The market's auction, loaded: refuses a continuous market, another market's
/// auction, and a keyper set other than the auction's.
fn check_auction(
    market: &Market,
    auction: &Pubkey,
    keyper_set: &AccountLoader<KeyperSet>,
    auction_data: &Auction,
) -> Result<()> {
    require!(market.is_batch(), SolexError::NotBatchMarket);
    require_keys_eq!(market.auction, *auction, SolexError::WrongAuction);
    require_keys_eq!(auction_data.keyper_set, keyper_set.key(), SolexError::WrongKeyperSet);
    Ok(())
}

pub fn handle_submit_sealed(ctx: Context<SealedOrders>, args: SubmitSealedArgs) -> Result<()> {
    let a = &ctx.accounts;
    let clock = Clock::get()?;
    let slot = clock.slot;
    let mut market = a.market.load_mut()?;
    let auction_info = a.auction.to_account_info();
    a.auction.load()?;
    let (mut auction, mut records) = auction_parts(auction_info.try_borrow_mut_data()?);
    check_auction(&market, &a.auction.key(), &a.keyper_set, &auction)?;
    require!(!market.is_paused(), SolexError::MarketPaused);
    let current = auction.batch_at(slot);
    require!(args.batch_id >= current, SolexError::BatchClosed);
    require!(args.batch_id == current, SolexError::BatchNotOpen);
    let close_slot = auction.close_slot(args.batch_id);
    let key_round = {
        let set = a.keyper_set.load()?;
        let round = set.round_of(close_slot) - 1;
        let info = a.keyper_set.to_account_info();
        let data = info.try_borrow_data()?;
        let (_, ring) = keyper_parts_ref(data);
        require!(ring[(round % set.capacity as u64) as usize].usable(round), SolexError::NoBatchKey);
        round
    };

    let i = Auction::header_index(args.batch_id);
    let (capacity, fee) = (auction.capacity, auction.sealed_fee);
    let h = &mut auction.batches[i];
    if !(h.status() != BatchStatus::Free && h.batch_id == args.batch_id) {
        // The header's last batch (two before) must be finished before it is reused.
        require!(!h.unfinished(), SolexError::BatchBacklog);
        *h = BatchHeader {
            batch_id: args.batch_id,
            close_slot,
            key_round,
            status: BatchStatus::Collecting as u8,
            ..Default::default()
        };
    }
    require!(h.count < capacity, SolexError::BatchFull);
    require!(args.quote_envelope >= fee, SolexError::EnvelopeTooSmall);

    let trader_info = a.trader.to_account_info();
    let (mut trader, mut slots) = trader_parts(trader_info.try_borrow_mut_data()?);
    trader.lock(Asset::Base, args.base_envelope)?;
    trader.lock(Asset::Quote, args.quote_envelope)?;
    market.order_seq += 1;
    let order_seq = market.order_seq;
    trader.reserve_sealed_slot(&mut slots, order_seq)?;
    let index = h.count;
    batch_records(&mut records, capacity, i)[index as usize] = SealedRecord {
        trader: a.trader.key(),
        ephemeral: args.ephemeral,
        ciphertext: args.ciphertext,
        tag: args.tag,
        base_envelope: args.base_envelope,
        quote_envelope: args.quote_envelope,
        fee,
        order_seq,
        status: RecordStatus::Sealed as u8,
        ..bytemuck::Zeroable::zeroed()
    };
    h.count += 1;
    h.live += 1;
    h.judge_slot = close_slot - 1;
    h.judge_unix_time = clock.unix_timestamp;
    market.frozen_from_slot = auction.frozen_from_slot();
    let balances = Balances::of(&trader);
    emit(&a.event_authority, &mut market, |seq| SealedSubmitted {
        market: a.market.key(),
        seq,
        trader: a.trader.key(),
        batch_id: args.batch_id,
        index,
        order_seq,
        base_envelope: args.base_envelope,
        quote_envelope: args.quote_envelope,
        fee,
        balances,
    })
}

/// The trader withdraws a sealed order before its batch closes: its collateral
/// unlocks, less the sealed-order fee (so flooding and withdrawing is not free).
pub fn handle_cancel_sealed(ctx: Context<SealedOrders>, batch_id: u64, index: u32) -> Result<()> {
    let a = &ctx.accounts;
    let clock = Clock::get()?;
    let slot = clock.slot;
    let mut market = a.market.load_mut()?;
    let auction_info = a.auction.to_account_info();
    a.auction.load()?;
    let (mut auction, mut records) = auction_parts(auction_info.try_borrow_mut_data()?);
    check_auction(&market, &a.auction.key(), &a.keyper_set, &auction)?;
    let i = auction.header_of(batch_id)?;
    let capacity = auction.capacity;
    let h = &mut auction.batches[i];
    require!(slot < h.close_slot && h.status() == BatchStatus::Collecting, SolexError::SealedCancelAfterClose);
    require!(index < h.count, SolexError::OrderNotFound);
    let rec = &mut batch_records(&mut records, capacity, i)[index as usize];
    require_keys_eq!(rec.trader, a.trader.key(), SolexError::NotOrderOwner);
    require!(rec.status() == RecordStatus::Sealed, SolexError::OrderNotFound);

    let trader_info = a.trader.to_account_info();
    let (mut trader, mut slots) = trader_parts(trader_info.try_borrow_mut_data()?);
    trader.unlock(Asset::Base, rec.base_envelope)?;
    trader.unlock(Asset::Quote, rec.quote_envelope - rec.fee)?;
    trader.spend_locked(Asset::Quote, rec.fee)?;
    trader.remove_order(&mut slots, rec.order_seq)?;
    market.fees_accrued = market.fees_accrued.checked_add(rec.fee).ok_or(SolexError::Overflow)?;
    rec.status = RecordStatus::Cancelled as u8;
    h.live -= 1;
    h.judge_unix_time = clock.unix_timestamp;
    let (order_seq, fee) = (rec.order_seq, rec.fee);
    market.frozen_from_slot = auction.frozen_from_slot();
    let balances = Balances::of(&trader);
    emit(&a.event_authority, &mut market, |seq| SealedCancelled {
        market: a.market.key(),
        seq,
        trader: a.trader.key(),
        batch_id,
        index,
        order_seq,
        fee,
        balances,
    })
}

/// The accounts of every processing step (open, clear, execute, void): anyone may
/// send them. The book is frozen while a batch is processed, so writing to its
/// accounts holds up nobody. Execute's remaining accounts: the trader accounts of
/// the next sealed orders (writable), in any order.
#[event_cpi]
#[derive(Accounts)]
pub struct BatchStep<'info> {
    #[account(
        mut,
        has_one = auction @ SolexError::WrongAuction,
        has_one = bids @ SolexError::WrongBook,
        has_one = asks @ SolexError::WrongBook,
        has_one = fill_queue @ SolexError::WrongFillQueue,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut)]
    pub auction: AccountLoader<'info, Auction>,
    pub keyper_set: AccountLoader<'info, KeyperSet>,
    #[account(mut)]
    pub bids: AccountLoader<'info, BookSide>,
    #[account(mut)]
    pub asks: AccountLoader<'info, BookSide>,
    #[account(mut)]
    pub fill_queue: AccountLoader<'info, FillQueue>,
}

impl BatchStep<'_> {
    /// Whether `round`'s key is released: its secret published, or `threshold` of
    /// its shares on chain (from which anyone can compute it).
    fn key_released(&self, round: u64) -> Result<bool> {
        let set = self.keyper_set.load()?;
        let (capacity, threshold) = (set.capacity as u64, set.threshold as u32);
        drop(set);
        let info = self.keyper_set.to_account_info();
        let data = info.try_borrow_data()?;
        let (_, ring) = keyper_parts_ref(data);
        let entry = &ring[(round % capacity) as usize];
        Ok(entry.released_secret(round).is_some() || (entry.round == round && entry.posted.count_ones() >= threshold))
    }

    /// The published secret of `round`, if the keyper set holds it.
    fn released_secret(&self, round: u64) -> Result<Option<[u8; 32]>> {
        let capacity = self.keyper_set.load()?.capacity as u64;
        let info = self.keyper_set.to_account_info();
        let data = info.try_borrow_data()?;
        let (_, ring) = keyper_parts_ref(data);
        Ok(ring[(round % capacity) as usize].released_secret(round))
    }
}

fn clock_now() -> Result<Now> {
    let clock = Clock::get()?;
    Ok(Now { slot: clock.slot, unix_time: clock.unix_timestamp })
}

/// Opens up to `limit` (at most 64) sealed orders, from `expected_cursor` on, with
/// the batch's published secret; the first call takes the secret from the keyper
/// set. Junk is voided, never refused.
pub fn handle_decrypt_batch(ctx: Context<BatchStep>, batch_id: u64, expected_cursor: u32, limit: u8) -> Result<()> {
    let a = &ctx.accounts;
    let slot = Clock::get()?.slot;
    let mut market = a.market.load_mut()?;
    let auction_info = a.auction.to_account_info();
    let (mut auction, mut records) = auction_parts(auction_info.try_borrow_mut_data()?);
    require_keys_eq!(auction.keyper_set, a.keyper_set.key(), SolexError::WrongKeyperSet);
    let i = auction.header_of(batch_id)?;
    let capacity = auction.capacity;
    let h = &mut auction.batches[i];
    require!(slot >= h.close_slot, SolexError::BatchNotClosed);
    match h.status() {
        BatchStatus::Collecting => {
            h.secret = a.released_secret(h.key_round)?.ok_or(SolexError::KeyNotReleased)?;
            h.status = BatchStatus::Decrypting as u8;
            h.cursor = 0;
        }
        BatchStatus::Decrypting => {}
        _ => return err!(SolexError::WrongBatchPhase),
    }
    require!(h.cursor == expected_cursor, SolexError::CursorMismatch);
    require!(h.cursor < h.count, SolexError::WrongBatchPhase);
    let end = h.count.min(h.cursor + limit.clamp(1, MAX_DECRYPT) as u32);
    let recs = batch_records(&mut records, capacity, i);
    let mut orders = Vec::with_capacity((end - h.cursor) as usize);
    for index in h.cursor..end {
        let rec = &mut recs[index as usize];
        if rec.status() == RecordStatus::Sealed {
            let outcome = reveal(&market, &a.market.key(), batch_id, &h.secret, rec);
            orders.push(Revealed { index, trader: rec.trader, order_seq: rec.order_seq, outcome });
        }
    }
    h.cursor = end;
    let (key_round, secret) = (h.key_round, h.secret);
    emit(&a.event_authority, &mut market, |seq| OrdersRevealed {
        market: a.market.key(),
        seq,
        batch_id,
        key_round,
        secret,
        orders,
    })
}

/// Clears an opened batch at one price against the book (`auction::clear`): records
/// each sealed order's fill and how much each book side gives.
pub fn handle_clear_batch(ctx: Context<BatchStep>, batch_id: u64) -> Result<()> {
    let a = &ctx.accounts;
    let mut market = a.market.load_mut()?;
    let auction_info = a.auction.to_account_info();
    let (mut auction, mut records) = auction_parts(auction_info.try_borrow_mut_data()?);
    let i = auction.header_of(batch_id)?;
    auction.check_in_order(batch_id)?;
    let (capacity, last_price) = (auction.capacity, auction.last_price);
    let h = &mut auction.batches[i];
    require!(h.status() == BatchStatus::Decrypting && h.cursor == h.count, SolexError::WrongBatchPhase);
    let recs = batch_records(&mut records, capacity, i);
    let valid: Vec<u32> = (0..h.count).filter(|&k| recs[k as usize].status() == RecordStatus::Revealed).collect();
    let voids = (0..h.count).filter(|&k| recs[k as usize].status() == RecordStatus::Void).count() as u32;
    let orders: Vec<BatchOrder> = valid
        .iter()
        .map(|&k| {
            let r = &recs[k as usize];
            BatchOrder { side: r.side(), price: r.price, qty_lots: r.qty_lots }
        })
        .collect();
    let (bids, asks) = (a.bids.load()?, a.asks.load()?);
    let reference = reference_price(last_price, &bids, &asks);
    let secret = h.secret;
    let judged = Now { slot: h.judge_slot, unix_time: h.judge_unix_time };
    let c = clear(&orders, bids.orders(), asks.orders(), &judged, reference, |k| {
        tiebreak_hash(&secret, recs[valid[k] as usize].order_seq)
    });
    for (pos, &k) in valid.iter().enumerate() {
        recs[k as usize].filled_lots = c.fills[pos];
    }
    h.price = c.price;
    h.volume = c.volume;
    h.demand = c.demand;
    h.supply = c.supply;
    h.bid_sweep = c.bid_sweep;
    h.ask_sweep = c.ask_sweep;
    h.status = BatchStatus::Executing as u8;
    h.cursor = 0;
    if c.volume > 0 {
        auction.last_price = c.price;
    }
    emit(&a.event_authority, &mut market, |seq| BatchCleared {
        market: a.market.key(),
        seq,
        batch_id,
        price: c.price,
        volume: c.volume,
        demand: c.demand,
        supply: c.supply,
        orders: valid.len() as u32,
        voids,
        bid_sweep: c.bid_sweep,
        ask_sweep: c.ask_sweep,
        reference: reference.unwrap_or(0),
    })
}

/// Executes a cleared (or voided) batch, up to `limit` (at most 32) steps: first the
/// resting orders the clearing allotted (their makers settle through the fill queue),
/// then the sealed orders from `expected_cursor` on whose trader accounts are passed.
/// The last step adds the batch's fees to the market's and unfreezes the book.
pub fn handle_execute_batch<'info>(
    ctx: Context<'info, BatchStep<'info>>,
    batch_id: u64,
    expected_cursor: u32,
    limit: u8,
) -> Result<()> {
    let a = &ctx.accounts;
    let market_key = a.market.key();
    let traders = ctx
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
    let now = clock_now()?;
    let auction_info = a.auction.to_account_info();
    let (mut auction, mut records) = auction_parts(auction_info.try_borrow_mut_data()?);
    let i = auction.header_of(batch_id)?;
    auction.check_in_order(batch_id)?;
    let capacity = auction.capacity;
    let h = &mut auction.batches[i];
    require!(h.status() == BatchStatus::Executing, SolexError::WrongBatchPhase);
    require!(h.cursor == expected_cursor, SolexError::CursorMismatch);

    let mut market = a.market.load_mut()?;
    let mut x = Execution {
        price: h.price,
        cleared_at: Now { slot: h.judge_slot, unix_time: h.judge_unix_time },
        now,
        limit: limit.clamp(1, MAX_BATCH) as usize,
        fees: h.fees,
        fills: Vec::new(),
        reduced: Vec::new(),
        orders: Vec::new(),
    };
    let start_cursor = h.cursor;
    {
        let (mut bids, mut asks, mut queue) = (a.bids.load_mut()?, a.asks.load_mut()?, a.fill_queue.load_mut()?);
        let mut book = Book { market: &mut market, bids: &mut bids, asks: &mut asks, queue: &mut queue };
        for (side, lots) in [(Side::Bid, &mut h.bid_sweep), (Side::Ask, &mut h.ask_sweep)] {
            sweep(&mut book, side, lots, &mut x)?;
        }
        let swept = h.bid_sweep == 0 && h.ask_sweep == 0;
        let recs = batch_records(&mut records, capacity, i);
        while swept && h.cursor < h.count && x.has_room() {
            let rec = &mut recs[h.cursor as usize];
            if matches!(rec.status(), RecordStatus::Cancelled | RecordStatus::Done) {
                h.cursor += 1;
                continue;
            }
            let Some(info) = traders.iter().find(|t| *t.key == rec.trader) else { break };
            let (mut trader, mut slots) = trader_parts(info.try_borrow_mut_data()?);
            let mut owner = Account { key: rec.trader, trader: &mut trader, slots: &mut slots };
            settle(&mut book, &mut owner, rec, h.cursor, &mut x)?;
            h.cursor += 1;
        }
        h.fees = x.fees;
    }
    let done = h.bid_sweep == 0 && h.ask_sweep == 0 && h.cursor == h.count;
    let progress = !(x.fills.is_empty() && x.reduced.is_empty() && h.cursor == start_cursor);
    require!(done || progress, SolexError::NothingToExecute);
    if done {
        let total = market.fees_accrued as i128 + h.fees as i128;
        market.fees_accrued = u64::try_from(total).map_err(|_| error!(SolexError::Overflow))?;
        h.fees = 0;
        h.status = BatchStatus::Free as u8;
        if h.voided == 0 {
            auction.batches_cleared += 1;
        }
    }
    market.frozen_from_slot = auction.frozen_from_slot();
    emit(&a.event_authority, &mut market, |seq| BatchExecuted {
        market: market_key,
        seq,
        batch_id,
        fills: x.fills,
        reduced: x.reduced,
        orders: x.orders,
        done,
    })
}

/// Permissionless: a batch whose key was not released within the reveal timeout is
/// voided; executing it then unlocks every order's collateral and refunds its fee.
/// Once `threshold` shares are on chain the key is released (anyone can combine
/// them), so the batch can only be opened: nobody may choose between opening and
/// voiding after reading it. A batch opened but not cleared within twice the
/// timeout (clearing is permissionless, so only a fault could keep it there) is
/// voided too: its valid orders are refunded in full, its junk keeps its fee.
pub fn handle_void_batch(ctx: Context<BatchStep>, batch_id: u64) -> Result<()> {
    let a = &ctx.accounts;
    let now = clock_now()?;
    let mut market = a.market.load_mut()?;
    let auction_info = a.auction.to_account_info();
    let (mut auction, mut records) = auction_parts(auction_info.try_borrow_mut_data()?);
    require_keys_eq!(auction.keyper_set, a.keyper_set.key(), SolexError::WrongKeyperSet);
    let i = auction.header_of(batch_id)?;
    let (capacity, timeout) = (auction.capacity, auction.reveal_timeout_slots);
    let h = &mut auction.batches[i];
    let expired = match h.status() {
        BatchStatus::Collecting => now.slot >= h.close_slot.saturating_add(timeout) && !a.key_released(h.key_round)?,
        BatchStatus::Decrypting => now.slot >= h.close_slot.saturating_add(timeout.saturating_mul(2)),
        _ => return err!(SolexError::WrongBatchPhase),
    };
    require!(expired, SolexError::BatchNotExpired);
    let mut voided = 0;
    for rec in batch_records(&mut records, capacity, i)[..h.count as usize].iter_mut() {
        if matches!(rec.status(), RecordStatus::Sealed | RecordStatus::Revealed) {
            rec.void(VoidReason::Timeout);
            voided += 1;
        }
    }
    h.status = BatchStatus::Executing as u8;
    h.voided = 1;
    h.cursor = 0;
    h.price = 0;
    h.volume = 0;
    let key_round = h.key_round;
    auction.batches_voided += 1;
    emit(&a.event_authority, &mut market, |seq| BatchVoided {
        market: a.market.key(),
        seq,
        batch_id,
        key_round,
        voided,
    })
}

#[event_cpi]
#[derive(Accounts)]
pub struct CloseAuction<'info> {
    pub authority: Signer<'info>,
    /// CHECK: receives the auction account's rent; any account the authority names.
    #[account(mut)]
    pub destination: UncheckedAccount<'info>,
    #[account(
        mut,
        has_one = authority @ SolexError::NotMarketAuthority,
        has_one = auction @ SolexError::WrongAuction,
    )]
    pub market: AccountLoader<'info, Market>,
    #[account(mut, close = destination)]
    pub auction: AccountLoader<'info, Auction>,
}

/// The authority closes a paused batch market's auction once no batch holds
/// orders; the market is continuous (and paused) afterwards, so it can be closed.
pub fn handle_close_auction(ctx: Context<CloseAuction>) -> Result<()> {
    let a = &ctx.accounts;
    let mut market = a.market.load_mut()?;
    require!(market.is_paused(), SolexError::MarketNotEmpty);
    require!(!a.auction.load()?.batches.iter().any(BatchHeader::unfinished), SolexError::AuctionNotEmpty);
    market.auction = Pubkey::default();
    market.frozen_from_slot = 0;
    emit(&a.event_authority, &mut market, |seq| AuctionClosed { market: a.market.key(), seq, auction: a.auction.key() })
}
