#!/usr/bin/env bash
# make test: lint the Go code (scripts/lint.sh: gofmt, staticcheck) and the
# API contract (scripts/lint-api.sh), then go vet ./... and
# go test -race -count=1 against a real PostgreSQL, then (for ./..., the
# default) the backup drill, scripts/backup-drill.sh, and the failover
# drill, scripts/failover-drill.sh.
#
#   scripts/test.sh [GO_TEST_ARGS...]     (default: ./...)
#   e.g. scripts/test.sh -run TestX ./billing/
#
# With TEST_DATABASE_URL set, that server is used as it is. Otherwise a
# throwaway cluster is made in a fresh temporary directory (unix socket only,
# fsync off), TEST_DATABASE_URL points at its superuser, and the cluster and
# directory are removed when this script ends, however it ends (tests
# failing, Ctrl-C, SIGTERM, SIGHUP, a closed output pipe). The exit status
# is that of the lints, go vet or go test, the first that fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=scripts/lib/group.sh
source scripts/lib/group.sh
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

if (($# == 0)); then
	set -- ./...
fi

# Children run as background jobs in their own process group (job control),
# so that on INT/TERM the whole group (go and the test binaries it started)
# can be stopped before the cluster is removed.
set -m

tmpdir=""
child=""
# The stderr we started with: a trap may run while a redirection is in force
# (e.g. in the middle of `initdb >log 2>&1`), and cleanup must still report.
exec {orig_stderr}>&2

stop_child() {
	[[ -n $child ]] || return 0
	# SIGINT, as Ctrl-C would send: go and the test binaries stop at once.
	group_stop "$child" INT 100
	child=""
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	# Our output may go to a pipe whose reader is gone (e.g. `make test | tee`
	# after Ctrl-C); do not let SIGPIPE cut the cleanup short.
	trap '' PIPE
	set +e
	exec 2>&"$orig_stderr"
	stop_child
	if [[ -n $tmpdir ]]; then
		pg_tmp_destroy "$tmpdir"
		pg_log "removed the test cluster in $tmpdir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# run CMD...: run CMD as a job and wait for it; returns its exit status.
# (wait returns at once when INT/TERM arrives, so the traps run promptly.)
run() {
	local rc=0
	printf '+ %s\n' "$*" >&2
	"$@" &
	child=$!
	wait "$child" || rc=$?
	child=""
	return "$rc"
}

# The Go lint needs nothing installed here: a finding fails fast.
run bash scripts/lint.sh
ensure_xmllint
# The end-to-end tests (cmd/passd/e2e_test.go) drive Debian's chromium with
# playwright-core and axe-core from node_modules/.
ensure_chromium
# passd report prints its PDF with that chromium; its test reads the PDF
# with poppler's pdfinfo and pdftotext.
ensure_poppler
ensure_node_tools
# The package's tests (packaging/) verify its unit and install it.
ensure_package_tools
run bash scripts/lint-api.sh
run go vet ./...

if [[ -n ${TEST_DATABASE_URL:-} ]]; then
	pg_log "TEST_DATABASE_URL is set; testing against that server (no cluster started)"
else
	tmpdir=$(pg_tmp_create)
	pg_tmp_start "$tmpdir"
	TEST_DATABASE_URL=$(pg_url postgres "$tmpdir")
	export TEST_DATABASE_URL
	pg_log "TEST_DATABASE_URL=$TEST_DATABASE_URL"
fi

# The cmd/passd package runs its browser walks and fault tests in about
# 5 minutes, 8 on a loaded machine: past go test's default of 10, a slow
# CI machine would fail on time, not on a defect.
run go test -race -count=1 -timeout 30m "$@"

# The whole suite (make test) also rehearses the backup and the restore to
# a point in time (make backup-drill, on a cluster of its own) and the
# failover to a standby (make failover-drill, on two clusters of its own);
# a targeted run (scripts/test.sh -run TestX ./pkg/) leaves them out.
if [[ "$*" == ./... ]]; then
	run bash scripts/backup-drill.sh
	run bash scripts/failover-drill.sh
fi
