package main

// The harness drives passd through its real Echo stack (a.echo from newApp)
// with httptest, on a fresh database per test and a clock the test controls.
// Nothing here starts a listener or the schedules: jobs run by hand, through
// POST /api/v1/jobs/{name}/run or a.scheduler.RunNow.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"passd/db"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"passd/auth"
	"passd/calendar"
	"passd/db/dbtest"
	"passd/keyring/keyringtest"
)

// defaultNow is the harness clock unless a test moves it: a Monday noon in
// Paris, so "today" is 2026-06-15 whatever the machine's zone.
var defaultNow = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

const today = "2026-06-15"

// Identifiers that pass validation (checked by the ident package's rules).
const (
	validIBAN  = "FR7630006000011234567890189"
	validIBAN2 = "FR1830006000010000098765432"
	validBIC   = "AGRIFRPP"
)

type harness struct {
	app *app
	// pool is the app's pool bound to the database's one convention: what
	// a test reads or writes directly.
	pool  *db.Pool
	clock atomic.Int64 // unix nanoseconds

	// One user per non-provider role; provider users are made per provider.
	// checker is a second finance user: the other pair of eyes that
	// confirms bank details and approves batches finance prepared.
	admin, coordinator, referent, finance, checker string
}

// newHarness wires passd on a fresh database with the fixed clock and
// creates an admin, a coordinator, a CPAM referent and a finance user.
func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessLogging(t, testLogger(t))
}

// inConvention is ctx acting in the test database's one convention, for a
// test that calls a store of passd's directly (a request acts in its user's).
func inConvention(ctx context.Context) context.Context {
	return db.WithTenant(ctx, dbtest.Convention)
}

// newHarnessLogging is newHarness with passd's logs sent to logger.
func newHarnessLogging(t *testing.T, logger *slog.Logger) *harness {
	t.Helper()
	h := &harness{}
	h.clock.Store(defaultNow.UnixNano())
	cfg := Config{
		DatabaseURL:         dbtest.NewURL(t),
		Addr:                "127.0.0.1:0",
		DeadlineDays:        90,
		ReleaseSchedule:     "0 4 1 1 *",
		DeadlineSchedule:    "0 4 1 1 *",
		ClaimBatchSchedule:  "0 4 1 1 *",
		PayoutBatchSchedule: "0 4 1 1 *",
		RemindersSchedule:   "0 4 1 1 *",
		// Left to their defaults, the convention's jobs would fire on the
		// wall clock in the middle of a scenario.
		ReferralNotifySchedule:    "0 4 1 1 *",
		ReferralRetentionSchedule: "0 4 1 1 *",
		ShutdownTimeout:           5 * time.Second,
		DataKey:                   keyringtest.Text(t),
		MetricsToken:              testMetricsToken,
	}
	a, err := newApp(context.Background(), cfg, logger, h.now)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	// What a test reads or writes directly acts in the database's one
	// convention; passd's own pool is bound to none.
	h.pool = a.pool.Bind(dbtest.Convention)
	t.Cleanup(a.close)
	// Every scenario ends with the money invariants checked over its whole
	// database (cleanups run last-in first-out: before the pool closes).
	t.Cleanup(func() { h.checkInvariants(t) })
	h.app = a
	h.admin = h.user(t, "admin", auth.Admin, 0)
	h.coordinator = h.user(t, "coordinator", auth.Coordinator, 0)
	h.referent = h.user(t, "referent", auth.CPAMReferent, 0)
	h.finance = h.user(t, "finance", auth.Finance, 0)
	h.checker = h.user(t, "checker", auth.Finance, 0)
	return h
}

func (h *harness) now() time.Time { return time.Unix(0, h.clock.Load()).UTC() }

// setNow moves the clock every store and the scheduler read.
func (h *harness) setNow(t time.Time) { h.clock.Store(t.UnixNano()) }

// testLogger sends passd's warnings and errors to the test log, so that a
// 500 shows its cause next to the failure.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// user creates a user through the auth store (as `passd token create`
// does) and returns its token.
func (h *harness) user(t *testing.T, name string, role auth.Role, providerID int64) string {
	t.Helper()
	token, err := h.app.users.CreateUser(inConvention(context.Background()), name, role, providerID)
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return token
}

// ---- requests ----

// remoteAddrPseudoHeader, as a header name to doRaw, sets the client's address
// instead of a header (httptest's default is 192.0.2.1:1234). Failed
// authentications are throttled per address.
const remoteAddrPseudoHeader = ":remote-addr"

// doRaw sends one request through the real handler. headers are name,
// value pairs; a body gets Content-Type: application/json unless headers
// set one ("Content-Type", "" sends none).
func (h *harness) doRaw(t *testing.T, method, path, token, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	if len(headers)%2 != 0 {
		t.Fatalf("headers must be name, value pairs: %q", headers)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i < len(headers); i += 2 {
		if headers[i] == remoteAddrPseudoHeader {
			req.RemoteAddr = headers[i+1]
			continue
		}
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	h.app.echo.ServeHTTP(rec, req)
	// 503 says "retry later" and is an answer; any other 5xx is a bug.
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Errorf("%s %s: status %d (a server error is never an answer to a client's request): %s", method, path, rec.Code, rec.Body)
	}
	h.checkContract(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	return rec
}

// checkContract fails the test when an answer is not one the API contract
// (openapi/openapi.yaml) documents for its route: an undocumented status,
// another content type, or a body that does not match the schema.
func (h *harness) checkContract(t *testing.T, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	checkContract(t, h.app, req, status, header, body)
}

// checkContract checks one answer of app against its contract, finding the
// route as Echo does.
func checkContract(t *testing.T, a *app, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	c := a.echo.NewContext(req, nil)
	a.echo.Router().Find(req.Method, echo.GetPath(req), c)
	params := map[string]string{}
	for i, name := range c.ParamNames() {
		params[name] = c.ParamValues()[i]
	}
	if err := a.contract.CheckResponse(req, c.Path(), params, status, header, body); err != nil {
		t.Errorf("%s %s: the answer breaks the API contract: %v\n%s", req.Method, req.URL, err, body)
	}
}

// do sends a request and decodes the JSON object it answers. Every answer
// of passd, errors included, must be a JSON object.
func (h *harness) do(t *testing.T, method, path, token, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	rec := h.doRaw(t, method, path, token, body, headers...)
	return rec.Code, decodeObject(t, method+" "+path, rec)
}

func decodeObject(t *testing.T, what string, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json (status %d, body %s)", what, ct, rec.Code, rec.Body)
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s: status %d, body is not a JSON object: %v: %q", what, rec.Code, err, rec.Body)
	}
	return out
}

// mustDo is do that fails the test unless the status is want.
func (h *harness) mustDo(t *testing.T, want int, method, path, token, body string, headers ...string) map[string]any {
	t.Helper()
	status, got := h.do(t, method, path, token, body, headers...)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, got)
	}
	return got
}

// wantError checks an error answer: its status, its code and its field
// ("" = no field member at all).
func wantError(t *testing.T, what string, status int, body map[string]any, wantStatus int, wantCode, wantField string) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Errorf("%s: status %d, body %v has no error object", what, status, body)
		return
	}
	field, hasField := e["field"]
	if status != wantStatus || e["code"] != wantCode || (wantField == "" && hasField) || (wantField != "" && field != wantField) {
		t.Errorf("%s: got %d code=%v field=%v (%v), want %d code=%s field=%q", what, status, e["code"], field, e["message"], wantStatus, wantCode, wantField)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("%s: error without a message: %v", what, body)
	}
}

// errorField returns error.field of an error answer ("" when absent).
func errorField(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// items returns the items of a list answer.
func items(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["items"].([]any)
	if !ok {
		t.Fatalf("list answer without an items array: %v", body)
	}
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		if out[i], ok = it.(map[string]any); !ok {
			t.Fatalf("item %d is not an object: %v", i, it)
		}
	}
	return out
}

// ids returns the "id" of each item.
func ids(t *testing.T, body map[string]any) []string {
	t.Helper()
	var out []string
	for _, it := range items(t, body) {
		out = append(out, str(t, it, "id"))
	}
	return out
}

// str returns a string member of an object.
func str(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("member %q is %T %v, want a string, in %v", key, m[key], m[key], m)
	}
	return s
}

// mustJSON marshals v for a request body.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// ---- state ----

// stateTables are every table a request may write. Each is summarised by
// its row count and a digest of its rows, so that "nothing was stored"
// covers updates as well as inserts. tokens is counted only: every
// authenticated request stamps last_used_at.
var stateTables = []string{
	"providers", "users", "patients", "rights_events", "file_number_counters", "invoices", "invoice_lines",
	"claims", "payouts", "audit_log", "job_runs", "idempotency_keys", "rates", "acts", "drugs", "tariff_state",
	"settings", "claim_batches", "payout_batches", "journal_entries", "reminders", "patient_access_log", "patients_unsealed",
	"organisations", "conventions", "convention_referents", "referral_cases", "referral_events", "referral_access_log", "referral_outbox",
}

type state map[string]string

func (h *harness) state(t *testing.T) state {
	t.Helper()
	ctx := context.Background()
	out := state{}
	for _, table := range stateTables {
		var n int64
		var digest string
		err := h.pool.QueryRow(ctx, fmt.Sprintf(
			`SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, table)).Scan(&n, &digest)
		if err != nil {
			t.Fatalf("state of %s: %v", table, err)
		}
		out[table] = fmt.Sprintf("%d rows %s", n, digest)
	}
	out["tokens"] = fmt.Sprint(h.count(t, "tokens"))
	return out
}

// assertUnchanged fails when any table differs from before.
func (h *harness) assertUnchanged(t *testing.T, what string, before state) {
	t.Helper()
	after := h.state(t)
	for table, b := range before {
		if after[table] != b {
			t.Errorf("%s: table %s changed (%s -> %s): a rejected request must store nothing", what, table, b, after[table])
		}
	}
}

// count returns the number of rows of a table, optionally filtered.
func (h *harness) count(t *testing.T, table string, where ...string) int64 {
	t.Helper()
	q := "SELECT count(*) FROM " + table
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	var n int64
	if err := h.pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// ---- fixtures, all through the API ----

// providerFixture is a provider created by the admin, with one user.
type providerFixture struct {
	id    string
	token string
}

// newProvider creates a provider of kind through POST /providers (with a
// distinct RPPS per name) and a provider user bound to it.
func (h *harness) newProvider(t *testing.T, name, kind, rpps string) providerFixture {
	t.Helper()
	body := mustJSON(t, map[string]any{"kind": kind, "name": name, "rpps": rpps, "iban": validIBAN, "bic": validBIC})
	got := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/providers", h.admin, body)
	id := str(t, got, "id")
	h.confirmBank(t, got["pending_bank_change"])
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil {
		t.Fatalf("provider id %q: %v", id, err)
	}
	return providerFixture{id: id, token: h.user(t, "user-of-"+name, auth.Provider, n)}
}

// confirmBank confirms, as h.checker, the change of bank details an
// answer says waits (pending_bank_change, pending_regie_change).
func (h *harness) confirmBank(t *testing.T, pending any) map[string]any {
	t.Helper()
	change, ok := pending.(map[string]any)
	if !ok {
		t.Fatalf("no change of bank details waits: %v", pending)
	}
	return h.mustDo(t, http.StatusOK, "POST", "/api/v1/bank-changes/"+str(t, change, "id")+"/confirm", h.checker, "")
}

// patientFixture is a patient file opened by the coordinator.
type patientFixture struct {
	id, fileNumber string
}

// testBirthDate is the birth date of every file newPatient opens, which
// invoiceBody names beside the file number (the PASS attestation's two).
const testBirthDate = "1990-04-12"

func (h *harness) newPatient(t *testing.T, lastName string) patientFixture {
	t.Helper()
	got := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator,
		mustJSON(t, map[string]any{"last_name": lastName, "first_name": "Test", "birth_date": testBirthDate}))
	return patientFixture{id: str(t, got, "id"), fileNumber: str(t, got, "file_number")}
}

// requestRights records the coordinator's application.
func (h *harness) requestRights(t *testing.T, p patientFixture, regime, filedOn string) {
	t.Helper()
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-request", h.coordinator,
		mustJSON(t, map[string]any{"regime": regime, "filed_on": filedOn}))
}

// applied records an application filed on filedOn (today at the latest)
// when the file has none: a decision answers one.
func (h *harness) applied(t *testing.T, p patientFixture, regime, filedOn string) {
	t.Helper()
	file := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+p.id, h.referent, "")
	if rights, _ := file["rights"].(map[string]any); rights["filed_on"] != nil {
		return
	}
	if today := calendar.Today(h.now()).String(); filedOn > today {
		filedOn = today
	}
	h.requestRights(t, p, regime, filedOn)
}

// openRights records the referent's opening decision, and the application
// it answers if the file has none.
// A CSS or AME period lasts a year (from the filing, for AME; the filing
// is then the period's start).
func (h *harness) openRights(t *testing.T, p patientFixture, regime, from string) {
	t.Helper()
	h.applied(t, p, regime, from)
	body := map[string]any{"decision": "opened", "regime": regime, "effective_from": from, "reference": "REF-" + p.id}
	if regime != "puma" {
		start, err := calendar.Parse(from)
		if err != nil {
			t.Fatal(err)
		}
		body["effective_to"] = start.AddYears(1).AddDays(-1).String()
	}
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, mustJSON(t, body))
}

// refuseRights records the referent's refusal.
func (h *harness) refuseRights(t *testing.T, p patientFixture) {
	t.Helper()
	h.applied(t, p, "puma", calendar.Today(h.now()).String())
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent,
		mustJSON(t, map[string]any{"decision": "refused", "reason": "résidence non établie"}))
}

// latestDecision is the id of the file's latest rights decision.
func latestDecision(t *testing.T, h *harness, p patientFixture) string {
	t.Helper()
	decisions, _ := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+p.id, h.coordinator, "")["rights_decisions"].([]any)
	if len(decisions) == 0 {
		t.Fatalf("file %s has no rights decision", p.id)
	}
	return decisions[len(decisions)-1].(map[string]any)["id"].(string)
}

// line is one invoice line of a request; price is sent as a JSON string.
type line struct {
	code, price string
	quantity    int
}

// invoiceBody is a valid POST /invoices body for a file newPatient opened.
func invoiceBody(t *testing.T, fileNumber, ref, careDate string, lines ...line) string {
	t.Helper()
	if len(lines) == 0 {
		lines = []line{{"G", "30.00", 1}}
	}
	ls := make([]map[string]any, len(lines))
	for i, l := range lines {
		ls[i] = map[string]any{"code": l.code, "label": "Acte " + l.code, "quantity": l.quantity, "unit_price": l.price}
	}
	return mustJSON(t, map[string]any{"patient_file_number": fileNumber, "birth_date": testBirthDate, "external_ref": ref, "care_date": careDate,
		"lines": ls})
}

// submit posts an invoice as the provider and returns the created invoice.
func (h *harness) submit(t *testing.T, pr providerFixture, p patientFixture, ref, careDate string, lines ...line) map[string]any {
	t.Helper()
	return h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, ref, careDate, lines...))
}

// runJob runs a job by hand as the admin and returns its run record.
func (h *harness) runJob(t *testing.T, name string) map[string]any {
	t.Helper()
	run := h.mustDo(t, http.StatusOK, "POST", "/api/v1/jobs/"+name+"/run", h.admin, "")
	if run["error"] != nil {
		t.Fatalf("job %s failed: %v", name, run["error"])
	}
	return run
}
