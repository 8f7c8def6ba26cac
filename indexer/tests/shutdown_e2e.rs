//! SIGTERM during a burst of REST requests: `solex-indexer serve` (the real binary)
//! stops accepting connections, answers every request it had already accepted, and
//! exits 0; a request that would outlast the drain bound is cut at the bound.
//!
//! Requests are held in flight deterministically: the test locks the `markets`
//! table, so each `GET /markets` waits inside PostgreSQL (visible in
//! `pg_stat_activity`) until the test lets it go.
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};
use support::{free_port, migrated_db, Indexer};

mod support;

fn serve(db_url: &str, port: u16, drain_seconds: u64) -> Indexer {
    let child = Command::new(env!("CARGO_BIN_EXE_solex-indexer"))
        .args(["--database-url", db_url, "serve", "--redis-url", "none", "--rpc-url", "http://127.0.0.1:9"])
        .args(["--api-addr", &format!("127.0.0.1:{port}"), "--drain-seconds", &drain_seconds.to_string()])
        .spawn()
        .expect("start solex-indexer serve");
    Indexer(child)
}

/// One request on a connection of its own: the status and the whole body, or the
/// transport error (refused, reset, closed before a complete answer).
fn get(url: &str) -> Result<(u16, String), String> {
    match ureq::get(url).timeout(Duration::from_secs(60)).call() {
        Ok(r) => {
            let status = r.status();
            r.into_string().map(|body| (status, body)).map_err(|e| format!("body cut: {e}"))
        }
        Err(ureq::Error::Status(status, r)) => Ok((status, r.into_string().unwrap_or_default())),
        Err(ureq::Error::Transport(t)) => Err(t.to_string()),
    }
}

async fn wait_ready(base: &str) {
    let url = format!("{base}/openapi.json");
    let start = Instant::now();
    while tokio::task::spawn_blocking({
        let url = url.clone();
        move || get(&url).map(|(s, _)| s) != Ok(200)
    })
    .await
    .unwrap()
    {
        assert!(start.elapsed() < Duration::from_secs(30), "{base} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `n` statements of this database wait on a lock (the held requests).
async fn wait_blocked(watcher: &mut PgConnection, db: &str, n: i64) {
    let start = Instant::now();
    loop {
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'")
                .bind(db)
                .fetch_one(&mut *watcher)
                .await
                .unwrap();
        if waiting >= n {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{waiting} of {n} requests reached the database");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sigterm(child: &Child) {
    assert!(Command::new("kill").arg(child.id().to_string()).status().unwrap().success());
}

fn exit_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < limit, "still running {limit:?} after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_burst_answers_every_accepted_request() {
    let (test_db, pool) = migrated_db().await;
    let db_name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&pool).await.unwrap();
    let mut watcher = PgConnection::connect(&test_db.url).await.unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut indexer = serve(&test_db.url, port, 20);
    wait_ready(&base).await;

    // Three requests held inside the database (the API's pool has four connections).
    let mut lock = PgConnection::connect(&test_db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE markets IN ACCESS EXCLUSIVE MODE").execute(&mut lock).await.unwrap();
    let held: Vec<_> = (0..3)
        .map(|_| {
            let url = format!("{base}/markets");
            std::thread::spawn(move || get(&url))
        })
        .collect();
    wait_blocked(&mut watcher, &db_name, 3).await;

    // A burst of quick requests around the signal, each on a connection of its own.
    let stop_burst = Arc::new(AtomicBool::new(false));
    let burst: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop) = (format!("{base}/openapi.json"), stop_burst.clone());
            std::thread::spawn(move || {
                let mut results = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    results.push(get(&url));
                }
                results
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sigterm(&indexer.0);

    // Draining: the process waits for the held requests, and accepts no new connection.
    let start = Instant::now();
    loop {
        assert!(indexer.0.try_wait().unwrap().is_none(), "exited with requests in flight");
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "still accepting connections after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(indexer.0.try_wait().unwrap().is_none(), "exited with requests in flight");
    stop_burst.store(true, Ordering::Relaxed);

    // Released, every held request gets its whole answer; then the process exits cleanly.
    sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
    for h in held {
        let (status, body) = h.join().unwrap().expect("a request accepted before SIGTERM was answered");
        assert_eq!(status, 200, "{body}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap(), serde_json::json!({"markets": []}));
    }
    assert!(exit_within(&mut indexer.0, Duration::from_secs(10)).success());
    // The burst: answers are whole 200s; the rest never reached the server (refused or
    // reset in the listen backlog), and none is a server error or a cut body.
    let results: Vec<_> = burst.into_iter().flat_map(|b| b.join().unwrap()).collect();
    let answered = results.iter().filter(|r| matches!(r, Ok((200, _)))).count();
    assert!(answered > 0, "the burst got no answer before the signal");
    for r in &results {
        match r {
            Ok((status, body)) => assert_eq!((*status, body.starts_with('{')), (200, true), "{body}"),
            Err(e) => assert!(!e.contains("body cut"), "{e}"),
        }
    }

    // A request that outlasts the drain bound is cut at the bound: the process does
    // not hang on it.
    let mut indexer = serve(&test_db.url, port, 2);
    wait_ready(&base).await;
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE markets IN ACCESS EXCLUSIVE MODE").execute(&mut lock).await.unwrap();
    let stuck = std::thread::spawn({
        let url = format!("{base}/markets");
        move || get(&url)
    });
    wait_blocked(&mut watcher, &db_name, 1).await;
    let signalled = Instant::now();
    sigterm(&indexer.0);
    assert!(exit_within(&mut indexer.0, Duration::from_secs(10)).success());
    assert!(signalled.elapsed() >= Duration::from_secs(2), "exited before the drain bound");
    assert!(stuck.join().unwrap().is_err(), "the stuck request was cut");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();

    lock.close().await.unwrap();
    watcher.close().await.unwrap();
    pool.close().await;
    test_db.drop_db().await;
}
