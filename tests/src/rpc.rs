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
}
