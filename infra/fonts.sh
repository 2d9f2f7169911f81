#!/usr/bin/env bash
# The Chinese font the API draws campaign certificates with (services/api/campaigns/certificates.py).
#   infra/fonts.sh install|check
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
  [ -f "$FONT" ] || die "$FONT not found; run: $0 install"
  echo "$FONT"
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
