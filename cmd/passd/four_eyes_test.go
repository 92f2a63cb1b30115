package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"passd/auth"
)

// The tests of docs/attack-tree.md: the five-step attack of issue 15 as
// one scenario, then one test per leaf the scenario does not reach.

// tokenOnPage reads the token an answer page shows once.
func tokenOnPage(t *testing.T, body string) string {
	t.Helper()
	start := strings.Index(body, `<code id="new-token">`)
	if start < 0 {
		t.Fatalf("no token on the answer page:\n%s", body)
	}
	token := body[start+len(`<code id="new-token">`):]
	return token[:strings.Index(token, "</code>")]
}

// TestOneAdminCannotPayThemselves plays the attack with one admin
// account: each step must be stopped where the tree says, and the test
// names the step that let it through if one does.
func TestOneAdminCannotPayThemselves(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "20000.00", "50000.00")
	admin := mustSignIn(t, h, h.admin)

	// Step 1: a provider "Dr Mallory" with the attacker's IBAN. Creating it
	// works; its bank details do not count until finance confirms them.
	created := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/providers", h.admin, mustJSON(t, map[string]any{
		"kind": "general_practitioner", "name": "Dr Mallory", "rpps": "10000000666", "iban": validIBAN2, "bic": validBIC}))
	mallory := str(t, created, "id")
	if created["bank_confirmed"] != false || created["pending_bank_change"] == nil {
		t.Fatalf("step 1: a new provider's IBAN is in force at once: %v", created)
	}

	// Step 2: a working token for the existing user "finance", from the
	// users page. Issuing one is refused; a reset gives a token that does
	// not work until a second admin confirms it.
	code, _, body := admin.post(t, "/admin/utilisateurs", "/admin/utilisateurs", url.Values{"name": {"finance"}, "role": {"finance"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(htmlText(body), "Un utilisateur porte déjà ce nom") {
		t.Fatalf("step 2: the admin issued a token for an existing user: %d", code)
	}
	code, _, body = admin.post(t, "/admin/utilisateurs", "/admin/utilisateurs/reinitialiser", url.Values{"name": {"finance"}})
	if code != http.StatusOK {
		t.Fatalf("reset: %d:\n%s", code, body)
	}
	stolen := tokenOnPage(t, body)
	if status, _ := h.do(t, "GET", "/api/v1/payout-batches", stolen, ""); status != http.StatusUnauthorized {
		t.Fatalf("step 2: a reset token works without a second admin: %d", status)
	}
	// A sock puppet: a new finance user's first token waits the same way.
	code, _, body = admin.post(t, "/admin/utilisateurs", "/admin/utilisateurs", url.Values{"name": {"Mallory Finances"}, "role": {"finance"}})
	if code != http.StatusOK {
		t.Fatalf("new finance user: %d:\n%s", code, body)
	}
	if status, _ := h.do(t, "GET", "/api/v1/payout-batches", tokenOnPage(t, body), ""); status != http.StatusUnauthorized {
		t.Fatalf("step 2: a new finance user's token works without a second admin: %d", status)
	}
	// The reset revoked every token "finance" had: its holder is locked
	// out, which is how the attack shows, not how it hides.
	if status, _ := h.do(t, "GET", "/api/v1/payout-batches", h.finance, ""); status != http.StatusUnauthorized {
		t.Fatalf("the reset left the user's own token working: %d", status)
	}

	// Step 3: as the provider (a provider user is the admin's to create),
	// 99 × 100.00 € for a file whose rights were refused.
	code, _, body = admin.post(t, "/admin/utilisateurs", "/admin/utilisateurs",
		url.Values{"name": {"Mallory"}, "role": {"provider"}, "provider_id": {mallory}})
	if code != http.StatusOK {
		t.Fatalf("provider user: %d:\n%s", code, body)
	}
	provider := providerFixture{id: mallory, token: tokenOnPage(t, body)}
	patient := h.newPatient(t, "Victime")
	ids := h.cityDue(t, provider, patient, "M", "100.00")
	// Step 4: a batch drafted by a finance user leaves Mallory's payout
	// out (details unconfirmed); the admin cannot approve any batch.
	other := h.newFinance(t, "finance-2")
	status, answer := h.do(t, "POST", "/api/v1/payout-batches", other, "")
	if status != http.StatusConflict || codeOf(answer) != "nothing_to_batch" {
		t.Fatalf("step 4: a payout to unconfirmed bank details was batched: %d %v", status, answer)
	}
	if n := h.count(t, "payouts", "status = 'due' AND invoice_id = "+ids[0]); n != 1 {
		t.Fatalf("step 4: Mallory's payout is no longer due (%d due)", n)
	}
	h.confirmBank(t, created["pending_bank_change"]) // finance checks the RIB: the honest path
	batch := str(t, h.pbDraft(t, other, ""), "id")
	h.mustDo(t, http.StatusOK, "POST", pbPath(batch, "submit"), other, "")
	if status, answer := h.do(t, "POST", pbPath(batch, "approve"), h.admin, ""); status != http.StatusForbidden {
		t.Fatalf("step 4: the admin approved a payout batch: %d %v", status, answer)
	}
	if status, answer := h.do(t, "POST", pbPath(batch, "approve"), other, ""); status != http.StatusForbidden || codeOf(answer) != "four_eyes" {
		t.Fatalf("step 4: the preparer approved its own batch: %d %v", status, answer)
	}
	// Step 5: no SEPA file exists but through a second finance user.
	if status, _ := h.do(t, "GET", pbPath(batch, "sepa.xml"), other, ""); status != http.StatusConflict && status != http.StatusNotFound {
		t.Fatalf("step 5: a SEPA file of an unapproved batch: %d", status)
	}
	// The audit shows each credential event with both people.
	if n := h.count(t, "audit_log", "action = 'token.reset' AND actor = 'admin'"); n != 1 {
		t.Errorf("%d token.reset rows by the admin, want 1", n)
	}
}

// codeOf is error.code of a decoded answer ("" for a success).
func codeOf(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// TestAResetWorksOnceASecondAdminConfirmsIt: neither the admin who reset
// nor the user confirms; another admin does, once.
func TestAResetWorksOnceASecondAdminConfirmsIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	second := h.user(t, "admin-2", auth.Admin, 0)
	first := mustSignIn(t, h, h.admin)
	code, _, body := first.post(t, "/admin/utilisateurs", "/admin/utilisateurs/reinitialiser", url.Values{"name": {"coordinator"}})
	if code != http.StatusOK {
		t.Fatalf("reset: %d", code)
	}
	token := tokenOnPage(t, body)
	var id string
	if err := h.pool.QueryRow(t.Context(), `SELECT id::text FROM tokens WHERE needs_confirmation AND confirmed_at IS NULL`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	path := "/admin/utilisateurs/jetons/" + id + "/confirmer"
	if code, _, _ := first.post(t, "/admin/utilisateurs", path, nil); code != http.StatusForbidden {
		t.Errorf("the resetting admin confirms: %d, want 403", code)
	}
	if status, _ := h.do(t, "GET", "/api/v1/reminders", token, ""); status != http.StatusUnauthorized {
		t.Fatalf("unconfirmed: %d, want 401", status)
	}
	// Two admins at once: one confirms.
	third := h.user(t, "admin-3", auth.Admin, 0)
	b2, b3 := mustSignIn(t, h, second), mustSignIn(t, h, third)
	results := make(chan int, 2)
	for _, b := range []*browser{b2, b3} {
		go func() {
			code, _, _ := b.post(t, "/admin/utilisateurs", path, nil)
			results <- code
		}()
	}
	codes := []int{<-results, <-results}
	if !(codes[0] == http.StatusSeeOther) != (codes[1] == http.StatusSeeOther) {
		t.Errorf("two confirmations at once: %v, want exactly one 303", codes)
	}
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", token, "")
	if n := h.count(t, "audit_log", "action = 'token.confirm'"); n != 1 {
		t.Errorf("%d token.confirm rows, want 1", n)
	}
	// A user renews their own token: the old one stops at once.
	renewed := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/me/token", token, "")
	if status, _ := h.do(t, "GET", "/api/v1/reminders", token, ""); status != http.StatusUnauthorized {
		t.Errorf("the renewed token still works: %d", status)
	}
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", str(t, renewed, "token"), "")
}

// TestABankDetailsChangeIsConfirmedByAnotherPerson: pending until a
// finance user other than its requester confirms; of a confirm and a
// reject at once exactly one wins; the old details stay in force until.
func TestABankDetailsChangeIsConfirmedByAnotherPerson(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	for round := range 5 {
		iban := []string{validIBAN2, validIBAN}[round%2]
		patched := h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/providers/"+gp.id, h.finance, mustJSON(t, map[string]any{"iban": iban}))
		change := patched["pending_bank_change"].(map[string]any)
		if patched["iban"] == iban {
			t.Fatalf("round %d: the new IBAN is in force before its confirmation", round)
		}
		path := "/api/v1/bank-changes/" + str(t, change, "id")
		if status, body := h.do(t, "POST", path+"/confirm", h.finance, ""); status != http.StatusForbidden || codeOf(body) != "four_eyes" {
			t.Fatalf("the requester confirms: %d %v", status, body)
		}
		got := h.race(t, raceRequest{"POST", path + "/confirm", h.checker, ""},
			raceRequest{"POST", path + "/reject", h.admin, `{"reason": "RIB douteux"}`})
		won := 0
		for _, r := range got {
			if r.Code == http.StatusOK {
				won++
			} else if r.Code != http.StatusConflict {
				t.Fatalf("round %d: %d %s", round, r.Code, r.Body)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of a confirm and a reject won, want 1", round, won)
		}
		now := h.mustDo(t, http.StatusOK, "GET", path, h.finance, "")
		provider := h.mustDo(t, http.StatusOK, "GET", "/api/v1/providers/"+gp.id, h.finance, "")
		if (now["status"] == "confirmed") != (provider["iban"] == iban) {
			t.Fatalf("round %d: change %v, provider's IBAN %v", round, now["status"], provider["iban"])
		}
		if now["status"] == "rejected" {
			h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/providers/"+gp.id, h.finance, mustJSON(t, map[string]any{"iban": iban}))
			pending := h.mustDo(t, http.StatusOK, "GET", "/api/v1/bank-changes?status=pending", h.finance, "")
			h.confirmBank(t, items(t, pending)[0])
		}
	}
	if n := h.count(t, "audit_log", "action LIKE 'bank_details.%'"); n < 10 {
		t.Errorf("%d bank_details audit rows, want a request and a decision per change", n)
	}
	// Nobody edits the details by SQL either: the table refuses.
	if _, err := h.pool.Exec(t.Context(), `UPDATE providers SET iban = $1 WHERE id = $2`, "FR7610107001011234567890129", gp.id); err == nil {
		t.Fatal("a provider's IBAN changed without a confirmed change")
	}
}

// TestAHeldPayoutIsNotBatchedAndAVoidNeedsTwo: hold and release by
// finance; a void asked by one is confirmed by another, and cancels the
// invoice as a new outcome with its journal reversed.
func TestAHeldPayoutIsNotBatchedAndAVoidNeedsTwo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	ids := h.cityDue(t, gp, h.newPatient(t, "Diallo"), "V", "40.00", "60.00")
	held, voided := str(t, h.payoutsOf(t, ids[0])[0], "id"), str(t, h.payoutsOf(t, ids[1])[0], "id")

	h.pbRefused(t, "hold without a reason", "POST", "/api/v1/payouts/"+held+"/hold", h.finance, `{"reason": ""}`, http.StatusUnprocessableEntity, "invalid", "reason")
	wantFields(t, "held", h.mustDo(t, http.StatusOK, "POST", "/api/v1/payouts/"+held+"/hold", h.finance, `{"reason": "facture à vérifier"}`),
		map[string]any{"status": "held", "hold_reason": "facture à vérifier"})
	void := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/payouts/"+voided+"/void", h.finance, `{"reason": "facture en double"}`)
	status, body := h.do(t, "POST", "/api/v1/payout-batches", h.finance, "")
	if status != http.StatusCreated || str(t, body, "total") != "60.00" {
		t.Fatalf("the batch of due payouts: %d %v, want the 60.00 one only", status, body)
	}
	h.mustDo(t, http.StatusOK, "POST", pbPath(str(t, body, "id"), "cancel"), h.finance, "")

	vpath := "/api/v1/payout-voids/" + str(t, void, "id")
	if status, body := h.do(t, "POST", vpath+"/confirm", h.finance, ""); status != http.StatusForbidden || codeOf(body) != "four_eyes" {
		t.Fatalf("the requester confirms its void: %d %v", status, body)
	}
	wantFields(t, "void confirmed", h.mustDo(t, http.StatusOK, "POST", vpath+"/confirm", h.checker, ""), map[string]any{"status": "confirmed"})
	wantFields(t, "the voided invoice", h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+ids[1], h.finance, ""),
		map[string]any{"status": "cancelled", "decision_reason": "voided", "outcome_no": float64(2)})
	if p := h.payoutsOf(t, ids[1])[0]; p["status"] != "cancelled" {
		t.Fatalf("the voided payout is %v", p["status"])
	}
	if status, body := h.do(t, "POST", vpath+"/confirm", h.admin, ""); status != http.StatusForbidden && codeOf(body) != "already_decided" {
		t.Errorf("confirmed twice: %d %v", status, body)
	}
	wantFields(t, "released", h.mustDo(t, http.StatusOK, "POST", "/api/v1/payouts/"+held+"/release", h.finance, ""), map[string]any{"status": "due"})
	wantFields(t, "the released payout's batch", h.pbDraft(t, h.finance, ""), map[string]any{"total": "40.00"})
	h.assertMoneyInvariant(t)
}
