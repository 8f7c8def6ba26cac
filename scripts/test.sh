#!/usr/bin/env bash
# Runs every test: toolchain setup (idempotent, cached outside the repo), the SBF
# build, format and lint checks, then the workspace's tests: unit tests, LiteSVM
# on the built .so, and solana-test-validator end to end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
. "$here/env.sh"
cd "$root"
# CI clones afresh: keep its build outputs in the cache, as a CI target cache would,
# so a warm machine does not rebuild every dependency. Local runs use target/.
if [ -n "${CI:-}" ] && [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$SOLEX_CACHE/ci-target"
  say "CI: CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
fi

"$here/setup.sh" packages browser deploy apifuzz services
# The validator build (once, the longest step) runs beside the SBF build, the lints
# and the test build; the tests that need it wait for it below.
"$here/setup.sh" validator & validator=$!
"$here/setup.sh" sbf
"$here/build-sbf.sh"

say "cargo fmt --check"
cargo fmt --all --check || die "code is not formatted: run cargo fmt --all"
# --ignore-rust-version: litesvm 0.17 needs agave 4.3 crates, which declare rustc
# 1.97 but build with the host's 1.95 (see docs/toolchain.md).
say "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --ignore-rust-version -- -D warnings
say "building the tests"
cargo test --workspace --ignore-rust-version --no-run
wait "$validator" || die "the validator build failed (see above)"
say "cargo test (unit, LiteSVM, solana-test-validator)"
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
cargo test --workspace --ignore-rust-version 2>&1 | tee "$log"
say "compute units per instruction (LiteSVM, built .so)"
cargo cu-table
# Bounded forms of scripts/chaos.sh's chaos and load runs (the fuzz ran above).
say "chaos, bounded: 40 s of faults while bots trade"
cargo run --quiet --ignore-rust-version -p solex-localnet --bin chaos -- --seconds 40
say "load, bounded: 8 wallets for 20 s"
cargo run --quiet --ignore-rust-version -p solex-localnet --bin load -- --seconds 20 --wallets 8
# One closing tally over every test binary (cargo prints one line per binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
