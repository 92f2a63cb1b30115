package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/audit"
	"passd/keyring"
)

// sweepCase is one row of the sweep benchmark: a job run on a world.
type sweepCase struct {
	Name  string // deadline, release, release-day
	Job   string // the job passd runs
	World worldShape
}

// SweepRow is one case of the sweep benchmark.
type SweepRow struct {
	Case       string `json:"case"`
	Job        string `json:"job"`
	Invoices   int    `json:"invoices"`
	Opened     int    `json:"opened_patients"`
	PerPatient int    `json:"invoices_per_patient"`
	// OrdinaryDay: every pending invoice within its deadline, the opened
	// patients' rights decided in the last hours (worldShape.day).
	OrdinaryDay bool  `json:"ordinary_day"`
	Expected    int64 `json:"expected"`
	// Decided is what passd's run reported; RawDecided what the SQL did.
	// Both count the invoices decided again after their patient's change
	// (release; RawRedecided of them), besides the pending ones decided.
	Decided      int64 `json:"decided"`
	RawDecided   int64 `json:"raw_decided"`
	RawRedecided int64 `json:"raw_redecided"`
	// Both sides are timed to the same end: the rows written and their
	// audit rows sealed. passd's sealer works while its job runs
	// (PassdJobS is the job's own run, PassdS until the last row is
	// sealed); the raw SQL's rows are sealed after its transaction
	// (RawStatementS, from its start to its commit), by the same
	// audit_seal. RunRatio compares the two without the sealing:
	// PassdJobS / RawStatementS.
	PassdJobS     float64 `json:"passd_job_s"`
	PassdS        float64 `json:"passd_s"`
	RawStatementS float64 `json:"raw_sql_statement_s"`
	RawS          float64 `json:"raw_sql_s"`
	// RawSealS is the sealing of the raw SQL's audit rows alone (RawS -
	// RawStatementS): what the sealed yardstick adds to the unsealed one.
	RawSealS float64 `json:"raw_sql_seal_s"`
	Ratio    float64 `json:"ratio"`
	// RatioUnsealed sets passd, sealed, against the raw SQL left unsealed
	// (PassdS / RawStatementS): beside Ratio, what the sealing costs the
	// comparison (issue 18 §3).
	RatioUnsealed float64 `json:"ratio_unsealed"`
	RunRatio      float64 `json:"run_ratio"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	// SummaryMatch: both copies ended in the same state.
	SummaryMatch bool `json:"summary_match"`
}

// sweepPhase measures one case: passd's run of its job on one database
// against raw SQL doing the same on an identical copy.
func sweepPhase(ctx context.Context, e *env, c sweepCase) (SweepRow, error) {
	w := c.World
	row := SweepRow{Case: c.Name, Job: c.Job, Invoices: w.invoices, Opened: w.opened, PerPatient: w.perPatient, OrdinaryDay: w.day}
	name := "sweep_" + strings.ReplaceAll(c.Name, "-", "_")
	a, err := e.freshDB(ctx, name+"_a")
	if err != nil {
		return row, err
	}
	defer e.dropDB(ctx, a)
	aURL := e.dbURL(a)
	// Identity is sealed under passd's keys: its age rule opens birth
	// dates, and so does the raw SQL's.
	keys, err := keyring.Parse(e.DataKey)
	if err != nil {
		return row, fmt.Errorf("sweep %s: passd's keyring: %w", c.Name, err)
	}
	e.Progress("sweep %s: seeding %d invoices (%d patients with rights)", c.Name, w.invoices, w.opened)
	start := time.Now()
	if row.Expected, err = seedSweep(ctx, aURL, w, keys); err != nil {
		return row, fmt.Errorf("sweep %s: seed: %w", c.Name, err)
	}
	// The token is issued before the copy, so that both copies hold it.
	adminToken, err := e.token(ctx, aURL, "admin", benchAdmin, 0)
	if err != nil {
		return row, err
	}
	if err := onDB(ctx, aURL, "VACUUM ANALYZE"); err != nil {
		return row, err
	}
	b, err := e.cloneDB(ctx, name+"_b", a, "FILE_COPY")
	if err != nil {
		return row, err
	}
	defer e.dropDB(ctx, b)
	bURL := e.dbURL(b)
	e.Progress("sweep %s: seeded and copied in %s; %d invoices to decide", c.Name, time.Since(start).Round(time.Second), row.Expected)

	run, rss, err := passdSweep(ctx, e, c.Job, aURL, adminToken)
	if err != nil {
		return row, err
	}
	row.Decided, row.PassdJobS, row.PassdS, row.PeakRSSMB = run.Rows, run.Seconds, run.Seconds+run.SealWait, mb(rss)

	e.Progress("sweep %s: the same in raw SQL", c.Name)
	if err := onDB(ctx, bURL, "CHECKPOINT"); err != nil {
		return row, err
	}
	raw, err := rawSweep(ctx, bURL, c.Job, keys)
	if err != nil {
		// No time and no ratio: a transaction cut short measured nothing.
		return row, fmt.Errorf("sweep %s: raw SQL, after %.1f s: %w", c.Name, raw.Seconds, err)
	}
	row.RawDecided, row.RawRedecided, row.RawStatementS = raw.Decided+raw.Redecided, raw.Redecided, raw.Seconds
	sealing, err := sealAll(ctx, bURL)
	if err != nil {
		return row, fmt.Errorf("sweep %s: seal the raw SQL's audit rows: %w", c.Name, err)
	}
	// The unsealed yardstick is this same transaction, timed to its commit
	// before the sealing starts: measuring it on a third copy would run the
	// same statement again.
	row.RawSealS, row.RawS = sealing, raw.Seconds+sealing
	row.Ratio, row.RunRatio = row.PassdS/row.RawS, row.PassdJobS/row.RawStatementS
	row.RatioUnsealed = row.PassdS / row.RawStatementS

	err = compareCopies(ctx, &row, raw, aURL, bURL)
	return row, err
}

// compareCopies checks that passd's copy (aURL) and the raw SQL's (bURL)
// ended in the same state, and that both decided what the seed planned.
func compareCopies(ctx context.Context, row *SweepRow, raw rawRun, aURL, bURL string) error {
	sa, err := sweepSummary(ctx, aURL)
	if err != nil {
		return fmt.Errorf("sweep %s: summary of passd's copy: %w", row.Case, err)
	}
	sb, err := sweepSummary(ctx, bURL)
	if err != nil {
		return fmt.Errorf("sweep %s: summary of the raw SQL's copy: %w", row.Case, err)
	}
	var problems []string
	if diff := summaryDiff(sa, sb); diff != "" {
		problems = append(problems, "the two copies differ after the sweep:\n"+diff)
	}
	if row.Decided != row.RawDecided || raw.Decided != row.Expected {
		problems = append(problems, fmt.Sprintf("decided: passd %d, raw SQL %d (%d pending, %d again), seeded to decide %d pending",
			row.Decided, row.RawDecided, raw.Decided, raw.Redecided, row.Expected))
	}
	row.SummaryMatch = len(problems) == 0
	if len(problems) > 0 {
		return fmt.Errorf("sweep %s: %s", row.Case, strings.Join(problems, "; "))
	}
	return nil
}

// sealAll chains every audit row still awaiting its seal, as passd's
// sealer would, and returns how long that took once connected.
func sealAll(ctx context.Context, dbURL string) (float64, error) {
	conn, err := pgx.Connect(ctx, withRole(dbURL, "passd_app"))
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	start := time.Now()
	_, err = audit.SealPending(ctx, conn, audit.SealBatch)
	return time.Since(start).Seconds(), err
}

// jobRun is a run of a job as job_runs recorded it.
type jobRun struct {
	ID      int64
	Rows    int64
	Seconds float64
	// SealWait is how long, after the run, its last audit rows waited for
	// the sealer.
	SealWait float64
	Error    *string
}

// passdSweep starts passd on dbURL without letting its start-up catch-up
// touch the invoices, then times POST /jobs/{job}/run and reads passd's
// peak RSS over the run.
//
// passd runs every job once as it starts. The bench holds the advisory
// locks of the jobs that decide invoices or move money (heldJobs) while
// passd starts, so those runs are skipped as "running elsewhere"; the
// finished runs of the others (reminders, the referrals' jobs) then say
// the catch-up is over. The reminders it wrote are deleted, so that both
// copies differ only in job_runs.
func passdSweep(ctx context.Context, e *env, job, dbURL, adminToken string) (jobRun, int64, error) {
	p, locks, err := e.startQuietPassd(ctx, "sweep-"+job, dbURL)
	if err != nil {
		return jobRun{}, 0, err
	}
	defer locks.Close(context.WithoutCancel(ctx))
	defer p.kill()
	if _, err := locks.Exec(ctx, `DELETE FROM reminders`); err != nil {
		return jobRun{}, 0, fmt.Errorf("delete the start-up reminders: %w", err)
	}
	if _, err := locks.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		return jobRun{}, 0, fmt.Errorf("release the jobs' locks: %w", err)
	}
	if _, err := locks.Exec(ctx, `CHECKPOINT`); err != nil {
		return jobRun{}, 0, err
	}

	e.Progress("sweep %s: POST /api/v1/jobs/%s/run", job, job)
	if err := p.resetPeakRSS(); err != nil {
		return jobRun{}, 0, err
	}
	// http.Server's WriteTimeout (60 s) may cut the answer of a long run,
	// which goes on regardless: the run's own record is what is timed.
	answered := make(chan error, 1)
	go func() {
		client := &http.Client{Transport: newTransport(1)}
		answered <- call(ctx, client, http.MethodPost, p.Base+"/api/v1/jobs/"+job+"/run", adminToken, nil, http.StatusOK, nil)
	}()
	run, err := waitManualRun(ctx, locks, job, 2*time.Hour)
	if err != nil {
		return run, 0, err
	}
	// The job is done; its sealer may still be chaining the last audit rows.
	sealed := time.Now()
	for {
		var pending int64
		if err := locks.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE chain_seq IS NULL`).Scan(&pending); err != nil {
			return run, 0, fmt.Errorf("sweep %s: rows awaiting their seal: %w", job, err)
		}
		if pending == 0 {
			break
		}
		if time.Since(sealed) > 30*time.Minute {
			return run, 0, fmt.Errorf("sweep %s: %d audit rows still unsealed after 30 min", job, pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	run.SealWait = time.Since(sealed).Seconds()
	rss, err := p.peakRSS()
	if err != nil {
		return run, 0, err
	}
	select {
	case err := <-answered:
		if err != nil && run.Seconds < 55 {
			return run, rss, fmt.Errorf("sweep %s: %w", job, err)
		}
	case <-time.After(10 * time.Second):
		if run.Seconds < 55 {
			return run, rss, fmt.Errorf("sweep %s: the run is recorded as finished but its answer did not come", job)
		}
	}
	if run.Error != nil {
		return run, rss, fmt.Errorf("sweep %s: the run failed: %s", job, *run.Error)
	}
	var startups int
	if err := locks.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE trigger = 'startup' AND name = ANY($1)`, heldJobs).Scan(&startups); err != nil {
		return run, rss, err
	}
	if startups != 0 {
		return run, rss, fmt.Errorf("sweep %s: %d start-up run(s) slipped past the held locks; the measurement is void", job, startups)
	}
	return run, rss, p.stop()
}

// waitManualRun waits for the manual run of job to finish and returns it
// as job_runs recorded it, its time being finished_at - started_at.
func waitManualRun(ctx context.Context, conn *pgx.Conn, job string, within time.Duration) (jobRun, error) {
	deadline := time.Now().Add(within)
	for {
		var r jobRun
		var finished bool
		err := conn.QueryRow(ctx, `SELECT id, rows, error, finished_at IS NOT NULL,
				coalesce(extract(epoch FROM finished_at - started_at), 0)::float8
			FROM job_runs WHERE name = $1 AND trigger = 'manual' ORDER BY id DESC LIMIT 1`, job).
			Scan(&r.ID, &r.Rows, &r.Error, &finished, &r.Seconds)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return r, fmt.Errorf("read job_runs: %w", err)
		}
		if finished {
			return r, nil
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("sweep %s: no finished manual run after %s", job, within)
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// summaryDiff lists the keys whose values differ, "" when none does.
func summaryDiff(a, b map[string]string) string {
	keys := maps.Clone(a)
	maps.Copy(keys, b)
	var out []string
	for _, k := range sortedKeys(keys) {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			out = append(out, fmt.Sprintf("  %s: passd %s, raw SQL %s", k, orNone(va, oka), orNone(vb, okb)))
		}
	}
	return strings.Join(out, "\n")
}

func orNone(v string, ok bool) string {
	if !ok {
		return "(none)"
	}
	return strconv.Quote(v)
}

// SEPARow is one batch size of the SEPA benchmark.
type SEPARow struct {
	Payouts   int     `json:"payouts"`
	Seconds   float64 `json:"seconds"`
	Bytes     int64   `json:"bytes"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// sepaPhase times GET /payout-batches/{id}/sepa.xml for a batch of n
// payouts, streamed to nowhere, and reads passd's peak RSS meanwhile.
func sepaPhase(ctx context.Context, e *env, n int) (SEPARow, error) {
	row := SEPARow{Payouts: n}
	name, err := e.freshDB(ctx, "sepa")
	if err != nil {
		return row, err
	}
	defer e.dropDB(ctx, name)
	dbURL := e.dbURL(name)
	e.Progress("sepa: seeding a batch of %d payouts", n)
	batch, err := seedPayoutBatch(ctx, dbURL, n)
	if err != nil {
		return row, fmt.Errorf("sepa %d: seed: %w", n, err)
	}
	token, err := e.token(ctx, dbURL, "finance", benchFinance, 0)
	if err != nil {
		return row, err
	}
	p, err := e.startPassd(ctx, "sepa-"+strconv.Itoa(n), dbURL)
	if err != nil {
		return row, err
	}
	defer p.kill()
	if err := waitStartupRuns(ctx, dbURL, jobNames, 5*time.Minute); err != nil {
		return row, err
	}
	if err := p.resetPeakRSS(); err != nil {
		return row, err
	}
	client := &http.Client{Transport: newTransport(1), Timeout: 5 * time.Minute}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/payout-batches/%d/sepa.xml", p.Base, batch), nil)
	if err != nil {
		return row, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return row, fmt.Errorf("sepa %d: %w", n, err)
	}
	row.Bytes, err = io.Copy(io.Discard, resp.Body)
	row.Seconds = time.Since(start).Seconds()
	resp.Body.Close()
	if err != nil {
		return row, fmt.Errorf("sepa %d: read the file: %w", n, err)
	}
	if resp.StatusCode != http.StatusOK || row.Bytes == 0 {
		return row, fmt.Errorf("sepa %d: %d with %d bytes, want 200 and a file", n, resp.StatusCode, row.Bytes)
	}
	rss, err := p.peakRSS()
	if err != nil {
		return row, err
	}
	row.PeakRSSMB = mb(rss)
	return row, p.stop()
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }
