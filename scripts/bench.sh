#!/usr/bin/env bash
# Runs the benchmarks (see BENCHMARKS.md). Each prints ratios measured side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh bench
node dist/bench/storage-bench.js
node dist/bench/api-bench.js "$@"
node dist/bench/apply-bench.js
node dist/bench/proxy-bench.js
# A real node (issue 5): needs root, containerd, runc, CNI plugins, docker-registry, busybox-static.
if [ "$(id -u)" = 0 ] && command -v containerd >/dev/null; then node dist/bench/node-bench.js; else echo 'node-bench skipped: needs root and containerd'; fi
node dist/bench/dns-bench.js
if [ "$(id -u)" = 0 ] && command -v containerd >/dev/null; then node dist/bench/ingress-bench.js; else echo 'ingress-bench skipped: needs root and containerd'; fi
