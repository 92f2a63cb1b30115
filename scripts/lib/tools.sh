# shellcheck shell=bash
#
# Helpers that make sure the command-line tools passd's scripts and tests
# rely on are present, installing them from the distribution when they are
# not. Source it from a bash script that runs with `set -euo pipefail`; it
# does nothing by itself.
#
# Installation uses apt-get (Debian/Ubuntu), as root or through sudo. Package
# lists are refreshed (apt-get update) only when an install fails without it,
# so a machine with fresh lists installs without touching the network twice.

tools_log() { printf 'passd-tools: %s\n' "$*" >&2; }

# tools_apt_install WHY PACKAGE...: install PACKAGE... with apt-get, logging
# one line that says what is installed and WHY. apt-get's own output is kept
# out of the way and shown only if the install fails. Returns non-zero, with
# a message, when the packages cannot be installed.
tools_apt_install() {
	local why=$1 out rc=0
	shift
	local -a sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if ! command -v sudo >/dev/null 2>&1; then
			tools_log "ERROR: $why, but $* is not installed and we are neither root nor able to use sudo; install it (apt-get install $*)"
			return 1
		fi
		sudo=(sudo)
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		tools_log "ERROR: $why, but $* is not installed and apt-get is not available; install it with the system's package manager"
		return 1
	fi
	tools_log "installing $* with apt-get: $why"
	out=$("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" 2>&1) || rc=$?
	if ((rc != 0)); then
		# Stale or missing package lists are the usual cause: refresh, retry.
		rc=0
		out=$({ "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends "$@"; } 2>&1) || rc=$?
	fi
	if ((rc != 0)); then
		printf '%s\n' "$out" >&2
		tools_log "ERROR: apt-get could not install $* (exit status $rc)"
		return "$rc"
	fi
}

# ensure_xmllint: make xmllint available. The sepa package's tests validate
# the payment files they generate against the ISO 20022 XSD with it, and
# fail (never skip) when it is missing. Returns at once when it is in PATH.
ensure_xmllint() {
	command -v xmllint >/dev/null 2>&1 && return 0
	tools_apt_install "the SEPA tests validate generated pain.001 files against the XSD with xmllint" libxml2-utils || return
	if ! command -v xmllint >/dev/null 2>&1; then
		tools_log "ERROR: libxml2-utils was installed but xmllint is still not in PATH ($PATH)"
		return 1
	fi
}

# ensure_chromium: make Debian's chromium present at /usr/bin/chromium, the
# browser the end-to-end tests drive with playwright-core (cmd/passd/
# e2e_test.go, e2e/*.mjs). Playwright's own browser download cannot work
# here, so the distribution's build is used; the tests fail (never skip)
# when it is missing. Returns at once when it is there.
ensure_chromium() {
	[[ -x /usr/bin/chromium ]] && return 0
	tools_apt_install "the end-to-end tests drive Debian's chromium with playwright-core" chromium || return
	if [[ ! -x /usr/bin/chromium ]]; then
		tools_log "ERROR: chromium was installed but /usr/bin/chromium is still missing"
		return 1
	fi
}

# ensure_poppler: make pdfinfo and pdftotext (Debian's poppler-utils)
# present: the test of `passd report` reads the PDF it prints, its page
# count and the text of each page. Returns at once when they are there.
ensure_poppler() {
	command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1 && return 0
	tools_apt_install "the test of passd report reads its PDF with pdfinfo and pdftotext" poppler-utils || return
	if ! command -v pdftotext >/dev/null 2>&1; then
		tools_log "ERROR: poppler-utils was installed but pdftotext is still not in PATH ($PATH)"
		return 1
	fi
}

# ensure_node_tools: make the Node tools of the root package.json present in
# node_modules/ (spectral, which lints the API contract; playwright-core and
# @axe-core/playwright, which the end-to-end tests run in Debian's chromium, see
# ensure_chromium), installed with `npm ci` from the committed
# package-lock.json, so every machine gets the same versions. npm runs only
# when node_modules/ is missing or was installed from another
# package-lock.json: a stamp in node_modules/ keeps the hash of the lock file
# it was installed from, so once installed this costs one sha256sum. Install
# scripts are not run: none of these tools needs one (playwright-core has
# none, and never downloads a browser).
ensure_node_tools() {
	local root stamp want out rc=0
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	stamp=$root/node_modules/.passd-package-lock.sha256
	want=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
	if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		tools_apt_install "the API contract is linted with spectral, installed with npm" nodejs npm || return
	fi
	tools_log "installing the Node tools of package-lock.json into node_modules/ with npm ci (node_modules/ is missing or stale)"
	out=$(cd "$root" && npm ci --ignore-scripts --no-audit --no-fund 2>&1) || rc=$?
	if ((rc != 0)); then
		printf '%s\n' "$out" >&2
		tools_log "ERROR: npm ci could not install the Node tools (exit status $rc)"
		return "$rc"
	fi
	printf '%s\n' "$want" >"$stamp"
}

# ensure_package_tools: make systemd-analyze (Debian's systemd) and
# dpkg-deb present: the package's tests (packaging/package_test.go) verify
# its unit with systemd-analyze and read and install the package with
# dpkg; they fail (never skip) when either is missing.
ensure_package_tools() {
	local -a want=()
	command -v systemd-analyze >/dev/null 2>&1 || want+=(systemd)
	command -v dpkg-deb >/dev/null 2>&1 || want+=(dpkg)
	((${#want[@]})) || return 0
	tools_apt_install "the package's tests verify its systemd unit and install it with dpkg" "${want[@]}" || return
	if ! command -v systemd-analyze >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
		tools_log "ERROR: ${want[*]} installed, but systemd-analyze or dpkg-deb is still not in PATH ($PATH)"
		return 1
	fi
}

# ensure_pgbackrest: make Debian's pgbackrest present: the backup drill
# (scripts/backup-drill.sh, make backup-drill) backs the test cluster up
# with it and restores it to a point in time.
ensure_pgbackrest() {
	command -v pgbackrest >/dev/null 2>&1 && return 0
	tools_apt_install "the backup drill backs up and restores a cluster with pgbackrest" pgbackrest || return
	if ! command -v pgbackrest >/dev/null 2>&1; then
		tools_log "ERROR: pgbackrest was installed but is still not in PATH ($PATH)"
		return 1
	fi
}
