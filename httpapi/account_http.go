package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/ident"
)

// AccountRoutes registers what any signed-in user does to their own
// account: renewing their token.
func AccountRoutes(g *echo.Group, users *auth.Store) {
	g.POST("/me/token", func(c echo.Context) error { return rotateToken(c, users) })
}

// rotatedJSON is a new credential, shown once.
type rotatedJSON struct {
	Token     string    `json:"token"`
	TokenID   string    `json:"token_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// rotateToken gives the caller a new token and revokes the one it called
// with. It runs behind auth's Middleware, which checked the header read
// here again.
func rotateToken(c echo.Context, users *auth.Store) error {
	if err := DecodeOptional(c, nil); err != nil {
		return err
	}
	_, token, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	issued, err := users.Rotate(c.Request().Context(), auth.From(c), auth.HashToken(strings.TrimLeft(token, " ")))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, rotatedJSON{Token: issued.Token, TokenID: ident.FormatID(issued.ID), ExpiresAt: issued.ExpiresAt})
}
