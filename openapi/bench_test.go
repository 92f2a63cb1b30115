package openapi

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"passd/api/apitest"
	"passd/httpapi"
)

// BenchmarkGuardPostInvoice measures what the contract's guard adds to a
// POST /invoices: the route lookup, the role and the request's validation
// against the schema, before a handler that only reads the body. No
// database: the handler is a stub.
func BenchmarkGuardPostInvoice(b *testing.B) {
	spec, err := Load(roles)
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = httpapi.ErrorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	v1 := e.Group("/api/v1", Guard(spec, func(echo.Context) string { return "provider" }))
	v1.POST("/invoices", func(c echo.Context) error {
		if _, err := httpapi.ReadBody(c); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	for _, n := range []int{3, 20} {
		body := apitest.InvoiceBody(n)
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/invoices", strings.NewReader(body))
				req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
