package main

// What the fault tests share: passd processes (of the binary passdtest
// builds once per test binary) started, signalled and killed like a
// service manager would; their HTTP answers; and set-based seeding in
// SQL, so that a test can hold thousands of invoices without thousands of
// requests.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgxpool"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"passd/db"
	"passd/db/dbtest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"passd/audit"
	"passd/auth"
	"passd/calendar"
	"passd/claims"
	"passd/cmd/passd/passdtest"
	"passd/keyring"
	"passd/openapi"
)

func TestMain(m *testing.M) { passdtest.Main(m) }

// farSchedule never fires during a test; only the start-up runs happen.
const farSchedule = "0 4 1 1 *"

// passdProcess is one `passd serve` process.
type passdProcess struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	addr string // host:port
	base string // http://host:port
	// exited is closed once the process has exited; state is then set.
	exited chan struct{}
	state  *os.ProcessState

	mu    sync.Mutex
	lines []string // its log (stderr and stdout), line by line
}

// startPassd starts `passd serve` on databaseURL and waits until it is
// ready. env (NAME=value) comes after the defaults, which it overrides:
// every schedule far away, so that only the start-up runs happen.
func startPassd(t *testing.T, name, databaseURL string, env ...string) *passdProcess {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(passdtest.Binary(t), "serve")
	cmd.Env = append(passdEnviron(),
		"DATABASE_URL="+databaseURL,
		"PASSD_DATA_KEY="+testDataKey(),
		"PASSD_ADDR="+addr,
		"PASSD_RELEASE_SCHEDULE="+farSchedule,
		"PASSD_DEADLINE_SCHEDULE="+farSchedule,
		"PASSD_CLAIM_BATCH_SCHEDULE="+farSchedule,
		"PASSD_PAYOUT_BATCH_SCHEDULE="+farSchedule,
		"PASSD_REMINDERS_SCHEDULE="+farSchedule,
		// The convention's jobs too: the notify job's default (every five
		// minutes) once fired between a test's count of job runs and its
		// SIGTERM, and the test took it for a run started after the signal.
		"PASSD_REFERRAL_NOTIFY_SCHEDULE="+farSchedule,
		"PASSD_REFERRAL_RETENTION_SCHEDULE="+farSchedule,
	)
	cmd.Env = append(cmd.Env, env...)
	p := &passdProcess{t: t, name: name, cmd: cmd, addr: addr, base: "http://" + addr, exited: make(chan struct{})}
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
	}()
	go func() {
		<-logged // Wait must not close the pipe before everything is read.
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		if !p.hasExited() {
			_ = cmd.Process.Kill()
		}
		<-p.exited
		if races := p.logLines("WARNING: DATA RACE"); len(races) > 0 {
			t.Errorf("%s: the race detector found %d race(s)", name, len(races))
		}
		if t.Failed() {
			p.dumpLog(40)
		}
	})
	p.waitReady(30 * time.Second)
	return p
}

// passdEnviron is our environment without any passd setting, so that the
// developer's own do not leak into a test.
func passdEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PASSD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (p *passdProcess) waitReady(within time.Duration) {
	p.t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if p.hasExited() {
			p.dumpLog(40)
			p.t.Fatalf("%s exited before it was ready: %v", p.name, p.state)
		}
		if time.Now().After(deadline) {
			p.dumpLog(40)
			p.t.Fatalf("%s not ready after %s: %v", p.name, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *passdProcess) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *passdProcess) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *passdProcess) kill() {
	p.t.Helper()
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// wait waits for the process to exit and returns its exit code; it fails
// the test if that takes longer than within.
func (p *passdProcess) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.state.ExitCode()
	case <-time.After(within):
		p.dumpLog(40)
		p.t.Fatalf("%s still running %s after it was told to stop", p.name, within)
		return -1
	}
}

// stop sends SIGTERM and expects a clean exit (status 0).
func (p *passdProcess) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.wait(30 * time.Second); code != 0 {
		p.dumpLog(40)
		p.t.Errorf("%s exited with status %d after SIGTERM, want 0", p.name, code)
	}
}

// logLines returns the lines of the process's log that contain substr.
func (p *passdProcess) logLines(substr string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.lines {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// waitLog waits until the log has a line containing substr.
func (p *passdProcess) waitLog(substr string, within time.Duration) {
	p.t.Helper()
	for deadline := time.Now().Add(within); len(p.logLines(substr)) == 0; {
		if time.Now().After(deadline) {
			p.dumpLog(40)
			p.t.Fatalf("%s never logged %q", p.name, substr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *passdProcess) dumpLog(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	from := max(0, len(p.lines)-n)
	p.t.Logf("%s: last %d log lines:\n%s", p.name, len(p.lines)-from, strings.Join(p.lines[from:], "\n"))
}

// answer is one HTTP exchange with a process.
type answer struct {
	status  int
	body    []byte
	latency time.Duration
	err     error // no answer at all
}

// send sends one request. headers are name, value pairs.
func (p *passdProcess) send(client *http.Client, method, path, token, body string, headers ...string) answer {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		checkProcessAnswer(p.t, req, resp, b)
	}
	return answer{status: resp.StatusCode, body: b, latency: time.Since(start), err: err}
}

// contractRouter finds, for a request sent to a passd process, the route
// of the contract it matches, as the in-process tests learn it from Echo.
var contractRouter = sync.OnceValues(func() (*echo.Echo, error) {
	spec, err := openapi.Load(roleNames())
	if err != nil {
		return nil, err
	}
	e := echo.New()
	for _, o := range spec.Operations() {
		e.Add(o.Method, o.EchoPath, func(echo.Context) error { return nil })
	}
	return e, nil
})

// checkProcessAnswer checks an answer of a passd process against the
// contract, as checkContract does for the in-process tests: the fault
// tests' 503s and 201s are held to the same documents.
func checkProcessAnswer(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	e, err := contractRouter()
	if err != nil {
		t.Errorf("contract: %v", err)
		return
	}
	spec, err := openapi.Load(roleNames())
	if err != nil {
		t.Errorf("contract: %v", err)
		return
	}
	c := e.NewContext(req, nil)
	e.Router().Find(req.Method, echo.GetPath(req), c)
	params := map[string]string{}
	for i, name := range c.ParamNames() {
		params[name] = c.ParamValues()[i]
	}
	if err := spec.CheckResponse(req, c.Path(), params, resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("%s %s: the answer breaks the API contract: %v\n%s", req.Method, req.URL, err, body)
	}
}

// ---- seeding, set-based ----

// seeder writes test data straight into a database: what the API would
// have stored, minus the audit of its creation, which no check reads.
type seeder struct {
	t     *testing.T
	pool  *pgxpool.Pool
	users *auth.Store
	next  int // for unique RPPS numbers and file numbers
}

func newSeeder(t *testing.T, pool *pgxpool.Pool) *seeder {
	return &seeder{t: t, pool: pool, users: auth.NewStore(db.NewPool(pool).Bind(dbtest.Convention))}
}

// provider inserts a provider of kind and returns its id.
func (s *seeder) provider(kind string) int64 {
	s.t.Helper()
	s.next++
	var id int64
	err := s.pool.QueryRow(context.Background(), `INSERT INTO providers (kind, name, rpps, iban, bic)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		kind, fmt.Sprintf("Cabinet %d", s.next), fmt.Sprintf("%011d", 10000000000+s.next), validIBAN, validBIC).Scan(&id)
	if err != nil {
		s.t.Fatalf("seed provider: %v", err)
	}
	// Its bank details confirmed, as the operator's CLI records them.
	if _, err := s.pool.Exec(context.Background(), `
		WITH c AS (INSERT INTO bank_detail_changes (provider_id, name, iban, bic, requested_at, status, decided_at)
		           SELECT id, name, iban, bic, now(), 'confirmed', now() FROM providers WHERE id = $1 RETURNING id)
		UPDATE providers SET bank_change_id = (SELECT id FROM c) WHERE id = $1`, id); err != nil {
		s.t.Fatalf("seed provider's bank details: %v", err)
	}
	return id
}

// confirmRegie confirms, with a finance token, the change of the régie's
// account a PUT /settings answer says waits.
func confirmRegie(t *testing.T, base, finance string, put map[string]any) {
	t.Helper()
	change, ok := put["pending_regie_change"].(map[string]any)
	if !ok {
		return
	}
	e2eAPI(t, base, finance, http.StatusOK, "POST", "/api/v1/bank-changes/"+fmt.Sprint(change["id"])+"/confirm", nil)
}

// user creates a user as `passd token create` does and returns its token.
func (s *seeder) user(name string, role auth.Role, providerID int64) string {
	s.t.Helper()
	token, err := s.users.CreateUser(context.Background(), name, role, providerID)
	if err != nil {
		s.t.Fatalf("seed user %s: %v", name, err)
	}
	return token
}

// userID returns the id of the user called name.
func (s *seeder) userID(name string) int64 {
	s.t.Helper()
	var id int64
	if err := s.pool.QueryRow(context.Background(), `SELECT id FROM users WHERE name = $1`, name).Scan(&id); err != nil {
		s.t.Fatalf("seed: user %s: %v", name, err)
	}
	return id
}

// seededPatient is a patient file, its rights requested.
type seededPatient struct {
	id         int64
	fileNumber string
	birthDate  string // YYYY-MM-DD, which an invoice names beside the file number
}

// patients opens n patient files and records their AME rights
// application, through the store, since identity is sealed under the key
// the passd processes of the test are given (testDataKey).
func (s *seeder) patients(n int) []seededPatient {
	s.t.Helper()
	ctx := context.Background()
	ring, err := keyring.Parse(testDataKey())
	if err != nil {
		s.t.Fatalf("seed patients: %v", err)
	}
	files := claims.NewStore(db.NewPool(s.pool).Bind(dbtest.Convention), ring, time.Now)
	s.user("seeder coordinator", auth.Coordinator, 0)
	actor := audit.Actor{UserID: s.userID("seeder coordinator"), Name: "seeder coordinator"}
	out := make([]seededPatient, 0, n)
	for i := range n {
		p, err := files.CreatePatient(ctx, actor, claims.NewPatient{LastName: "Patient", FirstName: fmt.Sprintf("Test %d", i),
			BirthDate: calendar.NewDate(1980, time.January, 1)})
		if err != nil {
			s.t.Fatalf("seed patients: %v", err)
		}
		if _, err := files.RequestRights(ctx, actor, p.ID, claims.RightsRequest{Regime: "ame", FiledOn: seededFiledOn()}); err != nil {
			s.t.Fatalf("seed patients: rights request: %v", err)
		}
		out = append(out, seededPatient{id: p.ID, fileNumber: p.FileNumber, birthDate: p.BirthDate.String()})
	}
	return out
}

// seededFiledOn is the filing date of the seeded patients' applications:
// 30 days ago, so that an AME period answering it may start up to 60 days
// ago (the look-back).
func seededFiledOn() calendar.Date { return calendar.Today(time.Now()).AddDays(-30) }

// seededAMEEnd is the last day an AME period answering them may cover.
func seededAMEEnd() string { return seededFiledOn().AddYears(1).AddDays(-1).String() }

// testDataKey is the keyring every passd process of this test binary is
// given, so that the seeder and the processes read the same identity.
var testDataKey = sync.OnceValue(func() string {
	text, err := keyring.Generate(time.Now())
	if err != nil {
		panic(fmt.Sprintf("keyring: %v", err))
	}
	return text
})

// invoices inserts n pending invoices of 30.00 (one line) per patient,
// cared for careDaysAgo days before today in Paris, with the deadline
// deadlineDays after the care date; it returns their ids.
func (s *seeder) invoices(providerID, createdBy int64, patientIDs []int64, n, careDaysAgo, deadlineDays int) []int64 {
	s.t.Helper()
	s.next++
	rows, err := s.pool.Query(context.Background(), `
		WITH today AS (SELECT (now() AT TIME ZONE 'Europe/Paris')::date AS d),
		ins AS (
			INSERT INTO invoices (provider_id, patient_id, external_ref, care_date, deadline, total, created_by)
			SELECT $1, p.id, 'seed-' || $6::int || '-' || p.id || '-' || g, today.d - $4::int, today.d - $4::int + $5::int, 30.00, $2
			FROM unnest($3::bigint[]) AS p (id), generate_series(1, $7::int) g, today
			RETURNING id, total),
		lines AS (
			INSERT INTO invoice_lines (invoice_id, position, code, label, quantity, unit_price, rate_class)
			SELECT id, 1, 'G', 'Consultation', 1, total, (SELECT kind FROM providers WHERE id = $1) FROM ins)
		SELECT id FROM ins ORDER BY id`,
		providerID, createdBy, patientIDs, careDaysAgo, deadlineDays, s.next, n)
	if err != nil {
		s.t.Fatalf("seed invoices: %v", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			s.t.Fatalf("seed invoices: %v", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		s.t.Fatalf("seed invoices: %v", err)
	}
	return ids
}

// scalar runs a query returning one number.
func scalar(t *testing.T, pool db.DBTX, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return n
}

// passdCheck runs `passd check` on the database and fails the test unless
// every invariant holds (exit status 0).
func passdCheck(t *testing.T, databaseURL string) {
	t.Helper()
	cmd := exec.Command(passdtest.Binary(t), "check")
	cmd.Env = append(passdEnviron(), "DATABASE_URL="+databaseURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("passd check: %v\n%s", err, out)
	}
}

// waitStartupRuns waits until every job's start-up run has finished (each
// job runs once, one after another, when passd serve starts: see
// scheduler.Start), so that what a test seeds next is left for the runs the
// test itself triggers. /readyz answers before those runs end.
func (p *passdProcess) waitStartupRuns(pool db.DBTX) {
	p.t.Helper()
	jobs := []string{"release", "deadline", "claim-batch", "payout-batch", "reminders"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var finished int
		if err := pool.QueryRow(context.Background(), `SELECT count(DISTINCT name) FROM job_runs
			WHERE trigger = 'startup' AND finished_at IS NOT NULL AND name = ANY($1)`, jobs).Scan(&finished); err != nil {
			p.t.Fatal(err)
		}
		if finished == len(jobs) {
			return
		}
		if p.hasExited() || time.Now().After(deadline) {
			p.dumpLog(40)
			p.t.Fatalf("%s: %d of the %d start-up runs finished", p.name, finished, len(jobs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// convention inserts a CCAS and an SOS Médecins association bound by a
// convention, each with a referent, and returns the two organisations'
// ids (for the social worker's and the doctor's users).
func (s *seeder) convention() (ccas, association int64) {
	s.t.Helper()
	ctx := context.Background()
	s.next++
	err := s.pool.QueryRow(ctx, `
		WITH c AS (INSERT INTO organisations (kind, name) VALUES ('ccas', 'CCAS ' || $1) RETURNING id),
		     a AS (INSERT INTO organisations (kind, name) VALUES ('sos_medecins', 'SOS Médecins ' || $1) RETURNING id),
		     cv AS (INSERT INTO conventions (ccas_id, association_id, signed_on) SELECT c.id, a.id, '2025-09-01' FROM c, a RETURNING id),
		     r AS (INSERT INTO convention_referents (convention_id, side, name, phone, email)
		           SELECT cv.id, v.side, v.name, '3624', v.email FROM cv,
		             (VALUES ('ccas', 'Sophie Lambert', 'ccas@ville.example'), ('sos_medecins', 'Dr Julien Morel', 'sos@sos.example')) AS v (side, name, email))
		SELECT c.id, a.id FROM c, a`, fmt.Sprint("seed ", s.next)).Scan(&ccas, &association)
	if err != nil {
		s.t.Fatalf("seed convention: %v", err)
	}
	return ccas, association
}
