//! The main job end to end: the `localnet` program that `scripts/localnet.sh` runs,
//! on free ports. It starts the validator, the demo market, the crank, the indexer
//! and the bots; trades flow and get settled without anyone doing anything; the web
//! page is served; a newcomer's wallet (`you.json`, as the README says) places a
//! crossing order with the `solex` CLI and sees their own fill in the indexer; the
//! batch market's bots trade through sealed orders, its batches clear and are
//! indexed, and the newcomer's sealed order fills; and Ctrl-C stops everything,
//! leaving no process behind.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use solex_localnet::services::{drop_database, free_port, sibling};

fn get(url: &str) -> Option<Value> {
    ureq::get(url).timeout(Duration::from_secs(5)).call().ok()?.into_json().ok()
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(secs), "{what}: not within {secs} s");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn the_local_exchange_trades_by_itself_takes_a_newcomers_order_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (api_port, metrics_port) = (free_port(), free_port());
    let db = format!("solex_localnet_test_{}", std::process::id());
    let mut localnet = Command::new(env!("CARGO_BIN_EXE_localnet"))
        .arg(dir.path())
        .env("SOLEX_LOCALNET_RPC_PORT", "38899") // falls back to a free block if taken
        .env("SOLEX_LOCALNET_API_PORT", api_port.to_string())
        .env("SOLEX_LOCALNET_METRICS_PORT", metrics_port.to_string())
        .env("SOLEX_LOCALNET_DB", &db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start localnet");

    // Its banner: every address, then "Ctrl-C stops everything."
    let mut banner = vec![];
    let mut lines = BufReader::new(localnet.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let field = |name: &str| -> String {
        let line = banner
            .iter()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {banner:?}"));
        line.trim_start()[name.len()..].split_whitespace().next().unwrap().to_string()
    };
    let (market, rpc, you) = (field("market"), field("RPC"), field("you"));
    let pid = |name: &str| -> u32 {
        let line = banner.iter().find(|l| l.trim_start().starts_with(name)).unwrap();
        line.split("pid ").nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    let (crank, indexer) = (pid("crank"), pid("indexer"));
    let api = format!("http://127.0.0.1:{api_port}");
    let you_keypair = dir.path().join("you.json");
    assert!(you_keypair.exists(), "you.json written");

    // Trades flow and get settled with nobody doing anything.
    let trades = wait_for("the bots' trades in the indexer", 90, || {
        let t = get(&format!("{api}/markets/{market}/trades"))?;
        (t["trades"].as_array()?.len() >= 3).then_some(t)
    });
    assert!(trades["trades"][0]["price"].as_u64().unwrap() > 0);
    wait_for("the crank settling fills", 60, || {
        let text = ureq::get(&format!("http://127.0.0.1:{metrics_port}/metrics")).call().ok()?.into_string().ok()?;
        let settled: u64 = text
            .lines()
            .filter(|l| l.starts_with("solex_crank_events_settled_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        (settled > 0).then_some(())
    });
    let page = ureq::get(&format!("{api}/?market={market}")).call().unwrap().into_string().unwrap();
    assert!(page.contains("<title>Solex</title>"));

    // The newcomer: a crossing buy with the CLI and the printed keypair file.
    let solex = Command::new(sibling("solex"))
        .args(["--url", &rpc, "--keypair"])
        .arg(&you_keypair)
        .args(["--json", "place", &market, "bid", "--ui", "--price", "200", "--qty", "0.001", "--type", "ioc"])
        .output()
        .expect("run solex (cargo build -p solex-cli)");
    assert!(solex.status.success(), "solex place: {}", String::from_utf8_lossy(&solex.stderr));
    let fills = wait_for("the newcomer's fill in the indexer", 60, || {
        let f = get(&format!("{api}/traders/{you}/fills?market={market}"))?;
        (!f["fills"].as_array()?.is_empty()).then_some(f)
    });
    assert_eq!(fills["fills"][0]["role"], "taker", "{fills}");

    // The batch market: the keypers release the keys, the crank opens, clears and
    // executes the batches, the indexer shows them; the newcomer's sealed bid fills.
    let at = banner.iter().position(|l| l.starts_with("batch market")).expect("the batch market's banner");
    let batch_market =
        banner[at + 1].trim_start().strip_prefix("market").unwrap().split_whitespace().next().unwrap().to_string();
    wait_for("a cleared batch in the indexer", 120, || {
        let b = get(&format!("{api}/markets/{batch_market}/batches"))?;
        b["batches"].as_array()?.iter().any(|b| b["status"] == "done" && b["volume"].as_u64() > Some(0)).then_some(())
    });
    let sealed = Command::new(sibling("solex"))
        .args(["--url", &rpc, "--keypair"])
        .arg(&you_keypair)
        .args([
            "--json",
            "place",
            &batch_market,
            "bid",
            "--ui",
            "--price",
            "200",
            "--qty",
            "0.001",
            "--type",
            "ioc",
            "--sealed",
        ])
        .output()
        .expect("run solex");
    assert!(sealed.status.success(), "solex place --sealed: {}", String::from_utf8_lossy(&sealed.stderr));
    let placed: Value = serde_json::from_slice(&sealed.stdout).expect("JSON");
    let (batch_id, index) =
        (placed["sealed"]["batch_id"].as_u64().unwrap(), placed["sealed"]["index"].as_u64().unwrap());
    wait_for("the newcomer's sealed bid filled, in the indexer", 90, || {
        let b = get(&format!("{api}/markets/{batch_market}/batches/{batch_id}"))?;
        let o = &b["sealed_orders"][index as usize];
        (o["status"] == "done" && o["filled_lots"].as_u64() == Some(1)).then_some(())
    });

    // Ctrl-C stops everything.
    Command::new("kill").args(["-INT", &localnet.id().to_string()]).status().unwrap();
    let status = wait_for("localnet to stop", 60, || localnet.try_wait().unwrap());
    assert!(status.success(), "localnet exits 0 on Ctrl-C: {status:?}");
    wait_for("the crank and the indexer to be gone", 10, || (!alive(crank) && !alive(indexer)).then_some(()));
    assert!(ureq::get(&format!("{api}/health")).call().is_err(), "the API is down");
    let ping = ureq::post(&rpc).send_json(serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getHealth"}));
    assert!(ping.is_err(), "the validator is down");
    drop_database(&db);
}
