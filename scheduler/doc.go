// Package scheduler runs passd's named jobs — on their cron schedule, once at
// start-up to catch up after a downtime, and by hand — and records every run
// in job_runs. It knows nothing of what the jobs do: a job is a name, a
// schedule and a function that returns how many rows it touched. robfig/cron
// is used here and nowhere else.
//
// Invariants:
//
//   - Schedules are evaluated in Europe/Paris whatever the machine's zone:
//     every spec is prefixed with CRON_TZ=Europe/Paris unless it is an
//     "@every" interval or names its own zone. (The tz database is embedded,
//     so the zone exists on any machine.)
//   - A job never overlaps itself. In the process, one flag per job is shared
//     by the schedule, the start-up catch-up and RunNow. Across processes on
//     one database, a run holds the session-level advisory lock
//     hashtextextended('passd.job.'||name||'.'||convention, 0), one per
//     convention, on a connection of its own for its whole duration; the
//     lock dies with the session, so a crashed process never leaves a job
//     locked.
//   - A scheduled or start-up run that finds its job busy (here or in another
//     process) is skipped without a trace but a debug log: the other run does
//     the work. RunNow answers a fault.Conflict with kind "job_running".
//   - Every run that got the lock has exactly one job_runs row: inserted
//     (started_at from the injected clock) before the job is called, and
//     completed (finished_at, rows, error) afterwards even when the run's
//     context was cancelled or the job panicked. A row whose finished_at
//     stays NULL is a run whose process died. A panic is recovered and
//     recorded as "panic: ...": it never takes the process down.
//   - Every such run writes one log line ("job run": job, trigger, rows,
//     duration_ms, outcome, error) and is told to the Observer, if any
//     (WithObserver: the metrics); skipped runs are neither.
//   - The scheduler does not retry a failed run; the next tick will. Jobs
//     retry their own lost serialization races (db.InTx does).
//   - Stop stops the schedule, tells every run in progress to end after the
//     batch at hand (shutdown.Requested; a job that ignores it runs to its end)
//     and waits for them; it cancels their contexts only when its own
//     context expires. After Stop no run starts: RunNow answers
//     fault.Unavailable.
//
// Each running job holds one pool connection for its lock on top of those it
// uses itself, so the pool must have more connections than jobs that can run
// at once. The start-up catch-up therefore runs the jobs one after another.
//
// Run lifecycle (one row of job_runs):
//
//	busy here or elsewhere ──► skipped (no row; RunNow: conflict)
//	lock taken ──► row inserted (started_at) ──► job runs ──► row completed
//	                                                          (finished_at, rows, error)
//
// It imports db, fault, shutdown. It knows no job: cmd/passd registers them.
package scheduler
