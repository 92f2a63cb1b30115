package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Issue 15 §4 and §5: a provider bills only the patients it sees, learns
// nothing of other files from the answers, and free text cannot hide
// characters that do not show.

// TestAWrongBirthDateIsRefusedAsAnUnknownFile: the same status and the
// same error object, to the letter, for a file number no file has and for
// a real file with another birth date; neither stores anything.
func TestAWrongBirthDateIsRefusedAsAnUnknownFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	body := func(fileNumber, birth string) string {
		return withEdits(t, invoiceBody(t, fileNumber, "W-1", "2026-06-01"), set("birth_date", birth))
	}

	before := h.state(t)
	wrongStatus, wrongBirth := h.do(t, "POST", "/api/v1/invoices", pr.token, body(p.fileNumber, "1990-04-13"))
	unknownStatus, unknownFile := h.do(t, "POST", "/api/v1/invoices", pr.token, body("PASS-2026-999999", testBirthDate))
	h.assertUnchanged(t, "refused patients", before)
	wantError(t, "another birth date", wrongStatus, wrongBirth, http.StatusUnprocessableEntity, "unknown_file_number", "patient_file_number")
	if wrongStatus != unknownStatus {
		t.Errorf("status %d for a wrong birth date, %d for an unknown file", wrongStatus, unknownStatus)
	}
	if diff := cmp.Diff(wrongBirth, unknownFile); diff != "" {
		t.Errorf("the answers tell a wrong birth date from an unknown file (-wrong birth +unknown file):\n%s", diff)
	}

	status, got := h.do(t, "POST", "/api/v1/invoices", pr.token, withEdits(t, invoiceBody(t, p.fileNumber, "W-1", "2026-06-01"), del("birth_date")))
	wantError(t, "no birth date", status, got, http.StatusUnprocessableEntity, "invalid", "birth_date")

	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, body(p.fileNumber, testBirthDate))
}

// TestADuplicateReferenceAnswersAlikeWhetherTheFileExists: once a
// reference is used, sending it again is the same 409 for the same file,
// for a file number no file has and for a wrong birth date, in either
// order.
func TestADuplicateReferenceAnswersAlikeWhetherTheFileExists(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	first := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "D-1", "2026-06-01"))
	bodies := map[string]string{
		"the same file":       invoiceBody(t, p.fileNumber, "D-1", "2026-06-02"),
		"an unknown file":     invoiceBody(t, "PASS-2026-999999", "D-1", "2026-06-02"),
		"a wrong birth date":  withEdits(t, invoiceBody(t, p.fileNumber, "D-1", "2026-06-02"), set("birth_date", "2000-01-01")),
		"no file number left": withEdits(t, invoiceBody(t, "PASS-2026-000000", "D-1", "2026-06-02"), set("birth_date", "2000-01-01")),
	}
	before := h.state(t)
	var want map[string]any
	for _, order := range [][]string{
		{"the same file", "an unknown file", "a wrong birth date", "no file number left"},
		{"no file number left", "a wrong birth date", "an unknown file", "the same file"},
	} {
		for _, name := range order {
			status, got := h.do(t, "POST", "/api/v1/invoices", pr.token, bodies[name])
			wantError(t, name, status, got, http.StatusConflict, "duplicate_invoice", "external_ref")
			if e, _ := got["error"].(map[string]any); e["existing_id"] != first["id"] {
				t.Errorf("%s: existing_id %v, want %v", name, e["existing_id"], first["id"])
			}
			if want == nil {
				want = got
			} else if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: another answer (-first +this):\n%s", name, diff)
			}
		}
	}
	h.assertUnchanged(t, "duplicates", before)
}

// TestFreeTextWithABidiOverrideIsRefused: a provider's name or an
// invoice's reference holding U+202E (which shows the text after it
// reversed) is a 422 naming the field, and nothing is stored.
func TestFreeTextWithABidiOverrideIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	before := h.state(t)
	status, got := h.do(t, "POST", "/api/v1/providers", h.admin, mustJSON(t, map[string]any{"kind": "nurse",
		"name": "Cabinet \u202enilreM", "rpps": "10000000099", "iban": validIBAN, "bic": validBIC}))
	wantError(t, "provider name", status, got, http.StatusUnprocessableEntity, "invalid", "name")
	status, got = h.do(t, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "F-\u202e1-TNIOP", "2026-06-01"))
	wantError(t, "external_ref", status, got, http.StatusUnprocessableEntity, "invalid", "external_ref")
	status, got = h.do(t, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "F-\u200b1", "2026-06-01"))
	wantError(t, "external_ref with a zero-width space", status, got, http.StatusUnprocessableEntity, "invalid", "external_ref")
	h.assertUnchanged(t, "free text with a bidi override", before)
}

// TestADecomposedReferenceIsADuplicate: "é" sent as e + U+0301 is the
// reference sent before as U+00E9, and the stored reference is the
// composed one.
func TestADecomposedReferenceIsADuplicate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	created := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "Été-1", "2026-06-01"))
	before := h.state(t)
	status, got := h.do(t, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "E\u0301te\u0301-1", "2026-06-01"))
	wantError(t, "decomposed reference", status, got, http.StatusConflict, "duplicate_invoice", "external_ref")
	h.assertUnchanged(t, "a decomposed duplicate", before)

	// Sent decomposed first, it is stored composed.
	decomposed := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "Fe\u0301vrier-2", "2026-06-01"))
	if ref := str(t, decomposed, "external_ref"); ref != "F\u00e9vrier-2" {
		t.Errorf("stored reference %q, want it composed", ref)
	}
	if created["external_ref"] != "\u00c9t\u00e9-1" {
		t.Errorf("stored reference %q, want it as sent", created["external_ref"])
	}
}

// rightsMembers are the members that would tell a provider the patient's
// rights or regime.
var rightsMembers = []string{"decision_reason", "reason", "cause", "regime", "rights", "rights_status", "rate", "rates", "line_rates"}

// rightsWords are the values and French labels that tell the same.
var rightsWords = []string{"rights_opened", "rights_refused", "not_covered", "deadline_passed", "prescribed", "ticket_moderateur",
	"droits ouverts", "droits refusés", "soins hors de la période des droits", "échéance dépassée", "ame", "puma", "css"}

// findMembers lists the paths of v's members named one of names, at any
// depth.
func findMembers(v any, path string, names []string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if slices.Contains(names, k) {
				out = append(out, path+"."+k)
			}
			out = append(out, findMembers(x, path+"."+k, names)...)
		}
	case []any:
		for i, x := range v {
			out = append(out, findMembers(x, fmt.Sprintf("%s[%d]", path, i), names)...)
		}
	}
	return out
}

// TestAProviderLearnsNothingOfThePatientsRights: a provider's answers
// about its invoices (created, listed, read, cancelled), its payouts
// (JSON and CSV), its statement and its pages carry the amounts but no
// decision or payout reason, regime or rights status, whichever way the
// invoices were decided; the coordinator and finance still see them.
func TestAProviderLearnsNothingOfThePatientsRights(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")

	released, _ := h.releasedClaim(t, pr, "Ame", "ame", "R-1", "30.00")
	refused := h.newPatient(t, "Refus")
	refusedInv := str(t, h.submit(t, pr, refused, "R-2", "2026-06-01"), "id")
	h.refuseRights(t, refused)
	h.runJob(t, "release")
	late := h.cityDue(t, pr, h.newPatient(t, "Tard"), "R-3", "25.00")[0]
	created := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, h.newPatient(t, "Neuf").fileNumber, "R-4", "2026-06-01"))
	cancelled := h.mustDo(t, http.StatusOK, "POST", "/api/v1/invoices/"+str(t, created, "id")+"/cancel", pr.token, "")

	for id, want := range map[string]string{released: "rights_opened", refusedInv: "rights_refused", late: "deadline_passed"} {
		if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, h.coordinator, "")["decision_reason"]; got != want {
			t.Fatalf("invoice %s decided %v, want %s (the coordinator sees why)", id, got, want)
		}
	}
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts?limit=500", h.finance, ""); len(findMembers(got, "", []string{"reason"})) == 0 {
		t.Errorf("finance no longer sees the payouts' reasons: %v", got)
	}

	answers := map[string]any{"created": created, "cancelled": cancelled}
	answers["list"] = h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices?limit=500", pr.token, "")
	for _, id := range []string{released, refusedInv, late} {
		answers["invoice "+id] = h.mustDo(t, http.StatusOK, "GET", "/api/v1/invoices/"+id, pr.token, "")
	}
	answers["payouts"] = h.mustDo(t, http.StatusOK, "GET", "/api/v1/payouts?limit=500", pr.token, "")
	answers["statement"] = h.mustDo(t, http.StatusOK, "GET", "/api/v1/statement?from=2026-01-01&to=2026-06-15", pr.token, "")
	for what, a := range answers {
		if found := findMembers(a, what, rightsMembers); len(found) > 0 {
			t.Errorf("the provider's %s carries %v", what, found)
		}
		for _, word := range rightsWords {
			if b := mustJSON(t, a); strings.Contains(b, `"`+word+`"`) {
				t.Errorf("the provider's %s says %q: %s", what, word, b)
			}
		}
	}
	// The amounts stay: the released invoice's CPAM share, the others' city's.
	if o, _ := answers["invoice "+released].(map[string]any)["outcome"].(map[string]any); o["cpam_amount"] == nil || o["city_amount"] == nil {
		t.Errorf("the provider no longer sees the released invoice's shares: %v", answers["invoice "+released])
	}
	if n := len(items(t, answers["statement"].(map[string]any))); n != 4 {
		t.Errorf("the statement lists %d invoices, want 4", n)
	}

	csv := h.doRaw(t, "GET", "/api/v1/payouts?format=csv", pr.token, "")
	if csv.Code != http.StatusOK || strings.Contains(csv.Body.String(), "Motif;") || !strings.Contains(csv.Body.String(), "Montant") {
		t.Errorf("the provider's payouts CSV (%d):\n%s", csv.Code, csv.Body.String())
	}
	b := mustSignIn(t, h, pr.token)
	for _, page := range []string{"/effecteur/factures/" + released, "/effecteur/factures/" + refusedInv, "/effecteur/factures/" + late,
		"/effecteur/factures", "/effecteur/releve?du=2026-01-01&au=2026-06-15"} {
		body := b.page(t, http.StatusOK, page)
		for _, word := range []string{"droits ouverts", "droits refusés", "échéance dépassée", "AME", "PUMa", "Raison"} {
			if strings.Contains(body, word) {
				t.Errorf("the provider's page %s says %q", page, word)
			}
		}
	}
	// The coordinator's page of the same invoice says why.
	if body := mustSignIn(t, h, h.coordinator).page(t, http.StatusOK, "/factures/"+refusedInv); !strings.Contains(body, "droits refusés") {
		t.Errorf("the coordinator's invoice page no longer says why it was decided")
	}
}
