//! A small blocking JSON-RPC client for the validator: only the calls the tests
//! make, with transactions confirmed before they are reported.
use std::str::FromStr;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use base64::Engine;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::ledger::{custom_code, events_from_inner, Landed, Ledger, Rejected, TxResult};

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("transport: {0}")]
    Transport(String),
    #[error("rpc error {code}: {message}")]
    Rpc { code: i64, message: String, data: Value },
}

#[derive(Debug, Clone)]
pub struct RpcAccount {
    pub lamports: u64,
    pub owner: Pubkey,
    pub data: Vec<u8>,
}

pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
    /// How long to wait for a transaction to reach `confirmed`.
    pub confirm_timeout: Duration,
}

impl RpcClient {
    pub fn new(url: impl Into<String>) -> Self {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        Self { url: url.into(), agent, confirm_timeout: Duration::from_secs(60) }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp: Value = self
            .agent
            .post(&self.url)
            .send_json(body)
            .map_err(|e| RpcError::Transport(e.to_string()))?
            .into_json()
            .map_err(|e| RpcError::Transport(e.to_string()))?;
        if let Some(err) = resp.get("error") {
            return Err(RpcError::Rpc {
                code: err["code"].as_i64().unwrap_or_default(),
                message: err["message"].as_str().unwrap_or_default().to_string(),
                data: err.get("data").cloned().unwrap_or(Value::Null),
            });
        }
        Ok(resp["result"].clone())
    }

    pub fn healthy(&self) -> bool {
        matches!(self.call("getHealth", json!([])), Ok(v) if v == "ok")
    }

    pub fn latest_blockhash(&self) -> Result<solana_hash::Hash, RpcError> {
        let v = self.call("getLatestBlockhash", json!([{"commitment": "confirmed"}]))?;
        let s = v["value"]["blockhash"].as_str().ok_or_else(|| RpcError::Transport("no blockhash".into()))?;
        solana_hash::Hash::from_str(s).map_err(|e| RpcError::Transport(e.to_string()))
    }

    /// An account as getAccountInfo returns it (at `confirmed`).
    pub fn account(&self, key: &Pubkey) -> Result<Option<RpcAccount>, RpcError> {
        let v =
            self.call("getAccountInfo", json!([key.to_string(), {"encoding": "base64", "commitment": "confirmed"}]))?;
        let value = &v["value"];
        if value.is_null() {
            return Ok(None);
        }
        let data = base64::engine::general_purpose::STANDARD
            .decode(value["data"][0].as_str().unwrap_or_default())
            .map_err(|e| RpcError::Transport(e.to_string()))?;
        let owner = value["owner"].as_str().and_then(|o| Pubkey::from_str(o).ok()).unwrap_or_default();
        Ok(Some(RpcAccount { lamports: value["lamports"].as_u64().unwrap_or_default(), owner, data }))
    }

    /// Waits until `signature` is confirmed; returns its error, if it failed.
    pub fn confirm(&self, signature: &str) -> Result<Option<Value>, RpcError> {
        let start = Instant::now();
        loop {
            let v = self.call("getSignatureStatuses", json!([[signature]]))?;
            let st = &v["value"][0];
            if !st.is_null() && matches!(st["confirmationStatus"].as_str(), Some("confirmed" | "finalized")) {
                return Ok(if st["err"].is_null() { None } else { Some(st["err"].clone()) });
            }
            if start.elapsed() > self.confirm_timeout {
                return Err(RpcError::Transport(format!("{signature} not confirmed in {:?}", self.confirm_timeout)));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), RpcError> {
        let sig = self.call("requestAirdrop", json!([to.to_string(), lamports]))?;
        let sig = sig.as_str().unwrap_or_default().to_string();
        match self.confirm(&sig)? {
            None => Ok(()),
            Some(err) => Err(RpcError::Transport(format!("airdrop failed: {err}"))),
        }
    }

    fn transaction_details(&self, signature: &str) -> Result<Value, RpcError> {
        // A confirmed transaction can take a moment to become readable.
        for _ in 0..50 {
            let v = self.call(
                "getTransaction",
                json!([signature, {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}]),
            )?;
            if !v.is_null() {
                return Ok(v);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(RpcError::Transport(format!("transaction {signature} not readable")))
    }

    fn logs(v: &Value) -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|l| l.as_str().map(String::from)).collect()).unwrap_or_default()
    }

    /// Signs, sends (with preflight), confirms and reads back one transaction.
    pub fn submit(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxResult, RpcError> {
        let payer = signers[0].pubkey();
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer), signers, self.latest_blockhash()?);
        let wire = base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).expect("serialize tx"));
        let sent =
            self.call("sendTransaction", json!([wire, {"encoding": "base64", "preflightCommitment": "confirmed"}]));
        let signature = match sent {
            Ok(sig) => sig.as_str().unwrap_or_default().to_string(),
            // Preflight simulation rejected it: nothing was submitted.
            Err(RpcError::Rpc { message, data, .. }) if !data["err"].is_null() => {
                let error = format!("{message}: {}", data["err"]);
                return Ok(Err(Rejected {
                    custom_code: custom_code_json(&data["err"]),
                    error,
                    logs: Self::logs(&data["logs"]),
                }));
            }
            Err(e) => return Err(e),
        };
        let failed = self.confirm(&signature)?;
        let details = self.transaction_details(&signature)?;
        let meta = &details["meta"];
        let logs = Self::logs(&meta["logMessages"]);
        if let Some(err) = failed {
            return Ok(Err(Rejected { custom_code: custom_code_json(&err), error: err.to_string(), logs }));
        }
        let keys: Vec<Pubkey> = details["transaction"]["message"]["accountKeys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().and_then(|s| Pubkey::from_str(s).ok()))
            .collect();
        let inner = meta["innerInstructions"].as_array().into_iter().flatten().flat_map(|set| {
            set["instructions"].as_array().cloned().unwrap_or_default().into_iter().map(|i| {
                let program = i["programIdIndex"].as_u64().unwrap_or(u64::MAX) as u8;
                let data = bs58::decode(i["data"].as_str().unwrap_or_default()).into_vec().unwrap_or_default();
                (program, data)
            })
        });
        let return_data = meta["returnData"]["data"][0]
            .as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            .unwrap_or_default();
        Ok(Ok(Landed {
            signature,
            compute_units: meta["computeUnitsConsumed"].as_u64().unwrap_or_default(),
            events: events_from_inner(&keys, inner.collect::<Vec<_>>()),
            return_data,
            logs,
        }))
    }
}

/// `{"InstructionError":[i,{"Custom":n}]}` -> n.
fn custom_code_json(err: &Value) -> Option<u32> {
    err["InstructionError"][1]["Custom"].as_u64().map(|c| c as u32).or_else(|| custom_code(&err.to_string()))
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
        RpcClient::airdrop(self, to, lamports).expect("airdrop")
    }
}
