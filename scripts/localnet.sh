#!/usr/bin/env bash
# The main job: a local Solex exchange. Sets up the toolchain if needed, builds the
# program, starts solana-test-validator with it deployed on 127.0.0.1:8899 (or free
# ports if taken), creates a demo market with two funded wallets and a first trade,
# starts the crank (solex-crank) to settle it and the indexer (solex-indexer: REST,
# WebSocket and transaction APIs on 127.0.0.1:8080, database solex_localnet), runs
# a market-making bot and a taker bot so trades flow at once, prints every address
# and keypair file (you.json is yours to trade with, from the web page or the CLI,
# target/debug/solex), and runs until Ctrl-C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
"$here/setup.sh" packages sbf validator services
"$here/build-sbf.sh"
cargo build --quiet --ignore-rust-version -p solex-crank --bin solex-crank -p solex-indexer --bin solex-indexer -p solex-cli --bin solex
exec cargo run --quiet --ignore-rust-version -p solex-tests --bin localnet -- "${1:-target/localnet}"
