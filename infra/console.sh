#!/usr/bin/env bash
# The web console's front-end libraries (Uppy, hls.js, ECharts), from npm at the versions pinned
# in infra/console/package.json, installed under .infra/console; their ready-made dist files are
# copied to services/console/static/vendor/ (gitignored), which the API serves under
# /console/vendor/. No bundler, no CDN: schools may reach neither.
#   infra/console.sh install|check
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo="$LB_REPO_DIR"
target="$repo/.infra/console"
vendor="$repo/services/console/static/vendor"
modules="$target/node_modules"

# source (under node_modules) -> destination (under vendor/)
files=(
  "uppy/dist/uppy.min.mjs                uppy/uppy.min.mjs"
  "@uppy/core/dist/style.min.css         uppy/core.min.css"
  "@uppy/dashboard/dist/style.min.css    uppy/dashboard.min.css"
  "@uppy/locales/lib/zh_CN.js            uppy/zh_CN.js"
  "@uppy/locales/lib/en_US.js            uppy/en_US.js"
  "hls.js/dist/hls.min.mjs               hls.js/hls.min.mjs"
  "echarts/dist/echarts.esm.min.mjs      echarts/echarts.esm.min.mjs"
)

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

installed() {
  [ -f "$target/package.json" ] && cmp -s "$target/package.json" "$repo/infra/console/package.json" || return 1
  local line
  for line in "${files[@]}"; do
    set -- $line
    [ -f "$vendor/$2" ] || return 1
  done
}

cmd_install() {
  if installed; then
    log "console libraries already installed ($vendor)"
    return 0
  fi
  have_cmd npm || apt_install npm
  mkdir -p "$target"
  cp "$repo/infra/console/package.json" "$target/package.json"
  log "npm install the console's libraries into $target"
  (cd "$target" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
  rm -rf "$vendor"
  local line
  for line in "${files[@]}"; do
    set -- $line
    [ -f "$modules/$1" ] || die "$1 missing from the npm install"
    mkdir -p "$(dirname "$vendor/$2")"
    cp "$modules/$1" "$vendor/$2"
  done
  log "console libraries copied to $vendor"
}

cmd_check() {
  installed || die "console libraries missing or outdated; run: $0 install"
  ls "$vendor"
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
