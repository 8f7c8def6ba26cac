//! The order vocabulary: what an order is (its side, type, self-trade mode, expiry
//! and the arguments of `place_order`, with their defaults) and the one table of
//! names every front end uses for them (the CLI's flags, the transaction API's JSON,
//! the indexer's database and REST output, the web page).
//!
//! Names are lower snake case (`post_only`, `cancel_resting`): the spelling the
//! database stores and the REST API returns. Input also accepts the same name with
//! `-` for `_` (`post-only`), the spelling the CLI and the transaction API took
//! before; output never uses it.
//!
//! `Side` and `Expiry` are account-layout types and stay in `state`; they are
//! re-exported here, and their names are defined here.
use anchor_lang::prelude::*;

pub use crate::state::{Expiry, Side};

/// The most resting orders one `place_order` meets (fills, expired and self-trade
/// orders), and the most entries one `consume_events` or `cancel_all` processes.
/// Bounds compute units, and the event: its vectors, serialised and copied into the
/// self-invocation, must fit the program's 32 KiB heap (64 fills did not).
pub const MAX_BATCH: u8 = 32;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OrderType {
    /// Takes what crosses, rests the rest.
    #[default]
    Limit,
    /// Rests, or fails with `WouldCross` if it would take.
    PostOnly,
    /// Rests; if it would take, its price moves to one tick short of the best opposite order.
    PostOnlySlide,
    /// Takes what crosses; the rest is cancelled.
    ImmediateOrCancel,
    /// Takes all of `qty_lots` or fails with `WouldNotFill`.
    FillOrKill,
    /// Takes up to `qty_lots` and/or `max_quote_atoms`, at prices no worse than `price`; never rests.
    Market,
}

/// What happens when an order would trade with an order of the same trader account.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SelfTradeMode {
    /// The resting order is cancelled and matching goes on.
    #[default]
    CancelResting,
    /// The incoming order stops there; its remainder is cancelled.
    CancelTaking,
    /// Both orders shrink by the overlap; nothing trades.
    DecrementBoth,
    /// The instruction fails with `SelfTrade`.
    Abort,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaceOrderArgs {
    pub side: Side,
    /// Limit price in ticks (the worst price for `Market`).
    pub price: u64,
    /// Quantity in base lots (`u64::MAX` with a quote budget: as much as the budget buys).
    pub qty_lots: u64,
    /// When taking: most quote atoms to spend, fees included (bids), or to receive
    /// before fees (asks). `u64::MAX`: no limit.
    pub max_quote_atoms: u64,
    pub client_order_id: u64,
    pub order_type: OrderType,
    pub self_trade: SelfTradeMode,
    pub expiry: Expiry,
    /// Most resting orders to trade with or self-trade-cancel, 1..=32, so the
    /// instruction stays inside its compute budget (expired orders met on the way
    /// do not count: up to `MAX_EXPIRED_PER_TAKE` more are removed).
    pub max_fills: u8,
}

impl PlaceOrderArgs {
    /// `max_quote_atoms` when the order has no quote budget.
    pub const NO_QUOTE_LIMIT: u64 = u64::MAX;
    /// The fill limit of an order that names none: the most the program accepts.
    pub const DEFAULT_MAX_FILLS: u8 = MAX_BATCH;

    /// A limit order with the defaults for everything else: no quote budget, the
    /// default order type (`Limit`) and self-trade mode (`CancelResting`), no
    /// expiry, and the largest fill limit. Every front end's defaults are these.
    pub fn limit(side: Side, price: u64, qty_lots: u64, client_order_id: u64) -> Self {
        Self {
            side,
            price,
            qty_lots,
            max_quote_atoms: Self::NO_QUOTE_LIMIT,
            client_order_id,
            order_type: OrderType::default(),
            self_trade: SelfTradeMode::default(),
            expiry: Expiry::default(),
            max_fills: Self::DEFAULT_MAX_FILLS,
        }
    }
}

// ---- names ------------------------------------------------------------------------

/// A word that names none of a vocabulary's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being named ("side", "order type", "self-trade mode").
    pub what: &'static str,
    /// The names it takes.
    pub names: &'static [&'static str],
    pub got: String,
}

impl core::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} must be ", self.what)?;
        for (i, name) in self.names.iter().enumerate() {
            let sep = match i {
                0 => "",
                i if i + 1 == self.names.len() => " or ",
                _ => ", ",
            };
            write!(f, "{sep}{name}")?;
        }
        write!(f, ", not {:?}", self.got)
    }
}

impl std::error::Error for UnknownName {}

/// A closed set of values with one name each (and maybe an input alias): the
/// vocabulary's name table, for front ends that list or parse names generically
/// (clap's possible values, serde, SQL checks).
pub trait Named: Copy + Eq + Sized + 'static {
    /// What a value of it is called in messages.
    const WHAT: &'static str;
    /// Every value, in the program's (Borsh) order.
    const ALL: &'static [Self];
    /// Every value's name, in the order of `ALL`.
    const NAMES: &'static [&'static str];
    fn as_str(self) -> &'static str;
    /// The other spelling input accepts (`-` for `_`), where there is one.
    fn alias(self) -> Option<&'static str>;

    /// The value a name (or an alias) stands for.
    fn from_name(s: &str) -> core::result::Result<Self, UnknownName> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s || v.alias() == Some(s)).ok_or_else(|| UnknownName {
            what: Self::WHAT,
            names: Self::NAMES,
            got: s.into(),
        })
    }
}

/// Declares a type's name table once: `Named`, `as_str`, `Display` and `FromStr`.
macro_rules! names {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal $(| $alias:literal)?),+ $(,)? }) => {
        impl Named for $ty {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$($ty::$variant),+];
            const NAMES: &'static [&'static str] = &[$($name),+];
            fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
            fn alias(self) -> Option<&'static str> {
                match self {
                    $($ty::$variant => names!(@alias $($alias)?)),+
                }
            }
        }

        impl $ty {
            /// Its name (see the module's documentation).
            pub fn as_str(self) -> &'static str {
                Named::as_str(self)
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl core::str::FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> core::result::Result<Self, UnknownName> {
                <Self as Named>::from_name(s)
            }
        }
    };
    (@alias) => { None };
    (@alias $alias:literal) => { Some($alias) };
}

names!(Side, "side", { Bid => "bid", Ask => "ask" });

names!(OrderType, "order type", {
    Limit => "limit",
    PostOnly => "post_only" | "post-only",
    PostOnlySlide => "post_only_slide" | "post-only-slide",
    ImmediateOrCancel => "ioc",
    FillOrKill => "fok",
    Market => "market",
});

names!(SelfTradeMode, "self-trade mode", {
    CancelResting => "cancel_resting" | "cancel-resting",
    CancelTaking => "cancel_taking" | "cancel-taking",
    DecrementBoth => "decrement_both" | "decrement-both",
    Abort => "abort",
});

#[cfg(test)]
mod tests {
    use super::*;

    fn table<T: Named + core::fmt::Debug + core::str::FromStr<Err = UnknownName> + AnchorSerialize>() {
        assert_eq!(T::ALL.len(), T::NAMES.len());
        for (i, v) in T::ALL.iter().enumerate() {
            // In Borsh order, so a name's index is the value's wire byte (the web page relies on it).
            let mut wire = vec![];
            v.serialize(&mut wire).unwrap();
            assert_eq!(wire, vec![i as u8], "{v:?}");
            assert_eq!(v.as_str(), T::NAMES[i]);
            assert_eq!(v.as_str().parse::<T>(), Ok(*v));
            assert!(v.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{v:?}");
            if let Some(alias) = v.alias() {
                assert_eq!((alias.parse::<T>(), alias.replace('-', "_")), (Ok(*v), v.as_str().to_string()));
            } else {
                assert!(!v.as_str().contains('_'), "{v:?} needs its `-` alias");
            }
        }
        let err = "nope".parse::<T>().unwrap_err();
        assert!(err.to_string().ends_with(", not \"nope\""), "{err}");
    }

    #[test]
    fn every_value_has_one_name_that_reads_back() {
        table::<Side>();
        table::<OrderType>();
        table::<SelfTradeMode>();
        // The names the indexer's database holds.
        assert_eq!(Side::NAMES, ["bid", "ask"]);
        assert_eq!(OrderType::NAMES, ["limit", "post_only", "post_only_slide", "ioc", "fok", "market"]);
        assert_eq!("x".parse::<Side>().unwrap_err().to_string(), "side must be bid or ask, not \"x\"");
    }

    #[test]
    fn the_defaults_are_the_largest_fill_limit_and_nothing_else() {
        let a = PlaceOrderArgs::limit(Side::Ask, 5, 6, 7);
        assert_eq!((a.side, a.price, a.qty_lots, a.client_order_id), (Side::Ask, 5, 6, 7));
        assert_eq!(
            (a.order_type, a.self_trade, a.expiry),
            (OrderType::Limit, SelfTradeMode::CancelResting, Expiry::Never)
        );
        assert_eq!((a.max_fills, a.max_quote_atoms), (MAX_BATCH, u64::MAX));
    }
}
