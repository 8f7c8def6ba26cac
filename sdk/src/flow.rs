//! The instructions of a wallet's order flow, composed once for every front end
//! (the CLI, the transaction API): the place-order request and its defaults, the
//! market context, associated token accounts, deposits, withdrawals and
//! settlement, and unsigned transactions for a wallet.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::{token, token_2022};
use base64::Engine;
use solana_transaction::Transaction;

use crate::accounts::decode;
use crate::auction::SealedOrder;
use crate::instructions::{self as ix, MarketKeys};
use crate::rpc::{RpcClient, RpcError};
use crate::{Expiry, Market, OrderType, PlaceOrderArgs, SelfTradeMode, Side};

// ---- orders -----------------------------------------------------------------------

/// A clap value parser for one of the vocabulary's types: its names (and aliases)
/// as the possible values, so `--help` lists them and a wrong one is refused by
/// name.
#[cfg(feature = "clap")]
pub fn value_parser<T: solex::order::Named + Send + Sync>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(T::ALL.iter().map(|v| PossibleValue::new(v.as_str()).aliases(v.alias())))
        .map(|name| T::from_name(&name).expect("clap accepts only the table's names"))
}

/// The optional part of a place-order request, the same for every front end: the
/// CLI's flags (`--type`, `--client-id`, ...) and the transaction API's JSON fields
/// (`type`, `client_id`, ...). What a request leaves out takes the defaults of
/// `PlaceOrderArgs::limit`, the program crate's one set of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct OrderOptions {
    /// The order type.
    #[serde(rename = "type", deserialize_with = "json::named")]
    #[cfg_attr(feature = "clap", arg(long = "type", value_parser = value_parser::<OrderType>(),
        default_value_t = OrderOptions::default().order_type))]
    pub order_type: OrderType,
    /// Your id for the order (u64), to cancel it by.
    #[serde(deserialize_with = "json::uint")]
    #[cfg_attr(feature = "clap", arg(long, default_value_t = OrderOptions::default().client_id))]
    pub client_id: u64,
    /// Most quote atoms to spend, fees included (bids), or to receive (asks); none: no limit.
    #[serde(deserialize_with = "json::optional_uint")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub max_quote: Option<u64>,
    /// What happens when the order would trade with one of your own.
    #[serde(deserialize_with = "json::named")]
    #[cfg_attr(feature = "clap", arg(long, value_parser = value_parser::<SelfTradeMode>(),
        default_value_t = OrderOptions::default().self_trade))]
    pub self_trade: SelfTradeMode,
    /// Last slot the order is valid in; none: it does not expire.
    #[serde(deserialize_with = "json::optional_uint")]
    #[cfg_attr(feature = "clap", arg(long))]
    pub expire_slot: Option<u64>,
    /// Most resting orders to match (1..=32).
    #[serde(deserialize_with = "json::uint")]
    #[cfg_attr(feature = "clap", arg(long, default_value_t = OrderOptions::default().max_fills))]
    pub max_fills: u8,
}

impl Default for OrderOptions {
    /// `PlaceOrderArgs::limit`'s.
    fn default() -> Self {
        let d = PlaceOrderArgs::limit(Side::Bid, 0, 0, 0);
        Self {
            order_type: d.order_type,
            client_id: d.client_order_id,
            max_quote: None,
            self_trade: d.self_trade,
            expire_slot: None,
            max_fills: d.max_fills,
        }
    }
}

impl OrderOptions {
    /// The program's arguments for an order of `qty_lots` at `price` ticks: every
    /// front end builds its orders with this, so they all mean the same.
    pub fn args(&self, side: Side, price: u64, qty_lots: u64) -> PlaceOrderArgs {
        let base = PlaceOrderArgs::limit(side, price, qty_lots, self.client_id);
        PlaceOrderArgs {
            order_type: self.order_type,
            self_trade: self.self_trade,
            max_quote_atoms: self.max_quote.unwrap_or(base.max_quote_atoms),
            expiry: self.expire_slot.map_or(base.expiry, Expiry::Slot),
            max_fills: self.max_fills,
            ..base
        }
    }

    /// The order a trader seals for a batch market's auction (`auction::seal_order`):
    /// the same options, of which a sealed order carries the type (those the
    /// program opens: limit, ioc or market), the client id and the expiry. It has
    /// no quote budget, self-trade mode or fill limit (the collateral it locks
    /// bounds it), so setting one is an error rather than silently dropped.
    pub fn sealed(&self, side: Side, price: u64, qty_lots: u64) -> Result<SealedOrder, String> {
        let a = self.args(side, price, qty_lots);
        let order = SealedOrder {
            side,
            order_type: a.order_type,
            price: a.price,
            qty_lots: a.qty_lots,
            client_order_id: a.client_order_id,
            expiry: a.expiry,
        };
        if solex::auction::sealed_type(order.plaintext().order_type).is_none() {
            return Err(format!(
                "a sealed order is limit, ioc or market, not {} (post-only orders reach the book unsealed)",
                self.order_type
            ));
        }
        let d = Self::default();
        if self.max_quote.is_some() || self.self_trade != d.self_trade || self.max_fills != d.max_fills {
            return Err("a sealed order has no quote budget, self-trade mode or fill limit: the collateral it locks \
                 bounds what it can spend"
                .into());
        }
        Ok(order)
    }
}

/// How JSON request fields read: names through the vocabulary's table, unsigned
/// integers as numbers or decimal strings (a u64 may not survive a JSON number
/// in every client). A caller that treats null as absent removes null fields first
/// (`without_nulls`).
pub mod json {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;
    use solex::order::Named;

    /// A name of the vocabulary (or its alias).
    pub fn named<'de, D: Deserializer<'de>, T: Named>(d: D) -> Result<T, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => T::from_name(&s).map_err(D::Error::custom),
            _ => Err(D::Error::custom(format!("{} must be a string", T::WHAT))),
        }
    }

    /// An unsigned integer: a JSON number or a decimal string.
    pub fn uint_value<T: std::str::FromStr>(v: &Value) -> Result<Option<T>, String> {
        let bad = || "must be an unsigned integer".to_string();
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => n.as_u64().and_then(|n| n.to_string().parse().ok()).map(Some).ok_or_else(bad),
            Value::String(s) => s.parse().map(Some).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    pub fn uint<'de, D: Deserializer<'de>, T: std::str::FromStr>(d: D) -> Result<T, D::Error> {
        let v = uint_value(&Value::deserialize(d)?).map_err(D::Error::custom)?;
        v.ok_or_else(|| D::Error::custom("must be an unsigned integer"))
    }

    /// A JSON object without its null fields (a null field means the field is absent).
    pub fn without_nulls(v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                Value::Object(o.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            other => other.clone(),
        }
    }

    /// An unsigned integer, or null for none.
    pub fn optional_uint<'de, D: Deserializer<'de>, T: std::str::FromStr>(d: D) -> Result<Option<T>, D::Error> {
        uint_value(&Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

// ---- the market -------------------------------------------------------------------

/// Why a market could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error("{0} is not a Solex market{1}")]
    NotAMarket(Pubkey, String),
    #[error("the market's mint {0} was not found")]
    NoMint(Pubkey),
    #[error(transparent)]
    Rpc(#[from] RpcError),
}

/// A market as a front end needs it to build transactions: its accounts' keys, the
/// market account, and its mints' token programs (SPL Token or Token-2022).
#[derive(Debug, Clone, Copy)]
pub struct MarketContext {
    pub keys: MarketKeys,
    pub market: Market,
    base_program: Option<Pubkey>,
    quote_program: Option<Pubkey>,
}

impl MarketContext {
    /// Reads the market account (a bounded read: one byte more than a market, so a
    /// larger account is seen and refused without downloading it), refusing anything
    /// that is not a Solex market, then both mints' owners in one getMultipleAccounts
    /// without their data. (Two reads: the mints' addresses are in the market.)
    pub fn load(rpc: &RpcClient, market: Pubkey) -> Result<Self, MarketError> {
        let not_market = |why: &str| MarketError::NotAMarket(market, why.into());
        let account = rpc.account_prefix(&market, Market::LEN + 1)?.ok_or_else(|| not_market(""))?;
        if account.owner != solex::ID {
            return Err(not_market(&format!(" (owned by {})", account.owner)));
        }
        if account.data.len() != Market::LEN {
            return Err(not_market(" (not a market account: wrong size)"));
        }
        let m: Market = decode(&account.data).map_err(|_| not_market(" (not a market account)"))?;
        let programs = rpc.owners(&[m.base_mint, m.quote_mint])?;
        let program = |i: usize| programs.get(i).copied().flatten().filter(|p| *p == token::ID || *p == token_2022::ID);
        Ok(Self::new(market, m, program(0), program(1)))
    }

    /// A context from accounts already read (`None`: the mint is missing).
    pub fn new(market: Pubkey, m: Market, base_program: Option<Pubkey>, quote_program: Option<Pubkey>) -> Self {
        Self { keys: MarketKeys::from_market(market, &m), market: m, base_program, quote_program }
    }

    /// The token program of `mint`, the market's base or quote mint.
    pub fn token_program(&self, mint: &Pubkey) -> Result<Pubkey, MarketError> {
        let program = if *mint == self.keys.base_mint { self.base_program } else { self.quote_program };
        program.ok_or(MarketError::NoMint(*mint))
    }

    /// The base and the quote mint's token programs.
    pub fn token_programs(&self) -> Result<(Pubkey, Pubkey), MarketError> {
        Ok((self.token_program(&self.keys.base_mint)?, self.token_program(&self.keys.quote_mint)?))
    }

    /// The mint and token program of the base (`base`) or the quote token.
    pub fn asset(&self, base: bool) -> Result<(Pubkey, Pubkey), MarketError> {
        let mint = if base { self.keys.base_mint } else { self.keys.quote_mint };
        Ok((mint, self.token_program(&mint)?))
    }

    pub fn ui_terms(&self) -> UiTerms {
        UiTerms::of(&self.market)
    }
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
    fn order_options_read_from_json_with_the_vocabulary_and_its_defaults() {
        let read = |v: serde_json::Value| serde_json::from_value::<OrderOptions>(json::without_nulls(&v));
        assert_eq!(read(serde_json::json!({})).unwrap(), OrderOptions::default());
        assert_eq!(read(serde_json::json!({"type": null, "max_fills": null})).unwrap(), OrderOptions::default());
        let o = read(
            serde_json::json!({"type": "post-only", "self_trade": "decrement_both", "client_id": "18446744073709551615",
            "max_quote": 5, "expire_slot": "9", "max_fills": 3, "market": "ignored"}),
        )
        .unwrap();
        let args = o.args(Side::Ask, 10, 2);
        assert_eq!(
            (args.order_type, args.self_trade, args.client_order_id, args.max_quote_atoms, args.expiry, args.max_fills),
            (OrderType::PostOnly, SelfTradeMode::DecrementBoth, u64::MAX, 5, Expiry::Slot(9), 3)
        );
        let err = |v| read(v).unwrap_err().to_string();
        assert!(err(serde_json::json!({"type": "gtc"})).contains("order type must be limit, post_only"));
        assert!(err(serde_json::json!({"max_fills": 300})).contains("unsigned integer"));
        assert!(err(serde_json::json!({"client_id": -1})).contains("unsigned integer"));
        assert!(err(serde_json::json!({"self_trade": 1})).contains("self-trade mode must be a string"));
        // Nothing set: the program crate's defaults.
        assert_eq!(OrderOptions::default().args(Side::Bid, 1, 2), PlaceOrderArgs::limit(Side::Bid, 1, 2, 0));
    }

    #[test]
    fn a_sealed_order_carries_what_the_program_opens_and_refuses_what_it_would_drop() {
        let o = OrderOptions {
            order_type: OrderType::ImmediateOrCancel,
            client_id: 9,
            expire_slot: Some(70),
            ..Default::default()
        };
        let sealed = o.sealed(Side::Ask, 12, 3).unwrap();
        assert_eq!(
            sealed,
            SealedOrder {
                side: Side::Ask,
                order_type: OrderType::ImmediateOrCancel,
                price: 12,
                qty_lots: 3,
                client_order_id: 9,
                expiry: Expiry::Slot(70)
            }
        );
        for t in <OrderType as solex::order::Named>::ALL {
            let o = OrderOptions { order_type: *t, ..Default::default() };
            let opens = matches!(t, OrderType::Limit | OrderType::ImmediateOrCancel | OrderType::Market);
            assert_eq!(o.sealed(Side::Bid, 1, 1).is_ok(), opens, "{t}");
        }
        assert!(OrderOptions { order_type: OrderType::PostOnly, ..Default::default() }
            .sealed(Side::Bid, 1, 1)
            .unwrap_err()
            .contains("limit, ioc or market, not post_only"));
        for o in [
            OrderOptions { max_quote: Some(5), ..Default::default() },
            OrderOptions { self_trade: SelfTradeMode::Abort, ..Default::default() },
            OrderOptions { max_fills: 3, ..Default::default() },
        ] {
            assert!(o.sealed(Side::Bid, 1, 1).unwrap_err().contains("no quote budget"), "{o:?}");
        }
    }

    #[test]
    fn a_converted_order_costs_what_its_decimal_terms_say() {
        // 0.25 base at 100.5 quote each: 25.125 quote, as the program computes a notional.
        let (ticks, lots) = (ui_ticks("100.5", &DEMO).unwrap(), ui_lots("0.25", &DEMO).unwrap());
        let notional_atoms = ticks * lots * DEMO.quote_tick_size;
        assert_eq!(notional_atoms, ui_atoms("25.125", 6).unwrap());
    }
}
