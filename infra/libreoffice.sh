#!/usr/bin/env bash
# LibreOffice (headless) and CJK fonts, used by the transcoder to make PDF previews of office
# documents. Without a CJK font every Chinese glyph renders as a box (measured).
#   infra/libreoffice.sh install|check
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

have_cjk_font() { fc-list :lang=zh-cn family 2>/dev/null | grep -q .; }

cmd_install() {
  local packages=()
  have_cmd soffice || packages+=(libreoffice-core-nogui libreoffice-impress-nogui libreoffice-writer-nogui
                                 libreoffice-calc-nogui)
  have_cjk_font || packages+=(fonts-noto-cjk fontconfig)
  if [ "${#packages[@]}" -eq 0 ]; then
    log "LibreOffice and a CJK font already installed ($(command -v soffice))"
    return 0
  fi
  apt_install "${packages[@]}"  # (apt_install never pulls recommends)
}

cmd_check() {
  have_cmd soffice || die "soffice not found; run: $0 install"
  have_cjk_font || die "no font covers Chinese; run: $0 install"
  soffice --version
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
