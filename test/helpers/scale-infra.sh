#!/usr/bin/env bash
# Starts or stops the scale-out test infrastructure beside the local PostgreSQL (127.0.0.1:5432):
#   - PgBouncer from Debian's package on 127.0.0.1:6432, pool_mode = transaction, every database forwarded to 5432;
#   - a streaming replica of the cluster (pg_basebackup -R) on 127.0.0.1:5433, in a temporary folder.
# Both run as the `postgres` system user and are stopped and removed by `stop`. Idempotent: `start` on a running
# setup does nothing, `stop` on a stopped one does nothing.
#
#   test/helpers/scale-infra.sh start|stop|status
#
# The one change it may make to the primary: a `host replication all 127.0.0.1/32 trust` line in its pg_hba.conf
# (followed by a reload, never a restart), which pg_basebackup and the replica's WAL receiver need.
set -euo pipefail

ACTION="${1:-start}"
DIR="${SCALE_INFRA_DIR:-/tmp/customers-api-scale}"
PRIMARY_PORT=5432
REPLICA_PORT=5433
PGBOUNCER_PORT=6432
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
PGBOUNCER="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_primary() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -Atqc "$1"; }
replica_up() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$REPLICA_PORT" -q 2>/dev/null; }
pgbouncer_up() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PGBOUNCER_PORT" -q 2>/dev/null; }

allow_local_replication() {
  local hba
  hba="$(psql_primary 'show hba_file')"
  if grep -Eq '^\s*host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then return 0; fi
  echo "scale-infra: adding 'host replication all 127.0.0.1/32 trust' to $hba and reloading the primary"
  printf '\n# Added by customers-api test/helpers/scale-infra.sh: local streaming replicas for the scale-out tests\nhost replication all 127.0.0.1/32 trust\n' >>"$hba"
  psql_primary 'select pg_reload_conf()' >/dev/null
  sleep 1
}

start_replica() {
  if replica_up; then return 0; fi
  as_postgres rm -rf "$DIR/replica"
  as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DIR/replica" -R -X stream -c fast
  # A hot standby needs these at least as high as the primary's; the rest keeps the copy small.
  as_postgres tee "$DIR/replica/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $REPLICA_PORT
unix_socket_directories = '$DIR'
max_connections = $(psql_primary 'show max_connections')
max_worker_processes = $(psql_primary 'show max_worker_processes')
max_wal_senders = $(psql_primary 'show max_wal_senders')
max_prepared_transactions = $(psql_primary 'show max_prepared_transactions')
max_locks_per_transaction = $(psql_primary 'show max_locks_per_transaction')
hot_standby = on
shared_buffers = 32MB
fsync = off
logging_collector = off
EOF
  as_postgres tee "$DIR/replica/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  as_postgres "$PG_BIN/pg_ctl" -D "$DIR/replica" -l "$DIR/replica.log" -w -t 60 start >/dev/null
}

start_pgbouncer() {
  if pgbouncer_up; then return 0; fi
  as_postgres tee "$DIR/userlist.txt" >/dev/null <<EOF
"postgres" ""
EOF
  as_postgres tee "$DIR/pgbouncer.ini" >/dev/null <<EOF
[databases]
* = host=127.0.0.1 port=$PRIMARY_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir = $DIR
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 10
server_idle_timeout = 10
autodb_idle_timeout = 30
idle_transaction_timeout = 60
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
admin_users = postgres
EOF
  as_postgres "$PGBOUNCER" -d "$DIR/pgbouncer.ini"
  for _ in $(seq 1 50); do pgbouncer_up && return 0; sleep 0.1; done
  echo "scale-infra: PgBouncer did not start; see $DIR/pgbouncer.log" >&2
  return 1
}

stop_all() {
  if [ -f "$DIR/pgbouncer.pid" ]; then
    kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do pgbouncer_up || break; sleep 0.1; done
  fi
  if [ -f "$DIR/replica/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/replica" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case "$ACTION" in
start)
  [ -x "$PGBOUNCER" ] || { echo "scale-infra: pgbouncer is not installed (apt-get install -y pgbouncer)" >&2; exit 1; }
  "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PRIMARY_PORT" -q || { echo "scale-infra: no PostgreSQL on $PRIMARY_PORT" >&2; exit 1; }
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
  chmod 700 "$DIR"
  allow_local_replication
  start_pgbouncer
  start_replica
  echo "scale-infra: PgBouncer on 127.0.0.1:$PGBOUNCER_PORT, replica on 127.0.0.1:$REPLICA_PORT ($DIR)"
  ;;
stop)
  stop_all
  echo "scale-infra: stopped and removed"
  ;;
status)
  pgbouncer_up && echo "pgbouncer: up" || echo "pgbouncer: down"
  replica_up && echo "replica: up" || echo "replica: down"
  ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
