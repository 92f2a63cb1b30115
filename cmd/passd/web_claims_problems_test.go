package main

// The claims' forms (a new file, a rights application, a CPAM decision
// and its correction) tell every field's problem at once, as the invoice
// form does: each message under its field, each field marked invalid and
// tied to its message, a summary at the top linking to each, and what was
// typed kept.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestWebNewFileShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := mustSignIn(t, h, h.coordinator)
	before := h.count(t, "patients")
	code, _, body := b.post(t, "/coordination/dossiers/nouveau", "/coordination/dossiers/nouveau", url.Values{
		"last_name": {" "}, "first_name": {"Amina"}, "birth_date": {"2030-01-01"}, "nir": {"290049935012300"}, "commune_code": {"561"}})
	body = htmlText(body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a file full of mistakes: %d, want 422:\n%s", code, body)
	}
	wantEveryFieldRefused(t, "the new file", body, []string{"last_name", "birth_date", "nir", "commune_code"}, nil)
	wantContains(t, "the new file", body, "Le dossier n'a pas été créé : corrigez les champs signalés.", "Indiquez le nom",
		"Indiquez une date de naissance passée et plausible.", "Ce NIR n'est pas valide", "pas le code postal",
		`value="Amina"`, `value="2030-01-01"`, `value="290049935012300"`, `value="561"`,
		`aria-describedby="commune_code-help commune_code-error"`)
	if strings.Contains(body, `id="first_name-error"`) {
		t.Error("the valid first name has an error")
	}
	// A date that does not read as one is its field's problem, beside the others'.
	code, _, body = b.post(t, "/coordination/dossiers/nouveau", "/coordination/dossiers/nouveau", url.Values{
		"last_name": {"Durand"}, "first_name": {""}, "birth_date": {"12/04/1990"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("an unreadable birth date: %d, want 422", code)
	}
	wantEveryFieldRefused(t, "an unreadable birth date", htmlText(body), []string{"first_name", "birth_date"}, nil)
	if n := h.count(t, "patients"); n != before {
		t.Errorf("%d files after refused forms, want %d", n, before)
	}
}

// TestWebDecisionFormsShowEveryErrorAtOnce: the referent's opening and
// refusal, each sent with several mistakes, come back with all of them in
// the form sent, and none in the other form of the page.
func TestWebDecisionFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Erreurs")
	h.requestRights(t, p, "puma", "2026-06-01")
	b := mustSignIn(t, h, h.referent)
	path := "/cpam/dossiers/" + p.id
	code, _, body := b.post(t, path, path+"/decision", url.Values{"decision": {"opened"}, "regime": {"cmu"},
		"effective_from": {""}, "effective_to": {"2026-05-01"}, "immediate_admission": {"1"}, "reference": {" "}, "caisse": {"9a"}})
	body = htmlText(body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("an opening full of mistakes: %d, want 422:\n%s", code, body)
	}
	if n := strings.Count(body, `id="problemes-titre"`); n != 1 {
		t.Errorf("the page has %d error summaries, want 1", n)
	}
	opening, refusal, _ := strings.Cut(body[strings.Index(body, `<h3 id="ouverture">`):], `<h3 id="refus">`)
	wantEveryFieldRefused(t, "the opening", opening, []string{"regime", "effective_from", "immediate_admission", "reference", "caisse"}, nil)
	wantContains(t, "the opening", opening, "La décision n'a pas été enregistrée : corrigez les champs signalés.",
		"Choisissez le régime ouvert.", "Indiquez la date de début des droits.", "L'admission immédiate ne concerne",
		"Indiquez la référence de la décision", "Le code de la caisse compte 3 chiffres",
		`value="2026-05-01"`, `value="9a"`, `id="immediate_admission" name="immediate_admission" value="1" aria-describedby="immediate_admission-hint immediate_admission-error" checked`)
	if strings.Contains(refusal, `class="error"`) || strings.Contains(refusal, "aria-invalid") {
		t.Errorf("the refusal's form, not sent, shows an error:\n%s", refusal)
	}

	code, _, body = b.post(t, path, path+"/decision", url.Values{"decision": {"refused"}, "reason": {" "}, "caisse": {"12"}})
	body = htmlText(body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a refusal full of mistakes: %d, want 422:\n%s", code, body)
	}
	if n := strings.Count(body, `id="problemes-titre"`); n != 1 {
		t.Errorf("the page has %d error summaries, want 1", n)
	}
	opening, refusal, _ = strings.Cut(body[strings.Index(body, `<h3 id="ouverture">`):], `<h3 id="refus">`)
	wantEveryFieldRefused(t, "the refusal", refusal, []string{"reason", "refusal-caisse"}, nil)
	wantContains(t, "the refusal", refusal, "Indiquez le motif du refus", `value="12"`)
	if strings.Contains(opening, `class="error"`) || strings.Contains(opening, "aria-invalid") {
		t.Errorf("the opening's form, not sent, shows an error:\n%s", opening)
	}
	if n := h.count(t, "rights_decisions"); n != 0 {
		t.Errorf("%d decisions stored by refused forms", n)
	}
}

// TestWebCorrectionFormsShowEveryErrorAtOnce: a correction into an
// opening or a refusal, sent with several mistakes, shows all of them,
// the correction's reason among them, in the form sent only.
func TestWebCorrectionFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Erreurs")
	h.requestRights(t, p, "puma", "2026-06-01")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/patients/"+p.id+"/rights-decision", h.referent,
		mustJSON(t, map[string]any{"decision": "refused", "reason": "résidence non établie"}))
	b := mustSignIn(t, h, h.referent)
	path := correctionPath(p, latestDecision(t, h, p))
	code, _, body := b.post(t, path, path, url.Values{"decision": {"opened"}, "regime": {"puma"}, "effective_from": {"2026-06-01"},
		"reference": {""}, "caisse": {"9a"}, "correction_reason": {" "}})
	body = htmlText(body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("an opening full of mistakes: %d, want 422:\n%s", code, body)
	}
	opening, refusal := correctionForms(t, body)
	wantEveryFieldRefused(t, "the opening", opening, []string{"reference", "caisse", "correction_reason"}, nil)
	wantContains(t, "the opening", opening, "La correction n'a pas été enregistrée : corrigez les champs signalés.",
		"Indiquez le motif de la correction", `value="9a"`)
	if strings.Contains(refusal, `class="error"`) || strings.Contains(refusal, "aria-invalid") {
		t.Errorf("the refusal's form, not sent, shows an error:\n%s", refusal)
	}

	code, _, body = b.post(t, path, path, url.Values{"decision": {"refused"}, "reason": {""}, "caisse": {"12"}, "correction_reason": {""}})
	body = htmlText(body)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a refusal full of mistakes: %d, want 422:\n%s", code, body)
	}
	opening, refusal = correctionForms(t, body)
	wantEveryFieldRefused(t, "the refusal", refusal, []string{"reason", "refusal-caisse", "refusal-correction_reason"}, nil)
	if strings.Contains(opening, `class="error"`) || strings.Contains(opening, "aria-invalid") {
		t.Errorf("the opening's form, not sent, shows an error:\n%s", opening)
	}
	if n := h.count(t, "rights_decisions", "superseded_at IS NOT NULL"); n != 0 {
		t.Errorf("%d decisions superseded by refused forms", n)
	}
}

// TestWebRightsRequestShowsEveryErrorAtOnce: an application with no
// regime and no filing date tells both, in its own form only.
func TestWebRightsRequestShowsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.newPatient(t, "Demande")
	b := mustSignIn(t, h, h.coordinator)
	path := "/coordination/dossiers/" + p.id
	for _, tc := range []struct {
		name     string
		filedOn  string
		dateWant string
	}{
		{"no filing date", "", "Indiquez la date de dépôt de la demande."},
		{"a filing date that is none", "01/06/2026", "Indiquez la date de dépôt de la demande."},
	} {
		code, _, body := b.post(t, path, path+"/demande", url.Values{"regime": {"css"}, "filed_on": {tc.filedOn}})
		body = htmlText(body)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d, want 422:\n%s", tc.name, code, body)
		}
		wantEveryFieldRefused(t, tc.name, body, []string{"regime", "filed_on"}, nil)
		wantContains(t, tc.name, body, "La demande n'a pas été enregistrée : corrigez les champs signalés.",
			"Choisissez le régime demandé.", tc.dateWant, `value="`+tc.filedOn+`"`)
		commune := body[strings.Index(body, `<h2 id="commune">`):]
		if strings.Contains(commune, `class="error"`) || strings.Contains(commune, "aria-invalid") {
			t.Errorf("%s: the commune's form, not sent, shows an error", tc.name)
		}
	}
	if n := h.count(t, "audit_log", "action = 'patient.rights_request'"); n != 0 {
		t.Errorf("%d rights requests stored by refused forms", n)
	}
}
