#!/usr/bin/env bash
# Fleet benchmark: 100 databases on the local server (tc_fleet_001 .. tc_fleet_100, made once from a migrated
# template, two tenants each: shop-N and cafe-N), a profile for each as console_reader and a fleet of all 100,
# in a private config directory. Measured with the release tenantctl, side by side with the one-profile baseline
# in the same run:
#   - `tenant --fleet` for the tenant on the last shard (shop-100), cold process (hyperfine): every shard is
#     asked within the budget, then the tenant is read through its shard's profile;
#     beside it `tenant --profile shard-100` (the same read when the shard is known);
#   - `tenants --fleet --search shop-1` (every shard searched, rows merged);
#   - `check --fleet --probe` on all 100;
#   - the app (release build in a real window under Xvfb, with the keyring; measured inside the page through the
#     app's own IPC, benches/fleet-app.mjs): the fleet opened, one search over every shard, then warm lookups (a
#     tenant the search saw, asked of its shard alone) each followed by the whole switch (that shard connected
#     as its profile, the tenant opened), beside lookups by slug (every shard asked);
#   - the most backends console_reader had open on the fleet's databases at once during all of it (polled every
#     5 ms), against the budget (--max-connections, default 8).
#
#   benches/fleet.sh
#   TC_FLEET_SHARDS=20 TC_FLEET_BUDGET=4 benches/fleet.sh
#   TC_FLEET_APP=0 benches/fleet.sh       # without the app (no release bundle, no window)
#   TC_FLEET_DROP=1 benches/fleet.sh      # drop the tc_fleet_* databases at the end
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_ensure hyperfine

HOST=${TC_BENCH_HOST:-127.0.0.1}
PORT=${TC_BENCH_PORT:-5432}
N=${TC_FLEET_SHARDS:-100}
BUDGET=${TC_FLEET_BUDGET:-8}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --locked -p tenantctl >&2
TC="$CARGO_TARGET_DIR/release/tenantctl"

say "the fleet's databases: $N, from a migrated template"
if ! "${PSQL[@]}" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'tc_fleet_tpl'" | grep -q 1; then
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE tc_fleet_tpl"
    "$TC" migrate --url "postgres://postgres@$HOST:$PORT/tc_fleet_tpl" --format json >/dev/null
fi
for i in $(seq -f %03g 1 "$N"); do
    db=tc_fleet_$i
    if ! "${PSQL[@]}" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db TEMPLATE tc_fleet_tpl"
        "${PSQL[@]}" -d "$db" -c "INSERT INTO tenants (slug, name) VALUES ('shop-$((10#$i))', 'Shop $((10#$i))'), ('cafe-$((10#$i))', 'Cafe $((10#$i))')"
    fi
done

CONF=$(mktemp -d)
trap 'pkill -P "${watcher:-0}" 2>/dev/null || true; kill "${watcher:-0}" 2>/dev/null || true; rm -rf "$CONF"' EXIT
export TENANT_CONSOLE_CONFIG_DIR=$CONF/config TENANT_CONSOLE_DATA_DIR=$CONF/data
profiles=()
for i in $(seq -f %03g 1 "$N"); do
    name=shard-$((10#$i))
    # The test server trusts loopback; the password typed is offered to every shard (--password-stdin).
    "$TC" profile add "$name" --url "postgres://console_reader@$HOST:$PORT/tc_fleet_$i?sslmode=disable" --format json >/dev/null
    profiles+=("$name")
done
"$TC" fleet add bench "${profiles[@]}" --max-connections "$BUDGET" --format json >/dev/null
echo pw >"$CONF/pw"

# The most backends of console_reader on the fleet's databases at once, asked every 5 ms by one psql session
# (a process per question would load the 2 cores the measurement runs on), until stopped.
(
    while true; do
        echo "SELECT count(*) FROM pg_stat_activity WHERE usename = 'console_reader' AND datname LIKE 'tc_fleet_%';"
        sleep 0.005
    done | "${PSQL[@]}" -d postgres -At >"$CONF/counts" 2>/dev/null
) &
watcher=$!

say "tenant on the last shard, cold process: --fleet (every shard asked, budget $BUDGET) beside --profile (the shard known)"
# (hyperfine 1.15 has no --input: the password comes through a redirection, in both commands alike.)
hyperfine --warmup 1 --runs 10 \
    -n "tenant --fleet (shop-$N on shard $N of $N)" "$TC --format json tenant --fleet bench --tenant shop-$N --password-stdin <$CONF/pw" \
    -n "tenant --profile shard-$N (baseline)" "$TC --format json tenant --profile shard-$N --tenant shop-$N --password-stdin <$CONF/pw" \
    | sed -n '1,20p'

say "tenants --fleet --search shop-1 (every shard searched, merged)"
hyperfine --warmup 1 --runs 5 \
    "$TC --format json tenants --fleet bench --search shop-1 --password-stdin <$CONF/pw" | sed -n '1,6p'
"$TC" --format json tenants --fleet bench --search shop-1 --password-stdin <"$CONF/pw" \
    | python3 -c 'import json,sys; v=json.load(sys.stdin); print("  rows:", len(v["items"]), "unavailable:", len(v["unavailable"]))'

say "check --fleet --probe on all $N shards"
start=$(date +%s.%N)
status=0
"$TC" --format json check --fleet bench --probe --password-stdin <"$CONF/pw" >"$CONF/check.json" || status=$?
end=$(date +%s.%N)
python3 - "$CONF/check.json" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
print("  shards:", len(v["shards"]), "leaking:", v["leaking"], "unavailable:", v["unavailable"], "enforced:", v["isolation_enforced"])
EOF
printf '  check --fleet --probe: %.2f s (exit %d)\n' "$(echo "$end - $start" | bc)" "$status"

if [ "${TC_FLEET_APP:-1}" != 0 ]; then
    say "the app: the fleet opened, warm lookups and switches across shards (release build, real window)"
    apt_ensure webkit2gtk-driver xvfb xauth
    export PATH="$HOME/.cargo/bin:$PATH"
    command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked
    [ -d node_modules/selenium-webdriver ] || npm install --no-audit --no-fund --loglevel=error
    if [ -n "${TC_FLEET_APP_BUILD:-}" ] || [ ! -x "$CARGO_TARGET_DIR/release/tenant-console" ]; then
        npx tauri build --bundles deb >/dev/null
    fi
    scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1400x900x24" benches/fleet-app.sh "$TC" "$N" bench 2>/dev/null
fi

pkill -P "$watcher" 2>/dev/null || true
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
most=$(sort -n "$CONF/counts" | tail -n 1)
echo "== the most console_reader backends open at once on the fleet's databases: ${most:-0} (budget $BUDGET; $(wc -l <"$CONF/counts") samples)"

if [ -n "${TC_FLEET_DROP:-}" ]; then
    for i in $(seq -f %03g 1 "$N"); do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS tc_fleet_$i"; done
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS tc_fleet_tpl"
fi
