//! A headless Chromium driven over the Chrome DevTools Protocol: just enough to
//! load a page, run JavaScript in it, wait for a condition, and collect the
//! page's uncaught exceptions and console errors. Speaks CDP directly over the
//! WebSocket client the tests already use, so no driver crate or chromedriver
//! version has to match the browser.
use std::io::BufRead;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Browser {
    child: std::process::Child,
    profile: std::path::PathBuf,
    page: Socket,
    next_id: u64,
    /// Uncaught exceptions and console errors/warnings, as text.
    pub problems: Vec<String>,
    /// Every request the page made, once `record_requests` was called: {method, url,
    /// postData}, as the browser sent it (CDP's Network.requestWillBeSent).
    pub requests: Vec<Value>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    /// Starts `chromium` (or `$SOLEX_CHROMIUM`) headless with a fresh profile.
    pub async fn launch() -> Self {
        let bin = std::env::var("SOLEX_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        // One profile per browser: two browsers of one test binary must not share one.
        static LAUNCHED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = LAUNCHED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let profile = std::env::temp_dir().join(format!("solex-chromium-{}-{n}", std::process::id()));
        let mut child = std::process::Command::new(&bin)
            .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            .args(["--no-first-run", "--remote-debugging-port=0", "--window-size=1400,900"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin} ({e}): install it with scripts/setup.sh browser"));
        // Chromium prints its DevTools endpoint on stderr; keep draining it after.
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let endpoint = rx.recv_timeout(Duration::from_secs(60)).expect("chromium printed no DevTools endpoint");
        let port = endpoint.split(':').nth(2).and_then(|p| p.split('/').next()).expect("DevTools port").to_string();
        let targets: Value = tokio::task::spawn_blocking(move || {
            ureq::get(&format!("http://127.0.0.1:{port}/json/list")).call().unwrap().into_json().unwrap()
        })
        .await
        .unwrap();
        let page_url = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        let (page, _) = tokio_tungstenite::connect_async(page_url).await.expect("connect to the page");
        let mut browser = Self { child, profile, page, next_id: 0, problems: vec![], requests: vec![] };
        browser.call("Runtime.enable", json!({})).await;
        browser.call("Page.enable", json!({})).await;
        browser
    }

    /// One CDP command; events that arrive meanwhile are scanned for problems.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.page.send(Message::Text(msg.into())).await.expect("send to chromium");
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(120), self.page.next())
                .await
                .unwrap_or_else(|_| panic!("chromium did not answer {method}"))
                .expect("chromium closed the connection")
                .expect("read from chromium");
            let Message::Text(text) = frame else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                assert!(v["error"].is_null(), "{method} failed: {}", v["error"]);
                return v["result"].clone();
            }
            self.note(&v);
        }
    }

    /// Records every request the page makes from now on, in `requests`.
    pub async fn record_requests(&mut self) {
        self.call("Network.enable", json!({"maxPostDataSize": 65536})).await;
    }

    fn note(&mut self, event: &Value) {
        let p = &event["params"];
        match event["method"].as_str() {
            Some("Network.requestWillBeSent") => {
                let r = &p["request"];
                self.requests.push(json!({"method": r["method"], "url": r["url"], "postData": r["postData"]}));
            }
            Some("Runtime.exceptionThrown") => {
                let d = &p["exceptionDetails"];
                self.problems.push(format!("exception: {} {}", d["text"], d["exception"]["description"]));
            }
            Some("Runtime.consoleAPICalled") if matches!(p["type"].as_str(), Some("error" | "warning")) => {
                let args: Vec<String> = p["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a["value"].as_str().map(str::to_string).unwrap_or_else(|| a["description"].to_string()))
                    .collect();
                self.problems.push(format!("console.{}: {}", p["type"].as_str().unwrap(), args.join(" ")));
            }
            _ => {}
        }
    }

    pub async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its JSON value.
    pub async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call("Runtime.evaluate", json!({"expression": expr, "returnByValue": true, "awaitPromise": true}))
            .await;
        assert!(r["exceptionDetails"].is_null(), "{expr} threw: {}", r["exceptionDetails"]);
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is truthy (not false, null, 0 or ""; an empty array counts
    /// as truthy, as in JavaScript), returning its value.
    pub async fn wait_for(&mut self, what: &str, expr: &str, secs: u64) -> Value {
        let start = Instant::now();
        loop {
            let v = self.eval(&format!("(() => {{ try {{ return {expr}; }} catch (e) {{ return null; }} }})()")).await;
            let truthy = !(v.is_null() || v == false || v == 0 || v == "");
            if truthy {
                return v;
            }
            assert!(start.elapsed() < Duration::from_secs(secs), "the page did not show {what} within {secs} s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A PNG screenshot of the page (for a failing test's artifacts).
    pub async fn screenshot(&mut self, path: &std::path::Path) {
        use base64::Engine;
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"})).await;
        let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}
