package openapi_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"passd/billing"
	"passd/claims"
	"passd/openapi"
)

// TestTheContractStatesTheDomainsLimits: each limit is stated once, in Go
// (the domain's Validate uses it); the contract a client reads must say
// the same, so this test compares every bound it states with its constant.
func TestTheContractStatesTheDomainsLimits(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	type bound struct {
		schema, property, keyword string
		want                      uint64
	}
	for _, b := range []bound{
		{"NewProvider", "name", "maxLength", billing.MaxProviderName},
		{"NewInvoice", "patient_file_number", "maxLength", billing.MaxFileNumber},
		{"NewInvoice", "external_ref", "maxLength", billing.MaxExternalRef},
		{"NewInvoice", "lines", "maxItems", billing.MaxLines},
		{"NewLine", "label", "maxLength", billing.MaxLineLabel},
		{"NewLine", "quantity", "maximum", billing.MaxQuantity},
		{"NewSettings", "regie_name", "maxLength", billing.MaxRegieName},
		{"NewSettings", "deadline_days", "maximum", billing.MaxDeadlineDays},
		{"NewPatient", "last_name", "maxLength", claims.MaxNameLength},
		{"NewPatient", "first_name", "maxLength", claims.MaxNameLength},
		{"NewPatient", "nir", "maxLength", claims.MaxNIRInput},
		{"RightsDecision", "reference", "maxLength", claims.MaxReferenceLength},
		{"RightsDecision", "reason", "maxLength", claims.MaxReasonLength},
	} {
		schema := doc.Components.Schemas[b.schema]
		if schema == nil || schema.Value.Properties[b.property] == nil {
			t.Errorf("the contract has no %s.%s", b.schema, b.property)
			continue
		}
		p := schema.Value.Properties[b.property].Value
		var got uint64
		switch b.keyword {
		case "maxLength":
			got = derefOr(p.MaxLength)
		case "maxItems":
			got = derefOr(p.MaxItems)
		case "maximum":
			if p.Max != nil {
				got = uint64(*p.Max)
			}
		}
		if got != b.want {
			t.Errorf("the contract says %s.%s %s %d; the domain's limit is %d", b.schema, b.property, b.keyword, got, b.want)
		}
	}
}

func derefOr(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
