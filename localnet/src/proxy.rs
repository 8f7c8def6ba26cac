//! A TCP proxy the tests can cut: while it is down it refuses new connections and
//! has severed every open one, like an RPC node that went away.
use std::collections::HashMap;
use std::io::copy;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Open connections by number: both ends, to sever them on a cut.
type Open = Arc<Mutex<HashMap<u64, [TcpStream; 2]>>>;

pub struct Proxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    open: Open,
    /// Connections severed by cuts so far.
    pub severed: Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    /// Forwards 127.0.0.1:<port> to `target` ("host:port").
    pub fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let open: Open = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for (n, client) in (0u64..).zip(listener.incoming()) {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else { continue };
                let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) else { continue };
                open2.lock().unwrap().insert(n, [c, s]);
                let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) else { continue };
                for (mut from, mut to, done) in [(c, s, Some(open2.clone())), (server, client, None)] {
                    std::thread::spawn(move || {
                        let _ = copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Write);
                        // Forget a finished connection, so a long run does not keep its sockets.
                        if let Some(open) = done {
                            open.lock().unwrap().remove(&n);
                        }
                    });
                }
            }
        });
        Self { port, up, open, severed: Arc::default() }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            for (_, ends) in self.open.lock().unwrap().drain() {
                self.severed.fetch_add(1, Ordering::SeqCst);
                for s in ends {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        }
    }
}
