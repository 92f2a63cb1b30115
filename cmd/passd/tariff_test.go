package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestTheActsCatalogueThroughTheAPI: an admin adds an act; a provider of a
// kind it lists may bill it at once, another kind may not; a price over
// its ceiling is refused naming the line; taken out, its key is unknown.
func TestTheActsCatalogueThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet B", "nurse", "10000000002")
	p := h.newPatient(t, "Diallo")

	act := h.mustDo(t, http.StatusOK, "PUT", "/api/v1/acts/MCG", h.admin, mustJSON(t, map[string]any{
		"label": "Majoration de coordination", "provider_kinds": []string{"general_practitioner"}, "max_unit_price": "5.00",
		"source": "convention médicale 2024"}))
	wantFields(t, "act", act, map[string]any{"code": "MCG", "rate_class": nil, "max_unit_price": "5.00", "dispensing_fee": false, "updated_by": "admin"})
	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/acts/MCG", gp.token, "")
	wantFields(t, "act as the provider reads it", got, map[string]any{"label": "Majoration de coordination"})

	inv := h.submit(t, gp, p, "F-1", "2026-06-01", line{"G", "30.00", 1}, line{"MCG", "5.00", 1})
	lines, _ := inv["lines"].([]any)
	if len(lines) != 2 || lines[1].(map[string]any)["rate_class"] != "general_practitioner" {
		t.Fatalf("lines %v, want MCG in the GP's class", lines)
	}
	for _, c := range []struct {
		name, field, code string
		pr                providerFixture
		lines             []line
	}{
		{"a kind the act does not list", "lines[0].code", "act_not_billable", nurse, []line{{"MCG", "5.00", 1}}},
		{"over the act's ceiling", "lines[1].unit_price", "over_ceiling", gp, []line{{"G", "30.00", 1}, {"MCG", "5.01", 1}}},
		{"over the convention's ceiling", "lines", "over_ceiling", gp, []line{{"YYYY010", "1000.00", 2}, {"G", "0.01", 1}}},
	} {
		before := h.state(t)
		status, body := h.do(t, "POST", "/api/v1/invoices", c.pr.token, invoiceBody(t, p.fileNumber, "F-"+c.name, "2026-06-01", c.lines...))
		wantError(t, c.name, status, body, http.StatusUnprocessableEntity, c.code, c.field)
		h.assertUnchanged(t, c.name, before)
	}
	if rec := h.doRaw(t, "DELETE", "/api/v1/acts/MCG", h.admin, ""); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE /acts/MCG: %d %s", rec.Code, rec.Body)
	}
	status, body := h.do(t, "POST", "/api/v1/invoices", gp.token, invoiceBody(t, p.fileNumber, "F-2", "2026-06-01", line{"MCG", "5.00", 1}))
	wantError(t, "a key taken out of the catalogue", status, body, http.StatusUnprocessableEntity, "act_not_billable", "lines[0].code")
	if n := h.count(t, "audit_log", "action IN ('act.put', 'act.delete')"); n != 2 {
		t.Fatalf("%d audit rows for the act, want 2", n)
	}
}

// TestTheDrugTableImport: a file with bad rows stores nothing and names
// them by line; a good file adds and replaces; a pharmacy's line takes the
// class of its drug, and its dispensing fee that of the drug before it.
func TestTheDrugTableImport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pharmacy := h.newProvider(t, "Pharmacie", "pharmacy", "10000000003")
	p := h.newPatient(t, "Diallo")
	csv := []string{"Content-Type", "text/csv"}

	bad := "cip13;label;class\r\n3400935955838;Veinotonique;15\r\n3400935955839;Mauvaise clé;65\r\n3400930000007;Antalgique;40\r\n"
	before := h.state(t)
	status, body := h.do(t, "POST", "/api/v1/drugs/import", h.admin, bad, csv...)
	wantError(t, "a file with two bad rows", status, body, http.StatusUnprocessableEntity, "invalid", "file")
	if msg := str(t, body["error"].(map[string]any), "message"); !strings.Contains(msg, "line 3") || !strings.Contains(msg, "line 4") ||
		strings.Contains(msg, "line 2") {
		t.Errorf("the error names %q, want lines 3 and 4", msg)
	}
	h.assertUnchanged(t, "a refused import", before)

	good := "cip13;label;class\r\n3400935955838;Veinotonique;15 %\r\n3400930000007;Antalgique;65\r\n"
	res := h.mustDo(t, http.StatusOK, "POST", "/api/v1/drugs/import", h.admin, good, csv...)
	wantFields(t, "import", res, map[string]any{"created": 2, "updated": 0})
	page := h.mustDo(t, http.StatusOK, "GET", "/api/v1/drugs?class=15", pharmacy.token, "")
	if list := items(t, page); len(list) != 1 || list[0]["cip13"] != "3400935955838" {
		t.Fatalf("class 15: %v", list)
	}
	inv := h.submit(t, pharmacy, p, "P-1", "2026-06-01", line{"3400935955838", "2.13", 3}, line{"HD", "1.02", 3},
		line{"3400930000014", "7.33", 1}, line{"HD", "1.02", 1})
	var classes []string
	for _, l := range inv["lines"].([]any) {
		classes = append(classes, l.(map[string]any)["rate_class"].(string))
	}
	if strings.Join(classes, " ") != "drug_15 drug_15 drug_65 drug_65" {
		t.Fatalf("classes %v", classes)
	}
}

// TestRatesThroughTheAPI: a change is recorded from its day, listed in the
// history and in force from then; the same day twice is a conflict.
func TestRatesThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	change := mustJSON(t, map[string]any{"regime": "puma", "rate_class": "nurse", "effective_from": "2026-07-01", "rate": "0.55",
		"reason": "arrêté du 1er juin 2026"})
	got := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/rates", h.admin, change)
	wantFields(t, "rate", got, map[string]any{"rate": "0.550", "created_by": "admin"})
	status, body := h.do(t, "POST", "/api/v1/rates", h.admin, change)
	wantError(t, "the same day twice", status, body, http.StatusConflict, "duplicate_rate", "effective_from")
	status, body = h.do(t, "POST", "/api/v1/rates", h.admin, strings.Replace(change, `"0.55"`, `"1.5"`, 1))
	wantError(t, "a rate above 1", status, body, http.StatusUnprocessableEntity, "invalid", "rate")

	nurseRate := func(on string) string {
		for _, r := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/rates?on="+on, h.finance, "")) {
			if r["regime"] == "puma" && r["rate_class"] == "nurse" {
				return r["rate"].(string)
			}
		}
		return "none"
	}
	if a, b := nurseRate("2026-06-30"), nurseRate("2026-07-01"); a != "0.600" || b != "0.550" {
		t.Fatalf("nurse rate %s the day before, %s on the day; want 0.600, 0.550", a, b)
	}
	if n := len(items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/rates", h.coordinator, ""))); n != 31 {
		t.Fatalf("%d rows of history, want the 30 seeded and the change", n)
	}
}

// TestAnInvoiceHeldForReviewThroughTheAPI: under over_ceiling = review,
// the invoice is stored flagged with its reasons, listed for the
// coordinator, and decided once accepted.
func TestAnInvoiceHeldForReviewThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{"regie_name": "Régie PASS",
		"regie_iban": validIBAN2, "regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "50000.00",
		"over_ceiling": "review", "invoice_ceiling": "500.00"}))
	gp := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	h.refuseRights(t, p)
	inv := h.submit(t, gp, p, "F-1", "2026-06-01", line{"G", "45.00", 1}, line{"YYYY010", "500.00", 1})
	id := str(t, inv, "id")
	wantFields(t, "flagged invoice", inv, map[string]any{"status": "pending", "review_status": "flagged"})
	if reasons, _ := inv["review_reasons"].([]any); len(reasons) != 2 {
		t.Fatalf("reasons %v, want the unit price and the total", inv["review_reasons"])
	}
	listed := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices?review=flagged", h.coordinator, ""))
	if len(listed) != 1 || listed[0]["id"] != id {
		t.Fatalf("flagged list %v", listed)
	}
	h.runJob(t, "release")
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, ""); got["status"] != "pending" {
		t.Fatalf("decided while flagged: %v", got["status"])
	}
	wantFields(t, "accepted", h.mustDo(t, http.StatusOK, "POST", "/api/v1/invoices/"+id+"/review", h.coordinator, ""),
		map[string]any{"review_status": "accepted"})
	status, body := h.do(t, "POST", "/api/v1/invoices/"+id+"/review", h.coordinator, "")
	wantError(t, "accepted twice", status, body, http.StatusConflict, "not_flagged", "")
	h.runJob(t, "release")
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, ""); got["status"] != "city_due" {
		t.Fatalf("accepted, then %v; want city_due", got["status"])
	}
}
