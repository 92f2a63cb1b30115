#!/usr/bin/env bash
# The private dev PostgreSQL cluster in ./.data (unix socket only).
#
#   scripts/db.sh start    start it (create it and the passd database if
#                          missing) and print the export line
#   scripts/db.sh stop     stop it (data kept); a no-op if not running
#   scripts/db.sh status   say whether it is running
#   scripts/db.sh env      print `export DATABASE_URL=...` for it, e.g.
#                          eval "$(scripts/db.sh env)"
#   scripts/db.sh psql ... run psql on the passd database
#
# This always means the private cluster: DATABASE_URL in the environment is
# ignored here (make run / make migrate honour it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh

usage() {
	sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

print_env() {
	printf 'export DATABASE_URL=%s\n' "$(pg_shell_quote "$(pg_dev_url)")"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
start)
	pg_dev_start
	pg_dev_ensure_db "$PG_DEV_DB"
	print_env
	;;
stop)
	pg_dev_stop
	;;
status)
	major=$(pg_cluster_major "$PG_DEV_PGDATA" || true)
	if [[ -z $major ]]; then
		echo "no dev cluster in $PG_DEV_PGDATA"
		exit 3
	fi
	if pg_find_bindir "$major" && pg_is_running "$PG_DEV_PGDATA"; then
		echo "running: $PG_DEV_PGDATA (PostgreSQL $major), socket in $(pg_dev_socket_dir)"
	else
		echo "stopped: $PG_DEV_PGDATA (PostgreSQL $major)"
		exit 3
	fi
	;;
env)
	if [[ ! -S $(pg_dev_socket_dir)/.s.PGSQL.$PG_PORT ]]; then
		pg_log "note: the dev cluster is not running; start it with scripts/db.sh start"
	fi
	print_env
	;;
psql)
	pg_find_bindir "$(pg_cluster_major "$PG_DEV_PGDATA" || true)" || true
	exec "$(pg_client psql)" -d "$(pg_dev_url)" "$@"
	;;
*)
	usage
	;;
esac
