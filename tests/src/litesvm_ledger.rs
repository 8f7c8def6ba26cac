//! LiteSVM running the built `.so` files in-process.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use litesvm::LiteSVM;
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;

use crate::artifacts;
use crate::ledger::{custom_code, events_from_inner, AccountKeys, Landed, Ledger, Rejected, TxResult};

/// The address lookup table program.
pub const LOOKUP_TABLE_PROGRAM: Pubkey = Pubkey::from_str_const("AddressLookupTab1e1111111111111111111111111");
const SLOT_HASHES: Pubkey = Pubkey::from_str_const("SysvarS1otHashes111111111111111111111111111");
/// A lookup table account's header; its addresses follow, 32 bytes each.
const LOOKUP_TABLE_META_SIZE: usize = 56;
/// Where the tests load `programs/cpi-router` (any address works: it calls whatever
/// program its first account names).
pub const CPI_ROUTER: Pubkey = Pubkey::new_from_array(*b"solex-test-cpi-router-program-id");

/// `ix` sent through the CPI router: the router's instruction names the program
/// first, then `ix`'s accounts with their flags, and carries `ix`'s data.
pub fn routed(ix: &Instruction) -> Instruction {
    use anchor_lang::solana_program::instruction::AccountMeta;
    let mut accounts = vec![AccountMeta::new_readonly(ix.program_id, false)];
    accounts.extend(ix.accounts.iter().cloned());
    Instruction { program_id: CPI_ROUTER, accounts, data: ix.data.clone() }
}

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
        // The ristretto255 syscalls batch markets open sealed orders with (active on
        // mainnet and on solana-test-validator).
        features.activate(&agave_feature_set::curve25519_syscall_enabled::id(), 0);
        let mut svm = LiteSVM::new().with_feature_set(features);
        svm.add_program_from_file(solex::ID, artifacts::solex_so()).expect("load solex.so");
        svm.add_program_from_file(sbf_selftest::ID, artifacts::selftest_so()).expect("load sbf_selftest.so");
        Self { svm }
    }
}

/// The two instructions that create a lookup table under `authority` (which signs;
/// `payer` pays its rent), derived from `recent_slot` (a slot the SlotHashes sysvar
/// lists), and extend it with `addresses`; and the table, as a v0 message compiles
/// against it. The program's bincode instructions, encoded by hand: variant 0
/// `CreateLookupTable { recent_slot, bump_seed }`, variant 2 `ExtendLookupTable {
/// new_addresses }`.
pub fn lookup_table_ixs(
    payer: &Pubkey,
    authority: &Pubkey,
    recent_slot: u64,
    addresses: &[Pubkey],
) -> (AddressLookupTableAccount, [Instruction; 2]) {
    use anchor_lang::solana_program::instruction::AccountMeta;
    let (table, bump) =
        Pubkey::find_program_address(&[authority.as_ref(), &recent_slot.to_le_bytes()], &LOOKUP_TABLE_PROGRAM);
    let accounts = vec![
        AccountMeta::new(table, false),
        AccountMeta::new_readonly(*authority, true),
        AccountMeta::new(*payer, true),
        AccountMeta::new_readonly(anchor_lang::solana_program::system_program::ID, false),
    ];
    let create = [&0u32.to_le_bytes()[..], &recent_slot.to_le_bytes(), &[bump]].concat();
    let mut extend = [&2u32.to_le_bytes()[..], &(addresses.len() as u64).to_le_bytes()].concat();
    addresses.iter().for_each(|a| extend.extend_from_slice(a.as_ref()));
    let ixs =
        [create, extend].map(|data| Instruction { program_id: LOOKUP_TABLE_PROGRAM, accounts: accounts.clone(), data });
    (AddressLookupTableAccount { key: table, addresses: addresses.to_vec() }, ixs)
}

impl SvmLedger {
    /// Loads the CPI router (`target/deploy/cpi_router.so`) at `CPI_ROUTER`.
    pub fn add_cpi_router(&mut self) {
        self.svm.add_program_from_file(CPI_ROUTER, artifacts::program_so("cpi_router")).expect("load cpi_router.so");
    }

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

impl SvmLedger {
    /// Signs with `signers` (the first pays) and sends one v0 transaction whose
    /// message loads every non-signer account it can from `tables` (which must exist
    /// on this ledger, e.g. from `create_lookup_table`).
    pub fn send_v0(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> TxResult {
        let payer = signers[0].pubkey();
        let message = v0::Message::try_compile(&payer, ixs, tables, self.svm.latest_blockhash()).expect("compile v0");
        self.submit(VersionedTransaction::try_new(VersionedMessage::V0(message), signers).expect("sign v0"))
    }

    /// The keys the indexes of `message`'s instructions count: its static keys, then
    /// the addresses it loads from lookup tables as they are on this ledger (every
    /// table's writable ones, then every table's read-only ones), as the runtime
    /// resolves them.
    pub fn account_keys(&self, message: &VersionedMessage) -> AccountKeys {
        let mut keys = AccountKeys::legacy(message.static_account_keys().to_vec());
        let lookups = message.address_table_lookups().unwrap_or_default();
        for (writable, lookup) in lookups.iter().map(|l| (true, l)).chain(lookups.iter().map(|l| (false, l))) {
            let table = self.lookup_table_addresses(&lookup.account_key);
            let (indexes, into) = if writable {
                (&lookup.writable_indexes, &mut keys.loaded_writable)
            } else {
                (&lookup.readonly_indexes, &mut keys.loaded_readonly)
            };
            into.extend(indexes.iter().filter_map(|&i| table.get(i as usize)));
        }
        keys
    }

    /// The addresses a lookup table account holds (none if it does not exist).
    pub fn lookup_table_addresses(&self, table: &Pubkey) -> Vec<Pubkey> {
        let data = self.account_data(table).unwrap_or_default();
        data.get(LOOKUP_TABLE_META_SIZE..)
            .unwrap_or_default()
            .chunks_exact(32)
            .map(|k| Pubkey::new_from_array(k.try_into().expect("32 bytes")))
            .collect()
    }

    /// Creates a lookup table (under a new authority, paid by `payer`), extends it
    /// with `addresses`, and moves to the next slot, where they become usable.
    pub fn create_lookup_table(&mut self, payer: &Keypair, addresses: &[Pubkey]) -> AddressLookupTableAccount {
        // The table's address derives from a slot the SlotHashes sysvar lists (its
        // newest entry: u64 count, then (u64 slot, 32-byte hash) pairs).
        let slot_hashes = self.account_data(&SLOT_HASHES).expect("the SlotHashes sysvar");
        let recent_slot = u64::from_le_bytes(slot_hashes[8..16].try_into().expect("an entry"));
        let authority = Keypair::new();
        let (table, ixs) = lookup_table_ixs(&payer.pubkey(), &authority.pubkey(), recent_slot, addresses);
        self.send(&ixs, &[payer, &authority]).unwrap_or_else(|e| panic!("create the lookup table: {}", e.error));
        // Addresses added in a slot can be looked up from the next one on.
        let slot = self.clock().slot;
        self.svm.warp_to_slot(slot + 1);
        assert_eq!(self.lookup_table_addresses(&table.key), addresses, "the table holds the addresses");
        table
    }

    fn submit(&mut self, tx: VersionedTransaction) -> TxResult {
        let keys = self.account_keys(&tx.message);
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
}

impl Ledger for SvmLedger {
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let payer = signers[0].pubkey();
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer), signers, self.svm.latest_blockhash());
        self.submit(tx.into())
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

    fn current_slot(&self) -> u64 {
        self.clock().slot
    }

    fn wait_until_slot(&mut self, slot: u64) {
        if self.clock().slot < slot {
            self.svm.warp_to_slot(slot);
        }
    }
}
