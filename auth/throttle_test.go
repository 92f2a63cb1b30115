package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"passd/fault"
)

func TestThrottleRefusesAnAddressAfterTooManyFailuresUntilTheWindowPasses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{FailureLimit: 3, Window: time.Minute, Now: func() time.Time { return now }})
	for i := range 3 {
		if wait := th.Wait("203.0.113.5"); wait != 0 {
			t.Fatalf("after %d failures: wait %v, want none", i, wait)
		}
		th.Failed("203.0.113.5")
		now = now.Add(10 * time.Second)
	}
	// The window began at the first failure, 30 s ago.
	if wait := th.Wait("203.0.113.5"); wait != 30*time.Second {
		t.Fatalf("after 3 failures: wait %v, want 30s", wait)
	}
	if wait := th.Wait("203.0.113.6"); wait != 0 {
		t.Fatalf("another address waits %v", wait)
	}
	now = now.Add(29 * time.Second)
	if wait := th.Wait("203.0.113.5"); wait != time.Second {
		t.Fatalf("a second before the end: wait %v", wait)
	}
	now = now.Add(time.Second)
	if wait := th.Wait("203.0.113.5"); wait != 0 {
		t.Fatalf("once the window passed: wait %v, want none", wait)
	}
	// A new window: the count starts again.
	th.Failed("203.0.113.5")
	th.Failed("203.0.113.5")
	if wait := th.Wait("203.0.113.5"); wait != 0 {
		t.Fatalf("two failures in a new window: wait %v", wait)
	}
	// A clock set back before the window began ends it.
	th.Failed("203.0.113.5")
	now = now.Add(-time.Hour)
	if wait := th.Wait("203.0.113.5"); wait != 0 {
		t.Fatalf("clock set back: wait %v", wait)
	}
}

func TestThrottleCountsAnIPv6ClientByItsSlash64(t *testing.T) {
	t.Parallel()
	th := NewThrottle(ThrottleConfig{FailureLimit: 2})
	th.Failed("2001:db8:1:2::1")
	th.Failed("2001:db8:1:2:ffff::9")
	if th.Wait("2001:db8:1:2::abcd") == 0 {
		t.Error("another address of the same /64 is not refused")
	}
	if th.Wait("2001:db8:1:3::1") != 0 {
		t.Error("another /64 is refused")
	}
	th.Failed("::ffff:192.0.2.1")
	th.Failed("192.0.2.1")
	if th.Wait("192.0.2.1") == 0 {
		t.Error("an IPv4 address and its IPv6-mapped form are counted apart")
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{FailureLimit: 1, MaxClients: 100, Now: func() time.Time { return now }})
	th.Failed("192.0.2.1")
	for i := range 10_000 {
		now = now.Add(time.Millisecond)
		th.Failed(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255))
		if n := th.Tracked(); n > 100 {
			t.Fatalf("%d addresses tracked, want at most 100", n)
		}
	}
	// The oldest were forgotten, the most recent are still refused.
	if th.Wait("192.0.2.1") != 0 {
		t.Error("the oldest address is still tracked")
	}
	if th.Wait("10.0.39.15") == 0 {
		t.Error("the last address is not refused")
	}
}

// TestThrottleMiddlewareRefusesOnlyFailures: from an address that failed
// too often, a request whose token authenticates reaches its handler; a
// failed one gets 429 with Retry-After and is still counted.
func TestThrottleMiddlewareRefusesOnlyFailures(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{FailureLimit: 2, Window: time.Minute, Now: func() time.Time { return now }})
	// Stands for Store.Middleware: "good" authenticates, anything else fails.
	authenticate := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Header.Get(echo.HeaderAuthorization) != "Bearer good" {
				return errUnauthorized
			}
			c.Set(principalKey, Principal{UserID: 7, Role: Admin})
			return next(c)
		}
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Status != 0 {
			_ = c.NoContent(fe.Status)
		} else if fault.Is(err, fault.Unauthorized) {
			_ = c.NoContent(http.StatusUnauthorized)
		} else {
			_ = c.NoContent(http.StatusInternalServerError)
		}
	}
	served := 0
	e.GET("/", func(c echo.Context) error { served++; return c.NoContent(http.StatusNoContent) }, th.Middleware(), authenticate)
	get := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "203.0.113.5:4000"
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	for i, want := range []int{401, 401, 429, 429} {
		if rec := get("bad"); rec.Code != want {
			t.Fatalf("failure %d: %d, want %d", i+1, rec.Code, want)
		}
	}
	if rec := get("bad"); rec.Header().Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q, want 60", rec.Header().Get("Retry-After"))
	}
	for range 3 {
		if rec := get("good"); rec.Code != http.StatusNoContent {
			t.Fatalf("a valid token from the throttled address: %d, want 204", rec.Code)
		}
	}
	if served != 3 {
		t.Errorf("the handler ran %d times, want 3 (the valid requests only)", served)
	}
	if wait := th.Wait("203.0.113.5"); wait != time.Minute {
		t.Errorf("the address waits %v, want the whole minute", wait)
	}
	now = now.Add(time.Minute)
	if rec := get("bad"); rec.Code != http.StatusUnauthorized {
		t.Errorf("a failure in a new window: %d, want 401", rec.Code)
	}
}
