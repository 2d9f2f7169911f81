#!/usr/bin/env bash
# bubblewrap and prlimit, which every converter runs under (services/common/sandbox.py): no
# network, a read-only machine with one scratch directory, limits, the whole tree killed on timeout.
#   infra/sandbox.sh install|check
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

cmd_install() {
  local packages=()
  have_cmd bwrap || packages+=(bubblewrap)
  have_cmd prlimit || packages+=(util-linux)
  if [ "${#packages[@]}" -eq 0 ]; then
    log "bubblewrap and prlimit already installed ($(command -v bwrap))"
    return 0
  fi
  apt_install "${packages[@]}"
}

# Fails unless a process can really be taken off the network here (as root in CI, bubblewrap
# works; in an unprivileged container it needs user namespaces, else `unshare` as root).
cmd_check() {
  have_cmd prlimit || die "prlimit not found; run: $0 install"
  if have_cmd bwrap && bwrap --unshare-net --unshare-pid --die-with-parent --ro-bind / / --dev /dev --proc /proc true; then
    echo "bubblewrap: network, pid and mount isolation work"
  elif unshare --net --pid --fork --kill-child true 2>/dev/null; then
    echo "unshare: network and pid isolation work (bubblewrap unavailable)"
  else
    die "no way to take a converter off the network here; run: $0 install (and allow user namespaces)"
  fi
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
