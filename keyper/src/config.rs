//! The keyper's settings: command-line flags (or their environment variables).
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Parser;
use solex_sdk::Pubkey;

#[derive(Parser, Debug)]
#[command(
    name = "solex-keyper",
    about = "One member of a Solex keyper set: generates, registers and releases batch keys"
)]
pub enum Cli {
    /// Run this member of a keyper set.
    Run(Args),
    /// Create a keyper set on chain (paid and authorised by --keypair); prints its address.
    CreateSet(CreateSet),
}

#[derive(clap::Args, Debug, Clone)]
pub struct CreateSet {
    /// The payer and the set's authority.
    #[arg(long)]
    pub keypair: PathBuf,
    #[arg(long, env = "SOLEX_RPC_URL", default_value = solex_sdk::rpc::DEFAULT_RPC_URL)]
    pub rpc_url: String,
    /// The members' identity public keys, in order (comma-separated; at most 8).
    #[arg(long, value_delimiter = ',')]
    pub members: Vec<String>,
    #[arg(long)]
    pub threshold: u8,
    /// Slots per round (a batch market's batch length must be a multiple).
    #[arg(long, default_value_t = 8)]
    pub round_slots: u64,
    /// Rounds a key is kept after its round (a market's reveal timeout must fit).
    #[arg(long, default_value_t = 64)]
    pub retain_rounds: u64,
    /// Round keys the ring holds: keys can be registered `ring - retain_rounds` rounds ahead.
    #[arg(long, default_value_t = 1024)]
    pub ring: u32,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// This keyper's identity keypair file (a member of the keyper set; it also pays its transactions).
    #[arg(long, env = "SOLEX_KEYPER_KEYPAIR")]
    pub keypair: PathBuf,
    /// The keyper set account.
    #[arg(long, env = "SOLEX_KEYPER_SET")]
    pub keyper_set: String,
    #[arg(long, env = "SOLEX_RPC_URL", default_value = solex_sdk::rpc::DEFAULT_RPC_URL)]
    pub rpc_url: String,
    /// Where this keyper serves its DKG messages to the other members, /health and /metrics.
    #[arg(long, env = "SOLEX_KEYPER_LISTEN", default_value = "127.0.0.1:9470")]
    pub listen: SocketAddr,
    /// Another member: `INDEX=URL` (its index in the keyper set, its base URL). Repeat for each.
    #[arg(long = "peer")]
    pub peers: Vec<String>,
    /// Where this keyper keeps its key shares and its unfinished session.
    #[arg(long, env = "SOLEX_KEYPER_STATE")]
    pub state_dir: PathBuf,
    /// Round keys one DKG session generates.
    #[arg(long, default_value_t = 32)]
    pub session_rounds: u16,
    /// How many rounds ahead keys are kept registered (default: as far as the ring allows).
    #[arg(long)]
    pub lead_rounds: Option<u64>,
    #[arg(long, default_value_t = 300)]
    pub poll_ms: u64,
    /// Also publish a round's secret once enough shares are on chain (the crank does too).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub publish: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub keypair: PathBuf,
    pub keyper_set: Pubkey,
    pub rpc_url: String,
    pub listen: SocketAddr,
    /// (member index, base URL) of every other member.
    pub peers: Vec<(u16, String)>,
    pub state_dir: PathBuf,
    pub session_rounds: u16,
    pub lead_rounds: Option<u64>,
    pub poll_ms: u64,
    pub publish: bool,
}

impl Config {
    pub fn load(args: Args) -> anyhow::Result<Self> {
        let keyper_set = args.keyper_set.parse().with_context(|| format!("--keyper-set {}", args.keyper_set))?;
        let peers = args
            .peers
            .iter()
            .map(|p| {
                let (index, url) = p.split_once('=').with_context(|| format!("--peer {p}: expected INDEX=URL"))?;
                let index: u16 = index.parse().with_context(|| format!("--peer {p}: the index is not a number"))?;
                Ok((index, url.trim_end_matches('/').to_string()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if args.session_rounds == 0 {
            bail!("--session-rounds must be at least 1");
        }
        Ok(Self {
            keypair: args.keypair,
            keyper_set,
            rpc_url: args.rpc_url,
            listen: args.listen,
            peers,
            state_dir: args.state_dir,
            session_rounds: args.session_rounds,
            lead_rounds: args.lead_rounds,
            poll_ms: args.poll_ms,
            publish: args.publish,
        })
    }
}
