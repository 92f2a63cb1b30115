# shellcheck shell=bash
# The drill that sources this sets drill_name, dir, bin and psql.
# shellcheck disable=SC2154
# What the drills (scripts/backup-drill.sh, scripts/failover-drill.sh)
# share: their log lines, their failure, timings, one psql query, and
# starting passd on a loopback port. The sourcing script sets drill_name
# before sourcing, and dir, bin and psql before calling these.

log() { printf '%s: %s\n' "$drill_name" "$*" >&2; }
fail() {
	log "FAILED: $*"
	exit 1
}

now_ns() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e9 }'; }

# sql URL QUERY: one psql query, unaligned, tuples only.
sql() { "$psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# drill_start_passd URL KEYFILE [NAME=VALUE...]: serve on a loopback port,
# with the settings given; sets base and passd_pid. A port taken by someone
# else makes passd exit: another is tried.
drill_start_passd() {
	local url=$1 key=$2 port try
	shift 2
	for try in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		base=http://127.0.0.1:$port
		env DATABASE_URL="$url" PASSD_DATA_KEY_FILE="$key" PASSD_ADDR="127.0.0.1:$port" "$@" \
			"$bin" serve >>"$dir/passd.log" 2>&1 &
		passd_pid=$!
		for _ in $(seq 150); do
			curl -fsS "$base/readyz" >/dev/null 2>&1 && return 0
			kill -0 "$passd_pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$passd_pid" 2>/dev/null; then break; fi
		wait "$passd_pid" || true
		log "passd exited at start (try $try); trying another port"
	done
	tail -n 20 "$dir/passd.log" >&2
	fail "passd did not become ready on $base"
}
