package main

import (
	"net/http"
	"testing"
)

// TestNoAnswerIsCachedAndNoDirectoryIsListed: every /api/v1 answer, an
// error included, says no-store; /static/ serves its files and lists no
// directory.
func TestNoAnswerIsCachedAndNoDirectoryIsListed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/invoices", h.admin, http.StatusOK},
		{"/api/v1/invoices/999", h.admin, http.StatusNotFound},
		{"/api/v1/settings", h.finance, http.StatusOK},
		{"/api/v1/invoices", "", http.StatusUnauthorized},
	} {
		rec := h.doRaw(t, "GET", c.path, c.token, "")
		if rec.Code != c.status || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d with Cache-Control %q, want %d and no-store", c.path, rec.Code, rec.Header().Get("Cache-Control"), c.status)
		}
	}
	b := h.browser()
	for path, want := range map[string]int{"/static/passd.css": http.StatusOK, "/static/": http.StatusNotFound} {
		if rec := b.do(t, "GET", path, nil); rec.Code != want {
			t.Errorf("GET %s: %d, want %d: %.200s", path, rec.Code, want, rec.Body)
		}
	}
}
