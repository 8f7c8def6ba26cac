//! The validator as a [`Ledger`]: the SDK's JSON-RPC client, whose `submit` signs,
//! sends, confirms and reads back a transaction.
use std::ops::Deref;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
pub use solex_sdk::rpc::{RpcAccount, RpcError};

use crate::ledger::{Ledger, TxResult};

pub struct RpcClient(pub solex_sdk::rpc::RpcClient);

impl Deref for RpcClient {
    type Target = solex_sdk::rpc::RpcClient;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl RpcClient {
    pub fn new(url: impl Into<String>) -> Self {
        Self(solex_sdk::rpc::RpcClient::new(url))
    }
}

impl Ledger for RpcClient {
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        self.submit(ixs, signers).expect("RPC transport")
    }

    fn account_data(&self, key: &Pubkey) -> Option<Vec<u8>> {
        self.account(key).expect("getAccountInfo").map(|a| a.data)
    }

    fn lamports(&self, key: &Pubkey) -> u64 {
        self.account(key).expect("getAccountInfo").map_or(0, |a| a.lamports)
    }

    fn owner(&self, key: &Pubkey) -> Option<Pubkey> {
        self.account(key).expect("getAccountInfo").map(|a| a.owner)
    }

    fn rent_exempt(&self, len: usize) -> u64 {
        solex_sdk::rpc::RpcClient::rent_exempt(self, len).expect("getMinimumBalanceForRentExemption")
    }

    fn airdrop(&mut self, to: &Pubkey, lamports: u64) {
        solex_sdk::rpc::RpcClient::airdrop(self, to, lamports).expect("airdrop")
    }

    fn current_slot(&self) -> u64 {
        solex_sdk::rpc::RpcClient::slot(self).expect("getSlot")
    }

    fn wait_until_slot(&mut self, slot: u64) {
        while self.current_slot() < slot {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// Every fill sequence number settled on the market whose fill queue is `queue`,
/// counted from the `FillsConsumed` events of every successful transaction that
/// touched it: a fill settled exactly once appears with count 1.
pub fn settled_fill_seqs(chain: &RpcClient, queue: &Pubkey) -> std::collections::BTreeMap<u64, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for sig in chain.signatures_for(queue).expect("signatures of the fill queue") {
        let details = chain.transaction(&sig).expect("transaction");
        if !details["meta"]["err"].is_null() {
            continue;
        }
        for e in solex_sdk::rpc::transaction_events(&details) {
            if let solex_sdk::events::SolexEvent::FillsConsumed(c) = e {
                for s in c.settled {
                    *seen.entry(s.fill_seq).or_insert(0) += 1;
                }
            }
        }
    }
    seen
}
