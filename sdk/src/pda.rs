//! Program-derived addresses, with the seeds the program uses.
use anchor_lang::prelude::Pubkey;
use solex::state::{BASE_VAULT_SEED, MARKET_SEED, QUOTE_VAULT_SEED, TRADER_SEED};
use solex::ID;

pub fn market(base_mint: &Pubkey, quote_mint: &Pubkey, market_id: u64) -> Pubkey {
    Pubkey::find_program_address(&[MARKET_SEED, base_mint.as_ref(), quote_mint.as_ref(), &market_id.to_le_bytes()], &ID)
        .0
}

pub fn base_vault(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[BASE_VAULT_SEED, market.as_ref()], &ID).0
}

pub fn quote_vault(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[QUOTE_VAULT_SEED, market.as_ref()], &ID).0
}

pub fn trader(market: &Pubkey, owner: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[TRADER_SEED, market.as_ref(), owner.as_ref()], &ID).0
}

/// The PDA `emit_cpi!` signs its self-invocation with.
pub fn event_authority() -> Pubkey {
    Pubkey::find_program_address(&[solex::events::EVENT_AUTHORITY_SEED], &ID).0
}
