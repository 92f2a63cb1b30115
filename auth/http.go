package auth

import (
	"net/http"
	"passd/db"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passd/fault"
)

const principalKey = "passd.principal"

// Middleware authenticates every request with its bearer token.
func (s *Store) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// One header, "Bearer" in any case, spaces, then the token as
			// issued and nothing else (RFC 6750): two headers or trailing
			// bytes could be read one way here and another by a proxy or
			// a log.
			headers := c.Request().Header.Values(echo.HeaderAuthorization)
			if len(headers) != 1 {
				return errUnauthorized
			}
			scheme, token, ok := strings.Cut(headers[0], " ")
			token = strings.TrimLeft(token, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || !isBearerToken(token) {
				return errUnauthorized
			}
			p, err := s.Authenticate(c.Request().Context(), token)
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
			// Everything the request does acts in its user's convention.
			c.SetRequest(c.Request().WithContext(db.WithTenant(c.Request().Context(), p.Tenant)))
			return next(c)
		}
	}
}

// From returns the request's principal. Routes are registered behind
// Middleware, so a missing principal is a wiring bug.
func From(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// Middleware answers 429, with Retry-After, the failed authentications of
// a client address that failed too often, and counts every failure (a
// request that ends unauthenticated). It goes before the authentication
// middleware and never refuses a request whose token authenticates: an
// address is often shared (a city hall behind one NAT), and one person
// guessing there must not lock out everyone else. So a throttled address's
// request is still looked up; only the unauthenticated ones are refused,
// with 429 instead of 401 until the window is over. The address is Echo's
// RealIP: set the IPExtractor so that it cannot be chosen by the client
// (X-Forwarded-For) unless a trusted proxy sets it.
func (t *Throttle) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			addr := c.RealIP()
			wait := t.Wait(addr)
			err := next(c)
			if !fault.Is(err, fault.Unauthorized) || From(c).UserID != 0 {
				return err
			}
			t.Failed(addr)
			if wait > 0 {
				return TooManyFailures(c, wait)
			}
			return err
		}
	}
}

// TooManyFailures is the answer to a failed authentication from an address
// that must wait: 429 with Retry-After, in whole seconds rounded up.
func TooManyFailures(c echo.Context, wait time.Duration) error {
	seconds := RetryAfter(wait)
	c.Response().Header().Set("Retry-After", strconv.FormatInt(seconds, 10))
	return (&fault.Error{Code: fault.Unauthorized, Status: http.StatusTooManyRequests,
		Message: "too many failed authentications from this address; retry later"}).
		WithKind(fault.KindTooManyAttempts).WithDetail("retry_after", strconv.FormatInt(seconds, 10))
}

// RetryAfter is a wait in whole seconds, rounded up, for Retry-After.
func RetryAfter(wait time.Duration) int64 { return int64((wait + time.Second - 1) / time.Second) }

// isBearerToken reports whether s has the syntax of a bearer token
// (RFC 6750 b64token): letters, digits, "-._~+/", then any "=".
func isBearerToken(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}
