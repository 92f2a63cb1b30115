// Package apitest holds what the tests of request bodies share: the
// hostile bodies that the decoders' fuzzers start from and the hostile
// HTTP suite sends to every route, the rule a decoded text obeys, and a
// valid invoice body for the benchmarks. It is imported only by _test.go
// files, and imports nothing of passd, so that package api's own tests may
// use it.
//
// It imports nothing of passd.
package apitest
