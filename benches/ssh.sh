#!/usr/bin/env bash
# SSH benchmark: the export of a 300,000-event tenant through two SSH hops (bastion, then the inner host, on a
# real topology in network namespaces: tenant_console_dev::sshlab) side by side, in the same run, with the same
# export run inside the database's own network namespace (no SSH at all). Wall time and the exporting process's
# peak memory for each, RUNS times; then how long a command against a stopped bastion takes to fail (the connect
# timeout is 10 s). Needs root (network namespaces), like the tests.
#   benches/ssh.sh            # RUNS=3 EVENTS=300000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_ensure time openssh-client openssh-server iproute2
RUNS=${RUNS:-3}
EVENTS=${EVENTS:-300000}
cargo build --release --locked -p tenantctl 2>&1 | tail -n 1
cargo build --release --locked -p tenant-console-dev --features testing --bin sshlab 2>&1 | tail -n 1
bin=$PWD/target/release/tenantctl
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

say "starting the lab with $EVENTS extra events for acme"
coproc LAB { target/release/sshlab --events "$EVENTS"; }
while read -r line <&"${LAB[0]}"; do
  case "$line" in
    READY=1) break ;;
    *=*) export "${line?}" ;;
  esac
done
[ -n "${INNER_NS:-}" ] || die "the lab did not start"
export PGPASSWORD=$READER_PASSWORD TENANT_CONSOLE_CONFIG_DIR=$out/config TENANT_CONSOLE_DATA_DIR=$out/data

# Each prints "SECONDS PEAK_RSS_KIB" of one export; a failed export stops the benchmark with its error.
timed() {
  local name=$1; shift
  if ! /usr/bin/time -f '%e %M' -o "$out/$name.time" "$@" >/dev/null 2>"$out/$name.err"; then
    cat "$out/$name.err" >&2
    die "the $name export failed"
  fi
  cat "$out/$name.time"
}
inside() {  # the export from inside the database's namespace: no SSH
  timed inside ip netns exec "$INNER_NS" "$bin" --format json --url "postgres://console_reader@127.0.0.1:5432/$DB" \
    export-audit --tenant acme --out "$out/inside.csv" --force --unsigned
}
through() {  # the same export from here, through bastion and inner host
  timed through "$bin" --format json --url "postgres://console_reader@db.internal:5432/$DB?sslmode=disable" --ssh inner \
    --ssh-config "$SSH_CONFIG" export-audit --tenant acme --out "$out/through.csv" --force --unsigned
}
printf '%-28s %10s %12s\n' "run" "seconds" "peak RSS MiB"
for i in $(seq 1 "$RUNS"); do
  read -r a am < <(inside)
  read -r b bm < <(through)
  printf '%-28s %10s %12s\n' "inside the namespace #$i" "$a" "$((am / 1024))"
  printf '%-28s %10s %12s   ratio %s\n' "through two SSH hops #$i" "$b" "$((bm / 1024))" "$(echo "scale=2; $b / $a" | bc)"
done
rows=$(($(wc -l < "$out/through.csv") - 1))
# The files differ only in what the exports were asked at different moments (none here: same rows, same order).
cmp -s "$out/inside.csv" "$out/through.csv" && same=identical || same=DIFFERENT
echo "rows exported: $rows; the two files are $same"

say "a stopped bastion"
for pid in $(ip netns pids "$BASTION_NS"); do kill "$pid"; done
start=$(date +%s.%N)
code=0
"$bin" --format json --url "postgres://console_reader@db.internal:5432/$DB?sslmode=disable" --ssh inner --ssh-config "$SSH_CONFIG" tenants \
  >/dev/null 2>"$out/err" || code=$?
end=$(date +%s.%N)
echo "failed with exit $code after $(echo "$end - $start" | bc) s: $(head -c 200 "$out/err")"
exec {LAB[1]}>&-
wait "$LAB_PID" 2>/dev/null || true
