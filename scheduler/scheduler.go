package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // Europe/Paris must exist on a machine without a tz database.

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/robfig/cron/v3"

	"passd/db"
	"passd/fault"
	"passd/shutdown"
)

// Zone is the time zone every schedule is evaluated in.
const Zone = "Europe/Paris"

// What started a run; the values of job_runs.trigger.
const (
	TriggerSchedule = "schedule"
	TriggerStartup  = "startup"
	TriggerManual   = "manual"
)

// MaxRunsLimit bounds one page of Runs; one above the API's 500 so a
// caller can fetch a page and learn whether another follows.
const MaxRunsLimit = 501

// DefaultRunsLimit is the page size of Runs when the caller gives none.
const DefaultRunsLimit = 50

// finishTimeout bounds the bookkeeping that must happen even after the run's
// context was cancelled: recording the end of the run and unlocking.
const finishTimeout = 5 * time.Second

// Job is one named, scheduled sweep.
type Job struct {
	Name string
	// Schedule is a robfig cron spec with 5 fields ("*/5 * * * *",
	// "30 4 * * *"), a descriptor ("@daily") or an interval ("@every 1s"),
	// evaluated in Europe/Paris.
	Schedule string
	// Run does the work and returns how many rows it touched. It should
	// return soon after ctx is cancelled, and, if it works in batches,
	// after the batch at hand once shutdown.Requested(ctx). Rows are recorded even with an
	// error (a sweep in batches may have committed some).
	Run func(ctx context.Context) (rows int64, err error)
}

// Run is one recorded run of a job: a row of job_runs. FinishedAt is nil
// while the run is in progress (or if its process died); Error is nil when
// the job succeeded.
type Run struct {
	ID int64 `json:"-"`
	// Tenant is the convention the run worked for: each job runs for each
	// convention apart, and records its run in it.
	Tenant     int64      `json:"-"`
	Name       string     `json:"name"`
	Trigger    string     `json:"trigger"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Rows       int64      `json:"rows"`
	Error      *string    `json:"error"`
}

// InUTC returns r with its times in UTC, as the JSON answers and the
// command line give them whatever the server's time zone.
func (r Run) InUTC() Run {
	r.StartedAt = r.StartedAt.UTC()
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		r.FinishedAt = &t
	}
	return r
}

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithClock sets the clock that stamps started_at and finished_at, so tests
// can pin them. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Scheduler) { s.now = now }
}

// Observer is told of each run that took its job's lock, once the run's
// end is recorded (or failed to be): the run as job_runs holds it, and how
// long the job ran by the scheduler's clock. It is called on the run's
// goroutine, so it must be quick (count, not write to the database). A
// run skipped because its job was busy is not a run: it is not told.
type Observer func(run Run, elapsed time.Duration)

// WithObserver sets the observer of runs, such as the metrics.
func WithObserver(o Observer) Option {
	return func(s *Scheduler) { s.observe = o }
}

// job is a Job with its parsed schedule and its in-process busy flag.
type job struct {
	Job
	schedule cron.Schedule
	running  atomic.Bool
}

// Scheduler runs jobs on their schedules and by hand, one run of a job at a
// time across every process sharing the database.
type Scheduler struct {
	pool    *db.Pool
	logger  *slog.Logger
	now     func() time.Time
	observe Observer // nil: nobody
	jobs    []*job   // in the order given to New
	byName  map[string]*job
	cron    *cron.Cron

	mu       sync.Mutex
	started  bool
	stopped  bool
	stopping chan struct{} // closed by Stop: runs in progress should end after the batch at hand
	nextRun  uint64
	inflight map[uint64]context.CancelFunc // runs (and the start-up loop) in progress
	idle     chan struct{}                 // closed when inflight empties; nil when nobody waits
}

// Errors of execute that are not failures of the job.
var (
	errBusyHere      = errors.New("scheduler: job already running in this process")
	errBusyElsewhere = errors.New("scheduler: job already running in another process")
	errStopped       = errors.New("scheduler: stopped")
)

// New checks the jobs — names non-empty and unique, a Run, a schedule that
// parses — and returns a scheduler that runs nothing until Start or RunNow.
func New(pool *db.Pool, logger *slog.Logger, jobs []Job, opts ...Option) (*Scheduler, error) {
	if pool == nil {
		return nil, errors.New("scheduler: nil pool")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	paris, err := time.LoadLocation(Zone)
	if err != nil {
		return nil, fmt.Errorf("scheduler: load %s: %w", Zone, err)
	}
	s := &Scheduler{
		pool:     pool,
		logger:   logger,
		now:      time.Now,
		byName:   make(map[string]*job, len(jobs)),
		inflight: map[uint64]context.CancelFunc{},
		stopping: make(chan struct{}),
	}
	for _, j := range jobs {
		switch {
		case strings.TrimSpace(j.Name) == "":
			return nil, errors.New("scheduler: a job has no name")
		case s.byName[j.Name] != nil:
			return nil, fmt.Errorf("scheduler: job %q: name used twice", j.Name)
		case j.Run == nil:
			return nil, fmt.Errorf("scheduler: job %q: no Run function", j.Name)
		}
		sched, err := parseSchedule(j.Schedule)
		if err != nil {
			return nil, fmt.Errorf("scheduler: job %q: schedule %q: %w", j.Name, j.Schedule, err)
		}
		jj := &job{Job: j, schedule: sched}
		s.jobs = append(s.jobs, jj)
		s.byName[j.Name] = jj
	}
	for _, opt := range opts {
		opt(s)
	}
	s.cron = cron.New(cron.WithLocation(paris), cron.WithLogger(cronLogger{logger}))
	return s, nil
}

// inParis prefixes spec with CRON_TZ=Europe/Paris unless it is an interval
// (which has no zone) or names its own zone.
func inParis(spec string) string {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "@every") || strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		return spec
	}
	return "CRON_TZ=" + Zone + " " + spec
}

// parseSchedule parses a standard 5-field spec (or a descriptor) in Paris.
func parseSchedule(spec string) (cron.Schedule, error) {
	spec = inParis(spec)
	// robfig/cron slices out of range on a zone with nothing after it.
	if (strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=")) && !strings.Contains(spec, " ") {
		return nil, errors.New("a time zone without a schedule")
	}
	return cron.ParseStandard(spec)
}

// Names returns the jobs' names in the order given to New.
func (s *Scheduler) Names() []string {
	names := make([]string, len(s.jobs))
	for i, j := range s.jobs {
		names[i] = j.Name
	}
	return names
}

// Start runs every job once in the background, one after another, to catch
// up on what a downtime missed ("startup" runs), and starts the schedules.
// ctx lends its values to the runs but not its cancellation: the runs end
// with Stop, so that a shutdown signal lets them finish. Start after Start or
// Stop does nothing.
func (s *Scheduler) Start(ctx context.Context) {
	base := context.WithoutCancel(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return
	}
	s.started = true
	loopCtx, cancel := context.WithCancel(base)
	done := s.trackLocked(cancel)
	go func() {
		defer done()
		defer cancel()
		for _, j := range s.jobs {
			s.background(loopCtx, j, TriggerStartup)
		}
	}()
	for _, j := range s.jobs {
		s.cron.Schedule(j.schedule, cron.FuncJob(func() { s.background(base, j, TriggerSchedule) }))
	}
	// Under s.mu, so that a concurrent Stop cannot slip in before it.
	s.cron.Start()
}

// Stop stops the schedules, asks the runs in progress (scheduled, start-up
// and manual) to end after the batch at hand (see shutdown.Requested), and waits
// for them. Their contexts are cancelled only if ctx expires first; Stop
// then waits for them to return and reports ctx's error. No run starts after
// Stop.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		close(s.stopping)
	}
	s.stopped = true
	// No new ticks; a tick already fired finds s.stopped and returns.
	cronDone := s.cron.Stop().Done()
	s.mu.Unlock()

	idle := s.whenIdle()
	select {
	case <-idle: // nothing was running: done, even if ctx has expired
	default:
		select {
		case <-idle:
		case <-ctx.Done():
			s.cancelRuns()
			<-s.whenIdle()
			<-cronDone
			return fmt.Errorf("scheduler: stop: running jobs cancelled: %w", ctx.Err())
		}
	}
	<-cronDone
	return nil
}

// cancelRuns cancels the context of every run in progress.
func (s *Scheduler) cancelRuns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.inflight {
		cancel()
	}
}

// RunNow runs the job now and waits for it, as the "manual" trigger. A job
// that fails or panics is not an error of RunNow: the returned Run carries
// the job's error. RunNow fails with fault.NotFound for an unknown name,
// fault.Conflict (kind "job_running") when the job is running here or in
// another process, fault.Unavailable after Stop, and otherwise when the run
// could not be started or recorded.
func (s *Scheduler) RunNow(ctx context.Context, name string) (Run, error) {
	j := s.byName[name]
	if j == nil {
		return Run{}, fault.New(fault.NotFound, "no job named %q", name).WithField("name")
	}
	tenant, ok := s.tenantOf(ctx)
	if !ok {
		return Run{}, errors.New("scheduler: a manual run names no convention")
	}
	run, err := s.execute(ctx, j, tenant, TriggerManual)
	switch {
	case errors.Is(err, errBusyHere), errors.Is(err, errBusyElsewhere):
		return Run{}, &fault.Error{Code: fault.Conflict, Kind: fault.KindJobRunning,
			Message: fmt.Sprintf("job %q is already running", name), Err: err}
	case errors.Is(err, errStopped):
		return Run{}, &fault.Error{Code: fault.Unavailable, Message: "the scheduler is shutting down", Err: err}
	case err != nil:
		return run, db.Translate(err)
	}
	return run, nil
}

// Runs lists recorded runs newest first: of the named job, or of every job
// when name is "". It returns up to limit runs (0: DefaultRunsLimit) with an
// id below beforeID (0: from the newest); the next page starts before the
// last run's ID.
func (s *Scheduler) Runs(ctx context.Context, name string, limit int, beforeID int64) ([]Run, error) {
	if name != "" && s.byName[name] == nil {
		return nil, fault.New(fault.NotFound, "no job named %q", name).WithField("name")
	}
	if limit == 0 {
		limit = DefaultRunsLimit
	}
	if limit < 0 || limit > MaxRunsLimit {
		return nil, fault.Field("limit", "must be between 1 and %d", MaxRunsLimit)
	}
	if beforeID < 0 {
		return nil, fault.Field("before_id", "must not be negative")
	}
	return listRuns(ctx, s.pool, name, db.PageRequest{Limit: limit, Before: beforeID})
}

// RunsPage is Runs in page's order: a page of the admin's list, which can
// read the oldest first. page.Limit is bounded as Runs bounds limit.
func (s *Scheduler) RunsPage(ctx context.Context, name string, page db.PageRequest) ([]Run, error) {
	if name != "" && s.byName[name] == nil {
		return nil, fault.New(fault.NotFound, "no job named %q", name).WithField("name")
	}
	if page.Limit < 1 || page.Limit > MaxRunsLimit {
		return nil, fault.Field("limit", "must be between 1 and %d", MaxRunsLimit)
	}
	return listRuns(ctx, s.pool, name, page)
}

// CountRuns is how many runs are recorded, of the named job or of all.
func (s *Scheduler) CountRuns(ctx context.Context, name string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE ($1 = '' OR name = $1) AND tenant_id = passd_tenant()`, name).Scan(&n)
	if err != nil {
		return 0, db.Translate(fmt.Errorf("scheduler: count runs: %w", err))
	}
	return n, nil
}

// background runs j for the schedule or the start-up catch-up, where nobody
// waits for the answer: a busy job is skipped quietly, other failures to
// start are logged.
func (s *Scheduler) background(ctx context.Context, j *job, trigger string) {
	tenants, err := s.tenants(ctx)
	if err != nil {
		s.logger.Error("scheduler: list the conventions", "job", j.Name, "trigger", trigger, "error", err)
		return
	}
	// One run per convention, each recorded in its own: one convention's
	// failure is its run's error, and the next convention runs all the same.
	for _, tenant := range tenants {
		_, err := s.execute(ctx, j, tenant, trigger)
		switch {
		case err == nil:
		case errors.Is(err, errStopped):
			return
		case errors.Is(err, errBusyHere), errors.Is(err, errBusyElsewhere):
			s.logger.Debug("scheduler: run skipped", "job", j.Name, "convention", tenant, "trigger", trigger, "reason", err.Error())
		default:
			s.logger.Error("scheduler: run failed to start or to be recorded", "job", j.Name, "convention", tenant, "trigger", trigger, "error", err)
		}
	}
}

// tenantOf is the convention a manual run is for: the context's, or the
// one the pool is bound to.
func (s *Scheduler) tenantOf(ctx context.Context) (int64, bool) {
	if t, ok := db.TenantOf(ctx); ok {
		return t, true
	}
	return s.pool.Bound(), s.pool.Bound() != 0
}

// tenants lists the conventions a scheduled run goes through: every one on
// the deployment, or the pool's own when it is bound to one.
func (s *Scheduler) tenants(ctx context.Context) ([]int64, error) {
	if t, ok := db.TenantOf(ctx); ok {
		return []int64{t}, nil
	}
	return s.pool.Tenants(ctx)
}

// execute runs j once if it is free here and elsewhere, and records the run.
// The returned error is about the scheduling and the bookkeeping, never the
// job's own failure, which is in Run.Error.
func (s *Scheduler) execute(parent context.Context, j *job, tenant int64, trigger string) (Run, error) {
	ctx, cancel := context.WithCancel(shutdown.WithStop(db.WithTenant(parent, tenant), s.stopping))
	defer cancel()
	done, ok := s.track(cancel)
	if !ok {
		return Run{}, errStopped
	}
	defer done()
	if !j.running.CompareAndSwap(false, true) {
		return Run{}, errBusyHere
	}
	defer j.running.Store(false)

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return Run{}, fmt.Errorf("scheduler: acquire a connection for job %s: %w", j.Name, err)
	}
	locked, err := tryLock(ctx, conn, j.Name, tenant)
	if err != nil || !locked {
		conn.Release()
		if err == nil {
			err = errBusyElsewhere
		}
		return Run{}, err
	}
	defer s.release(ctx, conn, j.Name, tenant)

	// Timestamps are kept to the microsecond, as PostgreSQL stores them, so
	// the Run returned equals the Run listed later.
	start := s.now()
	run := Run{Name: j.Name, Tenant: tenant, Trigger: trigger, StartedAt: start.Truncate(time.Microsecond)}
	// The run is recorded in its convention (job_runs is under row-level
	// security), through the pool: the locking connection sets none.
	if run.ID, err = insertRun(ctx, s.pool, run.Name, run.Trigger, run.StartedAt); err != nil {
		return Run{}, err
	}
	rows, jobErr := s.call(ctx, j)
	end := s.now()
	finished := end.Truncate(time.Microsecond)
	run.FinishedAt, run.Rows = &finished, rows
	if jobErr != nil {
		msg := jobErr.Error()
		run.Error = &msg
	}
	// The run happened: record its end even if ctx was cancelled meanwhile.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer fcancel()
	err = finishRun(fctx, s.pool, run)
	// The one line per run; a manual run's carries its request's id (the
	// logger's handler reads it from ctx).
	level, outcome := slog.LevelInfo, "ok"
	if jobErr != nil {
		level, outcome = slog.LevelError, "error"
	}
	s.logger.Log(ctx, level, "job run",
		"job", run.Name,
		"convention", run.Tenant,
		"trigger", run.Trigger,
		"rows", run.Rows,
		"duration_ms", end.Sub(start).Milliseconds(),
		"outcome", outcome,
		"stop_requested", shutdown.Requested(ctx),
		"error", jobErr)
	if s.observe != nil {
		s.observe(run, end.Sub(start))
	}
	return run, err
}

// call runs the job, turning a panic into its error.
func (s *Scheduler) call(ctx context.Context, j *job) (rows int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			s.logger.ErrorContext(ctx, "scheduler: job panicked", "job", j.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	return j.Run(ctx)
}

// release unlocks the job and returns the connection to the pool. If the
// unlock fails the session is closed instead, which drops the lock with it:
// a connection still holding a job's lock must never go back to the pool.
func (s *Scheduler) release(ctx context.Context, conn *pgxpool.Conn, name string, tenant int64) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	ok, err := unlock(uctx, conn, name, tenant)
	if err != nil || !ok {
		s.logger.Error("scheduler: unlock failed, closing the connection", "job", name, "error", err, "held", ok)
		_ = conn.Conn().Close(uctx)
	}
	conn.Release()
}

// track registers a run in progress so that Stop waits for it and can cancel
// it; it refuses once Stop has been called. done unregisters it.
func (s *Scheduler) track(cancel context.CancelFunc) (done func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, false
	}
	return s.trackLocked(cancel), true
}

func (s *Scheduler) trackLocked(cancel context.CancelFunc) (done func()) {
	id := s.nextRun
	s.nextRun++
	s.inflight[id] = cancel
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.inflight, id)
		if len(s.inflight) == 0 && s.idle != nil {
			close(s.idle)
			s.idle = nil
		}
	}
}

// whenIdle returns a channel closed once no run is in progress.
func (s *Scheduler) whenIdle() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.inflight) == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	return s.idle
}

// cronLogger sends robfig/cron's chatter to slog: its routine messages at
// debug level, its errors as errors.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	c.l.Debug("scheduler: cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("scheduler: cron: "+msg, append(kv, "error", err)...)
}

// CheckSchedule reports whether spec parses as New would parse it, so that
// passd config check refuses what start-up would refuse.
func CheckSchedule(spec string) error {
	_, err := parseSchedule(spec)
	return err
}
