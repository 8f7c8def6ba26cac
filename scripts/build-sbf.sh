#!/usr/bin/env bash
# Builds the workspace's on-chain programs to SBPF v0 with the offline toolchain
# (Debian rustc-web + LLVM 23 + sbpf-linker; see docs/toolchain.md) and writes
# target/deploy/<program>.so, where Anchor users expect it.
#   scripts/build-sbf.sh              solex, sbf-selftest and cpi-router (the tests' CPI wrapper)
#   scripts/build-sbf.sh solex        one program
# With the official Solana toolchain, `anchor build` produces the same artifacts.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
. "$here/env.sh"

programs=("$@"); [ ${#programs[@]} -eq 0 ] && programs=(solex sbf-selftest cpi-router)
overlay="$(std_overlay_dir)"
[ -x "$SBF_RUSTC" ] && [ -f "$LLVM_DIR/.ok" ] && [ -x "$SBPF_LINKER" ] && [ -f "$overlay/.ok" ] \
  || die "the SBF toolchain is not set up (missing rustc-web, LLVM 23, sbpf-linker or the std overlay); run: scripts/setup.sh sbf"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
# SBPF v3 by default. LLVM 23 passes a call's 6th and later arguments just above the
# caller's stack frame; SBPF v0 leaves a gap there unless the runtime feature
# virtual_address_space_adjustments is active, so v0 output faults wherever that
# feature is off (LiteSVM, and clusters that have not activated it). v3 frames are
# contiguous. SBF_ARCH=v0 builds v0 for runtimes with the feature active.
arch="${SBF_ARCH:-v3}"
case "$arch" in v0) cpu=v2 ;; v3) cpu=v3 ;; *) die "SBF_ARCH must be v0 or v3" ;; esac
spec="$here/toolchain/sbpf-solana-solana.json"
mkdir -p "$target_dir/deploy"

say "building ${programs[*]} to SBPF $arch (rustc $(sbf_rustc_version), LLVM 23, sbpf-linker $SBPF_LINKER_VERSION)"
start=$(date +%s)
for p in "${programs[@]}"; do
  lib="${p//-/_}"
  dump="$target_dir/sbf-module/$lib"
  so="$target_dir/sbpf-solana-solana/release/lib$lib.so"
  # The linker writes the module dump only when it links: without a dump, remove
  # the .so so cargo relinks (a cached .so keeps the dump of its own link).
  [ -f "$dump/post-opt.ll" ] || rm -f "$so" "$target_dir/sbpf-solana-solana/release/deps/lib$lib.so"
  mkdir -p "$dump"
  # lower-atomic: SBPF has no atomics. The stack-size, movsx and ldsx options keep
  # LLVM 23's output inside what the SBPF loader accepts. RUSTFLAGS is the same for
  # every program, so std and the shared dependencies build once; --dump-module (the
  # linked IR for the libcall check below) differs per program, so it goes to the
  # program's own crate only, through `cargo rustc`.
  env -u RUSTUP_TOOLCHAIN \
    RUSTC="$SBF_RUSTC" RUSTC_BOOTSTRAP=1 RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 \
    __CARGO_TESTS_ONLY_SRC_ROOT="$overlay" \
    RUSTFLAGS="-C passes=lower-atomic -C linker=$SBPF_LINKER -C target-cpu=$cpu -C link-arg=--arch=$arch \
 -C link-arg=--llvm-args=--bpf-stack-size=4096 -C link-arg=--llvm-args=--disable-movsx \
 -C link-arg=--llvm-args=--disable-ldsx" \
    "$SBF_CARGO" rustc --release --lib --target "$spec" -Zjson-target-spec -Zbuild-std=std,panic_abort \
      --target-dir "$target_dir" -p "$p" -- -C link-arg=--dump-module="$dump" \
    || die "SBF build of $p failed (see the compiler output above)"

  [ -f "$so" ] || die "build produced no $so"
  [ -f "$dump/post-opt.ll" ] || die "$p: the linker wrote no module dump ($dump/post-opt.ll) to check"
  # The i128 libcall guard: a libcall defined with an sret pointer returns its
  # result where LLVM's BPF backend does not look (see programs/sbf-builtins).
  if grep -hE '^define .*@__[a-z0-9]+ti[0-9]\(ptr .*sret' "$dump/post-opt.ll"; then
    die "$p: an i128 libcall above is defined with an sret return; add it to programs/sbf-builtins"
  fi
  # Every import must be a runtime syscall; anything else fails only at load time.
  unknown=$(readelf --dyn-syms -W "$so" | awk '$7=="UND" && $8!="" {print $8}' | grep -vE '^(sol_[a-z0-9_]+|abort)$' || true)
  [ -z "$unknown" ] || die "$p imports symbols that are not syscalls: $unknown"
  cp "$so" "$target_dir/deploy/$lib.so"
  say "target/deploy/$lib.so: $(stat -c %s "$so") bytes, imports only syscalls, no sret i128 libcalls"
done
# The IDL (what `anchor build` writes beside the .so) compiles the program once more
# for the host; the local exchange does not read it, so scripts/localnet.sh skips it.
if [[ " ${programs[*]} " == *" solex "* ]] && [ -z "${SOLEX_SKIP_IDL:-}" ]; then
  say "writing the IDL ($target_dir/idl/solex.json)"
  (cd "$root" && cargo run --quiet --ignore-rust-version -p solex-tests --bin idl) || die "IDL build failed"
fi
say "SBF build done in $(( $(date +%s) - start ))s"
