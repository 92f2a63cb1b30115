package billing_test

import (
	"errors"
	"strings"
	"testing"

	"passd/billing"
	"passd/calendar"
	"passd/fault/faulttest"
)

// The rules of the typed requests, as the JSON API and the web forms
// both meet them: each refusal names its field.

func TestProviderValidate(t *testing.T) {
	t.Parallel()
	valid := func() billing.Provider {
		return billing.Provider{Kind: " nurse ", Name: "Cabinet des Lilas", RPPS: "10004567890",
			IBAN: "fr76 3000 6000 0112 3456 7890 189", BIC: "agrifrpp"}
	}
	p := valid()
	if err := p.Validate(); err != nil {
		t.Fatalf("valid provider refused: %v", err)
	}
	if p.Kind != billing.KindNurse || p.IBAN != "FR7630006000011234567890189" || p.BIC != "AGRIFRPP" {
		t.Fatalf("not canonical: %+v", p)
	}
	tests := []struct {
		name, field string
		change      func(*billing.Provider)
	}{
		{"unknown kind", "kind", func(p *billing.Provider) { p.Kind = "vet" }},
		{"no name", "name", func(p *billing.Provider) { p.Name = "  " }},
		{"long name", "name", func(p *billing.Provider) { p.Name = strings.Repeat("a", billing.MaxProviderName+1) }},
		{"name outside SEPA", "name", func(p *billing.Provider) { p.Name = "市役所" }},
		{"no identifier", "rpps", func(p *billing.Provider) { p.RPPS = "" }},
		{"bad rpps", "rpps", func(p *billing.Provider) { p.RPPS = "123" }},
		{"bad finess", "finess", func(p *billing.Provider) { p.FINESS = "12" }},
		{"bad iban", "iban", func(p *billing.Provider) { p.IBAN = "FR76" }},
		{"control character", "bic", func(p *billing.Provider) { p.BIC = "AGRI\x00FRPP" }},
	}
	for _, tt := range tests {
		p := valid()
		tt.change(&p)
		if fe := faulttest.RequireInvalid(t, p.Validate()); fe.Field != tt.field {
			t.Errorf("%s: field %q, want %q", tt.name, fe.Field, tt.field)
		}
	}
}

func TestNewInvoiceValidate(t *testing.T) {
	t.Parallel()
	today := d("2026-06-15")
	valid := func() billing.NewInvoice {
		return billing.NewInvoice{PatientFileNumber: "PASS-2026-000001", BirthDate: d("1990-04-12"), ExternalRef: "F-1", CareDate: d("2026-06-01"),
			Lines: []billing.Line{{Code: "g", Label: "Consultation", Quantity: 1, UnitPrice: amt("30.00")}}}
	}
	in := valid()
	if err := in.Validate(today); err != nil || in.Lines[0].Code != "G" {
		t.Fatalf("valid submission: %v, code %q", err, in.Lines[0].Code)
	}
	tests := []struct {
		name, field string
		cause       error
		change      func(*billing.NewInvoice)
	}{
		{"no file number", "patient_file_number", nil, func(in *billing.NewInvoice) { in.PatientFileNumber = "" }},
		{"no birth date", "birth_date", nil, func(in *billing.NewInvoice) { in.BirthDate = calendar.Date{} }},
		{"reference with a bidi override", "external_ref", nil, func(in *billing.NewInvoice) { in.ExternalRef = "F-1\u202e" }},
		{"long reference", "external_ref", nil, func(in *billing.NewInvoice) { in.ExternalRef = strings.Repeat("r", billing.MaxExternalRef+1) }},
		{"no care date", "care_date", nil, func(in *billing.NewInvoice) { in.CareDate = calendar.Date{} }},
		{"care tomorrow", "care_date", calendar.ErrFuture, func(in *billing.NewInvoice) { in.CareDate = d("2026-06-16") }},
		{"care too old", "care_date", billing.ErrCareTooOld, func(in *billing.NewInvoice) { in.CareDate = today.AddDays(-billing.MaxSubmissionLimitDays - 1) }},
		{"no line", "lines", nil, func(in *billing.NewInvoice) { in.Lines = nil }},
		{"too many lines", "lines", nil, func(in *billing.NewInvoice) { in.Lines = make([]billing.Line, billing.MaxLines+1) }},
		{"unknown code", "lines[0].code", nil, func(in *billing.NewInvoice) { in.Lines[0].Code = "<script>" }},
		{"no label", "lines[0].label", nil, func(in *billing.NewInvoice) { in.Lines[0].Label = "" }},
		{"zero quantity", "lines[0].quantity", nil, func(in *billing.NewInvoice) { in.Lines[0].Quantity = 0 }},
		{"quantity over", "lines[0].quantity", nil, func(in *billing.NewInvoice) { in.Lines[0].Quantity = billing.MaxQuantity + 1 }},
		{"zero price", "lines[0].unit_price", nil, func(in *billing.NewInvoice) { in.Lines[0].UnitPrice = amt("0") }},
		{"tenth of a cent", "lines[0].unit_price", nil, func(in *billing.NewInvoice) { in.Lines[0].UnitPrice = amt("1.005") }},
		{"price over", "lines[0].unit_price", nil, func(in *billing.NewInvoice) { in.Lines[0].UnitPrice = billing.MaxUnitPrice.Add(amt("0.01")) }},
	}
	for _, tt := range tests {
		in := valid()
		tt.change(&in)
		fe := faulttest.RequireInvalid(t, in.Validate(today))
		if fe.Field != tt.field || (tt.cause != nil && !errors.Is(fe, tt.cause)) {
			t.Errorf("%s: field %q (%v), want %q", tt.name, fe.Field, fe, tt.field)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	valid := func() billing.Settings {
		return billing.Settings{RegieName: "Régie PASS", RegieIBAN: "FR1830006000010000098765432", RegieBIC: "AGRIFRPP",
			RegieCeiling: amt("10000.00"), AnnualBudget: amt("50000.00")}
	}
	st := valid()
	if err := st.Validate(); err != nil {
		t.Fatalf("valid settings refused: %v", err)
	}
	tests := []struct {
		name, field string
		change      func(*billing.Settings)
	}{
		{"name outside SEPA", "regie_name", func(st *billing.Settings) { st.RegieName = "★" }},
		{"bad iban", "regie_iban", func(st *billing.Settings) { st.RegieIBAN = "FR00" }},
		{"bad bic", "regie_bic", func(st *billing.Settings) { st.RegieBIC = "X" }},
		{"zero ceiling", "regie_ceiling", func(st *billing.Settings) { st.RegieCeiling = amt("0") }},
		{"budget over", "annual_budget", func(st *billing.Settings) { st.AnnualBudget = billing.MaxSettingAmount.Add(amt("0.01")) }},
		{"negative deadline", "deadline_days", func(st *billing.Settings) { st.DeadlineDays = -1 }},
		{"deadline over", "deadline_days", func(st *billing.Settings) { st.DeadlineDays = billing.MaxDeadlineDays + 1 }},
		{"negative recovery delay", "recovery_offset_days", func(st *billing.Settings) { st.RecoveryOffsetDays = -1 }},
		{"recovery delay over", "recovery_offset_days", func(st *billing.Settings) { st.RecoveryOffsetDays = billing.MaxRecoveryOffsetDays + 1 }},
	}
	for _, tt := range tests {
		st := valid()
		tt.change(&st)
		if fe := faulttest.RequireInvalid(t, st.Validate()); fe.Field != tt.field {
			t.Errorf("%s: field %q, want %q", tt.name, fe.Field, tt.field)
		}
	}
	faulttest.RequireInvalid(t, billing.CheckDeadlineDays(0))
	faulttest.RequireInvalid(t, billing.CheckRecoveryOffsetDays(0))
	if days := valid().RecoveryOffset(); days != billing.DefaultRecoveryOffsetDays {
		t.Errorf("unset recovery delay: %d days, want the default %d", days, billing.DefaultRecoveryOffsetDays)
	}
}

// TestProviderProblems: a provider wrong in several fields names each of
// them once, in Validate's order, Validate's first error first.
func TestProviderProblems(t *testing.T) {
	t.Parallel()
	wrong := billing.Provider{Kind: "vet", Name: " ", RPPS: "123", FINESS: "12", IBAN: "FR76", BIC: "X"}
	p := wrong
	problems := p.Problems()
	var fields []string
	for _, err := range problems {
		fields = append(fields, faulttest.RequireInvalid(t, err).Field)
	}
	if got, want := strings.Join(fields, ","), "kind,name,rpps,finess,iban,bic"; got != want {
		t.Errorf("fields %s, want %s", got, want)
	}
	if err := wrong.Validate(); err == nil || err.Error() != problems[0].Error() {
		t.Errorf("Validate answers %v, not the first problem %v", err, problems[0])
	}
	// Text that is no identifier comes before one that does not parse, as
	// Validate has always answered; neither left blank is the RPPS's alone.
	p = billing.Provider{Kind: "nurse", Name: "Cabinet", RPPS: "123", FINESS: "12\x00", IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP"}
	fields = nil
	for _, err := range p.Problems() {
		fields = append(fields, faulttest.RequireInvalid(t, err).Field)
	}
	if got := strings.Join(fields, ","); got != "finess,rpps" {
		t.Errorf("fields %s, want finess,rpps", got)
	}
	p = billing.Provider{Kind: "nurse", Name: "Cabinet", IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP"}
	if problems := p.Problems(); len(problems) != 1 || faulttest.RequireInvalid(t, problems[0]).Field != "rpps" {
		t.Errorf("no identifier: %v", problems)
	}
}

// TestSettingsProblems: settings wrong in several fields name each of
// them once, in Validate's order, Validate's first error first.
func TestSettingsProblems(t *testing.T) {
	t.Parallel()
	wrong := billing.Settings{RegieName: "★", RegieIBAN: "FR00", RegieBIC: "X", RegieCeiling: amt("0"),
		AnnualBudget: billing.MaxSettingAmount.Add(amt("0.01")), DeadlineDays: -1, AMELookbackDays: billing.MaxAMELookbackDays + 1,
		SubmissionLimitDays: -1, RecoveryOffsetDays: billing.MaxRecoveryOffsetDays + 1, ReferralRetentionMonths: -1,
		InvoiceCeiling: amt("-1"), OverCeiling: "ignore", DefaultDrugClass: 50}
	st := wrong
	problems := st.Problems()
	var fields []string
	for _, err := range problems {
		fields = append(fields, faulttest.RequireInvalid(t, err).Field)
	}
	want := "regie_name,regie_iban,regie_bic,regie_ceiling,annual_budget,deadline_days,ame_lookback_days,submission_limit_days," +
		"recovery_offset_days,referral_retention_months,invoice_ceiling,over_ceiling,default_drug_class"
	if got := strings.Join(fields, ","); got != want {
		t.Errorf("fields %s,\nwant %s", got, want)
	}
	if err := wrong.Validate(); err == nil || err.Error() != problems[0].Error() {
		t.Errorf("Validate answers %v, not the first problem %v", err, problems[0])
	}
}
