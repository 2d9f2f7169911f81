#!/usr/bin/env bash
# ffmpeg/ffprobe, used by the transcoding workers and their tests.
#   infra/ffmpeg.sh install|check
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

cmd_install() {
  if have_cmd ffmpeg && have_cmd ffprobe; then
    log "ffmpeg already installed ($(command -v ffmpeg))"
    return 0
  fi
  # The Debian package ships both ffmpeg and ffprobe.
  apt_install ffmpeg
}

# Prints the first line of each tool's version; fails if either is missing.
cmd_check() {
  local tool out
  for tool in ffmpeg ffprobe; do
    have_cmd "$tool" || die "$tool not found; run: $0 install"
    # Capture first, not `| head -n1`: with pipefail an early-closing head
    # can turn ffmpeg's SIGPIPE into a failure.
    out="$("$tool" -hide_banner -version)"
    echo "${out%%$'\n'*}"
  done
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
