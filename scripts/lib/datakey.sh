# shellcheck shell=bash
#
# The keyring that encrypts patient identity, for make run and make migrate.
# Source it from a bash script that runs with `set -euo pipefail` after
# building bin/passd; it does nothing by itself.

# dev_data_key: unless PASSD_DATA_KEY or PASSD_DATA_KEY_FILE is already set,
# use the keyring in ./.data/data.key, made once (mode 0600) by
# `passd keygen` and reused afterwards: the dev database's patient files
# can only be read with it.
dev_data_key() {
	if [[ -n ${PASSD_DATA_KEY:-} || -n ${PASSD_DATA_KEY_FILE:-} ]]; then
		return 0
	fi
	local root file
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
	file=$root/.data/data.key
	if [[ ! -f $file ]]; then
		mkdir -p "$root/.data"
		"$root/bin/passd" keygen --out "$file" >&2
	fi
	export PASSD_DATA_KEY_FILE=$file
}
