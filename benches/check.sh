#!/usr/bin/env bash
# Isolation check benchmark on the bench database (10,000 tenants, 10,000,000 audit rows): `tenantctl check`
# with and without the live probe (release build, as console_reader), side by side with the raw baseline in the
# same run: psql asking the same probe questions by hand (one new connection per state, bounded queries).
#   benches/check.sh [postgres://postgres@127.0.0.1:5432/tc_bench]
# Make the database first: createdb tc_bench; tenantctl migrate --url URL; tenantctl seed --bench --url URL
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_ensure postgresql-client bc
admin=${1:-postgres://postgres@127.0.0.1:5432/tc_bench}
reader=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(netloc=p.netloc.replace(p.username+"@","console_reader@",1)).geturl())' "$admin")
cargo build --release --locked -p tenantctl 2>&1 | tail -n 1
bin=target/release/tenantctl
tenant=$(psql "$admin" -qAtc "select id from tenants where slug = 'big-1'")
[ -n "$tenant" ] || die "no tenant big-1: seed the bench database first"

now() { date +%s.%N; }
raw_probe() {
  # The probe's questions for one tenant, by hand: unset, empty, unknown tenant, the tenant (in scope + foreign).
  for setting in "" "''" "'00000000-0000-4000-8000-000000000000'" "'$tenant'"; do
    {
      echo "BEGIN READ ONLY;"
      [ -n "$setting" ] && echo "SELECT set_config('app.current_tenant_id', $setting, true);"
      for t in audit_logs memberships roles support_access_log; do
        echo "SELECT count(*) FROM (SELECT 1 FROM $t WHERE tenant_id < '$tenant' LIMIT 101) a;"
        echo "SELECT count(*) FROM (SELECT 1 FROM $t WHERE tenant_id > '$tenant' LIMIT 101) b;"
        echo "SELECT count(*) FROM (SELECT 1 FROM $t WHERE tenant_id = '$tenant' LIMIT 1000) s;"
      done
      echo "ROLLBACK;"
    } | psql "$reader" -qAt >/dev/null
  done
}

for run in 1 2 3 4 5; do
  s=$(now); raw_probe; e=$(now); raw=$(echo "$e - $s" | bc)
  s=$(now); "$bin" check --url "$reader" --format json >/dev/null; e=$(now); plain=$(echo "$e - $s" | bc)
  s=$(now); "$bin" check --probe --url "$reader" --format json >/dev/null; e=$(now); probe=$(echo "$e - $s" | bc)
  s=$(now); "$bin" check --probe --tenant big-1 --url "$reader" --format json >/dev/null; e=$(now); big=$(echo "$e - $s" | bc)
  printf '  run %d: raw psql probe (1 tenant) %.3f s | check %.3f s | check --probe (3 tenants) %.3f s | check --probe --tenant big-1 %.3f s\n' \
    "$run" "$raw" "$plain" "$probe" "$big"
done
