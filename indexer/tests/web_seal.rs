//! The page's sealing module (`indexer/web/seal.js`, run by Node) against the Rust
//! side of the construction:
//! - `node --test indexer/web/test/`: the Rust test vector sealed to the same bytes
//!   (the vector's hex is read from `programs/seal/src/tests.rs`), the plaintext
//!   layout, bindings, bad keys, the collateral rule;
//! - orders the page's module seals to random batch keys, opened by the program's own
//!   opening code (`solex_seal::shared_secret` and `open`, what `decrypt_batch` runs)
//!   with the batch secret, decode to the order sealed, and fail under any other
//!   binding;
//! - the page's collateral equals `solex_sdk::auction::envelope` and
//!   `private_envelope` (with and without the side hidden) on random markets and
//!   orders, overflow included.
//!
//! Needs `node` (or `$SOLEX_NODE`) 18 or later on the PATH.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use solex_sdk::auction as ax;
use solex_sdk::{Market, Side};
use solex_seal::{Binding, OrderPlaintext, Sealed};

fn node() -> String {
    std::env::var("SOLEX_NODE").unwrap_or_else(|_| "node".into())
}

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

#[test]
fn the_page_sealing_module_passes_its_node_tests_against_the_rust_vector() {
    let out = Command::new(node())
        .arg("--test")
        .arg(web_dir().join("test").join("seal.test.js"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}): install Node.js 18 or later", node()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "node --test failed:\n{text}");
    assert!(text.contains("# pass 7") && text.contains("# fail 0"), "every Node test ran and passed:\n{text}");
}

/// splitmix64: enough randomness for test cases, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        b
    }

    /// A u64 of a random bit length, so small, large and extreme values all come up.
    fn u64(&mut self) -> u64 {
        let bits = self.next() % 65;
        if bits == 0 {
            0
        } else {
            self.next() >> (64 - bits)
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex<const N: usize>(v: &Value) -> [u8; N] {
    let s = v.as_str().unwrap();
    let bytes: Vec<u8> = (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
    bytes.try_into().unwrap_or_else(|b: Vec<u8>| panic!("{} bytes, not {N}", b.len()))
}

/// Runs `web_seal.mjs` (beside this file) on `input`.
fn page_module(input: &Value) -> Value {
    let mut child = Command::new(node())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("web_seal.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}): install Node.js 18 or later", node()));
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "web_seal.mjs failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn orders_the_page_seals_open_with_the_programs_code_and_its_collateral_is_the_sdks() {
    let seed = std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos() as u64;
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let types = [("limit", 0u8), ("ioc", 3), ("market", 5)];

    // 40 orders, each sealed to a batch key of its own.
    let mut cases = vec![];
    let mut inputs = vec![];
    for _ in 0..40 {
        let mut secret = rng.bytes32();
        secret[31] &= 0x0f; // below 2^252: a canonical scalar
        let group_key = solex_seal::public_key(&secret).expect("a public key");
        let binding = Binding {
            program: solex_sdk::PROGRAM_ID.to_bytes(),
            market: rng.bytes32(),
            batch: rng.u64(),
            trader: rng.bytes32(),
        };
        let (type_name, type_byte) = types[(rng.next() % 3) as usize];
        let side = if rng.next().is_multiple_of(2) { "bid" } else { "ask" };
        let order = OrderPlaintext {
            side: u8::from(side == "ask"),
            order_type: type_byte,
            price: rng.u64(),
            qty_lots: rng.u64(),
            client_order_id: rng.u64(),
            expiry: rng.u64(),
        };
        inputs.push(json!({
            "group_key": hex(&group_key), "program": hex(&binding.program), "market": hex(&binding.market),
            "trader": hex(&binding.trader), "batch": binding.batch.to_string(),
            "order": {"side": side, "type": type_name, "price": order.price.to_string(), "qty": order.qty_lots.to_string(),
                "client_id": order.client_order_id.to_string(), "expiry": order.expiry.to_string()},
        }));
        cases.push((secret, binding, order));
    }

    // 200 collateral cases: random lot and tick sizes and fees (rebates too), some overflowing.
    let mut envelopes = vec![];
    let mut expected = vec![];
    for i in 0..200u32 {
        let mut m: Market = anchor_lang::__private::bytemuck::Zeroable::zeroed();
        m.base_lot_size = 1 + rng.u64() % (1 << 20);
        m.quote_tick_size = 1 + rng.u64() % (1 << 20);
        m.taker_fee_bps = (rng.next() % 1_001) as i16;
        m.maker_fee_bps = (rng.next() % 1_001) as i16 - 200;
        let sealed_fee = rng.u64() % 1_000_000;
        let side = if i.is_multiple_of(2) { Side::Bid } else { Side::Ask };
        // Small orders most of the time, so most cases fit; every tenth is extreme.
        let (price, qty) =
            if i.is_multiple_of(10) { (rng.u64(), rng.u64()) } else { (rng.next() % 1_000_000, rng.next() % 100_000) };
        envelopes.push(json!({
            "terms": {"base_lot_size": m.base_lot_size.to_string(), "quote_tick_size": m.quote_tick_size.to_string(),
                "taker_fee_bps": m.taker_fee_bps, "maker_fee_bps": m.maker_fee_bps, "sealed_fee": sealed_fee.to_string()},
            "side": side.as_str(), "price": price.to_string(), "qty": qty.to_string(),
        }));
        let out = |e: Option<(u64, u64)>| {
            e.map(|(b, q)| json!({"base": b.to_string(), "quote": q.to_string()})).unwrap_or(Value::Null)
        };
        expected.push(json!({
            "exact": out(ax::envelope(&m, sealed_fee, side, price, qty)),
            "private": out(ax::private_envelope(&m, sealed_fee, side, price, qty, false)),
            "hide_side": out(ax::private_envelope(&m, sealed_fee, side, price, qty, true)),
        }));
    }

    let out = page_module(&json!({"seals": inputs, "envelopes": envelopes}));

    let sealed = out["seals"].as_array().unwrap();
    assert_eq!(sealed.len(), cases.len());
    for ((secret, binding, order), s) in cases.iter().zip(sealed) {
        let sealed =
            Sealed { ephemeral: unhex(&s["ephemeral"]), ciphertext: unhex(&s["ciphertext"]), tag: unhex(&s["tag"]) };
        let shared = solex_seal::shared_secret(secret, &sealed.ephemeral).expect("the ephemeral key is a point");
        let opened = solex_seal::open(&shared, binding, &sealed).expect("the tag verifies under its binding");
        assert_eq!(opened, order.encode(), "the plaintext is the program's layout");
        assert_eq!(OrderPlaintext::decode(&opened), Some(*order));
        for other in [
            Binding { batch: binding.batch.wrapping_add(1), ..*binding },
            Binding { market: [9; 32], ..*binding },
            Binding { trader: [9; 32], ..*binding },
            Binding { program: [9; 32], ..*binding },
        ] {
            assert_eq!(solex_seal::open(&shared, &other, &sealed), None, "a copy under another binding is junk");
        }
    }
    let fits = expected.iter().filter(|e| !e["exact"].is_null()).count();
    assert!(fits > 150 && fits < 200, "both kinds of case came up ({fits} of 200 fit)");
    assert_eq!(out["envelopes"], Value::Array(expected), "the page's collateral is the SDK's");
}
