#!/usr/bin/env bash
# `npm run up`: install what is missing, build, start a single-node keelson cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node bin/keelson.js up "$@"
