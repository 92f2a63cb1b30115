#!/usr/bin/env bash
# make failover-drill (also run by make test): the failover of
# docs/operations.md, done for real on two private clusters.
#
#  1. a primary and a streaming standby made from it with pg_basebackup -R,
#     replicating synchronously (the primary's synchronous_standby_names
#     names the standby, synchronous_commit on), each on its own socket;
#  2. passd started once on the multi-host URL of both with
#     target_session_attrs=read-write, migrated and seeded;
#  3. writers POST invoices and the deadline sweep runs, over and over;
#  4. the primary killed (pg_ctl stop -m immediate), a second later the
#     standby promoted (pg_ctl promote), as a failover manager would;
#  5. it passes when every invoice answered 201 is on the new primary, none
#     has two outcomes (passd check, and SQL), nothing was answered but 201
#     or 503 (no 500), and the same passd process answers 201 again within
#     $FAILOVER_RECOVERY_MAX seconds of the promotion without being touched.
#
# Everything lives in one temporary directory, removed (clusters stopped,
# passd stopped) however the drill ends; DRILL_KEEP=1 keeps it when the
# drill fails. Figures go to stderr and to $DRILL_REPORT when set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

# How long passd may take to answer 201 again after the promotion.
FAILOVER_RECOVERY_MAX=${FAILOVER_RECOVERY_MAX:-10}

drill_name=failover-drill
# shellcheck source=scripts/lib/drill.sh
source scripts/lib/drill.sh

dir=""
passd_pid=""
load_pids=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	for pid in "${load_pids[@]}" $passd_pid; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	if [[ -n $dir ]]; then
		for data in "$dir/primary" "$dir/standby"; do
			[[ -f $data/postmaster.pid ]] && pg_stop "$data" immediate 2>/dev/null
		done
		if ((rc != 0)) && [[ -n ${DRILL_KEEP:-} ]]; then
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

if ! command -v curl >/dev/null 2>&1; then
	tools_apt_install "the failover drill writes invoices through the API with curl" curl
fi
pg_ensure_bindir
pg_ensure_os_user
psql=$(pg_client psql)
dir=$(pg_tmp_create)
pg_prepare_owned_dir "$dir"
bin=$dir/bin/passd


# The settings both servers share. fsync is off: the machine does not
# crash in the drill, only the server; what a commit waits for is the
# standby, which synchronous_commit=on keeps.
shared_settings=("timezone='UTC'" "fsync=off" "wal_level=replica" "max_wal_senders=5" "hot_standby=on")

# setup_clusters: the primary, and the standby streaming from it. Only the
# primary names a synchronous standby: once promoted, the standby has none
# to wait for (a failover manager such as Patroni clears it, too).
setup_clusters() {
	pg_prepare_owned_dir "$dir/ps"
	pg_prepare_owned_dir "$dir/ss"
	pg_initdb "$dir/primary" "$dir/initdb.log"
	pg_write_conf "$dir/primary" "$dir/ps" "${shared_settings[@]}" \
		"synchronous_standby_names='standby'" "synchronous_commit=on"
	pg_start "$dir/primary" "$dir/primary.log"
	pg_prepare_owned_dir "$dir/standby"
	pg_as_owner "$PG_BIN/pg_basebackup" -D "$dir/standby" -R -X stream -c fast \
		-d "host=$dir/ps port=$PG_PORT user=$PG_SUPERUSER application_name=standby" >&2
	pg_write_conf "$dir/standby" "$dir/ss" "${shared_settings[@]}"
	pg_start "$dir/standby" "$dir/standby.log"
	for _ in $(seq 100); do
		[[ $(sql "$(pg_url postgres "$dir/ps")" "select sync_state from pg_stat_replication where application_name = 'standby'") == sync ]] && return 0
		sleep 0.1
	done
	fail "the standby is not replicating synchronously after 10 s (logs: $dir/primary.log, $dir/standby.log)"
}

# start_passd: serve on a loopback port; sets base. A port taken by
# someone else makes passd exit: another is tried. The deadline is one day,
# so that the sweep decides the drill's invoices (cared for 5 days ago).
start_passd() { drill_start_passd "$url" "$dir/datakey" PASSD_DEADLINE_DAYS=1; }

# prepare_passd: build passd, make its database and keyring on the
# primary (the standby follows), migrate, seed the demo data.
prepare_passd() {
	mkdir -p "$dir/bin"
	go build -o "$bin" ./cmd/passd
	sql "$(pg_url postgres "$dir/ps")" 'create database passd'
	# Both servers, the writable one wherever it is: the URL of the
	# operations guide's Failover section.
	url="postgres://$PG_SUPERUSER@/passd?host=$(pg_urlencode "$dir/ps"),$(pg_urlencode "$dir/ss")&sslmode=disable&target_session_attrs=read-write"
	"$bin" keygen --out "$dir/datakey" >/dev/null
	DATABASE_URL=$url PASSD_DATA_KEY_FILE=$dir/datakey "$bin" migrate 2>>"$dir/passd.log"
	DATABASE_URL=$url PASSD_DATA_KEY_FILE=$dir/datakey PASSD_ADDR=127.0.0.1:8080 \
		"$bin" seed-demo --tokens-file "$dir/tokens" >"$dir/seed.out" 2>>"$dir/passd.log"
	provider_token=$(awk '$1 == "demo-provider" { print $2 }' "$dir/tokens")
	admin_token=$(awk '$1 == "demo-admin" { print $2 }' "$dir/tokens")
	file_number=$(grep -o '"patient_file_number":"[^"]*"' "$dir/seed.out" | head -n 1 | cut -d'"' -f4)
	birth_date=$(grep -o '"birth_date":"[^"]*"' "$dir/seed.out" | head -n 1 | cut -d'"' -f4)
	# Past the one-day deadline passd is started with: the sweep decides
	# the drill's invoices as they come.
	care_date=$(TZ=Europe/Paris date -d '5 days ago' +%F)
	[[ -n $provider_token && -n $admin_token && -n $file_number && -n $birth_date ]] ||
		fail "seed-demo left no provider or admin token or demo file (see $dir/seed.out)"
}

# writer N: POST invoices until $dir/stop exists; one line per request:
# sent_ns answered_ns http_status invoice_id. A refused request is not
# sent again (its external_ref is not reused): only 201s count.
writer() {
	local n=$1 i=0 sent out status id
	while [[ ! -e $dir/stop ]]; do
		i=$((i + 1))
		sent=$(now_ns)
		out=$(curl -sS -m 15 -o - -w '\n%{http_code}' -H "Authorization: Bearer $provider_token" \
			-H 'Content-Type: application/json' -d "{\"patient_file_number\":\"$file_number\",\"birth_date\":\"$birth_date\",\"external_ref\":\"FAILOVER-$n-$i\",\"care_date\":\"$care_date\",\"lines\":[{\"code\":\"G\",\"label\":\"Consultation\",\"quantity\":1,\"unit_price\":\"30.00\"}]}" \
			"$base/api/v1/invoices" 2>/dev/null) || out=$'\n000'
		status=${out##*$'\n'}
		# A refusal has no id: grep finds nothing, which is no error here.
		id=$(grep -o '"id":"\?[0-9]*' <<<"${out%$'\n'*}" | head -n 1 | tr -dc 0-9) || true
		printf '%s %s %s %s\n' "$sent" "$(now_ns)" "$status" "${id:-0}"
		# A client backs off a little when refused.
		[[ $status == 201 ]] || sleep 0.1
	done >"$dir/writes.$n"
}

# sweeper: run the deadline sweep through the API until $dir/stop exists;
# one line per run: sent_ns answered_ns http_status.
sweeper() {
	local sent status
	while [[ ! -e $dir/stop ]]; do
		sent=$(now_ns)
		status=$(curl -sS -m 15 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $admin_token" \
			"$base/api/v1/jobs/deadline/run" 2>/dev/null) || status=000
		printf '%s %s %s\n' "$sent" "$(now_ns)" "$status"
		sleep 0.2
	done >"$dir/sweeps"
}

start_load() {
	rm -f "$dir/stop"
	for n in 1 2 3 4; do
		writer "$n" &
		load_pids+=($!)
	done
	sweeper &
	load_pids+=($!)
}

stop_load() {
	touch "$dir/stop"
	wait "${load_pids[@]}"
	load_pids=()
	cat "$dir"/writes.* >"$dir/writes"
}

# wait_for_201_after NS: wait until some request is answered 201 after NS;
# sets recovered_ns to the first such answer.
wait_for_201_after() {
	local deadline=$(($(now_ns) + FAILOVER_RECOVERY_MAX * 1000000000))
	while (($(now_ns) < deadline)); do
		recovered_ns=$(cat "$dir"/writes.* | awk -v t="$1" '$3 == "201" && $2 > t { print $2 }' | sort -n | head -n 1)
		[[ -n $recovered_ns ]] && return 0
		sleep 0.1
	done
	tail -n 20 "$dir/passd.log" >&2
	fail "passd answered no 201 within ${FAILOVER_RECOVERY_MAX}s of the promotion"
}

# failover: the primary dies; a second later (a failover manager's
# detection) the standby is promoted. Sets kill_ns, promote_ns.
failover() {
	kill_ns=$(now_ns)
	pg_stop "$dir/primary" immediate
	sleep 1
	promote_ns=$(now_ns)
	pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/standby" -w -t 60 -s promote >&2
	promoted_ns=$(now_ns)
}

# check_answers: only 201s and 503s, and every 201 on the new primary.
check_answers() {
	local new=$1 present=$dir/present
	if awk '$3 != "201" && $3 != "503"' "$dir/writes" | grep -q .; then
		awk '$3 != "201" && $3 != "503"' "$dir/writes" | head -n 5 >&2
		fail "some POST /api/v1/invoices were answered neither 201 nor 503 (above: sent_ns answered_ns status id)"
	fi
	if awk '$3 != "200" && $3 != "409" && $3 != "503"' "$dir/sweeps" | grep -q .; then
		awk '$3 != "200" && $3 != "409" && $3 != "503"' "$dir/sweeps" | head -n 5 >&2
		fail "some POST /api/v1/jobs/deadline/run were answered neither 200, 409 nor 503 (above: sent_ns answered_ns status)"
	fi
	sql "$new" "select id from invoices where external_ref like 'FAILOVER-%'" >"$present"
	read -r before after refused missing < <(awk -v k="$kill_ns" '
		NR == FNR { have[$1] = 1; next }
		$3 == "201" && $2 < k { before++ }
		$3 == "201" && $2 >= k { after++ }
		$3 == "503" { refused++ }
		$3 == "201" && !($4 in have) { missing++ }
		END { printf "%d %d %d %d\n", before, after, refused, missing }' "$present" "$dir/writes")
	((before > 0 && after > 0)) || fail "passd acknowledged $before invoice(s) before the kill and $after after: the drill needs both"
	((missing == 0)) || fail "$missing invoice(s) answered 201 are missing on the new primary"
}

# check_outcomes: each drill invoice is stored once and has at most one
# outcome (its first, no earlier one kept, at most one payout); passd
# check's money invariants hold on the new primary.
check_outcomes() {
	local new=$1
	twice=$(sql "$new" "select count(*) from invoices i where i.external_ref like 'FAILOVER-%' and (i.outcome_no <> 1
		or exists (select 1 from invoice_outcomes o where o.invoice_id = i.id)
		or (select count(*) from payouts p where p.invoice_id = i.id) > 1)")
	dup=$(sql "$new" "select count(*) - count(distinct external_ref) from invoices where external_ref like 'FAILOVER-%'")
	decided=$(sql "$new" "select count(*) from invoices where external_ref like 'FAILOVER-%' and status <> 'pending'")
	((twice == 0 && dup == 0)) || fail "$twice invoice(s) with more than one outcome, $dup external_ref(s) stored twice"
	((decided > 0)) || fail "the deadline sweep decided none of the drill's invoices"
	DATABASE_URL=$new "$bin" check >"$dir/check.json" 2>&1 || { cat "$dir/check.json" >&2; fail "passd check on the new primary"; }
}

report() {
	log "$*"
	if [[ -n ${DRILL_REPORT:-} ]]; then printf '%s\n' "$*" >>"$DRILL_REPORT"; fi
}

main() {
	local new sweeps
	setup_clusters
	prepare_passd
	start_passd
	start_load
	sleep 3
	failover
	wait_for_201_after "$promote_ns"
	sleep 2
	stop_load
	kill -0 "$passd_pid" 2>/dev/null || fail "passd exited during the failover"
	new=$(pg_url passd "$dir/ss")
	[[ $(sql "$new" 'select pg_is_in_recovery()') == f ]] || fail "the standby is still in recovery"
	check_answers "$new"
	check_outcomes "$new"
	sweeps=$(awk '{ n[$3]++ } END { for (s in n) printf "%s×%d ", s, n[s] }' "$dir/sweeps")

	report "PostgreSQL $(pg_bindir_version "$PG_BIN"): a primary and a synchronous standby (pg_basebackup -R), passd on both with target_session_attrs=read-write"
	report "invoices answered 201 before the kill: $before, after it: $after (all $((before + after)) on the new primary); answered 503 meanwhile: $refused; nothing else"
	report "deadline sweeps through the API (status×count): ${sweeps% }; invoices decided: $decided, none with two outcomes; passd check passes on the new primary"
	report "primary killed, standby promoted 1.0s later (pg_ctl promote took $(secs $((promoted_ns - promote_ns)))s); first 201 $(secs $((recovered_ns - promote_ns)))s after the promotion, $(secs $((recovered_ns - kill_ns)))s after the kill, with passd untouched"
	log "PASSED"
}

main "$@"
