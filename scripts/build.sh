#!/usr/bin/env bash
# Build cmd/passd into bin/passd.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p bin
go build -o bin/passd ./cmd/passd
echo "built bin/passd" >&2
