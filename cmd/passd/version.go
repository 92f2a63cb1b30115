package main

// version is set at release (scripts/release.sh: -ldflags -X main.version=…);
// a development build says dev.
var version = "dev"
