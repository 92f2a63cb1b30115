package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"passd/db"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
	"passd/metrics"
)

// testMetricsToken is the harness's PASSD_METRICS_TOKEN.
const testMetricsToken = "metrics-token-for-the-tests-0123456789"

// scrape is one GET /metrics, parsed.
type scrape map[string]*dto.MetricFamily

// scrape reads /metrics as a scraper does, without a token; the answer is
// checked against the contract by doRaw.
func (h *harness) scrape(t *testing.T, headers ...string) scrape {
	t.Helper()
	return h.scrapeWith(t, "", headers...)
}

// scrapeMoney reads /metrics with the metrics token: the money series too.
func (h *harness) scrapeMoney(t *testing.T) scrape {
	t.Helper()
	return h.scrapeWith(t, testMetricsToken)
}

func (h *harness) scrapeWith(t *testing.T, token string, headers ...string) scrape {
	t.Helper()
	rec := h.doRaw(t, "GET", "/metrics", token, "", headers...)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: Content-Type %q, want the Prometheus text format 0.0.4", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("GET /metrics: not the text format: %v", err)
	}
	return families
}

// sample returns the metric of family name whose labels include the given
// name, value pairs, or nil.
func (s scrape) sample(name string, labels ...string) *dto.Metric {
	f := s[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				match = false
			}
		}
		if match {
			return m
		}
	}
	return nil
}

// value is a counter's or a gauge's value, or a histogram's count; 0 for
// a series that does not exist.
func (s scrape) value(name string, labels ...string) float64 {
	m := s.sample(name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// TestMetricsArePublicInTheTextFormat: no token is needed, and the format
// is text whatever the scraper asks.
func TestMetricsArePublicInTheTextFormat(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, headers := range [][]string{
		nil,
		{"Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"},
		{"Accept", "application/openmetrics-text;version=1.0.0"},
	} {
		s := h.scrape(t, headers...)
		for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "passd_db_pool_max_conns",
			"passd_invoices", "passd_payouts_due", "passd_job_runs_total"} {
			if s[name] == nil {
				t.Errorf("with %q: %s missing from /metrics", headers, name)
			}
		}
	}
}

// TestMetricsCountRequestsByRouteTemplate: each answered request counts
// once under its route template and status, pages and static files
// included; paths no route serves and odd methods share one series.
func TestMetricsCountRequestsByRouteTemplate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.scrape(t)
	for range 3 {
		h.mustDo(t, http.StatusOK, "GET", "/healthz", "", "")
	}
	h.do(t, "GET", "/api/v1/invoices/999999", h.admin, "")
	h.do(t, "GET", "/api/v1/invoices/999998", h.admin, "")
	h.do(t, "GET", "/api/v1/invoices", "passd_not-a-token", "")
	b := h.browser()
	b.page(t, http.StatusOK, "/connexion")
	if rec := b.do(t, "GET", "/static/passd.css", nil); rec.Code != http.StatusOK {
		t.Fatalf("static file: %d", rec.Code)
	}
	// A scanner's paths, and a method nobody serves.
	scanned := []string{"/wp-login.php", "/nope-1", "/nope-2?q=2900499350123", "/api/v1/nope", "/.env"}
	for _, path := range scanned {
		h.doRaw(t, "GET", path, h.admin, "")
	}
	rec := httptest.NewRecorder()
	h.app.echo.ServeHTTP(rec, httptest.NewRequest("PROPFIND", "/healthz", nil))

	after := h.scrape(t)
	delta := func(labels ...string) float64 {
		return after.value("passd_http_requests_total", labels...) - before.value("passd_http_requests_total", labels...)
	}
	for _, c := range []struct {
		method, route, status string
		want                  float64
	}{
		{"GET", "/healthz", "200", 3},
		{"GET", "/api/v1/invoices/:id", "404", 2},
		{"GET", "/api/v1/invoices", "401", 1},
		{"GET", "/connexion", "200", 1},
		{"GET", "/static/*", "200", 1},
		{"GET", metrics.Unmatched, "404", float64(len(scanned))},
		{"OTHER", metrics.Unmatched, rec.Result().Status[:3], 1},
		// The scrape before this one.
		{"GET", "/metrics", "200", 1},
	} {
		labels := []string{"method", c.method, "route", c.route, "status", c.status}
		if got := delta(labels...); got != c.want {
			t.Errorf("requests %v: counted %v, want %v", labels, got, c.want)
		}
		if got := after.value("passd_http_request_duration_seconds", labels...) - before.value("passd_http_request_duration_seconds", labels...); got != c.want {
			t.Errorf("duration histogram %v: %v observations, want %v", labels, got, c.want)
		}
	}
	// Every route label is a route passd serves, or "unmatched".
	for _, m := range after["passd_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && l.GetValue() != metrics.Unmatched && !servedPath(h, l.GetValue()) {
				t.Errorf("route label %q is not a route of passd", l.GetValue())
			}
			if l.GetName() == "method" && !slices.Contains([]string{"GET", "POST", "PUT", "OTHER"}, l.GetValue()) {
				t.Errorf("method label %q", l.GetValue())
			}
		}
	}
}

func servedPath(h *harness, path string) bool {
	for key := range h.app.served {
		if _, p, _ := strings.Cut(key, " "); p == path {
			return true
		}
	}
	return false
}

// TestMetricsCountJobRunsAndReadThePool: every job's series exist before
// its first run; a run counts its outcome, rows, duration and time of
// success; a failed run counts as an error. The pool's figures are
// pgxpool's.
func TestMetricsCountJobRunsAndReadThePool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.scrape(t)
	for _, job := range h.app.scheduler.Names() {
		if s.sample("passd_job_runs_total", "job", job, "outcome", "ok") == nil ||
			s.sample("passd_job_runs_total", "job", job, "outcome", "error") == nil ||
			s.sample("passd_job_last_success_timestamp_seconds", "job", job) == nil ||
			s.sample("passd_job_duration_seconds", "job", job) == nil {
			t.Errorf("job %s: its series are not declared before its first run", job)
		}
	}
	if got := s.value("passd_db_pool_max_conns"); got != db.DefaultMaxConns {
		t.Errorf("pool max conns = %v, want %d", got, db.DefaultMaxConns)
	}
	if s.value("passd_db_pool_acquires_total") < 1 || s.value("passd_db_pool_total_conns") < 1 {
		t.Errorf("pool: %v acquires, %v conns; the harness's set-up used it", s.value("passd_db_pool_acquires_total"), s.value("passd_db_pool_total_conns"))
	}

	gp := h.newProvider(t, "Cabinet Jobs", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Jobs")
	h.cityDue(t, gp, p, "F-JOB", "10.00", "20.00")
	s = h.scrape(t)
	for name, want := range map[string]float64{
		"passd_job_runs_total":                     1,
		"passd_job_rows_total":                     2,
		"passd_job_duration_seconds":               1,
		"passd_job_errors_total":                   0,
		"passd_job_last_success_timestamp_seconds": float64(defaultNow.Unix()),
	} {
		labels := []string{"job", "deadline"}
		if name == "passd_job_runs_total" {
			labels = append(labels, "outcome", "ok")
		}
		if got := s.value(name, labels...); got != want {
			t.Errorf("%s{job=deadline} = %v, want %v", name, got, want)
		}
	}

	// The deadline job fails when deciding an invoice fails.
	owner := dbtest.Owner(t, h.app.cfg.DatabaseURL)
	ctx := context.Background()
	if _, err := owner.Exec(ctx, `
		CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'test: refused'; END; $$;
		CREATE TRIGGER test_refuse BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION test_refuse();`); err != nil {
		t.Fatal(err)
	}
	h.submit(t, gp, p, "F-JOB-FAIL", "2026-03-01")
	run := h.mustDo(t, http.StatusOK, "POST", "/api/v1/jobs/deadline/run", h.admin, "")
	if run["error"] == nil {
		t.Fatalf("the deadline run did not fail: %v", run)
	}
	if _, err := owner.Exec(ctx, `DROP TRIGGER test_refuse ON invoices; DROP FUNCTION test_refuse();`); err != nil {
		t.Fatal(err)
	}
	s = h.scrape(t)
	if s.value("passd_job_runs_total", "job", "deadline", "outcome", "error") != 1 || s.value("passd_job_errors_total", "job", "deadline") != 1 ||
		s.value("passd_job_runs_total", "job", "deadline", "outcome", "ok") != 1 || s.value("passd_job_duration_seconds", "job", "deadline") != 2 {
		t.Errorf("after a failed run: runs ok %v error %v, errors %v, durations %v; want 1, 1, 1, 2",
			s.value("passd_job_runs_total", "job", "deadline", "outcome", "ok"), s.value("passd_job_runs_total", "job", "deadline", "outcome", "error"),
			s.value("passd_job_errors_total", "job", "deadline"), s.value("passd_job_duration_seconds", "job", "deadline"))
	}
	if got := s.value("passd_job_runs_total", "job", "release", "outcome", "ok"); got != 0 {
		t.Errorf("release ran %v times, want 0", got)
	}
}

// wantStatusGauges compares the business gauges with counts over the
// tables themselves.
func (h *harness) wantStatusGauges(t *testing.T, after string) {
	t.Helper()
	s := h.scrapeMoney(t)
	ctx := context.Background()
	for _, status := range []string{"pending", "released", "city_due", "cancelled"} {
		var n int64
		var amount string
		if err := h.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(total), 0)::numeric(16,2)::text FROM invoices WHERE status = $1`,
			status).Scan(&n, &amount); err != nil {
			t.Fatal(err)
		}
		if got := s.value("passd_invoices", "status", status); got != float64(n) {
			t.Errorf("after %s: passd_invoices{status=%s} = %v, the table has %d", after, status, got, n)
		}
		if got := strconv.FormatFloat(s.value("passd_invoices_amount_euros", "status", status), 'f', 2, 64); got != amount {
			t.Errorf("after %s: passd_invoices_amount_euros{status=%s} = %s, the table sums %s", after, status, got, amount)
		}
	}
	var n int64
	var amount string
	if err := h.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(amount), 0)::numeric(16,2)::text FROM payouts WHERE status = 'due'`).
		Scan(&n, &amount); err != nil {
		t.Fatal(err)
	}
	if got := s.value("passd_payouts_due"); got != float64(n) {
		t.Errorf("after %s: passd_payouts_due = %v, the table has %d", after, got, n)
	}
	if got := strconv.FormatFloat(s.value("passd_payouts_due_amount_euros"), 'f', 2, 64); got != amount {
		t.Errorf("after %s: passd_payouts_due_amount_euros = %s, the table sums %s", after, got, amount)
	}
}

// TestMetricsStatusGaugesFollowTheLifecycle: after each step of the life
// of invoices and payouts — submit, cancel, release, deadline, a payout
// batch approved then paid — the gauges equal counts over the tables.
func TestMetricsStatusGaugesFollowTheLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.wantStatusGauges(t, "nothing")
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr Gauge", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Infirmière Gauge", "nurse", "10000000002")
	opened, late := h.newPatient(t, "Ouvert"), h.newPatient(t, "Tardif")

	h.submit(t, gp, opened, "F-1", "2026-06-01", line{"G", "30.00", 1}, line{"VG", "21.28", 2})
	h.submit(t, nurse, opened, "F-2", "2026-06-02", line{"AMI", "3.15", 3})
	withdrawn := str(t, h.submit(t, gp, opened, "F-3", "2026-06-03"), "id")
	h.submit(t, gp, late, "F-4", "2026-03-01", line{"G", "25.00", 1})
	h.submit(t, nurse, late, "F-5", "2026-02-15", line{"AMI", "3.15", 4})
	h.wantStatusGauges(t, "five submissions")

	h.mustDo(t, http.StatusOK, "POST", "/api/v1/invoices/"+withdrawn+"/cancel", gp.token, "")
	h.wantStatusGauges(t, "a cancellation")

	h.openRights(t, opened, "puma", "2026-05-01")
	h.runJob(t, "release")
	h.wantStatusGauges(t, "the release job")

	h.runJob(t, "deadline")
	h.wantStatusGauges(t, "the deadline job")

	batch := h.pbApproved(t, h.newFinance(t, "finance-b"), "")
	h.wantStatusGauges(t, "a payout batch approved")
	h.mustDo(t, http.StatusOK, "POST", pbPath(str(t, batch, "id"), "paid"), h.finance, `{"paid_on": "2026-06-15"}`)
	h.wantStatusGauges(t, "the batch paid")

	s := h.scrape(t)
	if s.value("passd_invoices", "status", "released") != 2 || s.value("passd_invoices", "status", "city_due") != 2 ||
		s.value("passd_invoices", "status", "cancelled") != 1 || s.value("passd_invoices", "status", "pending") != 0 {
		t.Errorf("the lifecycle did not reach the statuses it meant to: %v", s["passd_invoices"])
	}
}

// TestMetricsStatusCountsStayExactUnderConcurrentSubmissions: providers
// submitting at once, scrapes and compactions in between, and the counts
// are still exactly the table's.
func TestMetricsStatusCountsStayExactUnderConcurrentSubmissions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Concurrent")
	const providers, each = 6, 20
	var fixtures []providerFixture
	for i := range providers {
		fixtures = append(fixtures, h.newProvider(t, fmt.Sprintf("Pharmacie %d", i), "pharmacy", fmt.Sprintf("1000000010%d", i)))
	}
	var wg sync.WaitGroup
	for i, pr := range fixtures {
		wg.Go(func() {
			for j := range each {
				rec := h.doRaw(t, "POST", "/api/v1/invoices", pr.token,
					invoiceBody(t, p.fileNumber, fmt.Sprintf("C-%d-%d", i, j), "2026-06-10", line{"3400930000007", fmt.Sprintf("%d.%02d", 1+j, i), 1}))
				if rec.Code != http.StatusCreated {
					t.Errorf("submission %d-%d: %d %s", i, j, rec.Code, rec.Body)
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			h.doRaw(t, "GET", "/metrics", "", "")
			if _, err := metrics.CompactStatusCounts(context.Background(), h.pool); err != nil {
				t.Errorf("compaction: %v", err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	h.wantStatusGauges(t, "concurrent submissions")
	if got := h.scrape(t).value("passd_invoices", "status", "pending"); got != providers*each {
		t.Errorf("pending = %v, want %d", got, providers*each)
	}
}

// moneySeries are the series in euros a public scrape must not show.
var moneySeries = []string{"passd_invoices_amount_euros", "passd_payouts_due_amount_euros"}

// TestMetricsShowMoneyOnlyWithTheMetricsToken: on the main address,
// /metrics keeps its counts and durations but has no series in euros,
// unless the scrape carries PASSD_METRICS_TOKEN; a wrong token is a failed
// authentication; with no token configured, any header is ignored.
func TestMetricsShowMoneyOnlyWithTheMetricsToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr Euros", "general_practitioner", "10000000011")
	h.submit(t, pr, h.newPatient(t, "Montant"), "F-1", "2026-06-01", line{"G", "30.00", 1})

	public := h.scrape(t)
	for _, name := range []string{"passd_invoices", "passd_payouts_due", "passd_http_requests_total", "passd_http_request_duration_seconds"} {
		if public[name] == nil {
			t.Errorf("%s missing from the public scrape", name)
		}
	}
	for name := range public {
		if strings.HasSuffix(name, metrics.MoneySuffix) {
			t.Errorf("the public scrape shows %s", name)
		}
	}
	private := h.scrapeMoney(t)
	if got := private.value("passd_invoices_amount_euros", "status", "pending"); got != 30 {
		t.Errorf("with the token: passd_invoices_amount_euros{status=pending} = %v, want 30", got)
	}
	for _, name := range moneySeries {
		if private[name] == nil {
			t.Errorf("%s missing with the token", name)
		}
	}

	for _, auth := range []string{"Bearer wrong-metrics-token-0123456789abcdef", "Bearer " + h.admin, "Basic " + testMetricsToken} {
		status, body := h.do(t, "GET", "/metrics", "", "", "Authorization", auth)
		wantError(t, auth, status, body, http.StatusUnauthorized, "unauthorized", "")
	}
	// Two headers, one of them right, are still a wrong answer.
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Add("Authorization", "Bearer "+testMetricsToken)
	req.Header.Add("Authorization", "Bearer other")
	rec := httptest.NewRecorder()
	h.app.echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), metrics.MoneySuffix) {
		t.Errorf("two Authorization headers: %d", rec.Code)
	}

	// Without a configured token, a header opens nothing.
	h.app.cfg.MetricsToken = ""
	for name := range h.scrapeWith(t, testMetricsToken) {
		if strings.HasSuffix(name, metrics.MoneySuffix) {
			t.Errorf("with no token configured, a scrape shows %s", name)
		}
	}
}

// TestMetricsShowMoneyOnTheirOwnListener: with PASSD_METRICS_ADDR, a
// second listener serves /metrics with the series in euros (and nothing
// else), while the main address's /metrics still has none.
func TestMetricsShowMoneyOnTheirOwnListener(t *testing.T) {
	t.Parallel()
	cfg := Config{DatabaseURL: dbtest.NewURL(t), Addr: freeAddr(t), MetricsAddr: freeAddr(t), DeadlineDays: 90,
		ReleaseSchedule: "0 4 1 1 *", DeadlineSchedule: "0 4 1 1 *", ClaimBatchSchedule: "0 4 1 1 *",
		PayoutBatchSchedule: "0 4 1 1 *", RemindersSchedule: "0 4 1 1 *", ShutdownTimeout: 10 * time.Second,
		DataKey: keyringtest.Text(t)}
	a, err := newApp(context.Background(), cfg, testLogger(t), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx) }()
	defer stop()

	main, private := "http://"+cfg.Addr, "http://"+cfg.MetricsAddr
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get(main + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("passd never served: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	status, body := get(t, private+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics on the metrics address: %d", status)
	}
	for _, name := range append([]string{"passd_invoices", "passd_http_requests_total"}, moneySeries...) {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("%s missing on the metrics address", name)
		}
	}
	status, body = get(t, main+"/metrics")
	if status != http.StatusOK || !strings.Contains(body, "passd_invoices") || strings.Contains(body, metrics.MoneySuffix) {
		t.Errorf("GET /metrics on the main address: %d, money shown: %v", status, strings.Contains(body, metrics.MoneySuffix))
	}
	if status, _ := get(t, private+"/api/v1/invoices"); status != http.StatusNotFound {
		t.Errorf("the API on the metrics address: %d, want 404", status)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	if conn, err := net.Dial("tcp", cfg.MetricsAddr); err == nil {
		conn.Close()
		t.Error("the metrics address still accepts connections after passd stopped")
	}
}
