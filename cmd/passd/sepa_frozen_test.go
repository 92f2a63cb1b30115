package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
)

// TestTheSEPAFileIsTheOneApproved: downloaded after approval, then after
// the régie's bank details change, the file is the same bytes, whose
// SHA-256 the batch shows; each download leaves an audit row.
func TestTheSEPAFileIsTheOneApproved(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.setRegie(t, "10000.00", "50000.00")
	nurse := h.newProvider(t, "Cabinet Lilas", "nurse", "10000000061")
	h.cityDue(t, nurse, h.newPatient(t, "Diallo"), "S", "40.00", "12.50")
	batch := h.pbApproved(t, h.checker, "")
	id := str(t, batch, "id")
	download := func() []byte {
		t.Helper()
		rec := h.doRaw(t, "GET", pbPath(id, "sepa.xml"), h.finance, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("sepa.xml: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	first := download()
	sum := sha256.Sum256(first)
	if batch["sepa_sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("the batch shows %v, the file's SHA-256 is %x", batch["sepa_sha256"], sum)
	}
	// The régie's account and the provider's, both changed and confirmed
	// after the approval: the file stays the one approved.
	put := h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{"regie_name": "Une autre régie",
		"regie_iban": validIBAN, "regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "50000.00"}))
	h.confirmBank(t, put["pending_regie_change"])
	patched := h.mustDo(t, http.StatusOK, "PATCH", "/api/v1/providers/"+nurse.id, h.admin, mustJSON(t, map[string]any{"name": "Mallory",
		"iban": validIBAN2}))
	h.confirmBank(t, patched["pending_bank_change"])
	if got := h.mustDo(t, http.StatusOK, "GET", "/api/v1/settings", h.admin, ""); got["regie_name"] != "Une autre régie" {
		t.Fatalf("the régie's new account is not in force: %v", got["regie_name"])
	}
	if second := download(); !bytes.Equal(first, second) {
		t.Fatalf("the file changed with the régie's or the provider's details")
	}
	if n := h.count(t, "audit_log", "action = 'payout_batch.sepa_download'", "entity_id = '"+id+"'"); n != 2 {
		t.Fatalf("%d audited downloads, want 2", n)
	}
}
