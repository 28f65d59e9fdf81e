#!/usr/bin/env bash
# PgBouncer (Debian's package) in transaction mode on 127.0.0.1:6432, in front of the PostgreSQL on 127.0.0.1:5432.
#
#   scripts/pgbouncer.sh start [DATABASE ...]   list these databases (default: fissionmall fissionmall_test postgres)
#   scripts/pgbouncer.sh stop | status
#
# The app connects with DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:6432/<database> and
# DATABASE_POOLER=pgbouncer (docs/scaling.md, "PgBouncer"). Its configuration, log and pid file are written under
# var/pgbouncer/; start again to list other databases (a running PgBouncer is reloaded, its clients keep their
# connections). Settings: PGBOUNCER_PORT, UPSTREAM_HOST, UPSTREAM_PORT, PGBOUNCER_POOL_SIZE (server connections per
# database, default 20).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/debian-packages.sh"
DIR="$ROOT/var/pgbouncer"
PORT="${PGBOUNCER_PORT:-6432}"
UPSTREAM_HOST="${UPSTREAM_HOST:-127.0.0.1}"
UPSTREAM_PORT="${UPSTREAM_PORT:-5432}"
POOL_SIZE="${PGBOUNCER_POOL_SIZE:-20}"
RUN_AS=postgres  # PgBouncer refuses to run as root

install_pgbouncer() {
  command -v pgbouncer >/dev/null 2>&1 || install_packages "the pooler" pgbouncer
}

running_pid() {
  local pid
  pid="$(cat "$DIR/pgbouncer.pid" 2>/dev/null)" || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_config() {
  mkdir -p "$DIR"
  {
    echo "[databases]"
    for database in "$@"; do
      echo "$database = host=$UPSTREAM_HOST port=$UPSTREAM_PORT dbname=$database"
    done
    cat <<EOF

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 1000
server_lifetime = 3600
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
  } >"$DIR/pgbouncer.ini"
  # the upstream trusts 127.0.0.1 (pg_hba.conf), so PgBouncer only needs to know the user's name
  echo '"postgres" ""' >"$DIR/userlist.txt"
  chown -R "$RUN_AS" "$DIR"
}

start() {
  install_pgbouncer
  local databases=("$@")
  [ ${#databases[@]} -gt 0 ] || databases=(fissionmall fissionmall_test postgres)
  write_config "${databases[@]}"
  if pid="$(running_pid)"; then
    kill -HUP "$pid"
    echo "PgBouncer reloaded on 127.0.0.1:$PORT (${databases[*]})"
    return
  fi
  pgbouncer -d -u "$RUN_AS" "$DIR/pgbouncer.ini"
  for _ in $(seq 1 50); do
    pg_isready -h 127.0.0.1 -p "$PORT" -U postgres -q 2>/dev/null && break
    sleep 0.1
  done
  if ! psql -h 127.0.0.1 -p "$PORT" -U postgres -d pgbouncer -Atqc "SHOW VERSION" >/dev/null 2>&1; then
    echo "PgBouncer did not start: see $DIR/pgbouncer.log" >&2
    exit 1
  fi
  echo "PgBouncer on 127.0.0.1:$PORT in transaction mode, in front of $UPSTREAM_HOST:$UPSTREAM_PORT (${databases[*]})"
}

stop() {
  if pid="$(running_pid)"; then
    kill -INT "$pid"  # safe shutdown: waits for the transactions in flight
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "PgBouncer stopped"
  else
    echo "PgBouncer is not running"
  fi
}

status() {
  if running_pid >/dev/null; then
    psql -h 127.0.0.1 -p "$PORT" -U postgres -d pgbouncer -c "SHOW POOLS"
  else
    echo "PgBouncer is not running"
    return 3
  fi
}

command="${1:-}"
shift || true
case "$command" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [DATABASE ...] | stop | status" >&2; exit 2 ;;
esac
