#!/usr/bin/env bash
# A streaming replica of the PostgreSQL cluster on 127.0.0.1:5432, as a second Debian cluster on this machine
# ("replica", port 5433): a base backup taken with pg_basebackup -R through a physical replication slot, then a hot
# standby that streams from the primary and answers read-only queries.
#
#   scripts/replica.sh start     create it if it does not exist (idempotent), then start it
#   scripts/replica.sh status    the primary's view: the standby's state and its lag
#   scripts/replica.sh stop      stop it (the slot stays: the primary keeps its WAL until the replica is back)
#   scripts/replica.sh drop      remove the cluster and its slot, and the replication line it added to pg_hba.conf
#
# The app reads the lag-tolerant answers from it with DATABASE_REPLICA_URL=postgresql+asyncpg://postgres@127.0.0.1:
# 5433/<database> (docs/scaling.md, "Read replica"). The primary is never restarted: its defaults on PostgreSQL 15
# (wal_level = replica, max_wal_senders = 10, max_replication_slots = 10) already allow a standby; only a
# `host replication` line is added to its pg_hba.conf (its `all` lines do not cover replication connections) and
# the configuration reloaded. Settings: PRIMARY_PORT (5432), REPLICA_PORT (5433).
set -euo pipefail

PRIMARY_PORT="${PRIMARY_PORT:-5432}"
REPLICA_PORT="${REPLICA_PORT:-5433}"
NAME=replica
SLOT=fissionmall_replica
HBA_MARK="# streaming replica on this machine (scripts/replica.sh)"

primary() { psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -Atqc "$1"; }

version() { pg_lsclusters -h | awk -v port="$PRIMARY_PORT" '$3 == port {print $1; exit}'; }

exists() { pg_lsclusters -h | awk -v name="$NAME" '$2 == name {found = 1} END {exit !found}'; }

require_primary() {
  command -v pg_basebackup >/dev/null 2>&1 || { echo "pg_basebackup not found (Debian's postgresql-client)" >&2; exit 1; }
  pg_isready -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -q || { echo "no PostgreSQL on 127.0.0.1:$PRIMARY_PORT" >&2; exit 1; }
  local wal_level senders
  wal_level="$(primary "SHOW wal_level")"
  senders="$(primary "SHOW max_wal_senders")"
  if [ "$wal_level" = minimal ] || [ "$senders" = 0 ]; then
    echo "the primary cannot stream (wal_level = $wal_level, max_wal_senders = $senders); set them and restart it" >&2
    exit 1
  fi
}

allow_replication() {
  if [ "$(primary "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND address = '127.0.0.1'")" != 0 ]; then
    return
  fi
  local hba
  hba="$(primary "SHOW hba_file")"
  printf '%s\nhost replication all 127.0.0.1/32 trust\n' "$HBA_MARK" >>"$hba"
  primary "SELECT pg_reload_conf()" >/dev/null
  echo "allowed replication connections from 127.0.0.1 in $hba (configuration reloaded, not restarted)"
}

create() {
  local version data
  version="$(version)"
  data="/var/lib/postgresql/$version/$NAME"
  if [ -n "$(primary "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$SLOT'")" ]; then
    primary "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null  # left by a replica dropped by hand
  fi
  rm -rf "$data"
  # a Debian cluster of its own (configuration in /etc/postgresql/$version/$NAME, port $REPLICA_PORT), the same access
  # rules as the primary's, and its data directory replaced by the primary's base backup
  pg_createcluster "$version" "$NAME" --port "$REPLICA_PORT" --start-conf manual >/dev/null
  install -o postgres -g postgres -m 640 "$(primary "SHOW hba_file")" "/etc/postgresql/$version/$NAME/pg_hba.conf"
  find "$data" -mindepth 1 -delete
  echo "base backup of 127.0.0.1:$PRIMARY_PORT into $data (slot $SLOT)"
  runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$data" \
    --write-recovery-conf --create-slot --slot "$SLOT" --wal-method stream --checkpoint fast
}

start() {
  require_primary
  allow_replication
  exists || create
  pg_ctlcluster --skip-systemctl-redirect "$(version)" "$NAME" start 2>/dev/null || true
  for _ in $(seq 1 60); do pg_isready -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -q && break; sleep 0.5; done
  if [ "$(psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d postgres -Atqc "SELECT pg_is_in_recovery()")" != t ]; then
    echo "the cluster on $REPLICA_PORT is not a standby" >&2
    exit 1
  fi
  echo "streaming replica on 127.0.0.1:$REPLICA_PORT (hot standby of 127.0.0.1:$PRIMARY_PORT)"
}

status() {
  primary "SELECT application_name, state, sync_state, replay_lag FROM pg_stat_replication" |
    sed 's/^/primary sees: /'
  psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -d postgres -Atqc \
    "SELECT 'replica: in recovery ' || pg_is_in_recovery() || ', last replay ' || coalesce(now() - pg_last_xact_replay_timestamp(), '0')::text || ' ago'"
}

stop() {
  exists && pg_ctlcluster --skip-systemctl-redirect "$(version)" "$NAME" stop 2>/dev/null || true
  echo "replica stopped; slot $SLOT keeps the primary's WAL until it is back (drop to release it)"
}

drop() {
  if exists; then
    pg_dropcluster --stop "$(version)" "$NAME"
  fi
  if [ -n "$(primary "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$SLOT'")" ]; then
    primary "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null
  fi
  local hba
  hba="$(primary "SHOW hba_file")"
  if grep -qxF "$HBA_MARK" "$hba"; then
    local kept
    kept="$(awk -v mark="$HBA_MARK" '$0 == mark {skip = 1; next} skip {skip = 0; next} {print}' "$hba")"
    printf '%s\n' "$kept" >"$hba"  # written in place: the file keeps its owner and mode
    primary "SELECT pg_reload_conf()" >/dev/null
  fi
  echo "replica, slot $SLOT and its pg_hba.conf line removed"
}

case "${1:-}" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  drop) drop ;;
  *) echo "usage: $0 start | status | stop | drop" >&2; exit 2 ;;
esac
