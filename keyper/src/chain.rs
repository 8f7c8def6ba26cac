//! What a keyper reads from and writes to the chain (blocking JSON-RPC; the service
//! calls it from tokio's blocking pool).
use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use solana_keypair::Keypair;
use solex::state::{Auction, BatchStatus};
use solex_sdk::auction::{self as ax, KeyperSetState};
use solex_sdk::rpc::RpcClient;
use solex_sdk::submit::TxResult;

pub struct Chain {
    /// Reads and confirms at `confirmed`: shares are released only past a confirmed block.
    pub rpc: RpcClient,
    pub keyper_set: Pubkey,
}

/// Where the chain is: the latest confirmed slot, and the keyper set there.
pub struct View {
    pub slot: u64,
    pub set: KeyperSetState,
}

impl View {
    /// The round of the confirmed slot.
    pub fn round(&self) -> u64 {
        self.set.set.round_of(self.slot)
    }
}

impl Chain {
    pub fn new(rpc_url: &str, keyper_set: Pubkey) -> Self {
        let mut rpc = RpcClient::new(rpc_url);
        rpc.commitment = "confirmed".into();
        Self { rpc, keyper_set }
    }

    pub fn view(&self) -> anyhow::Result<View> {
        let slot = self.rpc.slot()?;
        let data = self.rpc.account(&self.keyper_set)?.ok_or_else(|| anyhow::anyhow!("keyper set not found"))?.data;
        Ok(View { slot, set: KeyperSetState::decode(&data)? })
    }

    /// The key rounds of the batches, of every market using this keyper set, that
    /// hold orders and wait for their key (their header says so; the records are not read).
    pub fn rounds_awaited(&self) -> anyhow::Result<Vec<u64>> {
        let disc: &[u8] = Auction::DISCRIMINATOR;
        let set = self.keyper_set.to_bytes();
        let found =
            self.rpc.program_accounts_matching(&solex::ID, &[(0, disc), (8 + 32, &set)], Some((0, Auction::LEN)))?;
        let mut rounds: Vec<u64> = found
            .iter()
            .filter_map(|(_, a)| solex_sdk::accounts::decode::<Auction>(&a.data).ok())
            .flat_map(|a| a.batches)
            .filter(|h| h.status() == BatchStatus::Collecting && h.live > 0)
            .map(|h| h.key_round)
            .collect();
        rounds.sort_unstable();
        rounds.dedup();
        Ok(rounds)
    }

    pub fn send(&self, payer: &Keypair, ixs: &[solex_sdk::Instruction]) -> anyhow::Result<TxResult> {
        Ok(self.rpc.submit(ixs, &[payer])?)
    }

    /// Publishes `round`'s secret from the shares posted on chain, if enough are.
    pub fn publish_if_ready(&self, payer: &Keypair, view: &View, round: u64) -> anyhow::Result<Option<TxResult>> {
        let Some(entry) = view.set.round(round) else { return Ok(None) };
        if entry.posted.count_ones() < view.set.set.threshold as u32 || entry.released_secret(round).is_some() {
            return Ok(None);
        }
        let secret = ax::combine_posted(&view.set.set, entry)?;
        Ok(Some(self.send(payer, &[ax::publish_secret(self.keyper_set, round, secret)])?))
    }
}
