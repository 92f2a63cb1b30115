package metrics_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"passd/audit"
	"passd/db"
	"passd/db/dbtest"
	"passd/metrics"
)

func TestRequestsAreCountedWithFewLabelValues(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveRequest("GET", "/api/v1/invoices/:id", 200, 3*time.Millisecond)
	m.ObserveRequest("GET", "/api/v1/invoices/:id", 200, 70*time.Millisecond)
	m.ObserveRequest("BREW", "/healthz", 405, time.Millisecond)
	m.ObserveRequest("get", "", 404, time.Millisecond)
	want := `
# HELP passd_http_requests_total HTTP requests answered, by method, route template (or "unmatched") and status.
# TYPE passd_http_requests_total counter
passd_http_requests_total{method="GET",route="/api/v1/invoices/:id",status="200"} 2
passd_http_requests_total{method="OTHER",route="/healthz",status="405"} 1
passd_http_requests_total{method="OTHER",route="unmatched",status="404"} 1
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), "passd_http_requests_total"); err != nil {
		t.Error(err)
	}
	// Both observations fall in their buckets: 3 ms under 5 ms, 70 ms over 50 ms.
	text, err := testutil.GatherAndFormat(m.Gatherer(), expfmt.TypeTextPlain, "passd_http_request_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`passd_http_request_duration_seconds_bucket{method="GET",route="/api/v1/invoices/:id",status="200",le="0.005"} 1`,
		`passd_http_request_duration_seconds_bucket{method="GET",route="/api/v1/invoices/:id",status="200",le="0.1"} 2`,
		`passd_http_request_duration_seconds_count{method="GET",route="/api/v1/invoices/:id",status="200"} 2`,
	} {
		if !strings.Contains(string(text), line) {
			t.Errorf("missing %s in\n%s", line, text)
		}
	}
}

func TestJobRunsAreCountedByOutcome(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.DeclareJobs("deadline", "release")
	finished := time.Date(2026, 6, 15, 2, 30, 0, 0, time.UTC)
	m.ObserveJob(metrics.JobRun{Job: "deadline", Elapsed: 90 * time.Second, Rows: 1000, Finished: finished})
	m.ObserveJob(metrics.JobRun{Job: "deadline", Elapsed: 2 * time.Second, Rows: 7, Failed: true, Finished: finished.Add(time.Hour)})
	want := `
# HELP passd_job_errors_total Job runs that ended with an error, by job.
# TYPE passd_job_errors_total counter
passd_job_errors_total{job="deadline"} 1
passd_job_errors_total{job="release"} 0
# HELP passd_job_last_success_timestamp_seconds When the job's last successful run finished, as a Unix time; 0 before the first.
# TYPE passd_job_last_success_timestamp_seconds gauge
passd_job_last_success_timestamp_seconds{job="deadline"} 1.7814906e+09
passd_job_last_success_timestamp_seconds{job="release"} 0
# HELP passd_job_rows_total Rows the job runs touched (a failed run counts what its committed batches did), by job.
# TYPE passd_job_rows_total counter
passd_job_rows_total{job="deadline"} 1007
passd_job_rows_total{job="release"} 0
# HELP passd_job_runs_total Job runs that took their job's lock, by job and outcome (ok or error).
# TYPE passd_job_runs_total counter
passd_job_runs_total{job="deadline",outcome="error"} 1
passd_job_runs_total{job="deadline",outcome="ok"} 1
passd_job_runs_total{job="release",outcome="error"} 0
passd_job_runs_total{job="release",outcome="ok"} 0
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want),
		"passd_job_errors_total", "passd_job_last_success_timestamp_seconds", "passd_job_rows_total", "passd_job_runs_total"); err != nil {
		t.Error(err)
	}
	// A 90 s sweep lands in a bucket of its own, not in +Inf.
	text, err := testutil.GatherAndFormat(m.Gatherer(), expfmt.TypeTextPlain, "passd_job_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`passd_job_duration_seconds_bucket{job="deadline",le="60"} 1`,
		`passd_job_duration_seconds_bucket{job="deadline",le="120"} 2`,
	} {
		if !strings.Contains(string(text), line) {
			t.Errorf("missing %s in\n%s", line, text)
		}
	}
}

func TestThePoolIsReadAtEachScrape(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	m := metrics.New()
	if err := m.Register(metrics.NewPoolCollector(pool.Pool)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	text, err := testutil.GatherAndFormat(m.Gatherer(), expfmt.TypeTextPlain, "passd_db_pool_acquired_conns", "passd_db_pool_max_conns")
	conn.Release()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"passd_db_pool_acquired_conns 1", "passd_db_pool_max_conns 16"} {
		if !strings.Contains(string(text), line) {
			t.Errorf("missing %s in\n%s", line, text)
		}
	}
	if err := m.Register(metrics.NewPoolCollector(pool.Pool)); err == nil {
		t.Error("a second pool collector was registered over the first")
	}
}

// TestTheStatusGaugesSumTheDeltasAndCompactThem: the gauges are the sums
// of status_counts, and a scrape that finds more than CompactAbove rows
// folds them without changing a figure.
func TestTheStatusGaugesSumTheDeltasAndCompactThem(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewOwner(t)
	ctx := context.Background()
	// Deltas as the triggers write them: pending in, then some decided.
	if _, err := owner.Exec(ctx, `
		INSERT INTO status_counts (kind, status, n, amount)
		SELECT 'invoice', 'pending', 1, 12.34 FROM generate_series(1, $1)`, metrics.CompactAbove); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(ctx, `
		INSERT INTO status_counts (kind, status, n, amount) VALUES
			('invoice', 'pending', -3, -37.02), ('invoice', 'city_due', 3, 37.02),
			('payout', 'due', 3, 37.02), ('payout', 'due', -1, -12.34), ('payout', 'batched', 1, 12.34)`); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	if err := m.Register(metrics.NewStatusCollector(app, slog.New(slog.DiscardHandler))); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP passd_invoices Invoices in each status.
# TYPE passd_invoices gauge
passd_invoices{convention="1",status="cancelled"} 0
passd_invoices{convention="1",status="city_due"} 3
passd_invoices{convention="1",status="pending"} 997
passd_invoices{convention="1",status="released"} 0
# HELP passd_invoices_amount_euros Sum of the totals of the invoices in each status, in euros.
# TYPE passd_invoices_amount_euros gauge
passd_invoices_amount_euros{convention="1",status="cancelled"} 0
passd_invoices_amount_euros{convention="1",status="city_due"} 37.02
passd_invoices_amount_euros{convention="1",status="pending"} 12302.98
passd_invoices_amount_euros{convention="1",status="released"} 0
# HELP passd_payouts_due Payouts the city owes that no batch holds yet (status due).
# TYPE passd_payouts_due gauge
passd_payouts_due{convention="1"} 2
# HELP passd_payouts_due_amount_euros Sum of the payouts due, in euros.
# TYPE passd_payouts_due_amount_euros gauge
passd_payouts_due_amount_euros{convention="1"} 24.68
`
	names := []string{"passd_invoices", "passd_invoices_amount_euros", "passd_payouts_due", "passd_payouts_due_amount_euros"}
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Fatalf("first scrape: %v", err)
	}
	var rows int64
	if err := app.QueryRow(ctx, `SELECT count(*) FROM status_counts`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 8 {
		t.Errorf("%d delta rows after a scrape over %d, want one per status (8)", rows, metrics.CompactAbove)
	}
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Errorf("after compaction: %v", err)
	}
}

// TestAPublicScrapeShowsNoMoney: the handler without money leaves out
// every series in euros and keeps the counts; with money it has both.
func TestAPublicScrapeShowsNoMoney(t *testing.T) {
	t.Parallel()
	app, owner := dbtest.NewOwner(t)
	if _, err := owner.Exec(context.Background(), `
		INSERT INTO status_counts (kind, status, n, amount) VALUES
			('invoice', 'city_due', 2, 81.50), ('payout', 'due', 1, 40.75)`); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	if err := m.Register(metrics.NewStatusCollector(app, slog.New(slog.DiscardHandler))); err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("GET", "/healthz", 200, time.Millisecond)
	scrape := func(money bool) string {
		rec := httptest.NewRecorder()
		m.Handler(slog.New(slog.DiscardHandler), money).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape (money %v): %d", money, rec.Code)
		}
		return rec.Body.String()
	}
	counts := []string{`passd_invoices{convention="1",status="city_due"} 2`, `passd_payouts_due{convention="1"} 1`, `passd_http_requests_total{method="GET",route="/healthz",status="200"} 1`}
	public, private := scrape(false), scrape(true)
	for _, want := range counts {
		if !strings.Contains(public, want) || !strings.Contains(private, want) {
			t.Errorf("%q missing from a scrape", want)
		}
	}
	for _, money := range []string{`passd_invoices_amount_euros{convention="1",status="city_due"} 81.5`, `passd_payouts_due_amount_euros{convention="1"} 40.75`} {
		if !strings.Contains(private, money) {
			t.Errorf("%q missing from the private scrape", money)
		}
	}
	if strings.Contains(public, metrics.MoneySuffix) || strings.Contains(public, "81.5") || strings.Contains(public, "40.75") {
		t.Errorf("the public scrape shows money:\n%s", public)
	}
}

// TestAScrapeWithoutTheDatabaseServesTheRest: the business gauges are
// left out and logged, the other metrics are served.
func TestAScrapeWithoutTheDatabaseServesTheRest(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	m := metrics.New()
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	if err := m.Register(metrics.NewStatusCollector(pool, logger)); err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("GET", "/healthz", 200, time.Millisecond)
	pool.Close()
	rec := httptest.NewRecorder()
	m.Handler(logger, true).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `passd_http_requests_total{method="GET",route="/healthz",status="200"} 1`) ||
		strings.Contains(body, "passd_invoices") {
		t.Errorf("scrape without the database: %d\n%s", rec.Code, body)
	}
	if !strings.Contains(logs.String(), "status counts") {
		t.Errorf("the failure was not logged: %q", logs.String())
	}
}

// BenchmarkObserveRequest is what counting costs each request.
func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("POST", "/api/v1/invoices", 201, 2*time.Millisecond)
	}
}

// TestTheAuditGaugesFollowTheSealer: rows appended wait in the gauges until
// the sealer chains them, then the gauges fall back to zero.
func TestTheAuditGaugesFollowTheSealer(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	m := metrics.New()
	if err := m.Register(metrics.NewAuditCollector(pool)); err != nil {
		t.Fatal(err)
	}
	scrape := func() (unsealed, age float64) {
		t.Helper()
		families, err := m.Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			switch f.GetName() {
			case "passd_audit_rows_unsealed":
				unsealed = f.GetMetric()[0].GetGauge().GetValue()
			case "passd_audit_oldest_unsealed_age_seconds":
				age = f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return unsealed, age
	}
	if err := sealAll(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if n, age := scrape(); n != 0 || age != 0 {
		t.Fatalf("nothing pending: unsealed %v, oldest %v s", n, age)
	}
	entries := []audit.Entry{
		{Actor: audit.Job("test"), Action: "test.one", Entity: "test", EntityID: "1"},
		{Actor: audit.Job("test"), Action: "test.two", Entity: "test", EntityID: "2"},
		{Actor: audit.Job("test"), Action: "test.three", Entity: "test", EntityID: "3"},
	}
	if err := audit.Append(ctx, pool, entries...); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `SELECT pg_sleep(0.05)`); err != nil {
		t.Fatal(err)
	}
	if n, age := scrape(); n != 3 || age <= 0 {
		t.Fatalf("three appended: unsealed %v, oldest %v s; want 3 and an age above 0", n, age)
	}
	if err := sealAll(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if n, age := scrape(); n != 0 || age != 0 {
		t.Fatalf("after sealing: unsealed %v, oldest %v s", n, age)
	}
}

func sealAll(ctx context.Context, q db.DBTX) error {
	_, err := audit.SealPending(ctx, q, audit.SealBatch)
	return err
}
