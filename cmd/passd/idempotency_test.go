package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"passd/auth"
)

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	body := invoiceBody(t, p.fileNumber, "I-1", "2026-06-01", line{"G", "30.00", 1}, line{"C", "25.00", 2})
	key := []string{"Idempotency-Key", "3f1c2a9e-retry-me"}

	first := h.doRaw(t, "POST", "/api/v1/invoices", pr.token, body, key...)
	if first.Code != http.StatusCreated {
		t.Fatalf("first: status %d: %s", first.Code, first.Body)
	}
	afterFirst := h.state(t)
	for i := range 3 {
		again := h.doRaw(t, "POST", "/api/v1/invoices", pr.token, body, key...)
		if again.Code != first.Code || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) {
			t.Errorf("retry %d: %d %s, want the first answer byte for byte: %d %s", i, again.Code, again.Body, first.Code, first.Body)
		}
		if ct := again.Header().Get("Content-Type"); ct != first.Header().Get("Content-Type") {
			t.Errorf("retry %d: Content-Type %q, first had %q", i, ct, first.Header().Get("Content-Type"))
		}
	}
	h.assertUnchanged(t, "retries with the same key and body", afterFirst)
	if n := h.count(t, "invoices"); n != 1 {
		t.Errorf("%d invoices, want 1", n)
	}

	// The same key with another body is a client bug, not a retry.
	other := invoiceBody(t, p.fileNumber, "I-2", "2026-06-01")
	status, got := h.do(t, "POST", "/api/v1/invoices", pr.token, other, key...)
	wantError(t, "same key, other body", status, got, http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	h.assertUnchanged(t, "same key, other body", afterFirst)

	// Without the key, the same body is a duplicate external_ref.
	status, got = h.do(t, "POST", "/api/v1/invoices", pr.token, body)
	wantError(t, "same body without key", status, got, http.StatusConflict, "duplicate_invoice", "external_ref")
	// A fresh key and a fresh body make a second invoice.
	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, other, "Idempotency-Key", "another-key")
	if n := h.count(t, "invoices"); n != 2 {
		t.Errorf("%d invoices, want 2", n)
	}
}

func TestIdempotencyKeysBelongToTheirUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	b := h.newProvider(t, "Dr B", "general_practitioner", "10000000002")
	p := h.newPatient(t, "Diallo")
	body := invoiceBody(t, p.fileNumber, "K-1", "2026-06-01")
	key := []string{"Idempotency-Key", "shared-key"}

	firstA := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", a.token, body, key...)
	// Another provider's user with the same key and body gets its own invoice.
	firstB := h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", b.token, body, key...)
	if firstB["id"] == firstA["id"] || firstB["provider_id"] != b.id {
		t.Errorf("B's invoice %v, want a new invoice of provider %s (A's is %v)", firstB, b.id, firstA["id"])
	}
	// A colleague of A with the same key is not replayed A's answer: the
	// request is judged on its own, and the external_ref is taken.
	var aID int64
	if err := h.pool.QueryRow(t.Context(), "SELECT id FROM providers WHERE rpps = '10000000001'").Scan(&aID); err != nil {
		t.Fatal(err)
	}
	colleague := h.user(t, "colleague-of-a", auth.Provider, aID)
	status, got := h.do(t, "POST", "/api/v1/invoices", colleague, body, key...)
	wantError(t, "colleague, same key", status, got, http.StatusConflict, "duplicate_invoice", "external_ref")
	if e := got["error"].(map[string]any); e["existing_id"] != firstA["id"] {
		t.Errorf("existing_id = %v, want %v", e["existing_id"], firstA["id"])
	}
	if n := h.count(t, "invoices"); n != 2 {
		t.Errorf("%d invoices, want 2", n)
	}
	if n := h.count(t, "idempotency_keys"); n != 2 {
		t.Errorf("%d idempotency keys stored, want 2 (A's and B's; the colleague's request failed)", n)
	}
}

func TestARejectedRequestDoesNotUseUpItsKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	key := []string{"Idempotency-Key", "fix-and-retry"}

	before := h.state(t)
	status, got := h.do(t, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, "PASS-2026-999999", "R-1", "2026-06-01"), key...)
	wantError(t, "unknown file number", status, got, http.StatusUnprocessableEntity, "unknown_file_number", "patient_file_number")
	status, got = h.do(t, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "R-1", "2026-06-16"), key...)
	wantError(t, "future care date", status, got, http.StatusUnprocessableEntity, "invalid", "care_date")
	h.assertUnchanged(t, "rejected requests with a key", before)

	h.mustDo(t, http.StatusCreated, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, p.fileNumber, "R-1", "2026-06-01"), key...)
}

func TestConcurrentRetriesWithOneKeyCreateOneInvoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	body := invoiceBody(t, p.fileNumber, "C-1", "2026-06-01", line{"G", "30.00", 1})

	answers := h.concurrently(t, 10, func() *httptest.ResponseRecorder {
		return h.doRaw(t, "POST", "/api/v1/invoices", pr.token, body, "Idempotency-Key", "same-key")
	})
	for i, rec := range answers {
		if rec.Code != http.StatusCreated || !bytes.Equal(rec.Body.Bytes(), answers[0].Body.Bytes()) {
			t.Errorf("request %d: %d %s, want 201 and the same body as request 0: %s", i, rec.Code, rec.Body, answers[0].Body)
		}
	}
	if n := h.count(t, "invoices"); n != 1 {
		t.Errorf("%d invoices, want exactly 1", n)
	}
	if n := h.count(t, "invoice_lines"); n != 1 {
		t.Errorf("%d invoice lines, want exactly 1", n)
	}
	if n := h.count(t, "audit_log", "action = 'invoice.create'"); n != 1 {
		t.Errorf("%d invoice.create audit rows, want 1", n)
	}
}

func TestDuplicateExternalRefIsAConflictNamingTheFirstInvoice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.newProvider(t, "Dr A", "general_practitioner", "10000000001")
	p := h.newPatient(t, "Diallo")
	q := h.newPatient(t, "Nguyen")
	first := h.submit(t, pr, p, "D-1", "2026-06-01")

	before := h.state(t)
	// Another patient, date and amount: the external_ref alone identifies
	// the provider's invoice.
	status, got := h.do(t, "POST", "/api/v1/invoices", pr.token, invoiceBody(t, q.fileNumber, "D-1", "2026-05-01", line{"C", "25.00", 1}))
	wantError(t, "duplicate", status, got, http.StatusConflict, "duplicate_invoice", "external_ref")
	if e := got["error"].(map[string]any); e["existing_id"] != first["id"] {
		t.Errorf("existing_id = %v, want %v", e["existing_id"], first["id"])
	}
	h.assertUnchanged(t, "duplicate external_ref", before)

	// Racing duplicates without a key: one is created, every other one is
	// told which invoice exists.
	body := invoiceBody(t, p.fileNumber, "D-2", "2026-06-01")
	answers := h.concurrently(t, 10, func() *httptest.ResponseRecorder {
		return h.doRaw(t, "POST", "/api/v1/invoices", pr.token, body)
	})
	var created []map[string]any
	var conflicts []map[string]any
	for _, rec := range answers {
		m := decodeObject(t, "race", rec)
		switch rec.Code {
		case http.StatusCreated:
			created = append(created, m)
		case http.StatusConflict:
			conflicts = append(conflicts, m)
		default:
			t.Errorf("racing duplicate: %d %v", rec.Code, m)
		}
	}
	if len(created) != 1 || len(conflicts) != 9 {
		t.Fatalf("%d created, %d conflicts; want 1 and 9", len(created), len(conflicts))
	}
	for _, c := range conflicts {
		if e := c["error"].(map[string]any); e["existing_id"] != created[0]["id"] || e["code"] != "duplicate_invoice" {
			t.Errorf("conflict %v, want duplicate_invoice naming %v", c, created[0]["id"])
		}
	}
	if n := h.count(t, "invoices"); n != 2 {
		t.Errorf("%d invoices, want 2", n)
	}
}

// concurrently runs n copies of send at once (released together) and
// returns their answers. send must not call t.Fatal.
func (h *harness) concurrently(t *testing.T, n int, send func() *httptest.ResponseRecorder) []*httptest.ResponseRecorder {
	t.Helper()
	out := make([]*httptest.ResponseRecorder, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = send()
		}()
	}
	close(start)
	wg.Wait()
	return out
}
