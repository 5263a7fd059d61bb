#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service, headless:
# the keyring tests and CI need a real Secret Service, and a machine without a desktop has none.
#
#   scripts/with-keyring.sh cargo test -p tenant-console-core --test it keyring::
#
# Every run gets its own temporary directory (keyring files, runtime dir, control socket), so parallel runs
# never share a daemon, and nothing is left behind: the daemon exits with its bus, the directory is removed.
# The keyring password is random and thrown away; so is every secret stored during the run.
#
# WITH_KEYRING_REUSE=1 runs the command on the current session's Secret Service instead, when there is one
# (a desktop user who wants to see the items in Seahorse). In CI (CI=true) a private one is always made.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null; then
        echo "with-keyring: $tool is missing; install the packages dbus (dbus-run-session, dbus-send) and gnome-keyring" >&2
        exit 1
    fi
done

has_secret_service() {
    dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep -q 'boolean true'
}

if [ "${WITH_KEYRING_REUSE:-}" = 1 ] && [ "${CI:-}" != true ] &&
    [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && has_secret_service; then
    exec "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/with-keyring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/data" "$tmp/run" "$tmp/config" "$tmp/cache"

# The inner script runs in the new session (DBUS_SESSION_BUS_ADDRESS points at a bus of its own). The daemon
# gets private XDG directories: its keyring files and its control socket (in XDG_RUNTIME_DIR) must not be
# another run's, or `--unlock` talks to the wrong daemon. The command itself keeps the caller's environment.
# shellcheck disable=SC2016 # expanded by the inner shell
inner='
set -euo pipefail
tmp=$1
shift
password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d " \n")
printf %s "$password" |
    XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/config" \
        XDG_CACHE_HOME="$tmp/cache" gnome-keyring-daemon --unlock --components=secrets >"$tmp/daemon.env"
unset password
# The daemon forks before it owns its bus name: a client that comes too early would activate a second one.
for _ in $(seq 1 200); do
    if dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep -q "boolean true"; then
        exec "$@"
    fi
    sleep 0.1
done
echo "with-keyring: ERROR: gnome-keyring-daemon did not take org.freedesktop.secrets on the session bus within 20 s" >&2
exit 1
'

# Not exec: the trap removes the temporary directory afterwards. The command's exit status is ours.
set +e
dbus-run-session -- bash -c "$inner" with-keyring "$tmp" "$@"
status=$?
exit "$status"
