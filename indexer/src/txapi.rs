//! The transaction API: builds unsigned transactions for a wallet to sign (place,
//! cancel, cancel all, deposit, withdraw, settle; on a batch market, submit and
//! cancel a sealed order) and relays signed ones, reporting the outcome with the
//! program's error decoded. The server never holds a key: every transaction is paid
//! and signed by the wallet (`owner`).
//!
//! Batch markets (ADR 8): the server never sees a sealed order's contents. The
//! client reads the batch collecting now and its key (`GET
//! /markets/{market}/batch-key`, read from the chain), seals the order itself, and
//! sends only the ciphertext and the collateral it locks (`POST /tx/sealed`), which
//! the server wraps into `submit_sealed` as it is.
//!
//! It is a public endpoint that spends RPC capacity, so it defends itself:
//! - the relay takes only Solex's own order flow: every instruction is the
//!   program's, the compute-budget program's, or an associated-token-account
//!   create (idempotent or not), with at least one of the program's; anything else
//!   (a system transfer, another program) is refused with `program_not_allowed`;
//! - every signature is verified (ed25519, strict, as the cluster does) before the
//!   transaction is sent: `unsigned` or `invalid_signature` otherwise;
//! - at most `--tx-max-in-flight` relays (and as many builds) run at once, beyond
//!   that 503 `busy`; each client (source IP, IPv6 by /64) has a token bucket,
//!   beyond it 429 `rate_limited`, both with `Retry-After` and never a queue;
//! - a relay polls for confirmation with backoff for a bounded time, without
//!   holding a thread, and then answers 202 `pending` with the signature;
//! - builders read the named `market` with a bounded slice and use it only when it
//!   is owned by the program and exactly `Market::LEN` bytes long;
//! - browsers may call `/tx/*` only from the configured origins (CORS; none by
//!   default: the indexer's own page is same-origin).
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};
use solana_transaction::Transaction;
use solex::state::{Auction, KeyperSet, RoundKey, RoundKeyStatus};
use solex_sdk::auction::{self as ax, AuctionKeys};
use solex_sdk::flow::{self, MarketContext, MarketError, OrderOptions};
use solex_sdk::rpc::{custom_code, RpcClient, RpcError, Status};
use solex_sdk::submit::Rejected;
use solex_sdk::{instructions as ix, Instruction, Named, OrderType, PlaceOrderArgs, Pubkey, Side, MAX_BATCH};
use tokio::sync::Semaphore;

use crate::http::{ApiError, App};

/// The largest transaction the cluster takes (a UDP packet's payload).
pub const PACKET_DATA_SIZE: usize = 1232;
pub const COMPUTE_BUDGET_PROGRAM: Pubkey = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
pub const ASSOCIATED_TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
pub const TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_2022_PROGRAM: Pubkey = Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

// ---- settings ---------------------------------------------------------------------

/// The transaction API's settings: flags (and environment variables) of
/// `solex-indexer run` and `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct TxSettings {
    /// An origin (scheme://host[:port]) whose pages may call /tx/* from a browser
    /// (CORS); repeat the flag or separate with commas. Default: none (the page the
    /// indexer serves is same-origin and needs none). Read-only REST is open to all.
    #[arg(long = "tx-allowed-origin", env = "SOLEX_TX_ALLOWED_ORIGINS", value_delimiter = ',', global = true)]
    pub allowed_origins: Vec<String>,
    /// Most relays (/tx/send) in flight at once, and as many builds; beyond: 503 `busy`.
    #[arg(long, env = "SOLEX_TX_MAX_IN_FLIGHT", default_value_t = TxSettings::DEFAULT_MAX_IN_FLIGHT, global = true)]
    pub tx_max_in_flight: usize,
    /// Requests per second each client may make to /tx/* (its token bucket's refill).
    #[arg(long, env = "SOLEX_TX_RATE", default_value_t = TxSettings::DEFAULT_RATE, global = true)]
    pub tx_rate_per_sec: f64,
    /// Requests a client may make at once before the rate applies (the bucket's size).
    #[arg(long, env = "SOLEX_TX_BURST", default_value_t = TxSettings::DEFAULT_BURST, global = true)]
    pub tx_burst: u32,
    /// How long /tx/send waits for confirmation before answering 202 `pending`.
    #[arg(long, env = "SOLEX_TX_CONFIRM_TIMEOUT_MS", default_value_t = TxSettings::DEFAULT_CONFIRM_TIMEOUT_MS, global = true)]
    pub tx_confirm_timeout_ms: u64,
    /// Rate-limit by the last address in X-Forwarded-For (set it only behind a
    /// proxy that writes that header; otherwise clients could pick their own key).
    #[arg(long, env = "SOLEX_TX_TRUST_FORWARDED_FOR", global = true)]
    pub tx_trust_forwarded_for: bool,
}

impl TxSettings {
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;
    pub const DEFAULT_RATE: f64 = 5.0;
    pub const DEFAULT_BURST: u32 = 60;
    pub const DEFAULT_CONFIRM_TIMEOUT_MS: u64 = 20_000;
}

impl Default for TxSettings {
    fn default() -> Self {
        Self {
            allowed_origins: vec![],
            tx_max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            tx_rate_per_sec: Self::DEFAULT_RATE,
            tx_burst: Self::DEFAULT_BURST,
            tx_confirm_timeout_ms: Self::DEFAULT_CONFIRM_TIMEOUT_MS,
            tx_trust_forwarded_for: false,
        }
    }
}

static SETTINGS: OnceLock<TxSettings> = OnceLock::new();

/// Sets the process's transaction API settings (once, before serving; `main` does).
pub fn configure(settings: TxSettings) {
    let _ = SETTINGS.set(settings);
}

/// The settings in force (the defaults unless `configure` was called).
pub fn settings() -> &'static TxSettings {
    SETTINGS.get_or_init(TxSettings::default)
}

/// The CORS policy of `/tx/*` (and `/markets/{market}/batch-key`): only the
/// configured origins, POST with a JSON body (and that GET).
pub fn cors(settings: &TxSettings) -> tower_http::cors::CorsLayer {
    let origins: Vec<HeaderValue> = settings
        .allowed_origins
        .iter()
        .map(|o| o.trim().trim_end_matches('/'))
        .filter(|o| !o.is_empty())
        .filter_map(|o| {
            HeaderValue::from_str(o).map_err(|_| tracing::warn!(origin = o, "ignoring an invalid allowed origin")).ok()
        })
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins))
        .allow_methods([axum::http::Method::POST, axum::http::Method::GET])
        .allow_headers([axum::http::header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

// ---- limits -----------------------------------------------------------------------

/// Most clients tracked at once by the rate limiter (buckets that refilled are dropped first).
const MAX_CLIENTS: usize = 100_000;

/// The limits of `/tx/*`, shared by its routes.
pub struct Guard {
    relays: Arc<Semaphore>,
    builds: Arc<Semaphore>,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    rate: f64,
    burst: f64,
    confirm_timeout: Duration,
    trust_forwarded_for: bool,
    /// The configured origins, without a trailing slash.
    origins: Vec<String>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Guard {
    pub fn new(s: &TxSettings) -> Arc<Self> {
        let slots = s.tx_max_in_flight.max(1);
        Arc::new(Self {
            relays: Arc::new(Semaphore::new(slots)),
            builds: Arc::new(Semaphore::new(slots)),
            buckets: Mutex::new(HashMap::new()),
            rate: if s.tx_rate_per_sec.is_finite() { s.tx_rate_per_sec.max(0.0) } else { 0.0 },
            burst: s.tx_burst.max(1) as f64,
            confirm_timeout: Duration::from_millis(s.tx_confirm_timeout_ms),
            trust_forwarded_for: s.tx_trust_forwarded_for,
            origins: s.allowed_origins.iter().map(|o| o.trim().trim_end_matches('/').to_string()).collect(),
        })
    }

    /// Whether a browser page at the request's `Origin` may use the API: the page
    /// the indexer serves itself (same host), or a configured origin. Requests
    /// without an `Origin` (wallets, servers, the CLI) are not browsers' and pass.
    /// So other sites cannot make their visitors' browsers spend this API's limits.
    fn origin_allowed(&self, request: &Request) -> bool {
        let Some(origin) = request.headers().get(axum::http::header::ORIGIN) else { return true };
        let Ok(origin) = origin.to_str() else { return false };
        let host = request.headers().get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
        let same = host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
        same || self.origins.iter().any(|o| o == origin)
    }

    /// Takes one token from `client`'s bucket; otherwise the seconds until one is there.
    fn take(&self, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| b.tokens + rate * now.duration_since(b.at).as_secs_f64() < burst);
            if buckets.len() >= MAX_CLIENTS {
                return Err(1);
            }
        }
        let b = buckets.entry(client).or_insert(Bucket { tokens: self.burst, at: now });
        b.tokens = (b.tokens + self.rate * now.duration_since(b.at).as_secs_f64()).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else if self.rate > 0.0 {
            Err(((1.0 - b.tokens) / self.rate).ceil().max(1.0) as u64)
        } else {
            Err(60)
        }
    }

    /// Who is asking: the peer's address (IPv6 by its /64), or the proxy's X-Forwarded-For.
    fn client(&self, request: &Request) -> IpAddr {
        let forwarded = self
            .trust_forwarded_for
            .then(|| request.headers().get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| IpAddr::from_str(v.trim()).ok());
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        match forwarded.or(peer).unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)) {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
            },
            v4 => v4,
        }
    }
}

/// Middleware of `/tx/*`: a browser page's origin (403 `origin_not_allowed` when it
/// is neither this server nor configured), then the client's token bucket (429
/// `rate_limited` when empty).
pub async fn rate_limit(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if !guard.origin_allowed(&request) {
        return Refusal::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "pages of this origin may not use the transaction API (see --tx-allowed-origin)",
        )
        .into_response();
    }
    let client = guard.client(&request);
    match guard.take(client) {
        Ok(()) => next.run(request).await,
        Err(retry) => Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many transaction API requests from {client}; retry in {retry} s"),
        )
        .retry_after(retry)
        .into_response(),
    }
}

fn busy(what: &str) -> Refusal {
    Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "busy", format!("too many {what} in flight; retry shortly"))
        .retry_after(1)
}

// ---- errors -----------------------------------------------------------------------

/// A refusal of the transaction API: an `ApiError`, or one with its own status.
pub enum Refusal {
    Api(ApiError),
    Tx { status: StatusCode, code: &'static str, message: String, retry_after: Option<u64> },
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Tx { status, code, message: message.into(), retry_after: None }
    }

    fn retry_after(self, secs: u64) -> Self {
        match self {
            Self::Tx { status, code, message, .. } => Self::Tx { status, code, message, retry_after: Some(secs) },
            api => api,
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Tx { status, code, message, retry_after } => {
                let mut r = (status, Json(json!({"code": code, "message": message}))).into_response();
                if let Some(secs) = retry_after {
                    r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
                }
                r
            }
        }
    }
}

type TxResult = Result<Json<Value>, Refusal>;

// ---- request bodies ---------------------------------------------------------------

/// A request body: a JSON object whose fields are read with validation.
struct Body(Value);

impl Body {
    fn parse(bytes: &Bytes) -> Result<Self, ApiError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) if v.is_object() => Ok(Self(v)),
            _ => Err(ApiError::bad("invalid_body", "the body must be a JSON object")),
        }
    }

    fn str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match &self.0[name] {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            _ => Err(ApiError::bad("invalid_field", format!("{name} must be a string"))),
        }
    }

    fn address(&self, name: &str) -> Result<Option<Pubkey>, ApiError> {
        self.str(name)?
            .map(|s| {
                Pubkey::from_str(s)
                    .map_err(|_| ApiError::bad("invalid_field", format!("{name}: {s:?} is not a base58 address")))
            })
            .transpose()
    }

    fn required_address(&self, name: &str) -> Result<Pubkey, ApiError> {
        self.address(name)?.ok_or_else(|| ApiError::bad("missing_field", format!("{name} is required")))
    }

    /// An unsigned integer, as a JSON number or a decimal string (u128 ids do not fit a JSON number).
    fn uint<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        flow::json::uint_value(&self.0[name]).map_err(|m| ApiError::bad("invalid_field", format!("{name} {m}")))
    }

    fn required_uint<T: FromStr>(&self, name: &str) -> Result<T, ApiError> {
        self.uint(name)?.ok_or_else(|| ApiError::bad("missing_field", format!("{name} is required")))
    }

    /// Exactly `N` bytes as hex (`2 * N` digits, either case).
    fn required_hex<const N: usize>(&self, name: &str) -> Result<[u8; N], ApiError> {
        let s = self.str(name)?.ok_or_else(|| ApiError::bad("missing_field", format!("{name} is required")))?;
        let bad = || ApiError::bad("invalid_field", format!("{name} must be {} hex digits ({N} bytes)", 2 * N));
        if s.len() != 2 * N || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; N];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(out)
    }

    /// A name of the order vocabulary (`bid`, `post_only`, ...; see `solex::order`).
    fn named<T: Named>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.str(name)?
            .map(|s| T::from_name(s).map_err(|e| ApiError::bad("invalid_field", format!("{name}: {e}"))))
            .transpose()
    }

    /// The order's optional fields (`type`, `client_id`, `max_quote`, `self_trade`,
    /// `expire_slot`, `max_fills`), read as the CLI reads its flags; null is absent.
    fn order_options(&self) -> Result<OrderOptions, ApiError> {
        serde_path_to_error::deserialize(&flow::json::without_nulls(&self.0))
            .map_err(|e| ApiError::bad("invalid_field", format!("{}: {}", e.path(), e.inner())))
    }
}

/// The program's arguments for a `/tx/place` body (`side`, `price`, `qty` and the
/// optional fields), with the defaults every front end applies (`OrderOptions`).
pub fn place_args(body: &Value) -> Result<PlaceOrderArgs, ApiError> {
    let b = match body {
        Value::Object(_) => Body(body.clone()),
        _ => return Err(ApiError::bad("invalid_body", "the body must be a JSON object")),
    };
    let side: Side = b.named("side")?.ok_or_else(|| ApiError::bad("missing_field", "side is required"))?;
    let (price, qty) = (b.required_uint("price")?, b.required_uint("qty")?);
    Ok(b.order_options()?.args(side, price, qty))
}

// ---- the chain --------------------------------------------------------------------

fn rpc(app: &App) -> Result<Arc<RpcClient>, ApiError> {
    app.rpc.clone().ok_or_else(|| ApiError::unavailable("the transaction API needs an RPC endpoint"))
}

fn chain_error(e: RpcError) -> ApiError {
    match e {
        RpcError::Rpc { message, .. } => ApiError::bad("invalid_transaction", message),
        other => {
            tracing::warn!(error = %other, "RPC failed");
            ApiError::unavailable("chain unavailable")
        }
    }
}

/// Runs a blocking RPC call on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| ApiError::unavailable("chain unavailable"))
}

/// What a builder needs from the chain: the market (its accounts and its mints'
/// token programs) and a recent blockhash.
struct Chain {
    market: MarketContext,
    blockhash: solana_hash::Hash,
}

fn market_error(e: MarketError) -> ApiError {
    match e {
        e @ MarketError::NotAMarket(..) => ApiError::not_found("unknown_market", e.to_string()),
        MarketError::NoMint(_) => ApiError::unavailable("the market's mint was not found"),
        MarketError::Rpc(e) => chain_error(e),
    }
}

/// Reads the market (bounded; anything that is not a Solex market is refused, see
/// `MarketContext::load`) and a blockhash.
async fn chain(rpc: Arc<RpcClient>, market: Pubkey) -> Result<Chain, ApiError> {
    blocking(move || -> Result<Chain, ApiError> {
        let market = MarketContext::load(&rpc, market).map_err(market_error)?;
        Ok(Chain { market, blockhash: rpc.latest_blockhash().map_err(chain_error)? })
    })
    .await?
}

// ---- builders ---------------------------------------------------------------------

/// Builds the transaction `build` composes for the body's market and owner.
async fn build(
    app: App,
    guard: Arc<Guard>,
    bytes: Bytes,
    build: impl FnOnce(&Body, &Pubkey, &Chain) -> Result<Vec<Instruction>, ApiError>,
) -> TxResult {
    let body = Body::parse(&bytes)?;
    let market = body.required_address("market")?;
    let owner = body.required_address("owner")?;
    let rpc = rpc(&app)?;
    let _slot = guard.builds.clone().try_acquire_owned().map_err(|_| busy("transaction builds"))?;
    let chain = chain(rpc, market).await?;
    let ixs = build(&body, &owner, &chain)?;
    Ok(Json(unsigned(&ixs, &owner, chain.blockhash)))
}

/// The answer of every builder: the unsigned transaction (base64 bincode) and what it is.
fn unsigned(ixs: &[Instruction], owner: &Pubkey, blockhash: solana_hash::Hash) -> Value {
    json!({
        "transaction": flow::unsigned_transaction(ixs, owner, blockhash),
        "payer": owner.to_string(),
        "blockhash": blockhash.to_string(),
        "instructions": ixs.len(),
    })
}

/// `/tx/place`. On a batch market the book takes only post-only orders: any other
/// is refused here (`sealed_order_required`), before the chain would
/// (`BatchMarketTakes`), saying where such an order goes.
pub async fn place(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    build(app, guard, bytes, |b, owner, c| {
        let args = place_args(&b.0)?;
        if c.market.market.is_batch() && !matches!(args.order_type, OrderType::PostOnly | OrderType::PostOnlySlide) {
            let m = c.market.keys.market;
            return Err(ApiError::bad(
                "sealed_order_required",
                format!(
                    "{m} is a batch market: its book takes only post-only orders (post_only, post_only_slide), and \
                     an order that takes ({}) goes to its batch auction sealed: read the batch and its key with GET \
                     /markets/{m}/batch-key, seal the order in the client, and build it with POST /tx/sealed",
                    args.order_type
                ),
            ));
        }
        Ok(vec![ix::place_order(*owner, &c.market.keys, args)])
    })
    .await
}

pub async fn cancel(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    build(app, guard, bytes, |b, owner, c| {
        let (side, keys) = (b.named::<Side>("side")?, &c.market.keys);
        match (b.uint::<u128>("order_id")?, side, b.uint::<u64>("client_id")?) {
            (Some(id), Some(side), _) => Ok(vec![ix::cancel_order(*owner, keys, side, id)]),
            (None, _, Some(cid)) => Ok(vec![ix::cancel_by_client_id(*owner, *owner, keys, cid)]),
            _ => Err(ApiError::bad("missing_field", "name the order: order_id with side, or client_id")),
        }
    })
    .await
}

pub async fn cancel_all(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    build(app, guard, bytes, |b, owner, c| {
        let side = b.named::<Side>("side")?;
        Ok(vec![ix::cancel_all(*owner, *owner, &c.market.keys, side, MAX_BATCH)])
    })
    .await
}

fn funds(deposit: bool, b: &Body, owner: &Pubkey, c: &Chain) -> Result<Vec<Instruction>, ApiError> {
    let base = match b.str("asset")? {
        Some("base") => true,
        Some("quote") => false,
        _ => return Err(ApiError::bad("invalid_field", "asset must be base or quote")),
    };
    let amount = b.required_uint("amount")?;
    let (mint, program) = c.market.asset(base).map_err(market_error)?;
    Ok(flow::move_funds(deposit, owner, &c.market.keys, mint, program, b.address("token_account")?, amount))
}

pub async fn deposit(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    build(app, guard, bytes, |b, owner, c| funds(true, b, owner, c)).await
}

pub async fn withdraw(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    build(app, guard, bytes, |b, owner, c| funds(false, b, owner, c)).await
}

pub async fn settle(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    build(app, guard, bytes, |_, owner, c| {
        let (base_program, quote_program) = c.market.token_programs().map_err(market_error)?;
        Ok(flow::settle(owner, &c.market.keys, base_program, quote_program))
    })
    .await
}

// ---- batch markets ----------------------------------------------------------------

/// A batch market as the chain holds it: the market, its auction's header (read with
/// a bounded slice) and the slot it was read at.
struct BatchChain {
    market: MarketContext,
    keys: AuctionKeys,
    auction: Auction,
    slot: u64,
}

fn not_batch_market(market: &Pubkey) -> ApiError {
    ApiError::bad(
        "not_batch_market",
        format!("{market} is a continuous market, not a batch market: its orders go to /tx/place as they are"),
    )
}

/// An account's owner and (a slice of) its data.
type Read = Option<(Pubkey, Vec<u8>)>;

/// One account's owner and `len` bytes of its data from `offset` (getAccountInfo
/// with a data slice), and the slot it was read at; None when it does not exist.
fn account_slice(rpc: &RpcClient, key: &Pubkey, offset: usize, len: usize) -> Result<(u64, Read), RpcError> {
    use base64::Engine;
    let v = rpc.call(
        "getAccountInfo",
        json!([key.to_string(), {"encoding": "base64", "commitment": rpc.commitment,
            "dataSlice": {"offset": offset, "length": len}}]),
    )?;
    let slot = v["context"]["slot"].as_u64().unwrap_or_default();
    let value = &v["value"];
    if value.is_null() {
        return Ok((slot, None));
    }
    let owner = value["owner"].as_str().and_then(|o| Pubkey::from_str(o).ok()).unwrap_or_default();
    let data = base64::engine::general_purpose::STANDARD
        .decode(value["data"][0].as_str().unwrap_or_default())
        .map_err(|e| RpcError::Transport(e.to_string()))?;
    Ok((slot, Some((owner, data))))
}

/// A program account of type `T` read from `account_slice`, or why not.
fn program_account<T: anchor_lang::ZeroCopy + anchor_lang::Discriminator>(
    read: Read,
    what: &str,
) -> Result<T, ApiError> {
    let unreadable = || ApiError::unavailable(format!("the market's {what} account could not be read"));
    match read {
        Some((owner, data)) if owner == solex::ID => solex_sdk::accounts::decode(&data).map_err(|_| unreadable()),
        _ => Err(unreadable()),
    }
}

/// Reads the market (refusing a continuous one) and its auction's header.
async fn batch_chain(rpc: Arc<RpcClient>, market: Pubkey) -> Result<BatchChain, ApiError> {
    blocking(move || -> Result<BatchChain, ApiError> {
        let context = MarketContext::load(&rpc, market).map_err(market_error)?;
        if !context.market.is_batch() {
            return Err(not_batch_market(&market));
        }
        let auction_key = context.market.auction;
        let (slot, read) = account_slice(&rpc, &auction_key, 0, Auction::LEN).map_err(chain_error)?;
        let auction: Auction = program_account(read, "auction")?;
        if auction.market != market || auction.batch_slots == 0 {
            return Err(ApiError::unavailable("the market's auction account is not its auction"));
        }
        let keys = AuctionKeys { market: context.keys, auction: auction_key, keyper_set: auction.keyper_set };
        Ok(BatchChain { market: context, keys, auction, slot })
    })
    .await?
}

fn round_key_status(status: RoundKeyStatus) -> &'static str {
    match status {
        RoundKeyStatus::Empty => "missing",
        RoundKeyStatus::Pending => "pending",
        RoundKeyStatus::Active => "active",
        RoundKeyStatus::Disputed => "disputed",
        RoundKeyStatus::Released => "released",
    }
}

/// Milliseconds per slot lately (the cluster's last performance sample, asked at
/// most once a minute), for a countdown in seconds; 400 (the target) until a sample exists.
fn slot_ms(rpc: &RpcClient) -> f64 {
    static CACHE: Mutex<Option<(Instant, f64)>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((at, ms)) = *cache {
        if at.elapsed() < Duration::from_secs(60) {
            return ms;
        }
    }
    let sampled = rpc.call("getRecentPerformanceSamples", json!([1])).ok().and_then(|v| {
        let s = v.get(0)?;
        let (slots, secs) = (s["numSlots"].as_u64()?, s["samplePeriodSecs"].as_u64()?);
        (slots > 0).then(|| (secs as f64 * 1000.0 / slots as f64).clamp(50.0, 5_000.0))
    });
    let ms = sampled.unwrap_or(400.0);
    *cache = Some((Instant::now(), ms));
    ms
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `GET /markets/{market}/batch-key`: what a client needs to seal an order for the
/// batch collecting now, read from the chain (the market, its auction and its keyper
/// set, each with a bounded slice): the batch, the slot it closes at, the keyper round
/// whose key seals it and that key (`group_key`, hex; null with `key_status` other
/// than active when the keypers have not registered a usable one), the slot it was
/// read at and a countdown, and the terms the collateral rule needs. The server does
/// not compute the collateral (it never sees the order): the client applies
/// `solex_sdk::auction::envelope`'s rule with these terms (the page: `envelope` in
/// `web/seal.js`). Rate-limited like `/tx/*` (it reads the chain).
pub async fn batch_key(
    State(app): State<App>,
    Extension(guard): Extension<Arc<Guard>>,
    axum::extract::Path(market): axum::extract::Path<String>,
) -> TxResult {
    let market = Pubkey::from_str(&market)
        .map_err(|_| ApiError::bad("invalid_market", format!("{market:?} is not a base58 address")))?;
    let rpc = rpc(&app)?;
    let _slot = guard.builds.clone().try_acquire_owned().map_err(|_| busy("transaction builds"))?;
    let c = batch_chain(rpc.clone(), market).await?;
    let keyper_set = c.keys.keyper_set;
    let (set, entry, ms) = blocking(move || -> Result<(KeyperSet, Option<RoundKey>, f64), ApiError> {
        let (_, read) = account_slice(&rpc, &keyper_set, 0, KeyperSet::LEN).map_err(chain_error)?;
        let set: KeyperSet = program_account(read, "keyper set")?;
        if set.capacity == 0 || set.round_slots == 0 {
            return Err(ApiError::unavailable("the market's keyper set account could not be read"));
        }
        let (_, _, round) = ax::batch_at(&c.auction, &set, c.slot);
        let at = KeyperSet::LEN + (round % set.capacity as u64) as usize * RoundKey::LEN;
        let (_, read) = account_slice(&rpc, &keyper_set, at, RoundKey::LEN).map_err(chain_error)?;
        let entry = read
            .filter(|(owner, data)| *owner == solex::ID && data.len() == RoundKey::LEN)
            .map(|(_, data)| anchor_lang::__private::bytemuck::pod_read_unaligned::<RoundKey>(&data));
        Ok((set, entry, slot_ms(&rpc)))
    })
    .await??;
    let (batch, close_slot, round) = ax::batch_at(&c.auction, &set, c.slot);
    let entry = entry.filter(|e| e.round == round);
    let key_status = entry.as_ref().map_or("missing", |e| round_key_status(e.status()));
    let group_key = entry.as_ref().filter(|e| e.usable(round)).map(|e| hex(&e.group_key));
    let header = &c.auction.batches[Auction::header_index(batch)];
    let orders = if header.status != 0 && header.batch_id == batch { header.count } else { 0 };
    let slots_left = close_slot.saturating_sub(c.slot);
    let m = &c.market.market;
    Ok(Json(json!({
        "market": market.to_string(),
        "auction": c.keys.auction.to_string(),
        "keyper_set": keyper_set.to_string(),
        "slot": c.slot,
        "batch_id": batch,
        "close_slot": close_slot,
        "slots_left": slots_left,
        "slot_ms": ms.round() as u64,
        "seconds_left": (slots_left as f64 * ms / 100.0).round() / 10.0,
        "key_round": round,
        "key_status": key_status,
        "group_key": group_key,
        "orders": orders,
        "capacity": c.auction.capacity,
        "batch_slots": c.auction.batch_slots,
        "last_price": c.auction.last_price,
        "collateral_terms": {
            "base_lot_size": m.base_lot_size,
            "quote_tick_size": m.quote_tick_size,
            "taker_fee_bps": m.taker_fee_bps,
            "maker_fee_bps": m.maker_fee_bps,
            "sealed_fee": c.auction.sealed_fee,
        },
    })))
}

/// `POST /tx/sealed`: `submit_sealed` around a sealed order the client made:
/// `batch_id`, `ephemeral` (32 bytes), `ciphertext` (40), `tag` (16), each as hex, and
/// the collateral it locks, `collateral_base` and `collateral_quote` (atoms, the
/// quote including the sealed-order fee). Refused before the chain: a batch already
/// closed (`batch_closed`) or not yet open (`batch_not_open`), quote collateral below
/// the fee (`collateral_below_fee`), an ephemeral key that is not a ristretto255 point
/// (`invalid_field`: the program would void the order and keep its fee).
pub async fn sealed(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    let body = Body::parse(&bytes)?;
    let market = body.required_address("market")?;
    let owner = body.required_address("owner")?;
    let batch_id: u64 = body.required_uint("batch_id")?;
    let ephemeral = body.required_hex::<32>("ephemeral")?;
    if !solex_seal::valid_point(&ephemeral) {
        return Err(
            ApiError::bad("invalid_field", "ephemeral is not a ristretto255 point: nothing could open it").into()
        );
    }
    let ciphertext = body.required_hex::<40>("ciphertext")?;
    let tag = body.required_hex::<16>("tag")?;
    let base_envelope: u64 = body.required_uint("collateral_base")?;
    let quote_envelope: u64 = body.required_uint("collateral_quote")?;
    let rpc = rpc(&app)?;
    let _slot = guard.builds.clone().try_acquire_owned().map_err(|_| busy("transaction builds"))?;
    let c = batch_chain(rpc.clone(), market).await?;
    let current = c.auction.batch_at(c.slot);
    let conflict = |code, message: String| Err(Refusal::new(StatusCode::CONFLICT, code, message));
    if batch_id < current {
        return conflict(
            "batch_closed",
            format!("batch {batch_id} has closed; batch {current} is collecting now (seal the order again for it)"),
        );
    }
    // One batch ahead is let through: the chain's slot may have moved on by then.
    if batch_id > current.saturating_add(1) {
        return conflict("batch_not_open", format!("batch {batch_id} is not open; batch {current} is collecting now"));
    }
    let fee = c.auction.sealed_fee;
    if quote_envelope < fee {
        return Err(ApiError::bad(
            "collateral_below_fee",
            format!("collateral_quote {quote_envelope} is below the sealed-order fee of {fee} quote atoms it includes"),
        )
        .into());
    }
    let blockhash = {
        let rpc = rpc.clone();
        blocking(move || rpc.latest_blockhash()).await?.map_err(chain_error)?
    };
    let args = solex::SubmitSealedArgs { batch_id, ephemeral, ciphertext, tag, base_envelope, quote_envelope };
    let ixs = [ax::submit_sealed(owner, &c.keys, args)];
    let mut out = unsigned(&ixs, &owner, blockhash);
    out["batch_id"] = json!(batch_id);
    out["close_slot"] = json!(c.auction.close_slot(batch_id));
    Ok(Json(out))
}

/// `POST /tx/cancel-sealed`: `cancel_sealed` of the owner's sealed order `index` in
/// batch `batch_id` (before the batch closes; its collateral unlocks, less the fee).
pub async fn cancel_sealed(State(app): State<App>, Extension(guard): Extension<Arc<Guard>>, bytes: Bytes) -> TxResult {
    let body = Body::parse(&bytes)?;
    let market = body.required_address("market")?;
    let owner = body.required_address("owner")?;
    let batch_id: u64 = body.required_uint("batch_id")?;
    let index: u32 = body.required_uint("index")?;
    let rpc = rpc(&app)?;
    let _slot = guard.builds.clone().try_acquire_owned().map_err(|_| busy("transaction builds"))?;
    let c = batch_chain(rpc.clone(), market).await?;
    let blockhash = blocking(move || rpc.latest_blockhash()).await?.map_err(chain_error)?;
    Ok(Json(unsigned(&[ax::cancel_sealed(owner, &c.keys, batch_id, index)], &owner, blockhash)))
}

// ---- the relay --------------------------------------------------------------------

/// Why the relay will not send `tx` (a named 400), or Ok: the transaction is well
/// formed, every instruction is Solex's order flow, and every signature verifies.
pub fn check_relayable(tx: &Transaction) -> Result<(), Refusal> {
    let bad = |code, message: String| Err(Refusal::new(StatusCode::BAD_REQUEST, code, message));
    let m = &tx.message;
    let keys = &m.account_keys;
    let signers = m.header.num_required_signatures as usize;
    if signers == 0 || signers > keys.len() || tx.signatures.len() != signers {
        return bad("invalid_transaction", format!("{} signatures for {signers} signers", tx.signatures.len()));
    }
    let mut solex_instructions = 0;
    for (i, instruction) in m.instructions.iter().enumerate() {
        let Some(program) = keys.get(instruction.program_id_index as usize) else {
            return bad("invalid_transaction", format!("instruction {i} names no program"));
        };
        if instruction.accounts.iter().any(|a| *a as usize >= keys.len()) {
            return bad("invalid_transaction", format!("instruction {i} names an account that is not in the message"));
        }
        let allowed = if *program == solex::ID {
            solex_instructions += 1;
            true
        } else if *program == COMPUTE_BUDGET_PROGRAM {
            true
        } else if *program == ASSOCIATED_TOKEN_PROGRAM {
            // Create (no data, or 0) and CreateIdempotent (1); not RecoverNested.
            matches!(instruction.data.as_slice(), [] | [0] | [1])
        } else {
            false
        };
        if !allowed {
            return bad(
                "program_not_allowed",
                format!(
                    "instruction {i} is for {program}: the relay sends only Solex instructions, with compute-budget \
                     and associated-token-account creation"
                ),
            );
        }
    }
    if solex_instructions == 0 {
        return bad("program_not_allowed", "the transaction has no Solex instruction".into());
    }
    let message = tx.message_data();
    for (i, signature) in tx.signatures.iter().enumerate() {
        let bytes: [u8; 64] = signature.as_ref().try_into().expect("a signature is 64 bytes");
        let who = if i == 0 { "the fee payer".to_string() } else { format!("signer {i}") };
        if bytes.iter().all(|b| *b == 0) {
            return bad("unsigned", format!("{who} ({}) has not signed the transaction", keys[i]));
        }
        let verified = ed25519_dalek::VerifyingKey::from_bytes(&keys[i].to_bytes())
            .and_then(|k| k.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&bytes)));
        if verified.is_err() {
            return bad("invalid_signature", format!("the signature of {who} ({}) does not verify", keys[i]));
        }
    }
    Ok(())
}

fn rejected(r: Rejected) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "code": "rejected",
            "message": r.describe(),
            "program_error": r.solex_error().map(|e| format!("{e:?}")),
        })),
    )
        .into_response()
}

/// The first poll after this, then each wait 1.5 times the last, up to `POLL_MAX`.
const POLL_FIRST: Duration = Duration::from_millis(200);
const POLL_MAX: Duration = Duration::from_secs(2);
/// How long a confirmed transaction may take to become readable (for its events).
const READ_BACK: Duration = Duration::from_secs(3);

/// Relays a signed transaction and waits for it: 200 with its signature and events
/// when it landed, 422 `rejected` with the program's error when the chain refused it,
/// 202 `pending` when it was not confirmed within the configured time (it may still
/// land until its blockhash expires).
pub async fn send(
    State(app): State<App>,
    Extension(guard): Extension<Arc<Guard>>,
    bytes: Bytes,
) -> Result<Response, Refusal> {
    let body = Body::parse(&bytes)?;
    let wire = body.str("transaction")?.ok_or_else(|| ApiError::bad("missing_field", "transaction is required"))?;
    if wire.len() > PACKET_DATA_SIZE.div_ceil(3) * 4 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "transaction_too_large",
            format!("a transaction is at most {PACKET_DATA_SIZE} bytes"),
        ));
    }
    let tx = flow::decode_transaction(wire).map_err(|m| ApiError::bad("invalid_transaction", m))?;
    check_relayable(&tx)?;
    let rpc = rpc(&app)?;
    let _slot = guard.relays.clone().try_acquire_owned().map_err(|_| busy("relays"))?;

    let r = rpc.clone();
    let sent = blocking(move || r.send_transaction(&tx)).await?;
    let signature = match sent {
        Ok(sig) => sig,
        Err(e) => match Rejected::from_preflight(&e) {
            Some(r) => return Ok(rejected(r)),
            None => return Err(chain_error(e).into()),
        },
    };

    // Poll with backoff, bounded in time; nothing blocks between polls.
    let deadline = Instant::now() + guard.confirm_timeout;
    let mut wait = POLL_FIRST;
    let failed = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let secs = guard.confirm_timeout.as_secs_f64();
            return Ok((
                StatusCode::ACCEPTED,
                Json(json!({
                    "signature": signature,
                    "status": "pending",
                    "code": "pending",
                    "message": format!("sent, but not confirmed within {secs} s: it may still land until its \
                        blockhash expires (about a minute); look the signature up before sending it again"),
                })),
            )
                .into_response());
        }
        tokio::time::sleep(wait.min(left)).await;
        wait = (wait * 3 / 2).min(POLL_MAX);
        let (r, sig) = (rpc.clone(), signature.clone());
        match blocking(move || r.signature_status(&sig)).await? {
            Ok(Status::Succeeded) => break None,
            Ok(Status::Failed(err)) => break Some(err),
            Ok(Status::Pending) => {}
            Err(e) => tracing::warn!(error = %e, "signature status failed; polling on"),
        }
    };
    if let Some(err) = failed {
        return Ok(rejected(Rejected { custom_code: custom_code(&err), error: err.to_string(), logs: vec![] }));
    }

    // Its events, read back (a confirmed transaction can take a moment to be readable).
    let read_until = Instant::now() + READ_BACK;
    let mut events: Option<Vec<Value>> = None;
    while Instant::now() < read_until {
        let (r, sig) = (rpc.clone(), signature.clone());
        let details = blocking(move || {
            r.call(
                "getTransaction",
                json!([sig, {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}]),
            )
        })
        .await?;
        if let Ok(details) = details.as_ref().map_err(|e| tracing::warn!(error = %e, "getTransaction failed")) {
            if !details.is_null() {
                let decoded = solex_sdk::rpc::transaction_events(details);
                events = Some(decoded.iter().map(|e| json!({"kind": e.name(), "seq": e.seq()})).collect());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut out = json!({"signature": signature, "status": "confirmed", "events": events.clone().unwrap_or_default()});
    if events.is_none() {
        out["events_unavailable"] = json!(true);
    }
    Ok((StatusCode::OK, Json(out)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use solex_sdk::instructions::MarketKeys;

    #[test]
    fn a_bucket_refuses_past_its_burst_and_refills_at_its_rate() {
        let guard = Guard::new(&TxSettings { tx_rate_per_sec: 1000.0, tx_burst: 3, ..Default::default() });
        let ip = IpAddr::from_str("192.0.2.1").unwrap();
        assert!((0..3).all(|_| guard.take(ip).is_ok()));
        assert!(guard.take(ip).is_err(), "the fourth at once is refused");
        assert!(guard.take(IpAddr::from_str("192.0.2.2").unwrap()).is_ok(), "another client has its own bucket");
        std::thread::sleep(Duration::from_millis(5));
        assert!(guard.take(ip).is_ok(), "refilled");
    }

    fn code(r: Result<(), Refusal>) -> Option<&'static str> {
        match r {
            Ok(()) => None,
            Err(Refusal::Tx { code, .. }) => Some(code),
            Err(Refusal::Api(_)) => Some("api"),
        }
    }

    #[test]
    fn only_signed_solex_order_flow_is_relayable() {
        use solex_localnet::{Keypair, Signer};
        let payer = Keypair::new();
        let me = payer.pubkey();
        let keys = MarketKeys::new(
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            1,
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let hash = solana_hash::Hash::new_from_array([1; 32]);
        let signed = |ixs: &[Instruction]| Transaction::new_signed_with_payer(ixs, Some(&me), &[&payer], hash);
        let cancel = ix::cancel_all(me, me, &keys, None, 32);
        let ata = flow::create_ata(&me, &keys.base_mint, &TOKEN_PROGRAM);
        let budget =
            Instruction { program_id: COMPUTE_BUDGET_PROGRAM, accounts: vec![], data: vec![3, 1, 0, 0, 0, 0, 0, 0, 0] };
        assert_eq!(code(check_relayable(&signed(&[budget, ata, cancel.clone()]))), None);
        let other = Instruction { program_id: Pubkey::new_unique(), accounts: vec![], data: vec![] };
        assert_eq!(code(check_relayable(&signed(&[cancel.clone(), other]))), Some("program_not_allowed"));
        let mut tx = signed(std::slice::from_ref(&cancel));
        tx.signatures[0] = Default::default();
        assert_eq!(code(check_relayable(&tx)), Some("unsigned"));
        tx.signatures[0] = Keypair::new().sign_message(&tx.message_data());
        assert_eq!(code(check_relayable(&tx)), Some("invalid_signature"));

        // A batch market's sealed orders are Solex's order flow too.
        let keys = AuctionKeys { market: keys, auction: Pubkey::new_unique(), keyper_set: Pubkey::new_unique() };
        let args = solex::SubmitSealedArgs {
            batch_id: 7,
            ephemeral: [1; 32],
            ciphertext: [2; 40],
            tag: [3; 16],
            base_envelope: 0,
            quote_envelope: 500,
        };
        assert_eq!(code(check_relayable(&signed(&[ax::submit_sealed(me, &keys, args)]))), None);
        assert_eq!(code(check_relayable(&signed(&[ax::cancel_sealed(me, &keys, 7, 0)]))), None);
    }

    #[test]
    fn hex_fields_are_exact_lengths_of_hex_digits() {
        let body = Body(json!({"a": "00ff10", "b": "00FF1", "c": "zz0011", "d": 5, "e": "00ff1011"}));
        assert_eq!(body.required_hex::<3>("a").ok(), Some([0, 255, 16]));
        for (name, code) in
            [("b", "invalid_field"), ("c", "invalid_field"), ("d", "invalid_field"), ("e", "invalid_field")]
        {
            assert_eq!(body.required_hex::<3>(name).err().map(|e| e.code()), Some(code), "{name}");
        }
        assert_eq!(body.required_hex::<3>("missing").err().map(|e| e.code()), Some("missing_field"));
    }
}
