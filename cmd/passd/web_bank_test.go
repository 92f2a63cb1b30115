package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebBankDetailsUnderFourEyes: the admin edits a provider on its page,
// the new IBAN waits; a finance user other than the requester confirms it
// on /finances/coordonnees; the provider's statement says its details
// changed.
func TestWebBankDetailsUnderFourEyes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	admin := mustSignIn(t, h, h.admin)
	path := "/admin/effecteurs/" + gp.id

	page := htmlText(admin.page(t, http.StatusOK, path))
	wantContains(t, "the provider's page", page, "<h1>Dr Martin</h1>", "confirmées par les finances", "Modifier l'effecteur",
		`<label for="iban">IBAN</label>`, "Historique des coordonnées bancaires")
	form := url.Values{"kind": {"general_practitioner"}, "name": {"Dr Martin"}, "rpps": {"10000000001"}, "iban": {validIBAN2}, "bic": {validBIC}}
	code, loc, body := admin.post(t, path, path, form)
	if code != http.StatusSeeOther || loc != path {
		t.Fatalf("Enregistrer: %d → %q:\n%s", code, loc, body)
	}
	page = htmlText(admin.page(t, http.StatusOK, path))
	wantContains(t, "the page with the change asked for", page, "Changement des coordonnées bancaires demandé", "Changement demandé par admin",
		"en attente")
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/providers/"+gp.id, h.finance, ""); got["iban"] == validIBAN2 {
		t.Fatal("the new IBAN is in force before its confirmation")
	}
	// A refused form shows its error next to the field, and asks nothing.
	form.Set("iban", "FR00 1234")
	if code, _, body := admin.post(t, path, path, form); code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="iban-error"`) {
		t.Errorf("a bad IBAN: %d:\n%s", code, body)
	}

	fin := mustSignIn(t, h, h.checker)
	list := htmlText(fin.page(t, http.StatusOK, "/finances/coordonnees"))
	wantContains(t, "finance's list", list, "Dr Martin", validIBAN2, "Confirmer le changement n°")
	var id string
	if err := h.pool.QueryRow(t.Context(), `SELECT id::text FROM bank_detail_changes WHERE status = 'pending'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if code, loc, body := fin.post(t, "/finances/coordonnees", "/finances/coordonnees/"+id+"/confirmer", nil); code != http.StatusSeeOther || loc != "/finances/coordonnees" {
		t.Fatalf("Confirmer: %d → %q:\n%s", code, loc, body)
	}
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/providers/"+gp.id, h.finance, ""); got["iban"] != validIBAN2 {
		t.Fatalf("the confirmed IBAN is not in force: %v", got["iban"])
	}
	wantContains(t, "the list after", htmlText(fin.page(t, http.StatusOK, "/finances/coordonnees")), "Changement confirmé",
		"Aucun changement n'attend de confirmation.")

	// The provider's statement tells it, in the API and on its page.
	statement := h.mustDo(t, http.StatusOK, "GET", "/api/v1/statement", gp.token, "")
	changes, _ := statement["bank_details_changes"].([]any)
	if len(changes) != 1 || changes[0].(map[string]any)["iban_ending"] != validIBAN2[len(validIBAN2)-4:] {
		t.Fatalf("the statement's bank changes: %v", statement["bank_details_changes"])
	}
	provider := mustSignIn(t, h, gp.token)
	wantContains(t, "the provider's statement", htmlText(provider.page(t, http.StatusOK, "/effecteur/releve")),
		"Vos coordonnées bancaires ont changé le", "se termine par "+validIBAN2[len(validIBAN2)-4:])
}
