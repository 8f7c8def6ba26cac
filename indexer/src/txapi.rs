//! The transaction API: builds unsigned transactions for a wallet to sign (place,
//! cancel, cancel all, deposit, withdraw, settle) and relays signed ones, reporting
//! the outcome with the program's error decoded. The server never holds a key:
//! every transaction is paid and signed by the wallet (`owner`).
use std::str::FromStr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use solex_sdk::accounts::decode;
use solex_sdk::flow;
use solex_sdk::instructions::{self as ix, MarketKeys};
use solex_sdk::rpc::{RpcClient, RpcError};
use solex_sdk::{Expiry, Instruction, Market, PlaceOrderArgs, Pubkey};

use crate::api::{ApiError, App};

type TxResult = Result<Json<Value>, ApiError>;

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
        let bad = || ApiError::bad("invalid_field", format!("{name} must be an unsigned integer"));
        match &self.0[name] {
            Value::Null => Ok(None),
            Value::Number(n) => n.as_u64().and_then(|n| n.to_string().parse().ok()).map(Some).ok_or_else(bad),
            Value::String(s) => s.parse().map(Some).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    fn required_uint<T: FromStr>(&self, name: &str) -> Result<T, ApiError> {
        self.uint(name)?.ok_or_else(|| ApiError::bad("missing_field", format!("{name} is required")))
    }

    fn parsed<T>(&self, name: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, ApiError> {
        self.str(name)?
            .map(|s| parse(s).map_err(|m| ApiError::bad("invalid_field", format!("{name}: {m}"))))
            .transpose()
    }
}

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

/// What a builder needs from the chain: the market's accounts, its mints' token
/// programs, and a recent blockhash.
struct Chain {
    keys: MarketKeys,
    base_program: Pubkey,
    quote_program: Pubkey,
    blockhash: solana_hash::Hash,
}

async fn chain(rpc: Arc<RpcClient>, market: Pubkey) -> Result<Chain, ApiError> {
    tokio::task::spawn_blocking(move || -> Result<Chain, ApiError> {
        let not_market = || ApiError::not_found("unknown_market", format!("{market} is not a Solex market"));
        let account = rpc.account(&market).map_err(chain_error)?.ok_or_else(not_market)?;
        let m: Market = decode(&account.data).map_err(|_| not_market())?;
        // Each mint's token program is its owner: both mints in one call.
        let (_, mints) = rpc.multiple_accounts(&[m.base_mint, m.quote_mint]).map_err(chain_error)?;
        let program = |i: usize| -> Result<Pubkey, ApiError> {
            Ok(mints[i].as_ref().ok_or_else(|| ApiError::unavailable("mint not found"))?.owner)
        };
        Ok(Chain {
            keys: MarketKeys::from_market(market, &m),
            base_program: program(0)?,
            quote_program: program(1)?,
            blockhash: rpc.latest_blockhash().map_err(chain_error)?,
        })
    })
    .await
    .map_err(|_| ApiError::unavailable("chain unavailable"))?
}

/// Builds the transaction `build` composes for the body's market and owner.
async fn build(
    app: App,
    bytes: Bytes,
    build: impl FnOnce(&Body, &Pubkey, &Chain) -> Result<Vec<Instruction>, ApiError>,
) -> TxResult {
    let body = Body::parse(&bytes)?;
    let market = body.required_address("market")?;
    let owner = body.required_address("owner")?;
    let chain = chain(rpc(&app)?, market).await?;
    let ixs = build(&body, &owner, &chain)?;
    Ok(Json(json!({
        "transaction": flow::unsigned_transaction(&ixs, &owner, chain.blockhash),
        "payer": owner.to_string(),
        "blockhash": chain.blockhash.to_string(),
        "instructions": ixs.len(),
    })))
}

pub async fn place(State(app): State<App>, bytes: Bytes) -> TxResult {
    build(app, bytes, |b, owner, c| {
        let side =
            b.parsed("side", flow::parse_side)?.ok_or_else(|| ApiError::bad("missing_field", "side is required"))?;
        let mut args = PlaceOrderArgs::limit(
            side,
            b.required_uint("price")?,
            b.required_uint("qty")?,
            b.uint("client_id")?.unwrap_or(0),
        );
        if let Some(t) = b.parsed("type", flow::parse_order_type)? {
            args.order_type = t;
        }
        if let Some(m) = b.parsed("self_trade", flow::parse_self_trade)? {
            args.self_trade = m;
        }
        if let Some(q) = b.uint("max_quote")? {
            args.max_quote_atoms = q;
        }
        if let Some(slot) = b.uint("expire_slot")? {
            args.expiry = Expiry::Slot(slot);
        }
        if let Some(n) = b.uint("max_fills")? {
            args.max_fills = n;
        }
        Ok(vec![ix::place_order(*owner, &c.keys, args)])
    })
    .await
}

pub async fn cancel(State(app): State<App>, bytes: Bytes) -> TxResult {
    build(app, bytes, |b, owner, c| {
        let side = b.parsed("side", flow::parse_side)?;
        match (b.uint::<u128>("order_id")?, side, b.uint::<u64>("client_id")?) {
            (Some(id), Some(side), _) => Ok(vec![ix::cancel_order(*owner, &c.keys, side, id)]),
            (None, _, Some(cid)) => Ok(vec![ix::cancel_by_client_id(*owner, *owner, &c.keys, cid)]),
            _ => Err(ApiError::bad("missing_field", "name the order: order_id with side, or client_id")),
        }
    })
    .await
}

pub async fn cancel_all(State(app): State<App>, bytes: Bytes) -> TxResult {
    build(app, bytes, |b, owner, c| {
        let side = b.parsed("side", flow::parse_side)?;
        Ok(vec![ix::cancel_all(*owner, *owner, &c.keys, side, solex::matching::MAX_BATCH)])
    })
    .await
}

fn funds(deposit: bool, b: &Body, owner: &Pubkey, c: &Chain) -> Result<Vec<Instruction>, ApiError> {
    let (mint, program) = match b.str("asset")? {
        Some("base") => (c.keys.base_mint, c.base_program),
        Some("quote") => (c.keys.quote_mint, c.quote_program),
        _ => return Err(ApiError::bad("invalid_field", "asset must be base or quote")),
    };
    let amount = b.required_uint("amount")?;
    Ok(flow::move_funds(deposit, owner, &c.keys, mint, program, b.address("token_account")?, amount))
}

pub async fn deposit(State(app): State<App>, bytes: Bytes) -> TxResult {
    build(app, bytes, |b, owner, c| funds(true, b, owner, c)).await
}

pub async fn withdraw(State(app): State<App>, bytes: Bytes) -> TxResult {
    build(app, bytes, |b, owner, c| funds(false, b, owner, c)).await
}

pub async fn settle(State(app): State<App>, bytes: Bytes) -> TxResult {
    build(app, bytes, |_, owner, c| Ok(flow::settle(owner, &c.keys, c.base_program, c.quote_program))).await
}

/// Relays a signed transaction and waits for it: 200 with its signature and events
/// when it landed, 422 `rejected` with the program's error when the chain refused it.
pub async fn send(State(app): State<App>, bytes: Bytes) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = Body::parse(&bytes)?;
    let wire = body.str("transaction")?.ok_or_else(|| ApiError::bad("missing_field", "transaction is required"))?;
    let tx = flow::decode_transaction(wire).map_err(|m| ApiError::bad("invalid_transaction", m))?;
    if tx.signatures.is_empty() || tx.signatures.iter().any(|s| s.as_ref().iter().all(|b| *b == 0)) {
        return Err(ApiError::bad("invalid_transaction", "the transaction is not signed"));
    }
    let rpc = rpc(&app)?;
    let outcome = tokio::task::spawn_blocking(move || rpc.relay(&tx))
        .await
        .map_err(|_| ApiError::unavailable("chain unavailable"))?
        .map_err(chain_error)?;
    Ok(match outcome {
        Ok(landed) => {
            let events: Vec<Value> = landed.events.iter().map(|e| json!({"kind": e.name(), "seq": e.seq()})).collect();
            (StatusCode::OK, Json(json!({"signature": landed.signature, "status": "confirmed", "events": events})))
        }
        Err(rejected) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "code": "rejected",
                "message": rejected.describe(),
                "program_error": rejected.solex_error().map(|e| format!("{e:?}")),
            })),
        ),
    })
}
