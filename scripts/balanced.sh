#!/usr/bin/env bash
# Two API hosts behind a balancer on one machine: `fissionmall serve` on 127.0.0.1:8801 and :8802 (separate ports
# standing for separate hosts) and HAProxy (Debian's package) on 127.0.0.1:8800, round robin, request by request.
#
#   scripts/balanced.sh start      the two servers and HAProxy, in the background (settings from the environment:
#                                  DATABASE_URL, SECRET_KEY, … as for `fissionmall serve`; run `fissionmall worker`
#                                  beside them)
#   scripts/balanced.sh stop
#   scripts/balanced.sh stats      requests each server answered, from HAProxy's counters
#   scripts/balanced.sh balancer   HAProxy alone, in the foreground (the bench runs the servers itself)
#
# Settings: BALANCER_PORT (8800), HOST_PORTS ("8801 8802"), SERVE_WORKERS (uvicorn processes per host, 1).
# Logs and pid files in var/balanced/; HAProxy's statistics at http://127.0.0.1:8800/haproxy-stats.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/debian-packages.sh"
DIR="$ROOT/var/balanced"
BALANCER_PORT="${BALANCER_PORT:-8800}"
read -r -a HOST_PORTS <<<"${HOST_PORTS:-8801 8802}"
SERVE_WORKERS="${SERVE_WORKERS:-1}"
FISSIONMALL="${FISSIONMALL:-$ROOT/.venv/bin/fissionmall}"
STATS="http://127.0.0.1:$BALANCER_PORT/haproxy-stats"

install_haproxy() {
  command -v haproxy >/dev/null 2>&1 || install_packages "the balancer" haproxy
}

write_config() {
  mkdir -p "$DIR"
  {
    cat <<EOF
global
    maxconn 4096

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend mall
    bind 127.0.0.1:$BALANCER_PORT
    stats enable
    stats uri /haproxy-stats
    default_backend api

backend api
    balance roundrobin
    option httpchk GET /healthz
EOF
    for port in "${HOST_PORTS[@]}"; do
      echo "    server api-$port 127.0.0.1:$port check inter 2s"
    done
  } >"$DIR/haproxy.cfg"
  haproxy -c -q -f "$DIR/haproxy.cfg"
}

balancer() {
  install_haproxy
  write_config
  exec haproxy -db -f "$DIR/haproxy.cfg"
}

answers() {  # $1: URL; true once it answers at all
  python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" >/dev/null 2>&1
}

start() {
  install_haproxy
  write_config
  for port in "${HOST_PORTS[@]}"; do
    setsid "$FISSIONMALL" serve --host 127.0.0.1 --port "$port" --workers "$SERVE_WORKERS" --no-with-worker \
      >>"$DIR/server-$port.log" 2>&1 </dev/null &
    echo $! >"$DIR/server-$port.pid"
  done
  for port in "${HOST_PORTS[@]}"; do
    for _ in $(seq 1 120); do answers "http://127.0.0.1:$port/healthz" && break; sleep 0.5; done
    answers "http://127.0.0.1:$port/healthz" || { echo "the server on $port did not start: see $DIR/server-$port.log" >&2; exit 1; }
  done
  # after the servers answer: HAProxy's first checks would otherwise mark a server still starting down
  setsid haproxy -db -f "$DIR/haproxy.cfg" >>"$DIR/haproxy.log" 2>&1 </dev/null &
  echo $! >"$DIR/haproxy.pid"
  for _ in $(seq 1 50); do answers "http://127.0.0.1:$BALANCER_PORT/healthz" && break; sleep 0.1; done
  echo "HAProxy on 127.0.0.1:$BALANCER_PORT, round robin over ${HOST_PORTS[*]} ($SERVE_WORKERS worker process(es) each)"
}

stop() {
  for pidfile in "$DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill -TERM -- "-$pid" 2>/dev/null || true  # its session's process group: the server and its workers
    rm -f "$pidfile"
  done
  echo "stopped"
}

stats() {
  python3 - "$STATS;csv" <<'EOF'
import csv, io, sys, urllib.request
rows = csv.DictReader(io.StringIO(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().lstrip("# ")))
for row in rows:
    if row["pxname"] == "api" and row["svname"] != "BACKEND":
        print(f"{row['svname']}: {row['status']}, {row['req_tot'] or row['stot']} requests")
EOF
}

command="${1:-}"
case "$command" in
  start) start ;;
  stop) stop ;;
  stats) stats ;;
  balancer) balancer ;;
  *) echo "usage: $0 start | stop | stats | balancer" >&2; exit 2 ;;
esac
