//! Batch markets (ADR 8): once a batch has closed, the crank publishes its secret
//! from the keypers' shares on chain, opens its orders, clears it and executes it,
//! or voids it at its reveal timeout. One transaction a step. Stateless like
//! settlement: the auction and keyper set accounts are the only state, and the
//! program refuses a stale step (its cursor or phase moved), which is a lost race.
//! Blocking (RPC over HTTP); the service runs it on tokio's blocking pool.
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solex::state::{BatchHeader, BatchStatus, RecordStatus, MAX_DECRYPT};
use solex_sdk::accounts::decode;
use solex_sdk::auction::{self as ax, AuctionKeys, AuctionState, KeyperSetState};
use solex_sdk::instructions::{self as ix, MarketKeys};
use solex_sdk::rpc::RpcClient;
use solex_sdk::{Market, Pubkey, SolexError};

use crate::config::Config;
use crate::settle::{price, StepError};

/// Sealed orders whose trader accounts one `execute_batch` passes (its transaction
/// must fit 1,232 bytes: 16 accounts of 32 bytes besides the step's own).
const TRADERS_PER_EXECUTE: usize = 16;
/// The compute a batch step may use: opening 64 orders costs ~600k.
const STEP_UNITS: u32 = 1_400_000;

#[derive(Debug, PartialEq, Eq)]
pub enum BatchOutcome {
    /// No batch waits for processing (or the market is continuous).
    Idle,
    /// A closed batch waits for its keypers' shares.
    WaitingForKey { batch: u64 },
    /// One step landed (`action`: its instructions' names).
    Stepped { action: &'static str, compute_units: u64 },
    /// Another crank took the step first.
    Raced { reason: &'static str },
}

/// The oldest batch of `state` with work left.
fn oldest(state: &AuctionState) -> Option<BatchHeader> {
    state.auction.batches.iter().filter(|h| h.unfinished()).min_by_key(|h| h.batch_id).copied()
}

/// The instructions of the next step of the oldest unfinished batch, and its name.
pub fn next_step(
    keys: &AuctionKeys,
    state: &AuctionState,
    set: &KeyperSetState,
    slot: u64,
) -> Result<Option<(Vec<Instruction>, &'static str)>, BatchOutcome> {
    let Some(h) = oldest(state) else { return Err(BatchOutcome::Idle) };
    let b = h.batch_id;
    let records = state.batch(b).map(|(_, r)| r).unwrap_or_default();
    // Opening the rest of the batch in this step, and clearing it with it when it fits.
    let open_from = |cursor: u32| {
        let mut ixs = vec![ax::decrypt_batch(keys, b, cursor, MAX_DECRYPT)];
        if h.count - cursor <= MAX_DECRYPT as u32 {
            ixs.push(ax::clear_batch(keys, b));
        }
        ixs
    };
    Ok(Some(match h.status() {
        BatchStatus::Free => return Err(BatchOutcome::Idle),
        BatchStatus::Collecting if slot < h.close_slot => return Err(BatchOutcome::Idle),
        BatchStatus::Collecting => {
            let entry = set.round(h.key_round);
            if entry.is_some_and(|e| e.released_secret(h.key_round).is_some()) {
                (open_from(0), "decrypt_batch")
            } else if let Some(secret) = entry.and_then(|e| ax::combine_posted(&set.set, e).ok()) {
                let mut ixs = vec![ax::publish_secret(keys.keyper_set, h.key_round, secret)];
                ixs.extend(open_from(0));
                (ixs, "publish_secret")
            } else if slot >= h.close_slot.saturating_add(state.auction.reveal_timeout_slots) {
                (vec![ax::void_batch(keys, b)], "void_batch")
            } else {
                return Err(BatchOutcome::WaitingForKey { batch: b });
            }
        }
        BatchStatus::Decrypting if h.cursor < h.count => (open_from(h.cursor), "decrypt_batch"),
        BatchStatus::Decrypting => (vec![ax::clear_batch(keys, b)], "clear_batch"),
        BatchStatus::Executing => {
            let mut traders: Vec<Pubkey> = Vec::new();
            for r in records[h.cursor as usize..]
                .iter()
                .filter(|r| !matches!(r.status(), RecordStatus::Cancelled | RecordStatus::Done))
            {
                if !traders.contains(&r.trader) {
                    if traders.len() == TRADERS_PER_EXECUTE {
                        break;
                    }
                    traders.push(r.trader);
                }
            }
            (vec![ax::execute_batch(keys, b, h.cursor, solex_sdk::MAX_BATCH, &traders)], "execute_batch")
        }
    }))
}

/// Reads the market's auction and keyper set and sends the next step of its oldest
/// unfinished batch, if one is due.
pub fn advance(rpc: &RpcClient, payer: &Keypair, market_key: &Pubkey, cfg: &Config) -> Result<BatchOutcome, StepError> {
    let data = rpc.account(market_key)?.ok_or(StepError::MarketGone)?.data;
    let market: Market = decode(&data).map_err(|e| StepError::Decode(e.to_string()))?;
    if !market.is_batch() {
        return Ok(BatchOutcome::Idle);
    }
    let auction = rpc.account(&market.auction)?.ok_or(StepError::MarketGone)?.data;
    let state = AuctionState::decode(&auction).map_err(|e| StepError::Decode(e.to_string()))?;
    let keys = AuctionKeys {
        market: MarketKeys::from_market(*market_key, &market),
        auction: market.auction,
        keyper_set: state.auction.keyper_set,
    };
    let set_data = rpc.account(&keys.keyper_set)?.ok_or(StepError::MarketGone)?.data;
    let set = KeyperSetState::decode(&set_data).map_err(|e| StepError::Decode(e.to_string()))?;
    let slot = rpc.slot()?;
    let (step, action) = match next_step(&keys, &state, &set, slot) {
        Ok(Some(step)) => step,
        Ok(None) => return Ok(BatchOutcome::Idle),
        Err(outcome) => return Ok(outcome),
    };
    let mut ixs = ix::compute_budget(STEP_UNITS, price(cfg, Vec::new()));
    ixs.extend(step);
    match rpc.submit(&ixs, &[payer])? {
        Ok(landed) => Ok(BatchOutcome::Stepped { action, compute_units: landed.compute_units }),
        Err(rejected) => classify(rejected.solex_error(), &rejected.describe()),
    }
}

/// A refusal that means another crank (or a keyper) took the step first is a race.
fn classify(error: Option<SolexError>, describe: &str) -> Result<BatchOutcome, StepError> {
    use SolexError::*;
    let reason = match error {
        Some(CursorMismatch) => "cursor_moved",
        Some(WrongBatchPhase | BatchNotFound | BatchOutOfOrder) => "phase_moved",
        Some(SecretAlreadyPublished) => "secret_published",
        Some(NothingToExecute) => "nothing_to_execute",
        _ => return Err(StepError::Program(describe.to_string())),
    };
    Ok(BatchOutcome::Raced { reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_steps_are_races_and_other_refusals_are_errors() {
        for (e, reason) in [
            (SolexError::CursorMismatch, "cursor_moved"),
            (SolexError::WrongBatchPhase, "phase_moved"),
            (SolexError::BatchNotFound, "phase_moved"),
            (SolexError::SecretAlreadyPublished, "secret_published"),
            (SolexError::NothingToExecute, "nothing_to_execute"),
        ] {
            assert!(matches!(classify(Some(e), ""), Ok(BatchOutcome::Raced { reason: r }) if r == reason), "{e:?}");
        }
        assert!(matches!(classify(Some(SolexError::WrongSecret), "x"), Err(StepError::Program(_))));
        assert!(matches!(classify(None, "x"), Err(StepError::Program(_))));
    }
}
