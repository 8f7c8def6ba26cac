// Sealed orders for batch markets, in the browser (ADR 8; the construction is
// programs/seal/src/lib.rs, which the program opens with). The order is sealed here
// and only its ciphertext leaves the page: the server builds the `submit_sealed`
// transaction around it, and nobody (the server included) can read the order
// before the keypers publish the batch's secret.
//
// DHIES over ristretto255: a fresh scalar r, R = r·G and Z = r·P for the batch key
// P; HKDF-SHA256(Z, salt "solex-seal-v1", info program ‖ market ‖ batch (u64 LE) ‖
// trader account ‖ R) gives 72 bytes: a 40-byte keystream and a 32-byte MAC key;
// the ciphertext is the plaintext XOR the keystream, the tag the first 16 bytes of
// HMAC-SHA256(MAC key, ciphertext). Group arithmetic, HKDF, HMAC and SHA-256 are
// @noble/curves and @noble/hashes (vendor/, see vendor/update.sh), so nothing here
// is hand-rolled cryptography. indexer/web/test/seal.test.js checks it against the
// Rust test vector (programs/seal/src/tests.rs) and indexer/tests/web_seal.rs has
// the program's own opening code open what this seals.
//
// An ES module with no other dependency: the page imports it (app.js), and so does
// Node for the tests. Every u64 is a BigInt.
import { ristretto255 } from './vendor/noble-curves/ed25519.js';
import { hkdf } from './vendor/noble-hashes/hkdf.js';
import { hmac } from './vendor/noble-hashes/hmac.js';
import { sha256 } from './vendor/noble-hashes/sha2.js';

const Point = ristretto255.Point;
/** The order of the ristretto255 group (ed25519's prime subgroup). */
export const GROUP_ORDER = Point.Fn.ORDER;
/** HKDF's salt: the construction and its version. */
export const DOMAIN = new TextEncoder().encode('solex-seal-v1');
export const VERSION = 1;
export const PLAINTEXT_LEN = 40;
export const TAG_LEN = 16;
const U64_MAX = (1n << 64n) - 1n;
/** The sides' bytes (Side::as_u8). */
export const SIDE_BYTES = Object.freeze({ bid: 0, ask: 1 });
/** The order types a sealed order may have and their bytes (the program's `sealed_type`). */
export const SEALED_TYPES = Object.freeze({ limit: 0, ioc: 3, market: 5 });

function u64(v, what) {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new Error(`${what} must be a u64 (a BigInt)`);
  return v;
}

function u64le(v, what) {
  u64(v, what);
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

function bytes32(b, what) {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new Error(`${what} must be 32 bytes`);
  return b;
}

/**
 * The 40-byte plaintext of an order: version 1, side, order type, five zero bytes,
 * then price, quantity (lots), client id and expiry (0: never), each u64 LE.
 */
export function orderPlaintext({ side, type, price, qty, clientId = 0n, expiry = 0n }) {
  if (!(side in SIDE_BYTES)) throw new Error(`a sealed order's side is bid or ask, not ${side}`);
  if (!(type in SEALED_TYPES)) {
    throw new Error(`a sealed order is limit, ioc or market, not ${type} (post-only orders go to the book unsealed)`);
  }
  const b = new Uint8Array(PLAINTEXT_LEN);
  b[0] = VERSION;
  b[1] = SIDE_BYTES[side];
  b[2] = SEALED_TYPES[type];
  b.set(u64le(price, 'price'), 8);
  b.set(u64le(qty, 'quantity'), 16);
  b.set(u64le(clientId, 'client id'), 24);
  b.set(u64le(expiry, 'expiry'), 32);
  return b;
}

/** HKDF's info: program ‖ market ‖ batch id (u64 LE) ‖ trader account ‖ R. */
export function bindingInfo({ program, market, batch, trader }, ephemeral) {
  const info = new Uint8Array(136);
  info.set(bytes32(program, 'the program id'), 0);
  info.set(bytes32(market, 'the market'), 32);
  info.set(u64le(batch, 'the batch id'), 64);
  info.set(bytes32(trader, 'the trader account'), 72);
  info.set(bytes32(ephemeral, 'the ephemeral point'), 104);
  return info;
}

/** The batch key as a point: refuses anything that is not a valid ristretto255 point other than the identity. */
export function batchKeyPoint(groupKey) {
  bytes32(groupKey, 'the batch key');
  let p;
  try {
    p = Point.fromBytes(groupKey);
  } catch {
    throw new Error('the batch key is not a valid ristretto255 point');
  }
  if (p.is0()) throw new Error('the batch key is the identity point');
  return p;
}

/**
 * Seals `plaintext` (40 bytes) to the batch key `groupKey` (32 bytes, compressed)
 * for `binding` ({program, market, trader: 32 bytes each; batch: BigInt}) with the
 * ephemeral scalar `r` (1 <= r < GROUP_ORDER): deterministic, for the test vector;
 * `seal` draws `r`. Returns {ephemeral, ciphertext, tag}.
 */
export function sealWith(r, groupKey, binding, plaintext) {
  if (!(plaintext instanceof Uint8Array) || plaintext.length !== PLAINTEXT_LEN) {
    throw new Error(`a plaintext is ${PLAINTEXT_LEN} bytes`);
  }
  const p = batchKeyPoint(groupKey);
  const ephemeral = Point.BASE.multiply(r).toBytes();
  const shared = p.multiply(r).toBytes();
  const okm = hkdf(sha256, shared, DOMAIN, bindingInfo(binding, ephemeral), PLAINTEXT_LEN + 32);
  const ciphertext = plaintext.map((b, i) => b ^ okm[i]);
  const tag = hmac(sha256, okm.subarray(PLAINTEXT_LEN), ciphertext).slice(0, TAG_LEN);
  // Best effort: the key material is not left in these buffers (JS cannot promise more).
  okm.fill(0);
  shared.fill(0);
  return { ephemeral, ciphertext, tag };
}

/** A little-endian integer reduced modulo the group order (curve25519-dalek's `from_bytes_mod_order`). */
export function scalarModOrder(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n % GROUP_ORDER;
}

/** A uniformly random nonzero scalar: 64 bytes of the platform's CSPRNG, reduced. */
export function randomScalar() {
  for (;;) {
    const wide = crypto.getRandomValues(new Uint8Array(64));
    const r = scalarModOrder(wide);
    wide.fill(0);
    if (r !== 0n) return r;
  }
}

/** Seals `plaintext` to `groupKey` for `binding` with a fresh ephemeral key. */
export function seal(groupKey, binding, plaintext) {
  return sealWith(randomScalar(), groupKey, binding, plaintext);
}

// ---- collateral ---------------------------------------------------------------------

const ceilBps = (notional, bps) => (notional * bps + 9_999n) / 10_000n;
const checked = (v) => (v > U64_MAX ? null : v);

/**
 * The collateral an order needs, by the rule the program applies when it opens the
 * order (`solex_sdk::auction::envelope`; an order whose collateral falls short is
 * voided and its fee kept): an ask locks its base (lots × lot size) and the
 * sealed-order fee in quote; a bid its notional at its limit (lots × price × tick)
 * plus a taker's fee and a maker's fee lock on all of it (each rounded up), plus the
 * fee. `terms`: {base_lot_size, quote_tick_size, taker_fee_bps, maker_fee_bps,
 * sealed_fee} (numbers or BigInts). Returns {base, quote} as BigInts, or null when a
 * value would not fit a u64 (as the Rust function returns None).
 */
export function envelope(terms, side, price, qty) {
  const big = (v) => BigInt(v);
  const [lot, tick, fee] = [big(terms.base_lot_size), big(terms.quote_tick_size), big(terms.sealed_fee)];
  const bps = (v) => (big(v) > 0n ? big(v) : 0n);
  const notional = checked(u64(qty, 'quantity') * u64(price, 'price') * tick);
  if (notional === null) return null;
  if (side === 'ask') {
    const base = checked(qty * lot);
    return base === null ? null : { base, quote: fee };
  }
  if (side !== 'bid') throw new Error(`side is bid or ask, not ${side}`);
  let need = notional;
  for (const part of [ceilBps(notional, bps(terms.taker_fee_bps)), ceilBps(notional, bps(terms.maker_fee_bps)), fee]) {
    need = checked(need + part);
    if (need === null) return null;
  }
  return { base: 0n, quote: need };
}

/**
 * Collateral that tells less than `envelope`'s exact need (which shows an ask's
 * exact size and a bid's notional): each part rounded up to a power of two, so the
 * order's size is known only within a factor of two; with `hideSide`, the assets
 * both sides would lock, so its side is not known either (at the cost of locking
 * more). The program unlocks whatever the order does not use. The same as
 * `solex_sdk::auction::private_envelope` (what the CLI locks by default).
 */
export function privateEnvelope(terms, side, price, qty, hideSide = false) {
  let base, quote;
  if (hideSide) {
    const ask = envelope(terms, 'ask', price, qty), bid = envelope(terms, 'bid', price, qty);
    if (!ask || !bid) return null;
    [base, quote] = [ask.base, bid.quote];
  } else {
    const e = envelope(terms, side, price, qty);
    if (!e) return null;
    [base, quote] = [e.base, e.quote];
  }
  return { base: nextPowerOfTwo(base), quote: nextPowerOfTwo(quote) };
}

// The smallest power of two at least `v` (0 stays 0; above 2^63, `v` itself, as u64's checked_next_power_of_two).
function nextPowerOfTwo(v) {
  if (v === 0n) return 0n;
  let p = 1n;
  while (p < v) p <<= 1n;
  return p > U64_MAX ? v : p;
}

// ---- hex ------------------------------------------------------------------------------

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
export function fromHex(text) {
  if (typeof text !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error(`${text} is not hex`);
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}
