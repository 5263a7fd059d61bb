#!/usr/bin/env bash
# Export benchmark on the bench database (tenant big-1, 1,000,000 audit rows): tenantctl export-audit (release
# build, as console_reader, under RLS; one COPY and two parallel slices) side by side with a superuser's raw psql
# COPY of the same rows, the exporting process's peak memory at 100,000 and 1,000,000 rows, and the core-seconds
# the machine was busy for each (server and client share the cores).
#   benches/export.sh [postgres://postgres@127.0.0.1:5432/tc_bench]
#   BASELINE_BIN=/path/to/older/tenantctl benches/export.sh   # also time another build, in the same runs
# Exports write a signed manifest: run it under scripts/with-keyring.sh (without a keyring it exports --unsigned,
# which still hashes the file and writes the manifest).
# Make the database first: createdb tc_bench; tenantctl migrate --url URL; tenantctl seed --bench --url URL
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_ensure time bc postgresql-client
admin=${1:-postgres://postgres@127.0.0.1:5432/tc_bench}
reader=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(netloc=p.netloc.replace(p.username+"@","console_reader@",1)).geturl())' "$admin")
cargo build --release --locked -p tenantctl 2>&1 | tail -n 1
bin=target/release/tenantctl
out=$(mktemp -d)
tenant=$(psql "$admin" -qAtc "select id from tenants where slug = 'big-1'")
[ -n "$tenant" ] || die "no tenant big-1: seed the bench database first"

# Core-seconds the whole machine was busy (server and client together), from /proc/stat: on a machine whose
# cores the server and the exporter share, this is what bounds the wall time.
busy_cs() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
raw_copy() {
  local limit=$1
  psql "$admin" -qc "COPY (SELECT id, created_at, actor_id, action, resource_type, resource_id, host(ip), user_agent, metadata
                           FROM audit_logs WHERE tenant_id = '$tenant' $limit ORDER BY created_at, id) TO STDOUT WITH (FORMAT csv)" > "$out/raw.csv"
}

for rows in 100000 1000000; do
  since=""
  if [ "$rows" = 100000 ]; then
    since=$(psql "$admin" -qAtc "select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from audit_logs
                                  where tenant_id = '$tenant' order by created_at desc, id desc offset 99999 limit 1")
  fi
  args=(export-audit --url "$reader" --tenant big-1 --out "$out/export.csv" --force)
  base_args=("${args[@]}")
  if ! "$bin" signing-key show >/dev/null 2>&1; then args+=(--unsigned); fi
  limit=""
  if [ -n "$since" ]; then args+=(--since "$since"); base_args+=(--since "$since"); limit="AND created_at >= '$since'"; fi
  say "$rows rows"
  for run in 1 2 3; do
    b0=$(busy_cs); s=$(date +%s.%N); raw_copy "$limit"; e=$(date +%s.%N); b1=$(busy_cs)
    raw=$(echo "$e - $s" | bc)
    printf '  run %d: raw COPY %.2f s (%s bytes, machine busy %.1f core-s)\n' "$run" "$raw" "$(stat -c %s "$out/raw.csv")" \
      "$(echo "($b1 - $b0) / 100" | bc -l)"
    for jobs in 1 2; do
      b0=$(busy_cs)
      /usr/bin/time -f '%e %M' -o "$out/time" "$bin" "${args[@]}" --jobs "$jobs" 2>/dev/null
      b1=$(busy_cs)
      read -r wall rss < "$out/time"
      printf '         tenantctl --jobs %d: %.2f s, peak RSS %d MiB (%s bytes, machine busy %.1f core-s) | ratio %.2f\n' \
        "$jobs" "$wall" "$((rss / 1024))" "$(stat -c %s "$out/export.csv")" "$(echo "($b1 - $b0) / 100" | bc -l)" \
        "$(echo "$wall / $raw" | bc -l)"
    done
    if [ -n "${BASELINE_BIN:-}" ]; then
      /usr/bin/time -f '%e %M' -o "$out/time" "$BASELINE_BIN" "${base_args[@]}" 2>/dev/null
      read -r bwall brss < "$out/time"
      printf '         baseline %s: %.2f s, peak RSS %d MiB | this build / baseline %.3f\n' \
        "$(basename "$BASELINE_BIN")" "$bwall" "$((brss / 1024))" "$(echo "$wall / $bwall" | bc -l)"
    fi
  done
done
say "1000000 rows: CSV, CSV gzip-compressed, JSON lines (the same build, one after another, 3 runs)"
for run in 1 2 3; do
  line="  run $run:"
  for name in export.csv export.csv.gz export.jsonl; do
    fmt_args=(export-audit --url "$reader" --tenant big-1 --out "$out/$name" --force)
    if ! "$bin" signing-key show >/dev/null 2>&1; then fmt_args+=(--unsigned); fi
    /usr/bin/time -f '%e %M' -o "$out/time" "$bin" "${fmt_args[@]}" 2>/dev/null
    read -r wall rss < "$out/time"
    line+=$(printf ' %s %.2f s (%s bytes, %d MiB) |' "$name" "$wall" "$(stat -c %s "$out/$name")" "$((rss / 1024))")
  done
  echo "$line"
done
rm -rf "$out"
