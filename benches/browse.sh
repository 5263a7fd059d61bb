#!/usr/bin/env bash
# Browse latency benchmark: audit pages at depth 1 and 500,000, tenant search, tenant switch + overview,
# measured through the core API as console_reader on the benchmark database (see crates/core/benches/browse.rs).
#
#   benches/browse.sh                 # 1000 samples per operation, directly, then through PgBouncer
#   TC_BENCH_ITERS=300 benches/browse.sh
#   TC_BENCH_POOLER=0 benches/browse.sh   # directly only
#
# Through PgBouncer: Debian's pgbouncer, started here on a free port in front of the same server, transaction
# pooling, 4 server connections; the same binary and samples, side by side with the direct run.
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
# Migrations 20261123000010 (the tenant list's indexes), 20261126000020 (the folded-name index of the
# accent-insensitive search, the members' joined-date index) and 20261207000060 (the searchable name, without
# spaces and punctuation, stored and indexed) add indexes. A bench database seeded before them
# gets them here, by the same idempotent files, without recording the migrations (so binaries built before
# them still accept the database).
"${PSQL[@]}" -d "$DB" -f migrations/20261123000010_tenant_list_indexes.sql
"${PSQL[@]}" -d "$DB" -f migrations/20261126000020_folded_search_and_member_sorts.sql
"${PSQL[@]}" -d "$DB" -f migrations/20261207000060_search_ignores_punctuation.sql
# 20261207000080: the letters and letter pairs of the searchable name, for 1-2 letter searches.
"${PSQL[@]}" -d "$DB" -f migrations/20261207000080_short_search_by_letter_pairs.sql
# 20261207000070 rebuilds the audit time index with the actor included; a bench database seeded before it gets
# it here once (the index is checked first: the rebuild takes a while on 10,000,000 rows).
if ! "${PSQL[@]}" -d "$DB" -Atc "SELECT pg_get_indexdef('audit_logs_tenant_created'::regclass)" | grep -q INCLUDE; then
    "${PSQL[@]}" -d "$DB" -f migrations/20261207000070_glance_reads_the_index_only.sql
    "${PSQL[@]}" -d "$DB" -c "VACUUM (ANALYZE) audit_logs"
fi
"${PSQL[@]}" -d "$DB" -c "ANALYZE tenants"

echo "== directly (127.0.0.1:$PORT)"
cargo bench -p tenant-console-core --bench browse

if [ "${TC_BENCH_POOLER:-1}" = 1 ]; then
    command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }
    dir=$(mktemp -d /tmp/tc-bench-pgbouncer.XXXXXX)
    chmod 755 "$dir"
    pgb_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf '"console_reader" ""\n' >"$dir/users.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
$DB = host=$HOST port=$PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgb_port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 4
logfile = $dir/pgbouncer.log
INI
    as_pg=()
    if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; as_pg=(runuser -u postgres --); fi
    "${as_pg[@]}" "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" "$dir/pgbouncer.ini" >/dev/null 2>&1 &
    pgb_pid=$!
    trap 'kill $pgb_pid 2>/dev/null || true; wait $pgb_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
    for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$pgb_port) 2>/dev/null && break; sleep 0.1; done
    echo "== through PgBouncer $("${as_pg[@]}" "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" --version | head -1) (127.0.0.1:$pgb_port, transaction pooling)"
    TC_BENCH_URL="postgres://console_reader@127.0.0.1:$pgb_port/$DB" cargo bench -p tenant-console-core --bench browse
fi
