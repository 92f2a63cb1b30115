package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wantFields checks members of an object decoded from JSON: the members
// of got named in want, an absent one read as null, must be want's as
// JSON writes them (so 2 matches the number 2, nil matches null).
func wantFields(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	members := make(map[string]any, len(want))
	for k := range want {
		members[k] = got[k]
	}
	if diff := cmp.Diff(asJSON(t, want), asJSON(t, members)); diff != "" {
		t.Errorf("%s: members (-want +got):\n%s\nin %v", what, diff, got)
	}
}

// asJSON returns v as the harness decodes it from JSON: objects become
// maps, arrays []any, numbers json.Number.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(mustJSON(t, v)))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("asJSON: %v", err)
	}
	return out
}

func wantOutcome(t *testing.T, what string, inv map[string]any, cpam, city string) {
	t.Helper()
	o, ok := inv["outcome"].(map[string]any)
	if !ok || o["cpam_amount"] != cpam || o["city_amount"] != city {
		t.Errorf("%s: outcome %v, want cpam %s city %s", what, inv["outcome"], cpam, city)
	}
}

func TestReleasedInvoiceIsSplitBetweenTheCPAMAndTheCity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")

	inv := h.submit(t, gp, p, "F-2026-001", "2026-06-01", line{"G", "30.00", 1}, line{"VG", "21.28", 2})
	id := str(t, inv, "id")
	wantFields(t, "submitted", inv, map[string]any{"status": "pending", "total": "72.56", "deadline": "2026-08-30", "outcome": nil})

	// Nothing happens while rights are only requested.
	h.requestRights(t, p, "puma", "2026-06-02")
	if run := h.runJob(t, "release"); fmt.Sprint(run["rows"]) != "0" {
		t.Fatalf("release with rights only requested decided %v invoices", run["rows"])
	}
	h.openRights(t, p, "puma", "2026-05-01")
	patient := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+p.id, h.referent, "")
	if r := patient["rights"].(map[string]any); r["status"] != "opened" || r["regime"] != "puma" || r["effective_from"] != "2026-05-01" {
		t.Errorf("rights = %v, want opened puma from 2026-05-01", r)
	}
	if hist, _ := patient["rights_history"].([]any); len(hist) != 2 {
		t.Errorf("rights history = %v, want the request and the decision", hist)
	}

	h.setNow(defaultNow.Add(time.Hour))
	run := h.runJob(t, "release")
	wantFields(t, "run", run, map[string]any{"name": "release", "trigger": "manual", "rows": 1, "error": nil,
		"started_at": "2026-06-15T11:00:00Z", "finished_at": "2026-06-15T11:00:00Z"})

	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, "")
	wantFields(t, "released", got, map[string]any{"status": "released", "decision_reason": "rights_opened", "total": "72.56",
		"decided_at": "2026-06-15T11:00:00Z"})
	// Its provider sees the shares, not why (issue 15 §4).
	got = h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, gp.token, "")
	wantFields(t, "released, for its provider", got, map[string]any{"status": "released", "total": "72.56", "decided_at": "2026-06-15T11:00:00Z"})
	if _, ok := got["decision_reason"]; ok {
		t.Errorf("the provider reads why its invoice was decided: %v", got)
	}
	// Per line at the GP rate 0.70 under puma: 30.00 → 21.00; 42.56 → 29.792 → 29.79.
	wantOutcome(t, "released", got, "50.79", "21.77")

	claims := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims", h.referent, ""))
	if len(claims) != 1 {
		t.Fatalf("claims = %v, want 1", claims)
	}
	wantFields(t, "claim", claims[0], map[string]any{"invoice_id": id, "amount": "50.79", "status": "queued"})

	payouts := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", h.finance, ""))
	if len(payouts) != 1 {
		t.Fatalf("payouts = %v, want 1", payouts)
	}
	wantFields(t, "payout", payouts[0], map[string]any{"invoice_id": id, "provider_id": gp.id, "amount": "21.77",
		"reason": "ticket_moderateur", "status": "due"})
	own := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", gp.token, ""))
	if len(own) != 1 || own[0]["id"] != payouts[0]["id"] {
		t.Errorf("provider's payouts = %v, want %v", own, payouts)
	}
	for _, who := range []string{h.finance, h.admin} {
		if got := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims", who, "")); len(got) != 1 {
			t.Errorf("claims read by finance/admin: %v", got)
		}
	}

	// The decision is made once: the jobs find nothing more to do.
	for _, job := range []string{"release", "deadline"} {
		if run := h.runJob(t, job); fmt.Sprint(run["rows"]) != "0" {
			t.Errorf("second %s run decided %v invoices", job, run["rows"])
		}
	}
	if n := h.count(t, "claims"); n != 1 {
		t.Errorf("%d claims after re-runs", n)
	}
	if n := h.count(t, "payouts"); n != 1 {
		t.Errorf("%d payouts after re-runs", n)
	}
	// The runs are listed, newest first.
	runs := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/jobs", h.admin, ""))
	if len(runs) != 4 || runs[0]["name"] != "deadline" || runs[3]["name"] != "release" || fmt.Sprint(runs[2]["rows"]) != "1" {
		t.Errorf("job runs = %v", runs)
	}
	h.assertMoneyInvariant(t)
}

func TestSharesAreRoundedPerLineByRegimeAndKind(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct {
		kind, regime string
		lines        []line
		cpam, city   string
	}{
		// 0.70 × 0.05 = 0.035 → 0.04 (half-up), per line: 3 × 0.04 = 0.12, not 0.70 × 0.15 = 0.105 → 0.11.
		{"general_practitioner", "puma", []line{{"G", "0.05", 1}, {"C", "0.05", 1}, {"V", "0.05", 1}}, "0.12", "0.03"},
		{"health_centre", "puma", []line{{"G", "26.50", 1}}, "18.55", "7.95"},
		{"nurse", "puma", []line{{"AMI", "3.15", 3}, {"IFD", "2.50", 1}}, "7.17", "4.78"},
		{"laboratory", "puma", []line{{"0322", "4.59", 1}}, "2.75", "1.84"},
		{"pharmacy", "puma", []line{{"3400930000007", "12.34", 1}}, "8.02", "4.32"},
		{"radiology", "puma", []line{{"ZBQK002", "25.01", 1}}, "17.51", "7.50"},
		{"general_practitioner", "puma_css", []line{{"G", "30.00", 1}}, "30.00", "0.00"},
		{"nurse", "ame", []line{{"AMI", "3.15", 2}}, "6.30", "0.00"},
	}
	type expect struct{ id, cpam, city string }
	var want []expect
	for i, c := range cases {
		pr := h.newProvider(t, fmt.Sprintf("P%d", i), c.kind, fmt.Sprintf("200000000%02d", i))
		p := h.newPatient(t, fmt.Sprintf("Patient%d", i))
		h.openRights(t, p, c.regime, "2026-01-01")
		inv := h.submit(t, pr, p, "S", "2026-06-01", c.lines...)
		want = append(want, expect{str(t, inv, "id"), c.cpam, c.city})
	}
	if run := h.runJob(t, "release"); fmt.Sprint(run["rows"]) != fmt.Sprint(len(cases)) {
		t.Fatalf("release decided %v, want %d", run["rows"], len(cases))
	}
	for i, w := range want {
		inv := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+w.id, h.coordinator, "")
		wantFields(t, fmt.Sprintf("case %d", i), inv, map[string]any{"status": "released"})
		wantOutcome(t, fmt.Sprintf("case %d (%s %s)", i, cases[i].kind, cases[i].regime), inv, w.cpam, w.city)
	}
	// A zero city share makes no payout; a full CPAM share still one claim.
	if n := h.count(t, "payouts"); n != int64(len(cases)-2) {
		t.Errorf("%d payouts, want %d", n, len(cases)-2)
	}
	if n := h.count(t, "claims"); n != int64(len(cases)) {
		t.Errorf("%d claims, want %d", n, len(cases))
	}
	h.assertMoneyInvariant(t)
}

func TestRefusedRightsMakeTheCityPayTheWholeInvoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Benali")
	h.requestRights(t, p, "puma", "2026-06-01")
	id := str(t, h.submit(t, gp, p, "F-1", "2026-06-01", line{"G", "30.00", 1}, line{"VG", "21.28", 2}), "id")
	h.refuseRights(t, p)

	if run := h.runJob(t, "release"); fmt.Sprint(run["rows"]) != "1" {
		t.Fatalf("release decided %v, want 1", run["rows"])
	}
	inv := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, "")
	wantFields(t, "refused", inv, map[string]any{"status": "city_due", "decision_reason": "rights_refused"})
	wantOutcome(t, "refused", inv, "0.00", "72.56")
	payouts := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", h.finance, ""))
	if len(payouts) != 1 {
		t.Fatalf("payouts = %v", payouts)
	}
	wantFields(t, "payout", payouts[0], map[string]any{"invoice_id": id, "amount": "72.56", "reason": "rights_refused", "status": "due"})
	if claims := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims", h.referent, "")); len(claims) != 0 {
		t.Errorf("claims = %v, want none", claims)
	}
	h.assertMoneyInvariant(t)
}

func TestCareBeforeTheRightsIsNotCovered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Popescu")
	before := str(t, h.submit(t, gp, p, "F-1", "2026-05-31"), "id")
	first := str(t, h.submit(t, gp, p, "F-2", "2026-06-01"), "id")
	h.openRights(t, p, "puma", "2026-06-01")
	h.runJob(t, "release")

	inv := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+before, h.coordinator, "")
	wantFields(t, "day before the rights", inv, map[string]any{"status": "city_due", "decision_reason": "not_covered"})
	wantOutcome(t, "day before the rights", inv, "0.00", "30.00")
	inv = h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+first, h.coordinator, "")
	wantFields(t, "first day of the rights", inv, map[string]any{"status": "released", "decision_reason": "rights_opened"})
	wantOutcome(t, "first day of the rights", inv, "21.00", "9.00")
	h.assertMoneyInvariant(t)
}

func TestDeadlinePassedMakesTheCityPay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Nguyen")
	h.requestRights(t, p, "puma", "2026-06-01")
	id := str(t, h.submit(t, gp, p, "F-1", "2026-06-01"), "id") // deadline 2026-08-30

	// 23:59 on the deadline day in Paris: still in time.
	h.setNow(time.Date(2026, 8, 30, 21, 59, 0, 0, time.UTC))
	if run := h.runJob(t, "deadline"); fmt.Sprint(run["rows"]) != "0" {
		t.Fatalf("deadline job on the deadline day decided %v", run["rows"])
	}
	// 00:00 the next day in Paris.
	h.setNow(time.Date(2026, 8, 30, 22, 0, 0, 0, time.UTC))
	if run := h.runJob(t, "deadline"); fmt.Sprint(run["rows"]) != "1" {
		t.Fatalf("deadline job the day after decided %v, want 1", run["rows"])
	}
	inv := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, "")
	wantFields(t, "past deadline", inv, map[string]any{"status": "city_due", "decision_reason": "deadline_passed"})
	wantOutcome(t, "past deadline", inv, "0.00", "30.00")
	payouts := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", h.finance, ""))
	if len(payouts) != 1 || payouts[0]["reason"] != "deadline_passed" || payouts[0]["amount"] != "30.00" {
		t.Errorf("payouts = %v", payouts)
	}
	// Its provider sees the amount, not the reason (issue 15 §4).
	payouts = items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts", gp.token, ""))
	if len(payouts) != 1 || payouts[0]["amount"] != "30.00" || payouts[0]["reason"] != nil {
		t.Errorf("the provider's payouts = %v", payouts)
	}
	// Rights opened afterwards do not pay the provider later: the city
	// paid in time. They claim the CPAM's share back (a recovery claim),
	// and the city's payout, still due, shrinks to the ticket modérateur.
	h.openRights(t, p, "puma", "2026-01-01")
	if run := h.runJob(t, "release"); fmt.Sprint(run["rows"]) != "1" {
		t.Errorf("release after the deadline decision decided %v, want 1 (decided again)", run["rows"])
	}
	inv = h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, "")
	wantFields(t, "rights opened late", inv, map[string]any{"status": "released", "decision_reason": "rights_opened"})
	wantOutcome(t, "rights opened late", inv, "21.00", "9.00")
	if n := h.count(t, "claims", "kind = 'recovery' AND amount = 21.00 AND invoice_id = "+id); n != 1 {
		t.Errorf("%d recovery claims of 21.00", n)
	}
	h.assertMoneyInvariant(t)
}

func TestCancellingAnInvoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	withdrawn := str(t, h.submit(t, gp, p, "F-1", "2026-06-01"), "id")
	voided := str(t, h.submit(t, gp, p, "F-2", "2026-06-01"), "id")
	released := str(t, h.submit(t, gp, p, "F-3", "2026-06-01"), "id")
	badBodies := str(t, h.submit(t, gp, p, "F-4", "2026-06-01"), "id")

	// A body, when given, must be an empty JSON object.
	h.assertRejected(t, "POST", "/api/v1/invoices/"+badBodies+"/cancel", gp.token, []rejection{
		{name: "unknown member", body: `{"reason":"x"}`, status: 422, code: "unknown_field", field: "reason"},
		{name: "malformed", body: `{`, status: 400, code: "malformed_json"},
		{name: "array", body: `[]`, status: 400, code: "malformed_json"},
	})

	got := h.mustDo(t, http.StatusOK, "POST", "/api/v1/invoices/"+withdrawn+"/cancel", gp.token, "{}")
	wantFields(t, "withdrawn", got, map[string]any{"id": withdrawn, "status": "cancelled", "decided_at": "2026-06-15T10:00:00Z"})
	wantOutcome(t, "withdrawn", got, "0.00", "0.00")
	got = h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+withdrawn, h.coordinator, "")
	wantFields(t, "withdrawn, for the coordinator", got, map[string]any{"status": "cancelled", "decision_reason": "withdrawn"})
	got = h.mustDo(t, http.StatusOK, "POST", "/api/v1/invoices/"+voided+"/cancel", h.coordinator, "")
	wantFields(t, "voided", got, map[string]any{"id": voided, "status": "cancelled", "decision_reason": "voided"})
	wantOutcome(t, "voided", got, "0.00", "0.00")

	h.openRights(t, p, "puma", "2026-01-01")
	if run := h.runJob(t, "release"); fmt.Sprint(run["rows"]) != "2" {
		t.Fatalf("release decided %v, want 2 (the cancelled ones stay cancelled)", run["rows"])
	}
	before := h.state(t)
	for _, id := range []string{withdrawn, voided, released} {
		for _, who := range []struct{ name, token string }{{"provider", gp.token}, {"coordinator", h.coordinator}} {
			status, body := h.do(t, "POST", "/api/v1/invoices/"+id+"/cancel", who.token, "")
			wantError(t, who.name+" cancels "+id+" again", status, body, http.StatusConflict, "not_pending", "")
		}
	}
	h.assertUnchanged(t, "cancelling decided invoices", before)
	for _, id := range []string{withdrawn, voided} {
		if inv := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, ""); inv["status"] != "cancelled" {
			t.Errorf("invoice %s is %v after the release job, want cancelled", id, inv["status"])
		}
	}
	if n := h.count(t, "claims"); n != 2 {
		t.Errorf("%d claims, want 2 (F-3 and F-4 only)", n)
	}
	h.assertMoneyInvariant(t)
}

// assertMoneyInvariant checks PRODUCT.md's invariant on every decided
// invoice: total = the current outcome's claim (not rejected) + what the
// city bears (payouts not cancelled, less recoveries from the provider,
// plus refunds to the CPAM), and the outcome columns agree with them; and
// then the books (journal.Check).
func (h *harness) assertMoneyInvariant(t *testing.T) {
	t.Helper()
	defer h.checkInvariants(t)
	rows, err := h.pool.Query(t.Context(), `
		WITH m AS (
			SELECT i.id, i.status, i.total, i.cpam_amount, i.city_amount,
			       coalesce((SELECT sum(amount) FROM claims c WHERE c.invoice_id = i.id AND c.outcome_no = i.outcome_no
			                 AND c.status NOT IN ('rejected', 'cancelled')), 0) AS claims,
			       coalesce((SELECT sum(amount) FROM payouts p WHERE p.invoice_id = i.id AND p.status <> 'cancelled'), 0)
			         - coalesce((SELECT sum(amount) FROM provider_recoveries r WHERE r.invoice_id = i.id), 0)
			         + coalesce((SELECT sum(amount) FROM cpam_refunds f WHERE f.invoice_id = i.id), 0) AS city
			FROM invoices i WHERE i.status <> 'pending')
		SELECT id, status, total::text, cpam_amount::text, city_amount::text, claims::text, city::text FROM m
		WHERE (status <> 'cancelled' AND total <> claims + city) OR cpam_amount <> claims OR city_amount <> city`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var status, total, cpam, city, claims, payouts string
		if err := rows.Scan(&id, &status, &total, &cpam, &city, &claims, &payouts); err != nil {
			t.Fatal(err)
		}
		t.Errorf("invoice %d (%s): total %s, outcome %s + %s, claims %s, payouts %s", id, status, total, cpam, city, claims, payouts)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
