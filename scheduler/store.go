package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/db"
)

// lockKey is the text hashed into the job's advisory lock key. The hash is
// computed by PostgreSQL (hashtextextended), so every process derives the
// same bigint whatever its build.
func lockKey(name string, tenant int64) string {
	return "passd.job." + name + "." + strconv.FormatInt(tenant, 10)
}

// tryLock takes the job's session-level advisory lock on q, which must be a
// dedicated connection: the lock belongs to the session, not to a
// transaction, and lasts until unlock or the end of the session.
func tryLock(ctx context.Context, q db.DBTX, name string, tenant int64) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, lockKey(name, tenant)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("scheduler: lock job %s: %w", name, err)
	}
	return ok, nil
}

// unlock releases the lock taken by tryLock on the same session. It reports
// false when the session did not hold it.
func unlock(ctx context.Context, q db.DBTX, name string, tenant int64) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, lockKey(name, tenant)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("scheduler: unlock job %s: %w", name, err)
	}
	return ok, nil
}

// insertRun records the start of a run and returns its id.
func insertRun(ctx context.Context, q db.DBTX, name, trigger string, startedAt time.Time) (int64, error) {
	var id int64
	err := q.QueryRow(ctx,
		`INSERT INTO job_runs (name, trigger, started_at) VALUES ($1, $2, $3) RETURNING id`,
		name, trigger, startedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("scheduler: record the start of job %s: %w", name, err)
	}
	return id, nil
}

// finishRun records the end of run r.
func finishRun(ctx context.Context, q db.DBTX, r Run) error {
	_, err := q.Exec(ctx,
		`UPDATE job_runs SET finished_at = $2, rows = $3, error = $4 WHERE id = $1 AND tenant_id = passd_tenant()`,
		r.ID, r.FinishedAt, r.Rows, r.Error)
	if err != nil {
		return fmt.Errorf("scheduler: record the end of job %s run %d: %w", r.Name, r.ID, err)
	}
	return nil
}

// listRuns returns up to page.Limit runs in page's order (newest first,
// or oldest first), of one job or (name "") of all. The name condition is
// written only when set, so that each query walks its index (the primary
// key, or job_runs_name_idx) and stops after the page's rows.
func listRuns(ctx context.Context, q db.DBTX, name string, page db.PageRequest) ([]Run, error) {
	keyset, order := page.IDKeyset("id", 1)
	where, args := keyset, []any{page.IDKeysetArg(), page.Limit}
	if name != "" {
		where, args = "name = $3 AND "+keyset, append(args, name)
	}
	rows, err := q.Query(ctx, `
SELECT id, tenant_id AS tenant, name, trigger, started_at, finished_at, rows, error
FROM job_runs WHERE tenant_id = passd_tenant() AND `+where+` ORDER BY `+order+` LIMIT $2`, args...)
	if err != nil {
		return nil, db.Translate(fmt.Errorf("scheduler: list runs: %w", err))
	}
	runs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Run])
	if err != nil {
		return nil, db.Translate(fmt.Errorf("scheduler: list runs: %w", err))
	}
	return runs, nil
}
