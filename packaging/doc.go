// Package packaging holds the Debian package of passd: its nfpm
// description (nfpm.yaml), the systemd unit (passd.service), the
// configuration file it installs as /etc/passd/passd.env, and the
// maintainer scripts. scripts/release.sh (make release) builds it; the
// tests here build it and check what it holds, that the unit verifies
// and that the installed binary runs and migrates a database.
package packaging
