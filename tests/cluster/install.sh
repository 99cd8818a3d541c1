#!/usr/bin/env bash
# Installs what the real-cluster tests need: etcd (Debian's etcd-server) and a real kube-apiserver
# v1.20.2 built from Debian's `kubernetes` source package (see ../shared/reference/test-cluster.md).
# The build takes about 5 minutes; its binary is cached under
# ${XDG_CACHE_HOME:-$HOME/.cache}/calico-bgp-wizard/ and rebuilt only when missing.
# Prints the path of the kube-apiserver binary on its last line.
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/calico-bgp-wizard"
bin="$cache/kube-apiserver-v1.20.2"
export DEBIAN_FRONTEND=noninteractive

need_pkgs=()
command -v etcd >/dev/null || need_pkgs+=(etcd-server)
command -v kubectl >/dev/null || need_pkgs+=(kubernetes-client)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v curl >/dev/null || need_pkgs+=(curl)
if [ ! -x "$bin" ]; then
  need_pkgs+=(golang-go rsync make golang-github-modern-go-reflect2-dev dpkg-dev)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "installing: ${need_pkgs[*]}" >&2
  if [ ! -x "$bin" ] && [ ! -f /etc/apt/sources.list.d/debian-src.sources ]; then
    # Debian's source index: a deb-src twin of the existing binary entry (names no new host).
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > /etc/apt/sources.list.d/debian-src.sources
  fi
  apt-get update -qq >&2
  apt-get install -y -qq "${need_pkgs[@]}" >&2
fi

if [ ! -x "$bin" ]; then
  echo "building kube-apiserver v1.20.2 from Debian's source package (about 5 minutes, once)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    apt-get source --download-only kubernetes >&2
    tar xzf kubernetes_*.orig.tar.gz
    cd kubernetes-1.20.2
    # Kubernetes 1.20 vendors reflect2 1.0.1, which crashes under Go >= 1.18; use Debian's 1.0.2.
    rm -rf vendor/github.com/modern-go/reflect2
    cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2
    rm -f vendor/github.com/modern-go/reflect2/go.mod
    mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes
    GOPATH=$PWD/.go CGO_ENABLED=0 HOME="$work/home" make WHAT=cmd/kube-apiserver >&2
    install -D _output/bin/kube-apiserver "$bin.tmp"
    mv "$bin.tmp" "$bin"
  )
fi
echo "$bin"
