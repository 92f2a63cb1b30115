package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"passd/api"
	"passd/auth"
	"passd/billing"
	"passd/claims"
	"passd/db"
	"passd/fault"
	"passd/journal"
	"passd/migrations"
	"passd/scheduler"
)

// app is passd wired together: one pool, the stores, the jobs, the routes.
type app struct {
	cfg       Config
	pool      *pgxpool.Pool
	users     *auth.Store
	claims    *claims.Store
	billing   *billing.Store
	scheduler *scheduler.Scheduler
	echo      *echo.Echo
	logger    *slog.Logger
}

// newApp connects to the database and wires every part. now is the clock.
func newApp(ctx context.Context, cfg Config, logger *slog.Logger, now func() time.Time) (*app, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, pool: pool, logger: logger, users: auth.NewStore(pool)}
	a.claims = claims.NewStore(pool, now)
	a.billing = billing.NewStore(pool, a.claims, a.claims, billing.Config{DeadlineDays: cfg.DeadlineDays, Now: now})
	a.claims.UsePayouts(a.billing)
	a.scheduler, err = scheduler.New(pool, logger, []scheduler.Job{
		{Name: "release", Schedule: cfg.ReleaseSchedule, Run: a.billing.ReleaseJob},
		{Name: "deadline", Schedule: cfg.DeadlineSchedule, Run: a.billing.DeadlineJob},
		{Name: "claim-batch", Schedule: cfg.ClaimBatchSchedule, Run: a.claims.ClaimBatchJob},
		{Name: "payout-batch", Schedule: cfg.PayoutBatchSchedule, Run: a.billing.PayoutBatchJob},
		{Name: "reminders", Schedule: cfg.RemindersSchedule, Run: a.claims.RemindersJob},
	}, scheduler.WithClock(now))
	if err != nil {
		pool.Close()
		return nil, err
	}
	a.echo = a.routes()
	return a, nil
}

func (a *app) close() { a.pool.Close() }

// routes builds the HTTP handler. Every /api/v1 route authenticates, then
// checks its roles where it is registered.
func (a *app) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = api.ErrorHandler(a.logger)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		a.logger.Error("panic", "path", c.Path(), "error", err.Error(), "stack", string(stack))
		return err
	}}))
	e.Use(a.requestLog)

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", a.ready)

	g := e.Group("/api/v1", a.users.Middleware())
	a.billing.Routes(g)
	a.claims.Routes(g)
	g.GET("/jobs", a.listJobRuns, auth.Allow(auth.Admin))
	g.POST("/jobs/:name/run", a.runJob, auth.Allow(auth.Admin))
	g.GET("/reports/invariants", a.invariants, auth.Allow(auth.Admin))
	return e
}

// requestLog writes one line per request; never the Authorization header
// or a body, which may carry a token or a patient's identity.
func (a *app) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		a.logger.Info("request", "method", c.Request().Method, "route", c.Path(), "status", c.Response().Status,
			"duration_ms", time.Since(start).Milliseconds())
		return nil
	}
}

func (a *app) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := a.pool.Ping(ctx); err != nil {
		return fault.New(fault.Unavailable, "the database is unreachable")
	}
	current, err := migrations.Current(ctx, a.pool)
	if err != nil {
		return fault.New(fault.Unavailable, "the schema version cannot be read")
	}
	if !current {
		return fault.New(fault.Unavailable, "the database schema is behind this binary; run passd migrate")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

type jobRunJSON struct {
	Name       string     `json:"name"`
	Trigger    string     `json:"trigger"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Rows       int64      `json:"rows"`
	Error      *string    `json:"error"`
}

func toJobRunJSON(r scheduler.Run) jobRunJSON {
	out := jobRunJSON{Name: r.Name, Trigger: r.Trigger, StartedAt: r.StartedAt.UTC(), Rows: r.Rows, Error: r.Error}
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		out.FinishedAt = &t
	}
	return out
}

func (a *app) listJobRuns(c echo.Context) error {
	page, err := api.ParsePage(c)
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
	return c.JSON(http.StatusOK, api.NewPage(page, runs, func(r scheduler.Run) int64 { return r.ID }, toJobRunJSON))
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
	body, err := api.ReadBody(c)
	if err != nil {
		return err
	}
	name, err := jobToRun(a.scheduler.Names(), c.Param("name"), api.ContentType(c.Request()), body)
	if err != nil {
		return err
	}
	// A client that hangs up does not cut the job short: it runs to the end
	// of its batch like any other run.
	run, err := a.scheduler.RunNow(context.WithoutCancel(c.Request().Context()), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJobRunJSON(run))
}

// serve applies migrations, starts the jobs and serves until ctx ends, then
// shuts down in order: stop taking requests and let in-flight ones finish,
// let running jobs end, close the pool.
func (a *app) serve(ctx context.Context) error {
	if _, err := migrations.Up(ctx, a.pool); err != nil {
		return err
	}
	srv := &http.Server{Addr: a.cfg.Addr, Handler: a.echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	a.logger.Info("serving", "addr", "http://"+a.cfg.Addr)
	a.scheduler.Start(ctx)

	select {
	case err := <-errc:
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
		defer cancel()
		_ = a.scheduler.Stop(stopCtx)
		return fmt.Errorf("passd: listen %s: %w", a.cfg.Addr, err)
	case <-ctx.Done():
	}
	a.logger.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	httpErr := srv.Shutdown(stopCtx)
	jobErr := a.scheduler.Stop(stopCtx)
	if httpErr != nil {
		return fmt.Errorf("passd: shutdown: %w", httpErr)
	}
	return jobErr
}
