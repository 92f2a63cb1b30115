package openapi_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/shopspring/decimal"

	"passd/auth"
	"passd/billing"
	"passd/claims"
	"passd/openapi"
	"passd/referrals"
)

// TestTheContractStatesTheDomainsLimits: each limit is stated once, in Go
// (the domain's Validate uses it); the contract a client reads must say
// the same, so this test compares every bound it states with its constant.
func TestTheContractStatesTheDomainsLimits(t *testing.T) {
	doc := loadContract(t)
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
		{"Access", "user_name", "maxLength", auth.MaxUserName},
		{"NewReferral", "last_name", "maxLength", referrals.MaxName},
		{"NewReferral", "phone", "maxLength", referrals.MaxPhone},
		{"NewReferral", "address", "maxLength", referrals.MaxAddress},
		{"NewReferral", "note", "maxLength", referrals.MaxNote},
		{"NewAlert", "exception_reason", "maxLength", referrals.MaxNote},
		{"ReferralAnswer", "reason", "maxLength", referrals.MaxNote},
	} {
		p := property(t, doc, b.schema, b.property)
		if p == nil {
			continue
		}
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

// TestTheContractStatesTheDomainsAmounts: an amount is a string in the
// contract, bounded by its pattern, so the contract must take the domain's
// largest amount and refuse one cent more.
func TestTheContractStatesTheDomainsAmounts(t *testing.T) {
	doc := loadContract(t)
	for _, b := range []struct {
		schema, property string
		max              decimal.Decimal
	}{
		{"NewLine", "unit_price", billing.MaxUnitPrice},
		{"NewSettings", "regie_ceiling", billing.MaxSettingAmount},
		{"NewSettings", "annual_budget", billing.MaxSettingAmount},
	} {
		p := property(t, doc, b.schema, b.property)
		if p == nil {
			continue
		}
		if err := p.VisitJSON(b.max.StringFixed(2)); err != nil {
			t.Errorf("the contract refuses %s.%s %s, the domain's limit: %v", b.schema, b.property, b.max.StringFixed(2), err)
		}
		over := b.max.Add(decimal.New(1, -2)).StringFixed(2)
		if err := p.VisitJSON(over); err == nil {
			t.Errorf("the contract takes %s.%s %s, over the domain's limit %s", b.schema, b.property, over, b.max.StringFixed(2))
		}
	}
}

// TestTheContractStatesTheIdentifiersInputLengths: billing bounds the
// RPPS, FINESS, IBAN and BIC as typed (spaces included) before ident reads
// them, with constants of its own; the contract's maxLength must be the
// length beyond which Validate refuses them as too long.
func TestTheContractStatesTheIdentifiersInputLengths(t *testing.T) {
	doc := loadContract(t)
	for _, b := range []struct {
		schema, property string
		validate         func(typed string) error
	}{
		{"NewProvider", "rpps", func(v string) error { p := validProvider(); p.RPPS = v; return p.Validate() }},
		{"NewProvider", "finess", func(v string) error { p := validProvider(); p.FINESS = v; return p.Validate() }},
		{"NewProvider", "iban", func(v string) error { p := validProvider(); p.IBAN = v; return p.Validate() }},
		{"NewProvider", "bic", func(v string) error { p := validProvider(); p.BIC = v; return p.Validate() }},
		{"NewSettings", "regie_iban", func(v string) error { st := validSettings(); st.RegieIBAN = v; return st.Validate() }},
		{"NewSettings", "regie_bic", func(v string) error { st := validSettings(); st.RegieBIC = v; return st.Validate() }},
	} {
		p := property(t, doc, b.schema, b.property)
		if p == nil {
			continue
		}
		n := int(derefOr(p.MaxLength))
		if tooLong(b.validate(strings.Repeat("1", n))) {
			t.Errorf("the contract says %s.%s maxLength %d; the domain refuses %d characters as too long", b.schema, b.property, n, n)
		}
		if !tooLong(b.validate(strings.Repeat("1", n+1))) {
			t.Errorf("the contract says %s.%s maxLength %d; the domain takes %d characters", b.schema, b.property, n, n+1)
		}
	}
}

func validProvider() billing.Provider {
	return billing.Provider{Kind: billing.KindGP, Name: "Cabinet", RPPS: "10000000001", IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP"}
}

func validSettings() billing.Settings {
	return billing.Settings{RegieName: "Régie PASS", RegieIBAN: "FR7630006000011234567890189", RegieBIC: "AGRIFRPP",
		RegieCeiling: decimal.New(5000, 0), AnnualBudget: decimal.New(120000, 0)}
}

// tooLong: err is text.Clean's refusal of a value longer than its bound.
func tooLong(err error) bool { return err != nil && strings.Contains(err.Error(), "is longer than") }

func loadContract(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// property is schema's property in the contract, or nil (an error) when
// the contract has none.
func property(t *testing.T, doc *openapi3.T, schema, name string) *openapi3.Schema {
	t.Helper()
	s := doc.Components.Schemas[schema]
	if s == nil || s.Value.Properties[name] == nil {
		t.Errorf("the contract has no %s.%s", schema, name)
		return nil
	}
	return s.Value.Properties[name].Value
}

func derefOr(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
