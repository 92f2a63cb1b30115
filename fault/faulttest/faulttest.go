package faulttest

import (
	"errors"
	"net/http"
	"testing"

	"passd/fault"
)

// RequireInvalid fails the test unless err is what every refused request
// body promises: an Invalid *fault.Error with a message that names the
// field to blame, unless it is about the body as a whole (malformed JSON
// 400, too large 413, of the wrong type 415). It returns the fault, for
// the test to check which field it names.
func RequireInvalid(t testing.TB, err error) *fault.Error {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != fault.Invalid {
		t.Fatalf("err = %#v, want an Invalid *fault.Error", err)
	}
	switch fe.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
	case 0:
		if fe.Field == "" {
			t.Fatalf("a 422 without a field: %v", fe)
		}
	default:
		t.Fatalf("status %d: %v", fe.Status, fe)
	}
	if fe.Message == "" {
		t.Fatalf("no message: %#v", fe)
	}
	return fe
}
