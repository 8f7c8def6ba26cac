//! A `solana-test-validator` process with the built programs deployed, on free
//! ports in a temporary ledger, stopped and cleaned up on drop.
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;

use crate::artifacts;
use crate::rpc::RpcClient;

/// Ports one validator needs: RPC, RPC+1 (websocket), faucet, gossip, then the
/// dynamic range for TPU/TVU sockets.
const PORT_BLOCK: u16 = 40;

pub struct TestValidator {
    child: Option<Child>,
    ledger: tempfile::TempDir,
    pub rpc_port: u16,
    pub faucet_port: u16,
}

fn block_is_free(base: u16) -> bool {
    (base..base + PORT_BLOCK)
        .all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok() && UdpSocket::bind(("127.0.0.1", p)).is_ok())
}

/// A random block of free ports, so parallel validators (and other services) do not collide.
fn free_port_block() -> u16 {
    let seed = std::process::id() as u64
        ^ Instant::now().elapsed().as_nanos() as u64
        ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    for i in 0..200u64 {
        let base = 20_000 + ((seed.wrapping_mul(6364136223846793005).wrapping_add(i * 7919)) % 30_000) as u16;
        if block_is_free(base) {
            return base;
        }
    }
    panic!("no free block of {PORT_BLOCK} ports between 20000 and 50000");
}

impl TestValidator {
    /// Starts a validator with Solex and the toolchain self-test deployed and
    /// waits until it serves RPC with the programs loaded.
    pub fn start() -> Self {
        Self::start_with(&[(solex::ID, artifacts::solex_so()), (sbf_selftest::ID, artifacts::selftest_so())])
    }

    pub fn start_with(programs: &[(Pubkey, PathBuf)]) -> Self {
        Self::start_at(free_port_block(), programs)
    }

    /// Like `start`, on fixed ports: RPC at `base`, websocket at `base + 1`.
    /// Falls back to a free block when those ports are taken.
    pub fn start_on(base: u16) -> Self {
        let base = if block_is_free(base) { base } else { free_port_block() };
        Self::start_at(base, &[(solex::ID, artifacts::solex_so()), (sbf_selftest::ID, artifacts::selftest_so())])
    }

    fn start_at(base: u16, programs: &[(Pubkey, PathBuf)]) -> Self {
        let bin = artifacts::test_validator();
        let ledger = tempfile::Builder::new().prefix("solex-ledger-").tempdir().expect("ledger dir");
        let (rpc_port, faucet_port, gossip_port) = (base, base + 2, base + 3);
        let log = std::fs::File::create(ledger.path().join("validator.log")).expect("validator log");
        let mut cmd = Command::new(&bin);
        cmd.arg("--ledger")
            .arg(ledger.path().join("ledger"))
            .args(["--reset", "--quiet", "--bind-address", "127.0.0.1"])
            .args(["--rpc-port", &rpc_port.to_string()])
            .args(["--faucet-port", &faucet_port.to_string()])
            .args(["--gossip-port", &gossip_port.to_string()])
            .args(["--dynamic-port-range", &format!("{}-{}", base + 4, base + PORT_BLOCK)]);
        for (id, so) in programs {
            cmd.arg("--bpf-program").arg(id.to_string()).arg(so);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut v = Self { child: Some(child), ledger, rpc_port, faucet_port };
        v.wait_ready(programs);
        v
    }

    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.rpc_port + 1)
    }

    pub fn rpc(&self) -> RpcClient {
        RpcClient::new(self.rpc_url())
    }

    pub fn ledger_path(&self) -> &Path {
        self.ledger.path()
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.ledger.path().join("validator.log")).unwrap_or_default();
        let lines: Vec<_> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn wait_ready(&mut self, programs: &[(Pubkey, PathBuf)]) {
        let rpc = self.rpc();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("solana-test-validator exited with {status} during start-up:\n{}", self.log_tail());
            }
            let programs_loaded = || programs.iter().all(|(id, _)| matches!(rpc.account(id), Ok(Some(_))));
            if rpc.healthy() && programs_loaded() && rpc.latest_blockhash().is_ok() {
                return;
            }
            if Instant::now() > deadline {
                panic!("solana-test-validator not ready after 120 s:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Stops the validator and waits for the process to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM first so it can close its ledger; SIGKILL if it lingers.
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the validator process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for TestValidator {
    fn drop(&mut self) {
        self.stop();
    }
}
