package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"passd/api"
	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/calendar"
	"passd/claims"
	"passd/db"
	"passd/fault"
	"passd/httpapi"
	"passd/journal"
	"passd/metrics"
	"passd/migrations"
	"passd/openapi"
	"passd/programme"
	"passd/referrals"
	"passd/scheduler"
	"passd/web"
)

// app is passd wired together: one pool, the stores, the jobs, the routes.
type app struct {
	cfg       Config
	pool      *db.Pool
	users     *auth.Store
	throttle  *auth.Throttle
	claims    *claims.Store
	billing   *billing.Store
	referrals *referrals.Store
	scheduler *scheduler.Scheduler
	contract  *openapi.Spec
	echo      *echo.Echo
	logger    *slog.Logger
	metrics   *metrics.Metrics
	served    map[string]bool // "METHOD path" of every route, for the metrics' route label
	now       func() time.Time
}

// newApp connects to the database and wires every part. now is the clock.
// Lines logged with a request's context carry its request id.
func newApp(ctx context.Context, cfg Config, logger *slog.Logger, now func() time.Time) (*app, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger = slog.New(withRequestIDs(logger.Handler()))
	contract, err := openapi.Load(roleNames())
	if err != nil {
		return nil, err
	}
	keys, err := cfg.keyring()
	if err != nil {
		return nil, err
	}
	raw, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return nil, err
	}
	// The server's pool is bound to no convention: a request acts in its
	// user's, a job run in the convention it runs for.
	pool := db.NewPool(raw)
	if err := checkRowSecurity(ctx, pool, logger); err != nil {
		raw.Close()
		return nil, err
	}
	a := &app{cfg: cfg, pool: pool, logger: logger, now: now, metrics: metrics.New(),
		users: auth.NewStore(pool, auth.WithTokenTTL(cfg.TokenTTL), auth.WithCache(cfg.TokenCache)), contract: contract,
		throttle: auth.NewThrottle(auth.ThrottleConfig{FailureLimit: cfg.AuthFailureLimit, Window: cfg.AuthFailureWindow, Now: now})}
	// A decision is checked against the city's settings, which billing
	// keeps, and a correction decides billing's invoices again in its own
	// transaction; the closures read a.billing when a decision comes, by
	// which time it is set.
	a.claims = claims.NewStore(pool, keys, now, claims.WithPolicy(func(ctx context.Context) (claims.RightsPolicy, error) {
		st, err := a.billing.Settings(ctx)
		return claims.RightsPolicy{AMELookbackDays: st.AMELookback()}, err
	}), claims.WithRedecider(func(ctx context.Context, tx pgx.Tx, actor audit.Actor, patientID int64, cause string) error {
		_, err := a.billing.RedecidePatients(ctx, tx, actor, []int64{patientID}, cause, true)
		return err
	}))
	a.billing = billing.NewStore(pool, a.claims, billing.Config{DeadlineDays: cfg.DeadlineDays, Now: now})
	a.referrals = referrals.NewStore(pool, keys, now)
	mailer := referrals.Mailer{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, Link: cfg.PublicURL}
	jobs := []scheduler.Job{
		{Name: "release", Schedule: cfg.ReleaseSchedule, Run: a.billing.ReleaseJob},
		{Name: "deadline", Schedule: cfg.DeadlineSchedule, Run: a.billing.DeadlineJob},
		{Name: "claim-batch", Schedule: cfg.ClaimBatchSchedule, Run: a.claims.ClaimBatchJob},
		{Name: "payout-batch", Schedule: cfg.PayoutBatchSchedule, Run: a.billing.PayoutBatchJob},
		{Name: "reminders", Schedule: cfg.RemindersSchedule, Run: a.claims.RemindersJob},
		{Name: "referral-notify", Schedule: cmp.Or(cfg.ReferralNotifySchedule, defaultReferralNotifySchedule), Run: a.referrals.NotifyJob(mailer)},
		{Name: "referral-retention", Schedule: cmp.Or(cfg.ReferralRetentionSchedule, defaultReferralRetentionSchedule), Run: a.referrals.RetentionJob},
	}
	// A running job holds a connection for its lock and works with another.
	// With no more connections than jobs, jobs ticking together could hold
	// them all for their locks and wait forever for one to work with. (The
	// default, db.DefaultMaxConns, lets them all run and requests too.)
	if need := len(jobs) + 1; int(pool.Config().MaxConns) < need {
		pool.Close()
		return nil, fmt.Errorf("passd: pool_max_conns=%d in the database URL is too small: the %d jobs alone can deadlock fewer than %d connections",
			pool.Config().MaxConns, len(jobs), need)
	}
	a.scheduler, err = scheduler.New(pool, logger, jobs, scheduler.WithClock(now), scheduler.WithObserver(a.observeJob))
	if err != nil {
		pool.Close()
		return nil, err
	}
	a.metrics.DeclareJobs(a.scheduler.Names()...)
	if err := a.metrics.Register(metrics.NewPoolCollector(raw), metrics.NewStatusCollector(pool, logger), metrics.NewAuditCollector(pool)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("passd: metrics: %w", err)
	}
	a.echo = a.routes()
	return a, nil
}

func (a *app) close() { a.pool.Close() }

// refuseRowSecurityBypass fails when the pool's role bypasses row-level
// security on a deployment of several conventions, and reports whether it
// bypasses it.
func refuseRowSecurityBypass(ctx context.Context, pool *db.Pool) (bool, error) {
	var bypass bool
	var conventions int64
	err := pool.Pool.QueryRow(ctx, `SELECT r.rolsuper OR r.rolbypassrls, (SELECT count(*) FROM tenants)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&bypass, &conventions)
	if db.IsUndefinedTable(err) {
		return false, nil // a schema from before conventions: passd migrate comes first
	}
	if err != nil {
		return false, fmt.Errorf("passd: check the database role: %w", err)
	}
	if bypass && conventions > 1 {
		return true, fmt.Errorf("passd: the database role passd acts as bypasses row-level security (a superuser or BYPASSRLS): "+
			"on a deployment of %d conventions it would see them all; act as passd_app (PASSD_DB_ROLE)", conventions)
	}
	return bypass, nil
}

// checkRowSecurity refuses a database role that row-level security does
// not hold (a superuser, or BYPASSRLS: PASSD_DB_ROLE=none with such a
// login) on a deployment of several conventions, where it would see them
// all: the conventions' separation rests on it. With one convention it is
// only said.
func checkRowSecurity(ctx context.Context, pool *db.Pool, logger *slog.Logger) error {
	bypass, err := refuseRowSecurityBypass(ctx, pool)
	switch {
	case err != nil:
		return err
	case bypass:
		logger.Warn("the database role passd acts as bypasses row-level security (a superuser or BYPASSRLS); act as passd_app (PASSD_DB_ROLE) before adding a second convention")
	}
	return nil
}

// routes builds the HTTP handler. Every /api/v1 route authenticates, then
// passes the API contract's guard: the roles of openapi/openapi.yaml, the
// only place they are declared, and the request's parameters and body.
func (a *app) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = httpapi.ErrorHandler(a.logger)
	e.IPExtractor = clientAddress(a.cfg.TrustedProxies)
	// Outermost, so that a recovered panic is logged and counted too.
	e.Use(a.observe)
	e.Use(strictTransport(a.cfg.TrustedProxies))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		a.logger.ErrorContext(c.Request().Context(), "panic", "route", c.Path(), "error", err.Error(), "stack", string(stack))
		return err
	}}))
	if a.cfg.RequestTimeout > 0 {
		e.Use(a.requestDeadline)
	}

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", a.ready)
	e.GET("/openapi.yaml", openapi.Serve)
	e.GET("/metrics", a.serveMetrics())

	g := e.Group("/api/v1", noStore, a.throttle.Middleware(), a.users.Middleware(), openapi.Guard(a.contract, func(c echo.Context) string {
		return string(auth.From(c).Role)
	}))
	httpapi.BillingRoutes(g, a.billing)
	httpapi.TariffRoutes(g, a.billing)
	httpapi.ClaimsRoutes(g, a.claims)
	g.GET("/jobs", a.listJobRuns)
	g.POST("/jobs/:name/run", a.runJob)
	g.GET("/reports/invariants", a.invariants)
	httpapi.AccountRoutes(g, a.users)
	httpapi.ProgrammeRoutes(g, programme.NewStore(a.pool), func() calendar.Date { return calendar.Today(a.now()) })
	httpapi.ReferralRoutes(g, a.referrals, func() calendar.Date { return calendar.Today(a.now()) })

	// The pages in French, outside /api/v1 (package web).
	web.New(web.Config{Pool: a.pool, Users: a.users, Throttle: a.throttle, Billing: a.billing, Claims: a.claims, Jobs: a.scheduler,
		Referrals: a.referrals, Logger: a.logger, Now: a.now}).Routes(e)
	a.served = servedRoutes(e)
	return e
}

// roleNames lists every role, as the contract's x-roles names them.
func roleNames() []string {
	out := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		out[i] = string(r)
	}
	return out
}

// requestDeadline bounds the request's context by RequestTimeout: waiting
// for a connection or an answer from the database then ends in a 503
// (db.Unavailable) instead of holding the client. Jobs run by hand are
// detached from it (runJob).
func (a *app) requestDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), a.cfg.RequestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func (a *app) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := a.pool.Ping(ctx); err != nil {
		return fault.New(fault.Unavailable, "the database is unreachable")
	}
	current, err := migrations.Current(ctx, a.pool.Pool)
	if err != nil {
		return fault.New(fault.Unavailable, "the schema version cannot be read")
	}
	if !current {
		return fault.New(fault.Unavailable, "the database schema is behind this binary; run passd migrate")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (a *app) listJobRuns(c echo.Context) error {
	page, err := httpapi.ParsePage(c)
	if err != nil {
		return err
	}
	name := c.QueryParam("name")
	if name != "" && !a.knownJob(name) {
		return fault.Field("name", "no job is called %q", name)
	}
	runs, err := a.scheduler.Runs(c.Request().Context(), name, page.Limit+1, page.Before)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewPage(page, runs, func(r scheduler.Run) int64 { return r.ID }, scheduler.Run.InUTC))
}

func (a *app) invariants(c echo.Context) error {
	report, err := journal.Check(c.Request().Context(), a.pool)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

func (a *app) knownJob(name string) bool { return slices.Contains(a.scheduler.Names(), name) }

func (a *app) runJob(c echo.Context) error {
	body, err := httpapi.ReadBody(c)
	if err != nil {
		return err
	}
	name, err := jobToRun(a.scheduler.Names(), c.Param("name"), httpapi.ContentType(c.Request()), body)
	if err != nil {
		return err
	}
	// A client that hangs up does not cut the job short: it runs to the end
	// of its batch like any other run.
	run, err := a.scheduler.RunNow(context.WithoutCancel(c.Request().Context()), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run.InUTC())
}

// clientAddress is who a request comes from, for the throttle of failed
// authentications (API and sign-in page, both through Echo's RealIP): the
// connection's peer, which a client cannot choose.
// Behind trusted proxies only, the nearest untrusted address of
// X-Forwarded-For.
func clientAddress(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// strictTransportSecurity is the HSTS header's value. A year: long enough
// that a provider who signs in once a month never again starts on plain
// HTTP, where a token or a session cookie could be read on the way; the
// value browsers' preload lists ask for, should the city add its domain.
// Without includeSubDomains: passd does not own the city's other hosts,
// and some of them may still serve plain HTTP.
const strictTransportSecurity = "max-age=31536000"

// strictTransport sends Strict-Transport-Security on the answers to
// requests that came over TLS (cameOverTLS), and never to one that came
// over plain HTTP: a browser would then hold passd's address to HTTPS,
// where passd may not be served at all.
func strictTransport(trusted []netip.Prefix) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cameOverTLS(c.Request(), trusted) {
				c.Response().Header().Set("Strict-Transport-Security", strictTransportSecurity)
			}
			return next(c)
		}
	}
}

// cameOverTLS reports whether the request reached passd over TLS: its own
// connection is TLS, or its peer is one of the trusted proxies and says
// X-Forwarded-Proto: https. Only the nearest proxy's word counts (the last
// value, which a proxy that appends adds after whatever the client sent);
// a client that is not a trusted proxy is never believed.
func cameOverTLS(r *http.Request, trusted []netip.Prefix) bool {
	if r.TLS != nil {
		return true
	}
	if !fromTrustedProxy(r.RemoteAddr, trusted) {
		return false
	}
	values := r.Header.Values("X-Forwarded-Proto")
	if len(values) == 0 {
		return false
	}
	proto := values[len(values)-1]
	if i := strings.LastIndexByte(proto, ','); i >= 0 {
		proto = proto[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// fromTrustedProxy reports whether the connection's peer (remoteAddr,
// host:port) lies in one of the trusted ranges.
func fromTrustedProxy(remoteAddr string, trusted []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// startSealer runs the audit sealer (audit.RunSealer) until the returned
// stop is called; stop then waits for it and seals what the last requests
// and jobs appended, so that a clean shutdown leaves no row unsealed.
func (a *app) startSealer(ctx context.Context) (stop func(context.Context)) {
	sealCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		audit.RunSealer(sealCtx, a.pool, audit.SealInterval, a.logger)
	}()
	return func(ctx context.Context) {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			return // out of time: the next sealer to run takes the rows
		}
		if n, err := audit.SealAll(ctx, a.pool, audit.SealBatch); err != nil {
			a.logger.Error("audit: last seal before stopping", "error", err.Error(), "sealed", n)
		} else if n > 0 {
			a.logger.Info("audit rows sealed before stopping", "sealed", n)
		}
	}
}

// serve starts the jobs and serves until ctx ends, then shuts down in
// order: stop taking requests and let in-flight ones finish, let running
// jobs end, seal the audit rows they appended, close the pool. Migrations are applied before (serveCommand),
// as the owner.
func (a *app) serve(ctx context.Context) error {
	var asides []*asideServer
	stopAsides := func(ctx context.Context) error {
		var errs []error
		for _, s := range asides {
			errs = append(errs, s.shutdown(ctx))
		}
		return errors.Join(errs...)
	}
	if a.cfg.PprofAddr != "" {
		profiles, err := startPprof(a.cfg.PprofAddr)
		if err != nil {
			return err
		}
		asides = append(asides, profiles)
		a.logger.Info("serving profiles", "addr", "http://"+a.cfg.PprofAddr+"/debug/pprof/")
	}
	if a.cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics.Handler(a.logger, true))
		private, err := listenAside("metrics", a.cfg.MetricsAddr, mux, 30*time.Second)
		if err != nil {
			_ = stopAsides(context.WithoutCancel(ctx))
			return err
		}
		asides = append(asides, private)
		a.logger.Info("serving metrics with the money series", "addr", "http://"+a.cfg.MetricsAddr+"/metrics")
	}
	srv := &http.Server{Addr: a.cfg.Addr, Handler: a.echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	a.logger.Info("serving", "addr", "http://"+a.cfg.Addr)
	a.scheduler.Start(ctx)
	stopSealer := a.startSealer(ctx)

	select {
	case err := <-errc:
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
		defer cancel()
		_ = a.scheduler.Stop(stopCtx)
		stopSealer(stopCtx)
		_ = stopAsides(stopCtx)
		return fmt.Errorf("passd: listen %s: %w", a.cfg.Addr, err)
	case <-ctx.Done():
	}
	a.logger.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	// Both together: while a slow request finishes, no job may start.
	var httpErr, jobErr, asideErr error
	var stopping sync.WaitGroup
	stopping.Go(func() { httpErr = srv.Shutdown(stopCtx) })
	stopping.Go(func() { jobErr = a.scheduler.Stop(stopCtx) })
	stopping.Go(func() { asideErr = stopAsides(stopCtx) })
	stopping.Wait()
	// Last, once nothing appends any more.
	stopSealer(stopCtx)
	if httpErr != nil {
		// Requests still running are cut: closing their connections cancels
		// their contexts, so their transactions roll back and release their
		// connections, and the pool can close.
		_ = srv.Close()
		return fmt.Errorf("passd: shutdown: %w", httpErr)
	}
	if jobErr != nil {
		return fmt.Errorf("passd: shutdown: %w", jobErr)
	}
	if asideErr != nil {
		return asideErr
	}
	a.logger.Info("stopped")
	return nil
}

// noStore keeps the API's answers, which carry personal and financial
// data, out of every cache (browsers', proxies'), errors included.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
