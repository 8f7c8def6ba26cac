//! Paths of the built programs and the validator binary.
use std::path::PathBuf;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("localnet/ has a parent").to_path_buf()
}

/// `$CARGO_TARGET_DIR`, or the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

fn deploy_dir() -> PathBuf {
    target_dir().join("deploy")
}

/// Where scripts/build-sbf.sh writes the IDL.
pub fn idl_path() -> PathBuf {
    target_dir().join("idl/solex.json")
}

/// `target/deploy/<name>.so`, or a panic that says how to build it.
pub fn program_so(name: &str) -> PathBuf {
    let path = deploy_dir().join(format!("{name}.so"));
    assert!(path.is_file(), "{} is missing: build the programs first with scripts/build-sbf.sh", path.display());
    path
}

pub fn solex_so() -> PathBuf {
    program_so("solex")
}

pub fn selftest_so() -> PathBuf {
    program_so("sbf_selftest")
}

/// The validator binary scripts/setup.sh builds (override with SOLANA_TEST_VALIDATOR).
pub fn test_validator() -> PathBuf {
    if let Some(p) = std::env::var_os("SOLANA_TEST_VALIDATOR") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("SOLEX_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"))
            .join("solex")
    });
    let path = cache.join("validator/agave-4.2.2/bin/solana-test-validator");
    assert!(path.is_file(), "{} is missing: run scripts/setup.sh validator", path.display());
    path
}
