#!/usr/bin/env bash
# make lint-api: lint the API contract, openapi/openapi.yaml, with spectral
# and the ruleset .spectral.yaml (spectral's OpenAPI rules); a warning
# fails. spectral comes from package-lock.json, installed into
# node_modules/ when missing (scripts/lib/tools.sh). make test runs this
# before the Go tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/tools.sh
source scripts/lib/tools.sh

ensure_node_tools
echo "lint-api: spectral lint openapi/openapi.yaml (ruleset .spectral.yaml, warnings fail)" >&2
exec node_modules/.bin/spectral lint openapi/openapi.yaml --ruleset .spectral.yaml --fail-severity=warn
