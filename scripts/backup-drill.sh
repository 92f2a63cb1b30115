#!/usr/bin/env bash
# make backup-drill (also run by make test): the backup and restore of
# docs/operations.md, done for real on a private cluster.
#
#  1. a cluster archiving its WAL with pgBackRest (local repository), passd
#     migrated and seeded, its keyring backed up apart from the data;
#  2. a full backup; invoices written through POST /api/v1/invoices while
#     the jobs run; an incremental backup;
#  3. more writes, a target time noted in the middle of them, more writes;
#  4. the cluster stopped as if its disk had died; a point-in-time restore
#     to the target into a new data directory; passd started on it;
#  5. it passes when every invoice acknowledged (201) before the target is
#     there and none sent after it is, the audit chain verifies, the money
#     invariants hold and passd serves, identity readable with the keyring;
#     then, with another keyring, identity unreadable and all else intact.
#
# Everything lives in one temporary directory, removed (cluster stopped,
# passd stopped) however the drill ends. Figures go to stderr and to
# $DRILL_REPORT when set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

drill_name=backup-drill
# shellcheck source=scripts/lib/drill.sh
source scripts/lib/drill.sh

dir=""
passd_pid=""
writer_pids=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	for pid in "${writer_pids[@]}" $passd_pid; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [[ -n $dir ]]; then
		[[ -f $dir/restored/postmaster.pid ]] && pg_stop "$dir/restored" immediate 2>/dev/null
		if ((rc != 0)) && [[ -n ${DRILL_KEEP:-} ]]; then
			[[ -f $dir/data/postmaster.pid ]] && pg_stop "$dir/data" immediate 2>/dev/null
			log "kept $dir (DRILL_KEEP)"
		else
			pg_tmp_destroy "$dir"
		fi
	fi
	if ((rc != 0)); then log "the drill failed (exit status $rc)"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ensure_pgbackrest
if ! command -v curl >/dev/null 2>&1; then
	tools_apt_install "the backup drill writes invoices through the API with curl" curl
fi
pg_ensure_bindir
pg_ensure_os_user
psql=$(pg_client psql)
dir=$(pg_tmp_create)
pg_prepare_owned_dir "$dir"
stanza=passd
conf=$dir/pgbackrest.conf
bin=$dir/bin/passd

# pgbr ARGS...: pgBackRest as the cluster's owner, with the drill's config.
pgbr() { pg_as_owner pgbackrest --config="$conf" --stanza="$stanza" "$@"; }

# setup_cluster: initdb, pgBackRest's configuration, WAL archiving on.
setup_cluster() {
	mkdir -p "$dir/repo" "$dir/log" "$dir/lock" "$dir/spool"
	cat >"$conf" <<CONF
[global]
repo1-path=$dir/repo
repo1-retention-full=2
log-path=$dir/log
lock-path=$dir/lock
spool-path=$dir/spool
log-level-console=warn
log-level-file=info
start-fast=y
compress-type=zst

[$stanza]
pg1-path=$dir/data
pg1-socket-path=$dir
pg1-port=$PG_PORT
pg1-user=$PG_SUPERUSER
CONF
	pg_give_to_owner "$conf" "$dir/repo" "$dir/log" "$dir/lock" "$dir/spool"
	pg_initdb "$dir/data" "$dir/initdb.log"
	pg_write_conf "$dir/data" "$dir" "timezone='UTC'" "wal_level=replica" "archive_mode=on" \
		"archive_command='pgbackrest --config=$conf --stanza=$stanza archive-push %p'" \
		"max_wal_senders=3"
	pg_start "$dir/data" "$dir/postgres.log"
	pgbr stanza-create
	pgbr check
}

# start_passd URL KEYFILE: serve on a loopback port; sets base.
start_passd() { drill_start_passd "$1" "$2"; }

stop_passd() {
	# passd exits 0 on SIGTERM; a passd already gone is no failure here.
	if kill "$passd_pid"; then
		wait "$passd_pid" || true
	fi
	passd_pid=""
}

# writer N: POST invoices until $dir/stop exists; one line per invoice:
# sent_ns acked_ns http_status invoice_id.
writer() {
	local n=$1 i=0 sent out status id
	while [[ ! -e $dir/stop ]]; do
		i=$((i + 1))
		sent=$(now_ns)
		out=$(curl -sS -o - -w '\n%{http_code}' -H "Authorization: Bearer $provider_token" \
			-H 'Content-Type: application/json' -d "{\"patient_file_number\":\"$file_number\",\"birth_date\":\"$birth_date\",\"external_ref\":\"DRILL-$n-$i\",\"care_date\":\"$care_date\",\"lines\":[{\"code\":\"G\",\"label\":\"Consultation\",\"quantity\":1,\"unit_price\":\"30.00\"}]}" \
			"$base/api/v1/invoices" 2>/dev/null) || out=$'\n000'
		status=${out##*$'\n'}
		id=$(grep -o '"id":"\?[0-9]*' <<<"${out%$'\n'*}" | head -n 1 | tr -dc 0-9)
		printf '%s %s %s %s\n' "$sent" "$(now_ns)" "$status" "${id:-0}"
	done >"$dir/writes.$n"
}

start_writers() {
	rm -f "$dir/stop"
	for n in 1 2; do
		writer "$n" &
		writer_pids+=($!)
	done
}

stop_writers() {
	touch "$dir/stop"
	wait "${writer_pids[@]}"
	writer_pids=()
	cat "$dir"/writes.* >>"$dir/writes"
	rm -f "$dir"/writes.*
}

run_jobs() {
	local job
	for job in release deadline claim-batch payout-batch reminders; do
		DATABASE_URL=$url PASSD_DATA_KEY_FILE=$dir/datakey "$bin" run-job "$job" >/dev/null 2>>"$dir/passd.log" ||
			fail "passd run-job $job"
	done
}

# prepare_passd: build passd, make its database and keyring, migrate, seed
# the demo data; the keyring is copied apart, as its own backup.
prepare_passd() {
	mkdir -p "$dir/bin" "$dir/key-backup"
	go build -o "$bin" ./cmd/passd
	"$psql" -X -q -v ON_ERROR_STOP=1 -d "$(pg_url postgres "$dir")" -c 'create database passd'
	url=$(pg_url passd "$dir")
	"$bin" keygen --out "$dir/datakey" >/dev/null
	cp "$dir/datakey" "$dir/key-backup/datakey"
	DATABASE_URL=$url PASSD_DATA_KEY_FILE=$dir/datakey "$bin" migrate 2>>"$dir/passd.log"
	DATABASE_URL=$url PASSD_DATA_KEY_FILE=$dir/datakey PASSD_ADDR=127.0.0.1:8080 \
		"$bin" seed-demo --tokens-file "$dir/tokens" >"$dir/seed.out" 2>>"$dir/passd.log"
	provider_token=$(awk '$1 == "demo-provider" { print $2 }' "$dir/tokens")
	coordinator_token=$(awk '$1 == "demo-coordinator" { print $2 }' "$dir/tokens")
	file_number=$(grep -o '"patient_file_number":"[^"]*"' "$dir/seed.out" | head -n 1 | cut -d'"' -f4)
	birth_date=$(grep -o '"birth_date":"[^"]*"' "$dir/seed.out" | head -n 1 | cut -d'"' -f4)
	care_date=$(grep -o '"care_date":"[^"]*"' "$dir/seed.out" | head -n 1 | cut -d'"' -f4)
	[[ -n $provider_token && -n $coordinator_token && -n $file_number && -n $birth_date && -n $care_date ]] ||
		fail "seed-demo left no provider token or demo file (see $dir/seed.out)"
}


# restore_to TARGET: the cluster's disk is gone; restore the last backup
# before TARGET into a new data directory and replay the archived WAL up to
# it, then promote. This is the restore of docs/operations.md.
restore_to() {
	pg_prepare_owned_dir "$dir/restored"
	pgbr --pg1-path="$dir/restored" --type=time --target="$1" --target-action=promote restore
	# The stanza's cluster lives there now: its WAL archiving (archive-push)
	# and the next backups read pg1-path.
	sed -i "s|^pg1-path=.*|pg1-path=$dir/restored|" "$conf"
	pg_start "$dir/restored" "$dir/postgres-restored.log"
	for _ in $(seq 300); do
		[[ $(sql "$(pg_url postgres "$dir")" 'select pg_is_in_recovery()') == f ]] && return 0
		sleep 0.2
	done
	fail "the restored cluster is still in recovery after 60 s (log: $dir/postgres-restored.log)"
}

# check_invoices URL TARGET_NS: every invoice acknowledged before the
# target is in the restored database, none sent after it is. Sets the
# figures before, after, between (sent before, acknowledged after: either
# way is right).
check_invoices() {
	local present=$dir/present
	sql "$1" "select id from invoices where external_ref like 'DRILL-%'" >"$present"
	if awk '$3 != "201"' "$dir/writes" | grep -q .; then
		awk '$3 != "201"' "$dir/writes" | head -n 5 >&2
		fail "some POST /api/v1/invoices were not answered 201 (above: sent_ns acked_ns status id)"
	fi
	read -r before after between missing extra < <(awk -v t="$2" '
		NR == FNR { have[$1] = 1; next }
		$2 < t { before++; if (!($4 in have)) missing++ }
		$1 > t { after++; if ($4 in have) extra++ }
		$1 <= t && $2 >= t { between++ }
		END { printf "%d %d %d %d %d\n", before, after, between, missing, extra }' "$present" "$dir/writes")
	((before > 0 && after > 0)) || fail "the drill wrote $before invoice(s) before the target and $after after: it needs both"
	((missing == 0)) || fail "$missing invoice(s) acknowledged before the target are missing after the restore"
	((extra == 0)) || fail "$extra invoice(s) sent after the target are in the restored database"
}

# http_status METHOD PATH TOKEN: the status passd answers.
http_status() {
	curl -sS -o "$dir/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" "$base$2"
}

# check_passd_serves URL KEY WANT_IDENTITY: passd on the restored database
# serves an invoice written before the target; the patient file answers
# WANT_IDENTITY (200 with the keyring, 503 identity_key_missing without);
# the audit chain and the money invariants hold.
check_passd_serves() {
	local code invoice patient
	DATABASE_URL=$1 "$bin" audit verify >"$dir/audit.out" 2>&1 || { cat "$dir/audit.out" >&2; fail "passd audit verify on the restored database"; }
	DATABASE_URL=$1 "$bin" check >"$dir/check.json" 2>&1 || { cat "$dir/check.json" >&2; fail "passd check on the restored database"; }
	start_passd "$1" "$2"
	invoice=$(awk -v t="$target_ns" '$2 < t { print $4; exit }' "$dir/writes")
	code=$(http_status GET "/api/v1/invoices/$invoice" "$provider_token")
	[[ $code == 200 ]] || fail "GET /api/v1/invoices/$invoice answered $code: $(cat "$dir/body")"
	patient=$(sql "$1" "select id from patients where file_number = '$file_number'")
	code=$(http_status GET "/api/v1/patients/$patient" "$coordinator_token")
	[[ $code == "$3" ]] || fail "GET /api/v1/patients/$patient answered $code, want $3: $(cat "$dir/body")"
	if [[ $3 == 200 ]] && ! grep -q '"last_name":"[^"]' "$dir/body"; then
		fail "the patient file has no readable name: $(cat "$dir/body")"
	fi
	if [[ $3 == 503 ]] && ! grep -q 'identity_key_missing' "$dir/body"; then
		fail "without the keyring the patient file should say identity_key_missing: $(cat "$dir/body")"
	fi
	stop_passd
}

report() {
	log "$*"
	if [[ -n ${DRILL_REPORT:-} ]]; then printf '%s\n' "$*" >>"$DRILL_REPORT"; fi
}

main() {
	local t full_s incr_s restore_s sizes
	setup_cluster
	prepare_passd
	start_passd "$url" "$dir/datakey"

	t=$(now_ns)
	pgbr --type=full backup
	full_s=$(secs $(($(now_ns) - t)))
	start_writers
	sleep 2
	run_jobs
	t=$(now_ns)
	pgbr --type=incr backup
	incr_s=$(secs $(($(now_ns) - t)))
	run_jobs
	sleep 2
	target_ns=$(now_ns)
	target=$(date -u -d "@${target_ns:0:10}.${target_ns:10:6}" '+%Y-%m-%d %H:%M:%S.%6N+00')
	log "target time: $target"
	sleep 2
	run_jobs
	sleep 1
	stop_writers
	stop_passd
	# Switches to a new WAL segment and waits until it is archived: the
	# writes after the target are in the repository.
	pgbr check
	sizes=$(pgbr info --output=json | tr -d ' \n' | grep -o '"repository":{[^}]*}' | sed 's/"repository"://' | paste -sd' ')

	# The disk dies: the cluster and the key file beside it are gone.
	pg_stop "$dir/data" immediate
	rm -rf -- "${dir:?}/data" "$dir/datakey"
	t=$(now_ns)
	restore_to "$target"
	restore_s=$(secs $(($(now_ns) - t)))
	local rurl=$url
	check_invoices "$rurl" "$target_ns"
	check_passd_serves "$rurl" "$dir/key-backup/datakey" 200
	"$bin" keygen --out "$dir/another-key" >/dev/null
	check_passd_serves "$rurl" "$dir/another-key" 503

	report "pgBackRest $(pgbackrest version | cut -d' ' -f2), PostgreSQL $(pg_bindir_version "$PG_BIN")"
	report "full backup ${full_s}s, incremental ${incr_s}s; repository sizes (bytes, per backup): $sizes"
	report "invoices acknowledged before the target: $before (all restored); sent after it: $after (none restored); in flight across it: $between"
	report "point-in-time restore and promotion: ${restore_s}s; passd audit verify, passd check and passd serve pass on the restored database"
	report "with the keyring's backup the patient file reads (200); with another keyring it is 503 identity_key_missing while invoices, the audit chain and the invariants are intact"
	log "PASSED"
}

main "$@"
