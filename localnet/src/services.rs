//! The exchange's off-chain services as processes (the crank and the indexer
//! binaries built next to the running one), and the local PostgreSQL and Redis
//! they use, for the programs that run a whole exchange: the local exchange, the
//! chaos suite and the load test.
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use solex_sdk::Pubkey;

use crate::artifacts::workspace_root;

/// A variable of scripts/env.sh, the one place tool versions and cache paths are pinned.
pub fn env_sh(name: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(". scripts/env.sh && printf %s \"${name}\""))
        .current_dir(workspace_root())
        .output()
        .expect("run bash");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The PostgreSQL server URL databases are created on (`SOLEX_TEST_DATABASE_URL`).
pub fn pg_admin_url() -> String {
    std::env::var("SOLEX_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Drops and creates database `name` on the local server; returns its URL.
pub fn fresh_database(name: &str) -> String {
    let admin = pg_admin_url();
    for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
        let ok = psql(&admin, &sql);
        assert!(ok, "psql {sql:?} failed (is PostgreSQL running? scripts/setup.sh services)");
    }
    let (server, _) = admin.rsplit_once('/').expect("a database URL");
    format!("{server}/{name}")
}

pub fn drop_database(name: &str) {
    psql(&pg_admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}

/// Runs one statement quietly (no NOTICE chatter); whether it succeeded.
fn psql(url: &str, sql: &str) -> bool {
    Command::new("psql")
        .args([url, "-qc", sql])
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `action` (stop or start) on the local PostgreSQL cluster:
/// `SOLEX_TEST_PG_STOP` / `SOLEX_TEST_PG_START`, or pg_ctlcluster on the newest cluster.
pub fn postgres(action: &str) {
    let var = format!("SOLEX_TEST_PG_{}", action.to_uppercase());
    let command = std::env::var(&var).unwrap_or_else(|_| {
        let version = std::fs::read_dir("/etc/postgresql")
            .unwrap_or_else(|_| panic!("no /etc/postgresql: set {var} to a command that does `{action}`"))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
            .expect("a PostgreSQL cluster");
        format!("pg_ctlcluster --skip-systemctl-redirect {version} main {action}")
    });
    sh(&command);
}

/// Stops or starts the local Redis (`SOLEX_TEST_REDIS_STOP` / `_START`; by default
/// a shutdown without saving, and a daemon on 127.0.0.1:6379 that keeps nothing on
/// disk, as scripts/setup.sh starts it).
pub fn redis(action: &str) {
    let var = format!("SOLEX_TEST_REDIS_{}", action.to_uppercase());
    let command = std::env::var(&var).unwrap_or_else(|_| match action {
        "stop" => "redis-cli -h 127.0.0.1 -p 6379 shutdown nosave; true".into(),
        _ => "redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes".into(),
    });
    sh(&command);
    let up = || {
        Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", "6379", "ping"])
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"PONG"))
    };
    let start = Instant::now();
    while up() != (action == "start") {
        assert!(start.elapsed() < Duration::from_secs(20), "Redis did not {action}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sh(command: &str) {
    let status = Command::new("sh").args(["-c", command]).status().unwrap();
    assert!(status.success(), "{command} failed");
}

/// A workspace binary built next to the running one (`cargo build` puts them in
/// one directory; a test binary runs from its `deps/` subdirectory).
pub fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let dir = exe.parent().expect("a directory");
    let dir = if dir.ends_with("deps") { dir.parent().expect("target profile directory") } else { dir };
    dir.join(name)
}

fn spawn(bin: &str, args: &[String], log: Option<&Path>) -> Child {
    let mut cmd = Command::new(sibling(bin));
    cmd.args(args);
    if let Some(log) = log {
        let file = std::fs::File::create(log).expect("log file");
        cmd.stdout(file.try_clone().unwrap()).stderr(file);
    }
    cmd.spawn().unwrap_or_else(|e| panic!("starting {} (cargo build -p {bin}): {e}", sibling(bin).display()))
}

/// `solex-crank`, paying from `keypair`, with metrics on `metrics_addr`, settling
/// (and processing the batches of) every market whose authority is one of
/// `authorities` (the crank discovers markets only for the authorities it serves).
pub fn crank(
    rpc_url: &str,
    ws_url: &str,
    keypair: &Path,
    authorities: &[Pubkey],
    metrics_addr: &str,
    log: Option<&Path>,
) -> Child {
    let args = ["--rpc-url", rpc_url, "--ws-url", ws_url, "--metrics-addr", metrics_addr, "--poll-ms", "200"];
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    for a in authorities {
        args.extend(["--authority".into(), a.to_string()]);
    }
    args.extend(["--keypair".into(), keypair.display().to_string()]);
    spawn("solex-crank", &args, log)
}

/// `solex-crank` settling (and, for batch markets, processing the batches of) exactly `markets`.
pub fn crank_for_markets(rpc_url: &str, ws_url: &str, keypair: &Path, markets: &[Pubkey], log: Option<&Path>) -> Child {
    let metrics = format!("127.0.0.1:{}", free_port());
    let args = ["--rpc-url", rpc_url, "--ws-url", ws_url, "--metrics-addr", &metrics, "--poll-ms", "200"];
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args.extend(["--keypair".into(), keypair.display().to_string()]);
    for m in markets {
        args.extend(["--market".into(), m.to_string()]);
    }
    spawn("solex-crank", &args, log)
}

/// `solex-indexer run` into `database_url`, serving the APIs on `api_addr`.
pub fn indexer(database_url: &str, rpc_url: &str, ws_url: &str, api_addr: &str, log: Option<&Path>) -> Child {
    let args =
        ["--database-url", database_url, "run", "--rpc-url", rpc_url, "--ws-url", ws_url, "--api-addr", api_addr];
    spawn("solex-indexer", &args.map(String::from), log)
}

/// How to run one `solex-keyper`.
#[derive(Clone, Debug)]
pub struct KeyperArgs {
    pub rpc_url: String,
    /// Its identity (a member of the keyper set), which also pays.
    pub keypair: PathBuf,
    pub keyper_set: Pubkey,
    /// Where it serves its peers, /health and /metrics.
    pub listen: String,
    /// (index, base URL) of every other member.
    pub peers: Vec<(usize, String)>,
    pub state_dir: PathBuf,
    pub session_rounds: u16,
}

/// `solex-keyper` with `a`'s settings.
pub fn keyper(a: &KeyperArgs, log: Option<&Path>) -> Child {
    let mut args: Vec<String> = vec![
        "run".into(),
        "--rpc-url".into(),
        a.rpc_url.clone(),
        "--keyper-set".into(),
        a.keyper_set.to_string(),
        "--listen".into(),
        a.listen.clone(),
        "--poll-ms".into(),
        "200".into(),
        "--session-rounds".into(),
        a.session_rounds.to_string(),
        "--keypair".into(),
        a.keypair.display().to_string(),
        "--state-dir".into(),
        a.state_dir.display().to_string(),
    ];
    for (i, url) in &a.peers {
        args.extend(["--peer".into(), format!("{i}={url}")]);
    }
    spawn("solex-keyper", &args, log)
}

/// SIGKILL, then wait: a crash, nothing flushed.
pub fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs a one-shot `solex-indexer` command (backfill, digest, check); its stdout.
pub fn indexer_command(database_url: &str, args: &[&str]) -> String {
    let out = Command::new(sibling("solex-indexer"))
        .args(["--database-url", database_url])
        .args(args)
        .output()
        .expect("run solex-indexer");
    assert!(out.status.success(), "solex-indexer {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// SIGTERM, then wait.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
}

/// Resident memory of a process in KiB (from /proc), if it is alive.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix(" kB")?.trim().parse().ok())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
