//! LiteSVM running the built `.so` files in-process.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use litesvm::LiteSVM;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::artifacts;
use crate::ledger::{custom_code, events_from_inner, Landed, Ledger, Rejected, TxResult};

pub struct SvmLedger {
    pub svm: LiteSVM,
}

impl SvmLedger {
    /// A fresh LiteSVM with the SPL programs, Solex and the toolchain self-test loaded.
    ///
    /// `virtual_address_space_adjustments` is active, as on solana-test-validator
    /// (which activates every feature). This matters:
    /// LLVM 23 passes a call's sixth and later arguments just above the caller's
    /// stack frame, which works only while `virtual_address_space_adjustments` is
    /// active (contiguous SBPF v0 frames); with it inactive the frames have gaps and
    /// such a call faults. See docs/toolchain.md.
    pub fn new() -> Self {
        let mut features = agave_feature_set::FeatureSet::default();
        features.activate(&agave_feature_set::enable_sbpf_v3_deployment_and_execution::id(), 0);
        let mut svm = LiteSVM::new().with_feature_set(features);
        svm.add_program_from_file(solex::ID, artifacts::solex_so()).expect("load solex.so");
        svm.add_program_from_file(sbf_selftest::ID, artifacts::selftest_so()).expect("load sbf_selftest.so");
        Self { svm }
    }
}

impl SvmLedger {
    /// Moves the clock sysvar (for order expiry).
    pub fn set_clock(&mut self, slot: u64, unix_time: i64) {
        let mut clock: solana_clock::Clock = self.svm.get_sysvar();
        clock.slot = slot;
        clock.unix_timestamp = unix_time;
        self.svm.set_sysvar(&clock);
    }

    pub fn clock(&self) -> solana_clock::Clock {
        self.svm.get_sysvar()
    }
}

impl Default for SvmLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger for SvmLedger {
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let payer = signers[0].pubkey();
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer), signers, self.svm.latest_blockhash());
        let keys = tx.message.account_keys.clone();
        let inner = |meta: &litesvm::types::TransactionMetadata| {
            meta.inner_instructions
                .iter()
                .flatten()
                .map(|i| (i.instruction.program_id_index, i.instruction.data.clone()))
                .collect::<Vec<_>>()
        };
        let result = self.svm.send_transaction(tx);
        // Identical transactions in one blockhash are rejected as duplicates; tests
        // repeat instructions on purpose, so every send moves to a new blockhash.
        self.svm.expire_blockhash();
        match result {
            Ok(meta) => Ok(Landed {
                signature: meta.signature.to_string(),
                compute_units: meta.compute_units_consumed,
                events: events_from_inner(&keys, inner(&meta)),
                return_data: meta.return_data.data.clone(),
                logs: meta.logs.clone(),
            }),
            Err(failed) => {
                let error = format!("{:?}", failed.err);
                Err(Rejected { custom_code: custom_code(&error), error, logs: failed.meta.logs })
            }
        }
    }

    fn account_data(&self, key: &Pubkey) -> Option<Vec<u8>> {
        self.svm.get_account(key).map(|a| a.data)
    }

    fn lamports(&self, key: &Pubkey) -> u64 {
        self.svm.get_account(key).map_or(0, |a| a.lamports)
    }

    fn owner(&self, key: &Pubkey) -> Option<Pubkey> {
        self.svm.get_account(key).map(|a| a.owner)
    }

    fn rent_exempt(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }

    fn airdrop(&mut self, to: &Pubkey, lamports: u64) {
        self.svm.airdrop(to, lamports).expect("airdrop");
    }
}
