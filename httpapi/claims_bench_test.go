package httpapi

import (
	"testing"

	"passd/claims"
)

var sinkDecision claims.RightsDecision

// BenchmarkDecodeRightsDecision decodes and validates the CPAM referent's
// body, as POST /patients/{id}/rights-decision does.
func BenchmarkDecodeRightsDecision(b *testing.B) {
	body := []byte(`{"decision": "opened", "regime": "puma", "effective_from": "2026-08-01", "effective_to": "2027-07-31", "reference": "CPAM-75-2026-001234"}`)
	b.ReportAllocs()
	for b.Loop() {
		d, err := decodeRightsDecision(body)
		if err != nil {
			b.Fatal(err)
		}
		sinkDecision = d
	}
}
