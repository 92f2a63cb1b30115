package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"testing"
	"time"
)

// at is noon, Paris time in summer, on day.
func at(t *testing.T, day string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	return d.Add(10 * time.Hour)
}

// decide posts a rights decision as the referent.
func (h *harness) decide(t *testing.T, p patientFixture, body map[string]any) (int, map[string]any) {
	t.Helper()
	return h.do(t, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, mustJSON(t, body))
}

func (h *harness) invoice(t *testing.T, id string) map[string]any {
	t.Helper()
	return h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.finance, "")
}

// exportedReferences reads a claim batch's JSON export: each claim's
// invoice id with the regime and reference it was exported with.
func (h *harness) exportedReferences(t *testing.T, batchID string) map[string]string {
	t.Helper()
	rec := h.doRaw(t, "GET", "/api/v1/claim-batches/"+batchID+"/export?format=json", h.referent, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("export: %d %s", rec.Code, rec.Body)
	}
	var export struct {
		Claims []struct {
			InvoiceID         string `json:"invoice_id"`
			Regime            string `json:"regime"`
			DecisionReference string `json:"decision_reference"`
		} `json:"claims"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &export); err != nil {
		t.Fatalf("export: %v", err)
	}
	out := map[string]string{}
	for _, c := range export.Claims {
		out[c.InvoiceID] = c.Regime + " " + c.DecisionReference
	}
	return out
}

// TestAMERenewalKeepsTheFirstPeriod: an AME renewal used to make care
// inside the first period not_covered (only the latest period was read),
// and the export gave every claim the file's current reference, empty
// after a later refusal. Now each invoice is decided against the period in
// force on its care date, and its claim keeps that period.
func TestAMERenewalKeepsTheFirstPeriod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Périodes", "general_practitioner", "10000000013")

	h.setNow(at(t, "2025-07-10"))
	p := h.newPatient(t, "Renouvellement")
	h.requestRights(t, p, "ame", "2025-07-01")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, mustJSON(t, map[string]any{
		"decision": "opened", "regime": "ame", "effective_from": "2025-06-01", "effective_to": "2026-06-30", "reference": "AME-E1", "caisse": "931"}))

	// Care on the last day of the first period, submitted after it ended;
	// the renewal is decided before the release job runs.
	h.setNow(at(t, "2026-07-05"))
	first := str(t, h.submit(t, gp, p, "E1-LAST", "2026-06-30"), "id")
	h.requestRights(t, p, "ame", "2026-07-02")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent, mustJSON(t, map[string]any{
		"decision": "opened", "regime": "ame", "effective_from": "2026-07-01", "effective_to": "2027-07-01", "reference": "AME-E2"}))
	second := str(t, h.submit(t, gp, p, "E2-FIRST", "2026-07-01"), "id")
	h.runJob(t, "release")

	for _, id := range []string{first, second} {
		inv := h.invoice(t, id)
		wantFields(t, "invoice "+id, inv, map[string]any{"status": "released", "decision_reason": "rights_opened"})
		wantFields(t, "outcome of "+id, inv["outcome"].(map[string]any), map[string]any{"cpam_amount": "30.00"})
	}
	claims := map[string]map[string]any{}
	for _, c := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims", h.referent, "")) {
		claims[str(t, c, "invoice_id")] = c
	}
	wantFields(t, "claim of the first period", claims[first], map[string]any{"regime": "ame", "reference": "AME-E1"})
	wantFields(t, "claim of the renewal", claims[second], map[string]any{"regime": "ame", "reference": "AME-E2"})
	if claims[first]["rights_decision_id"] == claims[second]["rights_decision_id"] {
		t.Errorf("both claims name the period %v", claims[first]["rights_decision_id"])
	}

	batchID := str(t, h.batchClaims(t), "id")
	want := map[string]string{first: "ame AME-E1", second: "ame AME-E2"}
	if got := h.exportedReferences(t, batchID); !maps.Equal(got, want) {
		t.Fatalf("exported %v, want %v", got, want)
	}

	// A later refusal changes the file's state, not what was released.
	h.setNow(at(t, "2026-08-01"))
	h.refuseRights(t, p)
	if got := h.exportedReferences(t, batchID); !maps.Equal(got, want) {
		t.Fatalf("after a refusal, exported %v, want %v", got, want)
	}
	file := h.mustDo(t, http.StatusOK, "GET", "/api/v1/patients/"+p.id, h.referent, "")
	decisions, _ := file["rights_decisions"].([]any)
	if len(decisions) != 3 {
		t.Fatalf("rights_decisions = %v, want three", decisions)
	}
	wantFields(t, "first decision", decisions[0].(map[string]any), map[string]any{
		"decision": "opened", "regime": "ame", "effective_from": "2025-06-01", "effective_to": "2026-06-30",
		"reference": "AME-E1", "caisse": "931", "filed_on": "2025-07-01", "decided_by": "referent"})
	wantFields(t, "the refusal", decisions[2].(map[string]any), map[string]any{"decision": "refused", "filed_on": "2026-07-02"})
}

// TestRightsDecisionChecksEachRegime: dates that used to be accepted as
// they came (CSS from the 17th, AME from 300 days before the filing, a
// 4-year AME, rights on a file with no application) are refused, each
// naming its field, and nothing is stored.
func TestRightsDecisionChecksEachRegime(t *testing.T) {
	t.Parallel()
	h := newHarness(t) // today 2026-06-15
	bare := h.newPatient(t, "Sans-Demande")
	status, body := h.decide(t, bare, map[string]any{"decision": "opened", "regime": "puma", "effective_from": "2026-06-01", "reference": "R"})
	wantError(t, "no application", status, body, http.StatusConflict, "no_application", "")

	css := h.newPatient(t, "CSS")
	h.requestRights(t, css, "puma_css", "2026-05-20")
	ame := h.newPatient(t, "AME")
	h.requestRights(t, ame, "ame", "2026-05-20")
	opened := func(regime, from, to string, more ...any) map[string]any {
		b := map[string]any{"decision": "opened", "regime": regime, "effective_from": from, "reference": "R-1"}
		if to != "" {
			b["effective_to"] = to
		}
		for i := 0; i+1 < len(more); i += 2 {
			b[more[i].(string)] = more[i+1]
		}
		return b
	}
	tests := []struct {
		name  string
		file  patientFixture
		body  map[string]any
		field string // "" accepted
	}{
		{"CSS from the 17th", css, opened("puma_css", "2026-07-17", "2027-07-16"), "effective_from"},
		{"CSS with no end", css, opened("puma_css", "2026-07-01", ""), "effective_to"},
		{"CSS for 13 months", css, opened("puma_css", "2026-07-01", "2027-07-31"), "effective_to"},
		{"immediate CSS not from the month of filing", css, opened("puma_css", "2026-06-01", "2027-05-31", "immediate_admission", true), "effective_from"},
		{"immediate admission for an AME", ame, opened("ame", "2026-05-20", "2027-05-19", "immediate_admission", true), "immediate_admission"},
		{"AME from 300 days before the filing", ame, opened("ame", "2025-07-24", "2027-05-19"), "effective_from"},
		{"AME one day past the look-back", ame, opened("ame", "2026-04-19", "2027-05-19"), "effective_from"},
		{"AME for four years", ame, opened("ame", "2026-05-20", "2030-05-19"), "effective_to"},
		{"AME a day longer than a year from the filing", ame, opened("ame", "2026-05-20", "2027-05-20"), "effective_to"},
		{"an end before the start", ame, opened("ame", "2026-05-20", "2026-05-19"), "effective_to"},
		{"a period starting more than two years ago", css, opened("puma", "2024-06-14", ""), "effective_from"},
		{"a caisse of two digits", css, opened("puma", "2026-05-20", "", "caisse", "93"), "caisse"},
		{"AME on the last day of the look-back", ame, opened("ame", "2026-04-20", "2027-05-19"), ""},
		{"immediate CSS from the 1st of the month of filing", css, opened("puma_css", "2026-05-01", "2027-04-30", "immediate_admission", true, "caisse", "931"), ""},
	}
	for _, tt := range tests {
		before := h.state(t)
		decisions := h.count(t, "rights_decisions")
		status, body := h.decide(t, tt.file, tt.body)
		if tt.field == "" {
			if status != http.StatusOK {
				t.Errorf("%s: %d %v, want 200", tt.name, status, body)
			}
			continue
		}
		wantError(t, tt.name, status, body, http.StatusUnprocessableEntity, "invalid", tt.field)
		h.assertUnchanged(t, tt.name, before)
		if n := h.count(t, "rights_decisions"); n != decisions {
			t.Errorf("%s: %d decisions stored, want %d", tt.name, n, decisions)
		}
	}

	// The look-back is a setting: at 45 days, 45 days before the filing
	// is accepted.
	late := h.newPatient(t, "AME-Réglage")
	h.requestRights(t, late, "ame", "2026-05-20")
	status, body = h.decide(t, late, opened("ame", "2026-04-05", "2027-05-19"))
	wantError(t, "45 days back, default look-back", status, body, http.StatusUnprocessableEntity, "invalid", "effective_from")
	h.putSettingsWith(t, map[string]any{"ame_lookback_days": 45})
	if status, body := h.decide(t, late, opened("ame", "2026-04-05", "2027-05-19")); status != http.StatusOK {
		t.Fatalf("45 days back with a 45-day look-back: %d %v", status, body)
	}
}

// TestOldCareIsSubmittedAndPrescribed: care more than two years old used
// to be refused at submission, so prescribed was out of reach. Care up to
// submission_limit_days back (1095 by default) is held, and decided as
// the CPAM's two-year limit says.
func TestOldCareIsSubmittedAndPrescribed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Ancien", "general_practitioner", "10000000014")
	h.setNow(at(t, "2024-04-01"))
	p := h.newPatient(t, "Ancien")
	h.requestRights(t, p, "puma", "2024-03-05")
	h.openRights(t, p, "puma", "2024-03-01")

	h.setNow(defaultNow) // 2026-06-15
	old := str(t, h.submit(t, gp, p, "OLD-1", "2024-03-10"), "id")
	h.runJob(t, "release")
	inv := h.invoice(t, old)
	wantFields(t, "care of 2024-03-10 released in 2026", inv, map[string]any{"status": "city_due", "decision_reason": "prescribed"})
	wantFields(t, "its outcome", inv["outcome"].(map[string]any), map[string]any{"city_amount": "30.00"})

	before := h.state(t)
	status, body := h.do(t, "POST", "/api/v1/invoices", gp.token, invoiceBody(t, p.fileNumber, "TOO-OLD", "2023-06-15"))
	wantError(t, "care 1096 days back", status, body, http.StatusUnprocessableEntity, "invalid", "care_date")
	h.assertUnchanged(t, "care 1096 days back", before)
	h.submit(t, gp, p, "OLDEST", "2023-06-16")

	h.putSettingsWith(t, map[string]any{"submission_limit_days": 400})
	status, body = h.do(t, "POST", "/api/v1/invoices", gp.token, invoiceBody(t, p.fileNumber, "LIMIT-400", "2025-05-10"))
	wantError(t, "care 401 days back with a 400-day limit", status, body, http.StatusUnprocessableEntity, "invalid", "care_date")
	settings := h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.admin, "")
	wantFields(t, "settings", settings, map[string]any{"submission_limit_days": 400, "ame_lookback_days": 30})
}

// putSettingsWith sets the régie and the given settings as the admin.
func (h *harness) putSettingsWith(t *testing.T, more map[string]any) {
	t.Helper()
	body := map[string]any{"regie_name": "Régie PASS", "regie_iban": validIBAN2, "regie_bic": validBIC,
		"regie_ceiling": "10000.00", "annual_budget": "50000.00"}
	for k, v := range more {
		body[k] = v
	}
	h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, body))
}
