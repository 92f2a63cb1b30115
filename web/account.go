package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// /compte: who is signed in, and renewing one's own token. Renewing
// revokes the token the session was opened with (its sessions end) and
// shows the new one once: nobody else, an admin included, ever sees it.

type accountPage struct {
	Name, Role string
}

func (s *Server) accountPage(c echo.Context) error {
	p, _ := principal(c)
	return s.render(c, http.StatusOK, "account.html", "Mon compte", accountPage{Name: p.Name, Role: roleFR[p.Role]})
}

func (s *Server) rotateToken(c echo.Context) error {
	p, _ := principal(c)
	cookie, err := c.Cookie(SessionCookie)
	if err != nil {
		return errNoSession
	}
	ctx := c.Request().Context()
	hash, err := s.sessions.tokenHash(ctx, cookie.Value)
	if err != nil {
		return err
	}
	issued, err := s.users.Rotate(ctx, p, hash)
	if err != nil {
		return err
	}
	// The session died with its token: the page is the last this one shows.
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(c)})
	return s.render(c, http.StatusOK, "account-token.html", "Jeton renouvelé",
		issuedPage{Name: p.Name, Role: roleFR[p.Role], Token: issued.Token, ExpiresAt: FormatMoment(issued.ExpiresAt)})
}
