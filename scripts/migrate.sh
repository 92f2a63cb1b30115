#!/usr/bin/env bash
# make migrate: build bin/passd and apply migrations to the database that
# `make run` uses (the private cluster in ./.data unless DATABASE_URL is set).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=scripts/lib/datakey.sh
source scripts/lib/datakey.sh

bash scripts/build.sh
pg_dev_use_database
dev_data_key
exec bin/passd migrate
