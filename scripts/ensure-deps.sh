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
if ! command -v kubectl >/dev/null; then
  say "kubectl is not on the PATH; installing Debian's kubernetes-client"
  if [ ! -f /var/lib/apt/lists/lock ] || [ -z "$(ls /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]; then apt-get update -qq; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null || say "could not install kubectl; e2e tests will be skipped"
fi
say "building…"
npm run --silent build
