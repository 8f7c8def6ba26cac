//! `solex`: trade on a Solex market from a terminal. Transactions are signed with a
//! Solana keypair file (the `~/.config/solana/id.json` format) and sent to an RPC
//! URL, like the Solana CLI. Prices are in ticks, quantities in base lots, amounts
//! in token atoms (`solex market` prints a market's lot and tick sizes).
//!
//! On a batch market (issue 17) orders that take are sealed on this machine and
//! submitted to the batch auction (`place --sealed`, `cancel-sealed`, `batch`;
//! see `batch.rs`); only post-only orders reach its book directly.
//!
//! Exit codes: 0 done, 1 refused (a program error, decoded) or failed, 2 bad usage.
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solex_sdk::accounts::{book_levels, decode, decode_boxed, decode_trader};
use solex_sdk::events::SolexEvent;
use solex_sdk::flow::{self, MarketContext, OrderOptions};
use solex_sdk::instructions::{self as ix, MarketKeys};
use solex_sdk::rpc::RpcClient;
use solex_sdk::submit::{Landed, TxResult};
use solex_sdk::{pda, BookSide, Instruction, Market, OrderType, PlaceOrderArgs, Pubkey, Side, MAX_BATCH};

#[derive(Parser)]
#[command(name = "solex", version, about = "Trade on a Solex market, signing with your own keypair")]
struct Cli {
    /// JSON-RPC URL of the cluster.
    #[arg(long, short = 'u', global = true, env = "SOLEX_RPC_URL", default_value = "http://127.0.0.1:8899")]
    url: String,
    /// Keypair file that signs and pays (default: the Solana CLI's, ~/.config/solana/id.json).
    #[arg(long, short = 'k', global = true, env = "SOLEX_KEYPAIR")]
    keypair: Option<PathBuf>,
    /// Print one JSON object per command (for scripts) instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The indexer's API, for history (trades, orders).
    #[arg(long, global = true, env = "SOLEX_API_URL", default_value = "http://127.0.0.1:8080")]
    api: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A market's mints, lot and tick sizes, fees and state, and whether it is a batch market.
    Market { market: String },
    /// A batch market's auction: its rules, the batch collecting now, the batch
    /// being processed, the last clearing price and the keys registered ahead.
    Batch { market: String },
    /// The order book by price level, best first.
    Book {
        market: String,
        #[arg(long, default_value_t = 20)]
        depth: usize,
    },
    /// Recent trades, newest first (from the indexer API).
    Trades {
        market: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Your orders with their status, newest first (from the indexer API).
    Orders {
        market: String,
        /// open, done or all.
        #[arg(long, default_value = "all")]
        status: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Your trader account: available and locked balances and open orders.
    Balances { market: String },
    /// Creates your trader account on a market.
    Init {
        market: String,
        #[arg(long, default_value_t = 32)]
        max_orders: u16,
    },
    /// Moves tokens from your token account into the market.
    Deposit(Funds),
    /// Moves available tokens back to your token account.
    Withdraw(Funds),
    /// Places an order.
    Place {
        market: String,
        #[arg(value_parser = flow::value_parser::<Side>())]
        side: Side,
        /// Limit price in ticks (for a market order: the worst price accepted); with
        /// --ui, in quote tokens per base token (e.g. 100.25).
        #[arg(long)]
        price: String,
        /// Quantity in base lots; with --ui, in base tokens (e.g. 0.5).
        #[arg(long)]
        qty: String,
        /// Price and quantity (and collateral) are decimal token amounts, converted
        /// exactly with the market's decimals, lot and tick (a value between ticks or
        /// lots is refused).
        #[arg(long)]
        ui: bool,
        /// The rest of the order, as the transaction API takes it (the same names and defaults).
        #[command(flatten)]
        order: OrderOptions,
        #[command(flatten)]
        sealing: Sealing,
    },
    /// Cancels one order, by its id (with its side) or by your client id.
    Cancel {
        market: String,
        #[arg(long, conflicts_with = "client_id", requires = "side")]
        order_id: Option<u128>,
        #[arg(long, value_parser = flow::value_parser::<Side>())]
        side: Option<Side>,
        #[arg(long)]
        client_id: Option<u64>,
    },
    /// Cancels all your orders (on one side with --side).
    CancelAll {
        market: String,
        #[arg(long, value_parser = flow::value_parser::<Side>())]
        side: Option<Side>,
    },
    /// Withdraws one of your sealed orders before its batch closes (its collateral
    /// unlocks, less the sealed-order fee). `place --sealed` prints the batch and index.
    CancelSealed { market: String, batch_id: u64, index: u32 },
    /// Pays your available balances to your associated token accounts (created if missing).
    Settle { market: String },
    /// Creates a market (you become its authority).
    CreateMarket {
        #[arg(long)]
        base_mint: String,
        #[arg(long)]
        quote_mint: String,
        /// Base atoms per lot.
        #[arg(long)]
        lot: u64,
        /// Quote atoms per tick, per lot.
        #[arg(long)]
        tick: u64,
        #[arg(long, default_value_t = 0)]
        min_lots: u64,
        #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
        maker_fee_bps: i16,
        #[arg(long, default_value_t = 0)]
        taker_fee_bps: i16,
        /// Distinguishes markets over the same two mints.
        #[arg(long, default_value_t = 0)]
        id: u64,
        #[command(flatten)]
        batch: BatchMode,
    },
}

/// `create-market --keyper-set ...`: a batch market (sealed orders cleared at one
/// price every batch, ADR 8), created in the same transaction as the market.
#[derive(clap::Args)]
struct BatchMode {
    /// Make it a batch market whose orders are sealed to this keyper set's keys.
    #[arg(long)]
    keyper_set: Option<String>,
    /// Slots a batch collects orders (a multiple of the keyper set's round).
    #[arg(long, requires = "keyper_set", default_value_t = solex::CreateAuctionArgs::DEFAULT_BATCH_SLOTS)]
    batch_slots: u64,
    /// Slots after its close a batch waits for its key before anyone may void it.
    #[arg(long, requires = "keyper_set", default_value_t = solex::CreateAuctionArgs::DEFAULT_REVEAL_TIMEOUT_SLOTS)]
    reveal_timeout_slots: u64,
    /// Quote atoms each sealed order pays (kept for junk, refunded on a timeout).
    #[arg(long, requires = "keyper_set", default_value_t = 0)]
    sealed_fee: u64,
    /// Sealed orders a batch holds (1-256; the auction account's rent grows with it).
    #[arg(long, requires = "keyper_set", default_value_t = 64)]
    batch_capacity: u32,
}

/// `place --sealed` and its collateral.
#[derive(clap::Args)]
struct Sealing {
    /// On a batch market: seal the order here (limit, ioc or market) to the key of
    /// the batch collecting now and submit it to that batch's auction; only its
    /// collateral is in the clear.
    #[arg(long)]
    sealed: bool,
    /// Base collateral to lock (atoms; with --ui, tokens). Default: what the order
    /// needs (its base for an ask, none for a bid). Lock both assets to hide the side.
    #[arg(long, requires = "sealed")]
    collateral_base: Option<String>,
    /// Quote collateral to lock, the sealed-order fee included (atoms; with --ui,
    /// tokens). Default: what the order needs (a bid's notional at its limit with
    /// fees, plus the fee).
    #[arg(long, requires = "sealed")]
    collateral_quote: Option<String>,
    /// Lock exactly what the order needs. By default each part is rounded up to a
    /// power of two, so the collateral in the clear tells the order's size only
    /// within a factor of two (the unused part unlocks when the batch executes).
    #[arg(long, requires = "sealed")]
    exact_collateral: bool,
    /// Lock both assets (what either side would need), so the collateral does not
    /// tell the order's side either.
    #[arg(long, requires = "sealed", conflicts_with = "exact_collateral")]
    hide_side: bool,
}

/// Bad usage found after parsing (clap's own exits 2 the same way).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

#[derive(Clone, Copy, ValueEnum)]
enum Asset {
    Base,
    Quote,
}

fn main() {
    let cli = Cli::parse();
    let json_out = cli.json;
    if let Err(e) = run(cli) {
        if json_out {
            println!("{}", json!({"error": format!("{e:#}")}));
        }
        eprintln!("error: {e:#}");
        std::process::exit(if e.is::<Usage>() { 2 } else { 1 });
    }
}

fn address(s: &str, what: &str) -> anyhow::Result<Pubkey> {
    Pubkey::from_str(s).map_err(|_| anyhow!("{what} {s:?} is not a base58 address"))
}

fn keypair(path: Option<PathBuf>) -> anyhow::Result<Keypair> {
    let path = match path {
        Some(p) => p,
        None => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".config/solana/id.json"),
    };
    solana_keypair::read_keypair_file(&path).map_err(|e| {
        anyhow!("cannot read keypair file {}: {e} (a JSON array of 64 bytes, as solana-keygen writes)", path.display())
    })
}

struct Ctx {
    rpc: RpcClient,
    json: bool,
    api: String,
}

impl Ctx {
    /// GET from the indexer API; its JSON errors become messages.
    fn api_get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.api.trim_end_matches('/'));
        match ureq::get(&url).call() {
            Ok(r) => Ok(r.into_json()?),
            Err(ureq::Error::Status(status, r)) => {
                let body: Value = r.into_json().unwrap_or_default();
                bail!("the indexer API answered {status} {}: {}", body["code"], body["message"])
            }
            Err(e) => {
                bail!("cannot reach the indexer API at {} ({e}); start `solex-indexer run` or pass --api", self.api)
            }
        }
    }

    /// The market named on the command line, with its mints' token programs.
    fn market(&self, s: &str) -> anyhow::Result<MarketContext> {
        Ok(MarketContext::load(&self.rpc, address(s, "market")?)?)
    }

    /// Signs, sends and waits, printing progress on stderr; a rejection becomes an
    /// error naming the program's error code.
    /// `signers[0]` pays.
    fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> anyhow::Result<Landed> {
        self.submit(ixs, signers)?.map_err(|r| anyhow!("the program refused: {}", r.describe()))
    }

    /// `send`, with a rejection returned for the caller to look at.
    fn submit(&self, ixs: &[Instruction], signers: &[&Keypair]) -> anyhow::Result<TxResult> {
        let started = Instant::now();
        if !self.json {
            eprintln!("sending transaction, waiting for confirmation ...");
        }
        let result = self.rpc.submit(ixs, signers)?;
        if let (false, Ok(landed)) = (self.json, &result) {
            eprintln!("confirmed in {} ms: {}", started.elapsed().as_millis(), landed.signature);
        }
        Ok(result)
    }

    fn print(&self, value: Value, text: impl FnOnce(&Value) -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", text(&value));
        }
    }
}

fn event_json(e: &SolexEvent) -> Value {
    json!({"kind": e.name(), "seq": e.seq(), "detail": format!("{e:?}")})
}

fn landed_json(landed: &Landed) -> Value {
    json!({"signature": landed.signature, "events": landed.events.iter().map(event_json).collect::<Vec<_>>()})
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx { rpc: RpcClient::new(cli.url.clone()), json: cli.json, api: cli.api.clone() };
    let signer = || keypair(cli.keypair.clone());
    match cli.command {
        Command::Market { market } => {
            let MarketContext { keys, market: m, .. } = ctx.market(&market)?;
            let v = json!({
                "market": keys.market.to_string(), "authority": m.authority.to_string(),
                "base_mint": m.base_mint.to_string(), "quote_mint": m.quote_mint.to_string(),
                "base_lot_size": m.base_lot_size, "quote_tick_size": m.quote_tick_size,
                "min_order_lots": m.min_order_lots, "maker_fee_bps": m.maker_fee_bps,
                "taker_fee_bps": m.taker_fee_bps, "paused": m.paused != 0, "event_seq": m.event_seq,
                "batch_market": m.is_batch(), "auction": m.is_batch().then(|| m.auction.to_string()),
            });
            ctx.print(v, |v| {
                let batch = match v["auction"].as_str() {
                    Some(a) => format!(
                        "\n  BATCH MARKET (auction {a}): orders that take are sealed (place --sealed); \
                         solex batch {}",
                        v["market"].as_str().unwrap_or("")
                    ),
                    None => String::new(),
                };
                format!(
                    "market {}\n  base {} (lot {} atoms)\n  quote {} (tick {} atoms per lot)\n  fees maker {} bps, taker {} bps{}{batch}",
                    v["market"], v["base_mint"], v["base_lot_size"], v["quote_mint"], v["quote_tick_size"],
                    v["maker_fee_bps"], v["taker_fee_bps"], if v["paused"] == true { "\n  PAUSED" } else { "" }
                )
            });
        }
        Command::Batch { market } => batch::show(&ctx, &ctx.market(&market)?)?,
        Command::CancelSealed { market, batch_id, index } => {
            batch::cancel_sealed(&ctx, &signer()?, &ctx.market(&market)?, batch_id, index)?
        }
        Command::Book { market, depth } => {
            let keys = ctx.market(&market)?.keys;
            let (slot, accounts) = ctx.rpc.multiple_accounts(&[keys.market, keys.bids, keys.asks])?;
            let data =
                |i: usize| accounts[i].as_ref().map(|a| a.data.clone()).ok_or_else(|| anyhow!("book account gone"));
            let m: Market = decode(&data(0)?)?;
            let bids: Box<BookSide> = decode_boxed(&data(1)?)?;
            let asks: Box<BookSide> = decode_boxed(&data(2)?)?;
            let v = json!({"market": keys.market.to_string(), "slot": slot, "seq": m.event_seq,
                "bids": book_levels(&bids, depth), "asks": book_levels(&asks, depth)});
            ctx.print(v, |v| {
                let mut out =
                    format!("{:>12} {:>12} | {:<12} {:<12}\n", "bid lots", "bid price", "ask price", "ask lots");
                let (b, a) = (v["bids"].as_array().unwrap(), v["asks"].as_array().unwrap());
                for i in 0..b.len().max(a.len()) {
                    let cell = |l: Option<&Value>, k: usize| l.map(|l| l[k].to_string()).unwrap_or_default();
                    out += &format!(
                        "{:>12} {:>12} | {:<12} {:<12}\n",
                        cell(b.get(i), 1),
                        cell(b.get(i), 0),
                        cell(a.get(i), 0),
                        cell(a.get(i), 1)
                    );
                }
                out.trim_end().to_string()
            });
        }
        Command::Trades { market, limit } => {
            let market = address(&market, "market")?;
            let v = ctx.api_get(&format!("/markets/{market}/trades?limit={limit}"))?;
            ctx.print(v, |v| {
                let rows: Vec<String> = v["trades"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        format!(
                            "{:>8} {:<4} {:>10} x {:<8} slot {}",
                            t["fill_seq"],
                            t["taker_side"].as_str().unwrap_or(""),
                            t["price"],
                            t["qty_lots"],
                            t["slot"]
                        )
                    })
                    .collect();
                if rows.is_empty() {
                    "no trades".into()
                } else {
                    rows.join("\n")
                }
            });
        }
        Command::Orders { market, status, limit } => {
            let market = address(&market, "market")?;
            let owner = signer()?.pubkey();
            let v = ctx.api_get(&format!("/traders/{owner}/orders?market={market}&status={status}&limit={limit}"))?;
            ctx.print(v, |v| {
                let rows: Vec<String> = v["orders"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| {
                        format!(
                            "{} {:<4} {:>10} filled {}/{} {}",
                            o["order_id"].as_str().unwrap_or(""),
                            o["side"].as_str().unwrap_or(""),
                            o["price"],
                            o["filled_lots"],
                            o["qty_lots"],
                            o["status"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                if rows.is_empty() {
                    "no orders".into()
                } else {
                    rows.join("\n")
                }
            });
        }
        Command::Balances { market } => {
            let keys = ctx.market(&market)?.keys;
            let owner = signer()?.pubkey();
            let trader = pda::trader(&keys.market, &owner);
            let account = ctx
                .rpc
                .account(&trader)?
                .ok_or_else(|| anyhow!("{owner} has no trader account on {}: run `solex init`", keys.market))?;
            let (t, slots) = decode_trader(&account.data)?;
            let orders: Vec<Value> = slots
                .iter()
                .map(|s| {
                    json!({"order_id": s.order_id().to_string(), "side": s.side().as_str(),
                    "price": s.price, "client_order_id": s.client_order_id})
                })
                .collect();
            let v = json!({"owner": owner.to_string(), "trader": trader.to_string(),
                "base_available": t.base_available, "base_locked": t.base_locked,
                "quote_available": t.quote_available, "quote_locked": t.quote_locked, "open_orders": orders});
            ctx.print(v, |v| {
                format!(
                    "base  available {} locked {}\nquote available {} locked {}\nopen orders: {}",
                    v["base_available"],
                    v["base_locked"],
                    v["quote_available"],
                    v["quote_locked"],
                    v["open_orders"].as_array().unwrap().len()
                )
            });
        }
        Command::Init { market, max_orders } => {
            let keys = ctx.market(&market)?.keys;
            let kp = signer()?;
            let landed = ctx.send(&[ix::create_trader(kp.pubkey(), kp.pubkey(), keys.market, max_orders)], &[&kp])?;
            ctx.print(landed_json(&landed), |_| format!("trader account {}", pda::trader(&keys.market, &kp.pubkey())));
        }
        Command::Deposit(funds) => move_funds(&ctx, &signer()?, true, funds)?,
        Command::Withdraw(funds) => move_funds(&ctx, &signer()?, false, funds)?,
        Command::Place { market, side, price, qty, ui, order, sealing } => {
            let sealed = |price, qty| order.sealed(side, price, qty).map_err(|e| Usage(format!("--sealed: {e}")));
            if sealing.sealed {
                // What a sealed order cannot be is bad usage, whatever the market.
                sealed(0, 0)?;
            }
            let market = ctx.market(&market)?;
            let args = place_args(side, &price, &qty, ui.then(|| market.ui_terms()), &order)?;
            if sealing.sealed {
                let sealed = sealed(args.price, args.qty_lots)?;
                let m = &market.market;
                let collateral = (
                    sealing.collateral_base.map(|a| atoms(&a, "--collateral-base", ui, m.base_decimals)).transpose()?,
                    sealing
                        .collateral_quote
                        .map(|a| atoms(&a, "--collateral-quote", ui, m.quote_decimals))
                        .transpose()?,
                );
                let privacy = batch::Privacy { exact: sealing.exact_collateral, hide_side: sealing.hide_side };
                return batch::place_sealed(&ctx, &signer()?, &market, sealed, collateral, privacy);
            }
            if market.market.is_batch() && !matches!(args.order_type, OrderType::PostOnly | OrderType::PostOnlySlide) {
                bail!(
                    "market {} is a batch market: only post-only orders reach its book, and orders that take go to \
                     its batch auction sealed: add --sealed (limit, ioc or market), or --type post_only",
                    market.keys.market
                );
            }
            let kp = signer()?;
            let landed = ctx.send(&[ix::place_order(kp.pubkey(), &market.keys, args)], &[&kp])?;
            let placed = landed.events.iter().find_map(|e| match e {
                SolexEvent::OrderPlaced(o) => Some(o.clone()),
                _ => None,
            });
            let placed = placed.ok_or_else(|| anyhow!("no OrderPlaced event in {}", landed.signature))?;
            let mut v = landed_json(&landed);
            v["order"] = json!({"order_id": placed.order_id.to_string(), "price": placed.price, "filled_lots": placed.filled_lots,
                "filled_quote": placed.filled_quote, "taker_fee": placed.taker_fee, "rested_lots": placed.rested_lots,
                "fills": placed.fills.len()});
            ctx.print(v, |v| {
                let o = &v["order"];
                format!(
                    "order {} at {}: filled {} lots in {} fills, {} lots resting",
                    o["order_id"], o["price"], o["filled_lots"], o["fills"], o["rested_lots"]
                )
            });
        }
        Command::Cancel { market, order_id, side, client_id } => {
            let keys = ctx.market(&market)?.keys;
            let kp = signer()?;
            let ix = match (order_id, side, client_id) {
                (Some(id), Some(side), _) => ix::cancel_order(kp.pubkey(), &keys, side, id),
                (None, _, Some(cid)) => ix::cancel_by_client_id(kp.pubkey(), kp.pubkey(), &keys, cid),
                _ => bail!("name the order: --order-id ID --side bid|ask, or --client-id N"),
            };
            let landed = ctx.send(&[ix], &[&kp])?;
            ctx.print(landed_json(&landed), |_| "cancelled".into());
        }
        Command::CancelAll { market, side } => {
            let keys = ctx.market(&market)?.keys;
            let kp = signer()?;
            let ix = ix::cancel_all(kp.pubkey(), kp.pubkey(), &keys, side, MAX_BATCH);
            let landed = ctx.send(&[ix], &[&kp])?;
            let n: usize = landed
                .events
                .iter()
                .map(|e| match e {
                    SolexEvent::OrdersCancelled(c) => c.orders.len(),
                    _ => 0,
                })
                .sum();
            ctx.print(landed_json(&landed), |_| format!("cancelled {n} orders"));
        }
        Command::Settle { market } => {
            let market = ctx.market(&market)?;
            let kp = signer()?;
            let (bp, qp) = market.token_programs()?;
            let landed = ctx.send(&flow::settle(&kp.pubkey(), &market.keys, bp, qp), &[&kp])?;
            ctx.print(landed_json(&landed), |_| "settled to your associated token accounts".into());
        }
        Command::CreateMarket {
            base_mint,
            quote_mint,
            lot,
            tick,
            min_lots,
            maker_fee_bps,
            taker_fee_bps,
            id,
            batch,
        } => {
            let kp = signer()?;
            let (base, quote) = (address(&base_mint, "base mint")?, address(&quote_mint, "quote mint")?);
            let args = solex::CreateMarketArgs {
                market_id: id,
                base_lot_size: lot,
                quote_tick_size: tick,
                min_order_lots: min_lots,
                maker_fee_bps,
                taker_fee_bps,
            };
            let programs = ctx.rpc.owners(&[base, quote])?;
            let program = |i: usize, mint: &Pubkey| {
                programs.get(i).copied().flatten().ok_or_else(|| anyhow!("mint {mint} not found"))
            };
            let (base_program, quote_program) = (program(0, &base)?, program(1, &quote)?);
            let (bids, asks, queue) = (Keypair::new(), Keypair::new(), Keypair::new());
            let keys = MarketKeys::new(base, quote, id, bids.pubkey(), asks.pubkey(), queue.pubkey());
            let rent = |len: usize| ctx.rpc.rent_exempt(len).context("getMinimumBalanceForRentExemption");
            let create = |new: &Keypair, len: usize| -> anyhow::Result<Instruction> {
                Ok(solex_sdk::instructions::create_program_account(&kp.pubkey(), &new.pubkey(), rent(len)?, len))
            };
            let mut ixs = vec![
                create(&bids, BookSide::LEN)?,
                create(&asks, BookSide::LEN)?,
                create(&queue, solex_sdk::FillQueue::LEN)?,
                ix::create_market(kp.pubkey(), kp.pubkey(), &keys, base_program, quote_program, args),
            ];
            let auction = Keypair::new();
            let mut signers = vec![&kp, &bids, &asks, &queue];
            if let Some(set) = &batch.keyper_set {
                let keyper_set = address(set, "keyper set")?;
                let auction_keys =
                    solex_sdk::auction::AuctionKeys { market: keys, auction: auction.pubkey(), keyper_set };
                let rules = solex::CreateAuctionArgs {
                    batch_slots: batch.batch_slots,
                    reveal_timeout_slots: batch.reveal_timeout_slots,
                    sealed_fee: batch.sealed_fee,
                };
                let space = solex::state::Auction::space(batch.batch_capacity);
                ixs.extend(solex_sdk::auction::create_auction(
                    kp.pubkey(),
                    kp.pubkey(),
                    &auction_keys,
                    batch.batch_capacity,
                    rent(space)?,
                    rules,
                ));
                signers.push(&auction);
            }
            let landed = ctx.send(&ixs, &signers)?;
            let mut v = landed_json(&landed);
            v["market"] = json!(keys.market.to_string());
            if batch.keyper_set.is_some() {
                v["auction"] = json!(auction.pubkey().to_string());
            }
            ctx.print(v, |v| match v["auction"].as_str() {
                Some(a) => format!("batch market {} (auction {a})", v["market"].as_str().unwrap()),
                None => format!("market {}", v["market"].as_str().unwrap()),
            });
        }
    }
    Ok(())
}

/// What deposit and withdraw take.
#[derive(clap::Args)]
struct Funds {
    market: String,
    asset: Asset,
    /// Token atoms (with --ui: tokens, e.g. 1.5).
    amount: String,
    /// Your token account to pay from or to (default: your associated token account).
    #[arg(long)]
    token_account: Option<String>,
    /// The amount is in tokens (decimal), not atoms.
    #[arg(long)]
    ui: bool,
}

/// The program's arguments for `place`: price and quantity in ticks and lots, or
/// with `terms` (--ui) in decimal tokens; the rest as the transaction API builds it.
fn place_args(
    side: Side,
    price: &str,
    qty: &str,
    terms: Option<flow::UiTerms>,
    order: &OrderOptions,
) -> anyhow::Result<PlaceOrderArgs> {
    let (price, qty) = match terms {
        Some(terms) => (
            flow::ui_ticks(price, &terms).map_err(|e| anyhow!("--price {e}"))?,
            flow::ui_lots(qty, &terms).map_err(|e| anyhow!("--qty {e}"))?,
        ),
        None => (whole(price, "--price", "ticks")?, whole(qty, "--qty", "lots")?),
    };
    Ok(order.args(side, price, qty))
}

/// A whole number of `unit`s, or a message pointing at --ui for decimals.
fn whole(value: &str, flag: &str, unit: &str) -> anyhow::Result<u64> {
    value
        .parse()
        .map_err(|_| anyhow!("{flag} {value:?} is not a whole number of {unit} (--ui takes decimal token amounts)"))
}

/// An amount of token atoms, or with `ui` set, a decimal number of tokens of `decimals`.
fn atoms(value: &str, what: &str, ui: bool, decimals: u8) -> anyhow::Result<u64> {
    if ui {
        flow::ui_atoms(value, decimals).map_err(|e| anyhow!("{what} {e}"))
    } else {
        whole(value, what, "atoms")
    }
}

/// A deposit (`deposit`) or a withdrawal of `funds`: `amount` is atoms, or with
/// `ui` set, a decimal number of tokens.
fn move_funds(ctx: &Ctx, kp: &Keypair, deposit: bool, funds: Funds) -> anyhow::Result<()> {
    let Funds { market, asset, amount, token_account, ui } = funds;
    let market = ctx.market(&market)?;
    let (mint, program) = market.asset(matches!(asset, Asset::Base))?;
    let decimals = match asset {
        Asset::Base => market.market.base_decimals,
        Asset::Quote => market.market.quote_decimals,
    };
    let amount = atoms(&amount, "amount", ui, decimals)?;
    let wallet = token_account.map(|a| address(&a, "token account")).transpose()?;
    let ixs = flow::move_funds(deposit, &kp.pubkey(), &market.keys, mint, program, wallet, amount);
    let landed = ctx.send(&ixs, &[kp])?;
    ctx.print(landed_json(&landed), |_| format!("{} {amount} atoms", if deposit { "deposited" } else { "withdrew" }));
    Ok(())
}

mod batch;
#[cfg(test)]
mod order_defaults;
