#!/usr/bin/env bash
# Runs a command with a real Secret Service keyring: a private D-Bus session with gnome-keyring unlocked, in a
# temporary data directory, for tests and CI (headless machines have no keyring of their own).
#   scripts/with-keyring.sh cargo test
# On a desktop that already has a Secret Service (and outside CI), the command runs in the user's own session.
set -euo pipefail

if [ "${CI:-}" != "true" ] && [ -z "${TC_PRIVATE_KEYRING:-}" ] && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] \
  && dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus \
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
  exec "$@"
fi

for tool in dbus-run-session gnome-keyring-daemon dbus-send; do
  command -v "$tool" >/dev/null || { echo "with-keyring: $tool is missing (apt-get install dbus gnome-keyring dbus-bin)" >&2; exit 1; }
done

home=$(mktemp -d /tmp/tc-keyring.XXXXXX)
trap 'rm -rf "$home"' EXIT
export XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"

# Inside the session: start the daemon with an unlocked login keyring, and wait until it owns
# org.freedesktop.secrets before running the command (without the wait a second daemon starts in most runs).
dbus-run-session -- bash -c '
  set -euo pipefail
  printf "tenant-console-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  for _ in $(seq 1 100); do
    if dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus \
         org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
      exec "$@"
    fi
    sleep 0.1
  done
  echo "with-keyring: the Secret Service did not start within 10 s" >&2
  exit 1
' with-keyring "$@"
