#!/usr/bin/env bash
# Headless Chromium and hls.js, for the playback tests (a real web player in a real browser).
#   infra/browser.sh install|check
# Chromium comes from Debian; hls.js from npm, pinned in infra/browser/package.json and
# installed under .infra/browser (the tests look there).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$repo/.infra/browser"

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

cmd_install() {
  if have_cmd chromium; then
    log "chromium already installed ($(command -v chromium))"
  else
    apt_install chromium
  fi
  if [ -f "$target/node_modules/hls.js/dist/hls.min.js" ] && [ "$target/package.json" -nt "$repo/infra/browser/package.json" ]; then
    log "hls.js already installed ($target)"
    return 0
  fi
  have_cmd npm || apt_install npm
  mkdir -p "$target"
  cp "$repo/infra/browser/package.json" "$target/package.json"
  log "npm install hls.js into $target"
  (cd "$target" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$target/package.json"
}

cmd_check() {
  have_cmd chromium || die "chromium not found; run: $0 install"
  [ -f "$target/node_modules/hls.js/dist/hls.min.js" ] || die "hls.js not found; run: $0 install"
  chromium --version
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
