// Package faulttest holds what tests assert of passd's errors, so that the
// decoders' fuzzers and the validators' tests in every package hold a
// refusal to one promise. It is imported only by _test.go files.
//
// It imports fault.
package faulttest
