//! The offline toolchain's i128 libcalls, executed on chain (LiteSVM) and
//! compared with the host's native arithmetic.
use anchor_lang::{AnchorDeserialize, InstructionData};
use sbf_selftest::op;
use solex_tests::ledger::Ledger;
use solex_tests::litesvm_ledger::SvmLedger;
use solex_tests::{Keypair, Signer};

pub fn check_ix(op: u8, a: i128, b: i128) -> anchor_lang::solana_program::instruction::Instruction {
    anchor_lang::solana_program::instruction::Instruction {
        program_id: sbf_selftest::ID,
        accounts: vec![],
        data: sbf_selftest::instruction::Check { op, a, b }.data(),
    }
}

fn native(op: u8, a: i128, b: i128) -> i128 {
    match op {
        op::MUL => a.wrapping_mul(b),
        op::UDIV => ((a as u128) / (b as u128)) as i128,
        op::UMOD => ((a as u128) % (b as u128)) as i128,
        op::IDIV => a / b,
        op::IMOD => a % b,
        _ => unreachable!(),
    }
}

const VALUES: [i128; 12] = [
    1,
    -1,
    7,
    -7,
    0xffff_ffff,
    u64::MAX as i128,
    (u64::MAX as i128) + 1,
    -(u64::MAX as i128) * 3,
    i128::MAX,
    i128::MIN + 1,
    0x1234_5678_9abc_def0_1122_3344_5566_7788,
    -0x0fed_cba9_8765_4321_0011_2233_4455,
];

#[test]
fn every_i128_libcall_matches_native_on_chain() {
    let mut l = SvmLedger::new();
    let payer = Keypair::new();
    l.airdrop(&payer.pubkey(), 10_000_000_000);
    let mut checked = 0;
    for op in [op::MUL, op::UDIV, op::UMOD, op::IDIV, op::IMOD] {
        for a in VALUES {
            for b in VALUES {
                let landed =
                    l.send(&[check_ix(op, a, b)], &[&payer]).unwrap_or_else(|e| panic!("op {op} {a} {b}: {e:?}"));
                let got = i128::deserialize(&mut &landed.return_data[..]).expect("i128 return data");
                assert_eq!(got, native(op, a, b), "op {op}: {a} {b}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * VALUES.len() * VALUES.len());
}
