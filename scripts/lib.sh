# Shared helpers for scripts/test.sh and scripts/demo.sh. Sourced, not run.
# Each step says what it does; each install happens only when something is missing.

# Every step says when it starts, in seconds since the first script of the run began (CI's log shows where the
# time goes).
TC_RUN_STARTED=${TC_RUN_STARTED:-$(date +%s)}
export TC_RUN_STARTED
say() { printf '\033[1m==> [%ss] %s\033[0m\n' "$(( $(date +%s) - TC_RUN_STARTED ))" "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages needed to build the app (Tauri 2 on WebKitGTK 4.1) and the keyring.
BUILD_PACKAGES="build-essential pkg-config file libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev libxdo-dev \
libayatana-appindicator3-dev librsvg2-dev"

apt_ensure() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    say "installing Debian packages: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

rust_ensure() {
  command -v cargo >/dev/null || die "Rust is not installed: see https://rustup.rs (then run this again)"
}

pg_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Makes sure a PostgreSQL server answers for the tests and exports TC_TEST_DATABASE_URL (a superuser URL).
# Order: an explicit TC_TEST_DATABASE_URL; the machine's server on 127.0.0.1:5432 (started with pg_ctlcluster if it
# is installed but down); otherwise a private throw-away cluster under target/ (trust auth, loopback only).
postgres_ensure() {
  if [ -n "${TC_TEST_DATABASE_URL:-}" ]; then
    say "using the PostgreSQL server given in TC_TEST_DATABASE_URL"
    export TC_TEST_SERVER_OURS=0
    return
  fi
  # The server chosen below is this machine's own or a private one: old test databases on it are ours.
  export TC_TEST_SERVER_OURS=1
  apt_ensure postgresql postgresql-client
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    export TC_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
    if psql "$TC_TEST_DATABASE_URL" -qAtc 'select 1' >/dev/null 2>&1; then
      say "using the PostgreSQL server at 127.0.0.1:5432"
      return
    fi
    unset TC_TEST_DATABASE_URL
  fi
  if [ "$(id -u)" -eq 0 ] && command -v pg_lsclusters >/dev/null && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
    local ver
    ver=$(pg_lsclusters -h | awk '{print $1}' | sort -V | tail -n 1)
    say "starting the machine's PostgreSQL $ver cluster (pg_ctlcluster)"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    if pg_isready -q -h 127.0.0.1 -p 5432 && psql "postgres://postgres@127.0.0.1:5432/postgres" -qAtc 'select 1' >/dev/null 2>&1; then
      export TC_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
      return
    fi
  fi
  private_cluster_start
}

# A private cluster for the tests: trust auth on loopback (a throw-away test server), stopped on exit.
private_cluster_start() {
  local bindir dir port runas=()
  bindir=$(pg_bindir)
  [ -x "$bindir/initdb" ] || die "PostgreSQL's initdb was not found (install the postgresql package)"
  dir="$PWD/target/tc-test-pg"
  port=55432
  if [ "$(id -u)" -eq 0 ]; then runas=(runuser -u postgres --); fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster for the tests in $dir"
    rm -rf "$dir"; mkdir -p "$dir"
    [ "${#runas[@]}" -gt 0 ] && chown postgres "$dir"
    "${runas[@]}" "$bindir/initdb" -D "$dir" -U postgres -A trust --no-sync -E UTF8 >/dev/null
  fi
  say "starting the private PostgreSQL cluster on 127.0.0.1:$port"
  "${runas[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || die "the private PostgreSQL cluster did not start (see $dir/server.log)"
  trap '"${runas[@]}" "$bindir/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true' EXIT
  export TC_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# Drops the tc_test_* databases earlier runs left, only on a server this script chose itself (the machine's own
# on 127.0.0.1:5432, or a private cluster). On a server named in TC_TEST_DATABASE_URL it drops nothing unless
# TC_TEST_DROP_OLD=1 says so: those may be someone else's databases of the same name.
drop_old_test_databases() {
  if [ "${TC_TEST_SERVER_OURS:-0}" != 1 ] && [ "${TC_TEST_DROP_OLD:-0}" != 1 ]; then
    say "not dropping old tc_test_* databases on the server in TC_TEST_DATABASE_URL (not one this script started; TC_TEST_DROP_OLD=1 to drop them)"
    return 0
  fi
  say "dropping test databases left by earlier runs"
  # One session for all of them (a process a database took 150 ms each: 50 s for a run's 300).
  psql "$TC_TEST_DATABASE_URL" -qAt -c "select format('drop database if exists %I with (force);', datname) from pg_database where datname like 'tc\_test\_%'" \
    | psql "$TC_TEST_DATABASE_URL" -q -v ON_ERROR_STOP=1 >/dev/null
}
