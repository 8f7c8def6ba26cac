//! Batch markets from the terminal (issue 17): sealing an order on this machine and
//! submitting it to the batch collecting now (`place --sealed`), withdrawing it
//! before the close (`cancel-sealed`), and the auction's state (`batch`). Orders are
//! sealed with the SDK's `auction::seal_order` to the key the chain holds for the
//! batch: the plaintext never leaves the machine, only the collateral is in the clear.
use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solex_sdk::auction::{self as ax, AuctionKeys, AuctionState, BatchStatus, KeyperSetState, SealedOrder};
use solex_sdk::events::SolexEvent;
use solex_sdk::flow::MarketContext;
use solex_sdk::submit::{Landed, TxResult};
use solex_sdk::SolexError;

use super::{landed_json, Ctx};

/// How many times `place --sealed` seals again when the batch closes while the
/// transaction is on its way (each try goes to the batch collecting then).
pub const SEAL_TRIES: usize = 5;

/// A batch market's accounts, from its market account and its auction's header.
pub struct BatchMarket {
    pub keys: AuctionKeys,
}

/// The auction and its keyper set as the chain held them at `slot` (one read).
pub struct BatchView {
    pub slot: u64,
    pub auction: AuctionState,
    pub set: KeyperSetState,
}

impl BatchMarket {
    /// The market's auction; a continuous market is refused with what to do instead.
    pub fn of(ctx: &Ctx, market: &MarketContext) -> anyhow::Result<Self> {
        let m = &market.market;
        if !m.is_batch() {
            bail!(
                "market {} is a continuous market, not a batch market: orders go to its book as they are \
                 (place without --sealed)",
                market.keys.market
            );
        }
        let header = ctx
            .rpc
            .account_prefix(&m.auction, solex::state::Auction::LEN)?
            .ok_or_else(|| anyhow!("the market's auction account {} is gone", m.auction))?;
        let auction: solex::state::Auction =
            solex_sdk::accounts::decode(&header.data).context("the market's auction account")?;
        Ok(Self { keys: AuctionKeys { market: market.keys, auction: m.auction, keyper_set: auction.keyper_set } })
    }

    /// The auction and the keyper set, read together.
    pub fn view(&self, ctx: &Ctx) -> anyhow::Result<BatchView> {
        let (slot, accounts) = ctx.rpc.multiple_accounts(&[self.keys.auction, self.keys.keyper_set])?;
        let data = |i: usize, what: &str| {
            accounts[i].as_ref().map(|a| a.data.clone()).ok_or_else(|| anyhow!("the market's {what} account is gone"))
        };
        Ok(BatchView {
            slot,
            auction: AuctionState::decode(&data(0, "auction")?).context("the auction account")?,
            set: KeyperSetState::decode(&data(1, "keyper set")?).context("the keyper set account")?,
        })
    }
}

impl BatchView {
    /// The batch collecting now, the slot it closes at, and its key round.
    pub fn current(&self) -> (u64, u64, u64) {
        ax::batch_at(&self.auction.auction, &self.set.set, self.slot)
    }

    /// The key orders of the batch collecting now are sealed to, if the keypers registered it.
    pub fn batch_key(&self) -> anyhow::Result<[u8; 32]> {
        let (batch, _, round) = self.current();
        match self.set.round(round).filter(|e| e.usable(round)) {
            Some(entry) => Ok(entry.group_key),
            None => bail!(
                "no usable key is registered for batch {batch} (keyper round {round}): the keypers have not \
                 registered one yet, so no sealed order can be submitted; try again later"
            ),
        }
    }

    /// Rounds after the current one whose keys are usable, without a gap.
    pub fn keys_ahead(&self) -> u64 {
        let now = self.set.set.round_of(self.slot);
        (now + 1..).take_while(|r| self.set.round(*r).is_some_and(|e| e.usable(*r))).count() as u64
    }
}

/// Submits with `attempt(try)` (which seals for the batch collecting when it is
/// called, and says which batch that was) until a batch takes the order: a
/// `BatchClosed` refusal (the batch closed while the transaction was on its way)
/// is tried again, at most `tries` times in all; any other refusal is an error.
/// Returns what landed and how many tries it took.
pub fn submit_to_open_batch(
    tries: usize,
    mut attempt: impl FnMut(usize) -> anyhow::Result<(u64, TxResult)>,
) -> anyhow::Result<(Landed, usize)> {
    let mut closed = Vec::new();
    for n in 1..=tries {
        match attempt(n)? {
            (_, Ok(landed)) => return Ok((landed, n)),
            (batch, Err(r)) if matches!(r.solex_error(), Some(SolexError::BatchClosed)) => closed.push(batch),
            (_, Err(r)) => bail!("the program refused: {}", r.describe()),
        }
    }
    bail!("every batch closed before the order reached it ({tries} tries, batches {closed:?}): try again")
}

/// How much the collateral in the clear may tell about a sealed order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Privacy {
    /// Lock exactly what the order needs (it tells the exact size).
    pub exact: bool,
    /// Lock both assets (it does not tell the side).
    pub hide_side: bool,
}

/// `place --sealed`: seals `order` for the batch collecting now with `collateral`
/// (each part defaulting to `auction::private_envelope`, or with `privacy.exact` to
/// what `auction::envelope` says the order needs) and submits it, sealing again for
/// the next batch if one closes first.
pub fn place_sealed(
    ctx: &Ctx,
    kp: &Keypair,
    market: &MarketContext,
    order: SealedOrder,
    collateral: (Option<u64>, Option<u64>),
    privacy: Privacy,
) -> anyhow::Result<()> {
    let batch_market = BatchMarket::of(ctx, market)?;
    let m = &market.market;
    if order.price == 0 || order.qty_lots == 0 || order.qty_lots < m.min_order_lots || order.expiry.validate().is_err()
    {
        bail!(
            "the order would be voided when its batch opens (and its fee kept): price and quantity must be \
             positive, at least {} lots, with a valid expiry",
            m.min_order_lots.max(1)
        );
    }
    let mut view = batch_market.view(ctx)?;
    let fee = view.auction.auction.sealed_fee;
    let need = ax::envelope(m, fee, order.side, order.price, order.qty_lots)
        .ok_or_else(|| anyhow!("the order's notional with fees does not fit in u64 atoms"))?;
    let default = if privacy.exact {
        need
    } else {
        ax::private_envelope(m, fee, order.side, order.price, order.qty_lots, privacy.hide_side).unwrap_or(need)
    };
    let envelope = (collateral.0.unwrap_or(default.0), collateral.1.unwrap_or(default.1));
    if envelope.0 < need.0 || envelope.1 < need.1 {
        bail!(
            "the collateral ({} base, {} quote atoms) is less than the order needs ({} base, {} quote atoms, the \
             {fee} atom sealed-order fee included): it would be voided when its batch opens and its fee kept",
            envelope.0,
            envelope.1,
            need.0,
            need.1
        );
    }
    let owner = kp.pubkey();
    let (landed, tries) = submit_to_open_batch(SEAL_TRIES, |n| {
        if n > 1 {
            // The batch sealed for last closed: read again (this client's commitment
            // has reached the refusal's slot, so the next batch is collecting).
            view = batch_market.view(ctx)?;
        }
        let (batch, close, _) = view.current();
        let args = ax::seal_order(&view.batch_key()?, &market.keys.market, &owner, batch, &order, envelope)
            .map_err(|e| anyhow!("sealing for batch {batch}: {e}"))?;
        if !ctx.json {
            eprintln!("sealed for batch {batch} (closes at slot {close}, now {})", view.slot);
        }
        Ok((batch, ctx.submit(&[ax::submit_sealed(owner, &batch_market.keys, args)], &[kp])?))
    })?;
    let submitted = landed
        .events
        .iter()
        .find_map(|e| match e {
            SolexEvent::SealedSubmitted(s) => Some(s.clone()),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no SealedSubmitted event in {}", landed.signature))?;
    let mut v = landed_json(&landed);
    v["sealed"] = json!({
        "market": market.keys.market.to_string(), "batch_id": submitted.batch_id,
        "close_slot": view.auction.auction.close_slot(submitted.batch_id), "index": submitted.index,
        "order_seq": submitted.order_seq, "base_envelope": submitted.base_envelope,
        "quote_envelope": submitted.quote_envelope, "fee": submitted.fee, "tries": tries,
    });
    ctx.print(v, |v| {
        let s = &v["sealed"];
        format!(
            "sealed order in batch {} (closes at slot {}): record {}, order seq {}\n  locked {} base and {} quote \
             atoms (fee {})\n  withdraw it before the close: solex cancel-sealed {} {} {}",
            s["batch_id"],
            s["close_slot"],
            s["index"],
            s["order_seq"],
            s["base_envelope"],
            s["quote_envelope"],
            s["fee"],
            s["market"].as_str().unwrap_or(""),
            s["batch_id"],
            s["index"]
        )
    });
    Ok(())
}

/// `cancel-sealed`: withdraws a sealed order before its batch closes.
pub fn cancel_sealed(ctx: &Ctx, kp: &Keypair, market: &MarketContext, batch_id: u64, index: u32) -> anyhow::Result<()> {
    let keys = BatchMarket::of(ctx, market)?.keys;
    let landed = ctx.send(&[ax::cancel_sealed(kp.pubkey(), &keys, batch_id, index)], &[kp])?;
    let fee = landed.events.iter().find_map(|e| match e {
        SolexEvent::SealedCancelled(c) => Some(c.fee),
        _ => None,
    });
    let mut v = landed_json(&landed);
    v["cancelled"] = json!({"batch_id": batch_id, "index": index, "fee": fee});
    ctx.print(v, |v| {
        format!(
            "cancelled sealed order {index} of batch {batch_id}: its collateral is unlocked, less the {} atom fee",
            v["cancelled"]["fee"]
        )
    });
    Ok(())
}

/// What a batch that has closed is waiting for.
fn phase(view: &BatchView, h: &solex::state::BatchHeader) -> &'static str {
    match h.status() {
        BatchStatus::Free => "done",
        BatchStatus::Collecting if view.slot < h.close_slot => "collecting",
        BatchStatus::Collecting => {
            let released = view.set.round(h.key_round).is_some_and(|e| e.released_secret(h.key_round).is_some());
            let timeout = h.close_slot.saturating_add(view.auction.auction.reveal_timeout_slots);
            match () {
                _ if released => "key_released",
                _ if view.slot >= timeout => "timed_out",
                _ => "awaiting_key",
            }
        }
        BatchStatus::Decrypting if h.cursor < h.count => "opening",
        BatchStatus::Decrypting => "clearing",
        BatchStatus::Executing if h.voided != 0 => "refunding",
        BatchStatus::Executing => "executing",
    }
}

/// What `phase` means, for people.
fn phase_text(phase: &str) -> &'static str {
    match phase {
        "collecting" => "collecting orders",
        "key_released" => "closed, its key published: to open",
        "timed_out" => "closed, its key never came: anyone may void it",
        "awaiting_key" => "closed, waiting for the keypers' key",
        "opening" => "opening its orders",
        "clearing" => "opened: to clear",
        "refunding" => "voided: refunding its orders",
        "executing" => "cleared: executing",
        _ => "done",
    }
}

/// `batch`: the auction's rules and where its batches stand.
pub fn show(ctx: &Ctx, market: &MarketContext) -> anyhow::Result<()> {
    let batch_market = BatchMarket::of(ctx, market)?;
    let view = batch_market.view(ctx)?;
    let a = &view.auction.auction;
    let set = &view.set.set;
    let (current, close, round) = view.current();
    let collecting = view.auction.batch(current).map(|(h, _)| (h.count, h.live)).unwrap_or((0, 0));
    let mut processing: Vec<&solex::state::BatchHeader> =
        a.batches.iter().filter(|h| h.batch_id < current && h.unfinished()).collect();
    processing.sort_by_key(|h| h.batch_id);
    let processing: Vec<Value> = processing
        .iter()
        .map(|h| {
            json!({"batch_id": h.batch_id, "phase": phase(&view, h), "close_slot": h.close_slot,
                "key_round": h.key_round, "orders": h.count, "live": h.live, "cursor": h.cursor,
                "price": (h.status() == BatchStatus::Executing && h.voided == 0).then_some(h.price),
                "volume": (h.status() == BatchStatus::Executing && h.voided == 0).then_some(h.volume)})
        })
        .collect();
    let v = json!({
        "market": market.keys.market.to_string(), "auction": batch_market.keys.auction.to_string(),
        "slot": view.slot,
        "rules": {"batch_slots": a.batch_slots, "reveal_timeout_slots": a.reveal_timeout_slots,
            "sealed_fee": a.sealed_fee, "capacity": a.capacity},
        "keyper_set": {"address": batch_market.keys.keyper_set.to_string(), "members": set.n,
            "threshold": set.threshold, "round_slots": set.round_slots,
            "keys_ahead": view.keys_ahead(), "current_batch_has_key": view.batch_key().is_ok()},
        "collecting": {"batch_id": current, "close_slot": close, "slots_left": close - view.slot,
            "key_round": round, "orders": collecting.0, "live": collecting.1},
        "processing": processing,
        "last_price": (a.last_price > 0).then_some(a.last_price),
        "batches_cleared": a.batches_cleared, "batches_voided": a.batches_voided,
    });
    ctx.print(v, |v| {
        let (r, k, c) = (&v["rules"], &v["keyper_set"], &v["collecting"]);
        let mut out = format!(
            "batch market {} (auction {})\n  batches of {} slots, key within {} slots of the close, sealed-order \
             fee {} quote atoms, {} orders a batch\n  keyper set {}: {} of {} members, rounds of {} slots, {} \
             rounds of keys registered ahead\n  collecting: batch {}, closes at slot {} ({} slots from now), {} \
             orders ({} live){}",
            v["market"].as_str().unwrap_or(""),
            v["auction"].as_str().unwrap_or(""),
            r["batch_slots"],
            r["reveal_timeout_slots"],
            r["sealed_fee"],
            r["capacity"],
            k["address"].as_str().unwrap_or(""),
            k["threshold"],
            k["members"],
            k["round_slots"],
            k["keys_ahead"],
            c["batch_id"],
            c["close_slot"],
            c["slots_left"],
            c["orders"],
            c["live"],
            if k["current_batch_has_key"] == true { "" } else { "; NO KEY registered: sealed orders are refused" }
        );
        for p in v["processing"].as_array().into_iter().flatten() {
            let phase = p["phase"].as_str().unwrap_or("");
            let progress = match phase {
                "opening" => format!(", {} opened", p["cursor"]),
                "executing" => format!(", at {} for {} lots, {} settled", p["price"], p["volume"], p["cursor"]),
                "refunding" => format!(", {} refunded", p["cursor"]),
                _ => String::new(),
            };
            out += &format!(
                "\n  processing: batch {}, {}: {} orders ({} live){progress}",
                p["batch_id"],
                phase_text(phase),
                p["orders"],
                p["live"]
            );
        }
        if v["processing"].as_array().is_none_or(|p| p.is_empty()) {
            out += "\n  processing: none";
        }
        let last = if v["last_price"].is_null() { "none yet".to_string() } else { v["last_price"].to_string() };
        out + &format!(
            "\n  last clearing price {last}; {} batches cleared, {} voided",
            v["batches_cleared"], v["batches_voided"]
        )
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use solex_sdk::submit::Rejected;

    use super::*;

    fn landed() -> Landed {
        Landed { signature: "sig".into(), compute_units: 0, events: vec![], return_data: vec![], logs: vec![] }
    }

    fn refused(e: SolexError) -> Rejected {
        let code = u32::from(e);
        Rejected { error: format!("custom program error {code}"), custom_code: Some(code), logs: vec![] }
    }

    #[test]
    fn a_closed_batch_is_sealed_for_again_a_bounded_number_of_times() {
        // Closed twice, then the third batch takes it.
        let mut batches = vec![];
        let (l, tries) = submit_to_open_batch(SEAL_TRIES, |n| {
            batches.push(10 + n as u64);
            Ok((10 + n as u64, if n < 3 { Err(refused(SolexError::BatchClosed)) } else { Ok(landed()) }))
        })
        .unwrap();
        assert_eq!((l.signature.as_str(), tries, batches), ("sig", 3, vec![11, 12, 13]));
        // Always closed: gives up after SEAL_TRIES, saying so.
        let mut calls = 0;
        let err = submit_to_open_batch(SEAL_TRIES, |n| {
            calls += 1;
            Ok((n as u64, Err(refused(SolexError::BatchClosed))))
        })
        .unwrap_err();
        assert_eq!(calls, SEAL_TRIES);
        assert!(err.to_string().contains("every batch closed"), "{err}");
        // Any other refusal is not tried again, and is named.
        let mut calls = 0;
        let err = submit_to_open_batch(SEAL_TRIES, |_| {
            calls += 1;
            Ok((1, Err(refused(SolexError::NoBatchKey))))
        })
        .unwrap_err();
        assert_eq!(calls, 1);
        assert!(err.to_string().contains("NoBatchKey"), "{err}");
    }
}
