package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebCoordinatorReviewsAnInvoiceOverACeiling: under over_ceiling =
// review, an invoice over a ceiling is listed for the coordinator with its
// reasons in French; "Accepter" lets the jobs decide it; "Annuler" asks
// first, then voids another.
func TestWebCoordinatorReviewsAnInvoiceOverACeiling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{"regie_name": "Régie PASS",
		"regie_iban": validIBAN2, "regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "50000.00",
		"over_ceiling": "review"}))
	gp := h.newProvider(t, "Dr Plafond", "general_practitioner", "10000000051")
	p := h.newPatient(t, "Diallo")
	h.refuseRights(t, p)
	kept := str(t, h.submit(t, gp, p, "F-HAUT", "2026-06-01", line{"G", "45.00", 1}), "id")
	voided := str(t, h.submit(t, gp, p, "F-TROP", "2026-06-02", line{"YYYY010", "1500.00", 2}), "id")

	b := mustSignIn(t, h, h.coordinator)
	list := htmlText(b.page(t, http.StatusOK, "/coordination/factures"))
	wantContains(t, "the review list", list, "F-HAUT", "F-TROP", "Dr Plafond", "45,00\u00a0€", "30,00\u00a0€",
		"3\u202f000,00\u00a0€", "2\u202f000,00\u00a0€", `action="/coordination/factures/`+kept+`/accepter"`)

	if code, loc, body := b.post(t, "/coordination/factures", "/coordination/factures/"+kept+"/accepter", nil); code != http.StatusSeeOther ||
		loc != "/coordination/factures" {
		t.Fatalf("Accepter: %d → %q:\n%s", code, loc, body)
	}
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+kept, h.coordinator, ""); got["review_status"] != "accepted" {
		t.Fatalf("accepted on the page, the invoice is %v", got["review_status"])
	}
	// Voiding asks first; nothing changes until it is confirmed.
	code, _, body := b.post(t, "/coordination/factures", "/coordination/factures/"+voided+"/annuler", nil)
	if code != http.StatusOK {
		t.Fatalf("Annuler without confirming: %d:\n%s", code, body)
	}
	wantContains(t, "the confirmation", htmlText(body), "L'annulation est définitive")
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+voided, h.coordinator, ""); got["status"] != "pending" {
		t.Fatalf("asked, not confirmed, yet %v", got["status"])
	}
	if code, _, body := b.post(t, "/coordination/factures", "/coordination/factures/"+voided+"/annuler", url.Values{"confirme": {"oui"}}); code != http.StatusSeeOther {
		t.Fatalf("Annuler, confirmed: %d:\n%s", code, body)
	}
	h.runJob(t, "release")
	for id, want := range map[string]string{kept: "city_due", voided: "cancelled"} {
		if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, ""); got["status"] != want {
			t.Errorf("invoice %s: %v, want %s", id, got["status"], want)
		}
	}
	if list := htmlText(b.page(t, http.StatusOK, "/coordination/factures")); strings.Contains(list, "F-HAUT") || strings.Contains(list, "F-TROP") {
		t.Errorf("the list still shows a reviewed invoice:\n%s", list)
	}
}
