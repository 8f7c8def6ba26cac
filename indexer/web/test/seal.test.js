// The page's sealing (indexer/web/seal.js) against the Rust test vector: the same
// inputs give the same bytes as programs/seal/src/tests.rs's `vector()`, whose
// VECTOR_* constants are read from that file (one source for both). Run with
// `node --test indexer/web/test/`; indexer/tests/web_seal.rs runs it in
// `cargo test` (so in scripts/test.sh) and also has the program's own code open
// orders sealed here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

// Node 18 has WebCrypto only as a module; the browser and Node 20 have it global.
globalThis.crypto ??= webcrypto;

const seal = await import('../seal.js');
const { ristretto255 } = await import('../vendor/noble-curves/ed25519.js');

/** The hex constants of programs/seal/src/tests.rs (`VECTOR_EPHEMERAL` and the others). */
function rustVector() {
  const source = readFileSync(new URL('../../../programs/seal/src/tests.rs', import.meta.url), 'utf8');
  const constant = (name) => {
    const m = source.match(new RegExp(`const ${name}: &str = "([0-9a-f]+)";`));
    assert.ok(m, `${name} is in programs/seal/src/tests.rs`);
    return m[1];
  };
  return { ephemeral: constant('VECTOR_EPHEMERAL'), ciphertext: constant('VECTOR_CIPHERTEXT'), tag: constant('VECTOR_TAG') };
}

const fill = (b) => new Uint8Array(32).fill(b);
// vector(): secret from_bytes_mod_order([7; 32]), ephemeral scalar from_bytes_mod_order([9; 32]),
// binding program [1; 32], market [2; 32], batch 42, trader [3; 32]; an IOC ask of 67 lots at
// 12,345, client id 89, no expiry.
const VECTOR = {
  secret: seal.scalarModOrder(fill(7)),
  r: seal.scalarModOrder(fill(9)),
  binding: { program: fill(1), market: fill(2), batch: 42n, trader: fill(3) },
  order: { side: 'ask', type: 'ioc', price: 12_345n, qty: 67n, clientId: 89n, expiry: 0n },
};

test('the page seals the Rust test vector to the same bytes', () => {
  const want = rustVector();
  const groupKey = ristretto255.Point.BASE.multiply(VECTOR.secret).toBytes();
  const sealed = seal.sealWith(VECTOR.r, groupKey, VECTOR.binding, seal.orderPlaintext(VECTOR.order));
  assert.equal(seal.toHex(sealed.ephemeral), want.ephemeral);
  assert.equal(seal.toHex(sealed.ciphertext), want.ciphertext);
  assert.equal(seal.toHex(sealed.tag), want.tag);
});

test('the plaintext is the program layout: version, side, type, five zero bytes, four u64 LE', () => {
  const p = seal.orderPlaintext({ side: 'bid', type: 'market', price: 0x0102n, qty: (1n << 64n) - 1n, clientId: 7n, expiry: 9n });
  assert.equal(seal.toHex(p),
    '010005' + '0000000000' + '0201000000000000' + 'ffffffffffffffff' + '0700000000000000' + '0900000000000000');
  assert.throws(() => seal.orderPlaintext({ ...VECTOR.order, type: 'post_only' }), /limit, ioc or market/);
  assert.throws(() => seal.orderPlaintext({ ...VECTOR.order, side: 'buy' }), /bid or ask/);
  assert.throws(() => seal.orderPlaintext({ ...VECTOR.order, price: 1n << 64n }), /price must be a u64/);
  assert.throws(() => seal.orderPlaintext({ ...VECTOR.order, qty: 5 }), /quantity must be a u64/);
});

test('every seal draws a new ephemeral key, and each binding gives another ciphertext', () => {
  const groupKey = ristretto255.Point.BASE.multiply(VECTOR.secret).toBytes();
  const plaintext = seal.orderPlaintext(VECTOR.order);
  const a = seal.seal(groupKey, VECTOR.binding, plaintext);
  const b = seal.seal(groupKey, VECTOR.binding, plaintext);
  assert.notEqual(seal.toHex(a.ephemeral), seal.toHex(b.ephemeral));
  assert.notEqual(seal.toHex(a.ciphertext), seal.toHex(b.ciphertext));
  const base = seal.sealWith(VECTOR.r, groupKey, VECTOR.binding, plaintext);
  for (const other of [{ batch: 43n }, { market: fill(9) }, { trader: fill(9) }, { program: fill(9) }]) {
    const moved = seal.sealWith(VECTOR.r, groupKey, { ...VECTOR.binding, ...other }, plaintext);
    assert.equal(seal.toHex(moved.ephemeral), seal.toHex(base.ephemeral));
    assert.notEqual(seal.toHex(moved.ciphertext), seal.toHex(base.ciphertext), JSON.stringify(Object.keys(other)));
  }
});

test('a batch key that is not a point, or the identity, is refused', () => {
  const plaintext = seal.orderPlaintext(VECTOR.order);
  assert.throws(() => seal.seal(new Uint8Array(32).fill(0xff), VECTOR.binding, plaintext), /not a valid ristretto255 point/);
  assert.throws(() => seal.seal(new Uint8Array(32), VECTOR.binding, plaintext), /identity/);
  assert.throws(() => seal.seal(new Uint8Array(31), VECTOR.binding, plaintext), /32 bytes/);
});

test('collateral follows the program rule (sdk::auction::envelope)', () => {
  const terms = { base_lot_size: 1_000, quote_tick_size: 10, taker_fee_bps: 5, maker_fee_bps: 2, sealed_fee: 100 };
  // 8 lots at 101: notional 8,080; taker fee ceil(4.04) = 5, maker lock ceil(1.616) = 2, plus the fee.
  assert.deepEqual(seal.envelope(terms, 'bid', 101n, 8n), { base: 0n, quote: 8_080n + 5n + 2n + 100n });
  assert.deepEqual(seal.envelope(terms, 'ask', 99n, 2n), { base: 2_000n, quote: 100n });
  // A maker rebate locks nothing for the maker side.
  assert.deepEqual(seal.envelope({ ...terms, maker_fee_bps: -1 }, 'bid', 101n, 8n), { base: 0n, quote: 8_080n + 5n + 100n });
  // Beyond u64: none (the program would void the order).
  assert.equal(seal.envelope(terms, 'bid', (1n << 63n), 4n), null);
  assert.equal(seal.envelope(terms, 'ask', (1n << 63n), 4n), null);
});

test('private collateral rounds each part up to a power of two, and hiding the side locks both', () => {
  const terms = { base_lot_size: 1_000, quote_tick_size: 10, taker_fee_bps: 5, maker_fee_bps: 2, sealed_fee: 100 };
  assert.deepEqual(seal.privateEnvelope(terms, 'bid', 101n, 8n), { base: 0n, quote: 8_192n });
  assert.deepEqual(seal.privateEnvelope(terms, 'ask', 99n, 2n), { base: 2_048n, quote: 128n });
  assert.deepEqual(seal.privateEnvelope(terms, 'ask', 101n, 8n, true), { base: 8_192n, quote: 8_192n });
  assert.deepEqual(seal.privateEnvelope(terms, 'bid', 101n, 8n, true), { base: 8_192n, quote: 8_192n });
  // Above 2^63 a part cannot round up within a u64: it stays exact.
  assert.deepEqual(seal.privateEnvelope({ ...terms, base_lot_size: 1n << 62n }, 'ask', 1n, 3n), { base: 3n << 62n, quote: 128n });
  assert.equal(seal.privateEnvelope(terms, 'bid', 1n << 63n, 4n), null);
});

test('hex round trips and refuses what is not hex', () => {
  assert.deepEqual(seal.fromHex('00ff10'), Uint8Array.of(0, 255, 16));
  assert.equal(seal.toHex(Uint8Array.of(0, 255, 16)), '00ff10');
  assert.throws(() => seal.fromHex('0g'), /not hex/);
  assert.throws(() => seal.fromHex('abc'), /not hex/);
});
