#!/usr/bin/env bash
# PostgreSQL for tests and development, bound to 127.0.0.1 only.
#   infra/postgres.sh install|start|stop|status|url
# Env: LB_INFRA_DIR (state, default <repo>/.infra), LB_PG_PORT (default 55432).
# No systemd/pg_ctlcluster: the server is run with initdb/pg_ctl directly,
# so it works in containers and CI.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${LB_PG_PORT:-55432}"
PG_HOST=127.0.0.1
PG_DATABASES=(lessonbridge lessonbridge_test)
# PostgreSQL refuses to run as root, so root runs it as this system user.
PG_SYSTEM_USER=postgres

usage() { echo "usage: $0 {install|start|stop|status|url}" >&2; exit 2; }

# The highest installed major version, or empty.
find_bindir() {
  local pg_ctl
  # An unmatched glob stays literal and fails the -x test.
  pg_ctl="$(printf '%s\n' /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n1)"
  [ -x "$pg_ctl" ] && dirname "$pg_ctl"
}

cmd_install() {
  if [ -n "$(find_bindir)" ]; then
    log "postgresql already installed ($(find_bindir))"
  else
    apt_install postgresql
    [ -n "$(find_bindir)" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/pg_ctl"
  fi
  if is_root && ! id -u "$PG_SYSTEM_USER" >/dev/null 2>&1; then
    log "creating system user $PG_SYSTEM_USER"
    # --user-group fails if the group survived a removed user; reuse it then.
    if getent group "$PG_SYSTEM_USER" >/dev/null; then
      useradd --system --gid "$PG_SYSTEM_USER" --home-dir /var/lib/postgresql \
        --shell /bin/bash "$PG_SYSTEM_USER"
    else
      useradd --system --user-group --home-dir /var/lib/postgresql \
        --shell /bin/bash "$PG_SYSTEM_USER"
    fi
  fi
}

# Where the cluster lives. Normally $LB_INFRA_DIR/postgres. When root, the
# server runs as `postgres`, which must be able to walk down to its data dir;
# if LB_INFRA_DIR is not traversable by it (e.g. under /root, mode 700) we
# use a per-checkout dir under /var/tmp instead of loosening /root's mode.
state_dir() {
  local fallback
  ensure_infra_dir
  if is_root && id -u "$PG_SYSTEM_USER" >/dev/null 2>&1; then
    if ! runuser -u "$PG_SYSTEM_USER" -- test -x "$LB_INFRA_DIR" 2>/dev/null; then
      fallback="/var/tmp/lessonbridge-infra/$(printf '%s' "$LB_INFRA_DIR" | sha256sum | cut -c1-12)/postgres"
      echo "$fallback"
      return 0
    fi
  fi
  echo "$LB_INFRA_DIR/postgres"
}

# Paths and binaries; resolved after install (the postgres user may be new).
init_paths() {
  STATE_DIR="$(state_dir)"
  DATA_DIR="$STATE_DIR/data"
  SOCKET_DIR="$STATE_DIR/run"
  LOG_FILE="$STATE_DIR/postgres.log"
  # Binaries matching an existing cluster's version, else the newest.
  if [ -f "$DATA_DIR/PG_VERSION" ]; then
    PG_BIN="/usr/lib/postgresql/$(cat "$DATA_DIR/PG_VERSION")/bin"
  else
    PG_BIN="$(find_bindir || true)"
  fi
}

require_bin() {
  [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL binaries not found at '$PG_BIN' (data: $DATA_DIR); run: $0 install"
}

# Run a server-side command (initdb, pg_ctl) as the user owning the cluster.
# cd / so the postgres user doesn't trip over an unreadable cwd (/root).
run_pg() {
  if is_root; then
    (cd / && runuser -u "$PG_SYSTEM_USER" -- "$@")
  else
    "$@"
  fi
}

is_running() {
  [ -f "$DATA_DIR/PG_VERSION" ] && [ -x "$PG_BIN/pg_ctl" ] || return 1
  run_pg "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" \
    -U postgres -d postgres "$@"
}

init_cluster() {
  local locale=C.UTF-8
  if [ -f "$DATA_DIR/PG_VERSION" ]; then
    return 0
  fi
  make_dir "$STATE_DIR"
  if [ "$STATE_DIR" != "$LB_INFRA_DIR/postgres" ]; then
    log "note: $LB_INFRA_DIR is not traversable by user $PG_SYSTEM_USER; postgres state is in $STATE_DIR"
  fi
  # A data dir without PG_VERSION is the remains of a failed initdb.
  if [ -e "$DATA_DIR" ]; then
    log "removing incomplete cluster dir $DATA_DIR"
    rm -rf "$DATA_DIR"
  fi
  if is_root; then
    chown -R "$PG_SYSTEM_USER:" "$STATE_DIR"
  fi
  if ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    log "locale C.UTF-8 not available, using C"
    locale=C
  fi
  log "initdb $DATA_DIR (locale $locale)"
  run_pg "$PG_BIN/initdb" -D "$DATA_DIR" --auth=trust --username=postgres \
    --encoding=UTF8 --locale="$locale" >"$STATE_DIR/initdb.log" 2>&1 \
    || { cat "$STATE_DIR/initdb.log" >&2; die "initdb failed"; }
  # Our settings live in their own file, rewritten on every start.
  echo "include_if_exists = 'lessonbridge.conf'" >>"$DATA_DIR/postgresql.conf"
}

write_config() {
  local socket_dir="$SOCKET_DIR"
  make_dir "$SOCKET_DIR"
  # Unix socket paths are limited to ~107 bytes; with a deep LB_INFRA_DIR
  # disable the socket rather than fail. Everything here uses TCP anyway.
  if [ "${#SOCKET_DIR}" -gt 90 ]; then
    log "state dir path too long for a unix socket; TCP only"
    socket_dir=""
  fi
  cat >"$DATA_DIR/lessonbridge.conf" <<EOF
# Written by infra/postgres.sh on every start; edits here are overwritten.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$socket_dir'
max_connections = 200
# FOR TESTS ONLY: trade crash safety for speed. A crash can corrupt this
# cluster; never copy these settings to a real deployment.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  if is_root; then
    chown "$PG_SYSTEM_USER:" "$DATA_DIR/lessonbridge.conf" "$SOCKET_DIR"
  fi
}

ensure_databases() {
  local db
  for db in "${PG_DATABASES[@]}"; do
    if [ -z "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      log "creating database $db"
      psql_admin -c "CREATE DATABASE \"$db\" OWNER postgres"
    fi
  done
}

cmd_start() {
  cmd_install
  init_paths
  require_bin
  if is_running; then
    log "already running on $PG_HOST:$PG_PORT (data: $DATA_DIR)"
    ensure_databases
    return 0
  fi
  if port_open "$PG_HOST" "$PG_PORT"; then
    die "port $PG_PORT is already in use by another process; set LB_PG_PORT"
  fi
  init_cluster
  write_config
  log "starting on $PG_HOST:$PG_PORT (log: $LOG_FILE)"
  run_pg "$PG_BIN/pg_ctl" start -w -t 60 -D "$DATA_DIR" -l "$LOG_FILE" >/dev/null \
    || { tail -n 20 "$LOG_FILE" >&2 || true; die "pg_ctl start failed"; }
  ensure_databases
  log "ready: $(cmd_url)"
}

cmd_stop() {
  init_paths
  if ! is_running; then
    log "not running"
    return 0
  fi
  log "stopping"
  run_pg "$PG_BIN/pg_ctl" stop -w -t 60 -m fast -D "$DATA_DIR" >/dev/null
  log "stopped"
}

cmd_status() {
  init_paths
  if is_running; then
    log "running on $PG_HOST:$PG_PORT (data: $DATA_DIR)"
    return 0
  fi
  log "not running (data: $DATA_DIR)"
  return 3
}

cmd_url() {
  echo "postgresql+psycopg://postgres@$PG_HOST:$PG_PORT/lessonbridge_test"
}

run_server_command "$@"
