#!/usr/bin/env bash
# CJK fonts (Noto Sans CJK) for PDFs the API prints itself: the pairing semester report embeds
# them, so Chinese school and teacher names print as glyphs, not boxes.
#   infra/cjk-fonts.sh install|check
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

cmd_install() {
  if [ -f "$FONT" ]; then
    log "Noto Sans CJK already installed ($FONT)"
    return 0
  fi
  apt_install fonts-noto-cjk
}

cmd_check() {
  [ -f "$FONT" ] || die "$FONT missing; run: $0 install"
  echo "$FONT"
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
