//! Signing, sending and confirming a transaction, and reading back what it did:
//! its events, or the program error that rejected it. Shared by the CLI and the tests.
use anchor_lang::solana_program::instruction::Instruction;
use base64::Engine;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::events::SolexEvent;
use crate::rpc::{custom_code, transaction_events, RpcClient, RpcError};

/// A transaction that landed.
#[derive(Debug, Clone)]
pub struct Landed {
    pub signature: String,
    pub compute_units: u64,
    pub events: Vec<SolexEvent>,
    pub return_data: Vec<u8>,
    pub logs: Vec<String>,
}

/// A transaction the chain rejected.
#[derive(Debug, Clone, thiserror::Error)]
#[error("transaction failed: {error} (custom code {custom_code:?})")]
pub struct Rejected {
    pub error: String,
    /// `Custom(n)` instruction error, when the program returned one.
    pub custom_code: Option<u32>,
    pub logs: Vec<String>,
}

impl Rejected {
    /// The Solex error behind it, when the program returned one of its own codes.
    pub fn solex_error(&self) -> Option<crate::SolexError> {
        self.custom_code.and_then(crate::errors::solex_error)
    }

    /// For people: "WouldCross (6012): ..." when it is a Solex error, else the raw error.
    pub fn describe(&self) -> String {
        match self.custom_code {
            Some(code) => crate::errors::describe(code),
            None => self.error.clone(),
        }
    }
}

pub type TxResult = Result<Landed, Rejected>;

fn logs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|l| l.as_str().map(String::from)).collect()).unwrap_or_default()
}

impl Rejected {
    /// The chain's rejection inside an RPC error, when preflight simulation refused
    /// the transaction (nothing was paid); `None` for any other failure.
    pub fn from_preflight(e: &RpcError) -> Option<Rejected> {
        e.preflight_error()?;
        let RpcError::Rpc { message, data, .. } = e else { return None };
        Some(Rejected {
            custom_code: custom_code(&data["err"]),
            error: format!("{message}: {}", data["err"]),
            logs: logs(&data["logs"]),
        })
    }
}

impl RpcClient {
    /// Signs with `signers` (the first pays), sends with preflight, waits for this
    /// client's commitment, and reads the transaction back. `Err` is a transport or
    /// RPC failure; `Ok(Err(_))` is the chain rejecting the transaction (in
    /// preflight, so nothing was paid, or on chain).
    pub fn submit(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult, RpcError> {
        let payer = signers[0].pubkey();
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer), signers, self.latest_blockhash()?);
        self.relay(&tx)
    }

    /// Sends a transaction someone else signed (a wallet), waits for this client's
    /// commitment, and reads it back, as `submit` does.
    pub fn relay(&self, tx: &Transaction) -> Result<TxResult, RpcError> {
        let signature = match self.send_transaction(tx) {
            Ok(sig) => sig,
            Err(e) => return Rejected::from_preflight(&e).map(Err).ok_or(e),
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
