#!/usr/bin/env bash
# make bench: measure passd against PostgreSQL's own limit (issue 6).
#
#   scripts/bench.sh [PASSD_BENCH_FLAGS...]
#   e.g. scripts/bench.sh --phases submit --clients 1,8 --submit-duration 3s
#
# Builds bin/passd and bin/passd-bench, starts a private PostgreSQL in a
# fresh temporary directory (unix socket only) that is DURABLE, unlike the
# test cluster: fsync, synchronous_commit and full_page_writes on, so that a
# commit costs what it costs in production. Only memory and checkpoint
# spacing are set, the same for every measurement. passd-bench then makes a
# fresh database for each measurement, prints a table and writes
# bench/results/latest.json; the cluster and its directory are removed when
# this script ends, however it ends. The exit status is passd-bench's: 1 on
# an error (a failed request or transaction, copies that differ), 0 even
# when a target is missed (the table says so).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=scripts/lib/group.sh
source scripts/lib/group.sh

# Children run as jobs in their own process group, so that on INT/TERM the
# whole group (passd-bench, its passd, pgbench, go test) is stopped before
# the cluster goes.
set -m

tmpdir=""
child=""
exec {orig_stderr}>&2

# The server's settings: durable, as production; memory for a 24 GB
# machine shared with others; checkpoints spaced so that seeding a million
# invoices does not checkpoint every few seconds.
pg_settings=(
	"fsync=on" "synchronous_commit=on" "full_page_writes=on"
	"max_connections=200" "shared_buffers='256MB'" "maintenance_work_mem='256MB'"
	"max_wal_size='8GB'" "checkpoint_timeout='15min'" "timezone='UTC'"
)

stop_child() {
	[[ -n $child ]] || return 0
	# SIGTERM, which passd-bench takes as the end of its run.
	group_stop "$child" TERM 300
	child=""
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	trap '' PIPE
	set +e
	exec 2>&"$orig_stderr"
	stop_child
	if [[ -n $tmpdir ]]; then
		if ((rc != 0)) && [[ -f $tmpdir/postgres.log ]]; then
			mkdir -p bench/results/run
			cp "$tmpdir/postgres.log" bench/results/run/postgres.log
			pg_log "the server's log is in bench/results/run/postgres.log"
		fi
		pg_tmp_destroy "$tmpdir"
		pg_log "removed the bench cluster in $tmpdir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

bash scripts/build.sh
go build -o bin/passd-bench ./cmd/passd-bench
echo "built bin/passd-bench" >&2

pg_ensure_bindir
pgbench=$(pg_client pgbench)
pg_ensure_os_user
# Not pg_tmp_create's name: this cluster is not the tests'.
tmpdir=$(mktemp -d /tmp/passd-bench.XXXXXXXX)
pg_prepare_owned_dir "$tmpdir"
pg_initdb "$tmpdir/data" "$tmpdir/initdb.log"
pg_write_conf "$tmpdir/data" "$tmpdir" "${pg_settings[@]}"
pg_start "$tmpdir/data" "$tmpdir/postgres.log"
BENCH_SERVER_URL=$(pg_url postgres "$tmpdir")
export BENCH_SERVER_URL
BENCH_PG_SETTINGS="${pg_settings[*]}"
export BENCH_PG_SETTINGS
pg_log "bench cluster in $tmpdir (durable: ${pg_settings[*]})"

rc=0
bin/passd-bench --passd bin/passd --pgbench "$pgbench" "$@" &
child=$!
wait "$child" || rc=$?
child=""
exit "$rc"
