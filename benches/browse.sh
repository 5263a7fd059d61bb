#!/usr/bin/env bash
# Browse latency benchmark: audit pages at depth 1 and 500,000, tenant search, tenant switch + overview,
# measured through the core API as console_reader on the benchmark database (see crates/core/benches/browse.rs).
#
#   benches/browse.sh                 # 1000 samples per operation
#   TC_BENCH_ITERS=300 benches/browse.sh
#
# The database is tc_bench on the local server (TC_BENCH_HOST/TC_BENCH_PORT to change). If it does not exist it
# is created, migrated and seeded with `tenantctl seed --bench` (10,000 tenants, 10,000,000 audit rows; minutes)
# and the seed time is printed. An existing tc_bench is never dropped.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=${TC_BENCH_HOST:-127.0.0.1}
PORT=${TC_BENCH_PORT:-5432}
DB=tc_bench
ADMIN_URL="postgres://postgres@$HOST:$PORT/$DB"
export TC_BENCH_URL=${TC_BENCH_URL:-"postgres://console_reader@$HOST:$PORT/$DB"}
export TC_BENCH_ADMIN_URL=${TC_BENCH_ADMIN_URL:-$ADMIN_URL}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres)

if ! "${PSQL[@]}" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    echo "== $DB does not exist: creating and seeding it (once)" >&2
    cargo build --release -p tenantctl
    createdb -h "$HOST" -p "$PORT" -U postgres "$DB"
    "$CARGO_TARGET_DIR/release/tenantctl" migrate --url "$ADMIN_URL" --format json
    start=$(date +%s.%N)
    "$CARGO_TARGET_DIR/release/tenantctl" seed --bench --url "$ADMIN_URL" --format json
    end=$(date +%s.%N)
    printf '== seed --bench took %.1f s\n' "$(echo "$end - $start" | bc)" >&2
fi

rows=$("${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM tenants")
if [ "$rows" != 10000 ]; then
    echo "$DB has $rows tenants, not the 10,000 of the bench seed (still seeding?)" >&2
    exit 1
fi
# Migration 20261123000010 adds the tenant list's indexes. A bench database seeded before it gets them here, by
# the same idempotent file, without recording the migration (so binaries built before it still accept the
# database).
"${PSQL[@]}" -d "$DB" -f migrations/20261123000010_tenant_list_indexes.sql
"${PSQL[@]}" -d "$DB" -c "ANALYZE tenants"

cargo bench -p tenant-console-core --bench browse
