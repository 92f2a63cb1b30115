package main

// What the city gets back after a re-decision, through HTTP and the
// finance pages: a recovery from a provider deducted from its next payout
// batch (the batch's JSON, its SEPA file, its page), listed for a titre
// de recettes once it has waited too long; the refunds due to the CPAM;
// the budget that counts both.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"passd/ident"
	"passd/web"
)

// idOf parses an id the API gave.
func idOf(t *testing.T, s string) int64 {
	t.Helper()
	id, err := ident.ParseID(s)
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return id
}

// patientOf is the file an invoice was submitted for.
func (h *harness) patientOf(t *testing.T, invoiceID string) patientFixture {
	t.Helper()
	var id int64
	if err := h.pool.QueryRow(context.Background(), `SELECT patient_id FROM invoices WHERE id = $1`, idOf(t, invoiceID)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return patientFixture{id: fmt.Sprint(id)}
}

// recoverPaid records PUMa rights, late, covering the care of a city_due
// invoice the régie paid, and runs the release job, which decides it
// again: released, a recovery claim for the CPAM's share, and that share
// owed back by the provider (a recovery of share).
func (h *harness) recoverPaid(t *testing.T, invoiceID, share string) {
	t.Helper()
	h.openRights(t, h.patientOf(t, invoiceID), "puma", "2026-01-01")
	h.runJob(t, "release")
	if n := h.count(t, "provider_recoveries", "invoice_id = "+invoiceID, "amount = "+share); n != 1 {
		t.Fatalf("invoice %s: %d recoveries of %s, want 1", invoiceID, n, share)
	}
}

// refundPaid corrects the opening that released an invoice, whose claim
// the CPAM paid in full, into a refusal: the city refunds the CPAM what it
// paid, and bears the invoice.
func (h *harness) refundPaid(t *testing.T, invoiceID, claimID string) {
	t.Helper()
	p := h.patientOf(t, invoiceID)
	if status, body := h.correct(t, p, latestDecision(t, h, p), map[string]any{"decision": "refused", "reason": "résidence non établie",
		"correction_reason": "ouverture enregistrée par erreur"}); status != http.StatusOK {
		t.Fatalf("correction of invoice %s's rights: %d %v", invoiceID, status, body)
	}
	if n := h.count(t, "cpam_refunds", "claim_id = "+claimID); n != 1 {
		t.Fatalf("claim %s: %d refunds, want 1", claimID, n)
	}
}

// pbPaid marks a batch paid today as h.finance.
func (h *harness) pbPaid(t *testing.T, id string) map[string]any {
	t.Helper()
	return h.mustDo(t, http.StatusOK, "POST", pbPath(id, "paid"), h.finance, `{"paid_on": "`+today+`"}`)
}

func TestRecoveriesAndRefundsThroughTheAPIAndThePages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	approver := h.newFinance(t, "finance-b")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	nurse := h.newProvider(t, "Cabinet Soins", "nurse", "10000000002")

	// The CPAM paid a claim for care the city now bears: a refund is due.
	refunded, claim := h.releasedClaim(t, gp, "Ba", "ame", "CPAM-1", "40.00")
	claimBatch := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/claim-batches", h.referent, ""), "id")
	h.importReturn(t, claimBatch, returnJSON(t, []string{str(t, claim, "id"), "paid", "40.00", "2026-06-12"}))
	h.refundPaid(t, refunded, str(t, claim, "id"))

	// The régie paid a GP 30.00 for care the CPAM now bears 21.00 of.
	overpaid := h.cityDue(t, gp, h.newPatient(t, "Diallo"), "OVER", "30.00")[0]
	first := str(t, h.pbApproved(t, approver, gp.id), "id")
	h.pbPaid(t, first)
	h.recoverPaid(t, overpaid, "21.00")
	next := h.cityDue(t, gp, h.newPatient(t, "Sy"), "NEXT", "50.00")[0]
	h.cityDue(t, nurse, h.newPatient(t, "Ndiaye"), "SOIN", "8.00")

	// The next batch deducts it from the GP's 50.00; the nurse gets all of
	// its 8.00. (The first batch paid the GP the 30.00; the 40.00 the CPAM
	// paid stays with the GP, the city refunding the CPAM.)
	batch := h.pbDraft(t, h.finance, "")
	id := str(t, batch, "id")
	wantFields(t, "the draft", batch, map[string]any{"total": "58.00", "offset_total": "21.00", "net_total": "37.00"})
	providers := map[string]map[string]any{}
	for _, p := range pbProviders(t, batch) {
		providers[str(t, p, "provider_id")] = p
	}
	wantFields(t, "the GP in the draft", providers[gp.id], map[string]any{"amount": "50.00", "offset": "21.00", "net": "29.00"})
	wantFields(t, "the nurse in the draft", providers[nurse.id], map[string]any{"amount": "8.00", "offset": "0.00", "net": "8.00"})
	recoveries := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/recoveries", h.admin, ""))
	if len(recoveries) != 1 {
		t.Fatalf("recoveries = %v, want one", recoveries)
	}
	wantFields(t, "the recovery", recoveries[0], map[string]any{"invoice_id": overpaid, "external_ref": "OVER-1", "provider_id": gp.id,
		"provider_name": "Dr Martin", "rpps": "10000000001", "finess": nil, "amount": "21.00", "status": "offset", "days_waiting": nil,
		"offset_batch_id": id, "offset_batch_status": "draft"})
	if got := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/recoveries?status=open", h.finance, "")); len(got) != 0 {
		t.Errorf("open recoveries = %v, want none", got)
	}
	if got := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/recoveries?batch_id="+id, h.finance, "")); len(got) != 1 {
		t.Errorf("recoveries of the draft = %v, want one", got)
	}
	status, body := h.do(t, "GET", "/api/v1/recoveries?status=closed", h.finance, "")
	wantError(t, "an unknown status", status, body, http.StatusUnprocessableEntity, "invalid", "status")

	refunds := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/cpam-refunds", h.finance, ""))
	if len(refunds) != 1 {
		t.Fatalf("refunds = %v, want one", refunds)
	}
	wantFields(t, "the refund", refunds[0], map[string]any{"invoice_id": refunded, "external_ref": "CPAM-1", "provider_name": "Dr Martin",
		"claim_id": str(t, claim, "id"), "claim_batch_id": claimBatch, "claim_paid_on": "2026-06-12", "amount": "40.00"})
	rec := h.doRaw(t, "GET", "/api/v1/cpam-refunds?format=csv", h.admin, "")
	rows := csvRows(t, rec.Body.String())
	wantRows := [][]string{{"Remboursement", "Facture", "Réf. facture", "Effecteur", "Demande CPAM", "Lot CPAM", "Payé par la CPAM le", "Montant", "Dû depuis le"},
		{str(t, refunds[0], "id"), refunded, "CPAM-1", "Dr Martin", str(t, claim, "id"), claimBatch, "12/06/2026", "40,00", "15/06/2026"}}
	if rec.Code != http.StatusOK || !slices.EqualFunc(rows, wantRows, slices.Equal) ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "remboursements-cpam-pass.csv") {
		t.Errorf("refunds CSV: %d %q\n%q\nwant %q", rec.Code, rec.Header().Get("Content-Disposition"), rows, wantRows)
	}

	// The budget: gross spend, what is recovered, refunds due, the net.
	wantFields(t, "the budget", h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/budget", h.finance, ""), map[string]any{
		"committed": "58.00", "paid": "30.00", "recovered": "21.00", "recovered_offset": "0.00", "cpam_refunds": "40.00",
		"net": "107.00", "net_remaining": "49893.00"})

	// The pages say the same, in French.
	eur := func(s string) string { return web.FormatAmount(mustDecimal(t, s)) }
	fin := mustSignIn(t, h, h.finance)
	page := htmlText(fin.page(t, http.StatusOK, "/finances/lots/"+id))
	wantContains(t, "the batch page", page, "Reprises sur paiements antérieurs", "Net à verser", "OVER-1",
		"<dd>− "+eur("21.00")+"</dd>", "<dd>"+eur("37.00")+"</dd>", "<td class=\"num\">"+eur("29.00")+"</td>")
	home := htmlText(fin.page(t, http.StatusOK, "/finances"))
	wantContains(t, "the dashboard", home, `href="/finances/reprises"`, "Reprises sur effecteurs", "Remboursements dus à la CPAM",
		"Dépense nette")
	reprises := htmlText(fin.page(t, http.StatusOK, "/finances/reprises"))
	wantContains(t, "the recoveries page", reprises, "<h1>Reprises et remboursements</h1>", "Aucune reprise n'attend un titre de recettes.",
		"Remboursements dus à la CPAM", "CPAM-1", eur("40.00"), `href="/finances/titres-de-recettes.csv"`, `href="/finances/remboursements-cpam.csv"`)
	wantContains(t, "GET /finances/reprises as a provider", mustSignIn(t, h, gp.token).page(t, http.StatusForbidden, "/finances/reprises"), "Accès refusé")

	// The SEPA file pays the net, and tells the GP what was deducted.
	h.mustDo(t, http.StatusOK, "POST", pbPath(id, "submit"), h.finance, "")
	h.mustDo(t, http.StatusOK, "POST", pbPath(id, "approve"), approver, "")
	doc := h.pbSEPA(t, id)
	if doc.GrpHdr.CtrlSum != "37.00" || doc.PmtInf[0].CtrlSum != "37.00" || len(doc.PmtInf[0].Transfers) != 2 {
		t.Fatalf("SEPA: CtrlSum %s / %s, %d transfers; want 37.00, 2", doc.GrpHdr.CtrlSum, doc.PmtInf[0].CtrlSum, len(doc.PmtInf[0].Transfers))
	}
	for _, tr := range doc.PmtInf[0].Transfers {
		switch tr.EndToEndID {
		case fmt.Sprintf("PASSD-%s-%s", id, gp.id):
			if tr.Amount.Value != "29.00" || !strings.HasPrefix(tr.Remittance, "PASS lot "+id+" moins reprise 21,00 EUR factures ") {
				t.Errorf("the GP's transfer: %s %q", tr.Amount.Value, tr.Remittance)
			}
		case fmt.Sprintf("PASSD-%s-%s", id, nurse.id):
			if tr.Amount.Value != "8.00" || tr.Remittance != "PASS lot "+id+" factures SOIN-1" {
				t.Errorf("the nurse's transfer: %s %q", tr.Amount.Value, tr.Remittance)
			}
		default:
			t.Errorf("unexpected transfer %s", tr.EndToEndID)
		}
	}
	paid := h.pbPaid(t, id)
	wantFields(t, "the paid batch", paid, map[string]any{"status": "paid", "offset_total": "21.00", "net_total": "37.00"})
	wantFields(t, "the budget once paid", h.mustDo(t, http.StatusOK, "GET", "/api/v1/reports/budget", h.finance, ""), map[string]any{
		"committed": "0.00", "paid": "88.00", "recovered": "21.00", "recovered_offset": "21.00", "net": "107.00"})
	h.checkInvariants(t)

	// Another recovery, past the 60 days: listed for a titre de recettes,
	// in the API's CSV and on the page, which downloads the same file.
	h.recoverPaid(t, next, "35.00")
	h.setNow(defaultNow.AddDate(0, 0, 61))
	titres := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/recoveries?status=titre", h.finance, ""))
	if len(titres) != 1 {
		t.Fatalf("titre recoveries = %v, want one", titres)
	}
	wantFields(t, "the titre", titres[0], map[string]any{"invoice_id": next, "amount": "35.00", "days_waiting": 61, "offset_batch_id": nil})
	rec = h.doRaw(t, "GET", "/api/v1/recoveries?status=titre&format=csv", h.finance, "")
	rows = csvRows(t, rec.Body.String())
	wantRows = [][]string{{"Reprise", "Effecteur", "RPPS", "FINESS", "Facture", "Réf. facture", "Montant", "Créée le", "Jours d'attente", "Statut", "Lot"},
		{str(t, titres[0], "id"), "Dr Martin", "10000000001", "", next, "NEXT-1", "35,00", "15/06/2026", "61", "titre de recettes à émettre", ""}}
	if rec.Code != http.StatusOK || !slices.EqualFunc(rows, wantRows, slices.Equal) ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "titres-de-recettes-pass.csv") {
		t.Errorf("titre CSV: %d %q\n%q\nwant %q", rec.Code, rec.Header().Get("Content-Disposition"), rows, wantRows)
	}
	fin = mustSignIn(t, h, h.finance) // the session ended with the 61 days
	reprises = htmlText(fin.page(t, http.StatusOK, "/finances/reprises"))
	wantContains(t, "the recoveries page", reprises, "Titres de recettes à émettre", "NEXT-1", "RPPS 10000000001", eur("35.00"))
	for page, api := range map[string]string{
		"/finances/titres-de-recettes.csv":  "/api/v1/recoveries?status=titre&format=csv",
		"/finances/remboursements-cpam.csv": "/api/v1/cpam-refunds?format=csv",
	} {
		got, want := fin.do(t, "GET", page, nil), h.doRaw(t, "GET", api, h.finance, "")
		if got.Code != http.StatusOK || got.Body.String() != want.Body.String() || got.Header().Get("Content-Disposition") != want.Header().Get("Content-Disposition") {
			t.Errorf("GET %s: %d, want the API's %s:\n%s\n---\n%s", page, got.Code, api, got.Body.String(), want.Body.String())
		}
	}
	// A draft for the GP now leaves the titre alone.
	h.cityDue(t, gp, h.newPatient(t, "Ba"), "LATER", "100.00")
	wantFields(t, "a draft after the delay", h.pbDraft(t, h.finance, ""), map[string]any{"total": "100.00", "offset_total": "0.00"})
}
