#!/usr/bin/env bash
# Re-creates the vendored JavaScript in this directory from the npm registry:
# @noble/curves and @noble/hashes at the versions and integrity pinned below (the
# page's sealing, indexer/web/seal.js, uses ristretto255, HKDF, HMAC and SHA-256).
# Only the ES module files the page imports (and what they import) are copied, with
# one change: their bare '@noble/hashes/...' imports become relative paths, so a
# browser (and Node, for indexer/web/test/) loads them without an import map or a
# bundler. The indexer embeds every .js file here (indexer/src/web.rs; a test checks
# that it serves each one). Run it after changing a version; nothing runs it at build.
set -euo pipefail
CURVES_VERSION=2.4.0
CURVES_INTEGRITY='sha512-P4/62zrgfH33CneE3Dn4WhJVA22YUU0eR51wKIan4NVRvwsA0YnPTwWGpNbpuacSujmSFLvyzpyuR30+fbq2Ew=='
HASHES_VERSION=2.4.0
HASHES_INTEGRITY='sha512-X5XaVWZIBCT7HHZGm5I7ZQXDwLG+bGXuSrMQAW+7Zvl87h1kmc1ZB1VSRJcpUfoUrGQp4Fkoxm5kZ+Ms+aW+eA=='
CURVES_FILES="ed25519.js utils.js abstract/curve.js abstract/edwards.js abstract/fft.js abstract/frost.js
  abstract/hash-to-curve.js abstract/modular.js abstract/montgomery.js abstract/oprf.js"
HASHES_FILES="_md.js _u64.js hkdf.js hmac.js sha2.js utils.js"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
fetch() { # name version integrity -> unpacked in $tmp/name
  (cd "$tmp" && npm pack --silent "@noble/$1@$2" >/dev/null)
  local tgz="$tmp/noble-$1-$2.tgz" got
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [ "$got" = "$3" ] || { echo "@noble/$1@$2: integrity $got is not the pinned $3" >&2; exit 1; }
  mkdir -p "$tmp/$1" && tar xzf "$tgz" -C "$tmp/$1" --strip-components=1
}
fetch curves "$CURVES_VERSION" "$CURVES_INTEGRITY"
fetch hashes "$HASHES_VERSION" "$HASHES_INTEGRITY"
rm -rf "$here/noble-curves" "$here/noble-hashes"
for f in $CURVES_FILES; do install -D -m 0644 "$tmp/curves/$f" "$here/noble-curves/$f"; done
for f in $HASHES_FILES; do install -D -m 0644 "$tmp/hashes/$f" "$here/noble-hashes/$f"; done
cp "$tmp/curves/LICENSE" "$here/noble-curves/LICENSE"
cp "$tmp/hashes/LICENSE" "$here/noble-hashes/LICENSE"
# '@noble/hashes/x.js' -> the relative path from each curves file to noble-hashes/x.js.
for f in $CURVES_FILES; do
  up="../"; case "$f" in */*) up="../../" ;; esac
  sed -i "s#'@noble/hashes/#'${up}noble-hashes/#g; s#\"@noble/hashes/#\"${up}noble-hashes/#g" "$here/noble-curves/$f"
done
if grep -rnE "^(import|export|\}).* from ['\"]@" "$here/noble-curves" "$here/noble-hashes" --include='*.js'; then
  echo "a bare import is left (above): add its file to the lists" >&2; exit 1
fi
# Every relative import must be a file that was copied.
for f in $(cd "$here" && ls noble-curves/*.js noble-curves/abstract/*.js noble-hashes/*.js); do
  for dep in $(grep -E "^(import|export|\})" "$here/$f" | grep -o "from ['\"]\.[^'\"]*['\"]" | sed "s/from ['\"]//; s/['\"]$//"); do
    [ -f "$(dirname "$here/$f")/$dep" ] || { echo "$f imports $dep, which is not copied: add it to the lists" >&2; exit 1; }
  done
done
printf '{\n  "@noble/curves": "%s",\n  "@noble/hashes": "%s"\n}\n' "$CURVES_VERSION" "$HASHES_VERSION" > "$here/versions.json"
echo "vendored @noble/curves $CURVES_VERSION and @noble/hashes $HASHES_VERSION into $here"
