#!/usr/bin/env bash
# Elasticsearch for tests and development, single node, bound to 127.0.0.1 only.
#   infra/elasticsearch.sh install|start|stop|status|url
# Env: LB_INFRA_DIR (state, default <repo>/.infra), LB_ES_PORT (HTTP, default 59200),
#      LB_ES_TRANSPORT_PORT (default 59300), LB_ES_HEAP (default 512m),
#      LB_ES_JAVA_HOME (default: the JDK of `java` on PATH, must be 17+),
#      LB_ES_CACHE_DIR (unpacked distribution; default /var/cache/lessonbridge),
#      LB_ES_START_TIMEOUT (seconds, default 120).
# No Docker and no artifacts.elastic.co here: the distribution is the
# integ-test-zip that Elastic publishes to Maven Central. It has no bundled JDK
# and only the modules apm, transport-netty4, x-pack-core, x-pack-security:
# no analysis-common (the `whitespace` analyzer works, the tokenizer doesn't),
# painless, mapper-extras, ingest-*, rest-root (GET / and HEAD / answer 405,
# so client.info()/ping() fail; use _cluster/health), nor analysis-icu/smartcn.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned. Newest 8.x on Maven Central; 9.x needs Java 21 and the machines have
# 17. The Python client's major version must match: elasticsearch>=8,<9.
ES_VERSION=8.19.21
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
# Of the zip as published on Maven Central (its .sha512 matches too); guards
# the machine-wide cache against a corrupt or substituted download.
ES_SHA256=215d5f3dbf0609a149f6218a9e47b6ae2df34ebbff3c5754e35f15a5e5393c8a
# Pinned so `mvn` doesn't resolve a different plugin on each machine; 3.x
# (unlike Maven 3.8's default 2.8) copies an artifact without a project pom.
MVN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
ES_MIN_JAVA=17

ES_PORT="${LB_ES_PORT:-59200}"
ES_TRANSPORT_PORT="${LB_ES_TRANSPORT_PORT:-59300}"
ES_HOST=127.0.0.1
ES_HEAP="${LB_ES_HEAP:-512m}"
ES_START_TIMEOUT="${LB_ES_START_TIMEOUT:-120}"
ES_CLUSTER_NAME=lessonbridge-test
# Elasticsearch refuses to run as root, so root runs it as this system user.
ES_SYSTEM_USER=elasticsearch

usage() { echo "usage: $0 {install|start|stop|status|url}" >&2; exit 2; }

# The unpacked distribution is shared by every checkout and CI run on the
# machine (~107 MB zip, also kept in ~/.m2), never modified after unpacking:
# per-instance config, data and logs live in the state dir.
cache_dir() {
  if [ -n "${LB_ES_CACHE_DIR:-}" ]; then
    echo "$LB_ES_CACHE_DIR"
  elif is_root || [ -w /var/cache/lessonbridge ]; then
    echo /var/cache/lessonbridge
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/lessonbridge"
  fi
}
ES_HOME="$(cache_dir)/elasticsearch-$ES_VERSION"

# java_major java_bin : prints the Java feature version (17, 21, ...).
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 \
    | awk -F' = ' '/^ *java\.specification\.version = / { print $2; exit }'
}

# The JDK to run Elasticsearch with (the integ-test-zip has none bundled).
find_java_home() {
  local java
  if [ -n "${LB_ES_JAVA_HOME:-}" ]; then
    echo "$LB_ES_JAVA_HOME"
    return 0
  fi
  java="$(command -v java 2>/dev/null)" || return 1
  # /usr/bin/java -> /etc/alternatives/java -> <jdk>/bin/java
  dirname "$(dirname "$(readlink -f "$java")")"
}

check_java() {
  local java_home major
  java_home="$(find_java_home)" || die "no java on PATH; install a JDK $ES_MIN_JAVA+ or set LB_ES_JAVA_HOME"
  [ -x "$java_home/bin/java" ] || die "no executable $java_home/bin/java (LB_ES_JAVA_HOME?)"
  major="$(java_major "$java_home/bin/java")"
  case "$major" in
    '' | *[!0-9]*) die "cannot tell the Java version of $java_home/bin/java" ;;
  esac
  [ "$major" -ge "$ES_MIN_JAVA" ] \
    || die "Elasticsearch $ES_VERSION needs Java $ES_MIN_JAVA+, $java_home is Java $major; set LB_ES_JAVA_HOME"
  ES_JAVA_HOME_RESOLVED="$java_home"
}

ensure_user() {
  is_root || return 0
  id -u "$ES_SYSTEM_USER" >/dev/null 2>&1 && return 0
  log "creating system user $ES_SYSTEM_USER"
  # --user-group fails if the group survived a removed user; reuse it then.
  if getent group "$ES_SYSTEM_USER" >/dev/null; then
    useradd --system --gid "$ES_SYSTEM_USER" --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin "$ES_SYSTEM_USER"
  else
    useradd --system --user-group --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin "$ES_SYSTEM_USER"
  fi
}

# Download (Maven resolves it into ~/.m2, so a re-unpack is offline), check
# the pinned sha256, unpack into the cache. The unpacked dir appears by one
# rename, so its presence means complete; the lock serialises concurrent runs.
fetch_distribution() {
  local cache tmp sum
  cache="$(dirname "$ES_HOME")"
  make_dir "$cache"
  (
    flock -w 600 9 || die "timed out waiting for the lock on $cache"
    [ -x "$ES_HOME/bin/elasticsearch" ] && exit 0
    tmp="$(mktemp -d "$cache/.elasticsearch-$ES_VERSION.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    log "fetching $ES_ARTIFACT from Maven Central"
    # -C: fail on a checksum mismatch instead of warning. cd: no stray pom.xml.
    # Output only on failure: Maven 3.8 prints stray colour codes even with -q.
    if ! (cd "$tmp" && mvn -B -q -C "$MVN_DEPENDENCY_PLUGIN:copy" \
      -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$tmp") >"$tmp/mvn.log" 2>&1; then
      cat "$tmp/mvn.log" >&2
      die "mvn could not fetch $ES_ARTIFACT (Maven Central reachable? ~/.m2/settings.xml?)"
    fi
    sum="$(sha256sum "$tmp/elasticsearch-$ES_VERSION.zip" | cut -d' ' -f1)"
    [ "$sum" = "$ES_SHA256" ] \
      || die "sha256 mismatch for elasticsearch-$ES_VERSION.zip: got $sum, pinned $ES_SHA256"
    log "unpacking into $ES_HOME"
    (umask 022 && unzip -q "$tmp/elasticsearch-$ES_VERSION.zip" -d "$tmp/unpacked")
    [ -x "$tmp/unpacked/elasticsearch-$ES_VERSION/bin/elasticsearch" ] \
      || die "unexpected zip layout: no elasticsearch-$ES_VERSION/bin/elasticsearch"
    mv "$tmp/unpacked/elasticsearch-$ES_VERSION" "$ES_HOME"
  ) 9>"$cache/.elasticsearch-$ES_VERSION.lock"
}

cmd_install() {
  local pkgs=()
  have_cmd java || pkgs+=(openjdk-17-jre-headless)
  have_cmd mvn || pkgs+=(maven)
  have_cmd unzip || pkgs+=(unzip)
  have_cmd curl || pkgs+=(curl)
  apt_install "${pkgs[@]}"
  check_java
  ensure_user
  if [ -x "$ES_HOME/bin/elasticsearch" ]; then
    log "elasticsearch $ES_VERSION already installed ($ES_HOME)"
  else
    fetch_distribution
  fi
}

# Where the node's state lives. Normally $LB_INFRA_DIR/elasticsearch. When
# root, the server runs as `elasticsearch`, which must be able to walk down to
# it; if LB_INFRA_DIR is not traversable by it (e.g. under /root, mode 700) we
# use a per-checkout dir under /var/tmp instead of loosening /root's mode
# (the same rule as postgres.sh).
state_dir() {
  local fallback
  ensure_infra_dir
  if is_root && id -u "$ES_SYSTEM_USER" >/dev/null 2>&1; then
    if ! runuser -u "$ES_SYSTEM_USER" -- test -x "$LB_INFRA_DIR" 2>/dev/null; then
      fallback="/var/tmp/lessonbridge-infra/$(printf '%s' "$LB_INFRA_DIR" | sha256sum | cut -c1-12)/elasticsearch"
      echo "$fallback"
      return 0
    fi
  fi
  echo "$LB_INFRA_DIR/elasticsearch"
}

# Paths; resolved after install (the elasticsearch user may be new).
init_paths() {
  STATE_DIR="$(state_dir)"
  CONF_DIR="$STATE_DIR/config"
  DATA_DIR="$STATE_DIR/data"
  LOGS_DIR="$STATE_DIR/logs"
  TMP_DIR="$STATE_DIR/tmp"
  PID_FILE="$STATE_DIR/run/elasticsearch.pid"
  LOG_FILE="$LOGS_DIR/$ES_CLUSTER_NAME.log"
  LAUNCHER_LOG="$LOGS_DIR/launcher.log"
}

# Run a server-side command as the user owning the node's files.
# cd / so the elasticsearch user doesn't trip over an unreadable cwd (/root).
run_es() {
  if is_root; then
    (cd / && runuser -u "$ES_SYSTEM_USER" -- "$@")
  else
    "$@"
  fi
}

# Ours = the pid in our pidfile is a live Elasticsearch with our tmp dir, the
# one per-instance path on its command line (a stale pidfile's pid may have
# been reused by another program).
is_running() {
  local pid
  pid_alive "$PID_FILE" || return 1
  pid="$(head -n1 "$PID_FILE")"
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "-Djava.io.tmpdir=$TMP_DIR"
}

# health status_wanted : the cluster status once at least that good, or fail.
health() {
  curl -fsS --max-time 5 \
    "http://$ES_HOST:$ES_PORT/_cluster/health?wait_for_status=$1&timeout=1s" 2>/dev/null \
    | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' | grep .
}

# The config dir is per instance: the cache stays read-only, and
# Elasticsearch writes its keystore into the config dir.
write_config() {
  local mod
  make_dir "$CONF_DIR/jvm.options.d" "$DATA_DIR" "$LOGS_DIR" "$TMP_DIR" "$STATE_DIR/run"
  cp "$ES_HOME/config/log4j2.properties" "$CONF_DIR/"
  # GC log: absolute path (the JVM's cwd is the read-only ES_HOME) and 2x16 MB
  # instead of the shipped 32x64 MB.
  sed -e "s|file=gc.log|file=$LOGS_DIR/gc.log|" \
    -e 's|filecount=32,filesize=64m|filecount=2,filesize=16m|' \
    -e "s|ErrorFile=hs_err_pid|ErrorFile=$LOGS_DIR/hs_err_pid|" \
    "$ES_HOME/config/jvm.options" >"$CONF_DIR/jvm.options"
  cat >"$CONF_DIR/jvm.options.d/lessonbridge.options" <<EOF
# Written by infra/elasticsearch.sh on every start; edits here are overwritten.
-Xms$ES_HEAP
-Xmx$ES_HEAP
-XX:HeapDumpPath=$LOGS_DIR
EOF
  cat >"$CONF_DIR/elasticsearch.yml" <<EOF
# Written by infra/elasticsearch.sh on every start; edits here are overwritten.
cluster.name: $ES_CLUSTER_NAME
node.name: lessonbridge-es
# One node, no discovery; a loopback address also keeps the production
# bootstrap checks (vm.max_map_count, file descriptors) as warnings only.
discovery.type: single-node
network.host: $ES_HOST
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
path.data: $DATA_DIR
path.logs: $LOGS_DIR
# CI machines share disks; don't turn indices read-only at 95% full.
cluster.routing.allocation.disk.threshold_enabled: false
# Tests may delete their indices by wildcard (DELETE lb-test-*).
action.destructive_requires_name: false
EOF
  # Settings of absent modules are rejected at startup, so only set those
  # whose module this distribution has.
  for mod in x-pack-security ingest-geoip; do
    [ -d "$ES_HOME/modules/$mod" ] || continue
    case "$mod" in
      x-pack-security) cat >>"$CONF_DIR/elasticsearch.yml" <<'EOF'
# FOR TESTS ONLY: no authentication or TLS. It listens on 127.0.0.1 only;
# never copy this to a deployment reachable by anyone else.
xpack.security.enabled: false
EOF
        ;;
      ingest-geoip) cat >>"$CONF_DIR/elasticsearch.yml" <<'EOF'
# No internet access: don't try to download GeoIP databases.
ingest.geoip.downloader.enabled: false
EOF
        ;;
    esac
  done
  if is_root; then
    chown -R "$ES_SYSTEM_USER:" "$STATE_DIR"
  fi
}

cmd_start() {
  local deadline status
  # Checked here: a bad value otherwise surfaces as a Java stack trace.
  [[ "$ES_HEAP" =~ ^[0-9]+[kKmMgG]$ ]] || die "LB_ES_HEAP must look like 512m or 1g, got '$ES_HEAP'"
  cmd_install
  init_paths
  if is_running; then
    log "already running on $ES_HOST:$ES_PORT (pid $(head -n1 "$PID_FILE"), dir: $STATE_DIR)"
    return 0
  fi
  if port_open "$ES_HOST" "$ES_PORT"; then
    die "port $ES_PORT is already in use by another process; set LB_ES_PORT"
  fi
  if port_open "$ES_HOST" "$ES_TRANSPORT_PORT"; then
    die "port $ES_TRANSPORT_PORT is already in use by another process; set LB_ES_TRANSPORT_PORT"
  fi
  if [ "$STATE_DIR" != "$LB_INFRA_DIR/elasticsearch" ]; then
    log "note: $LB_INFRA_DIR is not traversable by user $ES_SYSTEM_USER; elasticsearch state is in $STATE_DIR"
  fi
  make_dir "$STATE_DIR"
  rm -f "$PID_FILE"
  write_config
  log "starting $ES_VERSION on $ES_HOST:$ES_PORT, heap $ES_HEAP, java $ES_JAVA_HOME_RESOLVED (log: $LOG_FILE)"
  # -d: the launcher returns once the node has started (or failed), and
  # prints startup errors, which we keep in launcher.log.
  # env -u JAVA_HOME: Elasticsearch only reads ES_JAVA_HOME and warns otherwise.
  # Up to three tries when a port was taken while the node booted (~15 s): the ports lie in
  # Linux's ephemeral range, so an outgoing connection of anything on the machine can hold one
  # for a moment (seen once, with the ports free before and after).
  local attempt
  for attempt in 1 2 3; do
    if run_es env -u JAVA_HOME \
        ES_JAVA_HOME="$ES_JAVA_HOME_RESOLVED" ES_PATH_CONF="$CONF_DIR" ES_TMPDIR="$TMP_DIR" \
        "$ES_HOME/bin/elasticsearch" -d -p "$PID_FILE" >"$LAUNCHER_LOG" 2>&1; then
      break
    fi
    if [ "$attempt" -lt 3 ] && grep -q "BindException" "$LAUNCHER_LOG" 2>/dev/null; then
      log "a port was taken while starting (attempt $attempt); trying again"
      rm -f "$PID_FILE"
      sleep 2
      continue
    fi
    tail -n 30 "$LAUNCHER_LOG" "$LOG_FILE" >&2 2>/dev/null || true
    die "elasticsearch failed to start"
  done
  # Yellow = every primary shard is allocated, all one node can do: an index
  # created with replicas (the default, 1) stays yellow here forever. An empty
  # cluster, or indices with number_of_replicas: 0, are green.
  deadline=$(( $(date +%s) + ES_START_TIMEOUT ))
  until status="$(health yellow)"; do
    if ! pid_alive "$PID_FILE" || [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 30 "$LAUNCHER_LOG" "$LOG_FILE" >&2 2>/dev/null || true
      die "elasticsearch not healthy within ${ES_START_TIMEOUT}s (or exited); see $LOGS_DIR"
    fi
    sleep 0.5
  done
  log "ready ($status): $(cmd_url)"
}

cmd_stop() {
  local pid
  init_paths
  if ! is_running; then
    log "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  pid="$(head -n1 "$PID_FILE")"
  log "stopping (pid $pid)"
  # SIGTERM is Elasticsearch's clean shutdown (flushes, releases the node lock).
  kill "$pid" 2>/dev/null || true
  wait_for_exit "$pid" 60 elasticsearch
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local status
  init_paths
  if is_running && status="$(health red)"; then
    log "running on $ES_HOST:$ES_PORT (pid $(head -n1 "$PID_FILE"), cluster $status, dir: $STATE_DIR)"
    return 0
  fi
  log "not running (dir: $STATE_DIR)"
  return 3
}

cmd_url() {
  echo "http://$ES_HOST:$ES_PORT"
}

run_server_command "$@"
