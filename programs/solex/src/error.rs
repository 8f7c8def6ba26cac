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
}
