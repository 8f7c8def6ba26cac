//! Configuration: a TOML file, overridden by command-line flags; each option is
//! declared once, on `Args` (its flag and its key in the file).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{bail, Context};
use clap::Parser;
use serde::{Deserialize, Serialize};
use solex_sdk::Pubkey;

/// The percentile fee policy's cap when none is configured (micro-lamports per
/// compute unit): at most ~9,200 lamports on a full 32-event `consume_events`.
pub const DEFAULT_PRIORITY_FEE_CAP: u64 = 100_000;

#[derive(Parser, Serialize, Deserialize, Debug, Default)]
#[serde(default, deny_unknown_fields)]
#[command(
    name = "solex-crank",
    about = "Settles Solex markets: runs consume_events whenever a fill queue is not empty"
)]
pub struct Args {
    /// TOML configuration file (flags override it).
    #[arg(long, short)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    #[arg(long, env = "SOLEX_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Websocket URL for account subscriptions (default: the RPC URL's, port + 1); "none" to only poll.
    #[arg(long)]
    pub ws_url: Option<String>,
    /// Keypair file of the fee payer (Solana CLI JSON format).
    #[arg(long)]
    pub keypair: Option<PathBuf>,
    /// A market to crank (repeatable). None: discovery, bounded by --authority and
    /// --unlisted-budget-lamports.
    #[arg(long = "market")]
    pub markets: Vec<String>,
    /// Discovery cranks the markets whose authority is this key (repeatable).
    #[arg(long = "authority")]
    pub authorities: Vec<String>,
    /// Discovery also cranks markets of other authorities, spending on all of them
    /// together at most this many lamports of fees per rolling hour (default 0: never).
    #[arg(long)]
    pub unlisted_budget_lamports: Option<u64>,
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
    /// Instead: this percentile (0-100) of the fees recently paid on the market's accounts,
    /// capped by --priority-fee-max-micro-lamports.
    #[arg(long)]
    pub priority_fee_percentile: Option<u8>,
    /// The percentile policy's cap (default: the fixed fee if given and not 0, else 100,000).
    #[arg(long)]
    pub priority_fee_max_micro_lamports: Option<u64>,
    /// At most this many unlisted markets are cranked at once (default 16).
    #[arg(long)]
    pub max_unlisted_markets: Option<usize>,
    /// Distinct maker accounts per transaction (default 20, at most 28).
    #[arg(long)]
    pub max_makers: Option<usize>,
    /// Markets settled at the same time (default 4).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// How long to wait for a transaction's confirmation (default 30,000).
    #[arg(long)]
    pub confirm_timeout_ms: Option<u64>,
    /// How often discovery looks for new markets (default 10,000).
    #[arg(long)]
    pub rediscover_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub rpc_url: String,
    /// None: poll only.
    pub ws_url: Option<String>,
    pub keypair: PathBuf,
    /// Empty: discovery (every `rediscover_ms`) of the markets whose authority is in
    /// `authorities`, and of others within `unlisted_budget_lamports`.
    pub markets: Vec<Pubkey>,
    /// Discovery cranks these authorities' markets without limit.
    pub authorities: Vec<Pubkey>,
    /// Fees (lamports) the crank may spend per rolling hour on all discovered markets
    /// whose authority is not listed, together; 0: it never cranks them. Anyone can
    /// create a market, so without a bound the crank pays for whatever an attacker
    /// creates and trades on.
    pub unlisted_budget_lamports: u64,
    /// At most this many unlisted markets are cranked at once (each is polled).
    pub max_unlisted_markets: usize,
    pub batch: u8,
    /// Distinct maker accounts per transaction (each is 32 bytes of a 1,232-byte transaction).
    pub max_makers: usize,
    pub poll_ms: u64,
    pub commitment: String,
    pub metrics_addr: SocketAddr,
    /// The fee policy: fixed at `priority_fee_micro_lamports`, or (with a percentile)
    /// that percentile of recent fees on the market's accounts, at most
    /// `priority_fee_max_micro_lamports`.
    pub priority_fee_micro_lamports: u64,
    pub priority_fee_percentile: Option<u8>,
    /// The percentile policy's cap: `priority_fee_max_micro_lamports` if set, else the
    /// fixed fee if set and not 0, else `DEFAULT_PRIORITY_FEE_CAP`. (Recent fees on a market's
    /// accounts are whatever its traders paid, so an uncapped percentile would let
    /// anyone raise what the crank pays.)
    pub priority_fee_max_micro_lamports: u64,
    /// Markets settled at the same time.
    pub concurrency: usize,
    pub confirm_timeout_ms: u64,
    pub rediscover_ms: u64,
}

impl Config {
    pub fn load(args: Args) -> anyhow::Result<Self> {
        let file = args.config.clone();
        let a = solex_sdk::service::layered(args, file.as_deref())?;
        let keys = |what: &str, list: &[String]| {
            list.iter()
                .map(|m| Pubkey::from_str(m).with_context(|| format!("{what} {m:?} is not a base58 address")))
                .collect::<anyhow::Result<Vec<_>>>()
        };
        let rpc_url = a.rpc_url.unwrap_or_else(|| "http://127.0.0.1:8899".into());
        let ws_url = match a.ws_url {
            Some(none) if none == "none" => None,
            Some(url) => Some(url),
            None => Some(solex_sdk::wake::default_ws_url(&rpc_url)?),
        };
        let config = Config {
            rpc_url,
            ws_url,
            keypair: a
                .keypair
                .context("a fee payer keypair is required (--keypair or `keypair` in the config file)")?,
            markets: keys("market", &a.markets)?,
            authorities: keys("authority", &a.authorities)?,
            unlisted_budget_lamports: a.unlisted_budget_lamports.unwrap_or(0),
            max_unlisted_markets: a.max_unlisted_markets.unwrap_or(16),
            batch: a.batch.unwrap_or(solex::matching::MAX_BATCH),
            max_makers: a.max_makers.unwrap_or(20),
            poll_ms: a.poll_ms.unwrap_or(400),
            commitment: a.commitment.unwrap_or_else(|| "confirmed".into()),
            metrics_addr: a.metrics_addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9464))),
            priority_fee_micro_lamports: a.priority_fee_micro_lamports.unwrap_or(0),
            priority_fee_percentile: a.priority_fee_percentile,
            priority_fee_max_micro_lamports: a
                .priority_fee_max_micro_lamports
                // A fixed fee of 0 (the example file's) is no cap: it would pay 0 always.
                .or(a.priority_fee_micro_lamports.filter(|&f| f > 0))
                .unwrap_or(DEFAULT_PRIORITY_FEE_CAP),
            concurrency: a.concurrency.unwrap_or(4).max(1),
            confirm_timeout_ms: a.confirm_timeout_ms.unwrap_or(30_000),
            rediscover_ms: a.rediscover_ms.unwrap_or(10_000),
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
        if config.markets.is_empty() && config.authorities.is_empty() && config.unlisted_budget_lamports == 0 {
            bail!(
                "no market to crank: name them (--market, `markets`), or the authorities whose markets discovery \
                 cranks (--authority, `authorities`), or give discovery a fee budget for anyone's markets \
                 (--unlisted-budget-lamports, `unlisted_budget_lamports`)"
            );
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

    const AUTHORITY: &str = "11111111111111111111111111111112";

    /// The least a crank needs: a fee payer and which markets (here an authority's).
    fn minimal() -> Args {
        Args { keypair: Some("k.json".into()), authorities: vec![AUTHORITY.into()], ..Args::default() }
    }

    #[test]
    fn the_example_config_parses_and_flags_override_it() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/crank.example.toml");
        let args = Args { config: Some(example.into()), batch: Some(4), ..minimal() };
        let cfg = Config::load(args).unwrap();
        assert_eq!((cfg.batch, cfg.max_makers, cfg.poll_ms), (4, 20, 400));
        let defaults = Config::load(minimal()).unwrap();
        assert_eq!(defaults.batch, solex::matching::MAX_BATCH);
        assert!(cfg.markets.is_empty());
        assert_eq!(cfg.authorities, vec![Pubkey::from_str(AUTHORITY).unwrap()]);
        assert_eq!(cfg.metrics_addr.port(), 9464);
        assert_eq!((defaults.unlisted_budget_lamports, defaults.max_unlisted_markets), (0, 16));
    }

    #[test]
    fn discovery_is_bounded_by_default_and_refused_with_nothing_to_bound_it() {
        let bare = Args { keypair: Some("k.json".into()), ..Args::default() };
        let err = Config::load(bare).unwrap_err().to_string();
        assert!(err.contains("--authority") && err.contains("--unlisted-budget-lamports"), "{err}");
        let named =
            Config::load(Args { keypair: Some("k.json".into()), markets: vec![AUTHORITY.into()], ..Args::default() });
        assert!(named.unwrap().authorities.is_empty(), "named markets need no authority");
        let budget =
            Args { keypair: Some("k.json".into()), unlisted_budget_lamports: Some(1_000_000), ..Args::default() };
        assert_eq!(Config::load(budget).unwrap().unlisted_budget_lamports, 1_000_000);
    }

    #[test]
    fn the_percentile_fee_cap_defaults_to_the_fixed_fee_or_a_safe_maximum_never_zero() {
        let cap = |args: Args| Config::load(args).unwrap().priority_fee_max_micro_lamports;
        assert_eq!(cap(Args { priority_fee_percentile: Some(75), ..minimal() }), DEFAULT_PRIORITY_FEE_CAP);
        let fixed = Args { priority_fee_percentile: Some(75), priority_fee_micro_lamports: Some(1_000), ..minimal() };
        assert_eq!(cap(fixed), 1_000, "a fixed fee given with a percentile caps it, as before");
        let zero = Args { priority_fee_percentile: Some(75), priority_fee_micro_lamports: Some(0), ..minimal() };
        assert_eq!(cap(zero), DEFAULT_PRIORITY_FEE_CAP, "a fixed fee of 0 is no cap");
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/crank.example.toml");
        let from_example = Args { config: Some(example.into()), priority_fee_percentile: Some(75), ..minimal() };
        assert_eq!(cap(from_example), DEFAULT_PRIORITY_FEE_CAP, "the example file's fixed 0 is no cap");
        let max = Args { priority_fee_percentile: Some(75), priority_fee_max_micro_lamports: Some(5), ..minimal() };
        assert_eq!(cap(max), 5);
    }

    #[test]
    fn the_websocket_url_defaults_to_the_rpc_port_plus_one() {
        use solex_sdk::wake::default_ws_url;
        assert_eq!(default_ws_url("http://127.0.0.1:8899").unwrap(), "ws://127.0.0.1:8900/");
        assert_eq!(default_ws_url("https://rpc.example.com").unwrap(), "wss://rpc.example.com/");
        let cfg = Config::load(Args { ws_url: Some("none".into()), ..minimal() });
        assert_eq!(cfg.unwrap().ws_url, None);
    }

    #[test]
    fn a_file_and_flags_layer_key_by_key_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crank.toml");
        let other = "11111111111111111111111111111113";
        std::fs::write(
            &path,
            format!("keypair = \"f.json\"\nmarkets = [\"{AUTHORITY}\"]\nconcurrency = 2\npoll_ms = 50\n"),
        )
        .unwrap();
        let file = || Args { config: Some(path.clone()), ..Args::default() };
        let cfg = Config::load(Args { poll_ms: Some(70), ..file() }).unwrap();
        assert_eq!((cfg.keypair, cfg.concurrency, cfg.poll_ms), ("f.json".into(), 2, 70));
        assert_eq!(cfg.markets, vec![Pubkey::from_str(AUTHORITY).unwrap()], "no --market keeps the file's");
        let flags = Args { markets: vec![other.into()], concurrency: Some(8), ..file() };
        let cfg = Config::load(flags).unwrap();
        assert_eq!((cfg.markets, cfg.concurrency), (vec![Pubkey::from_str(other).unwrap()], 8));
        std::fs::write(&path, "keypair = \"f.json\"\nmarket = []\n").unwrap();
        let err = format!("{:#}", Config::load(file()).unwrap_err());
        assert!(err.contains("unknown field `market`"), "{err}");
    }

    #[test]
    fn bad_settings_are_refused_with_a_message() {
        let bad = |args: Args| Config::load(args).unwrap_err().to_string();
        assert!(bad(Args::default()).contains("keypair is required"));
        assert!(bad(Args { batch: Some(0), ..minimal() }).contains("batch"));
        assert!(bad(Args { commitment: Some("final".into()), ..minimal() }).contains("commitment"));
        assert!(bad(Args { markets: vec!["not-a-key".into()], ..minimal() }).contains("base58"));
        assert!(bad(Args { authorities: vec!["not-a-key".into()], ..minimal() }).contains("authority"));
    }
}
