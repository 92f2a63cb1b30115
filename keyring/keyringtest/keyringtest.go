package keyringtest

import (
	"testing"
	"time"

	"passd/keyring"
)

// Text returns the text of a fresh ring (a lookup key and one data key),
// for tests that configure passd through PASSD_DATA_KEY.
func Text(t testing.TB) string {
	t.Helper()
	text, err := keyring.Generate(time.Now())
	if err != nil {
		t.Fatalf("keyringtest: %v", err)
	}
	return text
}

// New returns a fresh ring.
func New(t testing.TB) *keyring.Ring {
	t.Helper()
	r, err := keyring.Parse(Text(t))
	if err != nil {
		t.Fatalf("keyringtest: %v", err)
	}
	return r
}
