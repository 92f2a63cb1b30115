package auth

import (
	"slices"
	"strings"

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
			return next(c)
		}
	}
}

// Allow lets only the given roles through; others get 403.
func Allow(roles ...Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := c.Get(principalKey).(Principal)
			if !ok {
				return errUnauthorized
			}
			if !slices.Contains(roles, p.Role) {
				return fault.New(fault.Forbidden, "the %s role may not do this", p.Role)
			}
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
