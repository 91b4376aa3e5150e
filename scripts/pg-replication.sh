#!/usr/bin/env bash
# Lets the PostgreSQL at 127.0.0.1:5432 feed a streaming replica, so the tests can build one
# (tests/pg_clusters.py: pg_basebackup into a second cluster on another port). Idempotent:
#  - adds `host replication all 127.0.0.1/32 trust` to its pg_hba.conf when replication
#    connections are refused, then reloads (a reload, never a restart: other test runs go on);
#  - only if wal_level is minimal or max_wal_senders is 0 (never on Debian's defaults), sets
#    them with ALTER SYSTEM and restarts the cluster once.
# Needs to run as root (or the owner of the configuration); elsewhere it says what to do.
set -u
PG="host=127.0.0.1 port=5432 user=postgres"
sql() { psql "$PG dbname=postgres" -Atqc "$1" 2>/dev/null; }

command -v psql >/dev/null 2>&1 || exit 0
if ! sql "select 1" >/dev/null; then
  echo "PostgreSQL at 127.0.0.1:5432 is not running: the replica tests will be skipped." >&2
  exit 0
fi

if ! psql "$PG dbname=postgres replication=true" -Atqc "IDENTIFY_SYSTEM" >/dev/null 2>&1; then
  hba=$(sql "show hba_file")
  line="host replication all 127.0.0.1/32 trust  # stepwise tests: streaming replica"
  if [ -n "$hba" ] && [ -w "$hba" ]; then
    grep -qF "$line" "$hba" || printf '%s\n' "$line" >> "$hba"
    sql "select pg_reload_conf()" >/dev/null
    echo "PostgreSQL: allowed replication connections from 127.0.0.1 ($hba, reloaded)."
  else
    echo "Please add to ${hba:-pg_hba.conf} and reload PostgreSQL: $line" >&2
  fi
fi

wal_level=$(sql "show wal_level")
senders=$(sql "show max_wal_senders")
if [ "$wal_level" = "minimal" ] || [ "$senders" = "0" ]; then
  sql "alter system set wal_level = replica" >/dev/null
  sql "alter system set max_wal_senders = 10" >/dev/null
  version=$(sql "show server_version_num" | cut -c1-2)
  if [ "$(id -u)" = "0" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "PostgreSQL: wal_level=replica needs a one-time restart; restarting $version/main."
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  else
    echo "PostgreSQL: wal_level=replica is set; restart PostgreSQL once to apply it." >&2
  fi
fi
exit 0
