#!/usr/bin/env bash
# Tests of scripts/lib.sh's own decisions (run by scripts/test.sh): a server the script did not choose never
# has its tc_test_* databases dropped unless TC_TEST_DROP_OLD=1 says so. psql is replaced by a recorder here,
# so no server is asked anything.
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0 fail=0
check() {  # check NAME EXPECTED_CALLS ENV...
  local name=$1 want=$2; shift 2
  local shim calls got
  shim=$(mktemp -d)
  calls="$shim/calls"
  printf '#!/bin/sh\necho "$*" >> "%s"\n' "$calls" > "$shim/psql"
  chmod +x "$shim/psql"
  env -i PATH="$shim:/usr/bin:/bin" TC_TEST_DATABASE_URL="postgres://u@127.0.0.1:1/elsewhere" "$@" \
    bash -c 'source scripts/lib.sh; drop_old_test_databases' >/dev/null 2>&1
  got=$( [ -f "$calls" ] && wc -l < "$calls" || echo 0)
  rm -rf "$shim"
  if [ "$((got > 0))" = "$want" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name (psql called $got times)"; fi
}
check "a server named in TC_TEST_DATABASE_URL is left alone" 0 TC_TEST_SERVER_OURS=0
check "nor when nothing says whose it is" 0
check "unless TC_TEST_DROP_OLD=1 says so" 1 TC_TEST_SERVER_OURS=0 TC_TEST_DROP_OLD=1
check "a server the script chose is cleaned" 1 TC_TEST_SERVER_OURS=1
echo "scripts: $pass passed, $fail failed"
[ "$fail" = 0 ]
