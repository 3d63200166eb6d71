#!/usr/bin/env bash
# Runs the benchmarks (see BENCHMARKS.md). Each prints ratios measured side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
node dist/bench/storage-bench.js
node dist/bench/api-bench.js "$@"
node dist/bench/apply-bench.js
node dist/bench/proxy-bench.js
