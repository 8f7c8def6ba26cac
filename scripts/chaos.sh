#!/usr/bin/env bash
# Breaks the exchange on purpose and prints the figures, in one command:
#   1. fuzz   mutated instructions and account lists against the program (LiteSVM)
#   2. chaos  crank, indexer, PostgreSQL, Redis and RPC faults while bots trade
#   3. load   many wallets sending orders at once: orders/s, lags, memory
# Sizes: FUZZ_CASES (default 2000), CHAOS_SECONDS (180), LOAD_SECONDS (60),
# LOAD_WALLETS (24). scripts/test.sh (CI) runs a bounded form of all three.
# Chaos restarts the local PostgreSQL and Redis: run it on a development machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
. "$here/env.sh"
cd "$root"
"$here/setup.sh" packages sbf validator services
"$here/build-sbf.sh"
cargo build --quiet --ignore-rust-version -p solex-crank -p solex-indexer -p solex-tests --bins

say "1/3 fuzz: ${FUZZ_CASES:-2000} cases"
SOLEX_FUZZ_CASES="${FUZZ_CASES:-2000}" cargo test --quiet --ignore-rust-version -p solex-tests --test litesvm_fuzz -- --nocapture
say "2/3 chaos: ${CHAOS_SECONDS:-180} s"
cargo run --quiet --ignore-rust-version -p solex-tests --bin chaos -- --seconds "${CHAOS_SECONDS:-180}"
say "3/3 load: ${LOAD_WALLETS:-24} wallets, ${LOAD_SECONDS:-60} s"
cargo run --quiet --ignore-rust-version -p solex-tests --bin load -- --seconds "${LOAD_SECONDS:-60}" --wallets "${LOAD_WALLETS:-24}"
