#!/usr/bin/env bash
# Builds the portable release binary: x86_64 Linux, glibc 2.17 (CentOS 7) and later, rustls only.
#   bash scripts/release.sh        # prints the binary's path as its last line
# Links with zig (cargo-zigbuild) against glibc 2.17's symbol versions, so the binary runs on any
# x86_64 Linux with glibc 2.17+ whatever the build machine's glibc. Installs, when missing, the
# pinned ziglang (PyPI, into ~/.cache/calico-bgp-wizard/, not into the system's Python) and
# cargo-zigbuild (crates.io, into ~/.cargo/bin). Builds in target/dist, its own target dir, so it
# never waits for the lock of a `cargo test` running in target/.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
TARGET=x86_64-unknown-linux-gnu
GLIBC=2.17
DIST=target/dist
OUT="$DIST/calico-bgp-wizard-x86_64-linux-gnu"

say() { echo "release.sh: $*" >&2; }

# zig, from PyPI's ziglang wheel, kept in its own directory and put first on PYTHONPATH for the
# build only (cargo-zigbuild runs `python3 -m ziglang`). pip's --target also sidesteps Debian's
# "externally managed" system Python.
zig_dir="${XDG_CACHE_HOME:-$HOME/.cache}/calico-bgp-wizard/ziglang-$ZIGLANG_VERSION"
if [ ! -x "$zig_dir/ziglang/zig" ] ||
  [ "$(PYTHONPATH="$zig_dir" python3 -m ziglang version 2>/dev/null)" != "$ZIGLANG_VERSION" ]; then
  say "installing ziglang $ZIGLANG_VERSION into $zig_dir"
  rm -rf "$zig_dir.tmp"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
    --target "$zig_dir.tmp" "ziglang==$ZIGLANG_VERSION" >&2
  rm -rf "$zig_dir"
  mv "$zig_dir.tmp" "$zig_dir"
fi
export PYTHONPATH="$zig_dir${PYTHONPATH:+:$PYTHONPATH}"
say "zig $(python3 -m ziglang version) from $(python3 -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')"

installed=$(cargo install --list)
if ! grep -qx "cargo-zigbuild v$CARGO_ZIGBUILD_VERSION:" <<<"$installed"; then
  say "installing cargo-zigbuild $CARGO_ZIGBUILD_VERSION"
  cargo install --locked --quiet --version "$CARGO_ZIGBUILD_VERSION" cargo-zigbuild
fi

# rustls only: OpenSSL would tie the binary to the node's libssl.
tree=$(cargo tree --locked -e normal --target "$TARGET" --prefix none)
if grep -qE '^(openssl-sys|openssl|native-tls) ' <<<"$tree"; then
  say "OpenSSL is in the dependency tree; the release must use rustls only:"
  cargo tree --locked -e normal --target "$TARGET" -i openssl-sys >&2 || true
  exit 1
fi

say "building $TARGET.$GLIBC in $DIST"
start=$SECONDS
cargo zigbuild --release --locked --target "$TARGET.$GLIBC" --target-dir "$DIST" >&2
say "built in $((SECONDS - start)) s"

cp "$DIST/$TARGET/release/calico-bgp-wizard" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "$(stat -c %s "$OUT") bytes: $("$OUT" --version)"
realpath "$OUT"
