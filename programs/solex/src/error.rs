use anchor_lang::prelude::*;

/// Every rejected input has its own code (6000 + position). Append only:
/// clients and the indexer decode these numbers.
#[error_code]
pub enum SolexError {
    #[msg("base lot size and quote tick size must be greater than zero")]
    InvalidLotSize,
    #[msg("base and quote mints must differ")]
    SameMint,
    #[msg("bids and asks must be different accounts")]
    SameBookAccount,
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    #[msg("mint is neither the market's base nor quote mint")]
    WrongMint,
    #[msg("vault is not the market's vault for this mint")]
    WrongVault,
    #[msg("trader account belongs to another market")]
    WrongMarket,
    #[msg("signer does not own the trader account")]
    NotOwner,
    #[msg("available balance is too small")]
    InsufficientFunds,
    #[msg("price must be greater than zero")]
    ZeroPrice,
    #[msg("quantity must be greater than zero")]
    ZeroQuantity,
    #[msg("arithmetic overflow")]
    Overflow,
    #[msg("book side is full")]
    BookFull,
    #[msg("an order with this id is already on the book")]
    DuplicateOrderId,
    #[msg("post-only order would cross the book")]
    WouldCross,
    #[msg("no order with this id on this side of the book")]
    OrderNotFound,
    #[msg("order belongs to another trader")]
    NotOrderOwner,
    #[msg("book account is not this market's")]
    WrongBook,
    #[msg("signer is not the market authority")]
    NotMarketAuthority,
    #[msg("market is paused: only cancels and withdrawals are accepted")]
    MarketPaused,
    #[msg("signer is neither the trader account's owner nor its delegate")]
    NotOwnerOrDelegate,
    #[msg("fees out of range: each at most 10%, taker fee >= 0, maker rebate <= taker fee")]
    InvalidFees,
    #[msg("fill queue account is not this market's")]
    WrongFillQueue,
    #[msg("the fill queue is full: consume_events must run first")]
    FillQueueFull,
    #[msg("order quantity is below the market's minimum")]
    OrderTooSmall,
    #[msg("the trader account has no free open-order slot")]
    TooManyOpenOrders,
    #[msg("max_orders must be between 1 and 256")]
    InvalidMaxOrders,
    #[msg("the order's expiry has already passed")]
    OrderExpired,
    #[msg("fill-or-kill order could not be filled completely")]
    WouldNotFill,
    #[msg("order would trade with the trader's own order (self-trade mode: abort)")]
    SelfTrade,
    #[msg("max_fills must be between 1 and 32")]
    InvalidFillLimit,
    #[msg("post-only slide: no valid price on the non-crossing side")]
    NoSlidePrice,
    #[msg("the fill queue's head is not the expected sequence number (already consumed?)")]
    QueueHeadMismatch,
    #[msg("nothing to consume: the queue is empty or the first event's maker account is missing")]
    NothingToConsume,
    #[msg("account is not a trader account of this market")]
    InvalidTraderAccount,
    #[msg("nothing to settle: both available balances are zero")]
    NothingToSettle,
    #[msg("token account is not owned by the trader account's owner")]
    WrongTokenOwner,
    #[msg("no fees to sweep")]
    NoFees,
    #[msg("market is not empty: books, fill queue, trader accounts and fees must all be empty")]
    MarketNotEmpty,
    #[msg("trader account still holds funds or open orders")]
    TraderNotEmpty,
    #[msg("no open order with this client order id")]
    ClientOrderNotFound,
    #[msg("market orders need a quantity or a quote budget")]
    NoMarketSize,
    #[msg("a resting order's notional with fees must fit in u64: price or quantity too large")]
    NotionalTooLarge,
    #[msg("expiry slot must be nonzero and below 2^63; expiry time must be positive")]
    InvalidExpiry,
    #[msg("no expired order to prune on this side")]
    NothingToPrune,
    #[msg("a delegate may only place post-only orders")]
    DelegatePostOnly,
    #[msg("the order's price is outside the band the owner set for its delegate")]
    DelegatePriceBand,
    #[msg("delegate band: max_bid_price must not exceed min_ask_price")]
    InvalidDelegateBand,
    #[msg("the mint has a Token-2022 extension this exchange does not accept")]
    UnsupportedMintExtension,
    #[msg("the market is closed")]
    MarketClosed,
    #[msg("the market is not a batch market")]
    NotBatchMarket,
    #[msg("in a batch market only the auction takes: place post-only orders, or sealed orders")]
    BatchMarketTakes,
    #[msg("a closed batch is clearing: the book is frozen until it has executed")]
    BatchInProgress,
    #[msg("keyper set: 1 <= threshold <= members <= 8, distinct members, round_slots > 0, a ring longer than its retention")]
    InvalidKeyperSet,
    #[msg("signer is not a member of the keyper set")]
    NotAKeyper,
    #[msg("keys may be registered only for rounds after the current one, within the ring")]
    KeyRoundOutOfRange,
    #[msg("a key or verifying share is not a valid point, or there is not one share per member")]
    InvalidKeyData,
    #[msg("the round has not ended: its shares and secret cannot be released yet")]
    ShareTooEarly,
    #[msg("the share does not match the keyper's verifying share")]
    InvalidShare,
    #[msg("the secret does not match the round's registered key")]
    WrongSecret,
    #[msg("the round's key is not usable: not registered by enough keypers, disputed, or overwritten")]
    KeyNotUsable,
    #[msg("the round's secret is already published")]
    SecretAlreadyPublished,
    #[msg("batch auction: batch_slots a multiple of the keyper set's round, a reveal timeout within its retention, 1 to 256 orders a batch")]
    InvalidAuctionConfig,
    #[msg("a market becomes a batch market only before its first trader account")]
    AuctionAfterTrading,
    #[msg("account is not this market's auction")]
    WrongAuction,
    #[msg("keyper set is not the auction's")]
    WrongKeyperSet,
    #[msg("the batch is closed: sealed orders go to the current batch")]
    BatchClosed,
    #[msg("the batch has not started: sealed orders go to the current batch")]
    BatchNotOpen,
    #[msg("no usable key is registered for the batch: no sealed orders until the keypers register one")]
    NoBatchKey,
    #[msg("an earlier batch is still being processed: submit again once it has executed")]
    BatchBacklog,
    #[msg("the batch holds as many sealed orders as it can")]
    BatchFull,
    #[msg("the quote collateral must cover the sealed-order fee")]
    EnvelopeTooSmall,
    #[msg("a sealed order cannot be cancelled once its batch has closed")]
    SealedCancelAfterClose,
    #[msg("no such batch in this auction")]
    BatchNotFound,
    #[msg("the batch is still collecting orders")]
    BatchNotClosed,
    #[msg("the batch's key secret is not published yet")]
    KeyNotReleased,
    #[msg("the batch's cursor is not the expected one (already processed?)")]
    CursorMismatch,
    #[msg("the batch is not in the phase this step needs")]
    WrongBatchPhase,
    #[msg("an earlier batch must execute first")]
    BatchOutOfOrder,
    #[msg("nothing to execute: the next sealed order's trader account is missing")]
    NothingToExecute,
    #[msg("the batch may be voided only after its reveal timeout, and only if its key was never published")]
    BatchNotExpired,
    #[msg("the auction still holds a batch with orders")]
    AuctionNotEmpty,
}
