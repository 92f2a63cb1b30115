package claims

import (
	"slices"
	"strings"
	"testing"
	"time"

	"passd/calendar"
	"passd/fault/faulttest"
	"passd/rights"
)

var validateToday = calendar.NewDate(2026, time.June, 15)

func TestNewPatientValidate(t *testing.T) {
	t.Parallel()
	valid := NewPatient{LastName: " Diallo ", FirstName: "Aminata", BirthDate: calendar.NewDate(1990, time.April, 12), NIR: "2 90 04 99 350 123 09"}
	np := valid
	if err := np.Validate(validateToday); err != nil {
		t.Fatal(err)
	}
	if np.LastName != "Diallo" || np.NIR != "290049935012309" {
		t.Errorf("validated as %+v, want trimmed names and a canonical NIR", np)
	}
	for _, c := range []struct {
		name, field string
		edit        func(*NewPatient)
	}{
		{"blank last name", "last_name", func(p *NewPatient) { p.LastName = "  " }},
		{"long first name", "first_name", func(p *NewPatient) { p.FirstName = strings.Repeat("é", MaxNameLength+1) }},
		{"control character", "first_name", func(p *NewPatient) { p.FirstName = "A\u0007" }},
		{"no birth date", "birth_date", func(p *NewPatient) { p.BirthDate = calendar.Date{} }},
		{"born tomorrow", "birth_date", func(p *NewPatient) { p.BirthDate = validateToday.AddDays(1) }},
		{"too old", "birth_date", func(p *NewPatient) { p.BirthDate = validateToday.AddYears(-MaxAgeYears).AddDays(-1) }},
		{"bad NIR key", "nir", func(p *NewPatient) { p.NIR = "290049935012308" }},
		{"long NIR", "nir", func(p *NewPatient) { p.NIR = strings.Repeat("1", MaxNIRInput+1) }},
	} {
		np := valid
		c.edit(&np)
		if fe := faulttest.RequireInvalid(t, np.Validate(validateToday)); fe.Field != c.field {
			t.Errorf("%s: blames %q, want %q", c.name, fe.Field, c.field)
		}
	}
}

// TestNewPatientProblemsTellsEveryField: a request wrong in every field
// has each field's error once, in Validate's order, Validate's error is
// the first, and the fields that pass are still normalised.
func TestNewPatientProblemsTellsEveryField(t *testing.T) {
	t.Parallel()
	np := NewPatient{LastName: " ", FirstName: "A\u0007", BirthDate: validateToday.AddDays(1), NIR: "290049935012308", CommuneCode: "561"}
	wantFields(t, "every field wrong", np.Problems(validateToday), "last_name", "first_name", "birth_date", "commune_code", "nir")
	again := NewPatient{LastName: " ", FirstName: "A\u0007", NIR: "290049935012308"}
	if fe := faulttest.RequireInvalid(t, again.Validate(validateToday)); fe.Field != "last_name" {
		t.Errorf("Validate blames %q, want the first problem's field, last_name", fe.Field)
	}
	some := NewPatient{LastName: " Diallo ", BirthDate: validateToday.AddYears(-30), NIR: " 2 90 04 99 350 123 09 "}
	wantFields(t, "no first name", some.Problems(validateToday), "first_name")
	if some.LastName != "Diallo" || some.NIR != "290049935012309" {
		t.Errorf("checked as %+v, want the valid fields normalised", some)
	}
	valid := NewPatient{LastName: "Diallo", FirstName: "Aminata", BirthDate: validateToday.AddYears(-30)}
	wantFields(t, "a valid request", valid.Problems(validateToday))
}

// wantFields checks that problems are errors of the invalid kind, one for
// each of fields, in that order.
func wantFields(t *testing.T, what string, problems []error, fields ...string) {
	t.Helper()
	var got []string
	for _, p := range problems {
		got = append(got, faulttest.RequireInvalid(t, p).Field)
	}
	if !slices.Equal(got, fields) {
		t.Errorf("%s: problems of %q, want %q", what, got, fields)
	}
}

func TestRightsRequestValidate(t *testing.T) {
	t.Parallel()
	r := RightsRequest{Regime: " ame ", FiledOn: validateToday}
	if err := r.Validate(); err != nil || r.Regime != "ame" {
		t.Fatalf("Validate() = %v, regime %q", err, r.Regime)
	}
	for _, c := range []struct {
		req   RightsRequest
		field string
	}{
		{RightsRequest{FiledOn: validateToday}, "regime"},
		{RightsRequest{Regime: "cmu", FiledOn: validateToday}, "regime"},
		{RightsRequest{Regime: "PUMA", FiledOn: validateToday}, "regime"},
		{RightsRequest{Regime: "puma"}, "filed_on"},
	} {
		if fe := faulttest.RequireInvalid(t, c.req.Validate()); fe.Field != c.field {
			t.Errorf("%+v: blames %q, want %q", c.req, fe.Field, c.field)
		}
	}
}

// TestRightsRequestProblemsTellsBothFields: an application wrong in both
// fields has both errors, the regime's first, as Validate answers.
func TestRightsRequestProblemsTellsBothFields(t *testing.T) {
	t.Parallel()
	r := RightsRequest{Regime: "cmu"}
	wantFields(t, "both wrong", r.Problems(), "regime", "filed_on")
	if fe := faulttest.RequireInvalid(t, r.Validate()); fe.Field != "regime" {
		t.Errorf("Validate blames %q, want regime", fe.Field)
	}
	r = RightsRequest{Regime: " ame "}
	wantFields(t, "no filing date", r.Problems(), "filed_on")
	if r.Regime != "ame" {
		t.Errorf("regime %q, want it trimmed", r.Regime)
	}
}

func TestRightsDecisionValidate(t *testing.T) {
	t.Parallel()
	from := calendar.NewDate(2026, time.May, 1)
	opened := RightsDecision{Decision: rights.Opened, Regime: "puma", EffectiveFrom: from, EffectiveTo: from, Reference: "PUMA-93-1"}
	refused := RightsDecision{Decision: rights.Refused, Reason: "résidence non établie"}
	for _, d := range []RightsDecision{opened, refused} {
		if err := d.Validate(); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
	for _, c := range []struct {
		name, field string
		base        RightsDecision
		edit        func(*RightsDecision)
	}{
		{"no decision", "decision", opened, func(d *RightsDecision) { d.Decision = "" }},
		{"decision in capitals", "decision", opened, func(d *RightsDecision) { d.Decision = "OPENED" }},
		{"opened with a reason", "reason", opened, func(d *RightsDecision) { d.Reason = " " }},
		{"opened without regime", "regime", opened, func(d *RightsDecision) { d.Regime = "" }},
		{"opened without start", "effective_from", opened, func(d *RightsDecision) { d.EffectiveFrom = calendar.Date{} }},
		{"end before start", "effective_to", opened, func(d *RightsDecision) { d.EffectiveTo = from.AddDays(-1) }},
		{"long reference", "reference", opened, func(d *RightsDecision) { d.Reference = strings.Repeat("R", MaxReferenceLength+1) }},
		{"refused with a regime", "regime", refused, func(d *RightsDecision) { d.Regime = "puma" }},
		{"refused with an end", "effective_to", refused, func(d *RightsDecision) { d.EffectiveTo = from }},
		{"refused with a reference", "reference", refused, func(d *RightsDecision) { d.Reference = "X" }},
		{"refused with a blank reason", "reason", refused, func(d *RightsDecision) { d.Reason = "  " }},
		{"refused with a long reason", "reason", refused, func(d *RightsDecision) { d.Reason = strings.Repeat("r", MaxReasonLength+1) }},
	} {
		d := c.base
		c.edit(&d)
		if fe := faulttest.RequireInvalid(t, d.Validate()); fe.Field != c.field {
			t.Errorf("%s: blames %q, want %q", c.name, fe.Field, c.field)
		}
	}
}

// TestRightsDecisionProblemsTellsEveryField: an opening or a refusal
// wrong in several fields has each field's error once, in Validate's
// order, and Validate's error is the first; a correction adds its reason's.
func TestRightsDecisionProblemsTellsEveryField(t *testing.T) {
	t.Parallel()
	from := calendar.NewDate(2026, time.May, 1)
	opening := RightsDecision{Decision: rights.Opened, Regime: "puma", Caisse: "93", Reason: "x", ImmediateAdmission: true,
		EffectiveFrom: from, EffectiveTo: from.AddDays(-1), Reference: " "}
	wantFields(t, "an opening", opening.Problems(), "caisse", "immediate_admission", "reason", "effective_to", "reference")
	opening = RightsDecision{Decision: rights.Opened, Regime: "cmu", Caisse: " 931 "}
	wantFields(t, "an opening without a period", opening.Problems(), "regime", "effective_from", "reference")
	if opening.Caisse != "931" {
		t.Errorf("caisse %q, want it trimmed", opening.Caisse)
	}
	refusal := RightsDecision{Decision: rights.Refused, Regime: "puma", EffectiveTo: from, Reference: "R", Reason: " "}
	wantFields(t, "a refusal", refusal.Problems(), "regime", "effective_to", "reference", "reason")
	none := RightsDecision{Decision: "maybe", Caisse: "x", Reason: "r", Regime: "cmu"}
	wantFields(t, "neither", none.Problems(), "decision", "caisse")
	again := RightsDecision{Decision: rights.Refused, Regime: "puma", Reference: "R"}
	if fe := faulttest.RequireInvalid(t, again.Validate()); fe.Field != "regime" {
		t.Errorf("Validate blames %q, want the first problem's field, regime", fe.Field)
	}

	corr := Correction{RightsDecision: RightsDecision{Decision: rights.Refused}, CorrectionReason: "  "}
	wantFields(t, "a correction", corr.Problems(), "reason", "correction_reason")
	if fe := faulttest.RequireInvalid(t, corr.Validate()); fe.Field != "reason" {
		t.Errorf("Validate blames %q, want the decision's first, reason", fe.Field)
	}
	corr = Correction{RightsDecision: RightsDecision{Decision: rights.Refused, Reason: " r "}, CorrectionReason: " erreur "}
	if err := corr.Validate(); err != nil || corr.Reason != "r" || corr.CorrectionReason != "erreur" {
		t.Errorf("a valid correction: %v, %+v", err, corr)
	}
}
