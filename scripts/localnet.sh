#!/usr/bin/env bash
# The main job: a local Solex exchange. Sets up the toolchain if needed, builds the
# program, starts solana-test-validator with it deployed on 127.0.0.1:8899 (or free
# ports if taken), creates a demo market with two funded wallets and a first trade,
# starts the crank (solex-crank) to settle it and the indexer (solex-indexer: REST,
# WebSocket and transaction APIs on 127.0.0.1:8080, database solex_localnet), runs
# a market-making bot and a taker bot so trades flow at once, a batch market (sealed
# orders) with its three keypers (solex-keyper) and two bots, prints every address
# and keypair file (you.json is yours to trade with, from the web page or the CLI,
# target/debug/solex), and runs until Ctrl-C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"
. "$here/env.sh"
"$here/setup.sh" packages services
# The validator build is the longest step (once): it runs beside the SBF toolchain,
# the program and the services' build, so neither leaves a core idle.
"$here/setup.sh" validator & validator=$!
"$here/setup.sh" sbf
SOLEX_SKIP_IDL=1 "$here/build-sbf.sh"
say "building the crank, the indexer and the CLI"
cargo build --ignore-rust-version -p solex-crank --bin solex-crank -p solex-indexer --bin solex-indexer -p solex-cli --bin solex \
  -p solex-keyper --bin solex-keyper -p solex-localnet --bin localnet
wait "$validator" || die "the validator build failed (see above)"
exec cargo run --quiet --ignore-rust-version -p solex-localnet --bin localnet -- "${1:-target/localnet}"
