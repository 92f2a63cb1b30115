package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/httpapi"
)

// TestErrorHandlerAnswersAnOutageWith503 checks the safety net: an error a
// store returned without db.Translate is still a 503 when it is an outage,
// and still a 500 when it is not.
func TestErrorHandlerAnswersAnOutageWith503(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"server shutting down", fmt.Errorf("billing: insert invoice: %w", &pgconn.PgError{Code: "57P01"}), 503, "unavailable"},
		{"connection lost mid-query", fmt.Errorf("billing: lines: %w", io.ErrUnexpectedEOF), 503, "unavailable"},
		{"deadline while waiting for a connection", fmt.Errorf("db: begin: %w", context.DeadlineExceeded), 503, "unavailable"},
		{"syntax error", fmt.Errorf("billing: list: %w", &pgconn.PgError{Code: "42601"}), 500, "internal"},
		{"a bug", errors.New("billing: lines add up to 10.00, total is 12.00"), 500, "internal"},
	}
	for _, c := range cases {
		e := echo.New()
		e.HTTPErrorHandler = httpapi.ErrorHandler(slog.New(slog.DiscardHandler))
		e.GET("/x", func(echo.Context) error { return c.err })
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
		var body api.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body %q: %v", c.name, rec.Body, err)
		}
		if rec.Code != c.wantStatus || body.Error.Code != c.wantCode {
			t.Errorf("%s: %d %q, want %d %q", c.name, rec.Code, body.Error.Code, c.wantStatus, c.wantCode)
		}
		if body.Error.Message == "" || (c.wantStatus == 500 && body.Error.Message != "internal error") {
			t.Errorf("%s: message %q", c.name, body.Error.Message)
		}
	}
}
