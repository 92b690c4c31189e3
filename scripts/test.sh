#!/usr/bin/env bash
# Type-checks, then runs every test on the embedded defaults (embedded PostgreSQL, no Redis),
# and again on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== type check (tsc --noEmit, $(node --version))"
tsc --noEmit -p .

echo "== tests on embedded storage (the embedded PostgreSQL under a temporary DATA_DIR, no Redis)"
env -u DATABASE_URL -u REDIS_URL ava "$@"

if [ -n "${DATABASE_URL:-}" ] || [ -n "${REDIS_URL:-}" ]; then
  echo "== tests on server storage (DATABASE_URL=${DATABASE_URL:-unset}, REDIS_URL=${REDIS_URL:-unset})"
  ava "$@"
fi
