#!/usr/bin/env bash
# Runs every test: unit tests beside the code and e2e tests that start real keelson processes
# and drive them with the real kubectl. Installs and builds first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh test
mapfile -t files < <(find dist/src dist/test -name '*.test.js' | sort)
echo "keelson test: ${#files[@]} test files"
node --test --test-timeout="${KEELSON_TEST_TIMEOUT_MS:-600000}" --test-concurrency="${KEELSON_TEST_CONCURRENCY:-2}" "${files[@]}"
