package main

// The coordinator's review of invoices over a ceiling (settings
// over_ceiling = review), driven as a browser without JavaScript would:
// the list of invoices held, their reasons in French, accepting one (the
// release job then decides it) and voiding another.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"passd/billing"
)

// reviewSettings saves the settings through the admin's page, with the
// tariff's: over a ceiling, an invoice is held for review.
func reviewSettings(t *testing.T, h *harness, invoiceCeiling string) {
	t.Helper()
	admin := mustSignIn(t, h, h.admin)
	form := url.Values{"regie_name": {"Régie PASS"}, "regie_iban": {validIBAN2}, "regie_bic": {validBIC}, "regie_ceiling": {"10000"},
		"annual_budget": {"120000"}, "invoice_ceiling": {invoiceCeiling}, "over_ceiling": {"review"}}
	if code, _, body := admin.post(t, "/admin/parametres", "/admin/parametres", form); code != http.StatusSeeOther {
		t.Fatalf("the review settings: %d:\n%s", code, body)
	}
}

// invoiceStatus reads an invoice's status and review from the store.
func invoiceStatus(t *testing.T, h *harness, id string) billing.Invoice {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatalf("invoice id %q: %v", id, err)
	}
	inv, err := h.app.billing.Invoice(inConvention(context.Background()), n, 0)
	if err != nil {
		t.Fatalf("invoice %s: %v", id, err)
	}
	return inv
}

func TestWebCoordinatorAcceptsAnInvoiceHeldForReview(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reviewSettings(t, h, "50,00")
	gp := h.newProvider(t, "Dr Plafond", "general_practitioner", "10000000051")
	p := h.newPatient(t, "Revue")
	h.openRights(t, p, "puma", "2026-06-01")

	// G at 45.00 on its second line (over 30.00), and a total of 75.00
	// over the invoice ceiling of 50.00: stored, held.
	held := h.submit(t, gp, p, "REV-1", "2026-06-10", line{"G", "30.00", 1}, line{"G", "45.00", 1})
	id := str(t, held, "id")
	if inv := invoiceStatus(t, h, id); inv.ReviewStatus != billing.ReviewFlagged || len(inv.ReviewReasons) != 2 {
		t.Fatalf("the submitted invoice: review %q, reasons %+v", inv.ReviewStatus, inv.ReviewReasons)
	}
	other := str(t, h.submit(t, gp, p, "REV-2", "2026-06-11", line{"G", "45.00", 1}), "id")
	plain := str(t, h.submit(t, gp, p, "OK-1", "2026-06-11"), "id")

	b := mustSignIn(t, h, h.coordinator)
	page := htmlText(b.page(t, http.StatusOK, "/coordination/factures"))
	wantContains(t, "the invoices to check", page, "<h1>Factures à vérifier</h1>", `<a href="/coordination/factures" aria-current="page">`,
		`<a href="/factures/`+id+`">REV-1</a>`, "<td>Dr Plafond</td>", "<td>"+p.fileNumber+"</td>", "<td>10/06/2026</td>",
		"<li>Ligne 2 : prix unitaire 45,00\u00a0€ au-dessus du plafond 30,00\u00a0€ (G)</li>",
		"<li>Total 75,00\u00a0€ au-dessus du plafond de la convention 50,00\u00a0€</li>",
		"<td>Ligne 1 : prix unitaire 45,00\u00a0€ au-dessus du plafond 30,00\u00a0€ (G)</td>",
		`action="/coordination/factures/`+id+`/accepter"`, `action="/coordination/factures/`+id+`/annuler"`)
	if strings.Contains(page, "OK-1") {
		t.Errorf("an invoice under every ceiling is listed for review")
	}
	// The invoice's page says it waits, and why.
	wantContains(t, "the held invoice's page", htmlText(b.page(t, http.StatusOK, "/factures/"+id)), "<dt>Vérification</dt>",
		"à vérifier par la coordination", "<li>Total 75,00\u00a0€ au-dessus du plafond de la convention 50,00\u00a0€</li>",
		`<a href="/coordination/factures">L'accepter ou l'annuler`)

	// The release job leaves held invoices alone.
	h.runJob(t, "release")
	if inv := invoiceStatus(t, h, id); inv.Status != billing.StatusPending {
		t.Fatalf("a held invoice was decided: %s", inv.Status)
	}
	if inv := invoiceStatus(t, h, plain); inv.Status != billing.StatusReleased {
		t.Fatalf("the plain invoice: %s, want released", inv.Status)
	}

	// Accepted, it leaves the list and the next run decides it.
	code, loc, body := b.post(t, "/coordination/factures", "/coordination/factures/"+id+"/accepter", nil)
	if code != http.StatusSeeOther || loc != "/coordination/factures" {
		t.Fatalf("Accepter: %d → %q:\n%s", code, loc, body)
	}
	if inv := invoiceStatus(t, h, id); inv.ReviewStatus != billing.ReviewAccepted || inv.Status != billing.StatusPending {
		t.Errorf("the accepted invoice: %s, review %q", inv.Status, inv.ReviewStatus)
	}
	if n := h.count(t, "audit_log", "action = 'invoice.review' AND actor = 'coordinator' AND entity_id = '"+id+"'"); n != 1 {
		t.Errorf("%d invoice.review audit rows by the coordinator, want 1", n)
	}
	page = htmlText(b.page(t, http.StatusOK, "/coordination/factures"))
	wantContains(t, "after accepting", page, "Facture acceptée : elle sera décidée avec les autres.", "REV-2")
	if strings.Contains(page, "REV-1") {
		t.Errorf("the accepted invoice is still listed")
	}
	h.runJob(t, "release")
	if inv := invoiceStatus(t, h, id); inv.Status != billing.StatusReleased {
		t.Errorf("the accepted invoice after the release job: %s, want released", inv.Status)
	}
	wantContains(t, "the accepted invoice's page", htmlText(b.page(t, http.StatusOK, "/factures/"+id)),
		"acceptée par la coordination après vérification", "Elle avait été retenue")

	// Accepting it again is refused on the list, in French.
	code, _, body = b.post(t, "/coordination/factures", "/coordination/factures/"+id+"/accepter", nil)
	if code != http.StatusConflict || !strings.Contains(htmlText(body), "n'attend plus de vérification") {
		t.Errorf("accepting twice: %d:\n%s", code, body)
	}

	// Voiding asks first, then cancels the invoice as the API's cancel.
	code, _, body = b.post(t, "/coordination/factures", "/coordination/factures/"+other+"/annuler", nil)
	if code != http.StatusOK || !strings.Contains(htmlText(body), "L'annulation est définitive") {
		t.Fatalf("Annuler: %d:\n%s", code, body)
	}
	if inv := invoiceStatus(t, h, other); inv.Status != billing.StatusPending {
		t.Fatalf("the invoice was cancelled before the confirmation: %s", inv.Status)
	}
	code, loc, body = b.post(t, "/coordination/factures", "/coordination/factures/"+other+"/annuler", url.Values{"confirme": {"oui"}})
	if code != http.StatusSeeOther || loc != "/coordination/factures" {
		t.Fatalf("confirmed void: %d → %q:\n%s", code, loc, body)
	}
	if inv := invoiceStatus(t, h, other); inv.Status != billing.StatusCancelled || inv.DecisionReason != "voided" {
		t.Errorf("the voided invoice: %s (%s), want cancelled (voided)", inv.Status, inv.DecisionReason)
	}
	wantContains(t, "after voiding", htmlText(b.page(t, http.StatusOK, "/coordination/factures")), "Facture annulée.",
		"Aucune facture n'attend de vérification.")

	// The list and its actions are the coordinator's only.
	for role, token := range map[string]string{"admin": h.admin, "finance": h.finance, "provider": gp.token} {
		o := mustSignIn(t, h, token)
		if rec := o.do(t, "GET", "/coordination/factures", nil); rec.Code != http.StatusForbidden {
			t.Errorf("%s GET /coordination/factures: %d, want 403", role, rec.Code)
		}
	}
}

func TestWebProviderFormExplainsACeilingInFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Refus", "general_practitioner", "10000000052")
	p := h.newPatient(t, "Plafond")
	b := mustSignIn(t, h, gp.token)

	// Under the default (refuse), a price over the catalogue's ceiling
	// and a code the kind may not bill are refused next to their line.
	for _, c := range []struct {
		code, price, field, want string
	}{
		{"G", "45,00", "unit_price", "Ce prix dépasse le plafond du catalogue des actes pour ce code."},
		{"AMI", "3,15", "code", "votre type d'effecteur ne peut pas le facturer"},
	} {
		form := url.Values{"patient_file_number": {p.fileNumber}, "birth_date": {testBirthDate}, "external_ref": {"F-" + c.code}, "care_date": {"2026-06-10"},
			"code": {c.code}, "label": {"Acte"}, "quantity": {"1"}, "unit_price": {c.price}}
		code, _, body := b.post(t, "/effecteur/factures/nouvelle", "/effecteur/factures/nouvelle", form)
		if code != http.StatusUnprocessableEntity || !strings.Contains(htmlText(body), c.want) {
			t.Errorf("%s at %s: %d, want 422 with %q:\n%s", c.code, c.price, code, c.want, body)
		}
	}
	if n := h.count(t, "invoices"); n != 0 {
		t.Errorf("%d invoices stored by refused forms", n)
	}
}
