#!/usr/bin/env bash
# The tools of the weak-link benchmark's shaped link (bench/weaklink/netns.py): ip, tc, iptables
# (nf_tables backend, for NFQUEUE) and ethtool, from Debian. Root is needed to use them.
#   infra/weaklink.sh install|check
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

cmd_install() {
  local missing=()
  have_cmd ip || missing+=(iproute2)
  have_cmd tc || missing+=(iproute2)
  have_cmd iptables || missing+=(iptables)
  have_cmd ethtool || missing+=(ethtool)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "ip, tc, iptables and ethtool already installed"
  else
    apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
  fi
}

cmd_check() {
  for tool in ip tc iptables ethtool; do have_cmd "$tool" || die "$tool not found; run: $0 install"; done
  iptables --version
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
