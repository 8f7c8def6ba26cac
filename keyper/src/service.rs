//! The keyper's loop. Every `poll_ms` it reads the chain and does, in order:
//!
//! 1. **Release**: for each round a batch waits for (the batch has orders and its
//!    close is at or before the latest *confirmed* slot), post this keyper's share
//!    if the chain lacks it; then, if enough shares are on chain, publish the secret.
//! 2. **Register**: attest, on chain, the keys it holds for future rounds the ring
//!    can take and it has not attested yet.
//! 3. **Generate**: run the DKG session for the first rounds (within the lead) it
//!    holds no key for, one session at a time, exchanging messages with its peers.
//!
//! The chain and its state directory are its only state: a restarted keyper resumes
//! its session from disk, and finds what it registered and posted on chain.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use solana_keypair::Keypair;
use solana_signer::Signer;
use solex::state::RoundKeyStatus;
use solex::RoundKeyData;
use solex_sdk::auction as ax;
use solex_sdk::service::{serve_http, Shutdown};

use crate::chain::{Chain, View};
use crate::config::Config;
use crate::dkg::{DkgError, Session, SessionId};
use crate::peers::{self, Active, Served};
use crate::store::{Store, StoredKey};

/// Rounds a session must still have ahead of the first registrable one to be started.
const SCHEDULE_MARGIN_ROUNDS: u64 = 4;

/// A session that makes no progress for this long is dropped and started afresh
/// (a member restarted without its state, or equivocated).
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// On shutdown, how long the peer API's requests in flight may take (each is one quick read).
const DRAIN: Duration = Duration::from_secs(5);

struct Keyper {
    cfg: Config,
    identity: Arc<Keypair>,
    chain: Chain,
    store: Store,
    active: Active,
    health: Arc<Mutex<serde_json::Value>>,
    /// The key shares held, as on disk (read once, then kept in step with it).
    keys: Option<BTreeMap<u64, StoredKey>>,
    /// When the active session last moved.
    progress: Instant,
    started: Instant,
}

/// The first round of the session holding `round`.
fn session_start(round: u64, size: u16) -> u64 {
    round - round % size as u64
}

impl Keyper {
    fn me(&self, view: &View) -> anyhow::Result<u16> {
        view.set.set.member_index(&self.identity.pubkey()).map(|i| i as u16).ok_or_else(|| {
            anyhow::anyhow!("{} is not a member of keyper set {}", self.identity.pubkey(), self.cfg.keyper_set)
        })
    }

    /// Rounds ahead this keyper keeps keys for: as many as the ring can hold.
    fn lead(&self, view: &View) -> u64 {
        let room = (view.set.set.capacity as u64).saturating_sub(view.set.set.retain_rounds + 2);
        self.cfg.lead_rounds.unwrap_or(room).min(room)
    }

    /// The first round a registration sent now can still take (the confirmed slot
    /// trails the slot it executes in by a little).
    fn first_registrable(view: &View) -> u64 {
        view.round() + 2
    }

    fn release(&self, view: &View, keys: &BTreeMap<u64, StoredKey>) -> anyhow::Result<()> {
        let me = self.me(view)?;
        for round in self.chain.rounds_awaited()? {
            if view.set.set.round_end(round) > view.slot {
                continue;
            }
            let Some(entry) = view.set.round(round) else { continue };
            let posted = entry.posted & (1 << me) != 0;
            if entry.status == RoundKeyStatus::Released as u8 || !entry.usable(round) {
                continue;
            }
            if !posted {
                let Some(key) = keys.get(&round) else {
                    tracing::warn!(round, "a batch waits for a round this keyper holds no share of");
                    continue;
                };
                let ix = ax::post_share(self.identity.pubkey(), self.cfg.keyper_set, round, key.signing_share);
                match self.chain.send(&self.identity, &[ix])? {
                    Ok(_) => {
                        metrics::counter!("solex_keyper_shares_posted_total").increment(1);
                        tracing::info!(round, "share released");
                    }
                    Err(r) => tracing::warn!(round, error = %r.describe(), "share refused"),
                }
            }
            if self.cfg.publish {
                let view = self.chain.view()?;
                if let Some(Ok(_)) = self.chain.publish_if_ready(&self.identity, &view, round)? {
                    tracing::info!(round, "secret published");
                }
            }
        }
        Ok(())
    }

    fn register(&self, view: &View, keys: &BTreeMap<u64, StoredKey>) -> anyhow::Result<()> {
        let me = self.me(view)?;
        let (first, last) = (Self::first_registrable(view), view.round() + self.lead(view));
        let due: Vec<&StoredKey> = keys
            .range(first..=last)
            .map(|(_, k)| k)
            .filter(|k| match view.set.round(k.round) {
                Some(e) => e.attested & (1 << me) == 0 && e.status != RoundKeyStatus::Disputed as u8,
                None => true,
            })
            .collect();
        let per_tx = solex_sdk::auction::keys_per_transaction(view.set.set.n as usize);
        // Consecutive rounds per transaction (the instruction takes a first round and a run).
        let mut run: Vec<&StoredKey> = Vec::new();
        let mut runs = Vec::new();
        for k in due {
            if run.last().is_some_and(|l| l.round + 1 != k.round) || run.len() == per_tx {
                runs.push(std::mem::take(&mut run));
            }
            run.push(k);
        }
        runs.push(run);
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let data = run
                .iter()
                .map(|k| Ok(RoundKeyData { group_key: k.group_key, verifying_shares: k.verifying_shares()? }))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let ix = ax::register_keys(self.identity.pubkey(), self.cfg.keyper_set, run[0].round, data);
            match self.chain.send(&self.identity, &[ix])? {
                Ok(_) => tracing::info!(first = run[0].round, count = run.len(), "keys registered"),
                Err(r) => tracing::warn!(first = run[0].round, error = %r.describe(), "registration refused"),
            }
        }
        Ok(())
    }

    /// The session to run: the first one, within the lead, with a round this keyper
    /// holds no key for, among those that still end a few rounds ahead (a session
    /// about to pass is not worth its messages).
    fn due_session(&self, view: &View, keys: &BTreeMap<u64, StoredKey>) -> Option<SessionId> {
        let size = self.cfg.session_rounds;
        let (first, last) = (Self::first_registrable(view) + SCHEDULE_MARGIN_ROUNDS, view.round() + self.lead(view));
        let mut start = session_start(first, size);
        while start <= last {
            let rounds = start.max(first)..(start + size as u64).min(last + 1);
            if rounds.clone().any(|r| !keys.contains_key(&r)) {
                return Some(SessionId { keyper_set: self.cfg.keyper_set, first_round: start, rounds: size });
            }
            start += size as u64;
        }
        None
    }

    /// Moves the DKG on by what the peers have published; stores the keys when it
    /// finishes. The session's lock is never held while a peer is asked (the peers
    /// ask us at the same time).
    fn generate(&mut self, view: &View, keys: &BTreeMap<u64, StoredKey>) -> anyhow::Result<()> {
        let me = self.me(view)?;
        let members = view.set.set.members().to_vec();
        let threshold = view.set.set.threshold as u16;
        let due = self.due_session(view, keys);
        let (id, missing1) = {
            let mut sessions = self.active.lock().expect("session lock");
            let active = &mut sessions.active;
            // Drop a session that is no longer due (its rounds passed or are held) or stalled.
            let stalled = self.progress.elapsed() > SESSION_TIMEOUT;
            if active.as_ref().is_some_and(|s| Some(s.id) != due || stalled) {
                let old = active.take().expect("checked").id;
                self.store.forget_session(old.first_round)?;
                tracing::warn!(first_round = old.first_round, stalled, "session dropped");
            }
            let Some(id) = due else { return Ok(()) };
            if active.is_none() {
                let session = match self.store.session(id.first_round)? {
                    Some(saved) if saved.mine.session == id && saved.mine.from == me => {
                        tracing::info!(first_round = id.first_round, "resuming the session from disk");
                        Session::resume(saved, members.clone(), threshold)?
                    }
                    _ => {
                        let s = Session::start(id, me, members.clone(), threshold, &self.identity)?;
                        // Kept before it is served: a restart must not publish a second round 1.
                        self.store.save_session(&s.saved())?;
                        tracing::info!(first_round = id.first_round, rounds = id.rounds, "session started");
                        s
                    }
                };
                *active = Some(session);
                self.progress = Instant::now();
            }
            (id, active.as_ref().expect("set above").missing_round1())
        };
        let peer = |i: u16| self.cfg.peers.iter().find(|(p, _)| *p == i).map(|(_, url)| url.clone());
        let fetched1: Vec<_> = missing1
            .iter()
            .filter_map(|&i| match peers::fetch_round1(&peer(i)?, id.first_round) {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(member = i, error = %e, "peer unreachable");
                    None
                }
            })
            .collect();
        let mut moved = false;
        let missing2 = {
            let mut sessions = self.active.lock().expect("session lock");
            let active = &mut sessions.active;
            let Some(session) = active.as_mut().filter(|s| s.id == id) else { return Ok(()) };
            for m in fetched1 {
                match session.accept_round1(m) {
                    Ok(()) => moved = true,
                    Err(DkgError::Equivocation(i)) => {
                        // The member restarted without its state: everyone starts over.
                        tracing::warn!(member = i, "member published another round 1; restarting the session");
                        *active = None;
                        self.store.forget_session(id.first_round)?;
                        return Ok(());
                    }
                    Err(e) => tracing::warn!(error = %e, "round-1 message refused"),
                }
            }
            if !session.missing_round1().is_empty() {
                if moved {
                    self.progress = Instant::now();
                }
                return Ok(());
            }
            // Our round 2 is computed once round 1 is complete, for the peers to fetch.
            for to in (0..members.len() as u16).filter(|t| *t != me) {
                session.round2_for(to, &self.identity)?;
            }
            session.missing_round2()
        };
        let fetched2: Vec<_> = missing2
            .iter()
            .filter_map(|&i| match peers::fetch_round2(&peer(i)?, id.first_round, me) {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(member = i, error = %e, "peer unreachable");
                    None
                }
            })
            .collect();
        let mut sessions = self.active.lock().expect("session lock");
        let Some(session) = sessions.active.as_mut().filter(|s| s.id == id) else { return Ok(()) };
        for m in fetched2 {
            match session.accept_round2(m) {
                Ok(()) => moved = true,
                Err(e) => tracing::warn!(error = %e, "round-2 message refused"),
            }
        }
        if moved {
            self.progress = Instant::now();
        }
        let generated = Instant::now();
        if let Some(keys) = session.finish()? {
            let stored: Vec<StoredKey> = keys.iter().map(|k| StoredKey::from_keys(k, members.len() as u16)).collect();
            metrics::histogram!("solex_keyper_part3_seconds_per_key")
                .record(generated.elapsed().as_secs_f64() / stored.len().max(1) as f64);
            self.store.save_keys(id.first_round, &stored)?;
            if let Some(held) = self.keys.as_mut() {
                held.extend(stored.iter().map(|k| (k.round, k.clone())));
            }
            metrics::counter!("solex_keyper_keys_generated_total").increment(stored.len() as u64);
            tracing::info!(first_round = id.first_round, rounds = stored.len(), "session finished: keys stored");
            sessions.finish_active();
        }
        Ok(())
    }

    /// One pass of the loop.
    fn tick(&mut self) -> anyhow::Result<()> {
        let view = self.chain.view()?;
        if self.keys.is_none() {
            self.keys = Some(self.store.keys()?);
        }
        let keys = self.keys.clone().unwrap_or_default();
        self.release(&view, &keys)?;
        self.register(&view, &keys)?;
        let dkg_start = Instant::now();
        self.generate(&view, &keys)?;
        metrics::histogram!("solex_keyper_tick_seconds").record(dkg_start.elapsed().as_secs_f64());
        // Keys registered ahead: usable rounds from the next one on, without a gap.
        let round = view.round();
        let ahead = (round + 1..round + 1 + view.set.set.capacity as u64)
            .take_while(|r| view.set.round(*r).is_some_and(|e| e.usable(*r)))
            .count();
        let held = keys.range(round + 1..).count();
        metrics::gauge!("solex_keyper_keys_ahead").set(ahead as f64);
        metrics::gauge!("solex_keyper_keys_held").set(held as f64);
        metrics::gauge!("solex_keyper_round").set(round as f64);
        *self.health.lock().expect("health lock") = serde_json::json!({
            "keyper": self.identity.pubkey().to_string(),
            "keyper_set": self.cfg.keyper_set.to_string(),
            "round": round,
            "keys_ahead": ahead,
            "keys_held": held,
            "session": self.active.lock().expect("session lock").active.as_ref().map(|s| s.id.first_round),
            "uptime_s": self.started.elapsed().as_secs(),
        });
        // Shares of rounds past the ring (their batches long settled or voided) go, hourly-ish.
        if round > view.set.set.capacity as u64 && round % 256 == 0 {
            let before = round - view.set.set.capacity as u64;
            if self.store.prune(before)? > 0 {
                self.keys = None;
            }
        }
        Ok(())
    }
}

/// Serves the peer API and runs the loop until `shutdown` fires; a pass in progress
/// finishes first.
pub async fn run(cfg: Config, identity: Keypair, shutdown: Shutdown) -> anyhow::Result<()> {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let identity = Arc::new(identity);
    let active: Active = Arc::new(Mutex::new(Default::default()));
    let health = Arc::new(Mutex::new(serde_json::json!({"starting": true})));
    let served = Served { active: active.clone(), identity: identity.clone(), metrics, health: health.clone() };
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    tracing::info!(listen = %cfg.listen, keyper = %identity.pubkey(), keyper_set = %cfg.keyper_set, "keyper serving");
    let server = tokio::spawn(serve_http(listener, peers::router(served), shutdown.clone(), DRAIN));
    let keyper = Keyper {
        chain: Chain::new(&cfg.rpc_url, cfg.keyper_set),
        store: Store::open(&cfg.state_dir)?,
        cfg,
        identity,
        active,
        health,
        keys: None,
        progress: Instant::now(),
        started: Instant::now(),
    };
    let poll = Duration::from_millis(keyper.cfg.poll_ms);
    let keyper = Arc::new(Mutex::new(keyper));
    while !shutdown.is_triggered() {
        let k = keyper.clone();
        let result = tokio::task::spawn_blocking(move || k.lock().expect("keyper lock").tick()).await?;
        if let Err(e) = result {
            metrics::counter!("solex_keyper_errors_total").increment(1);
            tracing::warn!(error = %e, "keyper pass failed; retrying");
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.triggered() => {}
        }
    }
    server.await??;
    tracing::info!("stopped");
    Ok(())
}
