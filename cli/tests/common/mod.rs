//! Running the real `solex` binary from the CLI's end-to-end tests.
#![allow(dead_code)] // each test binary uses its own part
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use solex_localnet::Keypair;

/// `solex` with `--url` and `--keypair` set.
pub struct Cli {
    pub url: String,
    pub keypair: PathBuf,
}

impl Cli {
    /// `solex` signing with `wallet`, written to `dir/name.json` as solana-keygen writes it.
    pub fn for_wallet(url: &str, dir: &Path, name: &str, wallet: &Keypair) -> Self {
        let keypair = dir.join(format!("{name}.json"));
        std::fs::write(&keypair, serde_json::to_string(&wallet.to_bytes().to_vec()).unwrap()).unwrap();
        Self { url: url.to_string(), keypair }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_solex"))
            .args(["--url", &self.url, "--keypair", self.keypair.to_str().unwrap()])
            .args(args)
            .output()
            .expect("run solex")
    }

    /// Runs and expects success; returns stdout.
    pub fn text(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "solex {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs with --json and expects success; returns the JSON it printed.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(&[args, &["--json"]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "solex {args:?} failed: {stderr}");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("solex {args:?}: not JSON ({e}): {stderr}"))
    }

    /// Runs and expects failure with `code`; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "solex {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}
