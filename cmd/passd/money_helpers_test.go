package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"passd/auth"
	"passd/journal"
)

// checkInvariants fails the test when any money invariant is broken.
func (h *harness) checkInvariants(t *testing.T) {
	t.Helper()
	report, err := journal.Check(context.Background(), h.pool)
	if err != nil {
		t.Errorf("invariant check: %v", err)
		return
	}
	for _, f := range report.Findings {
		if f.Violations > 0 {
			t.Errorf("invariant %s broken %d time(s): %v", f.Name, f.Violations, f.Examples)
		}
	}
}

// newFinance creates another finance user and returns its token.
func (h *harness) newFinance(t *testing.T, name string) string {
	t.Helper()
	return h.user(t, name, auth.Finance, 0)
}

// setRegie sets the régie's account, ceiling and budget as the admin, a
// change of the account confirmed by h.checker.
func (h *harness) setRegie(t *testing.T, ceiling, budget string) map[string]any {
	t.Helper()
	put := h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{
		"regie_name": "Régie PASS de la Ville d'Évry", "regie_iban": validIBAN2, "regie_bic": validBIC,
		"regie_ceiling": ceiling, "annual_budget": budget}))
	if put["pending_regie_change"] != nil {
		h.confirmBank(t, put["pending_regie_change"])
		put = h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.admin, "")
	}
	return put
}

// anyAct is one act at price that every kind of provider may bill: a CCAM
// code outside the acts catalogue, priced as the provider's acts, without
// a ceiling of its own.
func anyAct(price string) line { return line{"YYYY010", price, 1} }

// cityDue submits one invoice per amount for p, all past their deadline,
// and runs the deadline job: each becomes a due payout of its amount.
// It returns the invoice ids in order.
func (h *harness) cityDue(t *testing.T, pr providerFixture, p patientFixture, refPrefix string, amounts ...string) []string {
	t.Helper()
	var out []string
	for i, a := range amounts {
		// 2026-03-01 + 90 days = 2026-05-30, before the harness's today.
		inv := h.submit(t, pr, p, fmt.Sprintf("%s-%d", refPrefix, i+1), "2026-03-01", anyAct(a))
		out = append(out, str(t, inv, "id"))
	}
	h.runJob(t, "deadline")
	for _, id := range out {
		if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.admin, ""); got["status"] != "city_due" {
			t.Fatalf("invoice %s is %v, want city_due", id, got["status"])
		}
	}
	return out
}

// releasedClaim submits an invoice of one line for a patient whose rights
// open under regime, releases it and returns the invoice id and its claim.
func (h *harness) releasedClaim(t *testing.T, pr providerFixture, lastName, regime, ref, price string) (invoiceID string, claim map[string]any) {
	t.Helper()
	p := h.newPatient(t, lastName)
	inv := h.submit(t, pr, p, ref, "2026-06-01", anyAct(price))
	invoiceID = str(t, inv, "id")
	h.openRights(t, p, regime, "2026-05-01")
	h.runJob(t, "release")
	for _, c := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/claims", h.referent, "")) {
		if c["invoice_id"] == invoiceID {
			return invoiceID, c
		}
	}
	t.Fatalf("no claim for invoice %s", invoiceID)
	return "", nil
}

// payoutsOf returns the payouts of an invoice as finance sees them.
func (h *harness) payoutsOf(t *testing.T, invoiceID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts?limit=500", h.finance, "")) {
		if p["invoice_id"] == invoiceID {
			out = append(out, p)
		}
	}
	return out
}

// returnJSON builds a CPAM return body from lines of
// "claim_id outcome amount-or-reason [paid_on]".
func returnJSON(t *testing.T, lines ...[]string) string {
	t.Helper()
	var out []map[string]any
	for _, l := range lines {
		m := map[string]any{"claim_id": l[0], "outcome": l[1]}
		if l[1] == "paid" {
			m["paid_amount"], m["paid_on"] = l[2], l[3]
		} else {
			m["reason"] = l[2]
		}
		out = append(out, m)
	}
	return mustJSON(t, map[string]any{"lines": out})
}

// lineResults returns the result of each line of a return report.
func lineResults(t *testing.T, report map[string]any) []string {
	t.Helper()
	raw, ok := report["lines"].([]any)
	if !ok {
		t.Fatalf("return report without lines: %v", report)
	}
	var out []string
	for _, l := range raw {
		out = append(out, fmt.Sprint(l.(map[string]any)["result"]))
	}
	return out
}

// csvRows splits a French spreadsheet CSV into rows of cells, checking the
// BOM. It is naive about quoting: tests use it on cells without ';'.
func csvRows(t *testing.T, body string) [][]string {
	t.Helper()
	if !strings.HasPrefix(body, "\ufeff") {
		t.Fatalf("CSV without a UTF-8 BOM: %q", body[:min(len(body), 40)])
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(body, "\ufeff"), "\r\n"), "\r\n") {
		out = append(out, strings.Split(l, ";"))
	}
	return out
}
