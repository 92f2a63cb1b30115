package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"passd/auth"
	"passd/db/dbtest"
)

// Patient identity never reaches the database in plaintext, every answer
// that carries it is logged first, and each role gets only what it needs:
// finance no identity at all, the CPAM's referent no care beyond a claim.

// identityOf is a patient file with an identity no other value of the
// scenario can contain by chance.
type identityOf struct {
	patientFixture
	last, first, birth, nir string
	invoice                 string
}

// values are the identity's values that must not leak.
func (f identityOf) values() []string {
	out := []string{f.last, f.first, f.birth}
	if f.nir != "" {
		out = append(out, f.nir)
	}
	return out
}

// careLabel is on every invoice line: it describes the care, which only the
// provider and the coordinator need.
const careLabel = "Soin tres confidentiel"

// unclaimedPrices are the unit prices of invoices that never become claims.
var unclaimedPrices = []string{"47.11", "63.27"}

// lifecycle is a harness after a whole year of the PASS in small: files at
// every step of their rights, a claim paid in part and one rejected, a
// file refused, a file nearing its deadline, a payout batch paid.
type lifecycle struct {
	*harness
	gp                      providerFixture
	paid, rejected, refused identityOf
	pending                 identityOf
	claimBatch, payoutBatch string
	// answers other roles got along the way: role → what → body.
	answers map[auth.Role][]recordedAnswer
}

type recordedAnswer struct{ what, body string }

func (l *lifecycle) record(role auth.Role, what string, body map[string]any) {
	b, _ := json.Marshal(body)
	l.answers[role] = append(l.answers[role], recordedAnswer{what, string(b)})
}

func (l *lifecycle) files() []identityOf {
	return []identityOf{l.paid, l.rejected, l.refused, l.pending}
}

// careBody is a POST /invoices body of one line priced price.
func careBody(t *testing.T, f identityOf, ref, careDate, price string) string {
	return mustJSON(t, map[string]any{"patient_file_number": f.fileNumber, "birth_date": f.birth, "external_ref": ref, "care_date": careDate,
		"lines": []any{map[string]any{"code": "YYYY010", "label": careLabel, "quantity": 1, "unit_price": price}}})
}

func newLifecycle(t *testing.T) *lifecycle {
	t.Helper()
	h := newHarness(t)
	l := &lifecycle{harness: h, answers: map[auth.Role][]recordedAnswer{}}
	h.setRegie(t, "10000.00", "50000.00")
	l.gp = h.newProvider(t, "Dr Lefevre", "general_practitioner", "10000000001")
	open := func(last, first, birth, nir string) identityOf {
		body := map[string]any{"last_name": last, "first_name": first, "birth_date": birth}
		if nir != "" {
			body["nir"] = nir
		}
		got := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/patients", h.coordinator, mustJSON(t, body))
		return identityOf{patientFixture: patientFixture{id: str(t, got, "id"), fileNumber: str(t, got, "file_number")},
			last: last, first: first, birth: birth, nir: nir}
	}
	l.paid = open("Zyxwabcd", "Qwertyuio", "1977-07-07", "290049935012309")
	l.rejected = open("Mnbvcxzl", "Poiuytre", "1980-01-02", "187059935045683")
	l.refused = open("Lkjhgfds", "Asdfghjk", "1969-09-09", "")
	l.pending = open("Ploiuytr", "Mjnhbgvf", "1999-12-31", "292079912378989")

	submit := func(f *identityOf, ref, careDate, price string) {
		f.invoice = str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", l.gp.token, careBody(t, *f, ref, careDate, price)), "id")
	}
	submit(&l.paid, "F-1", "2026-06-01", "30.00")
	submit(&l.rejected, "F-2", "2026-06-01", "30.00")
	submit(&l.refused, "F-3", "2026-06-01", unclaimedPrices[0])
	// Its deadline (+ 90 days) is 2026-06-18: within the reminders' window.
	submit(&l.pending, "F-4", "2026-03-20", unclaimedPrices[1])

	decide := func(f identityOf, body map[string]any) {
		l.record(auth.CPAMReferent, "rights decision", h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+f.id+"/rights-decision", h.referent, mustJSON(t, body)))
	}
	h.requestRights(t, l.paid.patientFixture, "ame", "2026-05-02")
	decide(l.paid, map[string]any{"decision": "opened", "regime": "ame", "effective_from": "2026-05-01", "effective_to": "2027-05-01", "reference": "AME-1"})
	h.requestRights(t, l.rejected.patientFixture, "puma", "2026-05-02")
	h.requestRights(t, l.refused.patientFixture, "puma", "2026-05-02")
	decide(l.rejected, map[string]any{"decision": "opened", "regime": "puma", "effective_from": "2026-05-01", "reference": "PUMA-1"})
	decide(l.refused, map[string]any{"decision": "refused", "reason": "residence non etablie"})
	h.runJob(t, "release")
	h.runJob(t, "reminders")

	batch := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, "")
	l.record(auth.CPAMReferent, "claim batch", batch)
	l.claimBatch = str(t, batch, "id")
	claimOf := map[string]string{}
	for _, c := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims", h.referent, "")) {
		claimOf[str(t, c, "invoice_id")] = str(t, c, "id")
	}
	l.record(auth.CPAMReferent, "return", h.mustDo(t, http.StatusOK, "POST", "/api/v1/claim-batches/"+l.claimBatch+"/returns", h.referent,
		returnJSON(t, []string{claimOf[l.paid.invoice], "paid", "25.00", "2026-06-12"}, []string{claimOf[l.rejected.invoice], "rejected", "droits non ouverts"})))

	approver := h.newFinance(t, "finance-b")
	draft := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payout-batches", h.finance, "")
	l.record(auth.Finance, "draft", draft)
	l.payoutBatch = str(t, draft, "id")
	l.record(auth.Finance, "submit", h.mustDo(t, http.StatusOK, "POST", pbPath(l.payoutBatch, "submit"), h.finance, ""))
	l.record(auth.Finance, "approve", h.mustDo(t, http.StatusOK, "POST", pbPath(l.payoutBatch, "approve"), approver, "{}"))
	l.record(auth.Finance, "paid", h.mustDo(t, http.StatusOK, "POST", pbPath(l.payoutBatch, "paid"), h.finance, `{"paid_on": "2026-06-15"}`))
	return l
}

// reachable fetches, as token, every GET route of /api/v1 (found in the
// router, so a route added later is covered) with its path parameters
// filled from the lifecycle, each also as ?format=csv. It returns the
// answers of status 200; a route the role may not use answers 403. Any
// other status fails the test, so that no route goes unchecked by mistake.
func (l *lifecycle) reachable(t *testing.T, token string) []recordedAnswer {
	t.Helper()
	// A drug of the table, so that its route answers (the table holds no
	// identity, nor does the catalogue).
	const drug = "3400935955838"
	l.mustDo(t, http.StatusOK, "PUT", "/api/v1/drugs/"+drug, l.admin, `{"label": "Paracétamol 500 mg", "class": 65}`)
	var bankChange string
	if err := l.pool.QueryRow(t.Context(), `SELECT min(id)::text FROM bank_detail_changes`).Scan(&bankChange); err != nil {
		t.Fatal(err)
	}
	param := map[string]string{"providers": l.gp.id, "patients": l.paid.id, "invoices": l.paid.invoice,
		"claim-batches": l.claimBatch, "payout-batches": l.payoutBatch, "acts": "G", "drugs": drug, "bank-changes": bankChange,
		"referrals": "1", "alerts": "1"} // the referrals' routes refuse finance and the CPAM's referent
	var out []recordedAnswer
	for _, r := range l.app.echo.Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, ":") {
				v, ok := param[segs[i-1]]
				if !ok {
					t.Fatalf("route %s: no value for %s after %s; add one to reachable", r.Path, s, segs[i-1])
				}
				segs[i] = v
			}
		}
		path := strings.Join(segs, "/")
		for _, query := range []string{"", "?format=csv"} {
			rec := l.doRaw(t, "GET", path+query, token, "")
			switch rec.Code {
			case http.StatusOK:
				out = append(out, recordedAnswer{"GET " + path + query, rec.Body.String()})
			case http.StatusForbidden:
			default:
				t.Errorf("GET %s%s: status %d: %s", path, query, rec.Code, rec.Body)
			}
		}
	}
	return out
}

// jsonKeys lists every member name of a JSON document, at any depth, with
// its parent's name; a body that is not JSON has none.
func jsonKeys(body string) [][2]string {
	var doc any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	var out [][2]string
	var walk func(parent string, v any)
	walk = func(parent string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				out = append(out, [2]string{parent, k})
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(parent, x)
			}
		}
	}
	walk("", doc)
	return out
}

// leaks returns the values found in body, as text or hex-encoded (bytea).
func leaks(body string, values []string) []string {
	lower := strings.ToLower(body)
	var out []string
	for _, v := range values {
		if strings.Contains(lower, strings.ToLower(v)) || strings.Contains(lower, hex.EncodeToString([]byte(v))) {
			out = append(out, v)
		}
	}
	return out
}

func TestFinanceNeverReceivesPatientIdentity(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t)
	var identity []string
	for _, f := range l.files() {
		identity = append(identity, f.values()...)
	}
	answers := append(l.reachable(t, l.finance), l.answers[auth.Finance]...)
	seen := map[string]bool{}
	for _, a := range answers {
		seen[strings.SplitN(a.what, "?", 2)[0]] = true
		if found := leaks(a.body, identity); len(found) > 0 {
			t.Errorf("finance got %v in %s: %s", found, a.what, a.body)
		}
		for _, k := range jsonKeys(a.body) {
			if slices.Contains([]string{"last_name", "first_name", "birth_date", "nir"}, k[1]) {
				t.Errorf("finance got the member %q in %s", k[1], a.what)
			}
		}
	}
	// The answers finance works with were indeed looked at.
	for _, want := range []string{"GET /api/v1/invoices", "GET /api/v1/invoices/" + l.paid.invoice, "GET /api/v1/payouts",
		"GET /api/v1/claims", "GET /api/v1/payout-batches/" + l.payoutBatch + "/sepa.xml", "GET /api/v1/reports/budget"} {
		if !seen[want] {
			t.Errorf("finance's %s was not checked", want)
		}
	}
}

func TestTheCPAMReferentReceivesNoCareBeyondTheClaims(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t)
	answers := append(l.reachable(t, l.referent), l.answers[auth.CPAMReferent]...)
	exports := 0
	for _, a := range answers {
		if found := leaks(a.body, append([]string{careLabel}, unclaimedPrices...)); len(found) > 0 {
			t.Errorf("the referent got %v in %s", found, a.what)
		}
		if strings.Contains(a.body, "line_label") {
			t.Errorf("the referent got line labels in %s", a.what)
		}
		export := strings.Contains(a.what, "/export")
		if export {
			exports++
		}
		for _, k := range jsonKeys(a.body) {
			parent, key := k[0], k[1]
			// A claim's lines carry the act, its quantity and price and the
			// CPAM's share of it; nothing else, and only in the export.
			// (A return report's "lines" are the return's, not care.)
			inClaimLine := export && parent == "lines" && slices.Contains([]string{"code", "quantity", "unit_price", "cpam_share"}, key)
			if !inClaimLine && slices.Contains([]string{"code", "label", "quantity", "unit_price"}, key) {
				t.Errorf("the referent got the member %s.%s in %s", parent, key, a.what)
			}
			if export && parent == "lines" && !inClaimLine {
				t.Errorf("the export's lines carry %q", key)
			}
		}
	}
	if exports != 2 {
		t.Errorf("%d exports checked, want the JSON and the CSV", exports)
	}
	// The referent does see who the claims are for: that is the claim.
	rec := l.doRaw(t, "GET", "/api/v1/claim-batches/"+l.claimBatch+"/export", l.referent, "")
	if !strings.Contains(rec.Body.String(), l.paid.last) || !strings.Contains(rec.Body.String(), l.rejected.nir) {
		t.Errorf("the export does not name the claims' patients: %s", rec.Body)
	}
}

func TestNoTableHoldsPlaintextIdentity(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t)
	ctx := context.Background()
	var identity []string
	for _, f := range l.files() {
		identity = append(identity, f.values()...)
	}
	rows, err := l.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var text string
		if err := l.pool.QueryRow(ctx, `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM `+table+` t`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		if found := leaks(text, identity); len(found) > 0 {
			t.Errorf("table %s holds %v in plaintext", table, found)
		}
	}
	if !slices.Contains(tables, "audit_log") || !slices.Contains(tables, "patients") || !slices.Contains(tables, "idempotency_keys") {
		t.Fatalf("tables %v: the scan missed the tables that matter", tables)
	}
	// And the API still reads every file.
	for _, f := range l.files() {
		got := l.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+f.id, l.coordinator, "")
		nir, _ := got["nir"].(string)
		if got["last_name"] != f.last || got["first_name"] != f.first || got["birth_date"] != f.birth || nir != f.nir {
			t.Errorf("file %s reads as %v, want %+v", f.id, got, f)
		}
	}
}

// accessCount counts the access log rows of a file for a purpose.
func (l *lifecycle) accessCount(t *testing.T, f identityOf, purpose string) int64 {
	t.Helper()
	return l.count(t, "patient_access_log", "patient_id = "+f.id, "purpose = '"+purpose+"'")
}

func TestEveryAnswerWithIdentityIsLoggedFirst(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t)
	// The lifecycle itself was logged: creations, decisions (the answers
	// carry the file), the coordinator's request.
	for _, c := range []struct {
		f       identityOf
		purpose string
		want    int64
	}{{l.paid, "patient.create", 1}, {l.paid, "patient.rights_request", 1}, {l.paid, "patient.rights_decision", 1},
		{l.refused, "patient.rights_decision", 1}, {l.pending, "patient.rights_decision", 0}} {
		if got := l.accessCount(t, c.f, c.purpose); got != c.want {
			t.Errorf("file %s: %d %s rows, want %d", c.f.id, got, c.purpose, c.want)
		}
	}

	steps := []struct {
		what    string
		do      func()
		logged  map[string][]identityOf // purpose → files logged once more
		byToken string
	}{
		{"coordinator reads a file", func() { l.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+l.refused.id, l.coordinator, "") },
			map[string][]identityOf{"patient.read": {l.refused}}, l.coordinator},
		{"referent lists one page of two files", func() {
			got := l.mustDo(t, http.StatusOK, "GET", "/api/v1/patients?limit=2", l.referent, "")
			if len(items(t, got)) != 2 || got["next_cursor"] == "" {
				t.Fatalf("page %v", got)
			}
		}, map[string][]identityOf{"patient.list": {l.pending, l.refused}}, l.referent},
		{"referent exports the claim batch", func() {
			if rec := l.doRaw(t, "GET", "/api/v1/claim-batches/"+l.claimBatch+"/export?format=csv", l.referent, ""); rec.Code != http.StatusOK {
				t.Fatalf("export: %d %s", rec.Code, rec.Body)
			}
		}, map[string][]identityOf{"claim_batch.export": {l.paid, l.rejected}}, l.referent},
		{"coordinator reads the reminders", func() {
			got := l.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", l.coordinator, "")
			if list := items(t, got); len(list) != 1 || list[0]["last_name"] != l.pending.last {
				t.Fatalf("reminders %v", got)
			}
		}, map[string][]identityOf{"reminders.list": {l.pending}}, l.coordinator},
		{"coordinator requests rights", func() { l.requestRights(t, l.pending.patientFixture, "puma", "2026-06-10") },
			map[string][]identityOf{"patient.rights_request": {l.pending}}, l.coordinator},
		// Answers without identity log nothing.
		{"finance reads invoices and payouts", func() {
			l.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices", l.finance, "")
			l.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", l.finance, "")
		}, nil, ""},
		{"refused requests", func() {
			for _, token := range []string{l.finance, l.admin, l.gp.token, ""} {
				if status, _ := l.do(t, "GET", "/api/v1/patients/"+l.paid.id, token, ""); status < 400 {
					t.Fatalf("GET a file: %d", status)
				}
			}
		}, nil, ""},
	}
	for _, s := range steps {
		before := map[string]int64{}
		for _, f := range l.files() {
			for _, p := range []string{"patient.read", "patient.list", "claim_batch.export", "reminders.list", "patient.rights_request"} {
				before[f.id+" "+p] = l.accessCount(t, f, p)
			}
		}
		total := l.count(t, "patient_access_log")
		s.do()
		var want int64
		for purpose, files := range s.logged {
			for _, f := range files {
				want++
				if got := l.accessCount(t, f, purpose); got != before[f.id+" "+purpose]+1 {
					t.Errorf("%s: file %s has %d %s rows, want %d", s.what, f.id, got, purpose, before[f.id+" "+purpose]+1)
				}
			}
		}
		if got := l.count(t, "patient_access_log"); got != total+want {
			t.Errorf("%s: %d rows logged, want %d", s.what, got-total, want)
		}
	}

	// The admin reads a file's log, newest first, a page at a time; the
	// log itself names no identity.
	page := l.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+l.pending.id+"/access-log?limit=2", l.admin, "")
	first := items(t, page)
	cursor, _ := page["next_cursor"].(string)
	if len(first) != 2 || cursor == "" {
		t.Fatalf("first page %v", page)
	}
	wantFields(t, "newest access", first[0], map[string]any{"purpose": "patient.rights_request", "user_name": "coordinator",
		"at": "2026-06-15T10:00:00Z"})
	wantFields(t, "second access", first[1], map[string]any{"purpose": "reminders.list", "user_name": "coordinator"})
	if first[0]["user_id"] == nil {
		t.Errorf("access without the user's id: %v", first[0])
	}
	var all []map[string]any
	all = append(all, first...)
	for cursor != "" {
		page = l.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+l.pending.id+"/access-log?limit=2&cursor="+cursor, l.admin, "")
		all = append(all, items(t, page)...)
		cursor, _ = page["next_cursor"].(string)
	}
	if int64(len(all)) != l.count(t, "patient_access_log", "patient_id = "+l.pending.id) {
		t.Errorf("the pages hold %d accesses of %d", len(all), l.count(t, "patient_access_log", "patient_id = "+l.pending.id))
	}
	body, _ := json.Marshal(all)
	if found := leaks(string(body), l.pending.values()); len(found) > 0 {
		t.Errorf("the access log shows %v", found)
	}
	status, errBody := l.do(t, "GET", "/api/v1/patients/999999/access-log", l.admin, "")
	wantError(t, "log of an unknown file", status, errBody, http.StatusNotFound, "not_found", "")
	status, errBody = l.do(t, "GET", "/api/v1/patients/"+l.pending.id+"/access-log?limit=0", l.admin, "")
	wantError(t, "bad limit", status, errBody, http.StatusUnprocessableEntity, "invalid", "limit")
}

// When the access log cannot be written, no identity leaves: the database
// is made to refuse the log's inserts (as an unavailable server, so that
// the answers are the 503 of a database that failed) and every route that
// would name a patient answers without naming one, storing nothing.
func TestNoIdentityLeavesWhenItsReadCannotBeLogged(t *testing.T) {
	t.Parallel()
	l := newLifecycle(t)
	ctx := context.Background()
	// Only the owner may add a trigger; the application's role may not.
	owner := dbtest.Owner(t, l.app.cfg.DatabaseURL)
	if _, err := owner.Exec(ctx, `
		CREATE FUNCTION refuse_access_log() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'the log is full' USING ERRCODE = '57P03'; END; $$;
		CREATE TRIGGER refuse_access_log BEFORE INSERT ON patient_access_log FOR EACH ROW EXECUTE FUNCTION refuse_access_log();`); err != nil {
		t.Fatal(err)
	}
	var identity []string
	for _, f := range l.files() {
		identity = append(identity, f.values()...)
	}
	before := l.state(t)
	for _, r := range []struct{ method, path, token, body string }{
		{"GET", "/api/v1/patients/" + l.paid.id, l.referent, ""},
		{"GET", "/api/v1/patients", l.coordinator, ""},
		{"GET", "/api/v1/reminders", l.coordinator, ""},
		{"GET", "/api/v1/claim-batches/" + l.claimBatch + "/export", l.referent, ""},
		{"GET", "/api/v1/claim-batches/" + l.claimBatch + "/export?format=csv", l.referent, ""},
		{"POST", "/api/v1/patients/" + l.pending.id + "/rights-request", l.coordinator, mustJSON(t, map[string]any{"regime": "ame", "filed_on": "2026-06-01"})},
		{"POST", "/api/v1/patients", l.coordinator, mustJSON(t, map[string]any{"last_name": "Nouveau", "first_name": "Dossier", "birth_date": "2000-01-01"})},
	} {
		rec := l.doRaw(t, r.method, r.path, r.token, r.body)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s: status %d, want 503: %s", r.method, r.path, rec.Code, rec.Body)
		}
		if found := leaks(rec.Body.String(), append(identity, "Nouveau")); len(found) > 0 {
			t.Errorf("%s %s answered %v: %s", r.method, r.path, found, rec.Body)
		}
	}
	l.assertUnchanged(t, "requests whose access could not be logged", before)
	if _, err := owner.Exec(ctx, `DROP TRIGGER refuse_access_log ON patient_access_log`); err != nil {
		t.Fatal(err)
	}
	if got := l.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+l.paid.id, l.referent, ""); got["last_name"] != l.paid.last {
		t.Fatalf("once the log works again: %v", got)
	}
}
