// The Solex trading page: served by the indexer's API, fed by its REST and
// WebSocket APIs, and trading through its transaction API. Transactions are built
// by the server unsigned and signed here, by a development keypair (WebCrypto
// Ed25519) or by a browser wallet speaking the Wallet Standard; no key leaves the
// browser. Plain JavaScript with no build step, so the indexer binary can embed it.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  markets: [], market: null, ws: null,
  book: { seq: null, bids: new Map(), asks: new Map() },
  trades: [], candles: new Map(), orders: new Map(), balances: null,
  signer: null, walletStandard: [],
};

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
const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toBase64 = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));

// Solana's compact-u16 ("shortvec") length prefix: [value, bytes read].
function compactU16(bytes, at) {
  let value = 0;
  for (let i = 0; i < 3; i++) {
    const b = bytes[at + i];
    value |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return [value, i + 1];
  }
  throw new Error('bad compact-u16 length');
}

// Puts `sign(message)` into the signature slot of `pubkey` in a wire transaction
// (legacy or v0): the slot's index is the key's index among the required signers.
async function signWire(wire, pubkey, sign) {
  const [sigs, prefix] = compactU16(wire, 0);
  const message = wire.subarray(prefix + 64 * sigs);
  const at = message[0] & 0x80 ? 1 : 0;
  const required = message[at];
  const [keys, keysPrefix] = compactU16(message, at + 3);
  for (let i = 0; i < Math.min(required, keys, sigs); i++) {
    const start = at + 3 + keysPrefix + 32 * i;
    if (message.subarray(start, start + 32).every((b, j) => b === pubkey[j])) {
      const out = wire.slice();
      out.set(await sign(message), prefix + 64 * i);
      return out;
    }
  }
  throw new Error('this transaction does not need this wallet\'s signature');
}

// ---- signers --------------------------------------------------------------------

// A Solana keypair file is 64 bytes: the Ed25519 seed, then the public key.
// WebCrypto imports the seed as PKCS#8 (a fixed 16-byte header before it).
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
async function keypairSigner(text) {
  let bytes;
  try { bytes = JSON.parse(text); } catch { throw new Error('the keypair is not JSON'); }
  if (!Array.isArray(bytes) || bytes.length !== 64 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
    throw new Error('a keypair file is a JSON array of 64 bytes');
  }
  bytes = Uint8Array.from(bytes);
  const pub = bytes.slice(32);
  if (!crypto.subtle) throw new Error('WebCrypto needs a secure context: open the page on localhost or https');
  const key = await crypto.subtle.importKey('pkcs8', new Uint8Array([...PKCS8_ED25519, ...bytes.slice(0, 32)]),
    { name: 'Ed25519' }, false, ['sign']);
  const verifier = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
  const probe = new TextEncoder().encode('solex keypair check');
  const sig = await crypto.subtle.sign('Ed25519', key, probe);
  if (!await crypto.subtle.verify('Ed25519', verifier, sig, probe)) {
    throw new Error('the keypair\'s public key does not match its secret key');
  }
  return {
    label: 'development keypair',
    address: b58encode(pub),
    sign: (wire) => signWire(wire, pub, async (m) => new Uint8Array(await crypto.subtle.sign('Ed25519', key, m))),
  };
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
  const { accounts } = await wallet.features['standard:connect'].connect();
  const account = accounts?.[0];
  if (!account) throw new Error(`${wallet.name} connected no account`);
  const signer = wallet.features['solana:signTransaction'];
  return {
    label: wallet.name,
    address: account.address,
    sign: async (wire) => {
      const [out] = await signer.signTransaction({ account, transaction: wire, chain: 'solana:localnet' });
      return out.signedTransaction;
    },
  };
}

function renderWalletChoices() {
  const box = $('wallet-choices');
  box.replaceChildren(...state.walletStandard.map((w) => {
    const b = button(`Connect ${w.name}`, async () => useSigner(await walletSigner(w)));
    b.style.marginTop = '6px';
    return b;
  }));
}

async function useSigner(signer) {
  const old = state.signer;
  if (old) for (const kind of ['orders', 'balances']) send({ op: 'unsubscribe', channel: `${kind}:${old.address}` });
  state.signer = signer;
  $('wallet-addr').textContent = `${signer.address} (${signer.label})`;
  $('wallet-addr').className = '';
  $('wallet-addr').dataset.address = signer.address;
  await loadTrader();
}

// ---- the APIs -------------------------------------------------------------------

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({ code: 'bad_response', message: `HTTP ${res.status}` }));
  if (!res.ok) {
    const err = new Error(json.message || `HTTP ${res.status}`);
    err.code = json.program_error || json.code;
    throw err;
  }
  return json;
}

// Builds the transaction on the server, signs it here, relays it, and reports.
async function transact(what, path, body) {
  if (!state.signer) return report(false, 'load a keypair or connect a wallet first');
  for (const b of document.querySelectorAll('button')) b.disabled = true;
  report(null, `${what}: building ...`);
  try {
    const built = await api(path, { market: state.market.market, owner: state.signer.address, ...body });
    report(null, `${what}: waiting for the signature ...`);
    const signed = await state.signer.sign(fromBase64(built.transaction));
    report(null, `${what}: sent, waiting for confirmation ...`);
    const out = await api('/tx/send', { transaction: toBase64(signed) });
    const events = out.events.map((e) => `${e.kind} #${e.seq}`).join(', ');
    report(true, `${what}: confirmed ${out.signature.slice(0, 16)}... ${events}`);
  } catch (e) {
    report(false, `${what}: ${e.message}`, e.code);
  } finally {
    for (const b of document.querySelectorAll('button')) b.disabled = false;
  }
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
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
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
  else if (kind === 'orders' && d.market === m) { upsertOrder(d); renderOrders(); }
  else if (kind === 'balances' && d.market === m) { state.balances = d; renderBalances(); }
}

// The book channel: a snapshot, then diffs whose seq rises by exactly one. A gap
// or a reset (the indexer rolled back a dropped fork) means: take a new snapshot.
function onBook(type, d) {
  const book = state.book;
  if (type === 'snapshot') {
    book.seq = d.seq;
    book.bids = new Map(d.bids);
    book.asks = new Map(d.asks);
  } else if (type === 'reset' || book.seq === null || d.seq !== book.seq + 1) {
    book.seq = null;
    send({ op: 'subscribe', channel: `book:${state.market.market}` });
    return;
  } else {
    book.seq = d.seq;
    for (const [side, levels] of [[book.bids, d.bids], [book.asks, d.asks]]) {
      for (const [price, qty] of levels) { if (qty === 0) side.delete(price); else side.set(price, qty); }
    }
  }
  renderBook();
}

// ---- rendering ------------------------------------------------------------------

function cell(text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; }
function row(cells, data) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  Object.assign(tr.dataset, data || {});
  return tr;
}
function button(label, onclick) {
  const b = document.createElement('button');
  b.textContent = label; b.onclick = onclick;
  return b;
}
const fmt = (n) => Number(n).toLocaleString('en-US');

const DEPTH = 12;
function renderBook() {
  const bids = [...state.book.bids].sort((a, b) => b[0] - a[0]).slice(0, DEPTH);
  const asks = [...state.book.asks].sort((a, b) => a[0] - b[0]).slice(0, DEPTH);
  const rows = (levels, cls) => {
    let total = 0;
    return levels.map(([p, q]) => { total += q; return row([cell(fmt(p), cls), cell(fmt(q)), cell(fmt(total), 'dim')], { price: p, qty: q }); });
  };
  $('asks').replaceChildren(...rows(asks, 'ask').reverse());
  $('bids').replaceChildren(...rows(bids, 'bid'));
  $('spread').textContent = bids.length && asks.length ? `spread ${fmt(asks[0][0] - bids[0][0])} ticks` : '-';
  $('book-seq').textContent = `seq ${state.book.seq}`;
  $('book-seq').dataset.seq = state.book.seq;
}

function renderTrades() {
  $('trades').replaceChildren(...state.trades.slice(0, 25).map((t) => {
    const cls = t.taker_side === 'bid' ? 'bid' : 'ask';
    return row([cell(fmt(t.price), cls), cell(fmt(t.qty_lots)), cell(t.block_time ? new Date(t.block_time * 1000).toLocaleTimeString() : `slot ${t.slot}`, 'dim')],
      { fillSeq: t.fill_seq });
  }));
}

function upsertOrder(o) {
  if (o.status === 'open' && o.remaining_lots > 0) state.orders.set(o.order_id, o);
  else state.orders.delete(o.order_id);
}

function renderOrders() {
  const orders = [...state.orders.values()].sort((a, b) => b.placed_seq - a.placed_seq);
  $('orders').replaceChildren(...orders.map((o) => row([
    cell(o.side === 'bid' ? 'buy' : 'sell', o.side), cell(fmt(o.price)), cell(fmt(o.remaining_lots)), cell(fmt(o.filled_lots)),
    cell(o.client_order_id), (() => { const td = cell(''); const b = button('cancel', () => transact('cancel', '/tx/cancel', { order_id: o.order_id, side: o.side })); b.className = 'small'; td.append(b); return td; })(),
  ], { orderId: o.order_id, price: o.price, side: o.side })));
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
  const candles = [...state.candles.values()].sort((a, b) => a.start - b.start).slice(-Math.floor((width - axis) / step));
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
    g.fillText(hi - lo < 20 ? p.toFixed(1) : fmt(Math.round(p)), width - axis + 6, y(p) + 4);
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
  if (state.signer) {
    const owner = state.signer.address, m = state.market.market;
    for (const kind of ['orders', 'balances']) send({ op: 'subscribe', channel: `${kind}:${owner}` });
    const [{ orders }, { balances }] = await Promise.all([
      api(`/traders/${owner}/orders?market=${m}&status=open&limit=200`), api(`/traders/${owner}/balances`)]);
    for (const o of orders) upsertOrder(o);
    state.balances = balances.find((b) => b.market === m) || null;
    renderBalances();
  }
  renderOrders();
}

async function selectMarket(address) {
  const market = state.markets.find((m) => m.market === address) || state.markets[0];
  if (!market) { $('units').textContent = 'no markets indexed yet'; return; }
  const old = state.market;
  if (old) for (const kind of ['book', 'trades', 'candles']) send({ op: 'unsubscribe', channel: `${kind}:${old.market}` });
  state.market = market;
  $('market').value = market.market;
  $('units').textContent = `price in ticks of ${fmt(market.quote_tick_size)} quote atoms per lot; quantity in lots of ${fmt(market.base_lot_size)} base atoms`;
  state.book = { seq: null, bids: new Map(), asks: new Map() };
  renderBook();
  if (old) for (const kind of ['book', 'trades', 'candles']) send({ op: 'subscribe', channel: `${kind}:${market.market}` });
  const { trades } = await api(`/markets/${market.market}/trades?limit=40`);
  state.trades = trades;
  renderTrades();
  await Promise.all([loadCandles(), loadTrader()]);
}

function placeFrom(side) {
  const body = { side, type: $('type').value, price: $('price').value.trim(), qty: $('qty').value.trim() };
  const clientId = $('client-id').value.trim();
  if (clientId) body.client_id = clientId;
  return transact(side === 'bid' ? 'buy' : 'sell', '/tx/place', body);
}

async function main() {
  $('buy').onclick = () => placeFrom('bid');
  $('sell').onclick = () => placeFrom('ask');
  $('cancel-all').onclick = () => transact('cancel all', '/tx/cancel-all', {});
  $('settle').onclick = () => transact('settle', '/tx/settle', {});
  $('interval').onchange = () => loadCandles();
  $('market').onchange = () => selectMarket($('market').value);
  $('keypair-file').onchange = async () => { const f = $('keypair-file').files[0]; if (f) $('keypair').value = await f.text(); };
  $('load-keypair').onclick = async () => {
    try {
      await useSigner(await keypairSigner($('keypair').value));
      localStorage.setItem('solex.devKeypair', $('keypair').value);
      $('keypair').value = '';
      report(true, 'keypair loaded');
    } catch (e) { report(false, e.message); }
  };
  window.addEventListener('resize', drawChart);

  const { markets } = await api('/markets');
  state.markets = markets;
  $('market').replaceChildren(...markets.map((m) => {
    const o = document.createElement('option');
    o.value = m.market; o.textContent = `${m.market.slice(0, 6)}... (${m.base_mint.slice(0, 4)}/${m.quote_mint.slice(0, 4)})`;
    return o;
  }));
  const saved = localStorage.getItem('solex.devKeypair');
  if (saved) { try { state.signer = await keypairSigner(saved); } catch { localStorage.removeItem('solex.devKeypair'); } }
  if (state.signer) { $('wallet-addr').textContent = `${state.signer.address} (${state.signer.label})`; $('wallet-addr').dataset.address = state.signer.address; $('wallet-addr').className = ''; }
  await selectMarket(new URLSearchParams(location.search).get('market'));
  connect();
}

main().catch((e) => report(false, `could not load: ${e.message}`));
