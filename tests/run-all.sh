#!/usr/bin/env bash
# Runs every test of calico-bgp-wizard, installing first what the tests need.
#   sudo bash tests/run-all.sh
# Needs: tmux (the end-to-end terminal tests), bird, frr, iputils-ping and iproute2 (the BGP lab in
# network namespaces; root), and for the real-cluster tests etcd, kubectl, curl
# and a kube-apiserver v1.20.2 built from Debian's source package (about 5 minutes, once; cached
# under ~/.cache/calico-bgp-wizard/ by tests/cluster/install.sh). Installed when missing (root only).
# Runs: rustfmt check, clippy (warnings are errors), the portable release build (scripts/release.sh,
# glibc 2.17; installs ziglang and cargo-zigbuild when missing), then every test target with
# snapshots compared strictly (a missing or changed snapshot fails; nothing is written).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
# The BGP lab (tests/bird_lab.rs): BIRD 1.6 on the nodes, FRR as the switch, ping for the client.
command -v bird >/dev/null 2>&1 || need+=(bird)
[ -x /usr/lib/frr/bgpd ] || need+=(frr)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# readelf checks the release binary's glibc symbol versions (tests/release_glibc.rs).
command -v readelf >/dev/null 2>&1 || need+=(binutils)
[ -x /usr/sbin/nft ] || need+=(nftables)
if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/run-all.sh: missing ${need[*]}; run as root (sudo) so it can apt-get install them" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== real-cluster test environment"
if [ ! -x "${XDG_CACHE_HOME:-$HOME/.cache}/calico-bgp-wizard/kube-apiserver-v1.20.2" ] || ! command -v etcd >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/run-all.sh: the kube-apiserver/etcd test environment is missing; run as root (sudo) so it can be installed" >&2
    exit 1
  fi
fi
KUBE_APISERVER=$(bash tests/cluster/install.sh | tail -n 1)
export KUBE_APISERVER
echo "kube-apiserver: $KUBE_APISERVER"

echo "== rustfmt"
cargo fmt --all -- --check
echo "== dependency rules"
# The trees are read into variables first: `cargo tree | grep -q` under pipefail fails the
# pipeline when grep stops reading early, i.e. exactly when there is a match.
tree=$(cargo tree -e normal --prefix none)
dups=$(cargo tree -d -e normal --depth 0 --prefix none)
# Exactly one crossterm (ratatui's), and one YAML library (serde-saphyr, as kube uses).
if grep -q '^crossterm ' <<<"$dups"; then
  echo "two crossterm versions in the dependency tree:"; cargo tree -i crossterm; exit 1
fi
if grep -q '^serde_yaml ' <<<"$tree"; then
  echo "serde_yaml is in the dependency tree; use serde-saphyr"; exit 1
fi
# rustls only: OpenSSL would tie the release binary to the node's libssl.
if grep -qE '^(openssl-sys|openssl|native-tls) ' <<<"$tree"; then
  echo "OpenSSL is in the dependency tree; use rustls:"; cargo tree -e normal -i openssl-sys; exit 1
fi
echo "== clippy"
cargo clippy --all-targets --quiet -- -D warnings
echo "== release build (glibc 2.17)"
CALICO_BGP_WIZARD_RELEASE_BIN=$(bash scripts/release.sh | tail -n 1)
export CALICO_BGP_WIZARD_RELEASE_BIN
echo "release binary: $CALICO_BGP_WIZARD_RELEASE_BIN ($(stat -c %s "$CALICO_BGP_WIZARD_RELEASE_BIN") bytes)"
echo "== tests"
INSTA_UPDATE=no CI=true cargo test --all-targets --no-fail-fast 2>&1
