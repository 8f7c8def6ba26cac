// Seals orders and computes collateral with the page's module (indexer/web/seal.js)
// for cases a Rust test makes (indexer/tests/web_seal.rs), which then opens the
// seals with the program's own code and compares the collateral with the SDK's.
// Reads {seals: [{group_key, program, market, trader (hex), batch, order: {side,
// type, price, qty, client_id, expiry}}], envelopes: [{terms, side, price, qty}]}
// on stdin (u64 values as decimal strings) and writes {seals: [{ephemeral,
// ciphertext, tag} (hex)], envelopes: [{exact, private, hide_side}: each {base,
// quote} | null]} on stdout (`envelope`, `privateEnvelope`, and with the side hidden).
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

globalThis.crypto ??= webcrypto;
const seal = await import('../web/seal.js');

const input = JSON.parse(readFileSync(0, 'utf8'));
const seals = input.seals.map((c) => {
  const o = c.order;
  const plaintext = seal.orderPlaintext({
    side: o.side, type: o.type, price: BigInt(o.price), qty: BigInt(o.qty), clientId: BigInt(o.client_id), expiry: BigInt(o.expiry),
  });
  const binding = {
    program: seal.fromHex(c.program), market: seal.fromHex(c.market), trader: seal.fromHex(c.trader), batch: BigInt(c.batch),
  };
  const s = seal.seal(seal.fromHex(c.group_key), binding, plaintext);
  return { ephemeral: seal.toHex(s.ephemeral), ciphertext: seal.toHex(s.ciphertext), tag: seal.toHex(s.tag) };
});
const envelopes = input.envelopes.map((c) => {
  const [price, qty] = [BigInt(c.price), BigInt(c.qty)];
  const out = (e) => e && { base: e.base.toString(), quote: e.quote.toString() };
  return {
    exact: out(seal.envelope(c.terms, c.side, price, qty)),
    private: out(seal.privateEnvelope(c.terms, c.side, price, qty)),
    hide_side: out(seal.privateEnvelope(c.terms, c.side, price, qty, true)),
  };
});
process.stdout.write(JSON.stringify({ seals, envelopes }));
