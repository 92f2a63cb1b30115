#!/usr/bin/env bash
# make release: build the static passd binary and the Debian package that
# installs it with its systemd unit and /etc/passd/passd.env
# (packaging/nfpm.yaml), with the nfpm pinned in go.mod.
#
#   scripts/release.sh                 writes dist/passd_VERSION_ARCH.deb
#   DIST=/some/dir VERSION=1.2.0 scripts/release.sh
#
# VERSION defaults to the latest tag (git describe), or, with no tag,
# 0.0.0~gitDATE.COMMIT, which sorts below any tagged release. Prints the
# package's path on stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dist=${DIST:-dist}
if [[ -z ${VERSION:-} ]]; then
	if tag=$(git describe --tags --abbrev=0 2>/dev/null); then
		VERSION=${tag#v}
		[[ $(git rev-parse HEAD) == $(git rev-list -n1 "$tag") ]] ||
			VERSION+="+git$(git rev-parse --short=12 HEAD)"
	else
		VERSION="0.0.0~git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(git rev-parse --short=12 HEAD)"
	fi
fi
arch=$(go env GOARCH)
stage=$(mktemp -d)
trap 'rm -rf -- "$stage"' EXIT

# Static, no cgo: the binary runs on any Debian without a libc match.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
	-o "$stage/bin/passd" ./cmd/passd
cp -r packaging docs "$stage/"
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
# go tool runs from the module; nfpm reads the staging directory.
nfpm=$(go tool -n nfpm)
(cd "$stage" && PASSD_VERSION=$VERSION PASSD_ARCH=$arch \
	"$nfpm" package --config packaging/nfpm.yaml --packager deb --target "$dist" >&2)
deb="$dist/passd_${VERSION}_${arch}.deb"
[[ -f $deb ]] || { echo "release: nfpm wrote no $deb" >&2; exit 1; }
echo "release: built $deb" >&2
printf '%s\n' "$deb"
