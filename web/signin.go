package web

import (
	"errors"
	"net/http"
	"passd/db"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/fault"
)

type signInPage struct{ Error string }

func (s *Server) signInForm(c echo.Context) error {
	if p, ok := principal(c); ok {
		return c.Redirect(http.StatusSeeOther, homes[p.Role])
	}
	return s.render(c, http.StatusOK, "signin.html", "Connexion", signInPage{})
}

// signIn checks the pasted token as the API does (auth.Store.Authenticate,
// behind the same throttle of failed attempts) and opens a session. As in
// the API, a token that authenticates is never refused because others
// failed from the same address; a failure from an address that failed too
// often is answered 429.
func (s *Server) signIn(c echo.Context) error {
	addr := c.RealIP()
	var wait time.Duration
	if s.throttle != nil {
		wait = s.throttle.Wait(addr)
	}
	token := strings.TrimSpace(c.FormValue("token"))
	p, err := s.users.Authenticate(c.Request().Context(), token)
	if fault.Is(err, fault.Unauthorized) {
		if s.throttle != nil {
			s.throttle.Failed(addr)
		}
		if wait > 0 {
			c.Response().Header().Set("Retry-After", strconv.FormatInt(auth.RetryAfter(wait), 10))
			return s.render(c, http.StatusTooManyRequests, "signin.html", "Connexion",
				signInPage{Error: "Trop de tentatives depuis cette adresse. Réessayez dans une minute."})
		}
		return s.render(c, http.StatusUnauthorized, "signin.html", "Connexion", signInPage{Error: "Jeton invalide ou expiré."})
	}
	if err != nil {
		return err
	}
	id, _, err := s.sessions.open(db.WithTenant(c.Request().Context(), p.Tenant), token, p)
	if errors.Is(err, errNoSession) {
		return s.render(c, http.StatusUnauthorized, "signin.html", "Connexion", signInPage{Error: "Jeton invalide ou expiré."})
	}
	if err != nil {
		return err
	}
	// No Max-Age: the cookie ends with the browser; the server ends the
	// session after DefaultIdle without a request.
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(c)})
	return c.Redirect(http.StatusSeeOther, homes[p.Role])
}

func (s *Server) signOut(c echo.Context) error {
	p, _ := principal(c)
	if cookie, err := c.Cookie(SessionCookie); err == nil {
		if err := s.sessions.close(c.Request().Context(), cookie.Value, p); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(c)})
	return redirectWithFlash(c, "signed-out", "/connexion")
}
