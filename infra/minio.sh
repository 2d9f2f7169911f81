#!/usr/bin/env bash
# MinIO (a real S3 server: checks SigV4 signatures and presigned-URL expiry)
# for tests and development, bound to loopback only.
#   infra/minio.sh install|start|stop|status|url
# Env: LB_INFRA_DIR (state, default <repo>/.infra), LB_MINIO_PORT (default 59000),
#      LB_MINIO_ROOT_USER / LB_MINIO_ROOT_PASSWORD (default: the test-only pair below),
#      LB_CACHE_DIR (machine-wide build cache, default /var/cache/lessonbridge).
# There is no MinIO Debian package and no Docker here, so MinIO is built from
# source with the machine's Go toolchain (`go install`, as upstream's README
# says). A cold build downloads ~1.2 GB of modules and needs ~8 CPU-minutes:
# 11-17 min measured on a busy 2-core machine, less when idle. The binary and
# Go caches are kept in LB_CACHE_DIR so fresh clones on the same machine reuse
# them (then install is a copy, start takes ~1 s).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned. github.com/minio/minio has no semver tags (releases are tagged
# RELEASE.<date>), so the Go module version is a pseudo-version. This is the
# repository's last commit (2026-02-12; upstream archived it afterwards), and
# the only version the module proxy serves. Bumping: change it here; the new
# binary gets a new name, so old caches are simply not used.
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

MINIO_PORT="${LB_MINIO_PORT:-59000}"
MINIO_HOST=127.0.0.1
# TEST-ONLY credentials: the server listens on loopback and holds test data.
# Never reuse them for a server anything else can reach.
MINIO_USER="${LB_MINIO_ROOT_USER:-lessonbridge}"
MINIO_PASSWORD="${LB_MINIO_ROOT_PASSWORD:-lessonbridge-test-secret}"

STATE_DIR="$LB_INFRA_DIR/minio"
# Four drives, one erasure set with MinIO's default parity (EC:2), as production runs it
# (docker-compose.yml): single-drive mode is for evaluation only, and it differs where it matters
# here. It keeps no parity and writes through the page cache (O_DIRECT is off for a single drive),
# which cost ~6 CPU-s per GiB against ~3.8 for four drives (measured, docs/benchmarks.md).
# Here the four drives are directories on one disk, so each byte is written twice.
DATA_DIR="$STATE_DIR/drives"
DRIVES="$DATA_DIR/{1...4}"  # MinIO's own ellipsis syntax, expanded by MinIO, not the shell
PID_FILE="$STATE_DIR/minio.pid"
LOG_FILE="$STATE_DIR/minio.log"
BUILD_LOG="$STATE_DIR/build.log"
MINIO_BIN="$LB_INFRA_DIR/bin/minio-$MINIO_VERSION"

usage() { echo "usage: $0 {install|start|stop|status|url}" >&2; exit 2; }

# Outside the repo on purpose: CI uses a fresh clone per run, and a rebuild
# costs minutes. Non-root users without /var/cache access get ~/.cache.
cache_dir() {
  local dir=/var/cache/lessonbridge
  if [ -n "${LB_CACHE_DIR:-}" ]; then
    echo "$LB_CACHE_DIR"
  elif is_root || [ -w "$dir" ] || [ -w /var/cache ]; then
    echo "$dir"
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/lessonbridge"
  fi
}

find_go() {
  if have_cmd go; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

# Build MINIO_VERSION into "$1" (the machine-wide cached binary).
build_minio() {
  local out="$1" cache go ts commit stamp gobin ldflags
  cache="$(dirname "$(dirname "$out")")"
  go="$(find_go)" || die "Go not found (need go >= 1.24 on PATH or in /usr/local/go) to build MinIO"
  # The version stamp `make` would set from git; without it `minio --version`
  # says DEVELOPMENT.GOGET. Parsed from the pseudo-version:
  # v0.0.0-<yyyymmddhhmmss>-<commit12>.
  ts="${MINIO_VERSION#v0.0.0-}"; ts="${ts%%-*}"
  commit="${MINIO_VERSION##*-}"
  stamp="${ts:0:4}-${ts:4:2}-${ts:6:2}T${ts:8:2}:${ts:10:2}:${ts:12:2}Z"
  ldflags="-s -w"
  ldflags+=" -X $MINIO_MODULE/cmd.Version=$stamp"
  ldflags+=" -X $MINIO_MODULE/cmd.ReleaseTag=DEVELOPMENT.${stamp//:/-}"
  ldflags+=" -X $MINIO_MODULE/cmd.CommitID=$commit"
  ldflags+=" -X $MINIO_MODULE/cmd.ShortCommitID=$commit"
  ldflags+=" -X $MINIO_MODULE/cmd.CopyrightYear=${ts:0:4}"
  make_dir "$STATE_DIR"
  gobin="$(mktemp -d "$cache/bin/.build.XXXXXX")"
  log "building MinIO $MINIO_VERSION with $("$go" env GOVERSION) (a cold build takes 10+ min; log: $BUILD_LOG)"
  # Own GOPATH/GOMODCACHE/GOCACHE in the machine-wide cache, so the ~1.2 GB of
  # modules and ~1 GB of compiled packages are fetched and built once per
  # machine. -modcacherw: the module cache stays deletable with rm -rf.
  # CGO_ENABLED=0: a static binary, as upstream releases it.
  if ! (cd / && env \
      GOPATH="$cache/go" \
      GOMODCACHE="$cache/go/pkg/mod" \
      GOCACHE="$cache/go/build-cache" \
      GOBIN="$gobin" \
      CGO_ENABLED=0 \
      "$go" install -modcacherw -trimpath -ldflags "$ldflags" \
      "$MINIO_MODULE@$MINIO_VERSION") >"$BUILD_LOG" 2>&1; then
    rm -rf "$gobin"
    grep -v '^go: downloading ' "$BUILD_LOG" | tail -n 20 >&2 || true
    die "building MinIO failed; full log: $BUILD_LOG"
  fi
  # Rename within one directory: other jobs never see a half-written binary.
  mv -f "$gobin/minio" "$out"
  rm -rf "$gobin"
  log "built $out"
}

cmd_install() {
  local cache cached tmp
  if [ -x "$MINIO_BIN" ]; then
    log "minio already installed ($MINIO_BIN)"
    return 0
  fi
  cache="$(cache_dir)"
  cached="$cache/bin/minio-$MINIO_VERSION"
  make_dir "$cache/bin"
  [ -w "$cache/bin" ] || die "build cache $cache/bin is not writable; set LB_CACHE_DIR"
  # One build per machine: a second job (another checkout, parallel CI) waits
  # here for the first instead of building the same thing again.
  exec 9>"$cache/minio-build.lock"
  if ! flock -n 9; then
    log "another process is building MinIO; waiting for it ($cache/minio-build.lock)"
    flock 9
  fi
  if [ -x "$cached" ]; then
    log "using cached build $cached"
  else
    build_minio "$cached"
  fi
  exec 9>&-
  ensure_infra_dir
  make_dir "$(dirname "$MINIO_BIN")"
  # A hard link costs no space; across filesystems fall back to a copy.
  tmp="$MINIO_BIN.tmp.$$"
  ln -f "$cached" "$tmp" 2>/dev/null || cp -f "$cached" "$tmp"
  mv -f "$tmp" "$MINIO_BIN"
  log "installed $MINIO_BIN"
}

# The credentials go into the URL's userinfo unencoded (tests read them with
# urlparse, which does not percent-decode), so allow only characters that need
# no encoding. MinIO itself wants user >= 3 and password >= 8 characters.
check_credentials() {
  local re='^[A-Za-z0-9._~-]+$'
  if ! [[ "$MINIO_USER" =~ $re && "$MINIO_PASSWORD" =~ $re ]]; then
    die "LB_MINIO_ROOT_USER/LB_MINIO_ROOT_PASSWORD may only contain A-Z a-z 0-9 . _ ~ -"
  fi
  [ "${#MINIO_USER}" -ge 3 ] || die "LB_MINIO_ROOT_USER must be at least 3 characters"
  [ "${#MINIO_PASSWORD}" -ge 8 ] || die "LB_MINIO_ROOT_PASSWORD must be at least 8 characters"
}

# HTTP status of GET /minio/health/cluster (200 once the erasure set has write quorum: ready
# for uploads, not just up), with bash's /dev/tcp (no curl needed).
health_status() {
  local line
  {
    exec 3<>"/dev/tcp/$MINIO_HOST/$MINIO_PORT" || return 1
    printf 'GET /minio/health/cluster HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$MINIO_HOST" "$MINIO_PORT" >&3
    IFS= read -r -t 2 line <&3 || return 1
    exec 3>&-
  } 2>/dev/null
  line="${line%$'\r'}"
  echo "${line#* }" | cut -d' ' -f1
}

ready() { [ "$(health_status || true)" = 200 ]; }

# Ours = the pid in our pidfile is a live minio (a stale pidfile's pid may
# have been reused by another program). Another server on the port is not ours.
is_running() {
  local comm
  pid_alive "$PID_FILE" || return 1
  comm="$(cat "/proc/$(head -n1 "$PID_FILE")/comm" 2>/dev/null || true)"
  [ "${comm#minio}" != "$comm" ]
}

cmd_start() {
  local deadline pid
  check_credentials
  cmd_install
  if is_running; then
    log "already running on $MINIO_HOST:$MINIO_PORT (pid $(head -n1 "$PID_FILE"))"
    return 0
  fi
  if port_open "$MINIO_HOST" "$MINIO_PORT"; then
    die "port $MINIO_PORT is already in use by another process; set LB_MINIO_PORT"
  fi
  ensure_infra_dir
  make_dir "$DATA_DIR"/1 "$DATA_DIR"/2 "$DATA_DIR"/3 "$DATA_DIR"/4
  rm -f "$PID_FILE"
  log "starting on $MINIO_HOST:$MINIO_PORT (data: $DATA_DIR, log: $LOG_FILE)"
  # MINIO_BROWSER=off: no web console, so no second port to bind.
  # MINIO_UPDATE=off: no update checks against dl.min.io.
  # HOME and --certs-dir: MinIO creates ~/.minio; keep it in our state dir.
  # MINIO_CI_CD=on: lets the drives sit on the root disk (MinIO refuses that for an erasure set
  # otherwise, since a real set has a disk per drive); it also caps MinIO's buffer pool at 256 MiB.
  # setsid: the server outlives this script and the caller's terminal.
  (cd / && exec env \
    HOME="$STATE_DIR" \
    MINIO_ROOT_USER="$MINIO_USER" \
    MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" \
    MINIO_BROWSER=off \
    MINIO_UPDATE=off \
    MINIO_CI_CD=on \
    setsid "$MINIO_BIN" server \
      --address "$MINIO_HOST:$MINIO_PORT" \
      --certs-dir "$STATE_DIR/certs" \
      "$DRIVES" \
      </dev/null >>"$LOG_FILE" 2>&1) &
  pid=$!
  echo "$pid" >"$PID_FILE"
  deadline=$(( $(date +%s) + 60 ))
  until ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      die "minio exited during startup; see $LOG_FILE"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 20 "$LOG_FILE" >&2 || true
      die "minio did not answer /minio/health/cluster within 60s (pid $pid still running)"
    fi
    sleep 0.2
  done
  log "ready: http://$MINIO_HOST:$MINIO_PORT (user $MINIO_USER)"
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
  kill "$pid" 2>/dev/null || true
  wait_for_exit "$pid" 15 minio
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  if is_running && ready; then
    log "running on $MINIO_HOST:$MINIO_PORT (pid $(head -n1 "$PID_FILE"), data: $DATA_DIR)"
    return 0
  fi
  log "not running (data: $DATA_DIR)"
  return 3
}

# One line carrying everything: endpoint and credentials in the userinfo.
cmd_url() {
  check_credentials
  echo "http://$MINIO_USER:$MINIO_PASSWORD@$MINIO_HOST:$MINIO_PORT"
}

run_server_command "$@"
