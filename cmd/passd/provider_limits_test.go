package main

import (
	"net/http"
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
