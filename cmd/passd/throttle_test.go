package main

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
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
	// The eleventh failure is refused, whatever the token tried, and even
	// when the request claims to come from elsewhere through
	// X-Forwarded-For.
	for _, c := range []struct {
		token   string
		headers []string
	}{
		{bad, []string{remoteAddrPseudoHeader, attacker}},
		{"passd_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", []string{remoteAddrPseudoHeader, attacker}},
		{"", []string{remoteAddrPseudoHeader, attacker}},
		{bad, []string{remoteAddrPseudoHeader, attacker, "X-Forwarded-For", "198.51.100.1", "X-Real-Ip", "198.51.100.1"}},
	} {
		rec := h.doRaw(t, "GET", "/api/v1/jobs", c.token, "", c.headers...)
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
	status, body = h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, user)
	wantError(t, "after the tenth failure", status, body, http.StatusTooManyRequests, "too_many_attempts", "")

	// Operations endpoints are not throttled.
	h.mustDo(t, http.StatusOK, "GET", "/healthz", "", "", remoteAddrPseudoHeader, attacker)

	// Once the minute has passed, the address's failures are 401 again.
	h.setNow(defaultNow.Add(59 * time.Second))
	rec := h.doRaw(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, attacker)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("a second before the end: %d, Retry-After %q; want 429, 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	h.setNow(defaultNow.Add(time.Minute))
	status, body = h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, attacker)
	wantError(t, "a new window", status, body, http.StatusUnauthorized, "unauthorized", "")
}

// TestAValidTokenIsHeardFromAThrottledAddress: one person guessing tokens
// behind a city hall's NAT must not lock out everyone else there. While
// the shared address is throttled, every token that authenticates is
// served (a user's, another role's, one never seen from there), through
// the API and the sign-in page; the guesses still get 429.
func TestAValidTokenIsHeardFromAThrottledAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const cityHall = "203.0.113.20:4000"
	bad := "passd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for range 10 {
		h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, cityHall)
	}
	status, body := h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, cityHall)
	wantError(t, "the address is throttled", status, body, http.StatusTooManyRequests, "too_many_attempts", "")

	// A colleague at the same address, with valid tokens: served.
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs", h.admin, "", remoteAddrPseudoHeader, cityHall)
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients", h.coordinator, "", remoteAddrPseudoHeader, cityHall)
	// A role that may not use the route gets its 403, not a 429.
	status, body = h.do(t, "GET", "/api/v1/jobs", h.coordinator, "", remoteAddrPseudoHeader, cityHall)
	wantError(t, "a valid token without the role", status, body, http.StatusForbidden, "forbidden", "")

	// Interleaved with the guesses, which stay refused.
	for range 5 {
		status, body = h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, cityHall)
		wantError(t, "a guess", status, body, http.StatusTooManyRequests, "too_many_attempts", "")
		h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs", h.admin, "", remoteAddrPseudoHeader, cityHall)
	}

	// The sign-in page: a valid token opens a session, a wrong one is
	// refused in French with 429 and Retry-After.
	b := h.browser()
	b.remote = cityHall
	rec := b.signIn(t, bad)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "60" ||
		!strings.Contains(rec.Body.String(), "Trop de tentatives") {
		t.Errorf("a wrong token from the throttled address: %d, Retry-After %q:\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := b.signIn(t, h.finance); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/finances" {
		t.Errorf("a valid token from the throttled address: %d %s", rec.Code, rec.Body)
	}
	b.page(t, http.StatusOK, "/finances")
}

// TestFailedSignInsAreThrottledLikeTheAPIs: the sign-in form counts its
// failures with the API's, per address; the eleventh is refused with 429.
func TestFailedSignInsAreThrottledLikeTheAPIs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.remote = "203.0.113.30:4000"
	for i := range 5 {
		if rec := b.signIn(t, "passd_wrong"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d, want 401", i+1, rec.Code)
		}
	}
	for range 5 {
		h.do(t, "GET", "/api/v1/jobs", "passd_wrong", "", remoteAddrPseudoHeader, b.remote)
	}
	rec := b.signIn(t, "passd_wrong")
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "Trop de tentatives") {
		t.Errorf("the eleventh failure: %d:\n%s", rec.Code, rec.Body)
	}
	status, body := h.do(t, "GET", "/api/v1/jobs", "passd_wrong", "", remoteAddrPseudoHeader, b.remote)
	wantError(t, "a failure through the API", status, body, http.StatusTooManyRequests, "too_many_attempts", "")
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

// TestBehindATrustedProxyTheThrottleCountsEachClient: with
// PASSD_TRUSTED_PROXIES set, the throttle counts by the client address the
// proxy names (the app's IPExtractor), not by the proxy's, so that the
// failures of one client do not reach another behind the same proxy.
func TestBehindATrustedProxyTheThrottleCountsEachClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.app.echo.IPExtractor = clientAddress([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	const proxy = "10.0.0.2:4000"
	bad := "passd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for range 10 {
		h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, proxy, "X-Forwarded-For", "203.0.113.40")
	}
	status, body := h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, proxy, "X-Forwarded-For", "203.0.113.40")
	wantError(t, "the guessing client", status, body, http.StatusTooManyRequests, "too_many_attempts", "")
	status, body = h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, proxy, "X-Forwarded-For", "203.0.113.41")
	wantError(t, "another client behind the proxy", status, body, http.StatusUnauthorized, "unauthorized", "")
	// The guessing client cannot escape by naming another address before
	// its own: the proxy appends the real one, which is the one counted.
	status, body = h.do(t, "GET", "/api/v1/jobs", bad, "", remoteAddrPseudoHeader, proxy, "X-Forwarded-For", "198.51.100.9, 203.0.113.40")
	wantError(t, "a spoofed first hop", status, body, http.StatusTooManyRequests, "too_many_attempts", "")
}
