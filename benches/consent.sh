#!/usr/bin/env bash
# What consent the database enforces costs, measured with the SQL the console sends, as console_reader, side by
# side in one run on one database (tc_consent_bench, made here once: the reference migrations and two tenants of
# 1,000,000 audit rows each, "plain" and "consenting"; the latter requires consent and has a live approval):
#
#  1. Opening a tenant (the door's lookup, its first audit page and, for a tenant that requires consent, the
#     approval lookup), p50/p95 over pgbench transactions: plain vs consenting. The masking check adds nothing
#     here: what a login may read is read once, at connect.
#  2. The export's COPY of 1,000,000 rows (binary, the console's select list), median of 5: the consenting
#     tenant with the RESTRICTIVE consent policy in place, and the same tenant with the policy dropped (the
#     schema before consent), alternating.
#
#   benches/consent.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_ensure postgresql-client bc
HOST=${TC_BENCH_HOST:-127.0.0.1}
PORT=${TC_BENCH_PORT:-5432}
DB=tc_consent_bench
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d "$DB")
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -n 1)

if ! psql -X -h "$HOST" -p "$PORT" -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    echo "== making $DB (once)" >&2
    createdb -h "$HOST" -p "$PORT" -U postgres "$DB"
    for f in migrations/*.sql; do "${PSQL[@]}" -f "$f"; done
    "${PSQL[@]}" <<'SQL'
INSERT INTO tenants (slug, name) VALUES ('plain', 'Plain Ltd'), ('consenting', 'Consenting Ltd');
INSERT INTO tenants (slug, name) SELECT 'filler-' || g, 'Filler ' || g FROM generate_series(1, 2000) g;
INSERT INTO users (email, display_name) SELECT 'u' || g || '@example.com', 'User ' || g FROM generate_series(1, 200) g;
INSERT INTO roles (tenant_id, name) SELECT id, 'member' FROM tenants WHERE slug IN ('plain', 'consenting');
INSERT INTO memberships (tenant_id, user_id, role)
    SELECT t.id, u.id, 'member' FROM tenants t, (SELECT id FROM users LIMIT 100) u WHERE t.slug IN ('plain', 'consenting');
INSERT INTO audit_logs (tenant_id, actor_id, action, resource_type, resource_id, ip, user_agent, metadata, created_at)
    SELECT t.id, NULL, 'member.updated', 'member', g::text, '10.0.0.1', 'bench', '{"n": 1}',
           now() - (g || ' seconds')::interval
      FROM tenants t, generate_series(1, 1000000) g WHERE t.slug IN ('plain', 'consenting');
-- A few tenants require consent with no approval (the policy's set to exclude is not empty).
UPDATE tenants SET support_consent = 'required' WHERE slug IN ('consenting', 'filler-1', 'filler-2', 'filler-3');
SET ROLE tenant_app;
INSERT INTO support_access_approvals (tenant_id, grantee, approved_by, expires_at, scope)
    SELECT id, 'console_reader', 'bench', now() + interval '10 years', 'export' FROM tenants WHERE slug = 'consenting';
RESET ROLE;
VACUUM ANALYZE;
SQL
fi
plain=$("${PSQL[@]}" -Atc "SELECT id FROM tenants WHERE slug = 'plain'")
consenting=$("${PSQL[@]}" -Atc "SELECT id FROM tenants WHERE slug = 'consenting'")
out=$(mktemp -d)
# The consent policy as the migration made it, to drop and put back between runs.
qual=$("${PSQL[@]}" -Atc "SELECT qual FROM pg_policies WHERE tablename = 'audit_logs' AND policyname = 'support_consent'")
[ -n "$qual" ] || { echo "$DB has no support_consent policy on audit_logs: drop it and run again" >&2; exit 1; }
RESTORE="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'audit_logs' AND policyname = 'support_consent') THEN
    CREATE POLICY support_consent ON audit_logs AS RESTRICTIVE FOR SELECT TO console_reader USING ($qual);
  END IF;
END \$\$;"
trap 'rm -rf "$out"; "${PSQL[@]}" -c "$RESTORE" >/dev/null 2>&1 || true' EXIT

# 1. Opening a tenant: resolve, set the tenant, (approval lookup), first page of the audit log.
cat >"$out/open_plain.sql" <<'SQL'
BEGIN READ ONLY;
SELECT id::text, slug, name, created_at, plan, status, support_consent = 'required' FROM tenants t WHERE slug = 'plain' LIMIT 2;
SELECT set_config('app.current_tenant_id', :tid, true);
SELECT id, created_at, actor_id, action FROM audit_logs e WHERE e.tenant_id = CAST(:tid AS uuid) ORDER BY created_at DESC, id DESC LIMIT 51;
COMMIT;
SQL
sed "s/'plain'/'consenting'/" "$out/open_plain.sql" | sed "s/^SELECT id, created_at/SELECT id::text FROM support_access_approvals WHERE tenant_id = CAST(:tid AS uuid) AND grantee = session_user AND revoked_at IS NULL AND expires_at > now() AND ('read' = 'read' OR scope = 'export') ORDER BY expires_at DESC LIMIT 1;\nSELECT id, created_at/" >"$out/open_consenting.sql"
pct() { python3 -c '
import sys
v = sorted(float(l.split()[2]) / 1000 for l in open(sys.argv[1]))
q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
print(f"{len(v)} opens, p50 {q(0.5):.3f} ms, p95 {q(0.95):.3f} ms")' "$1"; }
for round in 1 2; do
  for which in plain consenting; do
    tid=$plain; [ "$which" = consenting ] && tid=$consenting
    (cd "$out" && "$PGBENCH" -n -h "$HOST" -p "$PORT" -U console_reader -M extended -t 3000 -D tid="$tid" -f "open_$which.sql" -l --log-prefix="log_$which" "$DB" >/dev/null)
    printf '== open %-11s (round %s): %s\n' "$which" "$round" "$(pct "$(ls "$out"/log_"$which"* | head -n 1)")"
    rm -f "$out"/log_"$which"*
  done
done

# 2. The export's COPY of the consenting tenant, 1,000,000 rows, with and without the consent policy.
copy_once() {
  local start end
  start=$(date +%s.%N)
  psql -X -q -h "$HOST" -p "$PORT" -U console_reader -d "$DB" -c "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
    SET LOCAL app.current_tenant_id = '$consenting';
    COPY (SELECT e.id, e.created_at, e.actor_id, NULL::text, e.action::text, e.resource_type::text, e.resource_id::text,
                 e.ip, e.user_agent::text, e.metadata::text
            FROM audit_logs e WHERE e.tenant_id = '$consenting'::uuid ORDER BY e.created_at, e.id) TO STDOUT WITH (FORMAT binary);
    COMMIT;" >"$out/copy.bin"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
with=(); without=()
for i in 1 2 3 4 5; do
  "${PSQL[@]}" -c "$RESTORE"
  with+=("$(copy_once)")
  "${PSQL[@]}" -c "DROP POLICY support_consent ON audit_logs"
  without+=("$(copy_once)")
done
"${PSQL[@]}" -c "$RESTORE"
bytes=$(stat -c %s "$out/copy.bin")
w=$(printf '%s\n' "${with[@]}" | median); wo=$(printf '%s\n' "${without[@]}" | median)
printf '== export COPY, 1,000,000 rows (%s bytes), median of 5: with the consent policy %.3f s, without %.3f s (%+.1f%%)\n' \
  "$bytes" "$w" "$wo" "$(echo "($w - $wo) * 100 / $wo" | bc -l)"
