#!/usr/bin/env bash
# PostgreSQL with automatic failover on this machine (pg_auto_failover, Debian's packages): a monitor and two data
# nodes, one primary and one synchronous secondary that the monitor promotes when the primary dies.
#
#   scripts/ha.sh start    create the formation (or start what exists), wait for a primary and a secondary,
#                          print the URLs: DATABASE_URL=… (the app's, naming both nodes) and PG_URI=… (libpq's)
#   scripts/ha.sh status   the nodes' states and the URLs
#   scripts/ha.sh kill-primary   stop the primary's node at once (its keeper and its Postgres), as a machine that
#                          dies: the monitor then promotes the secondary; `start` brings the node back as a secondary
#   scripts/ha.sh stop     stop every process of the formation and delete its data, so the next start is clean
#
# FISSIONMALL_HA_DIR (default /var/lib/fissionmall-ha) holds everything: data directories, pg_autoctl's
# configuration, state and pid files, logs. FISSIONMALL_HA_PORT (default 5440) is the monitor's port; the nodes
# listen on the next two. FISSIONMALL_HA_DB (default fissionmall) is the database created on the nodes.
# Run as root, the formation runs as the postgres user; run as another user, as that user.
set -euo pipefail
source "$(dirname "$0")/debian-packages.sh"

DIR=${FISSIONMALL_HA_DIR:-/var/lib/fissionmall-ha}
MONITOR_PORT=${FISSIONMALL_HA_PORT:-5440}
NODE_PORTS=("$((MONITOR_PORT + 1))" "$((MONITOR_PORT + 2))")
DB=${FISSIONMALL_HA_DB:-fissionmall}
PG_BIN=/usr/lib/postgresql/15/bin
PACKAGES=(postgresql-15-auto-failover pg-auto-failover-cli)
READY_WITHIN=120

if [ "$(id -u)" = 0 ]; then OWNER=postgres; else OWNER=$(id -un); fi
# initdb makes the user who runs it the nodes' superuser, with trust on 127.0.0.1

# pg_autoctl keeps its configuration and state under XDG_CONFIG_HOME and XDG_DATA_HOME, and its pid files under
# XDG_RUNTIME_DIR: all three inside DIR, so that `stop` leaves nothing behind.
as_owner() {
  local environment=(env HOME="$DIR" XDG_CONFIG_HOME="$DIR/config" XDG_DATA_HOME="$DIR/share"
                     XDG_RUNTIME_DIR="$DIR/run" PATH="$PG_BIN:$PATH")
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "${environment[@]}" "$@"; else "${environment[@]}" "$@"; fi
}

# Started in its own session, in the background, its output in DIR/<node>.log.
in_background() {
  local log=$1
  shift
  as_owner setsid "$@" >>"$DIR/$log.log" 2>&1 </dev/null &
}

sql() {
  local port=$1 database=$2 user=$3
  shift 3
  "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U "$user" -d "$database" "$@"
}

ensure_packages() {
  if command -v pg_autoctl >/dev/null 2>&1 && [ -f /usr/share/postgresql/15/extension/pgautofailover.control ]; then
    return
  fi
  install_packages "the formation" "${PACKAGES[@]}"
}

created() { [ -f "$DIR/config/pg_autoctl$DIR/$1/pg_autoctl.cfg" ] && [ ! -f "$DIR/share/pg_autoctl$DIR/$1/pg_autoctl.init" ]; }
running() { as_owner pg_autoctl status --pgdata "$DIR/$1" >/dev/null 2>&1; }

monitor_uri() { echo "postgres://autoctl_node@127.0.0.1:$MONITOR_PORT/pg_auto_failover?sslmode=disable"; }

start_monitor() {
  if ! created monitor; then
    rm -rf "${DIR:?}/monitor"
    as_owner pg_autoctl create monitor --pgdata "$DIR/monitor" --pgport "$MONITOR_PORT" --hostname 127.0.0.1 \
      --auth trust --no-ssl --ssl-mode disable --pgctl "$PG_BIN/pg_ctl" >>"$DIR/monitor.log" 2>&1
    # created listening on every interface; served on the loopback only
    as_owner pg_autoctl config set --pgdata "$DIR/monitor" postgresql.listen_addresses 127.0.0.1 >/dev/null
    # All nodes are on this machine, where no network can part a live primary from the monitor: fail over within
    # seconds of a primary's death rather than pg_auto_failover's defaults (unhealthy after 20 s without news,
    # then 30 s for the old primary to demote itself: about 50 s).
    as_owner tee -a "$DIR/monitor/postgresql.conf" >/dev/null <<'EOF'
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 2000
pgautofailover.health_check_retry_delay = 1000
pgautofailover.node_considered_unhealthy_timeout = 5000
pgautofailover.primary_demote_timeout = 5000
EOF
  fi
  running monitor || in_background monitor pg_autoctl run --pgdata "$DIR/monitor"
}

# Both nodes are created at once: the monitor registers the first as the primary and has the other follow it.
start_node() {
  local name=$1 port=$2
  running "$name" && return
  if created "$name"; then
    in_background "$name" pg_autoctl run --pgdata "$DIR/$name"
  else
    in_background "$name" pg_autoctl create postgres --pgdata "$DIR/$name" --pgport "$port" --listen 127.0.0.1 \
      --hostname 127.0.0.1 --name "$name" --dbname "$DB" --monitor "$(monitor_uri)" --auth trust --no-ssl \
      --ssl-mode disable --pgctl "$PG_BIN/pg_ctl" --run
  fi
}

# "primary secondary" once the formation has both, as reported by the nodes and assigned by the monitor.
roles() {
  sql "$MONITOR_PORT" pg_auto_failover autoctl_node -F ' ' -c "
    SELECT string_agg(reportedstate::text, ' ' ORDER BY reportedstate::text) FROM pgautofailover.node
    WHERE formationid = 'default' AND reportedstate = goalstate" 2>/dev/null || true
}

# pg_autoctl 2.0 makes the secondary with pg_basebackup's default spread checkpoint, which on an idle primary
# takes 0.9 × checkpoint_timeout (4.5 minutes); a CHECKPOINT asks the one under way to finish at once.
hurry_base_backup() {
  local port
  for port in "${NODE_PORTS[@]}"; do
    if [ "$(sql "$port" postgres "$OWNER" -c "SELECT count(*) FROM pg_stat_progress_basebackup
          WHERE phase = 'waiting for checkpoint to finish'" 2>/dev/null)" = 1 ]; then
      sql "$port" postgres "$OWNER" -c CHECKPOINT
    fi
  done
}

wait_until_ready() {
  local deadline=$((SECONDS + READY_WITHIN))
  until [ "$(roles)" = "primary secondary" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "the formation has no primary and secondary after ${READY_WITHIN} s (logs in $DIR):" >&2
      as_owner pg_autoctl show state --pgdata "$DIR/monitor" >&2 || true
      exit 1
    fi
    hurry_base_backup
    sleep 0.5
  done
}

urls() {
  local hosts="" port
  for port in "${NODE_PORTS[@]}"; do hosts+="&host=127.0.0.1:$port"; done
  echo "DATABASE_URL=postgresql+asyncpg://$OWNER@/$DB?${hosts#&}&target_session_attrs=read-write"
  echo "PG_URI=$(as_owner pg_autoctl show uri --pgdata "$DIR/monitor" --formation default)"
}

start() {
  ensure_packages
  mkdir -p "$DIR/run"
  chmod 700 "$DIR/run"
  if [ "$(id -u)" = 0 ]; then chown -R "$OWNER:" "$DIR"; fi
  cd "$DIR"  # the services' working directory: one their user can read
  start_monitor
  start_node node1 "${NODE_PORTS[0]}"
  start_node node2 "${NODE_PORTS[1]}"
  wait_until_ready
  urls
}

status() {
  if [ ! -d "$DIR/monitor" ]; then
    echo "no formation in $DIR"
    exit 1
  fi
  as_owner pg_autoctl show state --pgdata "$DIR/monitor"
  urls
}

kill_primary() {
  local name
  wait_until_ready
  name=$(sql "$MONITOR_PORT" pg_auto_failover autoctl_node -c "SELECT nodename FROM pgautofailover.node
    WHERE formationid = 'default' AND reportedstate = 'primary' AND goalstate = 'primary'")
  if [ -z "$name" ]; then
    echo "the formation has no primary" >&2
    exit 1
  fi
  as_owner pg_autoctl stop --immediate --pgdata "$DIR/$name"
  while [ -n "$(leftovers "$name")" ]; do sleep 0.1; done
  echo "stopped the primary, $name"
}

# Each pg_autoctl service stops its Postgres with it. Whatever is left after that (a service that hung) is killed by
# its ids: the session each service was started in, and each data directory's postmaster.
stop() {
  [ -d "$DIR" ] || return 0
  local name pid
  for name in node1 node2 monitor; do
    as_owner pg_autoctl stop --immediate --pgdata "$DIR/$name" >/dev/null 2>&1 &
  done
  wait
  for _ in $(seq 1 50); do
    [ -z "$(leftovers)" ] && break
    sleep 0.2
  done
  for name in node1 node2 monitor; do
    if pid=$(alive "$DIR/run/pg_autoctl$DIR/$name/pg_autoctl.pid"); then pkill -9 -s "$pid" || true; fi
    if pid=$(alive "$DIR/$name/postmaster.pid"); then kill -9 "$pid" || true; fi
  done
  rm -rf "${DIR:?}"
}

# The id in a pid file, if that process is alive and one of the formation's (its command line names DIR): a stale
# file never leads to another process. Only a positive id is ever given back (`pkill -s 0` is one's own session).
alive() {
  local pid
  pid=$(head -n 1 "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[1-9][0-9]*$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/" && echo "$pid"
}

# The ids of the services (each the leader of its own session) and postmasters still alive, of the nodes named or
# of all.
leftovers() {
  local name names=("$@")
  [ $# -gt 0 ] || names=(node1 node2 monitor)
  for name in "${names[@]}"; do
    alive "$DIR/run/pg_autoctl$DIR/$name/pg_autoctl.pid" || true
    alive "$DIR/$name/postmaster.pid" || true
  done
}

case "${1:-}" in
  start) start ;;
  status) status ;;
  kill-primary) kill_primary ;;
  stop) stop ;;
  *) echo "usage: $0 start|status|kill-primary|stop" >&2; exit 2 ;;
esac
