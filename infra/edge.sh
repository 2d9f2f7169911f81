#!/usr/bin/env bash
# The school edge cache: nginx from Debian, run as a PRIVATE process (its own prefix, config,
# cache and pid under $LB_INFRA_DIR/edge), never the system service. The configuration is
# infra/edge/edge.conf.template, the same file the compose `edge` service mounts.
#   infra/edge.sh install|start|stop|status|url|nginx|packs
#   (packs: prints the directory to `lb pack import --into DIR --warm` so lessons play from here)
# Env:
#   LB_EDGE_UPSTREAM    the central API as the edge reaches it (default http://127.0.0.1:8000)
#   LB_EDGE_PORT        where classrooms reach the edge (default 58080, on LB_EDGE_HOST)
#   LB_EDGE_HOST        address to listen on (default 127.0.0.1; 0.0.0.0 on a school box)
#   LB_EDGE_CACHE_DIR   segment and check caches (default $LB_INFRA_DIR/edge/cache)
#   LB_EDGE_CACHE_SIZE  most the segment cache may hold on disk (default 20g)
#   LB_EDGE_PACK_DIR    where packs are imported; lessons in its hls/ play without the link
#                       (default $LB_INFRA_DIR/edge/packs)
#   LB_EDGE_RESOLVER    DNS for storage hosts named in redirects (default: first of /etc/resolv.conf)
#   LB_EDGE_USER        started as root, the workers run as this user (default www-data); it must
#                       be able to reach the state and cache directories
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EDGE_HOST="${LB_EDGE_HOST:-127.0.0.1}"
EDGE_PORT="${LB_EDGE_PORT:-58080}"
STATE_DIR="$LB_INFRA_DIR/edge"
CACHE_DIR="${LB_EDGE_CACHE_DIR:-$STATE_DIR/cache}"
PACK_DIR="${LB_EDGE_PACK_DIR:-$STATE_DIR/packs}"
PID_FILE="$STATE_DIR/nginx.pid"
CONF_FILE="$STATE_DIR/nginx.conf"
TEMPLATE="$LB_INFRA_SCRIPTS_DIR/edge/edge.conf.template"

usage() { echo "usage: $0 {install|start|stop|status|url|nginx|packs}" >&2; exit 2; }

# The Debian binary; /usr/sbin is not on every user's PATH.
nginx_bin() {
  if have_cmd nginx; then command -v nginx; elif [ -x /usr/sbin/nginx ]; then echo /usr/sbin/nginx; else return 1; fi
}

cmd_install() {
  if nginx_bin >/dev/null; then
    log "nginx already installed ($(nginx_bin))"
    return 0
  fi
  # nginx (core flavour) has proxy_cache and auth_request; apt_install's policy-rc.d keeps the
  # package from starting the system service, which this project never uses.
  apt_install nginx
}

cmd_nginx() { nginx_bin || die "nginx not found; run: $0 install"; }

resolver() {
  if [ -n "${LB_EDGE_RESOLVER:-}" ]; then echo "$LB_EDGE_RESOLVER"; return; fi
  awk '$1 == "nameserver" { ns = $2; if (ns ~ /:/) ns = "[" ns "]"; print ns; exit }' /etc/resolv.conf 2>/dev/null \
    | grep . || echo 127.0.0.1
}

# Started as root, nginx would run its workers as nobody; name the user, and give it the cache.
worker_user() {
  if is_root; then echo "${LB_EDGE_USER:-www-data}"; fi
}

# host:port of an http(s) URL, the port from the scheme when it names none.
upstream_server() {
  local rest="${1#*://}" port=80
  rest="${rest%%/*}"
  case "$1" in https://*) port=443 ;; esac
  case "$rest" in *:*) echo "$rest" ;; *) echo "$rest:$port" ;; esac
}

# Writes $CONF_FILE: a main context of our own around the shared http-level template.
render() {
  local upstream="${LB_EDGE_UPSTREAM:-http://127.0.0.1:8000}" user
  user="$(worker_user)"
  make_dir "$STATE_DIR/logs" "$STATE_DIR/temp" "$CACHE_DIR" "$PACK_DIR/hls"
  if [ -n "$user" ]; then
    chown -R "$user" "$STATE_DIR/temp" "$CACHE_DIR"
  fi
  sed -e "s|\${LB_EDGE_UPSTREAM}|${upstream%/}|g" \
      -e "s|\${LB_EDGE_UPSTREAM_SERVER}|$(upstream_server "$upstream")|g" \
      -e "s|\${LB_EDGE_LISTEN}|$EDGE_HOST:$EDGE_PORT|g" \
      -e "s|\${LB_EDGE_CACHE_DIR}|$CACHE_DIR|g" \
      -e "s|\${LB_EDGE_CACHE_SIZE}|${LB_EDGE_CACHE_SIZE:-20g}|g" \
      -e "s|\${LB_EDGE_RESOLVER}|$(resolver)|g" \
      -e "s|\${LB_EDGE_LOG_DIR}|$STATE_DIR/logs|g" \
      -e "s|\${LB_EDGE_WARM_ROOT}|$PACK_DIR/hls|g" \
      "$TEMPLATE" >"$STATE_DIR/edge.conf"
  if grep -q '\${LB_EDGE_' "$STATE_DIR/edge.conf"; then
    die "unrendered placeholder in $STATE_DIR/edge.conf"
  fi
  cat >"$CONF_FILE" <<CONF
# Written by infra/edge.sh from infra/edge/edge.conf.template; edits here are lost on start.
daemon on;
${user:+user $user;}
pid $PID_FILE;
error_log $STATE_DIR/logs/error.log warn;
worker_processes 1;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path $STATE_DIR/temp/body;
    proxy_temp_path $STATE_DIR/temp/proxy;
    fastcgi_temp_path $STATE_DIR/temp/fastcgi;
    uwsgi_temp_path $STATE_DIR/temp/uwsgi;
    scgi_temp_path $STATE_DIR/temp/scgi;
    sendfile on;
    tcp_nopush on;
    include $STATE_DIR/edge.conf;
}
CONF
}

is_running() {
  pid_alive "$PID_FILE" && [ "$(cat "/proc/$(head -n1 "$PID_FILE")/comm" 2>/dev/null)" = nginx ]
}

run_nginx() { "$(cmd_nginx)" -p "$STATE_DIR" -c "$CONF_FILE" -e "$STATE_DIR/logs/error.log" "$@"; }

cmd_start() {
  cmd_install
  if is_running; then
    log "already running on $EDGE_HOST:$EDGE_PORT (pid $(head -n1 "$PID_FILE"))"
    return 0
  fi
  if port_open "$EDGE_HOST" "$EDGE_PORT"; then
    die "port $EDGE_PORT is already in use by another process; set LB_EDGE_PORT"
  fi
  ensure_infra_dir
  render
  run_nginx -t -q || die "nginx refused $CONF_FILE"
  log "starting on $EDGE_HOST:$EDGE_PORT, upstream ${LB_EDGE_UPSTREAM:-http://127.0.0.1:8000} (logs: $STATE_DIR/logs)"
  run_nginx || die "nginx failed to start; see $STATE_DIR/logs/error.log"
  wait_for_port "$EDGE_HOST" "$EDGE_PORT" 15 || die "the edge did not listen within 15s"
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
  kill -QUIT "$pid"
  wait_for_exit "$pid" 15 nginx
  rm -f "$PID_FILE"
}

cmd_status() {
  if is_running; then
    log "running on $EDGE_HOST:$EDGE_PORT (pid $(head -n1 "$PID_FILE"))"
  else
    log "not running"
    return 1
  fi
}

cmd_url() { echo "http://$EDGE_HOST:$EDGE_PORT"; }

cmd_packs() { echo "$PACK_DIR"; }

[ "$#" -eq 1 ] || usage
case "$1" in
  install | start | stop | status | url | nginx | packs) "cmd_$1" ;;
  *) usage ;;
esac
