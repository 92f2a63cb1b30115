package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/fault"
	"passd/metrics"
	"passd/scheduler"
	"passd/web"
)

// headerRequestID carries a request's id, from a proxy in front or from
// passd, in the answer always.
const headerRequestID = "X-Request-Id"

// maxRequestIDLength bounds an id passd takes from the client: long
// enough for a UUID or a proxy's id, too short to smuggle data into logs.
const maxRequestIDLength = 64

type requestIDKey struct{}

// requestID returns the id of the request ctx belongs to, if any.
func requestID(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(requestIDKey{}).(string)
	return id, ok
}

// acceptableRequestID: 1 to 64 characters of [A-Za-z0-9._-]. Anything else
// may be an attempt to forge log lines, or identity a client put there.
func acceptableRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// withRequestIDs makes every line logged with a request's context carry
// its request_id: the request line, a 5xx's error line, a panic, a manual
// job run.
func withRequestIDs(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := requestID(ctx); ok {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// observe is the outermost middleware: it gives the request its id, then
// writes its one log line and counts it, once the answer is written
// (errors and recovered panics included). Neither the line nor the
// metrics hold the URL, its query or a header: only the route template,
// which names no patient and carries no token. Who asked is given by role
// and user id, never by name.
func (a *app) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		id := req.Header.Get(headerRequestID)
		if len(req.Header.Values(headerRequestID)) != 1 || !acceptableRequestID(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(headerRequestID, id)
		ctx := context.WithValue(req.Context(), requestIDKey{}, id)
		c.SetRequest(req.WithContext(ctx))

		if err := next(c); err != nil {
			c.Error(err)
		}

		elapsed := time.Since(start)
		route := a.routeLabel(req.Method, c.Path())
		status := c.Response().Status
		a.metrics.ObserveRequest(req.Method, route, status, elapsed)
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes", c.Response().Size),
		}
		if p, ok := whoAsked(c); ok {
			attrs = append(attrs, slog.String("role", string(p.Role)), slog.Int64("user_id", p.UserID))
		}
		a.logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// routeLabel is the request's route template if a route serves it, or
// metrics.Unmatched: Echo also reports a template for its catch-alls
// ("/api/v1/*") and for a known path with another method.
func (a *app) routeLabel(method, path string) string {
	if a.served[method+" "+path] {
		return path
	}
	return metrics.Unmatched
}

// whoAsked is the authenticated caller: by token (the API) or by session
// (the pages).
func whoAsked(c echo.Context) (auth.Principal, bool) {
	if p := auth.From(c); p.UserID != 0 {
		return p, true
	}
	return web.SignedIn(c)
}

// servedRoutes lists the routes of e as "METHOD path", leaving out Echo's
// catch-alls, which only answer 404.
func servedRoutes(e *echo.Echo) map[string]bool {
	out := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method != echo.RouteNotFound {
			out[r.Method+" "+r.Path] = true
		}
	}
	return out
}

// observeJob feeds a job run to the metrics; its log line is the
// scheduler's.
func (a *app) observeJob(run scheduler.Run, elapsed time.Duration) {
	r := metrics.JobRun{Job: run.Name, Elapsed: elapsed, Rows: run.Rows, Failed: run.Error != nil}
	if run.FinishedAt != nil {
		r.Finished = *run.FinishedAt
	}
	a.metrics.ObserveJob(r)
}

// serveMetrics is GET /metrics on the main address: public like /healthz,
// since scrapers hold no passd token, and safe so, since it carries only
// aggregates, and no money (metrics.MoneySuffix). A scrape carrying
// PASSD_METRICS_TOKEN as its bearer token sees the money series too; with
// a token configured, a wrong one is a failed authentication (401, or 429
// from an address that failed too often), so that a scraper whose token
// went stale fails loudly rather than losing its series. With no token
// configured, an Authorization header changes nothing.
func (a *app) serveMetrics() echo.HandlerFunc {
	public, private := echo.WrapHandler(a.metrics.Handler(a.logger, false)), echo.WrapHandler(a.metrics.Handler(a.logger, true))
	return func(c echo.Context) error {
		want := a.cfg.MetricsToken
		headers := c.Request().Header.Values(echo.HeaderAuthorization)
		if want == "" || len(headers) == 0 {
			return public(c)
		}
		scheme, token, _ := strings.Cut(headers[0], " ")
		if len(headers) == 1 && strings.EqualFold(scheme, "Bearer") &&
			subtle.ConstantTimeCompare([]byte(strings.TrimLeft(token, " ")), []byte(want)) == 1 {
			return private(c)
		}
		addr := c.RealIP()
		wait := a.throttle.Wait(addr)
		a.throttle.Failed(addr)
		if wait > 0 {
			return auth.TooManyFailures(c, wait)
		}
		return fault.New(fault.Unauthorized, "this is not the metrics token")
	}
}
