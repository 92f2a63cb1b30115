#!/usr/bin/env bash
# make run: build bin/passd, make sure the database exists (the private
# cluster in ./.data unless DATABASE_URL is set), migrate, load the demo data,
# then serve (http://127.0.0.1:8080 by default) in place of this script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh

bash scripts/build.sh
pg_dev_use_database

bin/passd migrate
mkdir -p .data
bin/passd seed-demo --tokens-file .data/demo-tokens

exec bin/passd serve
