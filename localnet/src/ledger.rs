//! What a test needs from a chain, implemented by LiteSVM and by the validator.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solex_sdk::events::{decode_event, SolexEvent};
use solex_sdk::rpc::event_data;
pub use solex_sdk::rpc::AccountKeys;

pub use solex_sdk::submit::{Landed, Rejected, TxResult};

pub trait Ledger {
    /// Signs with `signers` (the first pays) and sends one transaction.
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult;
    fn account_data(&self, key: &Pubkey) -> Option<Vec<u8>>;
    fn lamports(&self, key: &Pubkey) -> u64;
    /// The program that owns `key`, if the account exists.
    fn owner(&self, key: &Pubkey) -> Option<Pubkey>;
    fn rent_exempt(&self, len: usize) -> u64;
    fn airdrop(&mut self, to: &Pubkey, lamports: u64);
    /// The slot the next transaction executes in, at the earliest.
    fn current_slot(&self) -> u64;
    /// Returns once transactions execute in `slot` or later (LiteSVM warps there;
    /// the validator is waited for).
    fn wait_until_slot(&mut self, slot: u64);
}

/// Events in a transaction's inner instructions (program index, data): the
/// program's self-CPIs, resolved against every key the transaction names, loaded
/// from lookup tables too (see `solex_sdk::rpc::event_data`).
pub fn events_from_inner(keys: &AccountKeys, inner: impl IntoIterator<Item = (u8, Vec<u8>)>) -> Vec<SolexEvent> {
    event_data(keys, inner.into_iter().map(|(program, data)| (program as usize, data)))
        .iter()
        .filter_map(|data| decode_event(data).ok())
        .collect()
}

/// The `Custom(n)` code inside a transaction error's text form.
pub fn custom_code(error: &str) -> Option<u32> {
    let at = error.find("Custom(")? + "Custom(".len();
    error[at..].split(')').next()?.parse().ok()
}
