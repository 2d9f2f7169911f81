#!/usr/bin/env bash
# All servers the test suite needs, as one command.
#   infra/test-servers.sh start|stop|status|env
#   eval "$(infra/test-servers.sh env)"   # exports LB_TEST_<NAME>_URL
# Each server is infra/<name>.sh with start|stop|status|url subcommands; to
# add one, write that script and list it here.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# name:ENV_VAR pairs, started in this order and stopped in reverse.
SERVERS=(
  "postgres:LB_TEST_POSTGRES_URL"
  "redis:LB_TEST_REDIS_URL"
  "minio:LB_TEST_S3_URL"
  "elasticsearch:LB_TEST_ES_URL"
)

usage() { echo "usage: $0 {start|stop|status|env}" >&2; exit 2; }

server_script() { echo "$LB_INFRA_SCRIPTS_DIR/$1.sh"; }

cmd_start() {
  local entry
  for entry in "${SERVERS[@]}"; do
    "$(server_script "${entry%%:*}")" start
  done
}

cmd_stop() {
  local i entry
  for (( i = ${#SERVERS[@]} - 1; i >= 0; i-- )); do
    entry="${SERVERS[$i]}"
    "$(server_script "${entry%%:*}")" stop
  done
}

# Exit 0 only if every server is running; reports on all of them.
cmd_status() {
  local entry rc=0
  for entry in "${SERVERS[@]}"; do
    "$(server_script "${entry%%:*}")" status || rc=$?
  done
  return "$rc"
}

# Only export lines on stdout, so callers can eval it.
cmd_env() {
  local entry url
  for entry in "${SERVERS[@]}"; do
    url="$("$(server_script "${entry%%:*}")" url)"
    printf 'export %s=%q\n' "${entry#*:}" "$url"
  done
}

[ "$#" -eq 1 ] || usage
case "$1" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) usage ;;
esac
