#!/usr/bin/env bash
# make run: build bin/passd, make sure the database exists (the private
# cluster in ./.data unless DATABASE_URL is set) and the keyring that
# encrypts patient identity (./.data/data.key unless PASSD_DATA_KEY or
# PASSD_DATA_KEY_FILE is set), migrate, load the demo data, then serve
# (http://127.0.0.1:8080 by default) in place of this script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=scripts/lib/datakey.sh
source scripts/lib/datakey.sh

bash scripts/build.sh
pg_dev_use_database
dev_data_key

bin/passd migrate
mkdir -p .data
bin/passd seed-demo --tokens-file .data/demo-tokens

exec bin/passd serve
