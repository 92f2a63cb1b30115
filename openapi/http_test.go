package openapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"passd/api"
	"passd/httpapi"
)

var roles = []string{"provider", "coordinator", "cpam_referent", "finance", "admin", "observer", "social_worker", "doctor", "platform_admin"}

// guarded is an Echo app with the guard on /api/v1 and stub handlers that
// record what reached them. The caller's role is the X-Role header.
type guarded struct {
	echo    *echo.Echo
	reached atomic.Int64
	body    atomic.Value // the body the last handler read
}

func newGuarded(t *testing.T, spec *Spec) *guarded {
	t.Helper()
	g := &guarded{echo: echo.New()}
	g.echo.HTTPErrorHandler = httpapi.ErrorHandler(slog.New(slog.NewTextHandler(io.Discard, nil)))
	stub := func(c echo.Context) error {
		g.reached.Add(1)
		body, err := httpapi.ReadBody(c)
		if err != nil {
			return err
		}
		g.body.Store(string(body))
		return c.JSON(http.StatusOK, map[string]string{"ok": "yes"})
	}
	v1 := g.echo.Group("/api/v1", Guard(spec, func(c echo.Context) string { return c.Request().Header.Get("X-Role") }))
	v1.POST("/invoices", stub)
	v1.GET("/invoices", stub)
	v1.GET("/invoices/:id", stub)
	v1.POST("/invoices/:id/cancel", stub)
	v1.POST("/jobs/:name/run", stub)
	v1.POST("/claim-batches/:id/returns", stub)
	v1.POST("/payout-batches/:id/approve", stub)
	v1.PUT("/acts/:code", stub)
	v1.GET("/reports/budget", stub)
	v1.GET("/not-in-the-contract", stub)
	return g
}

// send returns the status and the error object of the answer (nil on 200).
func (g *guarded) send(t *testing.T, role, method, path, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("X-Role", role)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	g.echo.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		return rec.Code, nil
	}
	var out struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error == nil {
		t.Fatalf("%s %s: status %d, not an error document: %s", method, path, rec.Code, rec.Body)
	}
	return rec.Code, out.Error
}

func loadSpec(t *testing.T) *Spec {
	t.Helper()
	spec, err := Load(roles)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

const validInvoice = `{"patient_file_number":"PASS-2026-000001","birth_date":"1990-04-12","external_ref":"F-1","care_date":"2026-06-01",` +
	`"lines":[{"code":"G","label":"Consultation","quantity":1,"unit_price":"30.00"},{"code":"C","label":"Acte","quantity":2,"unit_price":"25.00"}]}`

func TestGuardLetsOnlyTheContractsRolesThrough(t *testing.T) {
	t.Parallel()
	g := newGuarded(t, loadSpec(t))
	status, _ := g.send(t, "provider", "POST", "/api/v1/invoices", validInvoice)
	if status != http.StatusOK || g.reached.Load() != 1 {
		t.Fatalf("a provider's valid invoice: status %d, handler reached %d times", status, g.reached.Load())
	}
	if got := g.body.Load(); got != validInvoice {
		t.Errorf("the handler read %q, want the body as sent", got)
	}
	for _, c := range []struct{ name, role, method, path string }{
		{"a role not in x-roles", "coordinator", "POST", "/api/v1/invoices"},
		{"no role at all", "", "GET", "/api/v1/invoices"},
		{"a role that does not exist", "root", "GET", "/api/v1/invoices"},
		{"a route missing from the contract", "admin", "GET", "/api/v1/not-in-the-contract"},
	} {
		status, e := g.send(t, c.role, c.method, c.path, "")
		if status != http.StatusForbidden || e["code"] != "forbidden" {
			t.Errorf("%s: %d %v, want 403 forbidden", c.name, status, e)
		}
	}
	status, e := g.send(t, "admin", "GET", "/api/v1/nowhere", "")
	if status != http.StatusNotFound || e["code"] != "not_found" {
		t.Errorf("an unknown path: %d %v, want 404 not_found", status, e)
	}
	if n := g.reached.Load(); n != 1 {
		t.Errorf("refused requests reached a handler: %d calls in all, want 1", n)
	}
}

func TestGuardRefusesAnOperationWithoutRoles(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(string(document), "      x-roles: [provider, coordinator, finance, admin]\n      parameters:\n        - name: status",
		"      parameters:\n        - name: status", 1)
	spec, err := Parse([]byte(doc), roles)
	if err != nil {
		t.Fatal(err)
	}
	if op, _ := spec.Operation("GET", "/api/v1/invoices"); op == nil || len(op.Roles) != 0 {
		t.Fatalf("the edited document still gives GET /api/v1/invoices roles: %+v", op)
	}
	g := newGuarded(t, spec)
	for _, role := range roles {
		if status, e := g.send(t, role, "GET", "/api/v1/invoices", ""); status != http.StatusForbidden || e["code"] != "forbidden" {
			t.Errorf("%s on an operation without x-roles: %d %v, want 403", role, status, e)
		}
	}
	if g.reached.Load() != 0 {
		t.Error("an operation without x-roles reached its handler")
	}
}

func TestParseRefusesMisspeltRoles(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string][2]string{
		"unknown role":          {"x-roles: [admin]\n      requestBody", "x-roles: [admn]\n      requestBody"},
		"role twice":            {"x-roles: [admin, finance]", "x-roles: [admin, admin]"},
		"not a list":            {"x-roles: [admin]\n      requestBody", "x-roles: admin\n      requestBody"},
		"roles on public route": {"operationId: getHealth\n", "operationId: getHealth\n      x-roles: [admin]\n"},
	} {
		doc := strings.Replace(string(document), edit[0], edit[1], 1)
		if doc == string(document) {
			t.Fatalf("%s: the edit does not apply", name)
		}
		if _, err := Parse([]byte(doc), roles); err == nil {
			t.Errorf("%s: Parse accepted the document", name)
		}
	}
}

// TestGuardAnswersAsTheHandlersDo sends requests the contract refuses: each
// gets the status, code and field the handlers answer, and none reaches a
// handler.
func TestGuardAnswersAsTheHandlersDo(t *testing.T) {
	t.Parallel()
	g := newGuarded(t, loadSpec(t))
	swap := func(old, new string) string {
		if !strings.Contains(validInvoice, old) {
			t.Fatalf("%q is not in the valid invoice", old)
		}
		return strings.Replace(validInvoice, old, new, 1)
	}
	cases := []struct {
		name, role, method, path, body string
		headers                        []string
		status                         int
		code, field                    string
	}{
		{"malformed JSON", "provider", "POST", "/api/v1/invoices", `{"a":`, nil, 400, "malformed_json", ""},
		{"empty body", "provider", "POST", "/api/v1/invoices", "", nil, 400, "malformed_json", ""},
		{"an array", "provider", "POST", "/api/v1/invoices", "[" + validInvoice + "]", nil, 400, "malformed_json", ""},
		{"trailing data", "provider", "POST", "/api/v1/invoices", validInvoice + "x", nil, 400, "malformed_json", ""},
		{"invalid UTF-8", "provider", "POST", "/api/v1/invoices", swap(`"F-1"`, "\"F-\xff\""), nil, 400, "malformed_json", ""},
		{"a key twice", "provider", "POST", "/api/v1/invoices", swap(`"code":"C"`, `"code":"C","code":"D"`), nil, 400, "duplicate_field", "lines[1].code"},
		{"text/plain", "provider", "POST", "/api/v1/invoices", validInvoice, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"garbled content type", "provider", "POST", "/api/v1/invoices", validInvoice, []string{"Content-Type", ";;"}, 415, "unsupported_media_type", ""},
		{"over 1 MiB", "provider", "POST", "/api/v1/invoices", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 413, "body_too_large", ""},
		{"unknown member", "provider", "POST", "/api/v1/invoices", swap(`{`, `{"provider_id":"2",`), nil, 422, "unknown_field", "provider_id"},
		{"unknown member in a line", "provider", "POST", "/api/v1/invoices", swap(`"code":"C"`, `"code":"C","vat":"0"`), nil, 422, "unknown_field", "lines[1].vat"},
		{"a number for an amount", "provider", "POST", "/api/v1/invoices", swap(`"25.00"`, `25.00`), nil, 422, "invalid", "lines[1].unit_price"},
		{"a decimal comma", "provider", "POST", "/api/v1/invoices", swap(`"25.00"`, `"25,00"`), nil, 422, "invalid", "lines[1].unit_price"},
		{"three decimals", "provider", "POST", "/api/v1/invoices", swap(`"25.00"`, `"25.001"`), nil, 422, "invalid", "lines[1].unit_price"},
		{"a missing member", "provider", "POST", "/api/v1/invoices", swap(`"label":"Acte",`, ``), nil, 422, "invalid", "lines[1].label"},
		{"null for a string", "provider", "POST", "/api/v1/invoices", swap(`"F-1"`, `null`), nil, 422, "invalid", "external_ref"},
		{"a line that is not an object", "provider", "POST", "/api/v1/invoices", swap(`]}`, `,7]}`), nil, 422, "invalid", "lines[2]"},
		{"no lines", "provider", "POST", "/api/v1/invoices", `{"patient_file_number":"P","birth_date":"1990-04-12","external_ref":"R","care_date":"2026-06-01","lines":[]}`, nil, 422, "invalid", "lines"},
		{"a quantity of 1000", "provider", "POST", "/api/v1/invoices", swap(`"quantity":2`, `"quantity":1000`), nil, 422, "invalid", "lines[1].quantity"},
		{"a date in French", "provider", "POST", "/api/v1/invoices", swap(`"2026-06-01"`, `"01/06/2026"`), nil, 422, "invalid", "care_date"},
		{"Idempotency-Key too long", "provider", "POST", "/api/v1/invoices", validInvoice, []string{"Idempotency-Key", strings.Repeat("k", 201)}, 422, "invalid", "Idempotency-Key"},

		// Of several faults, the one a handler checking in order meets first.
		{"unknown member before missing ones", "provider", "POST", "/api/v1/invoices", `{"zzz":1}`, nil, 422, "unknown_field", "zzz"},
		{"the first required member first", "provider", "POST", "/api/v1/invoices", `{}`, nil, 422, "invalid", "patient_file_number"},
		{"members in the required order", "provider", "POST", "/api/v1/invoices", swap(`"F-1"`, `7`), nil, 422, "invalid", "external_ref"},
		{"the first line first", "provider", "POST", "/api/v1/invoices",
			strings.Replace(swap(`"30.00"`, `"x"`), `"code":"C",`, ``, 1), nil, 422, "invalid", "lines[0].unit_price"},
		{"a bad body before a bad header", "provider", "POST", "/api/v1/invoices", swap(`"F-1"`, `7`), []string{"Idempotency-Key", " "}, 422, "invalid", "external_ref"},
		{"framing before the header", "provider", "POST", "/api/v1/invoices", `{`, []string{"Idempotency-Key", " "}, 400, "malformed_json", ""},

		{"a path id that is no id", "provider", "GET", "/api/v1/invoices/0x1", "", nil, 404, "not_found", ""},
		{"a path id before a bad body", "coordinator", "POST", "/api/v1/invoices/abc/cancel", `{`, nil, 404, "not_found", ""},
		{"an unknown job", "admin", "POST", "/api/v1/jobs/nope/run", "", nil, 404, "not_found", ""},
		{"a bad status filter", "coordinator", "GET", "/api/v1/invoices?status=lost", "", nil, 422, "invalid", "status"},
		{"a limit of 0", "coordinator", "GET", "/api/v1/invoices?limit=0", "", nil, 422, "invalid", "limit"},
		{"a limit that is no number", "coordinator", "GET", "/api/v1/invoices?limit=abc", "", nil, 422, "invalid", "limit"},
		{"a year far away", "admin", "GET", "/api/v1/reports/budget?year=99999", "", nil, 422, "invalid", "year"},
		{"a member in an empty body", "coordinator", "POST", "/api/v1/invoices/1/cancel", `{"by":"x"}`, nil, 422, "unknown_field", "by"},
		{"a string for a boolean", "admin", "PUT", "/api/v1/acts/IK", `{"label":"IK","provider_kinds":["nurse"],"dispensing_fee":"yes"}`, nil, 422, "invalid", "dispensing_fee"},
		{"a body where none is taken", "finance", "POST", "/api/v1/payout-batches/1/approve", `{"override":true}`, nil, 422, "unknown_field", "override"},
		{"a return as text", "cpam_referent", "POST", "/api/v1/claim-batches/1/returns", "claim_id,outcome\n1,paid",
			[]string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", "content_type"},
		{"a return without content type", "cpam_referent", "POST", "/api/v1/claim-batches/1/returns", `{"lines":[]}`,
			[]string{"Content-Type", ""}, 415, "unsupported_media_type", "content_type"},
		{"a return line with an unknown member", "cpam_referent", "POST", "/api/v1/claim-batches/1/returns",
			`{"lines":[{"claim_id":"1","outcome":"rejected","reason":"x","colour":"red"}]}`, nil, 422, "unknown_field", "lines[0].colour"},
		{"a return line with a bad claim id", "cpam_referent", "POST", "/api/v1/claim-batches/1/returns",
			`{"lines":[{"claim_id":"01","outcome":"rejected","reason":"x"}]}`, nil, 422, "invalid", "lines[0].claim_id"},
	}
	for _, c := range cases {
		status, e := g.send(t, c.role, c.method, c.path, c.body, c.headers...)
		field, hasField := e["field"]
		if status != c.status || e["code"] != c.code || (c.field == "" && hasField) || (c.field != "" && field != c.field) {
			t.Errorf("%s: got %d %v, want %d code=%s field=%q", c.name, status, e, c.status, c.code, c.field)
		}
		if msg, _ := e["message"].(string); msg == "" {
			t.Errorf("%s: no message: %v", c.name, e)
		}
	}
	if n := g.reached.Load(); n != 0 {
		t.Errorf("%d refused requests reached a handler", n)
	}
}

// TestGuardLetsThroughWhatTheHandlersAccept: the contract does not refuse
// what a handler deliberately takes, and hands the body over untouched.
func TestGuardLetsThroughWhatTheHandlersAccept(t *testing.T) {
	t.Parallel()
	g := newGuarded(t, loadSpec(t))
	csv := "\ufeffclaim_id;outcome;paid_amount;paid_on;reason\r\n12;paid;30,00;2026-06-01;\r\n13;rejected;;;\"droits; non ouverts\"\r\n;;;;\r\n"
	cases := []struct {
		name, role, method, path, body string
		headers                        []string
	}{
		{"JSON with a charset", "provider", "POST", "/api/v1/invoices", validInvoice, []string{"Content-Type", "application/json; charset=utf-8"}},
		{"JSON without a content type", "provider", "POST", "/api/v1/invoices", validInvoice, []string{"Content-Type", ""}},
		{"null for an optional member", "admin", "PUT", "/api/v1/acts/IK", `{"label":"IK","provider_kinds":["nurse"],"max_unit_price":null}`, nil},
		{"no body where it is optional", "coordinator", "POST", "/api/v1/invoices/1/cancel", "", nil},
		{"a blank optional body of any type", "coordinator", "POST", "/api/v1/invoices/1/cancel", " \n", []string{"Content-Type", "text/plain"}},
		{"an empty object", "coordinator", "POST", "/api/v1/invoices/1/cancel", "{}", nil},
		{"empty query values", "coordinator", "GET", "/api/v1/invoices?status=&limit=&cursor=", "", nil},
		{"a CSV return with a BOM and semicolons", "cpam_referent", "POST", "/api/v1/claim-batches/1/returns", csv,
			[]string{"Content-Type", "text/csv; charset=utf-8"}},
		{"a JSON return with an integer claim id", "cpam_referent", "POST", "/api/v1/claim-batches/1/returns",
			`{"lines":[{"claim_id":12,"outcome":"paid","paid_amount":"30","paid_on":"2026-06-01","reason":null}]}`, nil},
		{"a body on a route that takes none", "admin", "POST", "/api/v1/jobs/release/run", "anything", []string{"Content-Type", "text/plain"}},
	}
	for _, c := range cases {
		before := g.reached.Load()
		status, e := g.send(t, c.role, c.method, c.path, c.body, c.headers...)
		if status != http.StatusOK || g.reached.Load() != before+1 {
			t.Errorf("%s: %d %v, want it let through", c.name, status, e)
			continue
		}
		if got := g.body.Load(); got != c.body {
			t.Errorf("%s: the handler read %q, want %q", c.name, got, c.body)
		}
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r    io.Reader
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

// TestGuardReadsAtMostOneMebibyte: a huge body costs the server no more
// than api.MaxBody+1 bytes read, whatever it claims to be.
func TestGuardReadsAtMostOneMebibyte(t *testing.T) {
	t.Parallel()
	g := newGuarded(t, loadSpec(t))
	for _, contentType := range []string{"application/json", "text/csv"} {
		body := &countingReader{r: io.MultiReader(strings.NewReader(`{"lines":"`), bytes.NewReader(make([]byte, 8<<20)))}
		path := "/api/v1/claim-batches/1/returns"
		req := httptest.NewRequest("POST", path, body)
		req.Header.Set("X-Role", "cpam_referent")
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		g.echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 413: %s", contentType, rec.Code, rec.Body)
		}
		if body.read > api.MaxBody+1 {
			t.Errorf("%s: %d bytes read, want at most %d", contentType, body.read, api.MaxBody+1)
		}
	}
	if g.reached.Load() != 0 {
		t.Error("an oversize body reached the handler")
	}
}

func TestFieldPath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pointer []string
		want    string
	}{
		{nil, ""},
		{[]string{"lines"}, "lines"},
		{[]string{"lines", "2", "unit_price"}, "lines[2].unit_price"},
		{[]string{"lines", "0"}, "lines[0]"},
		{[]string{"a", "b"}, "a.b"},
	} {
		if got := fieldPath(c.pointer); got != c.want {
			t.Errorf("fieldPath(%q) = %q, want %q", c.pointer, got, c.want)
		}
	}
}
