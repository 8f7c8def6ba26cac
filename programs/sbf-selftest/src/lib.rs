//! A deliberately tiny program that runs each i128 libcall on chain.
//!
//! `check(op, a, b)` computes `a op b` with the operands hidden from the optimiser,
//! so the SBF build must call `__multi3`, `__udivti3`, `__umodti3`, `__divti3` or
//! `__modti3`, and returns the result as return data. Tests compare it with the
//! host's native arithmetic.
#![allow(unexpected_cfgs)]
use anchor_lang::prelude::*;
#[cfg(target_os = "solana")]
use {sbf_builtins as _, solana_compiler_builtins as _};

declare_id!("7aUEHUeaQocgg1x5qD5LL1s1bn36Gc1we9mJaBmt3KSb");

/// Operation codes for `check`.
pub mod op {
    pub const MUL: u8 = 0;
    pub const UDIV: u8 = 1;
    pub const UMOD: u8 = 2;
    pub const IDIV: u8 = 3;
    pub const IMOD: u8 = 4;
}

#[program]
pub mod sbf_selftest {
    use super::*;

    pub fn check(_ctx: Context<Check>, op: u8, a: i128, b: i128) -> Result<i128> {
        let (a, b) = (core::hint::black_box(a), core::hint::black_box(b));
        let r = match op {
            op::MUL => a.wrapping_mul(b),
            op::UDIV => ((a as u128) / (b as u128)) as i128,
            op::UMOD => ((a as u128) % (b as u128)) as i128,
            op::IDIV => a / b,
            op::IMOD => a % b,
            _ => return err!(SelftestError::UnknownOp),
        };
        Ok(r)
    }
}

#[derive(Accounts)]
pub struct Check {}

#[error_code]
pub enum SelftestError {
    #[msg("unknown operation code")]
    UnknownOp,
}
