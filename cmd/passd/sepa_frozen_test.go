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
	h.mustDo(t, http.StatusOK, "PUT", "/api/v1/settings", h.admin, mustJSON(t, map[string]any{"regie_name": "Une autre régie",
		"regie_iban": validIBAN, "regie_bic": validBIC, "regie_ceiling": "10000.00", "annual_budget": "50000.00"}))
	if second := download(); !bytes.Equal(first, second) {
		t.Fatalf("the file changed with the régie's details")
	}
	if n := h.count(t, "audit_log", "action = 'payout_batch.sepa_download'", "entity_id = '"+id+"'"); n != 2 {
		t.Fatalf("%d audited downloads, want 2", n)
	}
}
