//! The service: one task per market, each settling its fill queue whenever it is
//! not empty, with backoff on RPC faults and after lost races, and a clean stop on
//! shutdown.
//!
//! Discovery (no markets named) is bounded: anyone can create a market and fill its
//! queue, and the crank pays every `consume_events` it sends. It cranks the markets
//! whose authority is listed in `authorities`; others only while the fees spent on
//! all of them together stay within `unlisted_budget_lamports` per rolling hour, and
//! at most `max_unlisted_markets` of them (default budget 0: never).
//!
//! Nothing is kept between runs: the queue head on chain is the only state, so a
//! restarted crank resumes exactly where the last confirmed `consume_events` left it.
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::Discriminator;
use solana_keypair::Keypair;
use solex_sdk::rpc::RpcClient;
use solex_sdk::wake::Subscription;
use solex_sdk::{Market, Pubkey};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::batch::BatchOutcome;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::settle::{step, Outcome};

const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The first wait after a lost race, doubled on each further race in a row up to
/// `RACE_BACKOFF_MAX`.
pub const RACE_BACKOFF_BASE: Duration = Duration::from_millis(50);
pub const RACE_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// The window of the unlisted markets' fee budget.
pub const BUDGET_WINDOW: Duration = Duration::from_secs(3600);

/// Waits after lost races: exponential from `RACE_BACKOFF_BASE` to at most
/// `RACE_BACKOFF_MAX`, each a random point of the upper half of its step ("equal
/// jitter"), so that cranks which collided drift apart instead of colliding again
/// at once. Reset by any other outcome.
#[derive(Debug, Clone)]
pub struct RaceBackoff {
    streak: u32,
    rng: u64,
}

impl RaceBackoff {
    pub fn new(seed: u64) -> Self {
        Self { streak: 0, rng: seed | 1 }
    }

    /// A seed that differs between markets, processes and runs.
    pub fn seeded_for(market: &Pubkey) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let key = u64::from_le_bytes(market.to_bytes()[..8].try_into().expect("8 bytes"));
        Self::new(key ^ nanos as u64 ^ u64::from(std::process::id()).rotate_left(32))
    }

    /// The wait after one more lost race.
    pub fn next_wait(&mut self) -> Duration {
        let step = RACE_BACKOFF_BASE.saturating_mul(1 << self.streak.min(16)).min(RACE_BACKOFF_MAX);
        self.streak = self.streak.saturating_add(1);
        // xorshift64: jitter needs no cryptographic quality.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = step / 2;
        half + Duration::from_nanos(self.rng % (half.as_nanos() as u64 + 1))
    }

    pub fn reset(&mut self) {
        self.streak = 0;
    }
}

/// How long a market's task waits after a step's outcome before its next step.
pub fn wait_after(outcome: &Outcome, poll: Duration, races: &mut RaceBackoff) -> Duration {
    match outcome {
        Outcome::Raced { .. } => return races.next_wait(),
        Outcome::Idle => {
            races.reset();
            return poll;
        }
        // More may be queued: go on at once. An unconfirmed transaction already
        // waited out its confirmation timeout and is resent with a fresh blockhash.
        Outcome::Settled { .. } | Outcome::Unconfirmed => {}
    }
    races.reset();
    Duration::ZERO
}

/// Fees spent in a rolling window, against a limit.
#[derive(Debug)]
pub struct FeeBudget {
    limit: u64,
    window: Duration,
    spent: VecDeque<(Instant, u64)>,
}

impl FeeBudget {
    pub fn new(limit: u64, window: Duration) -> Self {
        Self { limit, window, spent: VecDeque::new() }
    }

    /// Lamports spent within the window ending at `now`.
    pub fn spent(&mut self, now: Instant) -> u64 {
        while self.spent.front().is_some_and(|(at, _)| now.duration_since(*at) >= self.window) {
            self.spent.pop_front();
        }
        self.spent.iter().map(|(_, fee)| fee).sum()
    }

    /// None when another transaction may be paid for now; else how long until
    /// enough of the window's spending has aged out to try again.
    pub fn wait(&mut self, now: Instant) -> Option<Duration> {
        if self.spent(now) < self.limit {
            return None;
        }
        let oldest = self.spent.front().map_or(now, |(at, _)| *at);
        Some((oldest + self.window).saturating_duration_since(now).max(Duration::from_millis(1)))
    }

    pub fn record(&mut self, now: Instant, lamports: u64) {
        self.spent.push_back((now, lamports));
    }
}

/// Which of the discovered markets (address, authority) not cranked yet to take on,
/// given how many unlisted markets are already cranked: every market of a listed
/// authority (`true`), and unlisted ones (`false`) only with a budget for them and
/// up to `max_unlisted_markets`.
pub fn admit(cfg: &Config, found: &[(Pubkey, Pubkey)], unlisted_running: usize) -> Vec<(Pubkey, bool)> {
    let mut room =
        if cfg.unlisted_budget_lamports == 0 { 0 } else { cfg.max_unlisted_markets.saturating_sub(unlisted_running) };
    let mut admitted = Vec::new();
    for (market, authority) in found {
        if cfg.authorities.contains(authority) {
            admitted.push((*market, true));
        } else if room > 0 {
            room -= 1;
            admitted.push((*market, false));
        }
    }
    admitted
}

struct Shared {
    cfg: Config,
    rpc: RpcClient,
    payer: Keypair,
    metrics: Metrics,
    /// Bounds how many markets have a step in flight at once.
    slots: Semaphore,
    /// What unlisted discovered markets may cost, together.
    unlisted_budget: Mutex<FeeBudget>,
}

/// Sleeps for `d` or until `wake` fires; returns false when shutdown is requested.
async fn pause(shutdown: &mut watch::Receiver<bool>, d: Duration, wake: Option<&Notify>) -> bool {
    let woken = async {
        match wake {
            Some(n) => n.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::time::sleep(d) => !*shutdown.borrow(),
        _ = woken => !*shutdown.borrow(),
        _ = shutdown.changed() => false,
    }
}

async fn crank_market(
    shared: Arc<Shared>,
    market: Pubkey,
    budgeted: bool,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(shared.cfg.poll_ms);
    let mut backoff = poll;
    let mut races = RaceBackoff::seeded_for(&market);
    let mut pending_since: Option<u64> = None;
    tracing::info!(%market, budgeted, "cranking market");
    while !*shutdown.borrow() {
        if budgeted {
            let wait = shared.unlisted_budget.lock().expect("budget lock").wait(Instant::now());
            if let Some(wait) = wait {
                tracing::debug!(%market, wait_ms = wait.as_millis() as u64, "unlisted markets' fee budget spent");
                if !pause(&mut shutdown, wait.min(MAX_BACKOFF), None).await {
                    break;
                }
                continue;
            }
        }
        let permit = shared.slots.acquire().await.expect("semaphore open");
        // The step runs to completion even if shutdown arrives meanwhile: in-flight work finishes.
        let s = shared.clone();
        let (batch, result) = tokio::task::spawn_blocking(move || {
            // A batch market's closed batch first: its execution queues makers' fills.
            let batch = crate::batch::advance(&s.rpc, &s.payer, &market, &s.cfg);
            let outcome = step(&s.rpc, &s.payer, &market, &s.cfg);
            let slot = s.rpc.slot().ok();
            (batch, (outcome, slot))
        })
        .await
        .expect("settlement step panicked");
        drop(permit);
        let m = &shared.metrics;
        let batch_stepped = match batch {
            Ok(BatchOutcome::Stepped { action, compute_units }) => {
                m.transaction("confirmed", action);
                tracing::info!(%market, action, compute_units, "batch step");
                true
            }
            Ok(BatchOutcome::Raced { reason }) => {
                m.transaction("failed", reason);
                true
            }
            Ok(BatchOutcome::WaitingForKey { batch }) => {
                tracing::debug!(%market, batch, "batch closed; waiting for its keypers' shares");
                false
            }
            Ok(BatchOutcome::Idle) => false,
            Err(e) => {
                m.transaction("failed", e.reason());
                tracing::warn!(%market, error = %e, "batch step failed");
                false
            }
        };
        let next = match result {
            (Ok(outcome), slot) => {
                m.rpc_ok(true);
                backoff = poll;
                let next = wait_after(&outcome, poll, &mut races);
                match outcome {
                    Outcome::Idle => {
                        pending_since = None;
                        m.market_idle(&market);
                    }
                    Outcome::Settled { settled, depth_before, compute_units, fee } => {
                        let since = *pending_since.get_or_insert(slot.unwrap_or_default());
                        m.transaction("confirmed", "consume_events");
                        m.fee(fee);
                        if budgeted {
                            shared.unlisted_budget.lock().expect("budget lock").record(Instant::now(), fee);
                        }
                        let lag = slot.unwrap_or_default().saturating_sub(since);
                        m.market_settled(&market, settled, depth_before - settled, compute_units, lag);
                        if depth_before == settled {
                            pending_since = None;
                        }
                        tracing::info!(%market, settled, remaining = depth_before - settled, compute_units, "settled");
                    }
                    Outcome::Raced { reason, fee } => {
                        m.transaction("failed", reason);
                        m.fee(fee);
                        if budgeted && fee > 0 {
                            shared.unlisted_budget.lock().expect("budget lock").record(Instant::now(), fee);
                        }
                        let wait_ms = next.as_millis() as u64;
                        tracing::debug!(%market, reason, wait_ms, "another crank settled first");
                    }
                    Outcome::Unconfirmed => {
                        m.transaction("failed", "unconfirmed");
                        tracing::warn!(%market, "transaction not confirmed in time; retrying with a fresh blockhash");
                    }
                }
                next
            }
            (Err(e), _) => {
                m.rpc_ok(!matches!(e, crate::settle::StepError::Rpc(_)));
                m.transaction("failed", e.reason());
                tracing::warn!(%market, error = %e, backoff_ms = backoff.as_millis() as u64, "settlement step failed");
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            }
        };
        // A batch step may have more to do at once.
        let next = if batch_stepped { Duration::ZERO } else { next };
        // Idle waits end early when the websocket reports a queue change; backoff waits do not.
        let wake = (next == poll).then_some(&*wake);
        if !next.is_zero() && !pause(&mut shutdown, next, wake).await {
            break;
        }
    }
    tracing::info!(%market, "stopped");
}

/// The fill queue a market names.
fn fill_queue_of(rpc: &RpcClient, market: &Pubkey) -> anyhow::Result<Pubkey> {
    let data = rpc.account(market)?.ok_or_else(|| anyhow::anyhow!("market {market} not found"))?.data;
    let m: Market = solex_sdk::accounts::decode(&data)?;
    Ok(m.fill_queue)
}

/// Every market of the program (accounts with the `Market` discriminator), with its authority.
fn discover(rpc: &RpcClient) -> anyhow::Result<Vec<(Pubkey, Pubkey)>> {
    Ok(rpc
        .program_accounts(&solex::ID, Market::DISCRIMINATOR)?
        .into_iter()
        .filter_map(|(k, a)| Some((k, solex_sdk::accounts::decode::<Market>(&a.data).ok()?.authority)))
        .collect())
}

/// Runs until `shutdown` turns true, then waits for in-flight steps to finish.
pub async fn run(
    cfg: Config,
    payer: Keypair,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut rpc = RpcClient::new(cfg.rpc_url.clone());
    rpc.commitment = cfg.commitment.clone();
    rpc.confirm_timeout = Duration::from_millis(cfg.confirm_timeout_ms);
    let slots = Semaphore::new(cfg.concurrency);
    let unlisted_budget = Mutex::new(FeeBudget::new(cfg.unlisted_budget_lamports, BUDGET_WINDOW));
    let shared = Arc::new(Shared { cfg, rpc, payer, metrics, slots, unlisted_budget });
    // Each market's task, and whether it is an unlisted (budgeted) one.
    let mut tasks: HashMap<Pubkey, (JoinHandle<()>, bool)> = HashMap::new();
    // Each market's fill queue and wake-up; the watcher is restarted when markets are added.
    let mut queues: Vec<(Pubkey, Arc<Notify>)> = Vec::new();
    let mut watcher: Option<(watch::Sender<bool>, JoinHandle<()>)> = None;
    let rediscover = Duration::from_millis(shared.cfg.rediscover_ms);
    // Discovered markets not taken on, as last reported.
    let mut skipped_before = 0;
    loop {
        let markets = if shared.cfg.markets.is_empty() {
            let s = shared.clone();
            match tokio::task::spawn_blocking(move || discover(&s.rpc)).await? {
                Ok(found) => {
                    let new: Vec<_> = found.into_iter().filter(|(m, _)| !tasks.contains_key(m)).collect();
                    let unlisted_running = tasks.values().filter(|(_, budgeted)| *budgeted).count();
                    let admitted = admit(&shared.cfg, &new, unlisted_running);
                    let skipped = new.len() - admitted.len();
                    if skipped != skipped_before {
                        tracing::info!(
                            skipped,
                            "markets of unlisted authorities left alone (beyond unlisted_budget_lamports and \
                             max_unlisted_markets); list their authority in `authorities` to crank them"
                        );
                        skipped_before = skipped;
                    }
                    admitted
                }
                Err(e) => {
                    shared.metrics.rpc_ok(false);
                    tracing::warn!(error = %e, "market discovery failed; retrying");
                    Vec::new()
                }
            }
        } else {
            shared.cfg.markets.iter().map(|m| (*m, true)).collect()
        };
        let mut added = false;
        for (market, listed) in markets {
            if tasks.contains_key(&market) {
                continue;
            }
            let s = shared.clone();
            let queue = match tokio::task::spawn_blocking(move || fill_queue_of(&s.rpc, &market)).await? {
                Ok(q) => q,
                Err(e) => {
                    tracing::warn!(%market, error = %e, "cannot read the market yet; retrying at the next discovery");
                    continue;
                }
            };
            let wake = Arc::new(Notify::new());
            queues.push((queue, wake.clone()));
            let task = crank_market(shared.clone(), market, !listed, wake, shutdown.clone());
            tasks.insert(market, (tokio::spawn(task), !listed));
            added = true;
        }
        if let (true, Some(url)) = (added, &shared.cfg.ws_url) {
            if let Some((stop, handle)) = watcher.take() {
                let _ = stop.send(true);
                let _ = handle.await;
            }
            let (stop, rx) = watch::channel(false);
            let subs = queues
                .iter()
                .map(|(queue, wake)| Subscription {
                    method: "accountSubscribe",
                    params: serde_json::json!([queue.to_string(), {"encoding": "base64", "commitment": shared.cfg.commitment}]),
                    wake: wake.clone(),
                })
                .collect();
            let metrics = shared.metrics.clone();
            let watch_task = solex_sdk::wake::run(url.clone(), subs, move |up| metrics.ws_connected(up), rx);
            watcher = Some((stop, tokio::spawn(watch_task)));
        }
        if !pause(&mut shutdown, rediscover, None).await {
            break;
        }
    }
    if let Some((stop, handle)) = watcher.take() {
        let _ = stop.send(true);
        let _ = handle.await;
    }
    tracing::info!("shutting down: waiting for in-flight settlements");
    for (_, (task, _)) in tasks {
        task.await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Args;

    fn config(authorities: &[Pubkey], budget: u64, max_unlisted: usize) -> Config {
        let args = Args {
            keypair: Some("k.json".into()),
            authorities: authorities.iter().map(|a| a.to_string()).collect(),
            unlisted_budget_lamports: Some(budget),
            ..Args::default()
        };
        Config { max_unlisted_markets: max_unlisted, ..Config::load(args).unwrap() }
    }

    #[test]
    fn discovery_cranks_listed_authorities_markets_and_others_only_within_a_budget() {
        let (ours, theirs) = (Pubkey::new_unique(), Pubkey::new_unique());
        let found: Vec<(Pubkey, Pubkey)> =
            vec![(Pubkey::new_unique(), ours), (Pubkey::new_unique(), theirs), (Pubkey::new_unique(), theirs)];
        // The default: an attacker's markets are not cranked at all.
        assert_eq!(admit(&config(&[ours], 0, 16), &found, 0), vec![(found[0].0, true)]);
        // With a budget, up to max_unlisted_markets of them, budgeted (false).
        let cfg = config(&[ours], 1_000_000, 1);
        assert_eq!(admit(&cfg, &found, 0), vec![(found[0].0, true), (found[1].0, false)]);
        assert_eq!(admit(&cfg, &found[1..], 1), vec![], "the unlisted slots are taken");
        assert_eq!(admit(&config(&[], 1, 16), &found, 0).len(), 3);
    }

    #[test]
    fn the_unlisted_fee_budget_is_spent_within_a_rolling_window() {
        let start = Instant::now();
        let mut b = FeeBudget::new(10_000, BUDGET_WINDOW);
        assert_eq!(b.wait(start), None);
        b.record(start, 6_000);
        assert_eq!(b.wait(start), None, "4,000 left");
        b.record(start + Duration::from_secs(600), 5_000);
        let later = start + Duration::from_secs(601);
        assert_eq!(b.spent(later), 11_000);
        assert_eq!(b.wait(later), Some(BUDGET_WINDOW - Duration::from_secs(601)), "until the first fee ages out");
        assert_eq!(b.wait(start + BUDGET_WINDOW), None, "the first fee has aged out");
        assert_eq!(b.spent(start + BUDGET_WINDOW), 5_000);
        assert_eq!(FeeBudget::new(0, BUDGET_WINDOW).wait(start).map(|d| d > Duration::ZERO), Some(true));
    }

    #[test]
    fn lost_races_back_off_exponentially_with_jitter_within_a_bound() {
        let raced = Outcome::Raced { reason: "queue_head_moved", fee: 0 };
        let poll = Duration::from_millis(400);
        let mut races = RaceBackoff::new(42);
        let waits: Vec<Duration> = (0..12).map(|_| wait_after(&raced, poll, &mut races)).collect();
        assert!(waits[0] >= RACE_BACKOFF_BASE / 2 && waits[0] <= RACE_BACKOFF_BASE, "{waits:?}");
        for (i, w) in waits.iter().enumerate() {
            let step = RACE_BACKOFF_BASE.saturating_mul(1 << i).min(RACE_BACKOFF_MAX);
            assert!(*w >= step / 2 && *w <= step, "race {i}: {w:?} not in [{:?}, {step:?}]", step / 2);
        }
        assert!(waits[11] >= RACE_BACKOFF_MAX / 2, "it grows to the bound: {waits:?}");
        // Jitter: two cranks that collided do not wait the same.
        let mut other = RaceBackoff::new(7);
        let theirs: Vec<Duration> = (0..12).map(|_| wait_after(&raced, poll, &mut other)).collect();
        assert_ne!(waits, theirs);
        // Any other outcome resets it; settling goes on at once, an idle queue polls.
        let settled = Outcome::Settled { settled: 1, depth_before: 2, compute_units: 0, fee: 5_000 };
        assert_eq!(wait_after(&settled, poll, &mut races), Duration::ZERO);
        assert!(wait_after(&raced, poll, &mut races) <= RACE_BACKOFF_BASE);
        assert_eq!(wait_after(&Outcome::Idle, poll, &mut races), poll);
    }
}
