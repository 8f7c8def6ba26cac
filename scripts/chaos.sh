#!/usr/bin/env bash
# Breaks the exchange on purpose and prints the figures, in one command:
#   1. fuzz   mutated instructions and account lists against the program (LiteSVM)
#   2. chaos  crank, indexer, PostgreSQL, Redis and RPC faults while bots trade
#   3. load   many wallets sending orders at once: orders/s, lags, memory
#   4. API    schemathesis over openapi.json against the real indexer: no 5xx
# Sizes: FUZZ_CASES (default 2000), CHAOS_SECONDS (180), LOAD_SECONDS (60),
# LOAD_WALLETS (24), API_FUZZ_EXAMPLES (100 per operation). scripts/test.sh (CI)
# runs a bounded form of each.
# Chaos restarts the local PostgreSQL and Redis: run it on a development machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
. "$here/env.sh"
cd "$root"
"$here/setup.sh" packages sbf validator apifuzz services
"$here/build-sbf.sh"
cargo build --quiet --ignore-rust-version -p solex-crank -p solex-indexer -p solex-localnet --bins

say "1/4 fuzz: ${FUZZ_CASES:-2000} cases"
SOLEX_FUZZ_CASES="${FUZZ_CASES:-2000}" cargo test --quiet --ignore-rust-version -p solex-tests --test litesvm_fuzz -- --nocapture
say "2/4 chaos: ${CHAOS_SECONDS:-180} s"
cargo run --quiet --ignore-rust-version -p solex-localnet --bin chaos -- --seconds "${CHAOS_SECONDS:-180}"
say "3/4 load: ${LOAD_WALLETS:-24} wallets, ${LOAD_SECONDS:-60} s"
cargo run --quiet --ignore-rust-version -p solex-localnet --bin load -- --seconds "${LOAD_SECONDS:-60}" --wallets "${LOAD_WALLETS:-24}"
say "4/4 API fuzz: ${API_FUZZ_EXAMPLES:-100} cases per operation"
SOLEX_API_FUZZ_EXAMPLES="${API_FUZZ_EXAMPLES:-100}" cargo test --quiet --ignore-rust-version -p solex-indexer --test api_fuzz_e2e -- --nocapture
