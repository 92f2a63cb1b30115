package claims

import (
	"fmt"
	"strings"
	"time"

	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/rights"
	"passd/text"
)

// Regimes the CPAM can open.
var Regimes = []string{"puma", "puma_css", "ame"}

// Patient is a PASS patient file.
type Patient struct {
	ID         int64
	FileNumber string
	LastName   string
	FirstName  string
	BirthDate  calendar.Date
	NIR        string // empty when unknown
	Rights     Rights
	CreatedAt  time.Time
}

// Rights is a file's current rights situation.
type Rights struct {
	Status        rights.Status
	Regime        string
	FiledOn       calendar.Date
	EffectiveFrom calendar.Date
	EffectiveTo   calendar.Date // zero: no end
	Reference     string
	Reason        string
	DecidedAt     *time.Time
}

// RightsEvent is one request or decision in a file's history.
type RightsEvent struct {
	ID            int64
	Kind          rights.Status // requested, opened or refused
	Regime        string
	FiledOn       calendar.Date
	EffectiveFrom calendar.Date
	EffectiveTo   calendar.Date
	Reference     string
	Reason        string
	Actor         string
	CreatedAt     time.Time
}

// FileNumber formats the n-th file of a year: PASS-2026-000042.
func FileNumber(year, n int) string { return fmt.Sprintf("PASS-%d-%06d", year, n) }

// The limits of what a file, an application and a decision may hold,
// stated once: Validate applies them, whatever carried the request.
const (
	MaxNameLength      = 100 // a last or first name, in characters
	MaxNIRInput        = 32  // a NIR as typed, spaces included, before normalising
	MaxReferenceLength = 64  // the CPAM's reference of an opening
	MaxReasonLength    = 500 // the CPAM's reason for a refusal
	MaxAgeYears        = 130 // the oldest plausible birth date, in years before today
)

// NewPatient is a request to open a file. Validate checks and normalises
// it; the store takes only a validated one.
type NewPatient struct {
	LastName  string
	FirstName string
	BirthDate calendar.Date
	NIR       string // empty when unknown
}

// Validate trims the names, checks them, bounds the birth date by today
// (in the past, at most MaxAgeYears ago) and turns the NIR, if any, into
// its canonical form. The error names the field at fault.
func (np *NewPatient) Validate(today calendar.Date) error {
	var err error
	if np.LastName, err = text.Required("last_name", np.LastName, MaxNameLength); err != nil {
		return err
	}
	if np.FirstName, err = text.Required("first_name", np.FirstName, MaxNameLength); err != nil {
		return err
	}
	if np.BirthDate.IsZero() {
		return fault.Field("birth_date", "birth_date is required")
	}
	if np.BirthDate.After(today) || np.BirthDate.Before(today.AddYears(-MaxAgeYears)) {
		return fault.Field("birth_date", "birth_date must be in the past and plausible")
	}
	if np.NIR, err = text.Clean("nir", np.NIR, MaxNIRInput); err != nil || np.NIR == "" {
		return err
	}
	if np.NIR, err = ident.ParseNIR(np.NIR); err != nil {
		return fault.Field("nir", "nir is not a valid NIR: %s", strings.TrimPrefix(err.Error(), "ident: "))
	}
	return nil
}

// RightsRequest records that an application was filed with the CPAM.
type RightsRequest struct {
	Regime  string
	FiledOn calendar.Date
}

// Validate checks the regime (one of Regimes) and that a filing date is
// given; the store checks it is not in the future, by its clock.
func (r *RightsRequest) Validate() error {
	var err error
	if r.Regime, err = text.OneOf("regime", r.Regime, Regimes...); err != nil {
		return err
	}
	if r.FiledOn.IsZero() {
		return fault.Field("filed_on", "filed_on is required")
	}
	return nil
}

// RightsDecision is the CPAM's answer: opened with a regime and period, or
// refused with a reason.
type RightsDecision struct {
	Decision      rights.Status // rights.Opened or rights.Refused
	Regime        string
	EffectiveFrom calendar.Date
	EffectiveTo   calendar.Date // zero: no end
	Reference     string
	Reason        string
}

// Validate checks a decision: an opening carries a regime, a start, an end
// not before it (or none) and a reference, and no reason; a refusal a
// reason and nothing of an opening. Which field is blamed first does not
// depend on anything but the decision.
func (d *RightsDecision) Validate() error {
	var err error
	if d.Decision, err = text.OneOf("decision", string(d.Decision), rights.Opened, rights.Refused); err != nil {
		return err
	}
	if d.Decision == rights.Refused {
		opening := []struct {
			field string
			given bool
		}{{"regime", d.Regime != ""}, {"effective_from", !d.EffectiveFrom.IsZero()}, {"effective_to", !d.EffectiveTo.IsZero()},
			{"reference", d.Reference != ""}}
		for _, o := range opening {
			if o.given {
				return fault.Field(o.field, "%s is not part of a refusal", o.field)
			}
		}
		d.Reason, err = text.Required("reason", d.Reason, MaxReasonLength)
		return err
	}
	if d.Reason != "" {
		return fault.Field("reason", "reason is only for a refusal")
	}
	if d.Regime, err = text.OneOf("regime", d.Regime, Regimes...); err != nil {
		return err
	}
	if d.EffectiveFrom.IsZero() {
		return fault.Field("effective_from", "effective_from is required")
	}
	if !d.EffectiveTo.IsZero() && d.EffectiveTo.Before(d.EffectiveFrom) {
		return fault.Field("effective_to", "effective_to must not be before effective_from")
	}
	d.Reference, err = text.Required("reference", d.Reference, MaxReferenceLength)
	return err
}
