//! Instruction builders. Account order and data come from the program's own
//! Anchor-generated types, so they cannot drift from the program.
use anchor_lang::prelude::AccountMeta;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use solex::state::Side;
use solex::{accounts, instruction, CreateMarketArgs, PlaceOrderArgs, ID};

use crate::pda;

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// Addresses a market's instructions need, derived once.
/// A system `create_account` of `len` bytes owned by the program, funded with
/// `lamports` by `payer`: how a market's book sides and fill queue are made before
/// `create_market` (they are too large to create inside it).
pub fn create_program_account(payer: &Pubkey, new: &Pubkey, lamports: u64, len: usize) -> Instruction {
    // SystemInstruction::CreateAccount, bincode: tag 0 (u32), lamports, space, owner.
    let mut data = Vec::with_capacity(52);
    data.extend_from_slice(&0u32.to_le_bytes());
    data.extend_from_slice(&lamports.to_le_bytes());
    data.extend_from_slice(&(len as u64).to_le_bytes());
    data.extend_from_slice(ID.as_ref());
    Instruction {
        program_id: anchor_lang::system_program::ID,
        accounts: vec![AccountMeta::new(*payer, true), AccountMeta::new(*new, true)],
        data,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketKeys {
    pub market: Pubkey,
    pub base_mint: Pubkey,
    pub quote_mint: Pubkey,
    pub base_vault: Pubkey,
    pub quote_vault: Pubkey,
    pub bids: Pubkey,
    pub asks: Pubkey,
    pub fill_queue: Pubkey,
}

impl MarketKeys {
    pub fn new(
        base_mint: Pubkey,
        quote_mint: Pubkey,
        market_id: u64,
        bids: Pubkey,
        asks: Pubkey,
        fill_queue: Pubkey,
    ) -> Self {
        let market = pda::market(&base_mint, &quote_mint, market_id);
        Self {
            market,
            base_mint,
            quote_mint,
            base_vault: pda::base_vault(&market),
            quote_vault: pda::quote_vault(&market),
            bids,
            asks,
            fill_queue,
        }
    }

    /// From a decoded market account.
    pub fn from_market(market: Pubkey, m: &solex::state::Market) -> Self {
        Self {
            market,
            base_mint: m.base_mint,
            quote_mint: m.quote_mint,
            base_vault: m.base_vault,
            quote_vault: m.quote_vault,
            bids: m.bids,
            asks: m.asks,
            fill_queue: m.fill_queue,
        }
    }

    /// The vault holding `mint` (which must be the base or the quote mint).
    pub fn vault_for(&self, mint: &Pubkey) -> Pubkey {
        if *mint == self.base_mint {
            self.base_vault
        } else {
            self.quote_vault
        }
    }
}

/// `create_market`. The book and fill queue accounts must already exist: created
/// with `BookSide::LEN` / `FillQueue::LEN` bytes and owned by the program.
#[allow(clippy::too_many_arguments)]
pub fn create_market(
    payer: Pubkey,
    authority: Pubkey,
    keys: &MarketKeys,
    base_token_program: Pubkey,
    quote_token_program: Pubkey,
    args: CreateMarketArgs,
) -> Instruction {
    ix(
        accounts::CreateMarket {
            payer,
            authority,
            market: keys.market,
            base_mint: keys.base_mint,
            quote_mint: keys.quote_mint,
            base_vault: keys.base_vault,
            quote_vault: keys.quote_vault,
            bids: keys.bids,
            asks: keys.asks,
            fill_queue: keys.fill_queue,
            base_token_program,
            quote_token_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::CreateMarket { args },
    )
}

/// Opens `owner`'s trader account on `market`, with room for `max_orders` open orders.
pub fn create_trader(payer: Pubkey, owner: Pubkey, market: Pubkey, max_orders: u16) -> Instruction {
    ix(
        accounts::CreateTrader {
            payer,
            owner,
            market,
            trader: pda::trader(&market, &owner),
            system_program: anchor_lang::system_program::ID,
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::CreateTrader { max_orders },
    )
}

/// `owner` signing for its own trader account on `market`.
fn owned_trader(owner: Pubkey, market: Pubkey) -> accounts::OwnedTrader {
    accounts::OwnedTrader { owner, market, trader: pda::trader(&market, &owner) }
}

fn move_funds(
    owner: Pubkey,
    keys: &MarketKeys,
    wallet: Pubkey,
    mint: Pubkey,
    token_program: Pubkey,
) -> accounts::MoveFunds {
    accounts::MoveFunds {
        owned: owned_trader(owner, keys.market),
        wallet,
        vault: keys.vault_for(&mint),
        mint,
        token_program,
        event_authority: pda::event_authority(),
        program: ID,
    }
}

/// Deposit `amount` atoms of `mint` from the owner's token account `wallet`.
pub fn deposit(
    owner: Pubkey,
    keys: &MarketKeys,
    wallet: Pubkey,
    mint: Pubkey,
    token_program: Pubkey,
    amount: u64,
) -> Instruction {
    ix(move_funds(owner, keys, wallet, mint, token_program), instruction::Deposit { amount })
}

/// Withdraw `amount` available atoms of `mint` to the owner's token account `wallet`.
pub fn withdraw(
    owner: Pubkey,
    keys: &MarketKeys,
    wallet: Pubkey,
    mint: Pubkey,
    token_program: Pubkey,
    amount: u64,
) -> Instruction {
    ix(move_funds(owner, keys, wallet, mint, token_program), instruction::Withdraw { amount })
}

/// `signer` acts on `owner`'s trader account: the owner itself, or its delegate.
fn order_book(signer: Pubkey, owner: Pubkey, keys: &MarketKeys) -> accounts::OrderBook {
    accounts::OrderBook {
        signer,
        market: keys.market,
        trader: pda::trader(&keys.market, &owner),
        bids: keys.bids,
        asks: keys.asks,
        fill_queue: keys.fill_queue,
        event_authority: pda::event_authority(),
        program: ID,
    }
}

pub fn place_order(owner: Pubkey, keys: &MarketKeys, args: PlaceOrderArgs) -> Instruction {
    place_order_as(owner, owner, keys, args)
}

/// `place_order` signed by `signer` (the owner's delegate) for `owner`'s trader account.
pub fn place_order_as(signer: Pubkey, owner: Pubkey, keys: &MarketKeys, args: PlaceOrderArgs) -> Instruction {
    ix(order_book(signer, owner, keys), instruction::PlaceOrder { args })
}

pub fn cancel_order(owner: Pubkey, keys: &MarketKeys, side: Side, order_id: u128) -> Instruction {
    cancel_order_as(owner, owner, keys, side, order_id)
}

/// `cancel_order` signed by `signer` (the owner's delegate) for `owner`'s trader account.
pub fn cancel_order_as(signer: Pubkey, owner: Pubkey, keys: &MarketKeys, side: Side, order_id: u128) -> Instruction {
    ix(order_book(signer, owner, keys), instruction::CancelOrder { side, order_id })
}

pub fn cancel_by_client_id(signer: Pubkey, owner: Pubkey, keys: &MarketKeys, client_order_id: u64) -> Instruction {
    ix(order_book(signer, owner, keys), instruction::CancelByClientId { client_order_id })
}

/// Cancels up to `limit` of `owner`'s resting orders on `side` (or both sides).
pub fn cancel_all(signer: Pubkey, owner: Pubkey, keys: &MarketKeys, side: Option<Side>, limit: u8) -> Instruction {
    ix(order_book(signer, owner, keys), instruction::CancelAll { side, limit })
}

pub fn replace_order(
    signer: Pubkey,
    owner: Pubkey,
    keys: &MarketKeys,
    side: Side,
    order_id: u128,
    args: PlaceOrderArgs,
) -> Instruction {
    ix(order_book(signer, owner, keys), instruction::ReplaceOrder { side, order_id, args })
}

/// `consume_events` from `expected_head`, passing the makers' trader accounts
/// (deduplicated; the crank reads them off the queue).
pub fn consume_events(keys: &MarketKeys, makers: &[Pubkey], expected_head: u64, limit: u8) -> Instruction {
    let mut accounts = accounts::ConsumeEvents {
        market: keys.market,
        fill_queue: keys.fill_queue,
        event_authority: pda::event_authority(),
        program: ID,
    }
    .to_account_metas(None);
    let mut seen: Vec<Pubkey> = Vec::new();
    for maker in makers {
        if !seen.contains(maker) {
            seen.push(*maker);
            accounts.push(AccountMeta::new(*maker, false));
        }
    }
    Instruction { program_id: ID, accounts, data: instruction::ConsumeEvents { expected_head, limit }.data() }
}

/// Pays `owner`'s available balances on the market to its token accounts. Anyone may send it.
pub fn settle_funds(
    keys: &MarketKeys,
    owner: Pubkey,
    owner_base: Pubkey,
    owner_quote: Pubkey,
    base_token_program: Pubkey,
    quote_token_program: Pubkey,
) -> Instruction {
    ix(
        accounts::SettleFunds {
            market: keys.market,
            trader: pda::trader(&keys.market, &owner),
            owner_base,
            owner_quote,
            base_vault: keys.base_vault,
            quote_vault: keys.quote_vault,
            base_mint: keys.base_mint,
            quote_mint: keys.quote_mint,
            base_token_program,
            quote_token_program,
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::SettleFunds {},
    )
}

pub fn sweep_fees(authority: Pubkey, keys: &MarketKeys, destination: Pubkey, token_program: Pubkey) -> Instruction {
    ix(
        accounts::SweepFees {
            authority,
            market: keys.market,
            quote_vault: keys.quote_vault,
            destination,
            quote_mint: keys.quote_mint,
            token_program,
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::SweepFees {},
    )
}

/// Closes `owner`'s empty trader account, its rent to `owner`; `signer` is the
/// owner, or the market authority while the market is paused.
pub fn close_trader(signer: Pubkey, owner: Pubkey, market: Pubkey) -> Instruction {
    ix(
        accounts::CloseTrader {
            signer,
            owner,
            market,
            trader: pda::trader(&market, &owner),
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::CloseTrader {},
    )
}

/// Closes an empty market: rent to `destination`; tokens sent to the vaults
/// directly (no trader's) to the token accounts `leftovers` (base, quote).
pub fn close_market(
    authority: Pubkey,
    destination: Pubkey,
    keys: &MarketKeys,
    leftovers: (Pubkey, Pubkey),
    base_token_program: Pubkey,
    quote_token_program: Pubkey,
) -> Instruction {
    ix(
        accounts::CloseMarket {
            authority,
            destination,
            market: keys.market,
            bids: keys.bids,
            asks: keys.asks,
            fill_queue: keys.fill_queue,
            base_vault: keys.base_vault,
            quote_vault: keys.quote_vault,
            base_mint: keys.base_mint,
            quote_mint: keys.quote_mint,
            base_destination: leftovers.0,
            quote_destination: leftovers.1,
            base_token_program,
            quote_token_program,
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::CloseMarket {},
    )
}

/// Let `delegate` place and cancel for `owner` (`None` removes the delegate).
/// Lets `delegate` cancel and place post-only orders for `owner`: bids at most
/// `max_bid_price`, asks at least `min_ask_price` (ticks; `max_bid_price <=
/// min_ask_price`). `None` removes the delegate.
pub fn set_delegate(owner: Pubkey, market: Pubkey, delegate: Option<(Pubkey, u64, u64)>) -> Instruction {
    let (delegate, max_bid_price, min_ask_price) = match delegate {
        Some((key, max_bid, min_ask)) => (Some(key), max_bid, min_ask),
        None => (None, 0, 0),
    };
    ix(
        accounts::SetDelegate {
            owned: owned_trader(owner, market),
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::SetDelegate { delegate, max_bid_price, min_ask_price },
    )
}

/// Permissionless: removes up to `limit` expired orders from `side`.
pub fn prune_expired(keys: &MarketKeys, side: Side, limit: u8) -> Instruction {
    ix(
        accounts::PruneExpired {
            market: keys.market,
            bids: keys.bids,
            asks: keys.asks,
            fill_queue: keys.fill_queue,
            event_authority: pda::event_authority(),
            program: ID,
        },
        instruction::PruneExpired { side, limit },
    )
}

/// Pause (`true`) or resume (`false`) a market; signed by its authority.
pub fn set_paused(authority: Pubkey, market: Pubkey, paused: bool) -> Instruction {
    ix(
        accounts::SetPaused { authority, market, event_authority: pda::event_authority(), program: ID },
        instruction::SetPaused { paused },
    )
}

/// The compute-budget program's instructions, encoded by hand: tag 2 sets the
/// transaction's compute-unit limit (u32), tag 3 its price in micro-lamports per
/// unit (u64; none when 0).
pub fn compute_budget(units: u32, micro_lamports: u64) -> Vec<Instruction> {
    let program = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
    let mut ixs =
        vec![Instruction { program_id: program, accounts: vec![], data: [&[2u8][..], &units.to_le_bytes()].concat() }];
    if micro_lamports > 0 {
        ixs.push(Instruction {
            program_id: program,
            accounts: vec![],
            data: [&[3u8][..], &micro_lamports.to_le_bytes()].concat(),
        });
    }
    ixs
}
