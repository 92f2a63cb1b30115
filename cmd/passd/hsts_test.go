package main

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestHSTSOnlyWhenTheRequestCameOverTLS: Strict-Transport-Security is sent
// when passd's own connection is TLS, or when a trusted proxy says the
// client came over HTTPS; never on the word of a client that is not a
// trusted proxy, nor on plain HTTP.
func TestHSTSOnlyWhenTheRequestCameOverTLS(t *testing.T) {
	t.Parallel()
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, c := range []struct {
		name    string
		trusted []netip.Prefix
		url     string // https:// makes the request's own connection TLS
		peer    string
		proto   []string // X-Forwarded-Proto lines
		want    bool
	}{
		{"the connection is TLS", nil, "https://passd.example/healthz", "192.0.2.4:5000", nil, true},
		{"plain HTTP", nil, "http://passd.example/healthz", "192.0.2.4:5000", nil, false},
		{"a trusted proxy says https", proxy, "http://passd.example/healthz", "10.1.2.3:5000", []string{"https"}, true},
		{"a trusted IPv6 proxy says HTTPS", proxy, "http://passd.example/healthz", "[2001:db8::7]:5000", []string{"HTTPS"}, true},
		{"an IPv4-mapped trusted proxy", proxy, "http://passd.example/healthz", "[::ffff:10.1.2.3]:5000", []string{"https"}, true},
		{"a trusted proxy says http", proxy, "http://passd.example/healthz", "10.1.2.3:5000", []string{"http"}, false},
		{"a trusted proxy says nothing", proxy, "http://passd.example/healthz", "10.1.2.3:5000", nil, false},
		{"an untrusted client says https", proxy, "http://passd.example/healthz", "192.0.2.4:5000", []string{"https"}, false},
		{"a client says https, no proxy is trusted", nil, "http://passd.example/healthz", "127.0.0.1:5000", []string{"https"}, false},
		{"the client's https, appended to by the proxy", proxy, "http://passd.example/healthz", "10.1.2.3:5000", []string{"https, http"}, false},
		{"the client's https, a second line from the proxy", proxy, "http://passd.example/healthz", "10.1.2.3:5000", []string{"https", "http"}, false},
	} {
		e := echo.New()
		e.Use(strictTransport(c.trusted))
		e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
		req := httptest.NewRequest("GET", c.url, nil)
		req.RemoteAddr = c.peer
		for _, v := range c.proto {
			req.Header.Add("X-Forwarded-Proto", v)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		got := rec.Header().Get("Strict-Transport-Security")
		if c.want && got != "max-age=31536000" {
			t.Errorf("%s: Strict-Transport-Security %q, want max-age=31536000", c.name, got)
		}
		if !c.want && got != "" {
			t.Errorf("%s: Strict-Transport-Security %q, want none", c.name, got)
		}
	}
}

// TestHSTSOnEveryKindOfAnswer: the real routes carry it over TLS (the API,
// its errors, the pages, the operations endpoints), and a client's own
// X-Forwarded-Proto over plain HTTP gets none.
func TestHSTSOnEveryKindOfAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	get := func(url string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+h.admin)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		h.app.echo.ServeHTTP(rec, req)
		return rec
	}
	for _, path := range []string{"/healthz", "/connexion", "/api/v1/jobs", "/api/v1/nope"} {
		rec := get("https://passd.example" + path)
		if got := rec.Header().Get("Strict-Transport-Security"); got != strictTransportSecurity {
			t.Errorf("GET %s over TLS (%d): Strict-Transport-Security %q", path, rec.Code, got)
		}
		rec = get("http://passd.example"+path, "X-Forwarded-Proto", "https")
		if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
			t.Errorf("GET %s over plain HTTP claiming https (%d): Strict-Transport-Security %q", path, rec.Code, got)
		}
	}
}
