#!/usr/bin/env bash
# End-to-end test of the real app: the debug build driven through tauri-driver and WebKitWebDriver under Xvfb,
# against a database with the demo data, with the real keyring in a private D-Bus session. Screenshots of each
# screen land in artifacts/e2e/ (the path is printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# A CJK fallback font, so the demo data's Japanese renders in the screenshots instead of empty boxes.
apt_ensure webkit2gtk-driver xvfb xauth fonts-droid-fallback xdotool imagemagick
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver (cargo install)"
  cargo install tauri-driver --version '^2' --locked
fi
[ -n "${TC_TEST_DATABASE_URL:-}" ] || postgres_ensure
[ -d node_modules/selenium-webdriver ] || npm install --no-audit --no-fund --loglevel=error

say "building the app and tenantctl"
cargo build --locked -p tenant-console -p tenantctl

db=tc_e2e_demo
say "creating the demo database $db on the test server"
psql "$TC_TEST_DATABASE_URL" -qc "drop database if exists $db with (force)" -c "create database $db" >/dev/null
admin_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$TC_TEST_DATABASE_URL" "$db")
target/debug/tenantctl --format json migrate --url "$admin_url" >/dev/null
target/debug/tenantctl --format json seed --demo --url "$admin_url" >/dev/null

# A second shard for the fleet test (the demo database is the first): two tenants of its own.
shard=tc_e2e_shard_b
psql "$TC_TEST_DATABASE_URL" -qc "drop database if exists $shard with (force)" -c "create database $shard" >/dev/null
shard_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$TC_TEST_DATABASE_URL" "$shard")
target/debug/tenantctl --format json migrate --url "$shard_url" >/dev/null
psql "$shard_url" -qc "insert into tenants (slug, name) values ('pied-piper', 'Pied Piper'), ('raviga', 'Raviga Capital')" \
  -c "insert into audit_logs (tenant_id, action) select id, 'auth.login' from tenants" >/dev/null
export E2E_SHARD_NAME=$shard E2E_TENANTCTL="$PWD/target/debug/tenantctl"

E2E_DB_HOST=$(python3 -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).hostname)' "$TC_TEST_DATABASE_URL")
E2E_DB_PORT=$(python3 -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).port or 5432)' "$TC_TEST_DATABASE_URL")
export E2E_DB_HOST E2E_DB_PORT E2E_DB_NAME=$db E2E_APP="$PWD/target/debug/tenant-console"
# The superuser URL of the demo database: a test writes what the product would (a tenant's approval).
export E2E_ADMIN_URL="$admin_url"
export E2E_ARTIFACTS="$PWD/artifacts/e2e"
rm -rf "$E2E_ARTIFACTS"; mkdir -p "$E2E_ARTIFACTS"
# The app's config and data (its log) stay with the screenshots, for whoever reads a failure.
export TENANT_CONSOLE_CONFIG_DIR="$E2E_ARTIFACTS/config" TENANT_CONSOLE_DATA_DIR="$E2E_ARTIFACTS/data"
mkdir -p "$TENANT_CONSOLE_CONFIG_DIR" "$TENANT_CONSOLE_DATA_DIR"

say "running the end-to-end test under Xvfb"
status=0
scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1400x900x24" npm run --silent test:e2e || status=$?
echo "end-to-end screenshots: $E2E_ARTIFACTS/"
ls "$E2E_ARTIFACTS"/*.png 2>/dev/null | sed 's/^/  /'
psql "$TC_TEST_DATABASE_URL" -qc "drop database if exists $db with (force)" -c "drop database if exists $shard with (force)" >/dev/null || true
exit "$status"
