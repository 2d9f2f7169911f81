#!/usr/bin/env bash
# pg_dump and pg_restore, which `lb backup` runs for a PostgreSQL database.
#   infra/pg-client.sh install|check
# Debian keeps each major version's client in /usr/lib/postgresql/<major>/bin (the server's
# package brings it too); `lb backup` takes the newest there, else what PATH has.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 {install|check}" >&2; exit 2; }

# The newest pg_dump, or empty.
find_pg_dump() {
  local newest
  newest="$(printf '%s\n' /usr/lib/postgresql/*/bin/pg_dump | sort -V | tail -n1)"
  if [ -x "$newest" ]; then
    echo "$newest"
  elif have_cmd pg_dump; then
    command -v pg_dump
  fi
}

cmd_install() {
  if [ -n "$(find_pg_dump)" ]; then
    log "PostgreSQL client already installed ($(find_pg_dump))"
    return 0
  fi
  apt_install postgresql-client
  [ -n "$(find_pg_dump)" ] || die "postgresql-client installed but no pg_dump found"
}

cmd_check() {
  local pg_dump
  pg_dump="$(find_pg_dump)"
  [ -n "$pg_dump" ] || die "pg_dump not found; run: $0 install"
  "$pg_dump" --version
  "$(dirname "$pg_dump")/pg_restore" --version
}

[ "$#" -eq 1 ] || usage
case "$1" in
  install) cmd_install ;;
  check) cmd_check ;;
  *) usage ;;
esac
