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

/// What converting people's decimal amounts into market units needs: the mints'
/// decimals and the market's lot and tick sizes.
#[derive(Debug, Clone, Copy)]
pub struct UiTerms {
    pub base_decimals: u8,
    pub quote_decimals: u8,
    pub base_lot_size: u64,
    pub quote_tick_size: u64,
}

impl UiTerms {
    pub fn of(m: &crate::Market) -> Self {
        Self {
            base_decimals: m.base_decimals,
            quote_decimals: m.quote_decimals,
            base_lot_size: m.base_lot_size,
            quote_tick_size: m.quote_tick_size,
        }
    }
}

/// "12.345" as (12345, 3): the digits and how many of them are decimals.
fn decimal(s: &str) -> Result<(u128, u32), String> {
    let bad = || format!("{s:?} is not a decimal number");
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty()) || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let digits: u128 = format!("{int}{frac}").parse().map_err(|_| format!("{s:?} is too large"))?;
    Ok((digits, frac.len() as u32))
}

fn pow10(n: u32) -> Result<u128, String> {
    10u128.checked_pow(n).ok_or_else(|| "too many decimals".to_string())
}

/// Exactly `num / den` as a u64, or why not.
fn exact(num: u128, den: u128, what: impl FnOnce() -> String) -> Result<u64, String> {
    if den == 0 || !num.is_multiple_of(den) {
        return Err(what());
    }
    u64::try_from(num / den).map_err(|_| "too large".to_string())
}

/// Token atoms for a decimal amount of a token with `decimals`: "1.5" with 6 is
/// 1,500,000. Amounts finer than one atom are refused, not rounded.
pub fn ui_atoms(ui: &str, decimals: u8) -> Result<u64, String> {
    let (digits, scale) = decimal(ui)?;
    let num = digits.checked_mul(pow10(decimals as u32)?).ok_or("too large")?;
    exact(num, pow10(scale)?, || format!("{ui} has more than {decimals} decimals"))
}

/// Base lots for a decimal quantity of the base token: exact multiples of the lot only.
pub fn ui_lots(ui: &str, t: &UiTerms) -> Result<u64, String> {
    let atoms = ui_atoms(ui, t.base_decimals)?;
    exact(atoms as u128, t.base_lot_size as u128, || {
        format!("{ui} is not a whole number of lots (a lot is {} base atoms)", t.base_lot_size)
    })
}

/// Ticks for a decimal price in quote tokens per base token: a tick is
/// `quote_tick_size` quote atoms per lot, so the price must fall on one.
pub fn ui_ticks(ui: &str, t: &UiTerms) -> Result<u64, String> {
    let (digits, scale) = decimal(ui)?;
    // ticks = price * 10^qd * lot / (10^bd * tick), in integers.
    let num = digits
        .checked_mul(pow10(t.quote_decimals as u32)?)
        .and_then(|n| n.checked_mul(t.base_lot_size as u128))
        .ok_or("too large")?;
    let den = pow10(scale)?
        .checked_mul(pow10(t.base_decimals as u32)?)
        .and_then(|d| d.checked_mul(t.quote_tick_size as u128))
        .ok_or("too many decimals")?;
    exact(num, den, || {
        format!(
            "{ui} is not a whole number of ticks (a tick is {} quote atoms per lot of {} base atoms)",
            t.quote_tick_size, t.base_lot_size
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The demo market: base 9 decimals in lots of 0.001, quote 6 decimals, 10 atoms a tick per lot.
    const DEMO: UiTerms =
        UiTerms { base_decimals: 9, quote_decimals: 6, base_lot_size: 1_000_000, quote_tick_size: 10 };

    #[test]
    fn decimal_amounts_convert_exactly_or_not_at_all() {
        assert_eq!(ui_atoms("1.5", 6), Ok(1_500_000));
        assert_eq!(ui_atoms("7", 0), Ok(7));
        assert_eq!(ui_atoms(".25", 2), Ok(25));
        assert!(ui_atoms("0.0000001", 6).unwrap_err().contains("more than 6 decimals"));
        assert!(ui_atoms("1,5", 6).is_err() && ui_atoms("", 6).is_err() && ui_atoms("-1", 6).is_err());
        assert!(ui_atoms("99999999999999999999", 9).is_err(), "beyond u64");
        // 100 quote per base = 10,000 ticks; 0.01 quote is one tick.
        assert_eq!(ui_ticks("100", &DEMO), Ok(10_000));
        assert_eq!(ui_ticks("100.01", &DEMO), Ok(10_001));
        assert!(ui_ticks("100.005", &DEMO).unwrap_err().contains("whole number of ticks"));
        assert_eq!(ui_lots("0.005", &DEMO), Ok(5));
        assert!(ui_lots("0.0005", &DEMO).unwrap_err().contains("whole number of lots"));
    }

    #[test]
    fn a_converted_order_costs_what_its_decimal_terms_say() {
        // 0.25 base at 100.5 quote each: 25.125 quote, as the program computes a notional.
        let (ticks, lots) = (ui_ticks("100.5", &DEMO).unwrap(), ui_lots("0.25", &DEMO).unwrap());
        let notional_atoms = ticks * lots * DEMO.quote_tick_size;
        assert_eq!(notional_atoms, ui_atoms("25.125", 6).unwrap());
    }
}
