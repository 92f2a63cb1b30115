package main

// The admin's forms and the referral forms, refused for several fields at
// once: each field's message under it, the field marked and tied to it,
// and a summary at the top linking to each (issue 20).

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// wantEveryFieldRefused checks a refused form's page: each of ids has its
// input marked aria-invalid and described by its message (an element whose
// id ends in -error, holding want[id] when given), and a link in the error
// summary; the summary, the page's only one, lists nothing else. A box of
// a group (provider_kinds-0) shares the group's message.
func wantEveryFieldRefused(t *testing.T, what, body string, ids []string, want map[string]string) {
	t.Helper()
	body = htmlText(body)
	if n := strings.Count(body, `id="problemes-titre"`); n != 1 {
		t.Fatalf("%s: %d error summaries, want 1:\n%s", what, n, body)
	}
	start := strings.Index(body, `<div class="error-summary"`)
	if start < 0 {
		t.Fatalf("%s: no error summary:\n%s", what, body)
	}
	summary := body[start:]
	summary = summary[:strings.Index(summary, "</div>")]
	for _, id := range ids {
		wantContains(t, what+": the error summary", summary, `<a href="#`+id+`">`)
		at := strings.Index(body, `id="`+id+`"`)
		if at < 0 {
			t.Errorf("%s: no input %s", what, id)
			continue
		}
		input := body[strings.LastIndex(body[:at], "<"):]
		input = input[:strings.Index(input, ">")]
		message := ""
		if i := strings.Index(input, `aria-describedby="`); i >= 0 {
			describedBy := input[i+len(`aria-describedby="`):]
			for _, ref := range strings.Fields(describedBy[:strings.Index(describedBy, `"`)]) {
				if strings.HasSuffix(ref, "-error") {
					message = ref
				}
			}
		}
		if !strings.Contains(input, `aria-invalid="true"`) || message == "" {
			t.Errorf("%s: the field %s is not marked invalid and tied to its message: %s", what, id, input)
			continue
		}
		wantContains(t, what+": the field "+id, body, `id="`+message+`">`+want[id])
	}
	if n := strings.Count(summary, "<li>"); n != len(ids) {
		t.Errorf("%s: the summary lists %d problems, want %d:\n%s", what, n, len(ids), summary)
	}
}

// TestWebProviderFormsShowEveryErrorAtOnce: the admin's new provider and
// a provider's edit form, refused for every field at once; what was typed
// comes back, and nothing is stored.
func TestWebProviderFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gp := h.newProvider(t, "Dr Martin", "general_practitioner", "10000000001")
	b := mustSignIn(t, h, h.admin)
	form := url.Values{"kind": {"vet"}, "name": {"市役所"}, "rpps": {"123"}, "finess": {"12"}, "iban": {"FR00 1234"}, "bic": {"X"}}
	ids := []string{"kind", "name", "rpps", "finess", "iban", "bic"}
	want := map[string]string{"kind": "Choisissez le type", "name": "Indiquez le nom", "rpps": "Le RPPS compte 11 chiffres",
		"finess": "Le FINESS compte 9 caractères", "iban": "Cet IBAN n'est pas valide", "bic": "Ce BIC n'est pas valide"}
	for _, path := range []string{"/admin/effecteurs", "/admin/effecteurs/" + gp.id} {
		code, _, body := b.post(t, path, path, form)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("%s with every field wrong: %d, want 422", path, code)
		}
		wantEveryFieldRefused(t, path, body, ids, want)
		wantContains(t, path, htmlText(body), "corrigez les champs signalés", `value="市役所"`, `value="123"`, `value="12"`,
			`value="FR00 1234"`, `value="X"`)
	}
	// Two fields wrong, the others kept and not flagged.
	form = url.Values{"kind": {"nurse"}, "name": {"Cabinet"}, "rpps": {""}, "finess": {""}, "iban": {validIBAN}, "bic": {"X"}}
	code, _, body := b.post(t, "/admin/effecteurs", "/admin/effecteurs", form)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("no identifier and a bad BIC: %d", code)
	}
	wantEveryFieldRefused(t, "two fields wrong", body, []string{"rpps", "bic"}, want)
	wantContains(t, "two fields wrong", htmlText(body), `<option value="nurse" selected>`, `value="Cabinet"`, `value="`+validIBAN+`"`)
	if n := h.count(t, "providers"); n != 1 {
		t.Errorf("%d providers after refused forms, want 1", n)
	}
	if n := h.count(t, "bank_detail_changes", "status = 'pending'"); n != 0 {
		t.Errorf("%d bank changes asked by a refused edit", n)
	}
}

// TestWebSettingsFormShowsEveryErrorAtOnce: the settings refused for
// fields the form cannot read and fields billing's rules refuse, all at
// once; nothing is saved.
func TestWebSettingsFormShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	form := url.Values{"regie_name": {"★"}, "regie_iban": {"FR00"}, "regie_bic": {validBIC}, "regie_ceiling": {"-5"},
		"annual_budget": {"beaucoup"}, "deadline_days": {"dix"}, "ame_lookback_days": {"0"}, "submission_limit_days": {"30"},
		"recovery_offset_days": {"366"}, "referral_retention_months": {"121"}, "invoice_ceiling": {"0"},
		"over_ceiling": {"ignore"}, "default_drug_class": {"50"}}
	code, _, body := b.post(t, "/admin/parametres", "/admin/parametres", form)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("settings wrong everywhere: %d, want 422", code)
	}
	wantEveryFieldRefused(t, "the settings", body, []string{"regie_name", "regie_iban", "regie_ceiling", "annual_budget",
		"deadline_days", "ame_lookback_days", "recovery_offset_days", "referral_retention_months", "invoice_ceiling",
		"over_ceiling", "default_drug_class"},
		map[string]string{"regie_name": "Indiquez le nom de la régie", "regie_iban": "Cet IBAN n'est pas valide",
			"annual_budget": "Indiquez un montant positif", "deadline_days": "Indiquez un nombre entier de jours",
			"over_ceiling": "Choisissez de refuser"})
	page := htmlText(body)
	wantContains(t, "the settings", page, "corrigez les champs signalés", `value="★"`, `value="-5"`, `value="beaucoup"`,
		`value="dix"`, `value="366"`, `value="121"`, `value="30"`)
	// The hint stays tied to its field beside the error.
	wantContains(t, "the settings", page, `aria-describedby="deadline_days-hint deadline_days-error"`)
	if n := h.count(t, "audit_log", "action = 'settings.update'"); n != 0 {
		t.Errorf("%d settings.update audit rows, want 0", n)
	}
}

// TestWebReferralAndAlertFormsShowEveryErrorAtOnce: the social worker's
// referral and the doctor's alert, refused for several fields at once;
// what was typed comes back, and no case is stored. The API still answers
// the first field's error.
func TestWebReferralAndAlertFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	social, doctor := mustSignIn(t, h, f.social), mustSignIn(t, h, f.doctor)
	form := url.Values{"urgency": {"later"}, "place": {"ccas"}, "reason": {""}, "last_name": {" "}, "birth": {"2099"},
		"phone": {"appelez-moi"}, "address": {"12 rue des Lilas"}, "note": {"Seule depuis l'hiver"}}
	form.Set("_csrf", social.csrf(t, "/ccas/demandes/nouvelle"))
	rec := social.do(t, "POST", "/ccas/demandes/nouvelle", form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a referral wrong everywhere: %d, want 422", rec.Code)
	}
	wantEveryFieldRefused(t, "the referral", rec.Body.String(), []string{"urgency", "reason", "last_name", "birth", "phone", "address"},
		map[string]string{"urgency": "Choisissez l'urgence.", "reason": "Choisissez le motif.", "last_name": "Indiquez le nom",
			"birth": "Indiquez une année", "phone": "Le téléphone ne contient", "address": "L'adresse est demandée"})
	wantContains(t, "the referral", htmlText(rec.Body.String()), "Rien n'a été enregistré : corrigez les champs signalés.",
		`value="2099"`, `value="appelez-moi"`, `value="12 rue des Lilas"`, "Seule depuis l'hiver</textarea>",
		`<option value="ccas" selected>`)

	form = url.Values{"reason": {"no_care"}, "basis": {"consent"}, "consent_on": {"hier"}, "consent_how": {""}, "consent_by": {"person"},
		"exception_reason": {"urgence"}, "last_name": {"Trévidic"}, "phone": {"06+11"}}
	form.Set("_csrf", doctor.csrf(t, "/sos/alertes/nouvelle"))
	rec = doctor.do(t, "POST", "/sos/alertes/nouvelle", form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("an alert wrong everywhere: %d, want 422", rec.Code)
	}
	wantEveryFieldRefused(t, "the alert", rec.Body.String(), []string{"reason", "consent_on", "consent_how", "exception_reason", "phone"},
		map[string]string{"reason": "Choisissez le motif.", "consent_on": "Indiquez la date du consentement",
			"consent_how": "Indiquez comment", "exception_reason": "Expliquez pourquoi"})
	wantContains(t, "the alert", htmlText(rec.Body.String()), "Rien n'a été enregistré : corrigez les champs signalés.",
		`value="hier"`, `value="Trévidic"`, `value="06+11"`, "urgence</textarea>", `<option value="person" selected>`)
	if n := h.count(t, "referral_cases"); n != 0 {
		t.Errorf("%d cases stored by refused forms", n)
	}

	// The API answers the first field's error, as before.
	status, body := h.do(t, "POST", "/api/v1/referrals", f.social, mustJSON(t, map[string]any{"urgency": "later", "place": "ccas",
		"last_name": " ", "phone": "appelez-moi"}))
	if e, _ := body["error"].(map[string]any); status != http.StatusUnprocessableEntity || e["field"] != "urgency" {
		t.Errorf("the API's referral: %d %v, want 422 on urgency", status, body)
	}
	status, body = h.do(t, "POST", "/api/v1/alerts", f.doctor, mustJSON(t, map[string]any{"reason": "isolation", "basis": "consent",
		"last_name": "Le Goff", "phone": "appelez-moi"}))
	if e, _ := body["error"].(map[string]any); status != http.StatusUnprocessableEntity || e["field"] != "consent_on" {
		t.Errorf("the API's alert: %d %v, want 422 on consent_on", status, body)
	}
}

// TestWebUserFormShowsEveryErrorAtOnce: the admin's new user, refused for
// its name, its provider and its organisation at once; the API's
// enrolment still names the first field, and nothing is stored.
func TestWebUserFormShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	before := h.count(t, "users")
	form := url.Values{"name": {""}, "role": {"provider"}, "provider_id": {""}, "organisation_id": {"abc"}}
	code, _, body := b.post(t, "/admin/utilisateurs", "/admin/utilisateurs", form)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a user with three fields wrong: %d, want 422", code)
	}
	wantEveryFieldRefused(t, "three fields wrong", body, []string{"name", "provider_id", "organisation_id"},
		map[string]string{"name": "Indiquez le nom de l'utilisateur", "provider_id": "Choisissez l'effecteur"})
	wantContains(t, "three fields wrong", htmlText(body), "corrigez les champs signalés", `<option value="provider" selected>`)

	// An unknown role: its own message, and no guess at what it needs.
	code, _, body = b.post(t, "/admin/utilisateurs", "/admin/utilisateurs", url.Values{"name": {"Quelqu'un"}, "role": {"pirate"}, "provider_id": {"1"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown role: %d, want 422", code)
	}
	wantEveryFieldRefused(t, "an unknown role", body, []string{"role"}, map[string]string{"role": "Choisissez le rôle."})
	if n := h.count(t, "users"); n != before {
		t.Errorf("refused forms stored %d users", n-before)
	}
}

// TestWebTariffFormsShowEveryErrorAtOnce: the admin's act, drug and rate
// forms, refused for several fields at once, tell each; nothing is stored.
func TestWebTariffFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	before := [3]int64{h.count(t, "acts"), h.count(t, "drugs"), h.count(t, "rates")}
	cases := []struct {
		path string
		form url.Values
		ids  []string
	}{
		{"/admin/actes", url.Values{"code": {"34009300000100"}, "label": {""}, "max_unit_price": {"beaucoup"}},
			[]string{"code", "label", "provider_kinds-0", "max_unit_price"}},
		{"/admin/medicaments", url.Values{"cip13": {"12"}, "label": {""}, "class": {"40"}}, []string{"cip13", "label", "class"}},
		{"/admin/taux", url.Values{"regime": {"aucun"}, "rate_class": {"nurse"}, "effective_from": {""}, "rate": {"150"}, "reason": {""}},
			[]string{"regime", "effective_from", "rate", "reason"}},
	}
	for _, tc := range cases {
		code, _, body := b.post(t, tc.path, tc.path, tc.form)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("%s with several fields wrong: %d, want 422", tc.path, code)
		}
		wantEveryFieldRefused(t, tc.path, body, tc.ids, nil)
		wantContains(t, tc.path, htmlText(body), "corrigez les champs signalés")
	}
	if after := [3]int64{h.count(t, "acts"), h.count(t, "drugs"), h.count(t, "rates")}; after != before {
		t.Errorf("refused forms changed the tariff: %v, then %v", before, after)
	}
}

// TestWebConventionFormsShowEveryErrorAtOnce: the admin's organisation,
// convention and referent forms tell every wrong field at once and keep
// what was typed.
func TestWebConventionFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.admin)
	const page = "/admin/conventions"
	code, _, body := b.post(t, page, "/admin/conventions/organismes", url.Values{"kind": {"club"}, "name": {" "}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("an organisation of no kind and no name: %d", code)
	}
	wantEveryFieldRefused(t, "the organisation", body, []string{"kind", "org-name"}, nil)
	code, _, body = b.post(t, page, "/admin/conventions", url.Values{"ccas_id": {""}, "association_id": {"x"}, "signed_on": {"hier"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a convention of nothing: %d", code)
	}
	wantEveryFieldRefused(t, "the convention", body, []string{"ccas_id", "association_id", "signed_on"}, nil)

	ids := map[string]string{}
	for kind, name := range map[string]string{"ccas": "CCAS d'Évry", "sos_medecins": "SOS Médecins Évry"} {
		if status, _ := b.postForm(t, page, "/admin/conventions/organismes", url.Values{"kind": {kind}, "name": {name}}); status != http.StatusSeeOther {
			t.Fatalf("organisation %s: %d", name, status)
		}
	}
	for _, o := range items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/organisations", h.admin, "")) {
		ids[str(t, o, "kind")] = str(t, o, "id")
	}
	if status, _ := b.postForm(t, page, "/admin/conventions", url.Values{"ccas_id": {ids["ccas"]}, "association_id": {ids["sos_medecins"]},
		"signed_on": {"2026-03-01"}}); status != http.StatusSeeOther {
		t.Fatalf("the convention: %d", status)
	}
	id := str(t, items(t, h.mustDo(t, http.StatusOK, "GET", "/api/v1/conventions", h.admin, ""))[0], "id")
	before := h.count(t, "convention_referents")
	code, _, body = b.post(t, page, "/admin/conventions/"+id+"/referents", url.Values{"side": {"mairie"}, "name": {""},
		"title": {"Médecin référent"}, "phone": {"appelez-moi"}, "email": {"pas une adresse"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a referent with four fields wrong: %d", code)
	}
	wantEveryFieldRefused(t, "the referent", body, []string{"side-" + id, "name-" + id, "phone-" + id, "email-" + id}, nil)
	wantContains(t, "the referent", htmlText(body), "Rien n'a été enregistré : corrigez les champs signalés.", `value="Médecin référent"`,
		`value="appelez-moi"`, `value="pas une adresse"`)
	if n := h.count(t, "convention_referents"); n != before {
		t.Errorf("a refused referent was stored")
	}
}
