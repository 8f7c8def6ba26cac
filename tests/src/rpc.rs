//! The validator as a [`Ledger`]: the SDK's JSON-RPC client plus `submit`, which
//! signs, sends, confirms and reads back a transaction the way tests want it.
use std::ops::Deref;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use base64::Engine;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solex_sdk::rpc::{custom_code, transaction_events};
pub use solex_sdk::rpc::{RpcAccount, RpcError};

use crate::ledger::{Landed, Ledger, Rejected, TxResult};

pub struct RpcClient(pub solex_sdk::rpc::RpcClient);

impl Deref for RpcClient {
    type Target = solex_sdk::rpc::RpcClient;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn logs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|l| l.as_str().map(String::from)).collect()).unwrap_or_default()
}

impl RpcClient {
    pub fn new(url: impl Into<String>) -> Self {
        Self(solex_sdk::rpc::RpcClient::new(url))
    }

    /// Signs, sends (with preflight), confirms and reads back one transaction.
    pub fn submit(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult, RpcError> {
        let payer = signers[0].pubkey();
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer), signers, self.latest_blockhash()?);
        let signature = match self.send_transaction(&tx) {
            Ok(sig) => sig,
            // Preflight simulation rejected it: nothing was submitted.
            Err(e @ RpcError::Rpc { .. }) if e.preflight_error().is_some() => {
                let RpcError::Rpc { message, data, .. } = &e else { unreachable!() };
                return Ok(Err(Rejected {
                    custom_code: custom_code(&data["err"]),
                    error: format!("{message}: {}", data["err"]),
                    logs: logs(&data["logs"]),
                }));
            }
            Err(e) => return Err(e),
        };
        let failed = self.confirm(&signature)?;
        let details = self.transaction(&signature)?;
        let meta = &details["meta"];
        let log_lines = logs(&meta["logMessages"]);
        if let Some(err) = failed {
            return Ok(Err(Rejected { custom_code: custom_code(&err), error: err.to_string(), logs: log_lines }));
        }
        let return_data = meta["returnData"]["data"][0]
            .as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            .unwrap_or_default();
        Ok(Ok(Landed {
            signature,
            compute_units: meta["computeUnitsConsumed"].as_u64().unwrap_or_default(),
            events: transaction_events(&details),
            return_data,
            logs: log_lines,
        }))
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
        self.call("getMinimumBalanceForRentExemption", json!([len])).expect("rent").as_u64().expect("rent is a number")
    }

    fn airdrop(&mut self, to: &Pubkey, lamports: u64) {
        solex_sdk::rpc::RpcClient::airdrop(self, to, lamports).expect("airdrop")
    }
}
