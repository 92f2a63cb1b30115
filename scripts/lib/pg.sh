# shellcheck shell=bash
#
# Shared PostgreSQL helpers for passd's scripts (run.sh, migrate.sh, db.sh,
# test.sh). Source it from a bash script that runs with `set -euo pipefail`;
# it does nothing by itself.
#
# Two kinds of cluster are managed here, both made with the machine's own
# initdb/pg_ctl and both listening ONLY on a unix socket (listen_addresses=''),
# never on TCP, so they never collide with a system PostgreSQL on 5432:
#
#   dev cluster   ./.data/pg, socket in ./.data/run, log ./.data/postgres.log;
#                 kept between runs (fsync stays on), database "passd".
#   test cluster  a fresh `mktemp -d` directory, fsync etc. off, thrown away
#                 by the caller (pg_tmp_destroy) when the tests end.
#
# As root (initdb refuses to run as root), every server-side command runs as
# the `postgres` OS user, which is created if missing; the directories it
# needs are chown'ed to it.
#
# Environment knobs (all optional):
#   PG_BINDIR   use the server binaries in this directory, skip discovery.

# The port only names the socket file (.s.PGSQL.5432); no TCP port is opened.
PG_PORT=5432
# Superuser role that initdb creates; the URLs below connect as it.
PG_SUPERUSER=postgres
# OS user that owns and runs the clusters when we are root.
PG_OS_USER=postgres
# sun_path holds 108 bytes including the NUL, so a socket path may have 107.
PG_SOCKET_PATH_MAX=107

PG_REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
PG_DEV_DATA_DIR=$PG_REPO_ROOT/.data
PG_DEV_PGDATA=$PG_DEV_DATA_DIR/pg
PG_DEV_LOG=$PG_DEV_DATA_DIR/postgres.log
PG_DEV_DB=passd

PG_BIN=""   # set by pg_find_bindir / pg_ensure_bindir

pg_log() { printf 'passd-db: %s\n' "$*" >&2; }
pg_warn() { printf 'passd-db: WARNING: %s\n' "$*" >&2; }
pg_die() {
	printf 'passd-db: ERROR: %s\n' "$*" >&2
	exit 1
}

pg_is_root() { [[ $(id -u) -eq 0 ]]; }

# --- small string helpers ---------------------------------------------------

# pg_shell_quote STR: STR as one single-quoted shell word.
pg_shell_quote() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

# pg_conf_quote STR: STR as a postgresql.conf string literal.
pg_conf_quote() {
	local s=${1//\'/\'\'}
	printf "'%s'" "$s"
}

# pg_urlencode STR: percent-encode STR for a URL query value, leaving
# unreserved characters and '/' alone (so ordinary paths read as they are).
pg_urlencode() {
	local LC_ALL=C
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9/._~-]) out+=$c ;;
		*)
			printf -v c '%%%02X' "'$c"
			out+=$c
			;;
		esac
	done
	printf '%s' "$out"
}

# pg_url DBNAME SOCKET_DIR: a libpq/pgx URL for DBNAME over the unix socket.
pg_url() {
	printf 'postgres://%s@/%s?host=%s&sslmode=disable' \
		"$PG_SUPERUSER" "$1" "$(pg_urlencode "$2")"
}

# pg_bytes STR: length of STR in bytes.
pg_bytes() {
	local LC_ALL=C
	local s=$1
	printf '%s' "${#s}"
}

# pg_socket_fits DIR: whether DIR/.s.PGSQL.<port> fits in a unix socket path.
pg_socket_fits() {
	local sock="$1/.s.PGSQL.$PG_PORT"
	(($(pg_bytes "$sock") <= PG_SOCKET_PATH_MAX))
}

# --- finding the server binaries -------------------------------------------

# pg_bindir_version DIR: prints the PostgreSQL version (e.g. 15.20) of the
# server binaries in DIR; fails if DIR has no usable initdb/pg_ctl/postgres.
pg_bindir_version() {
	local dir=$1 tool out
	for tool in initdb pg_ctl postgres; do
		[[ -x $dir/$tool ]] || return 1
	done
	out=$("$dir/postgres" --version 2>/dev/null) || return 1
	[[ $out =~ \(PostgreSQL\)\ ([0-9]+(\.[0-9]+)?) ]] || return 1
	printf '%s\n' "${BASH_REMATCH[1]}"
}

# pg_list_bindirs: prints "VERSION<TAB>DIR" for every server bin dir found in
# PATH and /usr/lib/postgresql/*/bin, highest version first.
pg_list_bindirs() {
	local -a dirs=()
	local tool p d v
	if [[ -n ${PG_BINDIR:-} ]]; then
		dirs+=("$PG_BINDIR")
	else
		for tool in initdb pg_ctl postgres; do
			if p=$(command -v "$tool" 2>/dev/null) && [[ $p == /* ]]; then
				dirs+=("$(dirname "$(readlink -f "$p")")")
			fi
		done
		for d in /usr/lib/postgresql/*/bin; do
			[[ -d $d ]] && dirs+=("$(readlink -f "$d")")
		done
	fi
	((${#dirs[@]})) || return 0
	for d in "${dirs[@]}"; do
		if v=$(pg_bindir_version "$d"); then
			printf '%s\t%s\n' "$v" "$d"
		fi
	done | sort -u | sort -t $'\t' -k1,1Vr
}

# pg_find_bindir [MAJOR]: sets PG_BIN to the highest-version server bin dir
# (of major version MAJOR if given). Fails quietly if there is none.
pg_find_bindir() {
	local want=${1:-} v d
	PG_BIN=""
	while IFS=$'\t' read -r v d; do
		if [[ -z $want || ${v%%.*} == "$want" ]]; then
			PG_BIN=$d
			return 0
		fi
	done < <(pg_list_bindirs)
	return 1
}

# pg_ensure_bindir [MAJOR]: like pg_find_bindir, but installs PostgreSQL
# (Debian package `postgresql`) when no server binaries exist at all and we
# are root with apt-get; otherwise stops with a message naming what to install.
pg_ensure_bindir() {
	local want=${1:-} found
	if pg_find_bindir "$want"; then
		pg_log "using PostgreSQL $(pg_bindir_version "$PG_BIN") from $PG_BIN"
		return 0
	fi
	found=$(pg_list_bindirs)
	if [[ -n $want && -n $found ]]; then
		pg_die "the cluster was created by PostgreSQL $want, but only these server binaries were found:
$found
Install PostgreSQL $want server binaries (Debian: postgresql-$want), or remove the cluster directory to start afresh (its data is lost)."
	fi
	if [[ -z $found ]] && pg_is_root && command -v apt-get >/dev/null 2>&1; then
		pg_log "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; installing the Debian package postgresql"
		DEBIAN_FRONTEND=noninteractive apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
		if pg_find_bindir "$want"; then
			pg_log "using PostgreSQL $(pg_bindir_version "$PG_BIN") from $PG_BIN"
			return 0
		fi
	fi
	pg_die "no PostgreSQL${want:+ $want} server binaries (initdb, pg_ctl, postgres) found in PATH or /usr/lib/postgresql/*/bin.
Install PostgreSQL server binaries, e.g. the Debian package postgresql (apt-get install postgresql), or set DATABASE_URL / TEST_DATABASE_URL to an existing database."
}

# pg_client TOOL: path of a client tool (psql, ...), preferring PG_BIN's.
pg_client() {
	local p
	if [[ -n $PG_BIN && -x $PG_BIN/$1 ]]; then
		printf '%s\n' "$PG_BIN/$1"
	elif p=$(command -v "$1" 2>/dev/null); then
		printf '%s\n' "$p"
	else
		pg_die "$1 not found (looked in $PG_BIN and PATH); install the PostgreSQL client, e.g. the Debian package postgresql-client"
	fi
}

# --- running as the cluster owner -------------------------------------------

# pg_ensure_os_user: as root, make sure the `postgres` OS user exists.
pg_ensure_os_user() {
	pg_is_root || return 0
	getent passwd "$PG_OS_USER" >/dev/null && return 0
	pg_log "creating the system user '$PG_OS_USER' to own the PostgreSQL cluster (initdb refuses to run as root)"
	useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER" >&2
}

# pg_as_owner CMD...: run CMD as the cluster owner: the postgres OS user when
# we are root, ourselves otherwise. Runs from / so an unreadable working
# directory does not upset initdb/pg_ctl.
pg_as_owner() {
	if ! pg_is_root; then
		(cd / && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u "$PG_OS_USER" -- "$@")
	else
		local cmd
		cmd=$(printf '%q ' "$@")
		(cd / && su "$PG_OS_USER" -s /bin/bash -c "$cmd")
	fi
}

# pg_give_to_owner PATH...: chown PATH to the postgres OS user when root.
pg_give_to_owner() {
	pg_is_root || return 0
	chown "$PG_OS_USER:" "$@"
}

# pg_check_traversable DIR: as root, make sure the postgres OS user can reach
# DIR through every parent directory; adds o+x where it is missing (saying so)
# and stops with a clear message where that is not possible.
pg_check_traversable() {
	pg_is_root || return 0
	local target=$1 path='' part
	local -a parts
	IFS=/ read -r -a parts <<<"${target#/}"
	for part in "${parts[@]}"; do
		[[ -n $part ]] || continue
		path+=/$part
		[[ $path == "$target" ]] && break
		if ! pg_as_owner test -x "$path"; then
			if chmod o+x "$path" 2>/dev/null && pg_as_owner test -x "$path"; then
				pg_warn "ran 'chmod o+x $path' so the $PG_OS_USER user can reach $target"
			else
				pg_die "the $PG_OS_USER OS user cannot traverse $path, so it cannot reach $target, and 'chmod o+x $path' did not help.
Make $path traversable for $PG_OS_USER, move the project elsewhere, or set DATABASE_URL (TEST_DATABASE_URL for tests) to an existing database."
			fi
		fi
	done
}

# pg_prepare_owned_dir DIR: create DIR (mode 0700) owned by the cluster owner.
pg_prepare_owned_dir() {
	mkdir -p "$1"
	chmod 700 "$1"
	pg_give_to_owner "$1"
	pg_check_traversable "$1"
}

# --- cluster lifecycle ------------------------------------------------------

# pg_locale: C.UTF-8 when the machine has it, else C.
pg_locale() {
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		printf 'C.UTF-8'
	else
		printf 'C'
	fi
}

# pg_initdb PGDATA LOGFILE [INITDB_ARGS...]: create a cluster in PGDATA (which
# must be missing or empty), trust auth, superuser postgres, UTF8.
pg_initdb() {
	local pgdata=$1 logfile=$2 loc
	shift 2
	loc=$(pg_locale)
	if [[ -d $pgdata ]] && [[ -n $(ls -A "$pgdata") ]]; then
		pg_die "$pgdata exists and is not empty but holds no PostgreSQL cluster (no PG_VERSION); a previous initdb was probably interrupted. Remove it and try again."
	fi
	pg_prepare_owned_dir "$pgdata"
	pg_log "creating a PostgreSQL cluster in $pgdata (locale $loc)"
	if ! pg_as_owner "$PG_BIN/initdb" -D "$pgdata" -U "$PG_SUPERUSER" --auth=trust \
		-E UTF8 --locale="$loc" "$@" >"$logfile" 2>&1; then
		cat "$logfile" >&2
		pg_die "initdb failed (output above, also in $logfile)"
	fi
}

# pg_write_conf PGDATA SOCKET_DIR [SETTING=VALUE...]: (re)write
# PGDATA/passd.conf with unix-socket-only settings plus the given ones, and
# make postgresql.conf include it. VALUEs are written as they are.
pg_write_conf() {
	local pgdata=$1 sockdir=$2 kv
	shift 2
	{
		printf '# Written by scripts/lib/pg.sh on every start; edits are lost.\n'
		printf "listen_addresses = ''\n"
		printf 'unix_socket_directories = %s\n' "$(pg_conf_quote "$sockdir")"
		printf 'unix_socket_permissions = 0700\n'
		printf 'port = %s\n' "$PG_PORT"
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$pgdata/passd.conf"
	pg_give_to_owner "$pgdata/passd.conf"
	if ! grep -qx "include = 'passd.conf'" "$pgdata/postgresql.conf"; then
		printf "\n# passd: unix-socket-only dev/test settings\ninclude = 'passd.conf'\n" >>"$pgdata/postgresql.conf"
	fi
}

# pg_is_running PGDATA: whether a server is running on PGDATA.
pg_is_running() {
	[[ -f $1/postmaster.pid ]] || return 1
	pg_as_owner "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_start PGDATA LOGFILE: start the server and wait until it accepts
# connections. listen_addresses is forced empty on the command line as well,
# so the server can never open a TCP port whatever the config files say.
pg_start() {
	local pgdata=$1 logfile=$2
	if [[ ! -e $logfile ]]; then
		touch "$logfile"
		pg_give_to_owner "$logfile"
	fi
	if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$pgdata" -l "$logfile" -w -t 60 -s \
		-o "-c listen_addresses=" start >&2; then
		tail -n 30 "$logfile" >&2 || true
		pg_die "could not start PostgreSQL on $pgdata (log above, in full in $logfile)"
	fi
}

# pg_stop PGDATA [MODE]: stop the server (fast by default) if it is running.
pg_stop() {
	local pgdata=$1 mode=${2:-fast}
	pg_as_owner "$PG_BIN/pg_ctl" -D "$pgdata" -m "$mode" -w -t 60 -s stop >&2
}

# pg_cluster_major PGDATA: the major version PGDATA was created with, if any.
pg_cluster_major() {
	[[ -f $1/PG_VERSION ]] && cat "$1/PG_VERSION"
}

# --- the dev cluster (./.data) ----------------------------------------------

# pg_dev_socket_dir: where the dev cluster's socket lives: ./.data/run, or, if
# that path is too long for a unix socket, a short directory under /tmp named
# after a hash of the project path.
pg_dev_socket_dir() {
	local dir=$PG_DEV_DATA_DIR/run hash
	if pg_socket_fits "$dir"; then
		printf '%s\n' "$dir"
		return
	fi
	hash=$(printf '%s' "$PG_REPO_ROOT" | sha256sum | cut -c1-12)
	printf '/tmp/passd-pg-%s\n' "$hash"
}

# pg_dev_url [DBNAME]: the URL of the dev database (default passd).
pg_dev_url() {
	pg_url "${1:-$PG_DEV_DB}" "$(pg_dev_socket_dir)"
}

# pg_dev_start: create the dev cluster if missing, start it if stopped.
pg_dev_start() {
	local sockdir major owner want_owner
	mkdir -p "$PG_DEV_DATA_DIR"
	major=$(pg_cluster_major "$PG_DEV_PGDATA" || true)
	pg_ensure_bindir "$major"
	pg_ensure_os_user

	sockdir=$(pg_dev_socket_dir)
	if [[ $sockdir != "$PG_DEV_DATA_DIR"/* ]]; then
		pg_warn "$PG_DEV_DATA_DIR/run is too long for a unix socket path (max $PG_SOCKET_PATH_MAX bytes); using $sockdir for the socket instead"
	fi
	if [[ -d $sockdir ]] && [[ $(stat -c %u "$sockdir") != "$(id -u "$(pg_owner_name)")" ]]; then
		pg_die "socket directory $sockdir exists but belongs to someone else ($(stat -c %U "$sockdir")); remove it or move the project"
	fi

	if [[ -z $major ]]; then
		pg_initdb "$PG_DEV_PGDATA" "$PG_DEV_DATA_DIR/initdb.log"
	else
		owner=$(stat -c %U "$PG_DEV_PGDATA")
		want_owner=$(pg_owner_name)
		if [[ $owner != "$want_owner" ]]; then
			pg_die "$PG_DEV_PGDATA belongs to '$owner' but would be run as '$want_owner'; run as the user who created it, or chown -R $want_owner $PG_DEV_PGDATA"
		fi
		pg_check_traversable "$PG_DEV_PGDATA"
	fi

	if pg_is_running "$PG_DEV_PGDATA"; then
		if [[ -S $sockdir/.s.PGSQL.$PG_PORT ]]; then
			pg_log "PostgreSQL already running on $PG_DEV_PGDATA (socket in $sockdir)"
			return 0
		fi
		pg_warn "PostgreSQL is running on $PG_DEV_PGDATA but its socket is not in $sockdir; restarting it"
		pg_stop "$PG_DEV_PGDATA" fast
	fi

	pg_prepare_owned_dir "$sockdir"
	pg_write_conf "$PG_DEV_PGDATA" "$sockdir" \
		"max_connections=200" "fsync=on" "timezone='UTC'"
	pg_log "starting PostgreSQL on $PG_DEV_PGDATA (unix socket only, in $sockdir; log $PG_DEV_LOG)"
	pg_start "$PG_DEV_PGDATA" "$PG_DEV_LOG"
}

# pg_owner_name: the OS user that owns/runs the clusters.
pg_owner_name() {
	if pg_is_root; then
		printf '%s\n' "$PG_OS_USER"
	else
		id -un
	fi
}

# pg_dev_ensure_db [DBNAME]: create DBNAME (default passd) in the running dev
# cluster if it does not exist yet.
pg_dev_ensure_db() {
	local db=${1:-$PG_DEV_DB} psql admin exists
	psql=$(pg_client psql)
	admin=$(pg_dev_url postgres)
	# Statements go through stdin: psql expands :'db' / :"db" only there.
	exists=$("$psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$admin" -v db="$db" \
		<<<"select 1 from pg_database where datname = :'db';")
	if [[ $exists != 1 ]]; then
		pg_log "creating database $db"
		"$psql" -X -q -v ON_ERROR_STOP=1 -d "$admin" -v db="$db" \
			<<<'create database :"db";'
	fi
}

# pg_dev_stop: stop the dev cluster; a no-op (with a message) if not running.
pg_dev_stop() {
	local major sockdir
	if [[ ! -f $PG_DEV_PGDATA/PG_VERSION ]]; then
		pg_log "no dev cluster in $PG_DEV_PGDATA; nothing to stop"
		return 0
	fi
	if [[ ! -f $PG_DEV_PGDATA/postmaster.pid ]]; then
		pg_log "dev cluster in $PG_DEV_PGDATA is not running; nothing to stop"
		return 0
	fi
	major=$(pg_cluster_major "$PG_DEV_PGDATA")
	pg_find_bindir "$major" ||
		pg_die "PostgreSQL $major binaries (pg_ctl) not found; cannot stop the cluster in $PG_DEV_PGDATA"
	if ! pg_is_running "$PG_DEV_PGDATA"; then
		pg_log "dev cluster in $PG_DEV_PGDATA is not running; nothing to stop"
		return 0
	fi
	pg_stop "$PG_DEV_PGDATA" fast
	pg_log "stopped the dev cluster in $PG_DEV_PGDATA (data kept)"
	sockdir=$(pg_dev_socket_dir)
	if [[ $sockdir != "$PG_DEV_DATA_DIR"/* ]]; then
		rmdir "$sockdir" 2>/dev/null || true
	fi
}

# pg_dev_use_database: make DATABASE_URL point at the database `make run`
# uses: the caller's DATABASE_URL if set (no cluster touched), else the dev
# cluster's passd database, started and created as needed.
pg_dev_use_database() {
	if [[ -n ${DATABASE_URL:-} ]]; then
		pg_log "DATABASE_URL is set; using that database (the private cluster in .data is not touched)"
		return 0
	fi
	pg_dev_start
	pg_dev_ensure_db "$PG_DEV_DB"
	DATABASE_URL=$(pg_dev_url "$PG_DEV_DB")
	export DATABASE_URL
	pg_log "DATABASE_URL=$DATABASE_URL"
}

# --- throwaway test clusters ------------------------------------------------

# pg_tmp_create: make a fresh temporary directory for a test cluster (short
# enough for a unix socket path) and print it. The caller must arrange for
# pg_tmp_destroy to run on it (trap).
pg_tmp_create() {
	local dir
	dir=$(mktemp -d -t passd-test.XXXXXXXX)
	if ! pg_socket_fits "$dir"; then
		rmdir "$dir"
		dir=$(mktemp -d /tmp/passd-test.XXXXXXXX)
	fi
	printf '%s\n' "$dir"
}

# pg_tmp_start DIR: initdb + start a throwaway cluster in DIR (data in
# DIR/data, socket in DIR, log DIR/postgres.log) with test-friendly settings.
pg_tmp_start() {
	local dir=$1
	pg_ensure_bindir
	pg_ensure_os_user
	pg_prepare_owned_dir "$dir"
	pg_initdb "$dir/data" "$dir/initdb.log" --no-sync
	pg_write_conf "$dir/data" "$dir" \
		"max_connections=300" "fsync=off" "synchronous_commit=off" \
		"full_page_writes=off" "timezone='UTC'"
	pg_start "$dir/data" "$dir/postgres.log"
}

# pg_tmp_destroy DIR: stop the throwaway cluster in DIR (if any) and remove
# DIR. Never fails.
pg_tmp_destroy() {
	local dir=$1 pid i
	[[ -n $dir && -d $dir ]] || return 0
	if [[ -f $dir/data/postmaster.pid ]]; then
		if [[ -n $PG_BIN ]]; then
			pg_stop "$dir/data" immediate 2>/dev/null || true
		fi
		# If pg_ctl could not stop it, signal the postmaster directly.
		pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
		if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
			kill -QUIT "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf -- "$dir" || pg_warn "could not remove $dir"
}
