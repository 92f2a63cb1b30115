package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"passd/db"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/robfig/cron/v3"

	"passd/db/dbtest"
	"passd/fault"
)

// guard bounds every wait: reaching it means the behaviour did not happen.
const guard = 10 * time.Second

// farFuture never fires during a test: 04:00 on the 1st of January.
const farFuture = "0 4 1 1 *"

func TestRunNowRecordsTheRun(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var ticks atomic.Int64
	clock := func() time.Time { return t0.Add(time.Duration(ticks.Add(1)-1) * 1500 * time.Millisecond) }
	logs := &recorder{}
	s := newScheduler(t, pool, logs, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) { return 7, nil }},
	}, WithClock(clock))

	run, err := s.RunNow(ctx, "sweep")
	if err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	if run.ID == 0 || run.Name != "sweep" || run.Trigger != TriggerManual || run.Rows != 7 || run.Error != nil {
		t.Fatalf("run = %+v, want sweep/manual, 7 rows, no error", run)
	}
	if !run.StartedAt.Equal(t0) || run.FinishedAt == nil || !run.FinishedAt.Equal(t0.Add(1500*time.Millisecond)) {
		t.Fatalf("run times = %v .. %v, want %v .. +1.5s (from the injected clock)", run.StartedAt, run.FinishedAt, t0)
	}
	runs, err := s.Runs(ctx, "sweep", 10, 0)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	if len(runs) != 1 || !sameRun(runs[0], run) {
		t.Fatalf("stored runs = %+v, want exactly %+v", runs, run)
	}
	lines := logs.find(slog.LevelInfo, "job run")
	if len(lines) != 1 {
		t.Fatalf("got %d info lines for the run, want 1", len(lines))
	}
	want := map[string]string{"job": "sweep", "trigger": "manual", "rows": "7", "duration_ms": "1500", "outcome": "ok", "error": "<nil>"}
	if got := lines[0]; !hasAttrs(got, want) {
		t.Fatalf("log attrs = %v, want %v", got, want)
	}
}

// TestTheObserverIsToldOfEveryRunAndOnlyOfRuns: each run that took the
// lock is told once, as recorded, with its duration by the injected
// clock, a failure included; a run refused because the job was busy is
// not. A failed run logs its one line as an error.
func TestTheObserverIsToldOfEveryRunAndOnlyOfRuns(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var ticks atomic.Int64
	clock := func() time.Time { return t0.Add(time.Duration(ticks.Add(1)-1) * 250 * time.Millisecond) }
	type told struct {
		run     Run
		elapsed time.Duration
	}
	var mu sync.Mutex
	var seen []told
	observer := func(run Run, elapsed time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, told{run, elapsed})
	}
	started, release := make(chan struct{}), make(chan struct{})
	fail := errors.New("claims: boom")
	logs := &recorder{}
	s := newScheduler(t, pool, logs, []Job{
		{Name: "slow", Schedule: farFuture, Run: func(context.Context) (int64, error) {
			close(started)
			<-release
			return 4, nil
		}},
		{Name: "broken", Schedule: farFuture, Run: func(context.Context) (int64, error) { return 2, fail }},
	}, WithClock(clock), WithObserver(observer))

	done := make(chan error, 1)
	go func() {
		_, err := s.RunNow(ctx, "slow")
		done <- err
	}()
	recv(t, started, "the slow run to start")
	if _, err := s.RunNow(ctx, "slow"); err == nil {
		t.Fatal("a second run of a busy job was not refused")
	}
	close(release)
	if err := recv(t, done, "the slow run to end"); err != nil {
		t.Fatal(err)
	}
	broken, err := s.RunNow(ctx, "broken")
	if err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("the observer was told of %d runs, want 2 (the refused one is not a run): %+v", len(seen), seen)
	}
	if r := seen[0]; r.run.Name != "slow" || r.run.Rows != 4 || r.run.Error != nil || r.run.FinishedAt == nil || r.elapsed != 250*time.Millisecond {
		t.Errorf("first run told = %+v, %s; want slow, 4 rows, no error, 250ms", r.run, r.elapsed)
	}
	if r := seen[1]; !sameRun(r.run, broken) || r.run.Error == nil || *r.run.Error != "claims: boom" || r.run.Rows != 2 {
		t.Errorf("second run told = %+v, want the recorded %+v with its error", r.run, broken)
	}
	failed := logs.find(slog.LevelError, "job run")
	if len(failed) != 1 || !hasAttrs(failed[0], map[string]string{"job": "broken", "rows": "2", "outcome": "error", "error": "claims: boom"}) {
		t.Errorf("the failed run's log lines: %v, want one error line with outcome error", failed)
	}
}

func TestRunNowRecordsTheJobsError(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) {
			return 3, errors.New("claims: boom")
		}},
	})

	run, err := s.RunNow(ctx, "sweep")
	if err != nil {
		t.Fatalf("RunNow: %v (a failing job is not a failure of RunNow)", err)
	}
	if run.Error == nil || *run.Error != "claims: boom" || run.Rows != 3 || run.FinishedAt == nil {
		t.Fatalf("run = %+v, want error %q with the 3 rows done", run, "claims: boom")
	}
	runs := mustRuns(t, s, "sweep")
	if len(runs) != 1 || !sameRun(runs[0], run) {
		t.Fatalf("stored runs = %+v, want exactly %+v", runs, run)
	}
}

func TestRunNowRecoversAPanic(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	logs := &recorder{}
	s := newScheduler(t, pool, logs, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) { panic("kaboom") }},
	})

	run, err := s.RunNow(ctx, "sweep")
	if err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	if run.Error == nil || *run.Error != "panic: kaboom" || run.FinishedAt == nil {
		t.Fatalf("run = %+v, want error %q", run, "panic: kaboom")
	}
	runs := mustRuns(t, s, "sweep")
	if len(runs) != 1 || !sameRun(runs[0], run) {
		t.Fatalf("stored runs = %+v, want exactly %+v", runs, run)
	}
	if len(logs.find(slog.LevelError, "scheduler: job panicked")) != 1 {
		t.Fatal("the panic was not logged as an error")
	}
	// The job is free again.
	if _, err := s.RunNow(ctx, "sweep"); err != nil {
		t.Fatalf("RunNow after a panic: %v", err)
	}
}

func TestUnknownJobIsNotFound(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) { return 0, nil }},
	})

	_, err := s.RunNow(ctx, "swep")
	assertFault(t, err, fault.NotFound, "", "name")
	_, err = s.Runs(ctx, "swep", 10, 0)
	assertFault(t, err, fault.NotFound, "", "name")
	if runs := mustRuns(t, s, ""); len(runs) != 0 {
		t.Fatalf("runs = %+v, want none", runs)
	}
}

// Two schedulers on two pools stand for two passd processes on one database.
func TestAJobNeverOverlapsAcrossProcesses(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	first := newScheduler(t, dbtest.App(t, url), &recorder{}, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) {
			close(started)
			<-release
			return 1, nil
		}},
	})
	var secondCalls atomic.Int64
	second := newScheduler(t, dbtest.App(t, url), &recorder{}, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) {
			secondCalls.Add(1)
			return 2, nil
		}},
	})

	firstDone := make(chan error, 1)
	go func() {
		_, err := first.RunNow(ctx, "sweep")
		firstDone <- err
	}()
	recv(t, started, "the first process's run to start")

	_, err := second.RunNow(ctx, "sweep")
	assertFault(t, err, fault.Conflict, "job_running", "")
	if secondCalls.Load() != 0 {
		t.Fatal("the second process ran the job while the first was running it")
	}
	if runs := mustRuns(t, second, ""); len(runs) != 1 || runs[0].FinishedAt != nil {
		t.Fatalf("runs = %+v, want only the first process's run, in progress", runs)
	}

	close(release)
	if err := recv(t, firstDone, "the first run to end"); err != nil {
		t.Fatalf("first RunNow: %v", err)
	}
	run, err := second.RunNow(ctx, "sweep")
	if err != nil {
		t.Fatalf("second RunNow once the first run ended: %v", err)
	}
	if run.Rows != 2 || secondCalls.Load() != 1 {
		t.Fatalf("run = %+v, calls = %d; want the second process's job to run once", run, secondCalls.Load())
	}
	if runs := mustRuns(t, first, ""); len(runs) != 2 {
		t.Fatalf("got %d runs, want 2", len(runs))
	}
}

func TestAJobNeverOverlapsInAProcess(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	var calls atomic.Int64
	release := make(chan struct{})
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) {
			calls.Add(1)
			<-release
			return 1, nil
		}},
	})

	const callers = 8
	results := make(chan error, callers)
	for range callers {
		go func() {
			_, err := s.RunNow(ctx, "sweep")
			results <- err
		}()
	}
	// The one run blocks until released, so every other caller must have
	// been refused before it can end.
	for range callers - 1 {
		assertFault(t, recv(t, results, "a refused RunNow"), fault.Conflict, "job_running", "")
	}
	close(release)
	if err := recv(t, results, "the one RunNow that ran"); err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("job ran %d times, want 1", calls.Load())
	}
	if runs := mustRuns(t, s, "sweep"); len(runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(runs))
	}
}

func TestStartCatchesUpOnceAndStopWaitsForTheRunningJob(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var quickCalls atomic.Int64
	slowStarted, release := make(chan struct{}), make(chan struct{})
	var finished, cancelledEarly atomic.Bool
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "quick", Schedule: farFuture, Run: func(context.Context) (int64, error) {
			quickCalls.Add(1)
			return 1, nil
		}},
		{Name: "slow", Schedule: farFuture, Run: func(ctx context.Context) (int64, error) {
			close(slowStarted)
			<-release
			cancelledEarly.Store(ctx.Err() != nil)
			finished.Store(true)
			return 2, nil
		}},
	})

	// Start's context is the process's signal context: its end must not
	// cancel the runs, only Stop governs them.
	startCtx, cancelStart := context.WithCancel(context.Background())
	s.Start(startCtx)
	recv(t, slowStarted, "the start-up run of the slow job")
	cancelStart()

	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	// Once Stop is under way RunNow answers unavailable (before: conflict,
	// as the slow job is running).
	waitFor(t, "Stop to begin", func() bool {
		_, err := s.RunNow(context.Background(), "slow")
		if fault.Is(err, fault.Conflict) {
			return false
		}
		assertFault(t, err, fault.Unavailable, "", "")
		return true
	})
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while the slow job was still running", err)
	default:
	}

	close(release)
	if err := recv(t, stopped, "Stop to return"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the running job finished")
	}
	if cancelledEarly.Load() {
		t.Fatal("the job's context was cancelled although Stop's context had not expired")
	}
	if quickCalls.Load() != 1 {
		t.Fatalf("quick ran %d times, want once at start-up", quickCalls.Load())
	}
	runs := mustRuns(t, s, "")
	if len(runs) != 2 {
		t.Fatalf("runs = %+v, want one per job", runs)
	}
	for _, r := range runs {
		if r.Trigger != TriggerStartup || r.FinishedAt == nil || r.Error != nil {
			t.Fatalf("run = %+v, want a finished start-up run", r)
		}
	}
}

func TestStopCancelsRunsWhenItsContextExpires(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	started := make(chan struct{})
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "stubborn", Schedule: farFuture, Run: func(ctx context.Context) (int64, error) {
			close(started)
			<-ctx.Done()
			return 4, ctx.Err()
		}},
	})
	s.Start(context.Background())
	recv(t, started, "the start-up run")

	stopCtx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Stop(stopCtx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the deadline of its context", err)
	}
	// The end of the cancelled run is recorded all the same, and its lock freed.
	runs := mustRuns(t, s, "stubborn")
	if len(runs) != 1 || runs[0].FinishedAt == nil || runs[0].Rows != 4 ||
		runs[0].Error == nil || *runs[0].Error != context.Canceled.Error() {
		t.Fatalf("runs = %+v, want one finished run with 4 rows and error %q", runs, context.Canceled)
	}
	var free bool
	if err := pool.QueryRow(context.Background(),
		`SELECT pg_try_advisory_lock(hashtextextended('passd.job.stubborn.1', 0))`).Scan(&free); err != nil {
		t.Fatal(err)
	}
	if !free {
		t.Fatal("the job's advisory lock is still held after Stop")
	}
}

func TestNothingRunsAfterStop(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var calls atomic.Int64
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "sweep", Schedule: "@every 1s", Run: func(context.Context) (int64, error) {
			calls.Add(1)
			return 0, nil
		}},
	})
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stop(expired); err != nil {
		t.Fatalf("Stop with nothing running = %v, want nil even with an expired context", err)
	}
	s.Start(context.Background()) // too late: does nothing
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		t.Fatal("Start after Stop started the scheduler")
	}
	_, err := s.RunNow(context.Background(), "sweep")
	assertFault(t, err, fault.Unavailable, "", "")
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if calls.Load() != 0 {
		t.Fatalf("the job ran %d times after Stop", calls.Load())
	}
	if runs := mustRuns(t, s, ""); len(runs) != 0 {
		t.Fatalf("runs = %+v, want none", runs)
	}
}

func TestBackgroundRunIsSkippedWhenAnotherProcessRunsTheJob(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	// Another process holds the job's lock.
	other, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('passd.job.sweep.1', 0))`); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	logs := &recorder{}
	s := newScheduler(t, pool, logs, []Job{
		{Name: "sweep", Schedule: farFuture, Run: func(context.Context) (int64, error) {
			calls.Add(1)
			return 0, nil
		}},
	})

	s.Start(ctx)
	waitFor(t, "the start-up run to be skipped", func() bool {
		return len(logs.find(slog.LevelDebug, "scheduler: run skipped")) == 1
	})
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if calls.Load() != 0 {
		t.Fatal("the job ran while another process held its lock")
	}
	if runs := mustRuns(t, s, ""); len(runs) != 0 {
		t.Fatalf("runs = %+v, want none: a skipped run leaves no row", runs)
	}
	if n := len(logs.find(slog.LevelError, "")) + len(logs.find(slog.LevelWarn, "")); n != 0 {
		t.Fatalf("a skipped run logged %d warnings or errors, want none", n)
	}
	if got := logs.find(slog.LevelDebug, "scheduler: run skipped")[0]; !hasAttrs(got, map[string]string{"job": "sweep", "trigger": "startup"}) {
		t.Fatalf("skip log attrs = %v", got)
	}
}

func TestRunsListsNewestFirstWithKeysetPaging(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	noop := func(context.Context) (int64, error) { return 0, nil }
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "a", Schedule: farFuture, Run: noop},
		{Name: "b", Schedule: farFuture, Run: noop},
	})
	var ids []int64 // in run order
	for _, name := range []string{"a", "b", "a", "a", "b"} {
		run, err := s.RunNow(ctx, name)
		if err != nil {
			t.Fatalf("RunNow(%s): %v", name, err)
		}
		ids = append(ids, run.ID)
	}

	page := func(name string, limit int, before int64) []int64 {
		t.Helper()
		runs, err := s.Runs(ctx, name, limit, before)
		if err != nil {
			t.Fatalf("Runs(%q, %d, %d): %v", name, limit, before, err)
		}
		got := make([]int64, len(runs))
		for i, r := range runs {
			got[i] = r.ID
		}
		return got
	}
	tests := []struct {
		name   string
		limit  int
		before int64
		want   []int64
	}{
		{"", 2, 0, []int64{ids[4], ids[3]}},
		{"", 2, ids[3], []int64{ids[2], ids[1]}},
		{"", 2, ids[1], []int64{ids[0]}},
		{"", 2, ids[0], []int64{}},
		{"", 0, 0, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}}, // 0: the default limit
		{"a", 10, 0, []int64{ids[3], ids[2], ids[0]}},
		{"a", 1, ids[3], []int64{ids[2]}},
		{"b", 10, ids[4], []int64{ids[1]}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, page(tt.name, tt.limit, tt.before)); diff != "" {
			t.Errorf("Runs(%q, %d, before %d) ids (-want +got):\n%s", tt.name, tt.limit, tt.before, diff)
		}
	}

	_, err := s.Runs(ctx, "", MaxRunsLimit+1, 0)
	assertFault(t, err, fault.Invalid, "", "limit")
	_, err = s.Runs(ctx, "", -1, 0)
	assertFault(t, err, fault.Invalid, "", "limit")
	_, err = s.Runs(ctx, "", 10, -1)
	assertFault(t, err, fault.Invalid, "", "before_id")
}

func TestNewChecksTheJobs(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	noop := func(context.Context) (int64, error) { return 0, nil }

	good := []Job{
		{Name: "release", Schedule: "*/5 * * * *", Run: noop},
		{Name: "deadline", Schedule: "30 4 * * *", Run: noop},
		{Name: "payout-batch", Schedule: "0 6 * * 1", Run: noop},
		{Name: "tick", Schedule: "@every 1s", Run: noop},
		{Name: "daily", Schedule: "@daily", Run: noop},
		{Name: "utc", Schedule: "TZ=UTC 0 5 * * *", Run: noop},
	}
	s, err := New(pool, nil, good)
	if err != nil {
		t.Fatalf("New(good jobs): %v", err)
	}
	if got := strings.Join(s.Names(), ","); got != "release,deadline,payout-batch,tick,daily,utc" {
		t.Fatalf("Names = %s, want the jobs in the order given", got)
	}

	tests := []struct {
		name    string
		jobs    []Job
		wantErr string
	}{
		{"minute out of range", []Job{{Name: "bad", Schedule: "61 * * * *", Run: noop}}, `job "bad"`},
		{"not a spec", []Job{{Name: "bad", Schedule: "every day", Run: noop}}, `job "bad"`},
		{"six fields", []Job{{Name: "bad", Schedule: "0 30 4 * * *", Run: noop}}, `job "bad"`},
		{"empty spec", []Job{{Name: "bad", Schedule: "", Run: noop}}, `job "bad"`},
		{"zone alone", []Job{{Name: "bad", Schedule: "CRON_TZ=Europe/Paris", Run: noop}}, `job "bad"`},
		{"unknown zone", []Job{{Name: "bad", Schedule: "CRON_TZ=Mars/Olympus 0 4 * * *", Run: noop}}, `job "bad"`},
		{"duplicate name", []Job{
			{Name: "twice", Schedule: "0 4 * * *", Run: noop},
			{Name: "twice", Schedule: "0 5 * * *", Run: noop},
		}, `job "twice"`},
		{"no name", []Job{{Name: " ", Schedule: "0 4 * * *", Run: noop}}, "no name"},
		{"no Run", []Job{{Name: "idle", Schedule: "0 4 * * *"}}, `job "idle"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(pool, nil, tt.jobs)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "scheduler: ") {
				t.Fatalf("New = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestSchedulesAreEvaluatedInParis(t *testing.T) {
	t.Parallel()
	utc := func(s string) time.Time {
		t.Helper()
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		spec, from, want string
	}{
		{"30 4 * * *", "2026-01-10T12:00:00Z", "2026-01-11T03:30:00Z"}, // CET, UTC+1
		{"30 4 * * *", "2026-03-28T12:00:00Z", "2026-03-29T02:30:00Z"}, // the night clocks go forward: CEST, UTC+2
		{"30 4 * * *", "2026-10-24T12:00:00Z", "2026-10-25T03:30:00Z"}, // the night clocks go back
		{"0 6 * * 1", "2026-07-01T00:00:00Z", "2026-07-06T04:00:00Z"},  // Monday 06:00 in summer
		{"@daily", "2026-07-01T12:00:00Z", "2026-07-01T22:00:00Z"},     // Paris midnight
		{"TZ=UTC 30 4 * * *", "2026-07-01T00:00:00Z", "2026-07-01T04:30:00Z"},
		{"@every 90s", "2026-07-01T00:00:00Z", "2026-07-01T00:01:30Z"},
	}
	for _, tt := range tests {
		sched, err := parseSchedule(tt.spec)
		if err != nil {
			t.Fatalf("parseSchedule(%q): %v", tt.spec, err)
		}
		if got := sched.Next(utc(tt.from)); !got.Equal(utc(tt.want)) {
			t.Errorf("%q after %s = %s, want %s", tt.spec, tt.from, got.UTC().Format(time.RFC3339), tt.want)
		}
	}
	if _, ok := mustParse(t, "@every 1s").(cron.ConstantDelaySchedule); !ok {
		t.Error(`"@every 1s" is not a plain interval`)
	}
}

func TestAnIntervalScheduleFires(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	var calls atomic.Int64
	s := newScheduler(t, pool, &recorder{}, []Job{
		{Name: "tick", Schedule: "@every 1s", Run: func(context.Context) (int64, error) {
			calls.Add(1)
			return 1, nil
		}},
	})
	s.Start(context.Background())
	// One start-up run, then the schedule: a third call needs two ticks.
	waitFor(t, "the interval schedule to fire twice", func() bool { return calls.Load() >= 3 })
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	byTrigger := map[string]int{}
	runs := mustRuns(t, s, "tick")
	for _, r := range runs {
		byTrigger[r.Trigger]++
	}
	if byTrigger[TriggerSchedule] < 2 || byTrigger[TriggerStartup] > 1 || int64(len(runs)) != calls.Load() {
		t.Fatalf("runs by trigger = %v for %d calls, want at least 2 scheduled, at most 1 at start-up, one row per call",
			byTrigger, calls.Load())
	}
}

// newScheduler builds a scheduler whose logs go to logs and which is stopped
// when the test ends.
func newScheduler(t *testing.T, pool *db.Pool, logs *recorder, jobs []Job, opts ...Option) *Scheduler {
	t.Helper()
	s, err := New(pool, slog.New(logs), jobs, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

func mustRuns(t *testing.T, s *Scheduler, name string) []Run {
	t.Helper()
	runs, err := s.Runs(context.Background(), name, MaxRunsLimit, 0)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	return runs
}

func mustParse(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	sched, err := parseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return sched
}

func sameRun(a, b Run) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	sameText := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.ID == b.ID && a.Name == b.Name && a.Trigger == b.Trigger && a.StartedAt.Equal(b.StartedAt) &&
		sameTime(a.FinishedAt, b.FinishedAt) && a.Rows == b.Rows && sameText(a.Error, b.Error)
}

func assertFault(t *testing.T, err error, code fault.Code, kind fault.Kind, field string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a %s fault", err, code)
	}
	if fe.Code != code || (kind != "" && fe.Kind != kind) || fe.Field != field {
		t.Fatalf("fault = code %s kind %q field %q, want code %s kind %q field %q", fe.Code, fe.Kind, fe.Field, code, kind, field)
	}
}

// recv waits for a value on ch; the guard only catches a behaviour that
// never happens.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// waitFor polls cond until it holds; the guard only catches a behaviour that
// never happens.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a slog.Handler that keeps every record, so tests can assert
// on what was logged.
type recorder struct {
	mu      sync.Mutex
	records []map[string]string // "level", "msg" and the attributes, as text
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]string{"level": rec.Level.String(), "msg": rec.Message}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, m)
	return nil
}

// find returns the records at level with message msg ("" for any message).
func (r *recorder) find(level slog.Level, msg string) []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, m := range r.records {
		if m["level"] == level.String() && (msg == "" || m["msg"] == msg) {
			out = append(out, m)
		}
	}
	return out
}

func hasAttrs(got, want map[string]string) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestRunInUTC(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2024, 3, 1, 4, 30, 0, 0, paris)
	finished := started.Add(time.Minute)
	r := Run{Name: "sweep", StartedAt: started, FinishedAt: &finished}
	got := r.InUTC()
	if got.StartedAt.Location() != time.UTC || !got.StartedAt.Equal(started) {
		t.Errorf("StartedAt = %v, want %v in UTC", got.StartedAt, started)
	}
	if got.FinishedAt.Location() != time.UTC || !got.FinishedAt.Equal(finished) {
		t.Errorf("FinishedAt = %v, want %v in UTC", got.FinishedAt, finished)
	}
	if r.FinishedAt.Location() != paris {
		t.Error("InUTC changed the run it was called on")
	}
	if (Run{}).InUTC().FinishedAt != nil {
		t.Error("a run in progress gained a FinishedAt")
	}
}
