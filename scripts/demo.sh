#!/usr/bin/env bash
# Starts Tenant Console on a private demo database with demo tenants: creates the database on first use (initdb in
# the data directory, a free port, migrations, demo seed), stores a "demo" profile whose password is only in the
# system keyring, opens the app, and stops the database when the app closes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

rust_ensure
apt_ensure $BUILD_PACKAGES postgresql gnome-keyring libsecret-tools dbus-x11 openssl
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || die "no display: run this in a desktop session (or under xvfb-run)"

say "building the app and tenantctl (the first build takes a few minutes)"
cargo build --locked -p tenant-console -p tenantctl

run=(target/debug/tenantctl demo --app target/debug/tenant-console)
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  say "no D-Bus session: using a private keyring session for this demo"
  exec scripts/with-keyring.sh "${run[@]}"
fi
say "starting the demo database and the app"
exec "${run[@]}"
