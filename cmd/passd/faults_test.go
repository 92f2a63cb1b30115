package main

// Fault tests: real passd processes (process_test.go) against real
// PostgreSQL, killed, stopped, run side by side, and cut off from their
// database, after which every invoice must still be settled exactly once
// and `passd check` must pass. Each logs its figures with t.Logf.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"passd/audit"
	"passd/auth"
	"passd/billing"
	"passd/db/dbtest"
)

// newRand returns a generator whose seed is logged, so that a failure can
// be replayed.
func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed>>1))
}

// settlementViolations lists, over every invoice, what breaks "exactly one
// outcome": still pending; released without exactly one claim or with a
// payout beyond its ticket modérateur; city_due without exactly one
// payout, or with a claim; cancelled with either; not exactly one audited
// decision or cancellation. ticketModerateur says whether released
// invoices may carry a city payout (their rate is below 100 %).
func settlementViolations(t *testing.T, pool *pgxpool.Pool, ticketModerateur bool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT 'invoice ' || i.id || ' ' || i.status || ': ' || c.n || ' claim(s), ' || p.n || ' payout(s) ' || p.reasons || ', '
		       || a.n || ' audited decision(s), payout amounts ' || p.total || ' of ' || i.city_amount
		FROM invoices i
		CROSS JOIN LATERAL (SELECT count(*) AS n FROM claims WHERE invoice_id = i.id) c
		CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total, coalesce(string_agg(reason, ','), '') AS reasons
		                    FROM payouts WHERE invoice_id = i.id) p
		CROSS JOIN LATERAL (SELECT count(*) AS n FROM audit_log
		                    WHERE entity = 'invoice' AND entity_id = i.id::text AND action IN ('invoice.decide', 'invoice.cancel')) a
		WHERE NOT CASE i.status
			WHEN 'released' THEN c.n = 1 AND (p.n = 0 OR ($1 AND p.n = 1 AND p.reasons = 'ticket_moderateur'))
			WHEN 'city_due' THEN c.n = 0 AND p.n = 1
			WHEN 'cancelled' THEN c.n = 0 AND p.n = 0
			ELSE false END
		   OR a.n <> 1 OR (i.city_amount > 0 AND p.total <> i.city_amount)
		ORDER BY i.id`, ticketModerateur)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// reportViolations fails the test with the first violations, if any.
func reportViolations(t *testing.T, what string, v []string) {
	t.Helper()
	if len(v) > 0 {
		t.Errorf("%s: %d violation(s), first: %v", what, len(v), v[:min(len(v), 10)])
	}
}

// countBy returns count(*) grouped by one text column.
func countBy(t *testing.T, pool *pgxpool.Pool, sql string) map[string]int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKill9MidSweep kills passd with SIGKILL at random moments while the
// deadline job is deciding thousands of due invoices, restarts it, and
// repeats; then lets a last process finish. Nothing may be lost or done
// twice: each due invoice ends city_due with exactly one payout, one
// audited decision and its journal posting.
func TestKill9MidSweep(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	rng := newRand(t)
	ctx := context.Background()

	provider := seed.provider(billing.KindGP)
	seed.user("coordinator", auth.Coordinator, 0)
	creator := seed.userID("coordinator")
	patients := seed.patients(10)
	patientIDs := make([]int64, len(patients))
	for i, p := range patients {
		patientIDs[i] = p.id
	}
	pendingDue := func() int64 {
		return scalar(t, pool, `SELECT count(*) FROM invoices WHERE status = 'pending' AND deadline < (now() AT TIME ZONE 'Europe/Paris')::date`)
	}
	// Cared for 120 days ago with a 90-day deadline: due a month ago.
	seeded := len(seed.invoices(provider, creator, patientIDs, 350, 120, 90))
	const wantKills = 10
	env := []string{"PASSD_DEADLINE_SCHEDULE=@every 1s"}

	var kills, attempts int
	var lastRun int64
	for kills < wantKills {
		attempts++
		if attempts > 3*wantKills {
			t.Fatalf("only %d of %d attempts killed passd while the deadline job ran", kills, attempts)
		}
		// Keep at least two batches of work ahead of every process.
		if pendingDue() < 2000 {
			seeded += len(seed.invoices(provider, creator, patientIDs, 300, 120, 90))
		}
		p := startPassd(t, fmt.Sprintf("passd#%d", attempts), url, env...)
		// Wait for this process's deadline run to start, then for a random
		// moment in it: sometimes as soon as the first payouts appear.
		var run int64
		for deadline := time.Now().Add(20 * time.Second); run == 0; time.Sleep(2 * time.Millisecond) {
			err := pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM job_runs WHERE name = 'deadline' AND id > $1 AND finished_at IS NULL`, lastRun).Scan(&run)
			if err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				p.dumpLog(40)
				t.Fatalf("the deadline job never started in %s", p.name)
			}
		}
		lastRun = run
		if rng.IntN(3) == 0 {
			before := scalar(t, pool, `SELECT count(*) FROM payouts`)
			for deadline := time.Now().Add(10 * time.Second); scalar(t, pool, `SELECT count(*) FROM payouts`) == before && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		} else {
			time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
		}
		p.kill()
		var finished bool
		if err := pool.QueryRow(ctx, `SELECT finished_at IS NOT NULL FROM job_runs WHERE id = $1`, run).Scan(&finished); err != nil {
			t.Fatal(err)
		}
		if !finished {
			kills++
		}
	}

	// A last process finishes the work; the runs left unfinished by the
	// killed ones stay as they are.
	last := startPassd(t, "passd#last", url, env...)
	for deadline := time.Now().Add(60 * time.Second); pendingDue() > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d due invoices still pending a minute after the last restart", pendingDue())
		}
	}
	last.stop()

	violations := settlementViolations(t, pool, false)
	reportViolations(t, "settlement", violations)
	status := countBy(t, pool, `SELECT status, count(*) FROM invoices GROUP BY status`)
	payouts := scalar(t, pool, `SELECT count(*) FROM payouts`)
	payoutAudits := scalar(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'payout.create'`)
	decideAudits := scalar(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'invoice.decide'`)
	postings := scalar(t, pool, `SELECT count(DISTINCT txn_id) FROM journal_entries`)
	if int64(seeded) != status["city_due"] || payouts != int64(seeded) || payoutAudits != payouts || decideAudits != payouts || postings != payouts {
		t.Errorf("seeded %d due invoices: %v, %d payouts, %d payout audits, %d decision audits, %d journal transactions; want all equal",
			seeded, status, payouts, payoutAudits, decideAudits, postings)
	}
	unfinished := scalar(t, pool, `SELECT count(*) FROM job_runs WHERE name = 'deadline' AND finished_at IS NULL`)
	failed := scalar(t, pool, `SELECT count(*) FROM job_runs WHERE error IS NOT NULL`)
	if failed > 0 {
		t.Errorf("%d job runs recorded an error", failed)
	}
	auditSealedAndIntact(t, pool)
	passdCheck(t, url)
	t.Logf("kill -9: %d processes started, %d killed mid-sweep (%d deadline runs left unfinished), %d due invoices seeded, "+
		"%d city_due, %d payouts, %d decision audits, %d journal transactions; violations: %d",
		attempts+1, kills, unfinished, seeded, status["city_due"], payouts, decideAudits, postings, len(violations))
}

// TestGracefulShutdown sends SIGTERM while a request and the deadline job
// are both blocked mid-transaction (on a provider row the test holds
// locked). passd must stop accepting connections, yet let the request
// finish and the job end the batch at hand, start nothing new, close the
// pool and exit 0; the database must hold exactly that committed work.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	ctx := context.Background()

	provider := seed.provider(billing.KindGP)
	token := seed.user("provider", auth.Provider, provider)
	patients := seed.patients(1)
	// One batch and a half of due invoices.
	due := len(seed.invoices(provider, seed.userID("provider"), []int64{patients[0].id}, 1500, 120, 90))

	// Both the invoice insert and the payouts of the sweep check their
	// provider_id foreign key, which takes a KEY SHARE lock on the provider
	// row: FOR UPDATE blocks them both, mid-transaction.
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT 1 FROM providers WHERE id = $1 FOR UPDATE`, provider); err != nil {
		t.Fatal(err)
	}

	p := startPassd(t, "passd", url, "PASSD_REQUEST_TIMEOUT=60s")
	answered := make(chan answer, 1)
	go func() {
		client := &http.Client{Timeout: 90 * time.Second}
		answered <- p.send(client, "POST", "/api/v1/invoices", token,
			fmt.Sprintf(`{"patient_file_number": %q, "birth_date": %q, "external_ref": "during-shutdown", "care_date": %q,
				"lines": [{"code": "G", "label": "Consultation", "quantity": 1, "unit_price": "30.00"}]}`,
				patients[0].fileNumber, patients[0].birthDate, time.Now().In(paris(t)).AddDate(0, 0, -3).Format(time.DateOnly)))
	}()
	dbName := scalar(t, pool, `SELECT oid::bigint FROM pg_database WHERE datname = current_database()`)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := scalar(t, pool, `SELECT count(*) FROM pg_stat_activity WHERE datid = $1 AND application_name = 'passd' AND wait_event_type = 'Lock'`, dbName)
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			p.dumpLog(40)
			t.Fatalf("%d passd sessions blocked on the lock, want 2 (the request and the deadline job)", n)
		}
	}
	var run int64
	if err := pool.QueryRow(ctx, `SELECT id FROM job_runs WHERE name = 'deadline' AND finished_at IS NULL`).Scan(&run); err != nil {
		t.Fatalf("the deadline run in progress: %v", err)
	}
	runsBefore := scalar(t, pool, `SELECT count(*) FROM job_runs`)

	p.signal(syscall.SIGTERM)
	p.waitLog(`"shutting down"`, 10*time.Second)
	// The listener closes at once: new connections are refused...
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("passd still accepts connections 10 s after SIGTERM")
		}
	}
	// ...while the process waits for the request and the job.
	if p.hasExited() {
		t.Fatalf("passd exited (%v) with a request and a job in flight", p.state)
	}
	select {
	case a := <-answered:
		t.Fatalf("the request was answered before its transaction could finish: %d %s %v", a.status, a.body, a.err)
	default:
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	a := <-answered
	if a.err != nil || a.status != http.StatusCreated {
		t.Fatalf("request in flight at SIGTERM: %d %s %v, want 201", a.status, a.body, a.err)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.body, &created); err != nil || created.ID == "" {
		t.Fatalf("201 body %s: %v", a.body, err)
	}
	code := p.wait(30 * time.Second)
	if code != 0 {
		t.Errorf("passd exited with status %d after SIGTERM, want 0", code)
	}
	if got := p.logLines("job run"); len(got) == 0 {
		t.Error("passd never logged the end of the deadline run")
	}

	var finished bool
	var rows int64
	var runErr *string
	if err := pool.QueryRow(ctx, `SELECT finished_at IS NOT NULL, rows, error FROM job_runs WHERE id = $1`, run).Scan(&finished, &rows, &runErr); err != nil {
		t.Fatal(err)
	}
	runsAfter := scalar(t, pool, `SELECT count(*) FROM job_runs`)
	decided := scalar(t, pool, `SELECT count(*) FROM invoices WHERE status = 'city_due'`)
	pending := scalar(t, pool, `SELECT count(*) FROM invoices WHERE status = 'pending' AND external_ref <> 'during-shutdown'`)
	payouts := scalar(t, pool, `SELECT count(*) FROM payouts`)
	decideAudits := scalar(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'invoice.decide'`)
	created1 := scalar(t, pool, `SELECT count(*) FROM invoices WHERE external_ref = 'during-shutdown' AND id = $1::bigint`, created.ID)
	createAudits := scalar(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'invoice.create' AND entity_id = $1`, created.ID)
	if !finished || runErr != nil || rows != 1000 {
		t.Errorf("deadline run: finished %v, %d rows, error %v; want finished, the one batch of 1000, no error", finished, rows, runErr)
	}
	if runsAfter != runsBefore {
		t.Errorf("%d job runs started after SIGTERM", runsAfter-runsBefore)
	}
	if decided != 1000 || payouts != 1000 || decideAudits != 1000 || pending != int64(due)-1000 {
		t.Errorf("after the shutdown: %d decided, %d payouts, %d decision audits, %d pending; want the batch of 1000 and %d pending",
			decided, payouts, decideAudits, pending, due-1000)
	}
	if created1 != 1 || createAudits != 1 {
		t.Errorf("the invoice answered 201 is stored %d time(s) with %d audit row(s), want 1 and 1", created1, createAudits)
	}
	auditSealedAndIntact(t, pool)
	passdCheck(t, url)
	t.Logf("graceful shutdown: request in flight answered %d in %s, deadline run finished with %d rows (error %v), "+
		"%d due invoices left for the next run, %d job runs started after SIGTERM, exit status %d",
		a.status, a.latency.Round(time.Millisecond), rows, runErr, pending, runsAfter-runsBefore, code)
}

// auditSealedAndIntact checks the audit chain after a passd stopped
// cleanly: its last seal left no row out, whatever the processes killed
// before it were sealing, and the chain verifies.
func auditSealedAndIntact(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	report, err := audit.Verify(context.Background(), pool)
	if err != nil || !report.OK() || report.Pending != 0 || report.Rows == 0 {
		t.Errorf("audit chain after a clean stop: %+v, %v; want intact, every row sealed", report, err)
	}
}

func paris(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// restartResult is one invoice submission during TestDatabaseRestartUnderLoad.
type restartResult struct {
	ref        string
	start, end time.Time
	answer
}

// TestDatabaseRestartUnderLoad restarts passd's PostgreSQL (a private
// cluster) in fast and immediate mode, keeps it stopped for a while in both
// modes, then freezes it, while clients submit invoices without pause.
// Every answer must come within 5 s and be a 201 or a 503 JSON error (a
// 503 whenever the server is down); passd must recover by itself; every
// invoice that got a 201 must exist, once.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	t.Parallel()
	cluster := dbtest.NewCluster(t)
	url := cluster.NewDatabase(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	provider := seed.provider(billing.KindNurse)
	token := seed.user("provider", auth.Provider, provider)
	patient := seed.patients(1)[0]
	careDate := time.Now().In(paris(t)).AddDate(0, 0, -5).Format(time.DateOnly)
	pool.Close() // the test's own connections would only be broken by the restarts

	p := startPassd(t, "passd", url)
	body := func(ref string) string {
		return fmt.Sprintf(`{"patient_file_number": %q, "birth_date": %q, "external_ref": %q, "care_date": %q,
			"lines": [{"code": "AMI", "label": "Soin", "quantity": 2, "unit_price": "3.15"}]}`, patient.fileNumber, patient.birthDate, ref, careDate)
	}

	var (
		mu      sync.Mutex
		results []restartResult
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	const clients = 4
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 15 * time.Second}
			for n := 0; !stop.Load(); n++ {
				ref := fmt.Sprintf("c%d-%d", w, n)
				start := time.Now()
				a := p.send(client, "POST", "/api/v1/invoices", token, body(ref), "Idempotency-Key", ref)
				mu.Lock()
				results = append(results, restartResult{ref: ref, start: start, end: time.Now(), answer: a})
				mu.Unlock()
				if a.status != http.StatusCreated {
					time.Sleep(100 * time.Millisecond) // a client backs off a little
				}
			}
		}()
	}
	// waitFor waits until n results satisfy ok.
	waitFor := func(what string, n int, ok func(restartResult) bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			got := 0
			for _, r := range results {
				if ok(r) {
					got++
				}
			}
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				stop.Store(true)
				wg.Wait()
				p.dumpLog(40)
				t.Fatalf("%s: only %d of %d answers within 30 s", what, got, n)
			}
		}
	}
	// createdSince: a 201 to a request sent after since (the server was up).
	createdSince := func(since time.Time) func(restartResult) bool {
		return func(r restartResult) bool { return r.status == http.StatusCreated && r.start.After(since) }
	}
	// refusedSince: a 503 answered after since (the server was down).
	refusedSince := func(since time.Time) func(restartResult) bool {
		return func(r restartResult) bool { return r.status == http.StatusServiceUnavailable && r.end.After(since) }
	}

	type window struct{ from, to time.Time } // the server was down throughout
	var downs []window
	waitFor("warm-up", 20, createdSince(time.Time{}))
	for _, mode := range []string{"fast", "immediate"} {
		before := time.Now()
		cluster.Restart(t, mode)
		waitFor("recovery after pg_ctl restart -m "+mode, 5, createdSince(time.Now()))
		t.Logf("pg_ctl restart -m %s took %s", mode, time.Since(before).Round(time.Millisecond))
	}
	// Outages long enough to be seen: stopped for a second or more, then
	// frozen (a hung server answers nothing; only passd's deadlines end
	// the wait).
	for _, outage := range []string{"fast", "immediate", "pause"} {
		if outage == "pause" {
			cluster.Pause(t)
		} else {
			cluster.Stop(t, outage)
		}
		down := time.Now()
		time.Sleep(time.Second)
		waitFor("answers during the outage ("+outage+")", clients, refusedSince(down))
		up := time.Now()
		if outage == "pause" {
			cluster.Resume(t)
		} else {
			cluster.Start(t)
		}
		downs = append(downs, window{down, up})
		waitFor("recovery after the outage ("+outage+")", 5, createdSince(time.Now()))
	}
	stop.Store(true)
	wg.Wait()
	if p.hasExited() {
		t.Fatalf("passd exited during the outages: %v", p.state)
	}

	// Every answer: in time, a 201 or a JSON 503, and a 503 while down.
	byRef := map[string]restartResult{}
	var n503, n201, duringDown int
	var maxLatency, max503Latency time.Duration
	var badStatus, slow, notJSON []string
	for _, r := range results {
		byRef[r.ref] = r
		maxLatency = max(maxLatency, r.latency)
		if r.latency >= 5*time.Second {
			slow = append(slow, fmt.Sprintf("%s: %d after %s", r.ref, r.status, r.latency))
		}
		inDown := slices.ContainsFunc(downs, func(w window) bool { return r.start.After(w.from) && r.end.Before(w.to) })
		if inDown {
			duringDown++
		}
		switch {
		case r.err != nil:
			badStatus = append(badStatus, fmt.Sprintf("%s: no answer: %v", r.ref, r.err))
		case r.status == http.StatusCreated && !inDown:
			n201++
		case r.status == http.StatusServiceUnavailable:
			n503++
			max503Latency = max(max503Latency, r.latency)
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code != "unavailable" || e.Error.Message == "" {
				notJSON = append(notJSON, fmt.Sprintf("%s: %s", r.ref, r.body))
			}
		default:
			badStatus = append(badStatus, fmt.Sprintf("%s: %d %s (while down: %v)", r.ref, r.status, r.body, inDown))
		}
	}
	for what, list := range map[string][]string{"answers neither 201 nor 503": badStatus, "answers slower than 5 s": slow, "503s without the JSON error": notJSON} {
		if len(list) > 0 {
			t.Errorf("%s: %d, first: %v", what, len(list), list[:min(len(list), 10)])
		}
	}

	// Retried with their key, the refused submissions are created now (or
	// replayed, if their transaction committed before the answer was lost).
	var retry []string
	for ref, r := range byRef {
		if r.status != http.StatusCreated {
			retry = append(retry, ref)
		}
	}
	refs := make(chan string)
	for range clients {
		wg.Go(func() {
			client := &http.Client{Timeout: 15 * time.Second}
			for ref := range refs {
				a := p.send(client, "POST", "/api/v1/invoices", token, body(ref), "Idempotency-Key", ref)
				mu.Lock()
				r := byRef[ref]
				r.answer = a
				byRef[ref] = r
				mu.Unlock()
			}
		})
	}
	for _, ref := range retry {
		refs <- ref
	}
	close(refs)
	wg.Wait()
	ids := map[string]string{}
	for ref, r := range byRef {
		var inv struct {
			ID          string `json:"id"`
			ExternalRef string `json:"external_ref"`
		}
		if r.status != http.StatusCreated || json.Unmarshal(r.body, &inv) != nil || inv.ExternalRef != ref {
			t.Errorf("%s, finally: %d %s %v, want 201 with the invoice", ref, r.status, r.body, r.err)
			continue
		}
		ids[ref] = inv.ID
	}
	p.stop()

	pool = dbtest.Owner(t, url)
	stored := map[string]string{}
	rows, err := pool.Query(context.Background(), `SELECT external_ref, id::text FROM invoices`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ref, id string
		if err := rows.Scan(&ref, &id); err != nil {
			t.Fatal(err)
		}
		stored[ref] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lost []string
	for ref, id := range ids {
		if stored[ref] != id {
			lost = append(lost, fmt.Sprintf("%s: answered id %s, stored %q", ref, id, stored[ref]))
		}
	}
	if len(lost) > 0 || len(stored) != len(byRef) {
		t.Errorf("%d submissions, %d invoices stored; answered but not stored as answered: %v", len(byRef), len(stored), lost[:min(len(lost), 10)])
	}
	audits := scalar(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'invoice.create'`)
	if audits != int64(len(stored)) {
		t.Errorf("%d invoices, %d creation audits", len(stored), audits)
	}
	passdCheck(t, url)
	t.Logf("database restarts: %d requests from %d clients, %d created, %d answered 503 (%d entirely while the server was down), "+
		"max latency %s, max 503 latency %s, %d retried with their Idempotency-Key, %d invoices stored once each; violations: %d",
		len(results), clients, n201, n503, duringDown, maxLatency.Round(time.Millisecond), max503Latency.Round(time.Millisecond),
		len(retry), len(stored), len(badStatus)+len(slow)+len(notJSON)+len(lost))
}

// TestReplicasSettleEachInvoiceOnce runs three `passd serve` processes on
// one database, every job of each scheduled every second, while rights
// decisions and cancellations (some of them twice at once, by the
// coordinator and by the provider through different replicas) arrive
// through all three, and fresh due invoices keep coming for the deadline
// job. Afterwards every invoice has exactly one outcome — released with
// its one claim, city_due with its one payout, or cancelled with neither —
// each cancellation answered 200 is the one that happened, and `passd
// check` passes.
func TestReplicasSettleEachInvoiceOnce(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	pool := dbtest.Owner(t, url)
	seed := newSeeder(t, pool)
	rng := newRand(t)

	kinds := []string{billing.KindGP, billing.KindNurse, billing.KindPharmacy}
	providers := make([]int64, len(kinds))
	providerTokens := map[int64]string{}
	for i, kind := range kinds {
		providers[i] = seed.provider(kind)
		providerTokens[providers[i]] = seed.user(fmt.Sprintf("provider-%d", i), auth.Provider, providers[i])
	}
	coordinator := seed.user("coordinator", auth.Coordinator, 0)
	referent := seed.user("referent", auth.CPAMReferent, 0)
	creator := seed.userID("coordinator")
	patients := seed.patients(60)
	patientIDs := make([]int64, len(patients))
	for i, p := range patients {
		patientIDs[i] = p.id
	}
	providerOf := map[int64]int64{}
	var invoices []int64
	for _, prov := range providers {
		// Cared for 20 days ago: pending until the patient's rights are decided.
		for _, id := range seed.invoices(prov, creator, patientIDs, 2, 20, 90) {
			providerOf[id] = prov
			invoices = append(invoices, id)
		}
	}

	// Every job every second in each replica. Each replica's pool is kept
	// small: three share the test server with other tests.
	every := []string{"PASSD_RELEASE_SCHEDULE=@every 1s", "PASSD_DEADLINE_SCHEDULE=@every 1s", "PASSD_CLAIM_BATCH_SCHEDULE=@every 1s",
		"PASSD_PAYOUT_BATCH_SCHEDULE=@every 1s", "PASSD_REMINDERS_SCHEDULE=@every 1s"}
	replicas := make([]*passdProcess, 3)
	for i := range replicas {
		replicas[i] = startPassd(t, fmt.Sprintf("replica-%d", i), url+"&pool_max_conns=12", every...)
	}

	type cancelAnswer struct {
		invoice int64
		status  int
	}
	var (
		mu       sync.Mutex
		cancels  []cancelAnswer
		failures []string
		answered = map[int]int{}    // status → count
		through  = map[string]int{} // replica → requests
	)
	// send sends one request through a random replica; anything but want
	// (or, for a cancellation, 409 not_pending) is a failure.
	send := func(client *http.Client, r *rand.Rand, what string, want int, method, path, token, body string) answer {
		p := replicas[r.IntN(len(replicas))]
		a := p.send(client, method, path, token, body)
		mu.Lock()
		defer mu.Unlock()
		answered[a.status]++
		through[p.name]++
		if a.err != nil || (a.status != want && !(want == http.StatusOK && a.status == http.StatusConflict && strings.Contains(string(a.body), "not_pending"))) {
			failures = append(failures, fmt.Sprintf("%s via %s: %d %s %v", what, p.name, a.status, a.body, a.err))
		}
		return a
	}
	cancel := func(client *http.Client, r *rand.Rand, id int64, byProvider bool) {
		token := coordinator
		if byProvider {
			mu.Lock() // the waves add invoices meanwhile
			token = providerTokens[providerOf[id]]
			mu.Unlock()
		}
		a := send(client, r, fmt.Sprintf("cancel %d", id), http.StatusOK, "POST", fmt.Sprintf("/api/v1/invoices/%d/cancel", id), token, "")
		mu.Lock()
		cancels = append(cancels, cancelAnswer{id, a.status})
		mu.Unlock()
	}

	// The operations, shuffled: one rights decision per patient (a third
	// refused, the others opened under the AME, which the CPAM pays in
	// full), one cancellation for 40 % of the invoices, two at once for
	// another 10 %.
	var ops []func(*http.Client, *rand.Rand)
	var decisions, singles, doubles int
	for i, pt := range patients {
		body := fmt.Sprintf(`{"decision": "opened", "regime": "ame", "effective_from": %q, "effective_to": %q, "reference": "AME-%d"}`,
			seededFiledOn().AddDays(-30).String(), seededAMEEnd(), pt.id)
		if i%3 == 0 {
			body = `{"decision": "refused", "reason": "résidence non établie"}`
		}
		ops = append(ops, func(c *http.Client, r *rand.Rand) {
			send(c, r, fmt.Sprintf("decision for patient %d", pt.id), http.StatusOK, "POST", fmt.Sprintf("/api/v1/patients/%d/rights-decision", pt.id), referent, body)
		})
		decisions++
	}
	for _, id := range invoices {
		switch x := rng.IntN(10); {
		case x < 4:
			ops = append(ops, func(c *http.Client, r *rand.Rand) { cancel(c, r, id, r.IntN(2) == 0) })
			singles++
		case x == 4:
			ops = append(ops, func(c *http.Client, r *rand.Rand) {
				r1, r2 := rand.New(rand.NewPCG(r.Uint64(), 1)), rand.New(rand.NewPCG(r.Uint64(), 2))
				var both sync.WaitGroup
				both.Go(func() { cancel(c, r1, id, true) })
				both.Go(func() { cancel(&http.Client{Timeout: c.Timeout}, r2, id, false) })
				both.Wait()
			})
			doubles++
		}
	}
	rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })

	var work sync.WaitGroup
	queue := make(chan func(*http.Client, *rand.Rand))
	for w := range 6 {
		r := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
		work.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			for op := range queue {
				op(client, r)
			}
		})
	}
	// Meanwhile, waves of invoices already due arrive for the deadline
	// job, and half of each wave is cancelled at once.
	const waves, perWave = 8, 24
	work.Go(func() {
		r := rand.New(rand.NewPCG(rng.Uint64(), 99))
		client := &http.Client{Timeout: 30 * time.Second}
		for w := range waves {
			prov := providers[w%len(providers)]
			ids := seed.invoices(prov, creator, patientIDs[:perWave], 1, 120, 90)
			mu.Lock()
			for _, id := range ids {
				providerOf[id] = prov
			}
			mu.Unlock()
			var wave sync.WaitGroup
			for _, id := range ids[:len(ids)/2] {
				rid := rand.New(rand.NewPCG(r.Uint64(), uint64(id)))
				wave.Go(func() { cancel(&http.Client{Timeout: client.Timeout}, rid, id, id%2 == 0) })
			}
			wave.Wait()
			time.Sleep(100 * time.Millisecond)
		}
	})
	for _, op := range ops {
		queue <- op
	}
	close(queue)
	work.Wait()

	// The jobs settle the rest within a few ticks.
	pending := func() int64 { return scalar(t, pool, `SELECT count(*) FROM invoices WHERE status = 'pending'`) }
	for deadline := time.Now().Add(60 * time.Second); pending() > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d invoices still pending a minute after the last request", pending())
		}
	}
	for _, p := range replicas {
		p.stop()
	}

	if len(failures) > 0 {
		t.Errorf("%d unexpected answers, first: %v", len(failures), failures[:min(len(failures), 10)])
	}
	violations := settlementViolations(t, pool, false)
	// A cancellation answered 200 is the one that happened; a 409 means
	// the invoice was decided (or cancelled) first.
	statusOf := map[int64]billing.InvoiceStatus{}
	rows, err := pool.Query(context.Background(), `SELECT id, status FROM invoices`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var st billing.InvoiceStatus
		if err := rows.Scan(&id, &st); err != nil {
			t.Fatal(err)
		}
		statusOf[id] = st
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	oks := map[int64]int{}
	for _, c := range cancels {
		if c.status == http.StatusOK {
			oks[c.invoice]++
		}
	}
	for _, c := range cancels {
		switch n := oks[c.invoice]; {
		case n > 1:
			violations = append(violations, fmt.Sprintf("invoice %d: %d cancellations answered 200", c.invoice, n))
		case n == 1 && statusOf[c.invoice] != billing.StatusCancelled:
			violations = append(violations, fmt.Sprintf("invoice %d: cancellation answered 200, status %s", c.invoice, statusOf[c.invoice]))
		case n == 0 && statusOf[c.invoice] == billing.StatusCancelled:
			violations = append(violations, fmt.Sprintf("invoice %d: cancelled, but no cancellation was answered 200", c.invoice))
		}
	}
	reportViolations(t, "settlement", violations)
	failedRuns := countBy(t, pool, `SELECT name || ': ' || error, count(*) FROM job_runs WHERE error IS NOT NULL GROUP BY 1`)
	if len(failedRuns) > 0 {
		t.Errorf("job runs recorded errors: %v", failedRuns)
	}
	passdCheck(t, url)

	outcomes := countBy(t, pool, `SELECT status, count(*) FROM invoices GROUP BY status`)
	runs := countBy(t, pool, `SELECT name, count(*) FROM job_runs GROUP BY name`)
	claims := scalar(t, pool, `SELECT count(*) FROM claims`)
	payouts := scalar(t, pool, `SELECT count(*) FROM payouts`)
	t.Logf("replicas: 3 processes (requests %v), %d invoices (%d due in %d waves), %d rights decisions, %d single and %d double cancellations "+
		"(answers by status %v), outcomes %v, %d claims, %d payouts, job runs %v; violations: %d",
		through, len(statusOf), waves*perWave, waves, decisions, singles, doubles, answered, outcomes, claims, payouts, runs, len(violations))
}

// TestServeRefusesAPoolTheJobsCanDeadlock: with no more connections than
// jobs, jobs ticking together hold them all for their locks and wait
// forever for one to work with (with pgxpool's default of 4 on a small
// machine, TestReplicasSettleEachInvoiceOnce stalled that way).
func TestServeRefusesAPoolTheJobsCanDeadlock(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	// Seven jobs: the five of the money and the convention's two (issue 17).
	cfg := Config{DatabaseURL: url + "&pool_max_conns=7", Addr: "127.0.0.1:0", DeadlineDays: 90,
		ReleaseSchedule: farSchedule, DeadlineSchedule: farSchedule, ClaimBatchSchedule: farSchedule,
		PayoutBatchSchedule: farSchedule, RemindersSchedule: farSchedule, ShutdownTimeout: time.Second, DataKey: testDataKey()}
	if _, err := newApp(context.Background(), cfg, testLogger(t), time.Now); err == nil || !strings.Contains(err.Error(), "pool_max_conns=7") {
		t.Fatalf("newApp with 7 connections for 7 jobs = %v, want an error naming pool_max_conns", err)
	}
	cfg.DatabaseURL = url + "&pool_max_conns=8"
	a, err := newApp(context.Background(), cfg, testLogger(t), time.Now)
	if err != nil {
		t.Fatalf("newApp with 8 connections: %v", err)
	}
	a.close()
}

// TestRequestTimeoutIsConfigured reads PASSD_REQUEST_TIMEOUT. (t.Setenv:
// not parallel.)
func TestRequestTimeoutIsConfigured(t *testing.T) {
	t.Setenv("PASSD_REQUEST_TIMEOUT", "")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.RequestTimeout != 4*time.Second {
		t.Fatalf("default request timeout = %s (%v), want 4s", cfg.RequestTimeout, err)
	}
	t.Setenv("PASSD_REQUEST_TIMEOUT", "1500ms")
	if cfg, err = ConfigFromEnv(); err != nil || cfg.RequestTimeout != 1500*time.Millisecond {
		t.Fatalf("PASSD_REQUEST_TIMEOUT=1500ms gives %s (%v)", cfg.RequestTimeout, err)
	}
	t.Setenv("PASSD_REQUEST_TIMEOUT", "4")
	if _, err := ConfigFromEnv(); err == nil {
		t.Fatal("PASSD_REQUEST_TIMEOUT=4 (no unit) accepted")
	}
	cfg.RequestTimeout = -time.Second
	cfg.DatabaseURL = "postgres://x"
	if err := cfg.Validate(); err == nil {
		t.Fatal("a negative request timeout passes Validate")
	}
}
