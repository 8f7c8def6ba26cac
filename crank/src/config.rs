//! Configuration: a TOML file, overridden by command-line flags.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{bail, Context};
use clap::Parser;
use serde::Deserialize;
use solex_sdk::Pubkey;

#[derive(Parser, Debug, Default)]
#[command(
    name = "solex-crank",
    about = "Settles Solex markets: runs consume_events whenever a fill queue is not empty"
)]
pub struct Args {
    /// TOML configuration file (flags override it).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    #[arg(long, env = "SOLEX_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Websocket URL for account subscriptions (default: the RPC URL's, port + 1); "none" to only poll.
    #[arg(long)]
    pub ws_url: Option<String>,
    /// Keypair file of the fee payer (Solana CLI JSON format).
    #[arg(long)]
    pub keypair: Option<PathBuf>,
    /// A market to crank (repeatable). None: every market of the program.
    #[arg(long = "market")]
    pub markets: Vec<String>,
    /// Queue events per consume_events transaction.
    #[arg(long)]
    pub batch: Option<u8>,
    #[arg(long)]
    pub poll_ms: Option<u64>,
    /// processed | confirmed | finalized
    #[arg(long)]
    pub commitment: Option<String>,
    #[arg(long)]
    pub metrics_addr: Option<SocketAddr>,
    /// A fixed priority fee (micro-lamports per compute unit).
    #[arg(long)]
    pub priority_fee_micro_lamports: Option<u64>,
    /// Instead: this percentile (0-100) of the fees recently paid on the market's accounts, capped by the fixed fee.
    #[arg(long)]
    pub priority_fee_percentile: Option<u8>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct File {
    rpc_url: Option<String>,
    ws_url: Option<String>,
    keypair: Option<PathBuf>,
    markets: Option<Vec<String>>,
    batch: Option<u8>,
    max_makers: Option<usize>,
    poll_ms: Option<u64>,
    commitment: Option<String>,
    metrics_addr: Option<SocketAddr>,
    priority_fee_micro_lamports: Option<u64>,
    priority_fee_percentile: Option<u8>,
    concurrency: Option<usize>,
    confirm_timeout_ms: Option<u64>,
    rediscover_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub rpc_url: String,
    /// None: poll only.
    pub ws_url: Option<String>,
    pub keypair: PathBuf,
    /// Empty: every market of the program (rediscovered every `rediscover_ms`).
    pub markets: Vec<Pubkey>,
    pub batch: u8,
    /// Distinct maker accounts per transaction (each is 32 bytes of a 1,232-byte transaction).
    pub max_makers: usize,
    pub poll_ms: u64,
    pub commitment: String,
    pub metrics_addr: SocketAddr,
    /// The fee policy: fixed at `priority_fee_micro_lamports`, or (with a percentile)
    /// that percentile of recent fees on the market's accounts, at most the fixed value.
    pub priority_fee_micro_lamports: u64,
    pub priority_fee_percentile: Option<u8>,
    /// Markets settled at the same time.
    pub concurrency: usize,
    pub confirm_timeout_ms: u64,
    pub rediscover_ms: u64,
}

impl Config {
    pub fn load(args: Args) -> anyhow::Result<Self> {
        let file: File = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => File::default(),
        };
        let markets = if args.markets.is_empty() { file.markets.unwrap_or_default() } else { args.markets };
        let markets = markets
            .iter()
            .map(|m| Pubkey::from_str(m).with_context(|| format!("market {m:?} is not a base58 address")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rpc_url = args.rpc_url.or(file.rpc_url).unwrap_or_else(|| "http://127.0.0.1:8899".into());
        let ws_url = match args.ws_url.or(file.ws_url) {
            Some(none) if none == "none" => None,
            Some(url) => Some(url),
            None => Some(solex_sdk::wake::default_ws_url(&rpc_url)?),
        };
        let config = Config {
            rpc_url,
            ws_url,
            keypair: args
                .keypair
                .or(file.keypair)
                .context("a fee payer keypair is required (--keypair or `keypair` in the config file)")?,
            markets,
            batch: args.batch.or(file.batch).unwrap_or(solex::matching::MAX_BATCH),
            max_makers: file.max_makers.unwrap_or(20),
            poll_ms: args.poll_ms.or(file.poll_ms).unwrap_or(400),
            commitment: args.commitment.or(file.commitment).unwrap_or_else(|| "confirmed".into()),
            metrics_addr: args
                .metrics_addr
                .or(file.metrics_addr)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9464))),
            priority_fee_micro_lamports: args
                .priority_fee_micro_lamports
                .or(file.priority_fee_micro_lamports)
                .unwrap_or(0),
            priority_fee_percentile: args.priority_fee_percentile.or(file.priority_fee_percentile),
            concurrency: file.concurrency.unwrap_or(4).max(1),
            confirm_timeout_ms: file.confirm_timeout_ms.unwrap_or(30_000),
            rediscover_ms: file.rediscover_ms.unwrap_or(10_000),
        };
        if config.batch == 0 || config.batch > solex::matching::MAX_BATCH {
            bail!("batch must be 1..={}, not {}", solex::matching::MAX_BATCH, config.batch);
        }
        if !matches!(config.commitment.as_str(), "processed" | "confirmed" | "finalized") {
            bail!("commitment must be processed, confirmed or finalized, not {:?}", config.commitment);
        }
        if config.priority_fee_percentile.is_some_and(|p| p > 100) {
            bail!("priority_fee_percentile must be 0..=100");
        }
        if config.max_makers == 0 || config.max_makers > 28 {
            bail!("max_makers must be 1..=28 (transaction size), not {}", config.max_makers);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_flags_override_it() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/crank.example.toml");
        let args = Args { config: Some(example.into()), batch: Some(4), ..Args::default() };
        let cfg = Config::load(args).unwrap();
        assert_eq!((cfg.batch, cfg.max_makers, cfg.poll_ms), (4, 20, 400));
        let defaults = Config::load(Args { keypair: Some("k.json".into()), ..Args::default() }).unwrap();
        assert_eq!(defaults.batch, solex::matching::MAX_BATCH);
        assert!(cfg.markets.is_empty());
        assert_eq!(cfg.metrics_addr.port(), 9464);
    }

    #[test]
    fn the_websocket_url_defaults_to_the_rpc_port_plus_one() {
        use solex_sdk::wake::default_ws_url;
        assert_eq!(default_ws_url("http://127.0.0.1:8899").unwrap(), "ws://127.0.0.1:8900/");
        assert_eq!(default_ws_url("https://rpc.example.com").unwrap(), "wss://rpc.example.com/");
        let cfg = Config::load(Args { keypair: Some("k.json".into()), ws_url: Some("none".into()), ..Args::default() });
        assert_eq!(cfg.unwrap().ws_url, None);
    }

    #[test]
    fn bad_settings_are_refused_with_a_message() {
        let keypair = Some(PathBuf::from("k.json"));
        let bad = |args: Args| Config::load(args).unwrap_err().to_string();
        assert!(bad(Args::default()).contains("keypair is required"));
        assert!(bad(Args { keypair: keypair.clone(), batch: Some(0), ..Args::default() }).contains("batch"));
        assert!(bad(Args { keypair: keypair.clone(), commitment: Some("final".into()), ..Args::default() })
            .contains("commitment"));
        assert!(bad(Args { keypair, markets: vec!["not-a-key".into()], ..Args::default() }).contains("base58"));
    }
}
