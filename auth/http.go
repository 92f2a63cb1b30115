package auth

import (
	"strings"

	"github.com/labstack/echo/v4"
)

const principalKey = "passd.principal"

// Middleware authenticates every request with its bearer token.
func (s *Store) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			header := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, token, ok := strings.Cut(header, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
				return errUnauthorized
			}
			p, err := s.Authenticate(c.Request().Context(), strings.TrimSpace(token))
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
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
