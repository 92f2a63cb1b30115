// Package passdtest builds the passd command once per test binary, for the
// tests that run it as a separate process (cmd/passd's fault tests,
// cmd/passd-bench's load runs). It is imported only by _test.go files.
//
// It imports nothing of passd.
package passdtest
