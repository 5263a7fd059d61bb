#!/usr/bin/env bash
# The app part of benches/fleet.sh, run inside the keyring's D-Bus session and Xvfb (it calls this so):
# stores the bench password for each shard's profile in the keyring (the app reads passwords from there; the
# test server trusts loopback, so any password does), then runs benches/fleet-app.mjs on the release app.
#   benches/fleet-app.sh TENANTCTL SHARDS FLEET
set -euo pipefail
TC=$1 N=$2 FLEET=$3
for i in $(seq 1 "$N"); do
    echo pw | "$TC" profile set "shard-$i" --password-stdin --format json >/dev/null
done
E2E_APP="$PWD/target/release/tenant-console" node benches/fleet-app.mjs "$FLEET" "${TC_FLEET_APP_ROUNDS:-60}"
