//! The REST and transaction APIs under a schema-based fuzzer: schemathesis
//! generates requests from the served `openapi.json` (its examples, boundary
//! values around them, and random data) against the real `solex-indexer run` over
//! a real validator with a traded market, and no response may be a 5xx. The
//! document's examples are this market, a trader of it and one of its orders, so
//! the generated requests reach the handlers' database and chain paths, not only
//! their input validation. `SOLEX_API_FUZZ_EXAMPLES` sets the cases per operation.
use serde_json::{json, Value};
use solex_localnet::rpc::RpcClient;
use support::{get, Session};

mod support;

/// Sets `example` on every parameter and body property named in `examples`.
fn add_examples(doc: &mut Value, examples: &Value) {
    match doc {
        Value::Object(map) => {
            if let Some(name) = map.get("name").and_then(Value::as_str) {
                if let Some(example) = examples.get(name) {
                    map.insert("example".into(), example.clone());
                }
            }
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for (name, schema) in props.iter_mut() {
                    if let (Some(example), Some(schema)) = (examples.get(name), schema.as_object_mut()) {
                        schema.insert("example".into(), example.clone());
                    }
                }
            }
            for v in map.values_mut() {
                add_examples(v, examples);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| add_examples(v, examples)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_the_schema_describes_gets_a_server_error() {
    let st = format!("{}/bin/st", solex_localnet::services::env_sh("APIFUZZ_VENV"));
    assert!(std::path::Path::new(&st).exists(), "schemathesis not found at {st}: run scripts/setup.sh apifuzz");

    let stack = support::Stack::start().await;
    let base = stack.base.clone();
    let url = stack.validator.rpc_url();
    let (session, landed) = tokio::task::spawn_blocking(move || {
        let mut chain = RpcClient::new(url);
        let s = Session::open(&mut chain, 1, 2, 5);
        let landed = s.trade(&mut chain);
        (s, landed)
    })
    .await
    .unwrap();
    let market = session.market.keys.market.to_string();
    let last = landed.iter().flat_map(|l| &l.events).map(|e| e.seq()).max().unwrap();
    support::wait_indexed(&base, &market, last).await;
    let owner = session.wallets[0].pubkey().to_string();
    let (_, orders) = get(&base, &format!("/traders/{owner}/orders?market={market}&status=all")).await;
    let order_id = orders["orders"][0]["order_id"].as_str().expect("an order of wallet A").to_string();

    let (status, mut doc) = get(&base, "/openapi.json").await;
    assert_eq!(status, 200);
    let examples = json!({
        "market": market, "owner": owner, "order_id": order_id, "side": "bid", "price": 99, "qty": 1,
        "client_id": 1, "asset": "quote", "amount": 1, "type": "limit", "interval": "1m", "status": "open", "batch_id": 0,
    });
    add_examples(&mut doc, &examples);
    let schema = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(schema.path(), doc.to_string()).unwrap();

    let cases = std::env::var("SOLEX_API_FUZZ_EXAMPLES").unwrap_or_else(|_| "25".into());
    let (st, schema_path, base2) = (st.clone(), schema.path().to_path_buf(), base.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(st)
            // schemathesis keeps a cache in its working directory: not in the repository.
            .current_dir(std::env::temp_dir())
            .arg("run")
            .arg(&schema_path)
            .args(["--url", &base2, "--checks", "not_a_server_error", "-n", &cases, "--seed", "7"])
            .args(["--phases", "examples,coverage,fuzzing", "--exclude-path", "/ws", "--request-timeout", "30"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = report.lines().filter(|l| l.contains("generated") || l.contains("Tested")).collect();
    println!("schemathesis: {}", summary.join("; "));
    assert!(
        out.status.success(),
        "schemathesis found server errors:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Tested: 24"), "every operation but /ws was exercised:\n{report}");
    stack.stop().await;
}
