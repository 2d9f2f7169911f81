# shellcheck shell=bash
# Shared helpers for the infra/*.sh scripts. Source it, don't run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets:
#   LB_REPO_DIR   the repo root (parent of infra/)
#   LB_INFRA_DIR  where server state lives (default: $LB_REPO_DIR/.infra)
#   LB_LOG_PREFIX prefix for log lines (default: infra/<script name>)

LB_INFRA_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LB_REPO_DIR="$(cd "$LB_INFRA_SCRIPTS_DIR/.." && pwd)"
LB_INFRA_DIR="${LB_INFRA_DIR:-$LB_REPO_DIR/.infra}"
# Servers are started from / (see postgres.sh), so the path must be absolute.
case "$LB_INFRA_DIR" in
  /*) ;;
  *) LB_INFRA_DIR="$PWD/$LB_INFRA_DIR" ;;
esac
# Child scripts (test-servers.sh -> postgres.sh) must agree on the state dir.
export LB_INFRA_DIR
LB_LOG_PREFIX="${LB_LOG_PREFIX:-infra/$(basename "$0" .sh)}"

# Marker written into a policy-rc.d we create, so a copy left behind by an
# interrupted run is recognised as ours and removed next time.
LB_POLICY_RC_MARKER="# lessonbridge-infra: temporary, block service starts during apt"

# Logs go to stderr so that `url`/`env` output on stdout stays clean.
log() { printf '[%s] %s\n' "$LB_LOG_PREFIX" "$*" >&2; }
die() { log "error: $*"; exit 1; }

have_cmd() { command -v "$1" >/dev/null 2>&1; }

need_cmd() {
  have_cmd "$1" || die "required command not found: $1"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly when root (CI), through sudo otherwise.
as_root() {
  if is_root; then
    "$@"
  elif have_cmd sudo; then
    sudo -- "$@"
  else
    die "need root or sudo to run: $*"
  fi
}

# apt-get update once per script run; exported so child scripts skip it too.
_lb_apt_update_once() {
  if [ "${LB_APT_UPDATED:-0}" = 1 ]; then
    return 0
  fi
  log "apt-get update"
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get -q -o DPkg::Lock::Timeout=300 update || return 1
  export LB_APT_UPDATED=1
}

# apt_install pkg... : install Debian packages non-interactively.
# There is no systemd/init here, so package maintainer scripts that try to
# start their service (redis-server, postgresql) would fail the install.
# A policy-rc.d that exits 101 tells invoke-rc.d "don't start services".
apt_install() {
  [ "$#" -gt 0 ] || return 0
  need_cmd apt-get
  local policy=/usr/sbin/policy-rc.d created_policy=0 rc=0
  if [ ! -e "$policy" ] || grep -qF "$LB_POLICY_RC_MARKER" "$policy" 2>/dev/null; then
    printf '#!/bin/sh\n%s\nexit 101\n' "$LB_POLICY_RC_MARKER" \
      | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created_policy=1
  fi
  log "apt-get install $*"
  # Lock timeout: another engineer's apt run on the same machine waits
  # instead of failing. confold: never prompt about config files.
  {
    _lb_apt_update_once &&
      as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=300 \
        -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold \
        "$@"
  } >&2 || rc=$?
  if [ "$created_policy" = 1 ]; then
    as_root rm -f "$policy"
  fi
  [ "$rc" -eq 0 ] || die "apt-get install $* failed (exit $rc)"
}

# port_open host port : true if something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port host port timeout_s : wait until the port accepts connections.
wait_for_port() {
  local host="$1" port="$2" timeout_s="$3"
  local deadline=$(( $(date +%s) + timeout_s ))
  until port_open "$host" "$port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after ${timeout_s}s waiting for $host:$port"
      return 1
    fi
    sleep 0.2
  done
}

# mkdir -p with world-traversable modes regardless of the caller's umask
# (server users such as postgres must be able to walk into these dirs).
make_dir() {
  (umask 022 && mkdir -p "$@")
}

# Create LB_INFRA_DIR. It holds databases and logs, never source: a
# .gitignore of "*" keeps it out of git wherever it is (as .venv does).
ensure_infra_dir() {
  make_dir "$LB_INFRA_DIR"
  if [ ! -e "$LB_INFRA_DIR/.gitignore" ]; then
    echo '*' >"$LB_INFRA_DIR/.gitignore"
  fi
}

# pid_alive pidfile : true if the pidfile names a running process.
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(head -n1 "$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# wait_for_exit PID SECONDS NAME: waits for a signalled process to go; dies if it outlives SECONDS.
wait_for_exit() {
  local pid="$1" seconds="$2" name="$3" _
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  die "$name (pid $pid) did not stop within ${seconds}s"
}

# run_server_command "$@": the one command line of every server script,
# `install|start|stop|status|url`, run as the script's cmd_<name> function.
run_server_command() {
  [ "$#" -eq 1 ] || usage
  case "$1" in
    install | start | stop | status | url) "cmd_$1" ;;
    *) usage ;;
  esac
}
