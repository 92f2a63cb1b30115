#!/usr/bin/env bash
# make lint: the Go checks that need no database. First the gofmt check
# (scripts/fmt.sh), then staticcheck on every package, tests included; any
# finding fails. staticcheck is the version pinned by the tool directive in
# go.mod (go.sum holds its hashes): `go tool staticcheck` builds it from the
# module cache, fetching it through the Go module proxy when missing, so a
# new machine needs nothing installed by hand. make test runs this first.
#
# To move to another release: go get -tool honnef.co/go/tools/cmd/staticcheck@VERSION
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "lint: gofmt -l (scripts/fmt.sh)" >&2
bash scripts/fmt.sh
echo "lint: go tool staticcheck ./... ($(go tool staticcheck -version))" >&2
go tool staticcheck ./...
