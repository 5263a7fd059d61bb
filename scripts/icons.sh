#!/usr/bin/env bash
# Regenerates every app icon (PNG sizes, .ico for Windows, .icns for macOS) from icons/source.png,
# with the Tauri CLI from npm. Run after changing the source image; the results are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/tauri ] || npm install --no-audit --no-fund --loglevel=error
npx tauri icon icons/source.png -o icons
rm -rf icons/android icons/ios   # desktop only
