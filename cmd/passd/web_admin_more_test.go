package main

// The admin's providers, users and tokens, and settings pages, driven as a
// browser without JavaScript would; what each form stores is compared with
// what the JSON API answers.

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"passd/auth"
)

func TestWebAdminHomeLinksEverySection(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	page := b.page(t, http.StatusOK, "/admin")
	for _, href := range []string{"/admin/effecteurs", "/admin/utilisateurs", "/admin/parametres", "/admin/taches"} {
		wantContains(t, "the admin's home", page, `href="`+href+`"`)
	}
	fin := mustSignIn(t, h, h.finance)
	for _, path := range []string{"/admin", "/admin/effecteurs", "/admin/utilisateurs", "/admin/parametres"} {
		fin.page(t, http.StatusForbidden, path)
	}
}

func TestWebAdminCreatesAProviderAsTheAPIWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)

	page := htmlText(b.page(t, http.StatusOK, "/admin/effecteurs"))
	wantContains(t, "the providers page", page, `<label for="kind">Type</label>`, `<label for="name">Nom</label>`,
		`<label for="rpps">RPPS</label>`, `<label for="finess">FINESS</label>`, `<label for="iban">IBAN</label>`,
		`<label for="bic">BIC</label>`, "Créer l'effecteur</button>", "Médecin généraliste")

	form := url.Values{"kind": {"general_practitioner"}, "name": {"Dr Martin"}, "rpps": {"10000000001"}, "finess": {""},
		"iban": {validIBAN}, "bic": {validBIC}}
	code, loc, body := b.post(t, "/admin/effecteurs", "/admin/effecteurs", form)
	if code != http.StatusSeeOther || loc != "/admin/effecteurs" {
		t.Fatalf("Créer l'effecteur: %d → %q:\n%s", code, loc, body)
	}
	list := items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/providers", h.admin, ""))
	if len(list) != 1 {
		t.Fatalf("providers after one creation: %v", list)
	}
	wantFields(t, "the provider", list[0], map[string]any{"kind": "general_practitioner", "name": "Dr Martin",
		"rpps": "10000000001", "finess": nil, "iban": validIBAN, "bic": validBIC})
	if n := h.count(t, "audit_log", "action = 'provider.create'"); n != 1 {
		t.Errorf("%d provider.create audit rows, want 1", n)
	}

	// The list masks the IBAN but for its last four characters.
	page = htmlText(b.page(t, http.StatusOK, "/admin/effecteurs"))
	wantContains(t, "the list", page, "Effecteur créé.", ">Dr Martin</a> <span class=\"badge\">coordonnées à confirmer</span></td>", "<td>Médecin généraliste</td>",
		"<td>10000000001</td>", "<td>•••• "+validIBAN[len(validIBAN)-4:]+"</td>")
	if strings.Contains(page, validIBAN) {
		t.Errorf("the list shows the whole IBAN")
	}

	// Errors come back in French next to their field, with what was typed.
	form.Set("name", "Dr Bernard")
	form.Set("rpps", "10000000002")
	form.Set("iban", "FR7630006000011234567890188")
	code, _, body = b.post(t, "/admin/effecteurs", "/admin/effecteurs", form)
	body = htmlText(body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad IBAN: %d, want 422", code)
	}
	wantContains(t, "the refused form", body, `id="iban-error">Cet IBAN n'est pas valide`, `value="Dr Bernard"`,
		`value="FR7630006000011234567890188"`, `<option value="general_practitioner" selected>`)

	form.Set("iban", validIBAN)
	form.Set("rpps", "10000000001")
	code, _, body = b.post(t, "/admin/effecteurs", "/admin/effecteurs", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(htmlText(body), "Un effecteur porte déjà ce RPPS.") {
		t.Errorf("a duplicate RPPS: %d:\n%s", code, body)
	}
	form.Set("rpps", "")
	code, _, body = b.post(t, "/admin/effecteurs", "/admin/effecteurs", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(htmlText(body), "Indiquez au moins le RPPS ou le FINESS.") {
		t.Errorf("neither RPPS nor FINESS: %d:\n%s", code, body)
	}
	if n := h.count(t, "providers"); n != 1 {
		t.Errorf("%d providers after refused forms, want 1", n)
	}

	fin := mustSignIn(t, h, h.finance)
	form.Set("_csrf", fin.csrf(t, "/finances"))
	form.Set("rpps", "10000000003")
	if rec := fin.do(t, "POST", "/admin/effecteurs", form); rec.Code != http.StatusForbidden {
		t.Errorf("finance creates a provider: %d, want 403", rec.Code)
	}
}

func TestWebAdminIssuesAndRevokesTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	b := mustSignIn(t, h, h.admin)

	page := htmlText(b.page(t, http.StatusOK, "/admin/utilisateurs"))
	wantContains(t, "the users page", page, "<h2>user-of-Dr Martin</h2>", "Rôle : effecteur — effecteur : Dr Martin",
		"Rôle : finances", "Créer l'utilisateur</button>", `<label for="role">Rôle</label>`, "Réinitialiser ses jetons")
	for _, token := range []string{h.admin, h.finance, gp.token} {
		if strings.Contains(page, token) {
			t.Fatalf("the users page shows a token")
		}
	}

	// A new coordinator: the token is shown once, and works.
	code, _, body := b.post(t, "/admin/utilisateurs", "/admin/utilisateurs",
		url.Values{"name": {"Claire"}, "role": {"coordinator"}, "provider_id": {""}})
	if code != http.StatusOK {
		t.Fatalf("Émettre le jeton: %d:\n%s", code, body)
	}
	start := strings.Index(body, `<code id="new-token">`)
	if start < 0 {
		t.Fatalf("no token on the answer page:\n%s", body)
	}
	token := body[start+len(`<code id="new-token">`):]
	token = token[:strings.Index(token, "</code>")]
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", token, "")
	if n := h.count(t, "audit_log", "action IN ('user.create', 'token.create') AND actor = 'admin'"); n != 2 {
		t.Errorf("%d user/token audit rows by the admin, want 2", n)
	}
	page = htmlText(b.page(t, http.StatusOK, "/admin/utilisateurs"))
	wantContains(t, "the users page", page, "<h2>Claire</h2>", "Rôle : coordination", "jamais utilisé")
	if strings.Contains(page, token) {
		t.Errorf("the users page shows the new token")
	}

	// Revoking it, as the admin: the token stops working.
	var id int64
	if err := h.pool.QueryRow(t.Context(), `SELECT t.id FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.name = 'Claire'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	path := "/admin/utilisateurs/jetons/" + strconv.FormatInt(id, 10) + "/revoquer"
	wantContains(t, "the users page", page, `action="`+path+`"`)
	code, _, body = b.post(t, "/admin/utilisateurs", path, nil)
	wantContains(t, "the revocation's confirmation", htmlText(body), "Révoquer le jeton n° "+strconv.FormatInt(id, 10)+" de Claire (coordination) ?",
		"prennent fin")
	if code != http.StatusOK {
		t.Fatalf("Révoquer asks first: %d", code)
	}
	if code, _ := h.do(t, "GET", "/api/v1/reminders", token, ""); code != http.StatusOK {
		t.Errorf("the token before the confirmation: %d, want 200", code)
	}
	code, loc, body := b.post(t, "/admin/utilisateurs", path, url.Values{"confirme": {"oui"}})
	if code != http.StatusSeeOther || loc != "/admin/utilisateurs" {
		t.Fatalf("Révoquer, confirmed: %d → %q:\n%s", code, loc, body)
	}
	if code, _ := h.do(t, "GET", "/api/v1/reminders", token, ""); code != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d, want 401", code)
	}
	if n := h.count(t, "audit_log", "action = 'token.revoke' AND actor = 'admin'"); n != 1 {
		t.Errorf("%d token.revoke audit rows by the admin, want 1", n)
	}
	wantContains(t, "the users page after revoking", htmlText(b.page(t, http.StatusOK, "/admin/utilisateurs")), "Jeton révoqué.", "révoqué</td>")
	if code, _, _ := b.post(t, "/admin/utilisateurs", "/admin/utilisateurs/jetons/999999/revoquer", nil); code != http.StatusNotFound {
		t.Errorf("revoking an unknown token: %d, want 404", code)
	}
	if code, _, _ := b.post(t, "/admin/utilisateurs", "/admin/utilisateurs/jetons/abc/revoquer", nil); code != http.StatusNotFound {
		t.Errorf("revoking a token that is no id: %d, want 404", code)
	}

	// Refusals in French, next to their field, nothing issued.
	before := h.count(t, "tokens")
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"Claire"}, "role": {"finance"}}, "Un utilisateur porte déjà ce nom : il renouvelle lui-même son jeton"},
		{url.Values{"name": {"finance"}, "role": {"finance"}}, "Un utilisateur porte déjà ce nom"},
		{url.Values{"name": {"Paul"}, "role": {"provider"}}, `id="provider_id-error">Choisissez l'effecteur`},
		{url.Values{"name": {"Paul"}, "role": {"boss"}}, `id="role-error">Choisissez le rôle.`},
		{url.Values{"name": {" "}, "role": {"finance"}}, `id="name-error">Indiquez le nom`},
		{url.Values{"name": {"Paul"}, "role": {"provider"}, "provider_id": {"x"}}, `id="provider_id-error">`},
	} {
		code, _, body := b.post(t, "/admin/utilisateurs", "/admin/utilisateurs", c.form)
		if code != http.StatusUnprocessableEntity || !strings.Contains(htmlText(body), c.want) {
			t.Errorf("%v: %d, want 422 with %q:\n%s", c.form, code, c.want, body)
		}
	}
	if n := h.count(t, "tokens"); n != before {
		t.Errorf("%d tokens after refused forms, want %d", n, before)
	}

	// Another role may not revoke.
	fin := mustSignIn(t, h, h.finance)
	if rec := fin.do(t, "POST", path, url.Values{"_csrf": {fin.csrf(t, "/finances")}}); rec.Code != http.StatusForbidden {
		t.Errorf("finance revokes a token: %d, want 403", rec.Code)
	}
}

func TestWebAdminSettingsStoreWhatTheAPIWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)

	page := htmlText(b.page(t, http.StatusOK, "/admin/parametres"))
	wantContains(t, "the settings page", page, `<label for="regie_name">Nom de la régie</label>`, `<label for="regie_iban">IBAN de la régie</label>`,
		`<label for="regie_ceiling">Plafond d'un lot de paiement (€)</label>`, `<label for="annual_budget">Budget annuel (€)</label>`,
		`<label for="deadline_days">Délai de paiement (jours)</label>`, "Enregistrer les paramètres</button>",
		`<label for="recovery_offset_days">Délai de reprise sur les paiements (jours)</label>`, "Laissez vide pour 60 jours.",
		`<label for="referral_retention_months">Conservation des orientations et alertes closes (mois)</label>`, `value="12"`, "Laissez vide pour 12 mois.")

	form := url.Values{"regie_name": {"Régie PASS d'Évry"}, "regie_iban": {validIBAN2}, "regie_bic": {validBIC},
		// Amounts as French people type them: grouped by a space (plain or
		// no-break), a decimal comma, or neither.
		"regie_ceiling": {"10 000,50"}, "annual_budget": {"120\u00a0000"}, "deadline_days": {"45"}, "ame_lookback_days": {"20"},
		"submission_limit_days": {"400"}, "recovery_offset_days": {"90"}, "referral_retention_months": {"24"}}
	code, loc, body := b.post(t, "/admin/parametres", "/admin/parametres", form)
	if code != http.StatusSeeOther || loc != "/admin/parametres" {
		t.Fatalf("Enregistrer: %d → %q:\n%s", code, loc, body)
	}
	page = htmlText(b.page(t, http.StatusOK, "/admin/parametres"))
	// Prefilled in the French form, which reads back as it was.
	wantContains(t, "the saved settings", page, "Paramètres enregistrés.", "value=\"10\u202f000,50\"", "value=\"120\u202f000,00\"",
		`value="45"`, `value="90"`, `value="24"`, "par admin",
		"a été demandé par admin", `value="Régie PASS d'Évry"`)
	h.confirmBank(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.admin, "")["pending_regie_change"])
	got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.admin, "")
	wantFields(t, "the settings", got, map[string]any{"regie_name": "Régie PASS d'Évry", "regie_iban": validIBAN2, "regie_bic": validBIC,
		"regie_ceiling": "10000.50", "annual_budget": "120000.00", "deadline_days": float64(45), "deadline_days_is_default": false, "updated_by": "admin",
		"ame_lookback_days": float64(20), "submission_limit_days": float64(400), "recovery_offset_days": float64(90),
		"referral_retention_months": float64(24)})

	// Blank deadline: the server's default, as when the API leaves it out.
	form.Set("deadline_days", "")
	form.Set("recovery_offset_days", "")
	form.Set("referral_retention_months", "")
	if code, _, body := b.post(t, "/admin/parametres", "/admin/parametres", form); code != http.StatusSeeOther {
		t.Fatalf("a blank deadline: %d:\n%s", code, body)
	}
	wantFields(t, "the settings", h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.admin, ""),
		map[string]any{"deadline_days_is_default": true, "recovery_offset_days": float64(60), "ame_lookback_days": float64(20),
			"referral_retention_months": float64(12)})

	for field, bad := range map[string]string{"regie_ceiling": "-5", "annual_budget": "beaucoup", "deadline_days": "dix",
		"regie_iban": "FR00", "regie_name": "★", "recovery_offset_days": "366", "ame_lookback_days": "0",
		"referral_retention_months": "121"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(field, bad)
		code, _, body := b.post(t, "/admin/parametres", "/admin/parametres", f)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+field+`-error"`) || !strings.Contains(htmlText(body), `value="`+bad+`"`) {
			t.Errorf("%s=%q: %d, want 422 with the error next to the field and the value kept:\n%s", field, bad, code, body)
		}
	}
	if n := h.count(t, "audit_log", "action = 'settings.update'"); n != 2 {
		t.Errorf("%d settings.update audit rows, want 2", n)
	}
}

// TestWebAdminDisablesUsersAndDeactivatesProviders: what exists is switched
// off and on again, never deleted: a disabled user's tokens stop at once
// and work again once enabled; a deactivated provider sends no invoice but
// keeps its history; each change asks first and is audited; an admin
// cannot disable themselves.
func TestWebAdminDisablesUsersAndDeactivatesProviders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	claire := h.user(t, "Claire", auth.Coordinator, 0)
	var claireID, adminID int64
	if err := h.pool.QueryRow(t.Context(), `SELECT (SELECT id FROM users WHERE name = 'Claire'), (SELECT id FROM users WHERE name = 'admin')`).
		Scan(&claireID, &adminID); err != nil {
		t.Fatal(err)
	}
	disable := "/admin/utilisateurs/" + strconv.FormatInt(claireID, 10) + "/desactiver"
	wantContains(t, "the users page", b.page(t, http.StatusOK, "/admin/utilisateurs"), `action="`+disable+`"`)
	code, _, body := b.post(t, "/admin/utilisateurs", disable, nil)
	if code != http.StatusOK || !strings.Contains(htmlText(body), "Aucun de ses jetons ne fonctionne plus") {
		t.Fatalf("Désactiver asks first: %d\n%s", code, body)
	}
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", claire, "")
	if code, _, body := b.post(t, "/admin/utilisateurs", disable, url.Values{"confirme": {"oui"}}); code != http.StatusSeeOther {
		t.Fatalf("Désactiver, confirmed: %d\n%s", code, body)
	}
	if code, _ := h.do(t, "GET", "/api/v1/reminders", claire, ""); code != http.StatusUnauthorized {
		t.Errorf("a disabled user's token: %d, want 401", code)
	}
	wantContains(t, "the users page", htmlText(b.page(t, http.StatusOK, "/admin/utilisateurs")), "Utilisateur désactivé", "désactivé le",
		`aria-label="Réactiver Claire"`)
	if code, _, _ := b.post(t, "/admin/utilisateurs", "/admin/utilisateurs/"+strconv.FormatInt(claireID, 10)+"/reactiver", nil); code != http.StatusSeeOther {
		t.Fatalf("Réactiver: %d", code)
	}
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/reminders", claire, "")
	code, _, body = b.post(t, "/admin/utilisateurs", "/admin/utilisateurs/"+strconv.FormatInt(adminID, 10)+"/desactiver", url.Values{"confirme": {"oui"}})
	if code != http.StatusConflict || !strings.Contains(htmlText(body), "Vous ne pouvez pas vous désactiver vous-même") {
		t.Errorf("an admin disables themselves: %d", code)
	}
	if code, _, _ := b.post(t, "/admin/utilisateurs", "/admin/utilisateurs/999999/reactiver", nil); code != http.StatusNotFound {
		t.Errorf("an unknown user: %d, want 404", code)
	}
	// The users filter by role.
	coordinators := htmlText(b.page(t, http.StatusOK, "/admin/utilisateurs?role=coordinator"))
	wantContains(t, "the coordinators", coordinators, "<h2>Claire</h2>", `<option value="coordinator" selected>`, "correspondant au filtre")
	if strings.Contains(coordinators, "<h2>admin</h2>") {
		t.Error("the coordinators' list shows the admin")
	}
	if n := h.count(t, "audit_log", "action IN ('user.disable', 'user.enable')"); n != 2 {
		t.Errorf("%d user.disable/enable audit rows, want 2", n)
	}

	gp := h.newProvider(t, "Dr Partie", "general_practitioner", "10000000007")
	h.newProvider(t, "Cabinet Filtre", "nurse", "10000000009")
	// The providers' list filters by kind and counts what matches.
	nurses := htmlText(b.page(t, http.StatusOK, "/admin/effecteurs?type=nurse"))
	wantContains(t, "the nurses", nurses, "1 ligne correspondant au filtre.", "Cabinet Filtre", `<option value="nurse" selected>Infirmier</option>`)
	if strings.Contains(nurses, "Dr Partie") {
		t.Error("the nurses' list shows a GP")
	}
	// By name, a page of one at a time; the CSV holds what is filtered; a
	// page cursor that is no text is ignored, not a 500.
	var names []string
	path := "/admin/effecteurs?tri=nom&limit=1"
	for range 3 {
		page := htmlText(b.page(t, http.StatusOK, path))
		if m := regexp.MustCompile(`<a href="/admin/effecteurs/\d+">([^<]+)</a>`).FindStringSubmatch(page); m != nil {
			names = append(names, m[1])
		}
		next := regexp.MustCompile(`href="(/admin/effecteurs\?apres=[^"]+)"`).FindStringSubmatch(page)
		if next == nil {
			break
		}
		path = next[1] + "&limit=1"
	}
	if strings.Join(names, "|") != "Cabinet Filtre|Dr Partie" {
		t.Errorf("the providers by name, a page at a time: %q", names)
	}
	if csv := b.do(t, "GET", "/admin/effecteurs.csv?type=nurse", nil); csv.Code != http.StatusOK || !strings.Contains(csv.Body.String(), "Cabinet Filtre;Infirmier") ||
		strings.Contains(csv.Body.String(), "Dr Partie") {
		t.Errorf("the CSV of the nurses (%d):\n%s", csv.Code, csv.Body)
	}
	b.page(t, http.StatusOK, "/admin/effecteurs?tri=nom&apres=%FF%FE%00"+gp.id)
	p := h.newPatient(t, "Suivi")
	h.submit(t, gp, p, "D-1", today)
	page := "/admin/effecteurs/" + gp.id
	code, _, body = b.post(t, page, page+"/desactiver", nil)
	if code != http.StatusOK || !strings.Contains(htmlText(body), "Désactiver l'effecteur Dr Partie ?") {
		t.Fatalf("Désactiver l'effecteur asks first: %d\n%s", code, body)
	}
	if code, _, _ := b.post(t, page, page+"/desactiver", url.Values{"confirme": {"oui"}}); code != http.StatusSeeOther {
		t.Fatalf("Désactiver l'effecteur, confirmed: %d", code)
	}
	wantContains(t, "the provider's page", htmlText(b.page(t, http.StatusOK, page)), "Effecteur désactivé", "Réactiver l'effecteur")
	status, resp := h.do(t, "POST", "/api/v1/invoices", gp.token, invoiceBody(t, p.fileNumber, "D-2", today))
	wantError(t, "an invoice of a deactivated provider", status, resp, http.StatusForbidden, "forbidden", "")
	h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices", gp.token, "") // its history stays readable
	if code, _, _ := b.post(t, page, page+"/reactiver", nil); code != http.StatusSeeOther {
		t.Fatalf("Réactiver l'effecteur: %d", code)
	}
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", gp.token, invoiceBody(t, p.fileNumber, "D-2", today))
	if n := h.count(t, "audit_log", "action IN ('provider.deactivate', 'provider.reactivate')"); n != 2 {
		t.Errorf("%d provider.deactivate/reactivate audit rows, want 2", n)
	}
}
