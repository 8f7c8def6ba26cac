//! A minimal router: the kind of wrapper program (aggregator, vault, smart wallet)
//! that calls Solex by CPI. It forwards its instruction data unchanged to the
//! program named by its first account, with the rest of its accounts, each keeping
//! the signer and writable flags it had in the router's instruction.
//!
//! It adds no authority of its own (it signs for no PDA), so through it a caller can
//! make the callee do exactly what a direct call with the same signatures could, and
//! nothing more: the runtime refuses a CPI that marks as signer or writable an
//! account that was not so in the router's instruction.
//!
//! A client routes an instruction `ix` as `Instruction { program_id: router,
//! accounts: [ix.program_id (read-only), ix.accounts...], data: ix.data }`. The tests
//! use it to send Solex instructions in v0 transactions whose lookup table holds
//! Solex's program id: the events Solex emits then name it by a loaded address
//! (see `solex_sdk::rpc::AccountKeys`).
#![allow(unexpected_cfgs)]
use anchor_lang::solana_program::account_info::AccountInfo;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke;
use anchor_lang::solana_program::program_error::ProgramError;
use anchor_lang::solana_program::pubkey::Pubkey;
#[cfg(target_os = "solana")]
use {sbf_builtins as _, solana_compiler_builtins as _};

#[cfg(not(feature = "no-entrypoint"))]
anchor_lang::solana_program::entrypoint!(process_instruction);

pub fn process_instruction(_router: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> Result<(), ProgramError> {
    let (program, rest) = accounts.split_first().ok_or(ProgramError::NotEnoughAccountKeys)?;
    let metas = rest
        .iter()
        .map(|a| AccountMeta { pubkey: *a.key, is_signer: a.is_signer, is_writable: a.is_writable })
        .collect();
    invoke(&Instruction { program_id: *program.key, accounts: metas, data: data.to_vec() }, accounts)
}
