//! The instructions of a wallet's order flow, composed once for every front end
//! (the CLI, the transaction API): order-type names, associated token accounts,
//! deposits, withdrawals and settlement, and unsigned transactions for a wallet.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use base64::Engine;
use solana_transaction::Transaction;

use crate::instructions::{self as ix, MarketKeys};
use crate::{OrderType, SelfTradeMode, Side};

/// `bid` or `ask`.
pub fn parse_side(s: &str) -> Result<Side, String> {
    match s {
        "bid" => Ok(Side::Bid),
        "ask" => Ok(Side::Ask),
        _ => Err(format!("side must be bid or ask, not {s:?}")),
    }
}

/// `limit`, `post-only`, `post-only-slide`, `ioc`, `fok` or `market`.
pub fn parse_order_type(s: &str) -> Result<OrderType, String> {
    Ok(match s {
        "limit" => OrderType::Limit,
        "post-only" => OrderType::PostOnly,
        "post-only-slide" => OrderType::PostOnlySlide,
        "ioc" => OrderType::ImmediateOrCancel,
        "fok" => OrderType::FillOrKill,
        "market" => OrderType::Market,
        _ => {
            return Err(format!("order type must be limit, post-only, post-only-slide, ioc, fok or market, not {s:?}"))
        }
    })
}

/// `cancel-resting`, `cancel-taking`, `decrement-both` or `abort`.
pub fn parse_self_trade(s: &str) -> Result<SelfTradeMode, String> {
    Ok(match s {
        "cancel-resting" => SelfTradeMode::CancelResting,
        "cancel-taking" => SelfTradeMode::CancelTaking,
        "decrement-both" => SelfTradeMode::DecrementBoth,
        "abort" => SelfTradeMode::Abort,
        _ => {
            return Err(format!("self-trade must be cancel-resting, cancel-taking, decrement-both or abort, not {s:?}"))
        }
    })
}

/// The owner's associated token account for `mint`.
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address_with_program_id(owner, mint, token_program)
}

/// Creates the owner's associated token account unless it exists (idempotent).
pub fn create_ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Instruction {
    anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        owner,
        owner,
        mint,
        token_program,
    )
}

/// A deposit from (or a withdrawal to) `wallet`, by default the owner's associated
/// token account; a withdrawal first creates that account if it is missing.
pub fn move_funds(
    deposit: bool,
    owner: &Pubkey,
    keys: &MarketKeys,
    mint: Pubkey,
    token_program: Pubkey,
    wallet: Option<Pubkey>,
    amount: u64,
) -> Vec<Instruction> {
    let wallet = wallet.unwrap_or_else(|| ata(owner, &mint, &token_program));
    if deposit {
        vec![ix::deposit(*owner, keys, wallet, mint, token_program, amount)]
    } else {
        vec![create_ata(owner, &mint, &token_program), ix::withdraw(*owner, keys, wallet, mint, token_program, amount)]
    }
}

/// Pays the owner's available balances to its associated token accounts, creating them if missing.
pub fn settle(owner: &Pubkey, keys: &MarketKeys, base_program: Pubkey, quote_program: Pubkey) -> Vec<Instruction> {
    let (base, quote) = (ata(owner, &keys.base_mint, &base_program), ata(owner, &keys.quote_mint, &quote_program));
    vec![
        create_ata(owner, &keys.base_mint, &base_program),
        create_ata(owner, &keys.quote_mint, &quote_program),
        ix::settle_funds(keys, *owner, base, quote, base_program, quote_program),
    ]
}

/// An unsigned transaction paid by `payer`, serialized (bincode) and base64-encoded,
/// as wallets take it to sign.
pub fn unsigned_transaction(ixs: &[Instruction], payer: &Pubkey, blockhash: solana_hash::Hash) -> String {
    let mut tx = Transaction::new_with_payer(ixs, Some(payer));
    tx.message.recent_blockhash = blockhash;
    encode_transaction(&tx)
}

/// A transaction as base64 bincode (the wire format wallets and sendTransaction use).
pub fn encode_transaction(tx: &Transaction) -> String {
    base64::engine::general_purpose::STANDARD.encode(bincode::serialize(tx).expect("a transaction serializes"))
}

/// A base64 bincode transaction back into a `Transaction`.
pub fn decode_transaction(wire: &str) -> Result<Transaction, String> {
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(wire).map_err(|_| "transaction is not base64".to_string())?;
    bincode::deserialize(&bytes).map_err(|_| "not a serialized transaction".to_string())
}
