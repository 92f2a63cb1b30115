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

// wantEachFieldTold checks a refused form's page (HTML unescaped): one
// error summary on the page, listing exactly ids, each linked; each field
// marked aria-invalid and described by its message.
func wantEachFieldTold(t *testing.T, what, body string, ids ...string) {
	t.Helper()
	if n := strings.Count(body, `id="problemes-titre"`); n != 1 {
		t.Fatalf("%s: %d error summaries, want 1:\n%s", what, n, body)
	}
	summary := body[strings.Index(body, `<div class="error-summary"`):]
	summary = summary[:strings.Index(summary, "</div>")]
	if n := strings.Count(summary, "<li>"); n != len(ids) {
		t.Errorf("%s: the summary lists %d problems, want %d:\n%s", what, n, len(ids), summary)
	}
	for _, id := range ids {
		wantContains(t, what+": the error summary", summary, `<a href="#`+id+`">`)
		wantContains(t, what+": the field "+id, body, `id="`+id+`-error"`)
		at := strings.Index(body, `id="`+id+`"`)
		if at < 0 {
			t.Errorf("%s: no field %s", what, id)
			continue
		}
		field := body[at:]
		field = field[:strings.Index(field, ">")]
		if !strings.Contains(field, `aria-invalid="true"`) || !strings.Contains(field, id+`-error"`) {
			t.Errorf("%s: the field %s is not marked invalid and tied to its message: %s", what, id, field)
		}
	}
}

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
	wantEachFieldTold(t, "the new file", body, "last_name", "birth_date", "nir", "commune_code")
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
	wantEachFieldTold(t, "an unreadable birth date", htmlText(body), "first_name", "birth_date")
	if n := h.count(t, "patients"); n != before {
		t.Errorf("%d files after refused forms, want %d", n, before)
	}
}
