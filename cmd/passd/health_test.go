package main

import (
	"bytes"
	"net/http"
	"testing"

	"passd/db/dbtest"
	"passd/migrations"
	"passd/openapi"
)

func TestHealthAndReadinessNeedNoToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct{ path, status string }{{"/healthz", "ok"}, {"/readyz", "ready"}} {
		// Repeated, so that a connection leaked per call would show.
		for range 20 {
			got := h.mustDo(t, http.StatusOK, "GET", c.path, "", "")
			if got["status"] != c.status {
				t.Fatalf("GET %s = %v, want status %s", c.path, got, c.status)
			}
		}
		// A bad token does not matter on operations endpoints.
		h.mustDo(t, http.StatusOK, "GET", c.path, "passd_not-a-token", "")
	}
}

// The contract is public: a client needs it before it has a token.
func TestTheContractIsServed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, token := range []string{"", "passd_not-a-token"} {
		rec := h.doRaw(t, "GET", "/openapi.yaml", token, "")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" ||
			!bytes.Equal(rec.Body.Bytes(), openapi.Document()) {
			t.Errorf("GET /openapi.yaml: %d %q, want 200 application/yaml with the embedded document", rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

func TestReadinessFailsOnASchemaBehindTheBinary(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// The migrations' record is the owner's: the application only reads it.
	owner := dbtest.Owner(t, h.app.cfg.DatabaseURL)
	if _, err := owner.Exec(t.Context(), `DELETE FROM goose_db_version WHERE version_id = $1`, migrations.Latest); err != nil {
		t.Fatal(err)
	}
	status, body := h.do(t, "GET", "/readyz", "", "")
	wantError(t, "readyz", status, body, http.StatusServiceUnavailable, "unavailable", "")
	h.mustDo(t, http.StatusOK, "GET", "/healthz", "", "")
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	status, body := h.do(t, "GET", "/nope", "", "")
	wantError(t, "GET /nope", status, body, http.StatusNotFound, "not_found", "")
	status, body = h.do(t, "GET", "/api/v1/nope", h.admin, "")
	wantError(t, "GET /api/v1/nope", status, body, http.StatusNotFound, "not_found", "")
	// Under /api/v1 authentication comes first, so that nothing about the
	// routes leaks to an anonymous caller.
	status, body = h.do(t, "GET", "/api/v1/nope", "", "")
	wantError(t, "GET /api/v1/nope anonymously", status, body, http.StatusUnauthorized, "unauthorized", "")
	// A known path with another method: 405 or 404, as JSON either way.
	status, body = h.do(t, "DELETE", "/api/v1/invoices", h.admin, "")
	if e, _ := body["error"].(map[string]any); (status != http.StatusMethodNotAllowed || e["code"] != "method_not_allowed") &&
		(status != http.StatusNotFound || e["code"] != "not_found") {
		t.Errorf("DELETE /api/v1/invoices: %d %v, want a 405 or 404 JSON error", status, body)
	}
}
