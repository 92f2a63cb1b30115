#!/usr/bin/env bash
# make fmt: check that every Go file is gofmt-formatted (gofmt -l); lists the
# files that are not and fails. Fix them with `gofmt -w FILE...`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and untracked-but-not-ignored files: skips .data/, bin/, ...
	mapfile -t files < <(git ls-files -co --exclude-standard -- '*.go')
else
	mapfile -t files < <(find . -path ./.data -prune -o -path ./bin -prune -o -name '*.go' -type f -print)
fi
((${#files[@]})) || exit 0

bad=$(gofmt -l -- "${files[@]}")
if [[ -n $bad ]]; then
	echo "these files need gofmt -w:" >&2
	printf '%s\n' "$bad" >&2
	exit 1
fi
