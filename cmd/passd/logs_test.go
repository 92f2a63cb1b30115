package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"passd/web"
)

// logCapture keeps what passd logs, as the JSON lines main writes.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// logger logs everything, debug included, as main does in JSON.
func (l *logCapture) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// raw returns the lines as written.
func (l *logCapture) raw() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.buf.String()), "\n")
}

// lines decodes every line; each must be one JSON object.
func (l *logCapture) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, raw := range l.raw() {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("log line is not a JSON object: %v: %q", err, raw)
		}
		out = append(out, m)
	}
	return out
}

// withMsg returns the lines of message msg.
func (l *logCapture) withMsg(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range l.lines(t) {
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestEachRequestLogsOneLineWithItsRequestID: one line per request,
// whatever its fate, naming its route template, status, duration, size
// and who asked (role and user id, never a name), with the id echoed in
// X-Request-Id; lines logged for the request (a 5xx's cause, a panic, a
// manual job run) carry the same id.
func TestEachRequestLogsOneLineWithItsRequestID(t *testing.T) {
	t.Parallel()
	logs := &logCapture{}
	h := newHarnessLogging(t, logs.logger())
	h.app.echo.GET("/test-failure", func(echo.Context) error { return errors.New("test: the store broke") })
	h.app.echo.GET("/test-panic", func(echo.Context) error { panic("test: a bug") })
	var ids []string
	answered := func(rec *httptest.ResponseRecorder) string {
		t.Helper()
		id := rec.Header().Get("X-Request-Id")
		if !acceptableRequestID(id) {
			t.Fatalf("answer %d carries X-Request-Id %q", rec.Code, id)
		}
		ids = append(ids, id)
		return id
	}

	// An id from the client is kept when it is short and plain.
	if id := answered(h.doRaw(t, "GET", "/healthz", "", "", "X-Request-Id", "lb-7f3a.9_Z")); id != "lb-7f3a.9_Z" {
		t.Errorf("X-Request-Id %q, want the client's lb-7f3a.9_Z", id)
	}
	for _, bad := range []string{strings.Repeat("a", 65), "two words", "a\n{\"msg\":\"forged\"}", "é", "id;drop"} {
		if id := answered(h.doRaw(t, "GET", "/healthz", "", "", "X-Request-Id", bad)); id == bad {
			t.Errorf("X-Request-Id %q was kept", bad)
		}
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Add("X-Request-Id", "first")
	req.Header.Add("X-Request-Id", "second")
	rec := httptest.NewRecorder()
	h.app.echo.ServeHTTP(rec, req)
	if id := answered(rec); id == "first" || id == "second" {
		t.Errorf("with two X-Request-Id headers, the answer kept %q", id)
	}

	apiID := answered(h.doRaw(t, "GET", "/api/v1/invoices", h.admin, ""))
	b := h.browser()
	answered(b.do(t, "GET", "/connexion", nil))
	signIn := b.signIn(t, h.coordinator) // the sign-in page, then the form
	ids = append(ids, "sign-in page")    // its GET is not seen here
	answered(signIn)
	pageID := answered(b.do(t, "GET", "/coordination/dossiers", nil))

	failures := map[string]string{}
	for _, path := range []string{"/test-failure", "/test-panic"} {
		rec := httptest.NewRecorder()
		h.app.echo.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusInternalServerError {
			t.Fatalf("GET %s: %d, want 500", path, rec.Code)
		}
		failures[path] = answered(rec)
	}
	jobID := answered(h.doRaw(t, "POST", "/api/v1/jobs/release/run", h.admin, "", "X-Request-Id", "run-release-1"))

	lines := logs.withMsg(t, "request")
	if len(lines) != len(ids) {
		t.Errorf("%d request lines for %d requests", len(lines), len(ids))
	}
	byID := map[string]map[string]any{}
	for _, l := range lines {
		id, _ := l["request_id"].(string)
		if byID[id] != nil {
			t.Errorf("two request lines with request_id %q", id)
		}
		byID[id] = l
		for _, key := range []string{"time", "level", "method", "route", "status", "duration_ms", "bytes"} {
			if _, ok := l[key]; !ok {
				t.Errorf("request line without %s: %v", key, l)
			}
		}
		for _, key := range []string{"name", "path", "url", "uri", "query", "user", "authorization"} {
			if _, ok := l[key]; ok {
				t.Errorf("request line with %s: %v", key, l)
			}
		}
	}
	for _, id := range ids {
		if id != "sign-in page" && byID[id] == nil {
			t.Errorf("no request line for request %s", id)
		}
	}
	wantLine := func(what string, line map[string]any, want map[string]any) {
		t.Helper()
		for k, v := range want {
			if line == nil || line[k] != v {
				t.Errorf("%s: %s = %v, want %v (line %v)", what, k, line[k], v, line)
			}
		}
	}
	adminID := float64(h.principal(t, h.admin).UserID)
	coordinatorID := float64(h.principal(t, h.coordinator).UserID)
	wantLine("the API request", byID[apiID], map[string]any{"method": "GET", "route": "/api/v1/invoices", "status": float64(200),
		"role": "admin", "user_id": adminID})
	if n, _ := byID[apiID]["bytes"].(float64); n <= 0 {
		t.Errorf("the API request's line says %v bytes", byID[apiID]["bytes"])
	}
	wantLine("the page", byID[pageID], map[string]any{"method": "GET", "route": "/coordination/dossiers", "status": float64(200),
		"role": "coordinator", "user_id": coordinatorID})
	wantLine("the sign-in", byID[signIn.Header().Get("X-Request-Id")], map[string]any{"method": "POST", "route": "/connexion", "status": float64(303)})
	// (The test's routes came after the route table was read: unmatched.)
	wantLine("a failure", byID[failures["/test-failure"]], map[string]any{"status": float64(500), "level": "INFO"})
	wantLine("a panic", byID[failures["/test-panic"]], map[string]any{"status": float64(500), "level": "INFO"})

	// The lines about a request carry its id: a 5xx's cause (a panic's
	// too, after the panic's own line), a manual job run.
	for _, c := range []struct{ msg, id string }{
		{"request failed", failures["/test-failure"]}, {"request failed", failures["/test-panic"]},
		{"panic", failures["/test-panic"]}, {"job run", jobID},
	} {
		var n int
		for _, l := range logs.withMsg(t, c.msg) {
			if l["request_id"] == c.id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d %q lines with request_id %s, want 1: %v", n, c.msg, c.id, logs.withMsg(t, c.msg))
		}
	}
	for _, l := range logs.withMsg(t, "request failed") {
		if l["request_id"] == nil {
			t.Errorf("a 5xx's line without a request id: %v", l)
		}
	}
	wantLine("the job run", logs.withMsg(t, "job run")[0], map[string]any{"job": "release", "trigger": "manual", "rows": float64(0),
		"outcome": "ok", "level": "INFO"})
	if _, ok := logs.withMsg(t, "job run")[0]["duration_ms"]; !ok {
		t.Error("the job run's line has no duration")
	}
}

// principal looks a token's user up, as the API does.
func (h *harness) principal(t *testing.T, token string) (p struct{ UserID int64 }) {
	t.Helper()
	got, err := h.app.users.Authenticate(inConvention(t.Context()), token)
	if err != nil {
		t.Fatal(err)
	}
	p.UserID = got.UserID
	return p
}

// TestNoPatientIdentityOrTokenInAnyLogLine walks a realistic day through
// the API, the pages and a job, with identity and tokens everywhere a
// client may put them — bodies, query strings, wrong fields, headers,
// cookies — and finds none of them in any log line.
func TestNoPatientIdentityOrTokenInAnyLogLine(t *testing.T) {
	t.Parallel()
	logs := &logCapture{}
	h := newHarnessLogging(t, logs.logger())
	const last, first, born, bornFR = "Zephyrinovska", "Anastasiya", "1983-07-29", "29/07/1983"
	theNIR := nir("2830775123456")
	spacedNIR := theNIR[:1] + " " + theNIR[1:3] + " " + theNIR[3:5] + " " + theNIR[5:7] + " " + theNIR[7:10] + " " + theNIR[10:13] + " " + theNIR[13:]
	badToken := "passd_QmFkVG9rZW5UaGF0TXVzdE5vdEJlTG9nZ2VkQW55d2hlcmU"
	gp := h.newProvider(t, "Cabinet Vigie", "general_practitioner", "10000000001")

	// The API: a file with its NIR, read back, listed, looked for.
	created := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator,
		mustJSON(t, map[string]any{"last_name": last, "first_name": first, "birth_date": born, "nir": theNIR}))
	id, fileNumber := str(t, created, "id"), str(t, created, "file_number")
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+id, h.referent, "")
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients?file_number="+url.QueryEscape(fileNumber), h.coordinator, "")
	// Identity where it does not belong: refused, and not logged either.
	for _, c := range []struct{ method, path, token, body string }{
		{"POST", "/api/v1/patients", h.coordinator, mustJSON(t, map[string]any{"last_name": last, "first_name": first, "birth_date": bornFR, "nir": theNIR[:14] + "0"})},
		{"POST", "/api/v1/patients", h.coordinator, mustJSON(t, map[string]any{"last_name": last, "first_name": first, "birth_date": born, "nir": spacedNIR + " " + last})},
		{"POST", "/api/v1/patients", h.coordinator, mustJSON(t, map[string]any{"name": last + " " + first, "nir": theNIR})},
		{"POST", "/api/v1/patients", h.coordinator, `{"last_name": "` + last + `", "nir": ` + theNIR + `}`},
		{"GET", "/api/v1/patients?file_number=" + theNIR + "&nir=" + theNIR + "&q=" + url.QueryEscape(last), h.coordinator, ""},
		{"GET", "/api/v1/patients?rights_status=" + last, h.coordinator, ""},
		{"GET", "/api/v1/patients/" + theNIR, h.coordinator, ""},
		{"POST", "/api/v1/invoices", gp.token, invoiceBody(t, theNIR, "F-"+last, born)},
		{"GET", "/nowhere/" + last + "?nir=" + theNIR + "&token=" + h.admin, "", ""},
		{"GET", "/api/v1/invoices?token=" + h.admin, "", ""},
	} {
		// doRaw fails the test on a 5xx.
		h.do(t, c.method, c.path, c.token, c.body)
	}
	// Tokens that do not authenticate, in every spelling.
	for _, authorization := range []string{"Bearer " + badToken, "Bearer " + h.admin + "x", "Token " + h.admin, h.admin, "Bearer " + h.admin + " " + theNIR} {
		status, _ := h.do(t, "GET", "/api/v1/invoices", "", "", "Authorization", authorization)
		if status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", authorization, status)
		}
	}

	// Rights and an invoice, then the release job.
	h.requestRights(t, patientFixture{id: id, fileNumber: fileNumber}, "ame", "2026-06-01")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+id+"/rights-decision", h.referent,
		mustJSON(t, map[string]any{"decision": "opened", "regime": "ame", "effective_from": "2026-05-02", "effective_to": "2027-05-31", "reference": "AME-" + last}))
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", gp.token,
		withEdits(t, invoiceBody(t, fileNumber, "F-1", "2026-06-02"), set("birth_date", born)))
	h.runJob(t, "release")
	if _, err := h.app.scheduler.RunNow(inConvention(t.Context()), "reminders"); err != nil {
		t.Fatal(err)
	}

	// The pages: a wrong token, then the coordinator's search by NIR, the
	// file and its attestation; the referent's queue.
	b := h.browser()
	if rec := b.signIn(t, badToken); rec.Code == http.StatusSeeOther {
		t.Fatal("a bad token signed in")
	}
	b = mustSignIn(t, h, h.coordinator)
	found := b.search(t, http.StatusOK, spacedNIR)
	if !strings.Contains(found, fileNumber) {
		t.Fatalf("the search by NIR did not find the file:\n%s", found)
	}
	b.post(t, "/coordination/dossiers", "/coordination/dossiers", url.Values{"q": {last + " " + bornFR}})
	b.page(t, http.StatusOK, "/coordination/dossiers/"+id)
	b.page(t, http.StatusOK, "/coordination/dossiers/"+id+"/attestation")
	csrf := b.csrf(t, "/coordination/dossiers/nouveau")
	b.do(t, "POST", "/coordination/dossiers/nouveau", url.Values{"_csrf": {csrf}, "last_name": {last}, "first_name": {first},
		"birth_date": {bornFR}, "nir": {theNIR}})
	session := b.cookies[web.SessionCookie].Value
	referent := mustSignIn(t, h, h.referent)
	referent.page(t, http.StatusOK, "/cpam/dossiers")
	referent.page(t, http.StatusOK, "/cpam/dossiers/"+id)

	secrets := map[string]string{"last name": last, "first name": first, "birth date": born, "birth date (French)": bornFR,
		"NIR": theNIR, "NIR's body": theNIR[:13], "NIR spaced": spacedNIR, "the bad token": badToken, "the session": session,
		"NIR in a URL": url.QueryEscape(spacedNIR)}
	for name, token := range map[string]string{"admin": h.admin, "coordinator": h.coordinator, "referent": h.referent,
		"finance": h.finance, "provider": gp.token} {
		secrets[name+"'s token"] = token
		secrets[name+"'s token without its prefix"] = strings.TrimPrefix(token, "passd_")
	}
	raw := logs.raw()
	if n := len(logs.withMsg(t, "request")); n < 30 {
		t.Fatalf("only %d request lines: the walk did not go through passd", n)
	}
	if len(logs.withMsg(t, "job run")) != 2 {
		t.Errorf("job runs logged: %v", logs.withMsg(t, "job run"))
	}
	for _, line := range raw {
		for what, secret := range secrets {
			if strings.Contains(strings.ToLower(line), strings.ToLower(secret)) {
				t.Errorf("a log line carries %s (%q): %s", what, secret, line)
			}
		}
	}
}
