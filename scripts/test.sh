#!/usr/bin/env bash
# Runs every test of Tenant Console: Rust unit and integration tests against a real PostgreSQL and the real
# Secret Service keyring, the UI's logic and page tests, and the end-to-end test of the real app under Xvfb.
# Installs what it needs when missing (Debian packages, npm packages, tauri-driver) and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

rust_ensure
apt_ensure $BUILD_PACKAGES gnome-keyring libsecret-tools dbus dbus-x11 dbus-bin openssl xvfb xauth \
  webkit2gtk-driver chromium python3 python3-venv fonts-droid-fallback xdotool pgbouncer \
  openssh-client openssh-server iproute2 util-linux
command -v npm >/dev/null || apt_ensure nodejs npm
postgres_ensure

# Old test databases are dropped while the lints and the build use the cores (the drops wait on the disk).
drop_log=$(mktemp)
ui_log=$(mktemp)
trap 'rm -f "$drop_log" "$ui_log"' EXIT
drop_old_test_databases >"$drop_log" 2>&1 &
dropping=$!

say "checking formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
python3 scripts/floors.py
bash scripts/test_lib.sh

say "checking the release pipeline (lockfile for every platform, bundle identifier, workflow schema)"
python3 scripts/release_check.py
jsonschema_venv="${XDG_CACHE_HOME:-$HOME/.cache}/tenant-console/check-jsonschema-0.39.0"
if [ ! -x "$jsonschema_venv/bin/check-jsonschema" ]; then
  say "installing check-jsonschema 0.39.0 (PyPI) into $jsonschema_venv"
  python3 -m venv "$jsonschema_venv"
  "$jsonschema_venv/bin/pip" install --quiet --disable-pip-version-check check-jsonschema==0.39.0
fi
"$jsonschema_venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml

say "building the Rust tests"
cargo test --workspace --locked --no-run
drop_status=0
wait "$dropping" || drop_status=$?
cat "$drop_log" >&2
[ "$drop_status" -eq 0 ] || die "could not drop the old test databases (exit $drop_status)"
npm install --no-audit --no-fund --loglevel=error  # follows package-lock.json; npm ci trips over this machine's npmrc

# The Rust tests wait on the database most of the time, and the page tests on the browser: run side by side,
# they take the time of the longer one instead of the sum. The UI tests' output follows the Rust tests'.
say "running the Rust tests (real PostgreSQL, real keyring in a private D-Bus session), the UI tests beside them"
( npm run --silent typecheck && npm run --silent test:ui ) >"$ui_log" 2>&1 &
ui=$!
rust_status=0
scripts/with-keyring.sh cargo test --workspace --locked --no-fail-fast || rust_status=$?
ui_status=0
wait "$ui" || ui_status=$?
say "the UI tests (type check, logic, pages in headless Chromium)"
cat "$ui_log"
if [ "$rust_status" -ne 0 ] || [ "$ui_status" -ne 0 ]; then
  echo "tests failed: Rust exit $rust_status, UI exit $ui_status" >&2
  exit 1
fi

say "running the end-to-end test of the real app under Xvfb"
scripts/e2e.sh

say "all tests passed"
