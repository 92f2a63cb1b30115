package api

import (
	"net/http"
	"testing"

	"passd/fault"
)

func TestStatusOf(t *testing.T) {
	for _, tt := range []struct {
		err  *fault.Error
		want int
	}{
		{&fault.Error{Code: fault.Invalid}, http.StatusUnprocessableEntity},
		{&fault.Error{Code: fault.NotFound}, http.StatusNotFound},
		{&fault.Error{Code: fault.Conflict}, http.StatusConflict},
		{&fault.Error{Code: fault.Unauthorized}, http.StatusUnauthorized},
		{&fault.Error{Code: fault.Forbidden}, http.StatusForbidden},
		{&fault.Error{Code: fault.Unavailable}, http.StatusServiceUnavailable},
		{&fault.Error{Code: fault.Internal}, http.StatusInternalServerError},
		{&fault.Error{Code: "unheard_of"}, http.StatusInternalServerError},
		{&fault.Error{Code: fault.Invalid, Status: http.StatusBadRequest}, http.StatusBadRequest},
	} {
		if got := StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(code %q, status %d) = %d, want %d", tt.err.Code, tt.err.Status, got, tt.want)
		}
	}
}
