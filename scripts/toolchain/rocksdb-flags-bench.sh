#!/usr/bin/env bash
# Compares compilers and optimisation levels on a sample of RocksDB's sources (every
# twelfth file of db/, table/, util/, env/, fourteen in all) from the librocksdb-sys
# crate the validator build downloads; prints the user CPU seconds of each setting.
# The figures in docs/toolchain.md ("Tried and measured not to help") come from it.
#   scripts/toolchain/rocksdb-flags-bench.sh
set -euo pipefail
reg=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -1)
src=$(ls -d "$reg"librocksdb-sys-0.17.3+10.4.2 2>/dev/null) || { echo "librocksdb-sys 0.17.3 is not downloaded: run scripts/setup.sh validator first" >&2; exit 1; }
lz4=$(ls -d "$reg"lz4-sys-*/liblz4/lib | head -1)
cd "$src"
mapfile -t files < <(grep -E '^(db|table|util|env)/' rocksdb_lib_sources.txt | awk 'NR%12==0' | head -14 | sed 's|^|rocksdb/|')
out=$(mktemp); trap 'rm -f "$out"' EXIT
for setting in "g++ -O1" "g++ -O0" "clang++ -O1"; do
  read -r cxx opt <<<"$setting"
  /usr/bin/time -f "$setting: %U s user CPU, ${#files[@]} files" bash -c '
    cxx=$1 opt=$2 lz4=$3 out=$4; shift 4
    for f; do
      "$cxx" -std=c++17 "$opt" -I rocksdb/include -I rocksdb -I . -I "$lz4" -DNDEBUG=1 -DROCKSDB_PLATFORM_POSIX \
        -DROCKSDB_LIB_IO_POSIX -DOS_LINUX -DLZ4 -DROCKSDB_SUPPORT_THREAD_LOCAL -msse2 -msse4.1 -msse4.2 -mpclmul \
        -ffunction-sections -fdata-sections -fPIC -w -c "$f" -o "$out"
    done' _ "$cxx" "$opt" "$lz4" "$out" "${files[@]}"
done
