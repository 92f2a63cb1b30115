package claims_test

import (
	"testing"

	"passd/claims"
)

var sinkDecision claims.RightsDecision

// BenchmarkParseRightsDecision parses and checks the CPAM referent's body,
// as POST /patients/{id}/rights-decision does.
func BenchmarkParseRightsDecision(b *testing.B) {
	body := []byte(`{"decision": "opened", "regime": "puma", "effective_from": "2026-08-01", "effective_to": "2027-07-31", "reference": "CPAM-75-2026-001234"}`)
	b.ReportAllocs()
	for b.Loop() {
		d, err := claims.ParseRightsDecision(body)
		if err != nil {
			b.Fatal(err)
		}
		sinkDecision = d
	}
}
