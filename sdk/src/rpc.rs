//! A small blocking Solana JSON-RPC client: the calls the crank, the indexer and
//! the tests make, nothing more. Blocking on purpose (one `ureq` agent with
//! keep-alive); async services call it from `spawn_blocking`.
use std::str::FromStr;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use serde_json::{json, Value};
use solana_transaction::Transaction;

/// A local validator's JSON-RPC address, the default of every Solex tool.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8899";

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The node could not be reached or answered with something that is not JSON-RPC.
    #[error("transport: {0}")]
    Transport(String),
    #[error("rpc error {code}: {message}")]
    Rpc { code: i64, message: String, data: Value },
}

impl RpcError {
    /// A preflight simulation failure (the transaction was not submitted): its error.
    pub fn preflight_error(&self) -> Option<&Value> {
        match self {
            RpcError::Rpc { data, .. } if !data["err"].is_null() => Some(&data["err"]),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RpcAccount {
    pub lamports: u64,
    pub owner: Pubkey,
    pub data: Vec<u8>,
}

/// A transaction that touched an address, as getSignaturesForAddress lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    pub signature: String,
    pub slot: u64,
    pub failed: bool,
}

/// The outcome of a submitted transaction once it reached the wanted commitment.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Pending,
    Succeeded,
    Failed(Value),
}

/// `{"InstructionError":[i,{"Custom":n}]}` -> n.
pub fn custom_code(err: &Value) -> Option<u32> {
    if let Some(c) = err["InstructionError"][1]["Custom"].as_u64() {
        return Some(c as u32);
    }
    let text = err.to_string();
    let at = text.find("Custom\":")? + "Custom\":".len();
    text[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
    /// `processed`, `confirmed` or `finalized`: reads and confirmations use it.
    pub commitment: String,
    /// How long `confirm` waits.
    pub confirm_timeout: Duration,
}

impl RpcClient {
    pub fn new(url: impl Into<String>) -> Self {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        Self { url: url.into(), agent, commitment: "confirmed".into(), confirm_timeout: Duration::from_secs(60) }
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

    pub fn slot(&self) -> Result<u64, RpcError> {
        let v = self.call("getSlot", json!([{"commitment": self.commitment}]))?;
        v.as_u64().ok_or_else(|| RpcError::Transport("getSlot: not a number".into()))
    }

    /// Lamports that make an account of `len` bytes rent-exempt.
    pub fn rent_exempt(&self, len: usize) -> Result<u64, RpcError> {
        let v = self.call("getMinimumBalanceForRentExemption", json!([len]))?;
        v.as_u64().ok_or_else(|| RpcError::Transport("getMinimumBalanceForRentExemption: not a number".into()))
    }

    /// The newest slot the cluster has finalized (whatever this client's commitment).
    pub fn finalized_slot(&self) -> Result<u64, RpcError> {
        let v = self.call("getSlot", json!([{"commitment": "finalized"}]))?;
        v.as_u64().ok_or_else(|| RpcError::Transport("getSlot: not a number".into()))
    }

    /// Each signature's confirmation status ("processed", "confirmed" or
    /// "finalized"), searching the whole history; None where the cluster does not
    /// know the transaction (it was dropped, or never landed).
    pub fn confirmation_statuses(&self, signatures: &[String]) -> Result<Vec<Option<String>>, RpcError> {
        let v = self.call("getSignatureStatuses", json!([signatures, {"searchTransactionHistory": true}]))?;
        let values =
            v["value"].as_array().ok_or_else(|| RpcError::Transport("getSignatureStatuses: no value".into()))?;
        Ok(values.iter().map(|st| st["confirmationStatus"].as_str().map(String::from)).collect())
    }

    pub fn latest_blockhash(&self) -> Result<solana_hash::Hash, RpcError> {
        let v = self.call("getLatestBlockhash", json!([{"commitment": self.commitment}]))?;
        let s = v["value"]["blockhash"].as_str().ok_or_else(|| RpcError::Transport("no blockhash".into()))?;
        solana_hash::Hash::from_str(s).map_err(|e| RpcError::Transport(e.to_string()))
    }

    fn decode_account(value: &Value) -> Result<RpcAccount, RpcError> {
        let data = base64::engine::general_purpose::STANDARD
            .decode(value["data"][0].as_str().unwrap_or_default())
            .map_err(|e| RpcError::Transport(e.to_string()))?;
        let owner = value["owner"].as_str().and_then(|o| Pubkey::from_str(o).ok()).unwrap_or_default();
        Ok(RpcAccount { lamports: value["lamports"].as_u64().unwrap_or_default(), owner, data })
    }

    /// An account as getAccountInfo returns it.
    pub fn account(&self, key: &Pubkey) -> Result<Option<RpcAccount>, RpcError> {
        let v = self
            .call("getAccountInfo", json!([key.to_string(), {"encoding": "base64", "commitment": self.commitment}]))?;
        if v["value"].is_null() {
            return Ok(None);
        }
        Self::decode_account(&v["value"]).map(Some)
    }

    /// An account's owner and at most `len` bytes of its data (getAccountInfo with a
    /// data slice: whatever the account's size, no more than `len` bytes cross the wire).
    pub fn account_prefix(&self, key: &Pubkey, len: usize) -> Result<Option<RpcAccount>, RpcError> {
        let v = self.call(
            "getAccountInfo",
            json!([key.to_string(), {"encoding": "base64", "commitment": self.commitment,
                "dataSlice": {"offset": 0, "length": len}}]),
        )?;
        if v["value"].is_null() {
            return Ok(None);
        }
        Self::decode_account(&v["value"]).map(Some)
    }

    /// The owners of `keys`, read without their data (a zero-length slice), in one
    /// getMultipleAccounts; None where an account is missing.
    pub fn owners(&self, keys: &[Pubkey]) -> Result<Vec<Option<Pubkey>>, RpcError> {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let v = self.call(
            "getMultipleAccounts",
            json!([keys, {"encoding": "base64", "commitment": self.commitment, "dataSlice": {"offset": 0, "length": 0}}]),
        )?;
        let values =
            v["value"].as_array().ok_or_else(|| RpcError::Transport("getMultipleAccounts: no value".into()))?;
        Ok(values.iter().map(|a| a["owner"].as_str().and_then(|o| Pubkey::from_str(o).ok())).collect())
    }

    /// Several accounts read at one slot (so they are consistent with each other),
    /// and that slot.
    pub fn multiple_accounts(&self, keys: &[Pubkey]) -> Result<(u64, Vec<Option<RpcAccount>>), RpcError> {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        let v =
            self.call("getMultipleAccounts", json!([keys, {"encoding": "base64", "commitment": self.commitment}]))?;
        let slot = v["context"]["slot"].as_u64().unwrap_or_default();
        let accounts = v["value"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| if a.is_null() { Ok(None) } else { Self::decode_account(a).map(Some) })
            .collect::<Result<_, _>>()?;
        Ok((slot, accounts))
    }

    /// Accounts owned by `program` whose data starts with `prefix` (a discriminator).
    pub fn program_accounts(&self, program: &Pubkey, prefix: &[u8]) -> Result<Vec<(Pubkey, RpcAccount)>, RpcError> {
        self.program_accounts_matching(program, &[(0, prefix)], None)
    }

    /// Accounts owned by `program` whose data holds each `(offset, bytes)`; only
    /// `slice` (offset, length) of each account's data when given.
    pub fn program_accounts_matching(
        &self,
        program: &Pubkey,
        matching: &[(usize, &[u8])],
        slice: Option<(usize, usize)>,
    ) -> Result<Vec<(Pubkey, RpcAccount)>, RpcError> {
        let filters: Vec<Value> = matching
            .iter()
            .map(|(offset, bytes)| json!({"memcmp": {"offset": offset, "bytes": bs58::encode(bytes).into_string()}}))
            .collect();
        let mut config = json!({"encoding": "base64", "commitment": self.commitment, "filters": filters});
        if let Some((offset, length)) = slice {
            config["dataSlice"] = json!({"offset": offset, "length": length});
        }
        let v = self.call("getProgramAccounts", json!([program.to_string(), config]))?;
        v.as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let key = item["pubkey"]
                    .as_str()
                    .and_then(|k| Pubkey::from_str(k).ok())
                    .ok_or_else(|| RpcError::Transport("getProgramAccounts: bad pubkey".into()))?;
                Ok((key, Self::decode_account(&item["account"])?))
            })
            .collect()
    }

    /// Sends a signed transaction (preflight at our commitment); returns its signature.
    /// A preflight failure comes back as `RpcError::Rpc` with `preflight_error()`.
    pub fn send_transaction(&self, tx: &Transaction) -> Result<String, RpcError> {
        let wire = base64::engine::general_purpose::STANDARD.encode(bincode::serialize(tx).expect("serialize tx"));
        let sig = self
            .call("sendTransaction", json!([wire, {"encoding": "base64", "preflightCommitment": self.commitment}]))?;
        Ok(sig.as_str().unwrap_or_default().to_string())
    }

    /// Where `signature` stands at our commitment.
    pub fn signature_status(&self, signature: &str) -> Result<Status, RpcError> {
        let v = self.call("getSignatureStatuses", json!([[signature]]))?;
        let st = &v["value"][0];
        let reached = matches!(
            (st["confirmationStatus"].as_str(), self.commitment.as_str()),
            (Some("finalized"), _) | (Some("confirmed"), "confirmed" | "processed") | (Some("processed"), "processed")
        );
        Ok(match (st.is_null() || !reached, st["err"].is_null()) {
            (true, _) => Status::Pending,
            (false, true) => Status::Succeeded,
            (false, false) => Status::Failed(st["err"].clone()),
        })
    }

    /// Waits until `signature` reaches our commitment; returns its error, if it failed.
    pub fn confirm(&self, signature: &str) -> Result<Option<Value>, RpcError> {
        let start = Instant::now();
        loop {
            match self.signature_status(signature)? {
                Status::Succeeded => return Ok(None),
                Status::Failed(err) => return Ok(Some(err)),
                Status::Pending => {}
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

    /// A transaction as getTransaction returns it (JSON encoding), retried briefly:
    /// a confirmed transaction can take a moment to become readable.
    pub fn transaction(&self, signature: &str) -> Result<Value, RpcError> {
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

    /// Priority fees (micro-lamports per compute unit) paid in recent slots by
    /// transactions that wrote any of `accounts`, one value per slot.
    pub fn recent_prioritization_fees(&self, accounts: &[Pubkey]) -> Result<Vec<u64>, RpcError> {
        let keys: Vec<String> = accounts.iter().map(|k| k.to_string()).collect();
        let v = self.call("getRecentPrioritizationFees", json!([keys]))?;
        Ok(v.as_array().into_iter().flatten().filter_map(|f| f["prioritizationFee"].as_u64()).collect())
    }

    /// Signatures of transactions that touched `address`, newest first (up to 1,000).
    pub fn signatures_for(&self, address: &Pubkey) -> Result<Vec<String>, RpcError> {
        Ok(self.signature_page(address, None, None)?.into_iter().map(|s| s.signature).collect())
    }

    /// One page (up to 1,000) of `address`'s transactions, newest first, older than
    /// `before` and newer than `until` (both exclusive).
    pub fn signature_page(
        &self,
        address: &Pubkey,
        before: Option<&str>,
        until: Option<&str>,
    ) -> Result<Vec<SignatureInfo>, RpcError> {
        let mut opts = json!({"commitment": "confirmed", "limit": 1000});
        if let Some(b) = before {
            opts["before"] = json!(b);
        }
        if let Some(u) = until {
            opts["until"] = json!(u);
        }
        let v = self.call("getSignaturesForAddress", json!([address.to_string(), opts]))?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some(SignatureInfo {
                    signature: s["signature"].as_str()?.to_string(),
                    slot: s["slot"].as_u64()?,
                    failed: !s["err"].is_null(),
                })
            })
            .collect())
    }
}

/// The program's events in a transaction returned by `RpcClient::transaction`,
/// taken from its inner instructions (the program's `emit_cpi!` self-invocations).
pub fn transaction_events(details: &Value) -> Vec<crate::events::SolexEvent> {
    transaction_decoded_events(details).into_iter().map(|(event, _)| event).collect()
}

/// The raw data of the program's event self-invocations in a transaction, in order
/// (what `decode_event` reads); other inner instructions are left out.
pub fn transaction_event_data(details: &Value) -> Vec<Vec<u8>> {
    transaction_decoded_events(details).into_iter().map(|(_, data)| data).collect()
}

/// The program's events in a transaction, each decoded once and with the raw data
/// it was decoded from (what an indexer logs), in order.
pub fn transaction_decoded_events(details: &Value) -> Vec<(crate::events::SolexEvent, Vec<u8>)> {
    let inner = details["meta"]["innerInstructions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|set| set["instructions"].as_array().cloned().unwrap_or_default())
        .filter_map(|i| {
            let program = usize::try_from(i["programIdIndex"].as_u64()?).ok()?;
            Some((program, bs58::decode(i["data"].as_str()?).into_vec().ok()?))
        });
    decoded_events(&AccountKeys::of_transaction(details), inner)
}

/// A transaction's account keys in the order an instruction's `programIdIndex` (and
/// account indexes) count them: the message's static keys, then the addresses a v0
/// message loads from lookup tables, every table's writable ones first, then every
/// table's read-only ones. A program reached by CPI may be named by a loaded address
/// only, so resolving against the static keys alone loses its instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountKeys {
    pub static_keys: Vec<Pubkey>,
    pub loaded_writable: Vec<Pubkey>,
    pub loaded_readonly: Vec<Pubkey>,
}

impl AccountKeys {
    /// A legacy transaction's keys (it loads nothing).
    pub fn legacy(static_keys: Vec<Pubkey>) -> Self {
        Self { static_keys, ..Self::default() }
    }

    /// The keys of a transaction as getTransaction returns it (JSON encoding):
    /// `transaction.message.accountKeys`, then `meta.loadedAddresses`.
    pub fn of_transaction(details: &Value) -> Self {
        let keys = |v: &Value| -> Vec<Pubkey> {
            v.as_array().into_iter().flatten().filter_map(|k| Pubkey::from_str(k.as_str()?).ok()).collect()
        };
        let loaded = &details["meta"]["loadedAddresses"];
        Self {
            static_keys: keys(&details["transaction"]["message"]["accountKeys"]),
            loaded_writable: keys(&loaded["writable"]),
            loaded_readonly: keys(&loaded["readonly"]),
        }
    }

    /// The key at `index` of the combined list.
    pub fn get(&self, index: usize) -> Option<&Pubkey> {
        self.static_keys.iter().chain(&self.loaded_writable).chain(&self.loaded_readonly).nth(index)
    }

    pub fn len(&self) -> usize {
        self.static_keys.len() + self.loaded_writable.len() + self.loaded_readonly.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The data of the instructions in `inner` (program index, data) that invoke the
/// Solex program and decode as one of its events, in order: the one resolution of
/// events from inner instructions, for RPC transactions and LiteSVM alike.
pub fn event_data(keys: &AccountKeys, inner: impl IntoIterator<Item = (usize, Vec<u8>)>) -> Vec<Vec<u8>> {
    decoded_events(keys, inner).into_iter().map(|(_, data)| data).collect()
}

/// `event_data` with each event as decoded (once) on the way.
pub fn decoded_events(
    keys: &AccountKeys,
    inner: impl IntoIterator<Item = (usize, Vec<u8>)>,
) -> Vec<(crate::events::SolexEvent, Vec<u8>)> {
    inner
        .into_iter()
        .filter(|(program, _)| keys.get(*program) == Some(&solex::ID))
        .filter_map(|(_, data)| Some((crate::events::decode_event(&data).ok()?, data)))
        .collect()
}

#[cfg(test)]
mod event_resolution_tests {
    use super::*;

    fn event_ix_data(seq: u64) -> Vec<u8> {
        use anchor_lang::Event;
        let e = solex::events::MarketStatusChanged { market: Pubkey::new_from_array([7; 32]), seq, paused: true };
        [anchor_lang::event::EVENT_IX_TAG_LE, &e.data()].concat()
    }

    /// A v0 transaction as getTransaction returns it: a router (static key 1) whose
    /// CPI reaches Solex, which is named only by a lookup table's read-only address.
    fn routed_v0_transaction() -> Value {
        let payer = Pubkey::new_from_array([1; 32]);
        let router = Pubkey::new_from_array([2; 32]);
        let writable = Pubkey::new_from_array([3; 32]);
        let authority = Pubkey::new_from_array([4; 32]);
        let inner = |index: usize, seq: u64| {
            let data = bs58::encode(event_ix_data(seq)).into_string();
            json!({"programIdIndex": index, "accounts": [], "data": data})
        };
        json!({
            "transaction": {"message": {"accountKeys": [payer.to_string(), router.to_string()]}},
            "meta": {
                "loadedAddresses": {
                    "writable": [writable.to_string()],
                    "readonly": [authority.to_string(), solex::ID.to_string()],
                },
                // Index 4 = 2 static + 1 writable + the second read-only address.
                "innerInstructions": [{"index": 0, "instructions": [inner(4, 1), inner(3, 9), inner(4, 2)]}],
            }
        })
    }

    #[test]
    fn events_of_a_cpi_through_a_lookup_table_resolve_past_the_static_keys() {
        let details = routed_v0_transaction();
        let keys = AccountKeys::of_transaction(&details);
        assert_eq!((keys.static_keys.len(), keys.len()), (2, 5));
        assert_eq!(keys.get(4), Some(&solex::ID));
        assert_eq!(keys.get(5), None);
        let seqs: Vec<u64> = transaction_events(&details).iter().map(|e| e.seq()).collect();
        // The instruction at index 3 (the event authority, not the program) is left out.
        assert_eq!(seqs, vec![1, 2], "both routed events are found");
        // What resolving against the static keys alone (the old decoder) saw: nothing.
        assert!(event_data(&AccountKeys::legacy(keys.static_keys.clone()), [(4, event_ix_data(1))]).is_empty());
    }

    #[test]
    fn a_legacy_transaction_without_loaded_addresses_resolves_as_before() {
        let details = json!({
            "transaction": {"message": {"accountKeys": [Pubkey::new_unique().to_string(), solex::ID.to_string()]}},
            "meta": {"innerInstructions": [{"index": 0, "instructions": [
                {"programIdIndex": 1, "data": bs58::encode(event_ix_data(5)).into_string()},
                {"programIdIndex": 0, "data": bs58::encode(event_ix_data(6)).into_string()},
                {"programIdIndex": 1, "data": bs58::encode(b"not an event").into_string()},
            ]}]}
        });
        let seqs: Vec<u64> = transaction_events(&details).iter().map(|e| e.seq()).collect();
        assert_eq!(seqs, vec![5]);
    }
}
