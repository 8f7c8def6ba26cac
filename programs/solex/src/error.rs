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
    #[msg("order would cross the book; matching is not enabled in this version")]
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
}
