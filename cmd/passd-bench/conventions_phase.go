package main

// The conventions benchmark (issue 18 §3): the same number of invoices
// held by one convention, then shared among several on one database, and
// every job run over them as an operator runs it (`passd run-job NAME`,
// which runs the job for each convention in turn). Hosting many cities
// should cost the jobs little more than hosting one of their size.

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/keyring"
)

// ConventionsRow is one comparison: the jobs on one convention of Invoices
// against the jobs on Conventions conventions of Invoices/Conventions each.
type ConventionsRow struct {
	Conventions int              `json:"conventions"`
	Invoices    int              `json:"invoices"`
	One         ConventionsWorld `json:"one"`
	Many        ConventionsWorld `json:"many"`
	// Ratio is Many.TotalS / One.TotalS.
	Ratio float64 `json:"ratio"`
}

// ConventionsWorld is one database's run of every job.
type ConventionsWorld struct {
	Conventions  int     `json:"conventions"`
	InvoicesEach int     `json:"invoices_each"`
	SeedS        float64 `json:"seed_s"`
	// Decided is what the deadline job decided, over every convention.
	Decided int64            `json:"decided"`
	Jobs    []ConventionsJob `json:"jobs"`
	// TotalS is the sum of the jobs' runs and their sealing.
	TotalS float64 `json:"total_s"`
}

// ConventionsJob is one job's `passd run-job` over every convention.
type ConventionsJob struct {
	Name string `json:"name"`
	// RunS sums the job's runs as job_runs recorded them, one per
	// convention; SealS is the chaining of their audit rows afterwards;
	// WallS is the command's whole time, its start and connection included.
	RunS  float64 `json:"run_s"`
	SealS float64 `json:"seal_s"`
	WallS float64 `json:"wall_s"`
	Rows  int64   `json:"rows"`
}

// conventionsPhase measures the jobs on invoices pending in one convention,
// then on the same number shared by conventions conventions.
func conventionsPhase(ctx context.Context, e *env, conventions, invoices int) (ConventionsRow, error) {
	row := ConventionsRow{Conventions: conventions, Invoices: invoices}
	keys, err := keyring.Parse(e.DataKey)
	if err != nil {
		return row, fmt.Errorf("conventions: passd's keyring: %w", err)
	}
	if row.One, err = jobsOverConventions(ctx, e, keys, 1, invoices); err != nil {
		return row, err
	}
	if row.Many, err = jobsOverConventions(ctx, e, keys, conventions, invoices/conventions); err != nil {
		return row, err
	}
	if row.One.TotalS > 0 {
		row.Ratio = row.Many.TotalS / row.One.TotalS
	}
	return row, nil
}

// jobsOverConventions seeds a fresh database with k conventions of each
// pending invoices (the deadline case's backlog: half past their deadline),
// then runs every job with `passd run-job` and seals each job's audit rows
// before the next.
func jobsOverConventions(ctx context.Context, e *env, keys *keyring.Ring, k, each int) (ConventionsWorld, error) {
	w := ConventionsWorld{Conventions: k, InvoicesEach: each}
	name, err := e.freshDB(ctx, fmt.Sprintf("conventions_%d", k))
	if err != nil {
		return w, err
	}
	defer e.dropDB(ctx, name)
	dbURL := e.dbURL(name)
	e.Progress("conventions: seeding %d convention(s) of %d invoices", k, each)
	start := time.Now()
	tenants, expected, err := seedConventions(ctx, dbURL, keys, k, each)
	if err != nil {
		return w, err
	}
	if err := onDB(ctx, dbURL, "VACUUM ANALYZE", "CHECKPOINT"); err != nil {
		return w, err
	}
	w.SeedS = time.Since(start).Seconds()
	conn, err := pgx.Connect(ctx, dbURL) // the owner's: it reads every convention's job_runs
	if err != nil {
		return w, fmt.Errorf("conventions: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, job := range jobNames {
		e.Progress("conventions: passd run-job %s over %d convention(s)", job, k)
		j, err := runJobEverywhere(ctx, e, conn, name, tenants, job)
		w.Jobs = append(w.Jobs, j)
		if err != nil {
			return w, err
		}
		w.TotalS += j.RunS + j.SealS
		if job == "deadline" {
			w.Decided = j.Rows
		}
	}
	if w.Decided != expected {
		return w, fmt.Errorf("conventions: the deadline job decided %d invoices over %d convention(s); the seed planned %d", w.Decided, k, expected)
	}
	return w, nil
}

// seedConventions makes conventions 2 to k (before any seeding, so that
// each starts from the migrated tariff, as the first does), then seeds
// each with its own world of each invoices, its ids after the previous
// one's. Returns the conventions and how many invoices the deadline job
// should decide over all of them.
func seedConventions(ctx context.Context, dbURL string, keys *keyring.Ring, k, each int) ([]int64, int64, error) {
	tenants := []int64{benchConvention}
	if k > 1 {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return nil, 0, fmt.Errorf("conventions: connect: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		for c := 2; c <= k; c++ {
			var id int64
			if err := conn.QueryRow(ctx, `SELECT passd_tenant_create($1)`, fmt.Sprintf("Banc d'essai %d", c)).Scan(&id); err != nil {
				return nil, 0, fmt.Errorf("conventions: create convention %d: %w", c, err)
			}
			tenants = append(tenants, id)
		}
	}
	var expected int64
	now := time.Now()
	for i, tenant := range tenants {
		w, err := newSweepWorld(now, backlog(each, 0))
		if err != nil {
			return nil, 0, err
		}
		// Every id a world writes is below its invoice count plus its
		// providers' (at least minProviders).
		w.tenant, w.base = tenant, int64(i)*int64(each+max(minProviders, each/invoicesPerProvider)+1)
		if err := w.seed(ctx, dbURL, keys); err != nil {
			return nil, 0, fmt.Errorf("conventions: seed convention %d: %w", tenant, err)
		}
		deadline, _ := w.expected()
		expected += deadline
	}
	return tenants, expected, nil
}

// runJobEverywhere runs `passd run-job job` on database name, which runs it
// for each convention, then seals the audit rows the runs wrote, convention
// by convention as passd's sealer does.
func runJobEverywhere(ctx context.Context, e *env, conn *pgx.Conn, name string, tenants []int64, job string) (ConventionsJob, error) {
	j := ConventionsJob{Name: job}
	cmd := exec.CommandContext(ctx, e.Passd, "run-job", job)
	cmd.Env = append(cleanEnviron(), "DATABASE_URL="+e.passdURL(name), "PASSD_DATA_KEY="+e.DataKey)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	j.WallS = time.Since(start).Seconds()
	if err != nil {
		return j, fmt.Errorf("conventions: passd run-job %s: %w\n%s", job, err, tail(string(out), 20))
	}
	var runs int
	err = conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(rows), 0)::bigint,
			coalesce(sum(extract(epoch FROM finished_at - started_at)), 0)::float8
		FROM job_runs WHERE name = $1 AND trigger = 'manual' AND error IS NULL AND finished_at IS NOT NULL`, job).Scan(&runs, &j.Rows, &j.RunS)
	if err != nil {
		return j, fmt.Errorf("conventions: %s's runs: %w", job, err)
	}
	if runs != len(tenants) {
		return j, fmt.Errorf("conventions: %s ran %d time(s) without error over %d convention(s)", job, runs, len(tenants))
	}
	// One connection, as passd's sealer keeps its pool's: connecting anew
	// for each convention would time the bench's connections.
	sealer, err := pgx.Connect(ctx, withRole(e.passdURL(name), "passd_app"))
	if err != nil {
		return j, fmt.Errorf("conventions: connect the sealer: %w", err)
	}
	defer sealer.Close(context.WithoutCancel(ctx))
	start = time.Now()
	for _, tenant := range tenants {
		if err := sealConvention(ctx, sealer, tenant); err != nil {
			return j, fmt.Errorf("conventions: seal convention %d's audit rows after %s: %w", tenant, job, err)
		}
	}
	j.SealS = time.Since(start).Seconds()
	return j, nil
}

// sealConvention chains the audit rows of one convention still awaiting
// their seal, on conn (acting as passd_app), in that convention.
func sealConvention(ctx context.Context, conn *pgx.Conn, tenant int64) error {
	if _, err := conn.Exec(ctx, `SELECT set_config('passd.tenant', $1, false)`, strconv.FormatInt(tenant, 10)); err != nil {
		return err
	}
	_, err := audit.SealPending(ctx, conn, audit.SealBatch)
	return err
}
