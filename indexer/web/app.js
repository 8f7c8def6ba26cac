// The Solex trading page: served by the indexer's API, fed by its REST and
// WebSocket APIs, and trading through its transaction API. Transactions are built
// by the server unsigned and signed here, by a development keypair (WebCrypto
// Ed25519) or by a browser wallet speaking the Wallet Standard; no key leaves the
// browser. The server is not trusted with what is signed: every transaction it
// returns is decoded and checked against what the user asked for before anything
// signs it (`checkTransaction`). Plain JavaScript with no build step, so the
// indexer binary can embed it.
//
// On a batch market (ADR 8) post-only orders go to the book as usual, and limit,
// IOC and market orders are sealed here (`seal.js`, loaded when first needed) to
// the batch's key and submitted to its auction: the order itself never leaves the
// page, only its ciphertext and the collateral it locks. The page shows the batch's
// countdown, recent clearing prices and the wallet's sealed orders as they fill.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  markets: [], market: null, ws: null,
  book: { seq: null, bids: new Map(), asks: new Map() },
  trades: [], candles: new Map(), orders: new Map(), balances: null,
  signer: null, walletStandard: [], chain: null,
  // Batch markets: the batch key answer (with when it came), recent batches by id,
  // the wallet's sealed orders by "batch:idx", and what the page sealed (by the
  // submission's event seq; kept in this page's memory only).
  batchKey: null, batches: new Map(), sealed: new Map(), sealedLocal: new Map(),
};

// ---- numbers ---------------------------------------------------------------------

// Every u64 (prices, quantities, amounts, client ids) and u128 (order ids) is a
// BigInt here, never a JS number (exact only up to 2^53). JSON from the APIs is read
// with `parseJson`, which keeps integers above 2^53 exact; `big` normalises a
// number, a decimal string or a BigInt; requests go out with `toJson`, as strings.
const U64_MAX = (1n << 64n) - 1n;
function big(v) {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new Error(`not an integer: ${v}`);
}
// Browsers without JSON.parse's source text (the reviver's third argument) get
// long integer literals quoted first (outside strings), which `big` then reads.
let jsonSource = false;
JSON.parse('1', (key, value, context) => { jsonSource = Boolean(context && context.source === '1'); return value; });
function parseJson(text) {
  if (!jsonSource) {
    text = text.replace(/("(?:[^"\\]|\\.)*")|(-?\d{16,})(?![.eE\d])/g, (m, str, num) => str ?? `"${num}"`);
    return JSON.parse(text);
  }
  return JSON.parse(text, (key, value, context) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}
const toJson = (v) => JSON.stringify(v, (key, value) => typeof value === 'bigint' ? value.toString() : value);
// An unsigned integer the user typed, at most `max`.
function uintInput(text, name, max = U64_MAX) {
  const t = String(text).trim();
  if (!/^\d+$/.test(t)) throw new Error(`${name} must be a whole number`);
  const v = BigInt(t);
  if (v > max) throw new Error(`${name} is too large`);
  return v;
}
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// ---- encodings ------------------------------------------------------------------

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function b58encode(bytes) {
  const digits = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry) { digits.push(carry % 58); carry = (carry / 58) | 0; }
  }
  let out = '';
  for (const byte of bytes) { if (byte !== 0) break; out += '1'; }
  for (let i = digits.length - 1; i >= 0; i--) out += B58[digits[i]];
  return out;
}
function b58decode(text) {
  const bytes = [];
  for (const ch of text) {
    let carry = B58.indexOf(ch);
    if (carry < 0) throw new Error(`${text} is not base58`);
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry) { bytes.push(carry & 0xff); carry >>= 8; }
  }
  for (const ch of text) { if (ch !== '1') break; bytes.push(0); }
  return Uint8Array.from(bytes.reverse());
}
// A 32-byte address from base58, or an error naming it.
function address(text) {
  const bytes = b58decode(text);
  if (bytes.length !== 32) throw new Error(`${text} is not an address`);
  return bytes;
}
const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toBase64 = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
const utf8 = (s) => new TextEncoder().encode(s);
const concat = (...parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let at = 0; for (const p of parts) { out.set(p, at); at += p.length; } return out; };
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

// Solana's compact-u16 ("shortvec") length prefix: [value, bytes read].
function compactU16(bytes, at) {
  let value = 0;
  for (let i = 0; i < 3; i++) {
    if (at + i >= bytes.length) throw new Error('truncated compact-u16 length');
    const b = bytes[at + i];
    value |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return [value, i + 1];
  }
  throw new Error('bad compact-u16 length');
}

// ---- addresses ------------------------------------------------------------------

// Whether 32 bytes are an Ed25519 point (a program-derived address must not be):
// the y coordinate's x^2 = (y^2 - 1) / (d y^2 + 1) must have a square root mod p.
const P = (1n << 255n) - 19n;
const mod = (a) => ((a % P) + P) % P;
function powmod(b, e) { let r = 1n; b = mod(b); while (e > 0n) { if (e & 1n) r = r * b % P; b = b * b % P; e >>= 1n; } return r; }
const D = mod(-121665n * powmod(121666n, P - 2n));
function onCurve(bytes) {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i] & 0x7f : bytes[i]);
  y = mod(y);
  const y2 = y * y % P, u = mod(y2 - 1n), v = mod(D * y2 + 1n);
  const v3 = v * v % P * v % P, v7 = v3 * v3 % P * v % P;
  const x = u * v3 % P * powmod(u * v7 % P, (P - 5n) / 8n) % P;
  const vx2 = v * x % P * x % P;
  if (vx2 === u) return true;
  // -u: x times sqrt(-1) is the root.
  return vx2 === mod(-u);
}
// Pubkey::find_program_address: the first bump from 255 down whose hash is off the curve.
async function findProgramAddress(seeds, programId) {
  const program = address(programId);
  for (let bump = 255; bump >= 0; bump--) {
    const hash = await sha256(concat(...seeds, Uint8Array.of(bump), program, utf8('ProgramDerivedAddress')));
    if (!onCurve(hash)) return b58encode(hash);
  }
  throw new Error('no program address');
}
const SOLEX = '4N2SLdxfASiiGQNiAaMmijsBULCQxEU393VjJHMtKiLC';
const COMPUTE_BUDGET = 'ComputeBudget111111111111111111111111111111';
const ATA_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
const SYSTEM = '11111111111111111111111111111111';
const TOKEN_PROGRAMS = ['TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb'];
const traderAddress = (market, owner) => findProgramAddress([utf8('trader'), address(market), address(owner)], SOLEX);
const ataAddress = (owner, mint, tokenProgram) =>
  findProgramAddress([address(owner), address(tokenProgram), address(mint)], ATA_PROGRAM);

// ---- transactions ---------------------------------------------------------------

// A wire transaction (legacy or v0) decoded: its signatures, the signed message,
// the account keys (base58), and each instruction's program, accounts and data.
function decodeTransaction(wire) {
  let at = 0;
  const need = (n) => { if (at + n > wire.length) throw new Error('the transaction is truncated'); const out = wire.subarray(at, at + n); at += n; return out; };
  const shortvec = () => { const [v, n] = compactU16(wire, at); at += n; return v; };
  const sigCount = shortvec();
  const signatures = [];
  for (let i = 0; i < sigCount; i++) signatures.push(need(64));
  const messageStart = at;
  let version = 'legacy';
  if (wire[at] & 0x80) {
    version = need(1)[0] & 0x7f;
    if (version !== 0) throw new Error(`unknown transaction version ${version}`);
  }
  const [required, readonlySigned, readonlyUnsigned] = need(3);
  const keyCount = shortvec();
  const keys = [];
  for (let i = 0; i < keyCount; i++) keys.push(b58encode(need(32)));
  const blockhash = b58encode(need(32));
  const instructions = [];
  for (let n = shortvec(), i = 0; i < n; i++) {
    const programIndex = need(1)[0];
    const accounts = Array.from(need(shortvec()));
    const data = need(shortvec()).slice();
    instructions.push({ programIndex, accounts, data });
  }
  let lookups = 0;
  if (version === 0) {
    for (let n = shortvec(), i = 0; i < n; i++) { need(32); need(shortvec()); need(shortvec()); lookups++; }
  }
  if (at !== wire.length) throw new Error('the transaction has trailing bytes');
  for (const ix of instructions) {
    if (ix.programIndex >= keys.length || ix.accounts.some((a) => a >= keys.length)) {
      throw new Error('an instruction names an account outside the message (an address lookup table?)');
    }
    ix.program = keys[ix.programIndex];
    ix.keys = ix.accounts.map((a) => keys[a]);
  }
  return { signatures, message: wire.subarray(messageStart), version, required, readonlySigned, readonlyUnsigned, keys, blockhash, instructions, lookups };
}

// Little-endian reads of instruction data, refusing to run past its end.
function dataReader(data) {
  let at = 0;
  const need = (n) => { if (at + n > data.length) throw new Error('instruction data is truncated'); at += n; return data.subarray(at - n, at); };
  const uint = (n) => { let v = 0n; const b = need(n); for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]); return v; };
  return { u8: () => need(1)[0], u16: () => Number(uint(2)), u32: () => uint(4), u64: () => uint(8), u128: () => uint(16), end: () => at === data.length, bytes: need };
}

// Anchor's instruction discriminator: sha256("global:<name>")[..8].
const DISCRIMINATORS = {};
async function discriminator(name) {
  return DISCRIMINATORS[name] ??= (await sha256(utf8(`global:${name}`))).slice(0, 8);
}
// The program's order vocabulary (solex::order's name tables), in its wire order:
// a name's index is the value's byte in the instruction. A test keeps them equal.
const ORDER_TYPES = ['limit', 'post_only', 'post_only_slide', 'ioc', 'fok', 'market'];
const SIDES = ['bid', 'ask'];
// Most lamports of priority fee the page lets a transaction pay (0.001 SOL).
const MAX_PRIORITY_FEE_LAMPORTS = 1_000_000n;

// Refuses (throws, saying why) unless `tx` does exactly what the user asked for:
// paid and signed by the user alone; every instruction Solex's, the compute-budget
// program's (within a fee cap) or an associated token account of the user's made
// idempotently; exactly one Solex instruction, the asked one (by discriminator),
// on the chosen market and the user's own trader account, with the arguments the
// user entered; token accounts paid into are the user's own associated accounts.
async function checkTransaction(tx, intent) {
  const { owner, market } = intent;
  const refuse = (why) => { throw Object.assign(new Error(`refused to sign: ${why}`), { code: 'tampered' }); };
  if (tx.lookups) refuse('it loads accounts from address lookup tables, which the page cannot check');
  if (tx.required !== 1 || tx.signatures.length !== 1) refuse(`it needs ${tx.required} signers; only you should sign`);
  if (tx.keys[0] !== owner) refuse(`its fee payer is ${tx.keys[0]}, not you`);
  const mints = [market.base_mint, market.quote_mint];
  let solex = null, unitLimit = null, unitPrice = 0n;
  for (const ix of tx.instructions) {
    if (ix.program === SOLEX) {
      if (solex) refuse('it has more than one Solex instruction');
      solex = ix;
    } else if (ix.program === COMPUTE_BUDGET) {
      const r = dataReader(ix.data), kind = r.u8();
      if (kind === 2) unitLimit = r.u32();
      else if (kind === 3) unitPrice = r.u64();
      else refuse(`it has a compute-budget instruction of kind ${kind}`);
      if (!r.end()) refuse('a compute-budget instruction has trailing data');
    } else if (ix.program === ATA_PROGRAM) {
      if (!(ix.data.length === 0 || (ix.data.length === 1 && ix.data[0] <= 1))) refuse('it has an associated-token instruction other than create');
      const [payer, account, wallet, mint, system, tokenProgram] = ix.keys;
      if (payer !== owner || wallet !== owner) refuse('it creates a token account for someone else');
      if (!mints.includes(mint)) refuse(`it creates a token account for a mint (${mint}) of another market`);
      if (system !== SYSTEM || !TOKEN_PROGRAMS.includes(tokenProgram)) refuse('it creates a token account with unknown programs');
      if (account !== await ataAddress(owner, mint, tokenProgram)) refuse('it creates an account that is not your associated token account');
    } else {
      refuse(`it calls a program (${ix.program}) other than Solex`);
    }
  }
  const units = unitLimit ?? BigInt(200_000 * tx.instructions.length);
  if ((unitPrice * units + 999_999n) / 1_000_000n > MAX_PRIORITY_FEE_LAMPORTS) refuse('its priority fee is too high');
  if (!solex) refuse('it has no Solex instruction');
  const name = intent.instruction;
  const disc = await discriminator(name);
  if (solex.data.length < 8 || !disc.every((b, i) => solex.data[i] === b)) refuse(`it is not the ${name} you asked for`);
  const r = dataReader(solex.data.subarray(8));
  const expect = (what, got, want) => { if (got !== want) refuse(`its ${what} is ${got}, not ${want}`); };
  const keys = solex.keys;
  const trader = await traderAddress(market.market, owner);
  if (['place_order', 'cancel_order', 'cancel_by_client_id', 'cancel_all'].includes(name)) {
    // OrderBook: signer, market, trader, bids, asks, fill queue, (event authority, program).
    expect('signer', keys[0], owner);
    expect('market', keys[1], market.market);
    expect('trader account', keys[2], trader);
  }
  if (name === 'place_order') {
    expect('side', SIDES[r.u8()], intent.side);
    expect('price', r.u64(), intent.price);
    expect('quantity', r.u64(), intent.qty);
    expect('quote limit', r.u64(), U64_MAX);
    expect('client id', r.u64(), intent.clientId);
    expect('order type', ORDER_TYPES[r.u8()], intent.type);
    expect('self-trade mode', r.u8(), 0);
    expect('expiry', r.u8(), 0);
    const fills = r.u8();
    if (fills < 1 || fills > 32) refuse(`its fill limit ${fills} is out of range`);
  } else if (name === 'cancel_order') {
    expect('side', SIDES[r.u8()], intent.side);
    expect('order id', r.u128(), intent.orderId);
  } else if (name === 'cancel_by_client_id') {
    expect('client id', r.u64(), intent.clientId);
  } else if (name === 'cancel_all') {
    expect('side', r.u8(), 0);
    r.u8();
  } else if (name === 'settle_funds') {
    // market, trader, owner base, owner quote, vaults, mints, token programs, ...
    expect('market', keys[0], market.market);
    expect('trader account', keys[1], trader);
    expect('base mint', keys[6], market.base_mint);
    expect('quote mint', keys[7], market.quote_mint);
    if (!TOKEN_PROGRAMS.includes(keys[8]) || !TOKEN_PROGRAMS.includes(keys[9])) refuse('it names unknown token programs');
    expect('base destination', keys[2], await ataAddress(owner, keys[6], keys[8]));
    expect('quote destination', keys[3], await ataAddress(owner, keys[7], keys[9]));
  } else if (name === 'deposit' || name === 'withdraw') {
    // MoveFunds: owner, market, trader, wallet, vault, mint, token program, ...
    expect('owner', keys[0], owner);
    expect('market', keys[1], market.market);
    expect('trader account', keys[2], trader);
    expect('mint', keys[5], intent.asset === 'base' ? market.base_mint : market.quote_mint);
    if (!TOKEN_PROGRAMS.includes(keys[6])) refuse('it names an unknown token program');
    expect('token account', keys[3], await ataAddress(owner, keys[5], keys[6]));
    expect('amount', r.u64(), intent.amount);
  } else if (name === 'submit_sealed' || name === 'cancel_sealed') {
    // SealedOrders: owner, market, trader, auction, keyper set, (event authority, program).
    expect('signer', keys[0], owner);
    expect('market', keys[1], market.market);
    expect('trader account', keys[2], trader);
    expect('auction', keys[3], intent.auction);
    expect('keyper set', keys[4], intent.keyperSet);
    expect('batch id', r.u64(), intent.batchId);
    if (name === 'submit_sealed') {
      // Exactly the bytes sealed in this page, and the collateral it computed.
      const same = (what, got, want) => {
        if (got.length !== want.length || got.some((b, i) => b !== want[i])) refuse(`its ${what} is not the one sealed in this page`);
      };
      same('ephemeral key', r.bytes(32), intent.ephemeral);
      same('ciphertext', r.bytes(40), intent.ciphertext);
      same('tag', r.bytes(16), intent.tag);
      expect('base collateral', r.u64(), intent.collateralBase);
      expect('quote collateral', r.u64(), intent.collateralQuote);
    } else {
      expect('sealed order index', r.u32(), intent.index);
    }
  } else {
    refuse(`the page does not send ${name}`);
  }
  if (!r.end()) refuse('its instruction has trailing data');
  return true;
}

// Puts `sign(message)` into the fee payer's signature slot (the first; the page
// signs only transactions whose one signer is the user).
async function signWire(wire, pubkey, sign) {
  const tx = decodeTransaction(wire);
  if (tx.keys[0] !== b58encode(pubkey)) throw new Error('this transaction does not need this wallet\'s signature');
  const [, prefix] = compactU16(wire, 0);
  const out = wire.slice();
  out.set(await sign(tx.message), prefix);
  return out;
}

// ---- signers --------------------------------------------------------------------

// A Solana keypair file is 64 bytes: the Ed25519 seed, then the public key.
// WebCrypto imports the seed as PKCS#8 (a fixed 16-byte header before it), as a
// non-extractable key: the page can sign with it but nothing (no script, no
// exportKey) can read the secret back. The CryptoKey itself is what is kept, in
// IndexedDB (which stores CryptoKey objects as they are); the JSON is dropped.
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
async function importKeypair(text) {
  let bytes;
  try { bytes = JSON.parse(text); } catch { throw new Error('the keypair is not JSON'); }
  if (!Array.isArray(bytes) || bytes.length !== 64 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
    throw new Error('a keypair file is a JSON array of 64 bytes');
  }
  bytes = Uint8Array.from(bytes);
  if (!crypto.subtle) throw new Error('WebCrypto needs a secure context: open the page on localhost or https');
  const pkcs8 = new Uint8Array([...PKCS8_ED25519, ...bytes.subarray(0, 32)]);
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
  pkcs8.fill(0); bytes.fill(0, 0, 32);
  const record = { privateKey, publicKey: bytes.slice(32) };
  await keypairSigner(record);
  return record;
}

// A signer over a stored key ({privateKey: CryptoKey, publicKey: 32 bytes}),
// after checking that the two belong together.
async function keypairSigner({ privateKey, publicKey }) {
  const verifier = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  const probe = utf8('solex keypair check');
  const sig = await crypto.subtle.sign('Ed25519', privateKey, probe);
  if (!await crypto.subtle.verify('Ed25519', verifier, sig, probe)) {
    throw new Error('the keypair\'s public key does not match its secret key');
  }
  return {
    label: 'development keypair',
    address: b58encode(publicKey),
    sign: (wire) => signWire(wire, publicKey, async (m) => new Uint8Array(await crypto.subtle.sign('Ed25519', privateKey, m))),
  };
}

// IndexedDB "solex", store "keys": the development key under "dev".
const LEGACY_KEY = 'solex.devKeypair';
function keyStore(mode, run) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('solex', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const t = db.transaction('keys', mode);
      const req = run(t.objectStore('keys'));
      t.oncomplete = () => { db.close(); resolve(req?.result); };
      t.onerror = t.onabort = () => { db.close(); reject(t.error); };
    };
  });
}
const loadDevKey = () => keyStore('readonly', (s) => s.get('dev'));
const saveDevKey = (record) => keyStore('readwrite', (s) => s.put(record, 'dev'));
const forgetDevKey = () => keyStore('readwrite', (s) => s.delete('dev'));

// The stored development key, migrating (once) a plaintext one an older page left
// in localStorage: imported, stored as a CryptoKey, and the plaintext deleted.
async function restoreDevKey() {
  const legacy = localStorage.getItem(LEGACY_KEY);
  if (legacy !== null) {
    localStorage.removeItem(LEGACY_KEY);
    try { await saveDevKey(await importKeypair(legacy)); } catch (e) { console.info('dropped an unreadable stored keypair:', e.message); }
  }
  const record = await loadDevKey();
  return record ? keypairSigner(record) : null;
}

// Browser wallets announce themselves through the Wallet Standard events; any that
// can sign a Solana transaction is offered.
function registerWallets(...wallets) {
  for (const w of wallets) {
    if (w.features?.['standard:connect'] && w.features?.['solana:signTransaction']) state.walletStandard.push(w);
  }
  renderWalletChoices();
  return () => {};
}
window.addEventListener('wallet-standard:register-wallet', (e) => e.detail({ register: registerWallets }));
window.dispatchEvent(new CustomEvent('wallet-standard:app-ready', { detail: { register: registerWallets } }));

async function walletSigner(wallet) {
  const chain = state.chain;
  if (!chain) throw new Error('the cluster is not known yet (/config.json did not answer)');
  const { accounts } = await wallet.features['standard:connect'].connect();
  const account = accounts?.find((a) => !a.chains || a.chains.includes(chain));
  if (!account) throw new Error(`${wallet.name} has no account on ${chain}`);
  const signer = wallet.features['solana:signTransaction'];
  return {
    label: wallet.name,
    address: account.address,
    sign: async (wire) => {
      const [out] = await signer.signTransaction({ account, transaction: wire, chain });
      return out.signedTransaction;
    },
  };
}

function renderWalletChoices() {
  const box = $('wallet-choices');
  box.replaceChildren(...state.walletStandard.map((w) => {
    const b = button(`Connect ${w.name}`, async () => {
      try { await useSigner(await walletSigner(w)); } catch (e) { report(false, e.message); }
    });
    b.style.marginTop = '6px';
    return b;
  }));
}

function showSigner() {
  const s = state.signer;
  $('wallet-addr').textContent = s ? `${s.address} (${s.label})` : 'not connected';
  $('wallet-addr').className = s ? '' : 'dim';
  if (s) $('wallet-addr').dataset.address = s.address; else delete $('wallet-addr').dataset.address;
}

async function useSigner(signer) {
  const old = state.signer;
  if (old) for (const kind of ['orders', 'balances']) send({ op: 'unsubscribe', channel: `${kind}:${old.address}` });
  state.signer = signer;
  showSigner();
  await loadTrader();
}

// ---- the APIs -------------------------------------------------------------------

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: toJson(body),
  });
  const text = await res.text();
  let json;
  try { json = parseJson(text); } catch { json = { code: 'bad_response', message: `HTTP ${res.status}` }; }
  if (!res.ok) {
    const err = new Error(json.message || `HTTP ${res.status}`);
    err.code = json.program_error || json.code;
    throw err;
  }
  return json;
}

// What the user asked for, as the checks of `checkTransaction` compare it: the
// instruction and the arguments the user entered.
function intentFor(instruction, args) {
  return { instruction, owner: state.signer.address, market: state.market, ...args };
}

// Builds the transaction on the server, checks that it is what the user asked for,
// signs it here, relays it, and reports. Nothing is signed that fails the check.
// With `make`, each try's request ({path, body, intent, onDone}) is made afresh (a
// sealed order is sealed again for the next batch); a refusal whose code is in
// `retryOn` is tried again, three tries in all.
async function transact(what, path, body, intent, { make, retryOn = [] } = {}) {
  if (!state.signer) return report(false, 'load a keypair or connect a wallet first');
  if (!state.market) return report(false, 'no market selected');
  for (const b of document.querySelectorAll('button')) b.disabled = true;
  report(null, `${what}: building ...`);
  try {
    for (let attempt = 1; ; attempt++) {
      const req = make ? await make() : { path, body, intent };
      try {
        const out = await signAndSend(what, req.path, req.body, intentFor(...req.intent));
        req.onDone?.(out);
        return;
      } catch (e) {
        if (attempt >= 3 || !retryOn.includes(e.code)) throw e;
        report(null, `${what}: ${e.message}; trying again ...`);
      }
    }
  } catch (e) {
    report(false, `${what}: ${e.message}`, e.code);
  } finally {
    for (const b of document.querySelectorAll('button')) b.disabled = false;
  }
}

// One try of `transact`: build, check, sign, check again, relay, report; the relay's answer.
async function signAndSend(what, path, body, want) {
  const built = await api(path, { market: state.market.market, owner: state.signer.address, ...body });
  const wire = fromBase64(built.transaction);
  await checkTransaction(decodeTransaction(wire), want);
  report(null, `${what}: waiting for the signature ...`);
  const signed = await state.signer.sign(wire);
  // A wallet may add to what it signs (a priority fee): the same checks again.
  await checkTransaction(decodeTransaction(signed), want);
  report(null, `${what}: sent, waiting for confirmation ...`);
  const out = await api('/tx/send', { transaction: toBase64(signed) });
  if (out.status === 'pending') {
    report(true, `${what}: sent ${out.signature.slice(0, 16)}..., not confirmed yet: ${out.message}`, 'pending');
  } else {
    const events = out.events.map((e) => `${e.kind} #${e.seq}`).join(', ');
    report(true, `${what}: confirmed ${out.signature.slice(0, 16)}... ${events}`);
  }
  return out;
}

function report(ok, message, code) {
  const el = $('result');
  el.textContent = message;
  el.className = ok === null ? 'dim' : ok ? 'ok' : 'err';
  el.dataset.state = ok === null ? 'pending' : ok ? 'ok' : 'error';
  el.dataset.code = code || '';
}

// ---- live feed ------------------------------------------------------------------

function send(msg) {
  if (state.ws?.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function subscriptions() {
  if (!state.market) return [];
  const m = state.market.market;
  const channels = [`book:${m}`, `trades:${m}`, `candles:${m}`];
  if (state.market.batch) channels.push(`batches:${m}`);
  if (state.signer) channels.push(`orders:${state.signer.address}`, `balances:${state.signer.address}`);
  return channels;
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => {
    $('conn').textContent = 'live'; $('conn').className = 'live';
    for (const channel of subscriptions()) send({ op: 'subscribe', channel });
    // Messages sent while disconnected are gone: read the lists again.
    if (state.connectedOnce && state.market) selectMarket(state.market.market).catch((e) => report(false, e.message));
    state.connectedOnce = true;
  };
  ws.onclose = () => {
    $('conn').textContent = 'reconnecting'; $('conn').className = 'down';
    setTimeout(connect, 1000);
  };
  ws.onmessage = (e) => onMessage(parseJson(e.data));
}

function onMessage(msg) {
  if (msg.op === 'error') return console.warn('live feed:', msg.code, msg.message);
  // Acknowledgements ({op: subscribed | unsubscribed, channel}) carry no data.
  if (msg.op || !msg.channel) return;
  const [kind, key] = msg.channel.split(':');
  const m = state.market?.market;
  const d = msg.data;
  if (kind === 'book' && key === m) onBook(msg.type, d);
  else if (kind === 'trades' && key === m) { state.trades.unshift(d); state.trades.length = Math.min(state.trades.length, 40); renderTrades(); }
  else if (kind === 'candles' && key === m && d.interval === $('interval').value) { state.candles.set(d.start, d); drawChart(); }
  else if (kind === 'orders' && d.market === m && d.idx !== undefined && d.batch_id !== undefined) { upsertSealed(d); renderSealed(); }
  else if (kind === 'orders' && d.market === m) { upsertOrder(d); renderOrders(); }
  else if (kind === 'batches' && key === m) { upsertBatch(d); renderBatches(); renderSealed(); }
  else if (kind === 'balances' && d.market === m) { state.balances = d; renderBalances(); }
}

// Book levels [price, qty] as BigInts.
const levels = (list) => (list || []).map(([p, q]) => [big(p), big(q)]);

// The book channel: a snapshot, then diffs whose seq rises by exactly one. A gap
// or a reset (the indexer rolled back a dropped fork) means: take a new snapshot.
function onBook(type, d) {
  const book = state.book;
  if (type === 'snapshot') {
    book.seq = d.seq;
    book.bids = new Map(levels(d.bids));
    book.asks = new Map(levels(d.asks));
  } else if (type === 'reset' || book.seq === null || d.seq !== book.seq + 1) {
    book.seq = null;
    send({ op: 'subscribe', channel: `book:${state.market.market}` });
    return;
  } else {
    book.seq = d.seq;
    for (const [side, changed] of [[book.bids, d.bids], [book.asks, d.asks]]) {
      for (const [price, qty] of levels(changed)) { if (qty === 0n) side.delete(price); else side.set(price, qty); }
    }
  }
  renderBook();
}

// ---- rendering ------------------------------------------------------------------

function cell(text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; }
function row(cells, data) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  for (const [k, v] of Object.entries(data || {})) tr.dataset[k] = String(v);
  return tr;
}
function button(label, onclick) {
  const b = document.createElement('button');
  b.textContent = label; b.onclick = onclick;
  return b;
}
// Exact for any integer (BigInt formatting), whatever the size.
const fmt = (n) => { try { return big(n).toLocaleString('en-US'); } catch { return Number(n).toLocaleString('en-US'); } };

const DEPTH = 12;
function renderBook() {
  const bids = [...state.book.bids].sort((a, b) => cmp(b[0], a[0])).slice(0, DEPTH);
  const asks = [...state.book.asks].sort((a, b) => cmp(a[0], b[0])).slice(0, DEPTH);
  const rows = (side, cls) => {
    let total = 0n;
    return side.map(([p, q]) => { total += q; return row([cell(fmt(p), cls), cell(fmt(q)), cell(fmt(total), 'dim')], { price: p, qty: q }); });
  };
  $('asks').replaceChildren(...rows(asks, 'ask').reverse());
  $('bids').replaceChildren(...rows(bids, 'bid'));
  $('spread').textContent = bids.length && asks.length ? `spread ${fmt(asks[0][0] - bids[0][0])} ticks` : '-';
  $('book-seq').textContent = `seq ${state.book.seq}`;
  $('book-seq').dataset.seq = state.book.seq;
}

function renderTrades() {
  $('trades').replaceChildren(...state.trades.slice(0, 25).map((t) => {
    // A batch trades once, at one price (a batch market's trades channel): no taker side.
    const batch = t.batch_id !== undefined && t.taker_side === undefined;
    const cls = batch ? '' : t.taker_side === 'bid' ? 'bid' : 'ask';
    const when = t.block_time ? new Date(Number(t.block_time) * 1000).toLocaleTimeString() : `slot ${t.slot}`;
    return row([cell(fmt(t.price), cls), cell(fmt(t.qty_lots)), cell(batch ? `batch ${t.batch_id}, ${when}` : when, 'dim')],
      batch ? { batchId: t.batch_id } : { fillSeq: t.fill_seq });
  }));
}

function upsertOrder(o) {
  const id = String(o.order_id);
  if (o.status === 'open' && big(o.remaining_lots) > 0n) state.orders.set(id, o);
  else state.orders.delete(id);
}

function renderOrders() {
  const orders = [...state.orders.values()].sort((a, b) => cmp(big(b.placed_seq), big(a.placed_seq)));
  $('orders').replaceChildren(...orders.map((o) => {
    const cancel = button('cancel', () => transact('cancel', '/tx/cancel', { order_id: String(o.order_id), side: o.side },
      ['cancel_order', { side: o.side, orderId: big(o.order_id) }]));
    cancel.className = 'small';
    const td = cell(''); td.append(cancel);
    return row([cell(o.side === 'bid' ? 'buy' : 'sell', o.side), cell(fmt(o.price)), cell(fmt(o.remaining_lots)), cell(fmt(o.filled_lots)),
      cell(String(o.client_order_id)), td], { orderId: o.order_id, price: o.price, side: o.side });
  }));
  $('orders-empty').textContent = !state.signer ? 'Load a wallet to see your orders.' : orders.length ? '' : 'No open orders.';
}

function renderBalances() {
  const b = state.balances;
  const rows = b ? [['base', b.base_available, b.base_locked], ['quote', b.quote_available, b.quote_locked]]
    .map(([asset, a, l]) => row([cell(asset), cell(fmt(a)), cell(fmt(l), 'dim')], { asset, available: a, locked: l }))
    : [row([cell('no trader account on this market', 'dim')])];
  $('balances').replaceChildren(...rows);
}

function drawChart() {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 800, height = canvas.clientHeight || 300;
  canvas.width = width * ratio; canvas.height = height * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const step = 9, axis = 70;
  // Plotting needs floating point; the labels of a chart may round.
  const candles = [...state.candles.values()].sort((a, b) => Number(a.start) - Number(b.start)).slice(-Math.floor((width - axis) / step))
    .map((c) => ({ open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close) }));
  canvas.dataset.candles = candles.length;
  g.fillStyle = '#7d8594'; g.font = '11px monospace';
  if (!candles.length) { g.fillText('no trades in this interval yet', 10, 20); return; }
  let lo = Math.min(...candles.map((c) => c.low)), hi = Math.max(...candles.map((c) => c.high));
  if (hi === lo) { hi += 1; lo -= 1; }
  const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
  const y = (p) => 8 + (height - 24) * (hi - p) / (hi - lo);
  g.strokeStyle = '#262b35';
  for (let i = 0; i <= 4; i++) {
    const p = lo + (hi - lo) * i / 4;
    g.beginPath(); g.moveTo(0, y(p)); g.lineTo(width - axis, y(p)); g.stroke();
    g.fillText(hi - lo < 20 ? p.toFixed(1) : Math.round(p).toLocaleString('en-US'), width - axis + 6, y(p) + 4);
  }
  candles.forEach((c, i) => {
    const x = i * step + step / 2;
    const color = c.close >= c.open ? '#2ebd85' : '#f6465d';
    g.strokeStyle = color; g.fillStyle = color;
    g.beginPath(); g.moveTo(x, y(c.high)); g.lineTo(x, y(c.low)); g.stroke();
    const top = y(Math.max(c.open, c.close)), bottom = y(Math.min(c.open, c.close));
    g.fillRect(x - 3, top, 6, Math.max(1, bottom - top));
  });
}

// ---- loading --------------------------------------------------------------------

async function loadCandles() {
  const m = state.market.market;
  const { candles } = await api(`/markets/${m}/candles?interval=${$('interval').value}&limit=200`);
  state.candles = new Map(candles.map((c) => [c.time, { ...c, start: c.time }]));
  drawChart();
}

async function loadTrader() {
  state.orders.clear();
  state.balances = null;
  if (state.signer && state.market) {
    const owner = state.signer.address, m = state.market.market;
    for (const kind of ['orders', 'balances']) send({ op: 'subscribe', channel: `${kind}:${owner}` });
    const [{ orders }, { balances }] = await Promise.all([
      api(`/traders/${owner}/orders?market=${m}&status=open&limit=200`), api(`/traders/${owner}/balances`)]);
    for (const o of orders) upsertOrder(o);
    state.balances = balances.find((b) => b.market === m) || null;
    renderBalances();
  }
  renderOrders();
  await loadSealed();
}

async function selectMarket(address) {
  const market = state.markets.find((m) => m.market === address) || state.markets[0];
  if (!market) { $('units').textContent = 'no markets indexed yet'; return; }
  const old = state.market;
  const kinds = (m) => ['book', 'trades', 'candles', ...(m.batch ? ['batches'] : [])];
  if (old) for (const kind of kinds(old)) send({ op: 'unsubscribe', channel: `${kind}:${old.market}` });
  state.market = market;
  $('market').value = market.market;
  $('units').textContent = `price in ticks of ${fmt(market.quote_tick_size)} quote atoms per lot; quantity in lots of ${fmt(market.base_lot_size)} base atoms`;
  state.book = { seq: null, bids: new Map(), asks: new Map() };
  renderBook();
  showBatchMarket(market);
  if (old) for (const kind of kinds(market)) send({ op: 'subscribe', channel: `${kind}:${market.market}` });
  const { trades } = await api(`/markets/${market.market}/trades?limit=40`);
  state.trades = trades;
  renderTrades();
  await loadBatches();
  await Promise.all([loadCandles(), loadTrader()]);
}

// ---- batch markets ----------------------------------------------------------------

// The sealing module (seal.js, with the vendored @noble libraries), loaded once when first needed.
let sealModule = null;
const sealing = () => (sealModule ??= import('./seal.js'));

function showBatchMarket(market) {
  const batch = market.batch;
  for (const id of ['batch-badge', 'batch-panel', 'sealed-note', 'type-market']) $(id).hidden = !batch;
  if (!batch && $('type').value === 'market') $('type').value = 'limit';
  state.batchKey = null;
  state.batches = new Map();
  state.sealed = new Map();
  $('batch-rules').textContent = batch
    ? `${fmt(batch.batch_slots)}-slot batches, ${fmt(batch.sealed_fee)} quote atoms a sealed order, at most ${fmt(batch.capacity)} a batch` : '';
  renderCountdown();
}

// The batch collecting now and its key, as the chain has them (the server reads them).
async function loadBatchKey() {
  const market = state.market;
  state.batchKeyAsked = performance.now();
  const key = await api(`/markets/${market.market}/batch-key`);
  if (state.market === market) {
    state.batchKey = { ...key, at: performance.now() };
    renderCountdown();
    renderSealed();
  }
  return key;
}

// The countdown to the current batch's close, estimated from the slot the batch key
// was read at and the cluster's recent slot time.
function batchClock() {
  const k = state.batchKey;
  if (!k) return null;
  const ms = Number(k.slot_ms) || 400;
  const passed = BigInt(Math.floor((performance.now() - k.at) / ms));
  const left = big(k.close_slot) - big(k.slot) - passed;
  const slotsLeft = left > 0n ? left : 0n;
  return { slotsLeft, seconds: Number(slotsLeft) * ms / 1000 };
}

function renderCountdown() {
  const el = $('batch-countdown'), k = state.batchKey, clock = batchClock();
  if (!k || !clock) {
    el.textContent = state.market?.batch ? 'reading the batch ...' : '-';
    $('batch-key-state').textContent = '';
    return;
  }
  el.textContent = clock.slotsLeft > 0n
    ? `batch ${k.batch_id} closes at slot ${fmt(k.close_slot)}: ${fmt(clock.slotsLeft)} slots (~${clock.seconds.toFixed(1)} s)`
    : `batch ${k.batch_id} has closed at slot ${fmt(k.close_slot)}; the next is collecting`;
  Object.assign(el.dataset, { batchId: k.batch_id, closeSlot: k.close_slot, slotsLeft: clock.slotsLeft });
  $('batch-key-state').textContent = k.group_key
    ? `sealed to keyper round ${k.key_round}'s key; ${fmt(k.orders)} of ${fmt(k.capacity)} sealed orders in`
    : `no usable key for this batch (${k.key_status}): sealed orders wait until the keypers register one`;
}

// Every half second: the countdown, and the batch key again once the batch closed
// (or every 30 s), at most every 2 s.
function batchTick() {
  if (!state.market?.batch) return;
  renderCountdown();
  const clock = batchClock(), since = performance.now() - (state.batchKeyAsked ?? -1e9);
  if ((!clock || clock.slotsLeft === 0n || since > 30_000) && since > 2_000) {
    loadBatchKey().catch((e) => console.info('batch key:', e.message));
  }
}

async function loadBatches() {
  state.batches = new Map();
  const m = state.market;
  if (m?.batch) {
    const { batches } = await api(`/markets/${m.market}/batches?limit=10`);
    for (const b of batches) upsertBatch(b);
    loadBatchKey().catch((e) => console.info('batch key:', e.message));
  }
  renderBatches();
}

function upsertBatch(b) {
  state.batches.set(String(b.batch_id), b);
}

// A cleared batch's price (null before it cleared, or when nothing crossed).
function clearingPrice(b) {
  return b && ['cleared', 'done'].includes(b.status) && b.price !== null && big(b.price) > 0n ? big(b.price) : null;
}

function renderBatches() {
  const batches = [...state.batches.values()].sort((a, b) => cmp(big(b.batch_id), big(a.batch_id)));
  $('batches').replaceChildren(...batches.slice(0, 10).map((b) => {
    const price = clearingPrice(b);
    return row([cell(String(b.batch_id)), cell(b.status), cell(fmt(b.orders)), cell(price === null ? '-' : fmt(price)),
      cell(b.volume === null || b.volume === undefined ? '-' : fmt(b.volume))],
    { batchId: b.batch_id, status: b.status, price: price ?? '', volume: b.volume ?? '' });
  }));
  const last = batches.find((b) => clearingPrice(b) !== null);
  $('batch-last-price').textContent = last ? `${fmt(clearingPrice(last))} (batch ${last.batch_id}, ${fmt(last.volume)} lots)` : '-';
  $('batch-last-price').dataset.price = last ? clearingPrice(last) : '';
}

function upsertSealed(o) {
  state.sealed.set(`${o.batch_id}:${o.idx}`, o);
}

// The wallet's sealed orders in the recent batches (at most five reads).
async function loadSealed() {
  state.sealed = new Map();
  const market = state.market;
  if (state.signer && market?.batch) {
    const trader = await traderAddress(market.market, state.signer.address);
    const recent = [...state.batches.values()].sort((a, b) => cmp(big(b.batch_id), big(a.batch_id))).slice(0, 5);
    const details = await Promise.all(recent.map((b) => api(`/markets/${market.market}/batches/${b.batch_id}`).catch(() => null)));
    for (const d of details) {
      for (const o of d?.sealed_orders || []) if (o.trader === trader) upsertSealed({ ...o, market: market.market, batch_id: d.batch_id });
    }
  }
  renderSealed();
}

function renderSealed() {
  if (!state.market?.batch) return;
  const clock = batchClock(), current = state.batchKey?.batch_id;
  const orders = [...state.sealed.values()].sort((a, b) => cmp(big(b.batch_id), big(a.batch_id)) || cmp(big(b.idx), big(a.idx)));
  $('sealed').replaceChildren(...orders.map((o) => {
    const mine = state.sealedLocal.get(String(o.submitted_seq));
    // Revealed by the chain once the batch opened; before that only this page knows it.
    const what = o.side
      ? `${o.side === 'bid' ? 'buy' : 'sell'} ${fmt(o.qty_lots)} @ ${fmt(o.price)} ${o.order_type}`
      : mine ? `${mine.side === 'bid' ? 'buy' : 'sell'} ${fmt(mine.qty)} @ ${fmt(mine.price)} ${mine.type} (sealed)` : 'sealed';
    const price = clearingPrice(state.batches.get(String(o.batch_id)));
    const filled = o.filled_lots === null || o.filled_lots === undefined ? null : big(o.filled_lots);
    const td = cell('');
    if (o.status === 'sealed' && current !== undefined && big(o.batch_id) === big(current) && clock?.slotsLeft > 0n) {
      const cancel = button('cancel', () => transact('cancel sealed', '/tx/cancel-sealed', { batch_id: big(o.batch_id), index: big(o.idx) },
        ['cancel_sealed', { batchId: big(o.batch_id), index: big(o.idx), auction: state.market.batch.auction, keyperSet: state.market.batch.keyper_set }]));
      cancel.className = 'small';
      td.append(cancel);
    }
    const status = o.status === 'void' && o.void_reason ? `void (${o.void_reason})` : o.status;
    return row([cell(`${o.batch_id}#${o.idx}`), cell(what, o.side || mine?.side), cell(status),
      cell(`${fmt(o.base_envelope)} / ${fmt(o.quote_envelope)}`, 'dim'),
      cell(filled === null ? '-' : filled > 0n && price !== null ? `${fmt(filled)} @ ${fmt(price)}` : fmt(filled)), td],
    { batchId: o.batch_id, idx: o.idx, status: o.status, filled: filled ?? '', fillPrice: filled > 0n && price !== null ? price : '' });
  }));
  $('sealed-empty').textContent = !state.signer ? 'Load a wallet to see your sealed orders.' : orders.length ? '' : 'No sealed orders in the recent batches.';
}

// Seals an order here for the batch collecting now and submits it: only the
// ciphertext and the collateral go to the server. If the batch closes while the
// transaction is on its way, it is sealed again for the next (three tries).
function placeSealed(side, order) {
  const market = state.market;
  const what = `sealed ${side === 'bid' ? 'buy' : 'sell'}`;
  return transact(what, null, null, null, {
    retryOn: ['batch_closed', 'BatchClosed'],
    make: async () => {
      const seal = await sealing();
      const key = await loadBatchKey();
      if (key.auction !== market.batch.auction || key.keyper_set !== market.batch.keyper_set) {
        throw new Error('the batch key is for another auction than this market\'s');
      }
      if (!key.group_key) {
        throw Object.assign(new Error(`batch ${key.batch_id} has no usable key (${key.key_status}): the keypers have not registered one, so no sealed order can be submitted now`), { code: 'no_batch_key' });
      }
      // Collateral by the program's rule; by default rounded up to a power of two, as the CLI locks it.
      const mode = $('collateral').value;
      const collateral = mode === 'exact'
        ? seal.envelope(key.collateral_terms, side, order.price, order.qty)
        : seal.privateEnvelope(key.collateral_terms, side, order.price, order.qty, mode === 'hide_side');
      if (!collateral) throw new Error('the order is too large: its collateral does not fit a u64');
      const batchId = big(key.batch_id);
      const trader = await traderAddress(market.market, state.signer.address);
      const binding = { program: address(SOLEX), market: address(market.market), batch: batchId, trader: address(trader) };
      const plaintext = seal.orderPlaintext({ ...order, side });
      const sealed = seal.seal(seal.fromHex(key.group_key), binding, plaintext);
      plaintext.fill(0);
      const body = {
        batch_id: batchId, ephemeral: seal.toHex(sealed.ephemeral), ciphertext: seal.toHex(sealed.ciphertext), tag: seal.toHex(sealed.tag),
        collateral_base: collateral.base, collateral_quote: collateral.quote,
      };
      const intent = ['submit_sealed', {
        batchId, ephemeral: sealed.ephemeral, ciphertext: sealed.ciphertext, tag: sealed.tag,
        collateralBase: collateral.base, collateralQuote: collateral.quote,
        auction: market.batch.auction, keyperSet: market.batch.keyper_set,
      }];
      const onDone = (out) => {
        const submitted = (out.events || []).find((e) => e.kind === 'SealedSubmitted');
        if (submitted) state.sealedLocal.set(String(submitted.seq), { side, ...order });
        $('result').textContent += ` (batch ${batchId}, closing at slot ${fmt(key.close_slot)}; collateral ${fmt(collateral.base)} base, ${fmt(collateral.quote)} quote)`;
        renderSealed();
      };
      return { path: '/tx/sealed', body, intent, onDone };
    },
  });
}

function placeFrom(side) {
  let intent;
  try {
    intent = { side, type: $('type').value, price: uintInput($('price').value, 'price'), qty: uintInput($('qty').value, 'quantity'),
      clientId: $('client-id').value.trim() ? uintInput($('client-id').value, 'client id') : 0n };
  } catch (e) { return report(false, e.message); }
  // A batch market's book takes only post-only orders; limit, IOC and market orders are sealed.
  if (state.market?.batch && !['post_only', 'post_only_slide'].includes(intent.type)) {
    if (!['limit', 'ioc', 'market'].includes(intent.type)) {
      return report(false, `a batch market takes post-only orders on its book and limit, IOC or market orders sealed; not ${intent.type}`);
    }
    return placeSealed(side, { type: intent.type, price: intent.price, qty: intent.qty, clientId: intent.clientId });
  }
  const body = { side, type: intent.type, price: intent.price, qty: intent.qty, client_id: intent.clientId };
  return transact(side === 'bid' ? 'buy' : 'sell', '/tx/place', body, ['place_order', intent]);
}

function fundsFrom(deposit) {
  let amount;
  try { amount = uintInput($('amount').value, 'amount'); } catch (e) { return report(false, e.message); }
  const asset = $('asset').value;
  const name = deposit ? 'deposit' : 'withdraw';
  return transact(name, `/tx/${name}`, { asset, amount }, [name, { asset, amount }]);
}

async function main() {
  $('buy').onclick = () => placeFrom('bid');
  $('sell').onclick = () => placeFrom('ask');
  $('deposit').onclick = () => fundsFrom(true);
  $('withdraw').onclick = () => fundsFrom(false);
  $('cancel-all').onclick = () => transact('cancel all', '/tx/cancel-all', {}, ['cancel_all', {}]);
  $('settle').onclick = () => transact('settle', '/tx/settle', {}, ['settle_funds', {}]);
  $('interval').onchange = () => loadCandles();
  $('market').onchange = () => selectMarket($('market').value);
  $('keypair-file').onchange = async () => { const f = $('keypair-file').files[0]; if (f) $('keypair').value = await f.text(); };
  $('load-keypair').onclick = async () => {
    try {
      const record = await importKeypair($('keypair').value);
      $('keypair').value = '';
      await saveDevKey(record);
      await useSigner(await keypairSigner(record));
      report(true, 'keypair loaded (kept in this browser as a non-extractable key)');
    } catch (e) { report(false, e.message); }
  };
  $('forget-keypair').onclick = async () => {
    try {
      await forgetDevKey();
      if (state.signer?.label === 'development keypair') { state.signer = null; showSigner(); await loadTrader(); }
      report(true, 'development keypair forgotten');
    } catch (e) { report(false, e.message); }
  };
  window.addEventListener('resize', drawChart);
  setInterval(batchTick, 500);

  // The cluster (for wallets, which sign for a named chain) comes from the server.
  api('/config.json').then((c) => { state.chain = c.chain; $('chain').textContent = c.chain; })
    .catch((e) => { $('chain').textContent = 'cluster unknown'; console.info('config:', e.message); });
  try { state.signer = await restoreDevKey(); } catch (e) { console.info('no stored keypair:', e.message); }
  showSigner();
  const { markets } = await api('/markets');
  state.markets = markets;
  $('market').replaceChildren(...markets.map((m) => {
    const o = document.createElement('option');
    o.value = m.market; o.textContent = `${m.market.slice(0, 6)}... (${m.base_mint.slice(0, 4)}/${m.quote_mint.slice(0, 4)})`;
    return o;
  }));
  await selectMarket(new URLSearchParams(location.search).get('market'));
  connect();
}

// For tests and the curious: the page's own decoding and checks.
window.solexPage = { big, parseJson, toJson, fmt, uintInput, decodeTransaction, checkTransaction, findProgramAddress, traderAddress, ataAddress, discriminator, onBook, batchClock, sealing, state };

main().catch((e) => report(false, `could not load: ${e.message}`));
