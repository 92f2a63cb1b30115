package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestTheProgrammeFiguresOfAHandMadeYear builds a small half-year through
// the API, works out every figure by hand, and reads them back from
// GET /reports/programme, JSON and CSV. Today is 2026-06-15 (the
// harness's clock): every file is opened and every decision taken today.
func TestTheProgrammeFiguresOfAHandMadeYear(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet B", "nurse", "10000000002")

	// Seven files; their applications and, for five, the decision today.
	// Days from filing to decision: 22, 70, 130 (refused), 14, 20.
	var p [8]patientFixture
	for i := 1; i <= 7; i++ {
		p[i] = h.newPatient(t, "Patient"+string(rune('A'+i-1)))
	}
	// Five live in Lorient (56121), one in Lanester (56098), one has no
	// commune on file; one moved and was corrected.
	for i, code := range []string{"", "56121", "56121", "56121", "56121", "56098", "56098"} {
		if i > 0 {
			h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/patients/"+p[i].id, h.coordinator, `{"commune_code": "`+code+`"}`)
		}
	}
	h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/patients/"+p[5].id, h.coordinator, `{"commune_code": " 56121 "}`)
	h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/patients/"+p[7].id, h.coordinator, `{"commune_code": ""}`)
	for _, d := range []struct {
		i              int
		regime, filed  string
		refuse, decide bool
	}{
		{1, "ame", "2026-05-24", false, true}, {2, "puma", "2026-04-06", false, true}, {3, "puma", "2026-02-05", true, true},
		{4, "puma_css", "2026-06-01", false, true}, {5, "ame", "2026-05-26", false, true},
		{6, "puma", "2026-06-01", false, false}, {7, "puma", "2026-04-20", false, false},
	} {
		h.requestRights(t, p[d.i], d.regime, d.filed)
		switch {
		case d.refuse:
			h.refuseRights(t, p[d.i])
		case d.decide:
			h.openRights(t, p[d.i], d.regime, d.filed)
		}
	}
	// Care: 150.00 in five invoices. AME pays P1's 30.00 in full; PUMa 70 %
	// of P2's 50.00 (35.00, the city 15.00); the city all of P3's 20.00; P6's
	// 10.00 waits; P7's 40.00 is withdrawn.
	inv1 := str(t, h.submit(t, gp, p[1], "I-1", "2026-06-01", anyAct("30.00")), "id")
	inv2 := str(t, h.submit(t, gp, p[2], "I-2", "2026-06-02", anyAct("50.00")), "id")
	h.submit(t, nurse, p[3], "I-3", "2026-06-03", anyAct("20.00"))
	h.submit(t, nurse, p[6], "I-4", "2026-06-04", anyAct("10.00"))
	withdrawn := str(t, h.submit(t, gp, p[7], "I-5", "2026-06-05", anyAct("40.00")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/invoices/"+withdrawn+"/cancel", gp.token, "")
	h.runJob(t, "release")
	// The CPAM pays both claims (65.00); the régie pays the city's 35.00.
	batch := str(t, h.batchClaims(t), "id")
	var lines [][]string
	for _, c := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims?limit=500", h.referent, "")) {
		if c["invoice_id"] == inv1 || c["invoice_id"] == inv2 {
			lines = append(lines, []string{str(t, c, "id"), "paid", str(t, c, "amount"), "2026-06-10"})
		}
	}
	h.importReturn(t, batch, returnJSON(t, lines...))
	h.pbPaid(t, str(t, h.pbApproved(t, h.checker, ""), "id"))

	report := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/programme?from=2026-01-01&to=2026-06-30", h.coordinator, "")
	cur := report["current"].(map[string]any)
	months := make([]any, 6)
	for i := range months {
		months[i] = map[string]any{"month": "2026-0" + string(rune('1'+i)), "files_opened": 0,
			"invoices": map[string]any{"count": 0, "amount": "0.00"}}
	}
	months[5] = map[string]any{"month": "2026-06", "files_opened": 7, "invoices": map[string]any{"count": 5, "amount": "150.00"}}
	wantFields(t, "people", cur, map[string]any{"by_month": months})
	wantFields(t, "people", cur["people"].(map[string]any), map[string]any{"files_opened": 7, "files_active": 7})
	wantFields(t, "places", cur["places"].(map[string]any), map[string]any{"by_commune": map[string]any{"56121": 5, "56098": "< 5", "unknown": "< 5"}})
	// Fewer than five people in a cell: "< 5".
	wantFields(t, "rights", cur["rights"].(map[string]any), map[string]any{"applications": 7,
		"opened_by_regime": map[string]any{"ame": "< 5", "puma": "< 5", "puma_css": "< 5"}, "refused": "< 5",
		"acceptance_rate_pct": "80.0", "delay_median_days": 22, "delay_p90_days": 130,
		"decided_within_35_days_pct": "60.0", "decided_within_90_days_pct": "80.0",
		"delay_distribution_days": map[string]any{"0-35": "< 5", "36-90": "< 5", "91+": "< 5"},
		"waiting_by_age_days":     map[string]any{"0-34": "< 5", "35-89": "< 5", "90+": 0}})
	wantFields(t, "care", cur["care"].(map[string]any), map[string]any{
		"invoices": map[string]any{"count": 5, "amount": "150.00"},
		"by_provider_kind": map[string]any{"general_practitioner": map[string]any{"count": 3, "amount": "120.00"},
			"nurse": map[string]any{"count": 2, "amount": "30.00"}},
		"by_status": map[string]any{"released": map[string]any{"count": 2, "amount": "80.00"}, "city_due": map[string]any{"count": 1, "amount": "20.00"},
			"pending": map[string]any{"count": 1, "amount": "10.00"}, "cancelled": map[string]any{"count": 1, "amount": "40.00"}},
		"by_reason": map[string]any{"rights_opened": map[string]any{"count": 2, "amount": "80.00"},
			"rights_refused": map[string]any{"count": 1, "amount": "20.00"}},
		"by_provider": []any{map[string]any{"name": "Dr A", "kind": "general_practitioner", "count": 3, "amount": "120.00"},
			map[string]any{"name": "Cabinet B", "kind": "nurse", "count": 2, "amount": "30.00"}},
		"cpam_share_pct": "65.0", "city_share_pct": "35.0"})
	// The burn-down: the city's 35.00, paid in June, out of 50 000.00.
	budget := make([]any, 6)
	for i := range budget {
		budget[i] = map[string]any{"month": "2026-0" + string(rune('1'+i)), "used": "0.00", "left": "50000.00"}
	}
	budget[5] = map[string]any{"month": "2026-06", "used": "35.00", "left": "49965.00"}
	wantFields(t, "burn-down", cur["money"].(map[string]any), map[string]any{"budget_by_month": budget})
	wantFields(t, "money", cur["money"].(map[string]any), map[string]any{"paid_by_cpam": "65.00", "paid_by_city": "35.00",
		"recovered": "0.00", "city_net_cost": "35.00", "city_net_cost_per_person": "5.00", "budget": "50000.00",
		"budget_used": "35.00", "budget_left": "49965.00"})
	// The half-year before: nothing, and nothing to divide.
	prev := report["previous"].(map[string]any)
	wantFields(t, "previous", prev, map[string]any{"from": "2025-01-01", "to": "2025-06-30"})
	wantFields(t, "previous rights", prev["rights"].(map[string]any), map[string]any{"applications": 0, "acceptance_rate_pct": nil,
		"delay_median_days": nil})
	wantFields(t, "previous money", prev["money"].(map[string]any), map[string]any{"paid_by_city": "0.00", "city_net_cost_per_person": nil})

	// The CSV says the same, suppressed alike.
	rec := h.doRaw(t, "GET", "/api/v1/reports/programme?from=2026-01-01&to=2026-06-30&format=csv", h.finance, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("csv: %d %s", rec.Code, rec.Body)
	}
	for _, row := range []string{"Personnes;Dossiers ouverts;7;0;7\r\n", "Droits;Refus;< 5;0;\r\n", "Droits;Taux d'acceptation (%);80.0;;\r\n",
		"Soins;Montant des factures;150,00;0,00;150,00\r\n", "Argent;Coût net par personne suivie;5.00;;\r\n", "Droits;Ouverts (ame);< 5;0;\r\n",
		"Soins;Factures;5;0;5\r\n", "Par mois;2026-06 dossiers ouverts;7;;\r\n", "Par mois;2026-06 montant des factures;150,00;;\r\n", "Par effecteur;Dr A (general_practitioner);120,00;;\r\n",
		"Par commune;56121;5;;\r\n", "Par commune;unknown;< 5;;\r\n", "Budget par mois;2026-06 restant;49965,00;;\r\n"} {
		if !strings.Contains(rec.Body.String(), row) {
			t.Errorf("the CSV lacks %q:\n%s", row, rec.Body)
		}
	}
	// A year, or a period, not both; the roles that read it.
	status, body := h.do(t, "GET", "/api/v1/reports/programme?year=2026&from=2026-01-01", h.admin, "")
	wantError(t, "year and period", status, body, http.StatusUnprocessableEntity, "invalid", "year")
	status, body = h.do(t, "GET", "/api/v1/reports/programme?from=2026-06-30&to=2026-01-01", h.admin, "")
	wantError(t, "a reversed period", status, body, http.StatusUnprocessableEntity, "invalid", "to")
	status, body = h.do(t, "GET", "/api/v1/reports/programme", gp.token, "")
	wantError(t, "a provider", status, body, http.StatusForbidden, "forbidden", "")
	yearly := h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/programme?year=2026", h.admin, "")
	if cur := yearly["current"].(map[string]any); cur["from"] != "2026-01-01" || cur["to"] != "2026-12-31" {
		t.Errorf("year 2026 covers %v to %v", cur["from"], cur["to"])
	}
}
