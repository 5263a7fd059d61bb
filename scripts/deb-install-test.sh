#!/usr/bin/env bash
# Installs the built .deb into a fresh Debian root (debootstrap, Debian's packages only, from the mirror this
# machine's apt uses) and starts the installed app there under Xvfb until it reports its ready mark (the UI calls
# app_ready once the profiles screen is rendered; TENANT_CONSOLE_EXIT_WHEN_READY=1 prints ready_ms and exits).
# It proves the package's dependencies are right and complete on a system that never saw a build. Not part of
# every test run (a few minutes and a few hundred MB of packages): run it for a release, as root.
#
#   scripts/deb-install-test.sh                  # builds the .deb first (npx tauri build --bundles deb)
#   scripts/deb-install-test.sh path/to/app.deb
#   DEBIAN_SUITE=trixie scripts/deb-install-test.sh   # another release (default: this machine's, else bookworm)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap and chroot need it)" >&2; exit 1; }
apt_ensure debootstrap

deb=${1:-}
if [ -z "$deb" ]; then
  [ -d node_modules/@tauri-apps/cli ] || npm install --no-audit --no-fund --loglevel=error
  say "building the .deb"
  npx tauri build --bundles deb >/dev/null
  deb=$(ls -t target/release/bundle/deb/*.deb | head -n 1)
fi
deb=$(realpath "$deb")
package=$(dpkg-deb -f "$deb" Package)
binary=$(dpkg-deb -c "$deb" | awk '!found && $6 ~ /^(\.\/)?usr\/bin\/./ {sub(/^\.?\/?/, "/", $6); print $6; found = 1}')
[ -n "$binary" ] || { echo "$deb installs nothing under /usr/bin" >&2; exit 1; }

mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
[ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "no Debian mirror in this machine's apt sources; set DEBIAN_MIRROR" >&2; exit 1; }
suite=${DEBIAN_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-bookworm}")}

root=$(mktemp -d /tmp/tc-debroot.XXXXXX)
cleanup() {
  for m in proc sys dev; do umount -R "$root/$m" 2>/dev/null || umount -l "$root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

say "a fresh Debian $suite root (debootstrap --variant=minbase) in $root"
start=$(date +%s)
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
  || { tail -20 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

say "installing $(basename "$deb") with apt (its dependencies from Debian), and Xvfb to show it on"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" xvfb xauth dbus >/dev/null
in_root dpkg -s "$package" | sed -n 's/^\(Package\|Version\|Depends\): /  \1: /p'
size=$(du -sm --exclude=proc --exclude=sys --exclude=dev "$root" | cut -f1)

say "starting the installed $binary under Xvfb until its ready mark"
out=$(in_root timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" \
  dbus-run-session -- env TENANT_CONSOLE_EXIT_WHEN_READY=1 TENANT_CONSOLE_CONFIG_DIR=/tmp/tc-config \
  TENANT_CONSOLE_DATA_DIR=/tmp/tc-data "$binary" 2>&1) || { echo "$out" | tail -20 >&2; exit 1; }
ready=$(echo "$out" | grep -o 'ready_ms[^,}]*' | head -n 1)
[ -n "$ready" ] || { echo "no ready mark from the installed app:" >&2; echo "$out" | tail -20 >&2; exit 1; }
say "installed and ready: $ready (root of $size MiB, $(( $(date +%s) - start )) s in all)"
