#!/usr/bin/env bash
# The runner demo (no Kubernetes): sets everything up, starts a throw-away PostgreSQL on
# loopback, and walks the runner through a migration set:
# plan (writes nothing), up, status, the fast path, drift detection, a failed
# migration that rolls back cleanly, and 8 concurrent runners.
# Stops only the server it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

bash scripts/setup.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target schemagate

SG=$ROOT/build/schemagate
source scripts/demo-postgres.sh
trap demo_postgres_stop EXIT
demo_postgres_start
export DATABASE_URL=$URL

MIG=$WORK/migrations
cp -r manifests/examples/migrations "$MIG"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ schemagate migrate $*"; "$SG" migrate "$@" --dir "$MIG" || echo "(exit $?)"; }

say "plan: what up would do (a read-only transaction; writes nothing)"
run plan
say "up"
run up
say "status"
run status
say "up again: nothing pending costs a constant number of round trips and takes no lock"
run up
say "drift: an applied file is edited"
cp "$MIG/0001_create_accounts.up.sql" "$WORK/orig.sql"
echo "-- edited after it was applied" >>"$MIG/0001_create_accounts.up.sql"
run validate
cp "$WORK/orig.sql" "$MIG/0001_create_accounts.up.sql"
say "a failing migration rolls back completely (no dirty state) and names file, line and SQLSTATE"
printf 'ALTER TABLE accounts ADD COLUMN plan text;\nINSERT INTO accounts (email, nope) VALUES (1, 2);\n' \
  >"$MIG/0004_add_plan.up.sql"
run up --output json
psql -X -A -t "$DATABASE_URL" -c \
  "SELECT 'column accounts.plan exists after the failure: ' || EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'plan')"
say "fix the file, run up again"
printf 'ALTER TABLE accounts ADD COLUMN plan text;\n' >"$MIG/0004_add_plan.up.sql"
run up
say "8 runners at once against a fresh database: each version applied exactly once"
psql -X -q "$DATABASE_URL" -c "CREATE DATABASE fresh"
FRESH="postgresql://postgres:$PASSWORD@127.0.0.1:$PORT/fresh?sslmode=disable"
for i in $(seq 8); do
  "$SG" migrate up --dir "$MIG" --database-url "$FRESH" --identity "replica-$i" >"$WORK/r$i.log" 2>&1 &
done
wait
psql -X "$FRESH" -c "SELECT version, name, applied_by, execution_ms FROM schemagate_migrations ORDER BY version"
say "the password never appears in output: searching everything printed above for it"
if grep -rq "$PASSWORD" "$WORK"/r*.log; then echo "LEAKED"; exit 1; else echo "not found"; fi
