package main

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestRepeatedFailedAuthenticationsAreThrottled drives the real default
// (ten failures a minute per address) through the HTTP stack, with the
// harness clock for the minute to pass.
func TestRepeatedFailedAuthenticationsAreThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const attacker, neighbour, user = "203.0.113.7:4000", "203.0.113.8:4000", "203.0.113.9:4000"
	bad := "passd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

	for i := range 10 {
		status, body := h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, attacker)
		wantError(t, "failure", status, body, http.StatusUnauthorized, "unauthorized", "")
		if t.Failed() {
			t.Fatalf("failure %d", i+1)
		}
	}
	// The eleventh request is refused, even with a valid token, and even
	// when it claims to come from elsewhere through X-Forwarded-For.
	for _, headers := range [][]string{{remoteAddrPseudoHeader, attacker}, {remoteAddrPseudoHeader, attacker, "X-Forwarded-For", "198.51.100.1", "X-Real-Ip", "198.51.100.1"}} {
		rec := h.doRaw(t, "GET", "/api/v1/jobs", h.admin, "", headers...)
		status, body := rec.Code, decodeObject(t, "throttled", rec)
		wantError(t, "throttled", status, body, http.StatusTooManyRequests, "too_many_attempts", "")
		if got := rec.Header().Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After %q, want 60 (seconds until the window passes)", got)
		}
	}
	// Another address is heard as usual.
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs", h.admin, "", remoteAddrPseudoHeader, neighbour)
	status, body := h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, neighbour)
	wantError(t, "neighbour's failure", status, body, http.StatusUnauthorized, "unauthorized", "")

	// Successful authentications do not count, nor do they wipe failures.
	for range 9 {
		h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, user)
	}
	for range 20 {
		h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs", h.admin, "", remoteAddrPseudoHeader, user)
	}
	status, body = h.do(t, "GET", "/api/v1/jobs", "", "", remoteAddrPseudoHeader, user)
	wantError(t, "tenth failure", status, body, http.StatusUnauthorized, "unauthorized", "")
	status, body = h.do(t, "GET", "/api/v1/jobs", h.admin, "", remoteAddrPseudoHeader, user)
	wantError(t, "after the tenth failure", status, body, http.StatusTooManyRequests, "too_many_attempts", "")

	// Operations endpoints are not throttled.
	h.mustDo(t, http.StatusOK, "GET", "/healthz", "", "", remoteAddrPseudoHeader, attacker)

	// Once the minute has passed, the address is heard again.
	h.setNow(defaultNow.Add(59 * time.Second))
	rec := h.doRaw(t, "GET", "/api/v1/jobs", h.admin, "", remoteAddrPseudoHeader, attacker)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("a second before the end: %d, Retry-After %q; want 429, 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	h.setNow(defaultNow.Add(time.Minute))
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs", h.admin, "", remoteAddrPseudoHeader, attacker)
}

// Behind a trusted proxy the client is the nearest untrusted address of
// X-Forwarded-For; without one, or from an untrusted peer, it is the peer.
func TestTheClientAddressIsThePeerUnlessAProxyIsTrusted(t *testing.T) {
	t.Parallel()
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     string
		want    string
	}{
		{"no proxy configured, loopback peer", nil, "127.0.0.1:5000", "203.0.113.7", "127.0.0.1"},
		{"no proxy configured, private peer", nil, "10.1.2.3:5000", "203.0.113.7", "10.1.2.3"},
		{"trusted proxy", proxy, "10.1.2.3:5000", "203.0.113.7", "203.0.113.7"},
		{"trusted proxy, spoofed first hop", proxy, "10.1.2.3:5000", "198.51.100.1, 203.0.113.7", "203.0.113.7"},
		{"untrusted peer", proxy, "192.0.2.4:5000", "203.0.113.7", "192.0.2.4"},
	} {
		e := echo.New()
		e.IPExtractor = clientAddress(c.trusted)
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = c.peer
		req.Header.Set("X-Forwarded-For", c.xff)
		if got := e.NewContext(req, httptest.NewRecorder()).RealIP(); got != c.want {
			t.Errorf("%s: client %s, want %s", c.name, got, c.want)
		}
	}
}
