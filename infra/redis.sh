#!/usr/bin/env bash
# Redis for tests and development, bound to 127.0.0.1 only, no persistence.
#   infra/redis.sh install|start|stop|status|url
# Env: LB_INFRA_DIR (state, default <repo>/.infra), LB_REDIS_PORT (default 56379).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_PORT="${LB_REDIS_PORT:-56379}"
REDIS_HOST=127.0.0.1
STATE_DIR="$LB_INFRA_DIR/redis"
PID_FILE="$STATE_DIR/redis.pid"
LOG_FILE="$STATE_DIR/redis.log"

usage() { echo "usage: $0 {install|start|stop|status|url}" >&2; exit 2; }

cmd_install() {
  if have_cmd redis-server && have_cmd redis-cli; then
    log "redis already installed ($(command -v redis-server))"
    return 0
  fi
  # redis-server depends on redis-tools (redis-cli). apt_install's
  # policy-rc.d stops the package from trying to start a systemd service.
  apt_install redis-server
}

ping() {
  [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

# Ours = the pid in our pidfile is a live redis-server (a stale pidfile's
# pid may have been reused by another program). Another server on the port
# is not ours.
is_running() {
  pid_alive "$PID_FILE" \
    && [ "$(cat "/proc/$(head -n1 "$PID_FILE")/comm" 2>/dev/null)" = redis-server ]
}

cmd_start() {
  local deadline
  cmd_install
  if is_running; then
    log "already running on $REDIS_HOST:$REDIS_PORT (pid $(head -n1 "$PID_FILE"))"
    return 0
  fi
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    die "port $REDIS_PORT is already in use by another process; set LB_REDIS_PORT"
  fi
  ensure_infra_dir
  make_dir "$STATE_DIR"
  rm -f "$PID_FILE"
  log "starting on $REDIS_HOST:$REDIS_PORT (log: $LOG_FILE)"
  # --save "" / --appendonly no: test data never needs to survive a restart.
  redis-server \
    --bind "$REDIS_HOST" \
    --port "$REDIS_PORT" \
    --daemonize yes \
    --dir "$STATE_DIR" \
    --save "" \
    --appendonly no \
    --pidfile "$PID_FILE" \
    --logfile "$LOG_FILE" \
    || die "redis-server failed to start; see $LOG_FILE"
  deadline=$(( $(date +%s) + 15 ))
  until ping; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$LOG_FILE" >&2 || true
      die "redis did not answer PING within 15s"
    fi
    sleep 0.1
  done
  log "ready: $(cmd_url)"
}

cmd_stop() {
  local pid
  if ! is_running; then
    log "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  pid="$(head -n1 "$PID_FILE")"
  log "stopping (pid $pid)"
  # SHUTDOWN NOSAVE: nothing to persist. Fall back to SIGTERM on our pid.
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 \
    || kill "$pid" 2>/dev/null || true
  wait_for_exit "$pid" 10 redis
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  if is_running && ping; then
    log "running on $REDIS_HOST:$REDIS_PORT (pid $(head -n1 "$PID_FILE"), dir: $STATE_DIR)"
    return 0
  fi
  log "not running (dir: $STATE_DIR)"
  return 3
}

cmd_url() {
  echo "redis://$REDIS_HOST:$REDIS_PORT/0"
}

run_server_command "$@"
