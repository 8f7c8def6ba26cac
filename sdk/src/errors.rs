//! Program error codes, decoded for people.
use solex::error::SolexError;

/// Anchor numbers custom errors from 6000 in declaration order.
pub const ERROR_CODE_OFFSET: u32 = anchor_lang::error::ERROR_CODE_OFFSET;

/// The program error with this custom error code, if it is one of ours.
pub fn solex_error(code: u32) -> Option<SolexError> {
    use SolexError::*;
    const ALL: &[SolexError] = &[
        InvalidLotSize,
        SameMint,
        SameBookAccount,
        ZeroAmount,
        WrongMint,
        WrongVault,
        WrongMarket,
        NotOwner,
        InsufficientFunds,
        ZeroPrice,
        ZeroQuantity,
        Overflow,
        BookFull,
        DuplicateOrderId,
        WouldCross,
        OrderNotFound,
        NotOrderOwner,
        WrongBook,
        NotMarketAuthority,
        MarketPaused,
        NotOwnerOrDelegate,
        InvalidFees,
        WrongFillQueue,
        FillQueueFull,
        OrderTooSmall,
        TooManyOpenOrders,
        InvalidMaxOrders,
        OrderExpired,
        WouldNotFill,
        SelfTrade,
        InvalidFillLimit,
        NoSlidePrice,
        QueueHeadMismatch,
        NothingToConsume,
        InvalidTraderAccount,
        NothingToSettle,
        WrongTokenOwner,
        NoFees,
        MarketNotEmpty,
        TraderNotEmpty,
        ClientOrderNotFound,
        NoMarketSize,
        NotionalTooLarge,
        InvalidExpiry,
        NothingToPrune,
        DelegatePostOnly,
        DelegatePriceBand,
        InvalidDelegateBand,
        UnsupportedMintExtension,
        MarketClosed,
        NotBatchMarket,
        BatchMarketTakes,
        BatchInProgress,
        InvalidKeyperSet,
        NotAKeyper,
        KeyRoundOutOfRange,
        InvalidKeyData,
        ShareTooEarly,
        InvalidShare,
        WrongSecret,
        KeyNotUsable,
        SecretAlreadyPublished,
        InvalidAuctionConfig,
        AuctionAfterTrading,
        WrongAuction,
        WrongKeyperSet,
        BatchClosed,
        BatchNotOpen,
        NoBatchKey,
        BatchBacklog,
        BatchFull,
        EnvelopeTooSmall,
        SealedCancelAfterClose,
        BatchNotFound,
        BatchNotClosed,
        KeyNotReleased,
        CursorMismatch,
        WrongBatchPhase,
        BatchOutOfOrder,
        NothingToExecute,
        BatchNotExpired,
        AuctionNotEmpty,
    ];
    ALL.iter().copied().find(|e| u32::from(*e) == code)
}

/// "NotOwner (6007): signer does not own the trader account", or the bare code.
pub fn describe(code: u32) -> String {
    match solex_error(code) {
        Some(e) => format!("{e:?} ({code}): {e}"),
        None => format!("custom program error {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_round_trip() {
        let mut code = ERROR_CODE_OFFSET;
        while let Some(e) = solex_error(code) {
            assert_eq!(u32::from(e), code);
            code += 1;
        }
        // Every variant is listed: the next code after the last is not ours.
        assert_eq!(code, ERROR_CODE_OFFSET + 82);
        assert!(describe(ERROR_CODE_OFFSET + 7).starts_with("NotOwner (6007)"));
    }
}
