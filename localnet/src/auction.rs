//! Batch markets in tests and tools: a keyper committee, a batch market over it,
//! sealing on the client, and the steps the crank runs. The committee's keys here
//! come from FROST's trusted dealer (valid t-of-n keys in one process), which is what
//! a test of the program needs; the keyper service (`solex-keyper`) generates them
//! by a distributed key generation, where no process ever holds a secret.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use frost_ristretto255 as frost;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solex::state::{Auction, KeyperSet, RecordStatus};
use solex::{CreateAuctionArgs, CreateKeyperSetArgs, RoundKeyData};
use solex_sdk::auction::{self as ax, AuctionKeys, AuctionState, KeyperSetState, SealedOrder};
use solex_sdk::CreateMarketArgs;

use crate::ledger::{Landed, Ledger, TxResult};
use crate::scenario::{create_market_ixs, TestMarket, Wallet, TOKEN_PROGRAM};

/// One round's key as a dealer made it: the group key, each member's verifying
/// share and secret share.
#[derive(Clone, Debug)]
pub struct DealtKey {
    pub group_key: [u8; 32],
    pub verifying_shares: Vec<[u8; 32]>,
    pub shares: Vec<[u8; 32]>,
}

/// Keys for `n` members with threshold `t`, from FROST's trusted dealer.
pub fn deal(n: u16, t: u16) -> DealtKey {
    let (shares, public) =
        frost::keys::generate_with_dealer(n, t, frost::keys::IdentifierList::Default, rand_core::OsRng).expect("deal");
    let bytes = |v: Vec<u8>| -> [u8; 32] { v.try_into().expect("32 bytes") };
    let mut out = DealtKey {
        group_key: bytes(public.verifying_key().serialize().expect("group key")),
        verifying_shares: vec![],
        shares: vec![],
    };
    // Identifiers 1..=n in order: the BTreeMap iterates them so.
    for share in shares.into_values() {
        let kp = frost::keys::KeyPackage::try_from(share).expect("key package");
        out.verifying_shares.push(bytes(kp.verifying_share().serialize().expect("verifying share")));
        out.shares.push(bytes(kp.signing_share().serialize()));
    }
    out
}

pub struct Committee {
    pub members: Vec<Keypair>,
    pub threshold: u16,
    pub keyper_set: Pubkey,
    pub round_slots: u64,
    pub rounds: BTreeMap<u64, DealtKey>,
}

impl Committee {
    /// A keyper set of `n` new members, threshold `t`, rounds of `round_slots`, a
    /// ring of `capacity` keys keeping `retain_rounds` past rounds.
    pub fn create(
        ledger: &mut dyn Ledger,
        payer: &Keypair,
        n: usize,
        t: u8,
        round_slots: u64,
        retain_rounds: u64,
        capacity: u32,
    ) -> Self {
        let members: Vec<Keypair> = (0..n).map(|_| Keypair::new()).collect();
        for m in &members {
            ledger.airdrop(&m.pubkey(), 10_000_000_000);
        }
        let set = Keypair::new();
        let args = CreateKeyperSetArgs {
            members: members.iter().map(|m| m.pubkey()).collect(),
            threshold: t,
            round_slots,
            retain_rounds,
        };
        let lamports = ledger.rent_exempt(KeyperSet::space(capacity));
        let ixs = ax::create_keyper_set(payer.pubkey(), payer.pubkey(), set.pubkey(), capacity, lamports, args);
        ledger.send(&ixs, &[payer, &set]).expect("create keyper set");
        Self { members, threshold: t as u16, keyper_set: set.pubkey(), round_slots, rounds: BTreeMap::new() }
    }

    pub fn state(&self, ledger: &dyn Ledger) -> KeyperSetState {
        KeyperSetState::decode(&ledger.account_data(&self.keyper_set).expect("keyper set")).expect("decodes")
    }

    /// The round a slot is in.
    pub fn round_of(&self, slot: u64) -> u64 {
        slot / self.round_slots
    }

    /// Deals keys for `rounds` (those not dealt yet) and has members `by` register them.
    pub fn register(&mut self, ledger: &mut dyn Ledger, rounds: std::ops::Range<u64>, by: &[usize]) -> Vec<TxResult> {
        let n = self.members.len();
        for r in rounds.clone() {
            self.rounds.entry(r).or_insert_with(|| deal(n as u16, self.threshold));
        }
        let mut results = vec![];
        let all: Vec<u64> = rounds.collect();
        for chunk in all.chunks(ax::keys_per_transaction(n)) {
            let keys: Vec<RoundKeyData> = chunk
                .iter()
                .map(|r| {
                    let k = &self.rounds[r];
                    RoundKeyData { group_key: k.group_key, verifying_shares: k.verifying_shares.clone() }
                })
                .collect();
            for &m in by {
                let member = &self.members[m];
                let ix = ax::register_keys(member.pubkey(), self.keyper_set, chunk[0], keys.clone());
                results.push(ledger.send(&[ix], &[member]));
            }
        }
        results
    }

    /// Registers, by every member, keys for `ahead` rounds from the round after next
    /// (the next one may begin before the registrations land); returns that first round.
    pub fn register_ahead(&mut self, ledger: &mut dyn Ledger, ahead: u64) -> u64 {
        let first = self.round_of(ledger.current_slot()) + 2;
        let everyone: Vec<usize> = (0..self.members.len()).collect();
        for r in self.register(ledger, first..first + ahead, &everyone) {
            r.expect("register keys");
        }
        first
    }

    /// Members `by` post their shares of `round`.
    pub fn post_shares(&self, ledger: &mut dyn Ledger, round: u64, by: &[usize]) -> Vec<TxResult> {
        by.iter()
            .map(|&m| {
                let member = &self.members[m];
                let share = self.rounds[&round].shares[m];
                ledger.send(&[ax::post_share(member.pubkey(), self.keyper_set, round, share)], &[member])
            })
            .collect()
    }

    /// Combines the shares posted on chain for `round` and publishes the secret.
    pub fn publish(&self, ledger: &mut dyn Ledger, payer: &Keypair, round: u64) -> TxResult {
        let state = self.state(ledger);
        let entry = state.round(round).expect("the round is in the ring");
        let secret = ax::combine_posted(&state.set, entry).expect("enough valid shares");
        ledger.send(&[ax::publish_secret(self.keyper_set, round, secret)], &[payer])
    }

    /// Members `by` post their shares and the secret is published.
    pub fn release(&self, ledger: &mut dyn Ledger, payer: &Keypair, round: u64, by: &[usize]) {
        for r in self.post_shares(ledger, round, by) {
            r.expect("post share");
        }
        self.publish(ledger, payer, round).expect("publish secret");
    }
}

/// `ix` with the most compute a transaction may have: opening, clearing and
/// executing a batch cost more than the default 200k.
pub fn with_budget(ix: Instruction) -> Vec<Instruction> {
    let mut ixs = solex_sdk::instructions::compute_budget(1_400_000, 0);
    ixs.push(ix);
    ixs
}

/// A batch market: a `TestMarket` whose authority made it one, over a committee's keyper set.
pub struct TestAuction {
    pub m: TestMarket,
    pub keys: AuctionKeys,
}

impl TestAuction {
    /// Two new SPL mints, a market over them and its auction, created in one transaction.
    pub fn create(
        ledger: &mut dyn Ledger,
        committee: &Committee,
        args: CreateMarketArgs,
        auction: CreateAuctionArgs,
        capacity: u32,
    ) -> (Self, Landed) {
        let mint_authority = Keypair::new();
        ledger.airdrop(&mint_authority.pubkey(), 100_000_000_000);
        let base = crate::scenario::create_mint(ledger, &mint_authority, 9);
        let quote = crate::scenario::create_mint(ledger, &mint_authority, 6);
        let (market, [bids, asks, queue], mut ixs) =
            create_market_ixs(ledger, &mint_authority, &mint_authority.pubkey(), base, quote, args);
        let auction_account = Keypair::new();
        let keys = AuctionKeys { market, auction: auction_account.pubkey(), keyper_set: committee.keyper_set };
        let lamports = ledger.rent_exempt(Auction::space(capacity));
        ixs.extend(ax::create_auction(
            mint_authority.pubkey(),
            mint_authority.pubkey(),
            &keys,
            capacity,
            lamports,
            auction,
        ));
        let landed =
            ledger.send(&ixs, &[&mint_authority, &bids, &asks, &queue, &auction_account]).expect("create batch market");
        let m = TestMarket { keys: market, mint_authority, base_program: TOKEN_PROGRAM, quote_program: TOKEN_PROGRAM };
        (Self { m, keys }, landed)
    }

    pub fn state(&self, ledger: &dyn Ledger) -> AuctionState {
        AuctionState::decode(&ledger.account_data(&self.keys.auction).expect("auction")).expect("decodes")
    }

    /// The batch collecting now, its close slot and its key round.
    pub fn current(&self, ledger: &dyn Ledger, committee: &Committee) -> (u64, u64, u64) {
        ax::batch_at(&self.state(ledger).auction, &committee.state(ledger).set, ledger.current_slot())
    }

    /// `submit_sealed` of `order` for `w` to the current batch, sealed on the client to
    /// the key the chain holds for it; `envelope` defaults to what the order needs.
    pub fn seal_ix(
        &self,
        ledger: &dyn Ledger,
        committee: &Committee,
        w: &Wallet,
        order: SealedOrder,
        envelope: Option<(u64, u64)>,
    ) -> Instruction {
        let state = self.state(ledger);
        let (batch, _, round) = ax::batch_at(&state.auction, &committee.state(ledger).set, ledger.current_slot());
        let key = committee.state(ledger).round(round).expect("a key for the batch").group_key;
        let market = crate::scenario::market(ledger, &self.keys.market.market);
        let envelope = envelope.unwrap_or_else(|| {
            ax::envelope(&market, state.auction.sealed_fee, order.side, order.price, order.qty_lots).expect("envelope")
        });
        let args = ax::seal_order(&key, &self.keys.market.market, &w.pubkey(), batch, &order, envelope).expect("seal");
        ax::submit_sealed(w.pubkey(), &self.keys, args)
    }

    /// The next `decrypt_batch` of batch `b` (64 records; None once every record is open).
    pub fn next_decrypt_ix(&self, ledger: &dyn Ledger, b: u64) -> Option<Instruction> {
        let state = self.state(ledger);
        let (h, _) = state.batch(b)?;
        match h.status() {
            solex::state::BatchStatus::Collecting => Some(ax::decrypt_batch(&self.keys, b, 0, 64)),
            solex::state::BatchStatus::Decrypting if h.cursor < h.count => {
                Some(ax::decrypt_batch(&self.keys, b, h.cursor, 64))
            }
            _ => None,
        }
    }

    /// Opens every record of batch `b`, 64 a transaction.
    pub fn decrypt_all(&self, ledger: &mut dyn Ledger, cranker: &Keypair, b: u64) -> Vec<Landed> {
        let mut landed = vec![];
        while let Some(ix) = self.next_decrypt_ix(ledger, b) {
            landed.push(ledger.send(&with_budget(ix), &[cranker]).expect("decrypt"));
        }
        landed
    }

    pub fn clear(&self, ledger: &mut dyn Ledger, cranker: &Keypair, b: u64) -> Landed {
        ledger.send(&with_budget(ax::clear_batch(&self.keys, b)), &[cranker]).expect("clear")
    }

    /// The next `execute_batch` of batch `b` (None once it is done): the trader
    /// accounts of the next `per_tx` records to settle.
    pub fn next_execute_ix(&self, ledger: &dyn Ledger, b: u64, per_tx: usize) -> Option<Instruction> {
        let state = self.state(ledger);
        let (h, records) = state.batch(b)?;
        if h.status != solex::state::BatchStatus::Executing as u8 {
            return None;
        }
        let traders: Vec<Pubkey> = records[h.cursor as usize..]
            .iter()
            .filter(|r| !matches!(r.status(), RecordStatus::Cancelled | RecordStatus::Done))
            .take(per_tx)
            .map(|r| r.trader)
            .collect();
        Some(ax::execute_batch(&self.keys, b, h.cursor, 32, &traders))
    }

    /// Executes batch `b` to the end, 8 sealed orders a transaction.
    pub fn execute_all(&self, ledger: &mut dyn Ledger, cranker: &Keypair, b: u64) -> Vec<Landed> {
        let mut landed = vec![];
        while let Some(ix) = self.next_execute_ix(ledger, b, 8) {
            landed.push(ledger.send(&with_budget(ix), &[cranker]).expect("execute"));
        }
        landed
    }
}

/// A committee's members as `solex-keyper` processes, on free ports, logging and
/// keeping their state under `dir`.
pub struct Keypers {
    pub args: Vec<crate::services::KeyperArgs>,
    pub children: Vec<Option<std::process::Child>>,
    dir: std::path::PathBuf,
}

impl Keypers {
    pub fn start(rpc_url: &str, committee: &Committee, dir: &std::path::Path, session_rounds: u16) -> Self {
        let n = committee.members.len();
        let ports: Vec<u16> = (0..n).map(|_| crate::services::free_port()).collect();
        let args = (0..n)
            .map(|i| {
                let keypair = dir.join(format!("keyper{i}.json"));
                solana_keypair::write_keypair_file(&committee.members[i], &keypair).expect("keypair file");
                crate::services::KeyperArgs {
                    rpc_url: rpc_url.to_string(),
                    keypair,
                    keyper_set: committee.keyper_set,
                    listen: format!("127.0.0.1:{}", ports[i]),
                    peers: (0..n).filter(|j| *j != i).map(|j| (j, format!("http://127.0.0.1:{}", ports[j]))).collect(),
                    state_dir: dir.join(format!("keyper{i}")),
                    session_rounds,
                }
            })
            .collect();
        let mut k = Self { args, children: vec![], dir: dir.to_path_buf() };
        k.children = (0..n).map(|i| Some(k.spawn(i))).collect();
        k
    }

    fn spawn(&self, i: usize) -> std::process::Child {
        crate::services::keyper(&self.args[i], Some(&self.dir.join(format!("keyper{i}.log"))))
    }

    /// SIGKILL member `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            crate::services::kill(&mut c);
        }
    }

    /// Starts member `i` again, from its state directory.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.children[i] = Some(self.spawn(i));
    }

    /// Usable keys registered for the rounds after the current one, without a gap.
    pub fn keys_ahead(chain: &dyn Ledger, c: &Committee) -> u64 {
        let state = c.state(chain);
        let round = c.round_of(chain.current_slot());
        (round + 1..).take_while(|r| state.round(*r).is_some_and(|e| e.usable(*r))).count() as u64
    }

    /// Waits until `rounds` rounds of keys are registered ahead; how long it took.
    pub fn wait_keys_ahead(chain: &dyn Ledger, c: &Committee, rounds: u64) -> std::time::Duration {
        crate::exchange::wait("keys registered ahead", std::time::Duration::from_secs(180), || {
            Self::keys_ahead(chain, c) >= rounds
        })
    }
}

impl Drop for Keypers {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            crate::services::terminate(c);
        }
    }
}
