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
// message (id-error, holding want[id] when given), its input marked
// aria-invalid and described by the message, and a link in the error
// summary; the summary lists nothing else.
func wantEveryFieldRefused(t *testing.T, what, body string, ids []string, want map[string]string) {
	t.Helper()
	body = htmlText(body)
	start := strings.Index(body, `<div class="error-summary"`)
	if start < 0 {
		t.Fatalf("%s: no error summary:\n%s", what, body)
	}
	summary := body[start:]
	summary = summary[:strings.Index(summary, "</div>")]
	for _, id := range ids {
		wantContains(t, what+": the error summary", summary, `<a href="#`+id+`">`)
		wantContains(t, what+": the field "+id, body, `id="`+id+`-error">`+want[id])
		at := strings.Index(body, `id="`+id+`"`)
		if at < 0 {
			t.Errorf("%s: no input %s", what, id)
			continue
		}
		input := body[strings.LastIndex(body[:at], "<"):]
		input = input[:strings.Index(input, ">")]
		describedBy := ""
		if i := strings.Index(input, `aria-describedby="`); i >= 0 {
			describedBy = input[i+len(`aria-describedby="`):]
			describedBy = describedBy[:strings.Index(describedBy, `"`)]
		}
		if !strings.Contains(input, `aria-invalid="true"`) || !strings.Contains(" "+describedBy+" ", " "+id+"-error ") {
			t.Errorf("%s: the field %s is not marked invalid and tied to its message: %s", what, id, input)
		}
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
