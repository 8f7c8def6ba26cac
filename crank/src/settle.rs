//! One settlement step for one market: read its fill queue, send one
//! `consume_events` for the events at its head, and wait for the outcome.
//! Blocking (RPC over HTTP); the service runs it on tokio's blocking pool.
use std::time::{Duration, Instant};

use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solex_sdk::accounts::{decode, decode_boxed};
use solex_sdk::instructions::{self as ix, MarketKeys};
use solex_sdk::rpc::{custom_code, RpcClient, RpcError, Status};
use solex_sdk::{FillQueue, Market, Pubkey, SolexError};

use crate::config::Config;

/// Fixed cost and per-event cost of `consume_events`, from `cargo cu-table`
/// (6.2k + 1.1k per fill, measured) with headroom for makers' slot scans.
const CU_BASE: u32 = 12_000;
const CU_PER_EVENT: u32 = 2_500;
/// The base fee per signature.
const SIGNATURE_FEE: u64 = 5_000;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The queue was empty.
    Idle,
    /// `settled` events consumed in a confirmed transaction.
    Settled { settled: u64, depth_before: u64, compute_units: u64, fee: u64 },
    /// Someone else consumed first (the program refused ours: no double settlement).
    /// `fee`: 0 when preflight refused it (nothing sent), else what the landed
    /// transaction paid (the signature fee and its priority fee).
    Raced { reason: &'static str, fee: u64 },
    /// The transaction did not confirm in time (e.g. its blockhash expired); retried with a fresh one.
    Unconfirmed,
}

/// The market's fill queue, and its decoded market account, read at our commitment.
pub fn read_queue(rpc: &RpcClient, market: &Pubkey) -> Result<(MarketKeys, Box<FillQueue>), StepError> {
    let data = rpc.account(market)?.ok_or(StepError::MarketGone)?.data;
    let m: Market = decode(&data).map_err(|e| StepError::Decode(e.to_string()))?;
    let keys = MarketKeys::from_market(*market, &m);
    let queue = rpc.account(&keys.fill_queue)?.ok_or(StepError::MarketGone)?.data;
    let queue: Box<FillQueue> = decode_boxed(&queue).map_err(|e| StepError::Decode(e.to_string()))?;
    Ok((keys, queue))
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("rpc: {0}")]
    Rpc(#[from] RpcError),
    #[error("market or fill queue account not found")]
    MarketGone,
    #[error("decode: {0}")]
    Decode(String),
    /// The program rejected the transaction for a reason other than a race.
    #[error("program: {0}")]
    Program(String),
}

impl StepError {
    /// A short label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            StepError::Rpc(RpcError::Transport(_)) => "rpc_transport",
            StepError::Rpc(RpcError::Rpc { .. }) => "rpc_error",
            StepError::MarketGone => "market_gone",
            StepError::Decode(_) => "decode",
            StepError::Program(_) => "program_error",
        }
    }
}

/// The consume_events instruction for the queue's head: up to `batch` events whose
/// makers fit in `max_makers` distinct accounts. Also returns the event count.
pub fn consume_ix(keys: &MarketKeys, queue: &FillQueue, batch: u8, max_makers: usize) -> (Instruction, u8) {
    let mut makers: Vec<Pubkey> = Vec::new();
    let mut n = 0u8;
    for e in queue.pending().take(batch as usize) {
        if !makers.contains(&e.maker) {
            if makers.len() == max_makers {
                break;
            }
            makers.push(e.maker);
        }
        n += 1;
    }
    (ix::consume_events(keys, &makers, queue.head_seq, n), n)
}

/// Reads the queue and, if it has events, settles a batch. Races with other cranks
/// are cheap: a stale transaction fails preflight simulation and is never submitted.
pub fn step(rpc: &RpcClient, payer: &Keypair, market: &Pubkey, cfg: &Config) -> Result<Outcome, StepError> {
    let (keys, queue) = read_queue(rpc, market)?;
    if queue.count == 0 {
        return Ok(Outcome::Idle);
    }
    let depth_before = queue.count;
    let (consume, n) = consume_ix(&keys, &queue, cfg.batch, cfg.max_makers);
    let units = CU_BASE + CU_PER_EVENT * n as u32;
    let recent = match cfg.priority_fee_percentile {
        Some(_) => rpc.recent_prioritization_fees(&[keys.market, keys.fill_queue])?,
        None => Vec::new(),
    };
    let price = price(cfg, recent);
    let landed_fee = SIGNATURE_FEE.saturating_add(u64::from(units).saturating_mul(price).div_ceil(1_000_000));
    let mut ixs = ix::compute_budget(units, price);
    ixs.push(consume);
    // A fresh blockhash for every attempt: a resend after expiry is a new transaction.
    let tx = Transaction::new_signed_with_payer(&ixs, Some(&payer.pubkey()), &[payer], rpc.latest_blockhash()?);
    let signature = match rpc.send_transaction(&tx) {
        Ok(sig) => sig,
        Err(e) => {
            if let Some(err) = e.preflight_error() {
                return classify(err);
            }
            return Err(e.into());
        }
    };
    let start = Instant::now();
    loop {
        match rpc.signature_status(&signature)? {
            Status::Succeeded => break,
            Status::Failed(err) => {
                return classify(&err).map(|o| match o {
                    Outcome::Raced { reason, .. } => Outcome::Raced { reason, fee: landed_fee },
                    other => other,
                })
            }
            Status::Pending if start.elapsed() > Duration::from_millis(cfg.confirm_timeout_ms) => {
                return Ok(Outcome::Unconfirmed);
            }
            Status::Pending => std::thread::sleep(Duration::from_millis(150)),
        }
    }
    let details = rpc.transaction(&signature)?;
    let compute_units = details["meta"]["computeUnitsConsumed"].as_u64().unwrap_or_default();
    let fee = details["meta"]["fee"].as_u64().unwrap_or(SIGNATURE_FEE);
    Ok(Outcome::Settled { settled: n as u64, depth_before, compute_units, fee })
}

/// A rejection that means another crank got there first is a race, not a failure.
fn classify(err: &serde_json::Value) -> Result<Outcome, StepError> {
    let code = custom_code(err);
    if code == Some(u32::from(SolexError::QueueHeadMismatch)) {
        return Ok(Outcome::Raced { reason: "queue_head_moved", fee: 0 });
    }
    if code == Some(u32::from(SolexError::NothingToConsume)) {
        return Ok(Outcome::Raced { reason: "nothing_to_consume", fee: 0 });
    }
    Err(StepError::Program(match code {
        Some(c) => solex_sdk::errors::describe(c),
        None => err.to_string(),
    }))
}

/// The priority fee (micro-lamports per compute unit) the configured policy pays,
/// given the fees `recent`ly paid on the market's accounts.
pub fn price(cfg: &Config, recent: Vec<u64>) -> u64 {
    match cfg.priority_fee_percentile {
        None => cfg.priority_fee_micro_lamports,
        Some(p) => priority_fee(recent, p, cfg.priority_fee_max_micro_lamports),
    }
}

/// The `percentile` of recently paid fees, capped at `cap` (no data: 0).
pub fn priority_fee(mut recent: Vec<u64>, percentile: u8, cap: u64) -> u64 {
    if recent.is_empty() {
        return 0;
    }
    recent.sort_unstable();
    let at = ((recent.len() - 1) * percentile.min(100) as usize).div_ceil(100);
    recent[at].min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_fee_follows_the_percentile_up_to_the_cap() {
        let fees = vec![0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(priority_fee(fees.clone(), 50, u64::MAX), 50);
        assert_eq!(priority_fee(fees.clone(), 90, u64::MAX), 90);
        assert_eq!(priority_fee(fees.clone(), 100, 75), 75);
        assert_eq!(priority_fee(fees, 0, 75), 0);
        assert_eq!(priority_fee(vec![], 75, 1_000), 0);
    }

    /// With only a percentile configured (no fixed fee, which used to double as the
    /// cap), the crank pays that percentile, not 0.
    #[test]
    fn a_percentile_policy_without_a_fixed_fee_pays_the_percentile() {
        let args = crate::config::Args {
            keypair: Some("k.json".into()),
            authorities: vec!["11111111111111111111111111111112".into()],
            priority_fee_percentile: Some(75),
            ..Default::default()
        };
        let cfg = Config::load(args).unwrap();
        let recent = vec![1_000, 2_000, 3_000, 4_000, 5_000];
        assert_eq!(price(&cfg, recent), 4_000);
        // Bounded all the same: a market's traders cannot make the crank pay without limit.
        assert_eq!(price(&cfg, vec![u64::MAX]), crate::config::DEFAULT_PRIORITY_FEE_CAP);
        let fixed = Config { priority_fee_percentile: None, priority_fee_micro_lamports: 7, ..cfg };
        assert_eq!(price(&fixed, vec![4_000]), 7);
    }
}
