#!/usr/bin/env bash
# Desktop app benchmark: cold start to a usable profiles screen, idle memory of the whole app (all its processes),
# and the size of the .deb. Builds the release bundle first (npx tauri build --bundles deb).
#   benches/app.sh            # build + measure
#   SKIP_BUILD=1 benches/app.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_ensure xvfb xauth hyperfine
[ -d node_modules/@tauri-apps/cli ] || npm install --no-audit --no-fund --loglevel=error
if [ -z "${SKIP_BUILD:-}" ]; then
  say "building the release bundle (.deb)"
  npx tauri build --bundles deb >/dev/null
fi
app=target/release/tenant-console
deb=$(ls -t target/release/bundle/deb/*.deb | head -n 1)

export TENANT_CONSOLE_CONFIG_DIR=$(mktemp -d) TENANT_CONSOLE_DATA_DIR=$(mktemp -d)
Xvfb :77 -screen 0 1400x900x24 >/dev/null 2>&1 & xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
export DISPLAY=:77
sleep 1

say "cold start to the profiles screen (the UI calls app_ready when it is rendered; 10 runs)"
hyperfine --warmup 1 --runs 10 --export-json /tmp/tc-start.json \
  "dbus-run-session -- env TENANT_CONSOLE_EXIT_WHEN_READY=1 $app" | sed -n '1,6p'
for i in 1 2 3 4 5; do
  dbus-run-session -- env TENANT_CONSOLE_EXIT_WHEN_READY=1 "$app" 2>/dev/null | grep ready_ms
done

# Idle memory, twice in one run: as shipped (on Linux the window is drawn without accelerated compositing) and
# with the GPU path WebKitGTK would take by itself (TENANT_CONSOLE_GPU=1), the figure earlier releases had.
idle_memory() {
  dbus-run-session -- env "$@" "$app" >/dev/null 2>&1 & runner=$!
  sleep 10
  pids=$(pgrep -f "$app"; pgrep -f WebKitWebProcess; pgrep -f WebKitNetworkProcess) || true
  total=0 anon_total=0
  for p in $pids; do
    read -r kb anon < <(awk '/^Pss:/ {p=$2} /^Pss_Anon:/ {a=$2} END {print p+0, a+0}' "/proc/$p/smaps_rollup" 2>/dev/null || echo "0 0")
    printf '  %-8s %-18s PSS %8d KiB  anonymous %8d KiB\n' "$p" "$(cat /proc/$p/comm 2>/dev/null)" "$kb" "$anon"
    total=$((total + kb)); anon_total=$((anon_total + anon))
  done
  echo "  total PSS: $((total / 1024)) MiB (anonymous: $((anon_total / 1024)) MiB; the rest is mapped system libraries)"
  kill $runner 2>/dev/null || true; pkill -f "$app" || true
  sleep 1
}
say "idle memory of the app and its WebKit processes, as shipped (PSS; anonymous = the app's private memory; 10 s after start)"
idle_memory TENANT_CONSOLE_GPU=0
say "the same with WebKitGTK's accelerated compositing (TENANT_CONSOLE_GPU=1), for comparison"
idle_memory TENANT_CONSOLE_GPU=1

say ".deb size"
printf "  %s: %.2f MiB (%s bytes)\n" "$deb" "$(echo "$(stat -c %s "$deb") / 1048576" | bc -l)" "$(stat -c %s "$deb")"
