package claims

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/rights"
	"passd/text"
)

// Regimes the CPAM can open, as request values.
var Regimes = []string{string(rights.PUMa), string(rights.PUMaCSS), string(rights.AME)}

// Patient is a PASS patient file.
type Patient struct {
	ID         int64
	FileNumber string
	LastName   string
	FirstName  string
	BirthDate  calendar.Date
	NIR        string // empty when unknown
	// CommuneCode is the INSEE code of the commune the person lives in,
	// empty when unknown or of no fixed address.
	CommuneCode string
	Rights      Rights
	CreatedAt   time.Time
	// Decisions is the file's history of decisions, oldest first; only
	// reading one file (Store.Patient) fills it.
	Decisions []Decision
}

// Decision is one CPAM decision on a file: an opened period or a refusal.
// It is never edited; a correction supersedes it.
type Decision struct {
	ID               int64         `db:"id"`
	Decision         rights.Status `db:"decision"` // rights.Opened or rights.Refused
	Regime           string        `db:"regime"`
	EffectiveFrom    calendar.Date `db:"effective_from"`
	EffectiveTo      calendar.Date `db:"effective_to"` // zero: no end
	Reference        string        `db:"reference"`
	Caisse           string        `db:"caisse"` // the CPAM's 3-digit code, when given
	Reason           string        `db:"reason"`
	FiledOn          calendar.Date `db:"filed_on"` // the application it answers
	DecidedBy        string        `db:"decided_by"`
	DecidedAt        time.Time     `db:"decided_at"`
	Supersedes       int64         `db:"supersedes"` // 0: an original decision
	SupersededAt     *time.Time    `db:"superseded_at"`
	SupersededBy     string        `db:"superseded_by"`
	CorrectionReason string        `db:"correction_reason"`
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
	MaxPeriodAgeYears  = 2   // no period starts more than this many years before its decision
	MaxPeriodYears     = 1   // how long a CSS or AME period lasts at most
	maxCaisseInput     = 8   // a caisse code as typed, spaces included
)

// RightsPolicy is what the checks of a decision take from the city's
// settings.
type RightsPolicy struct {
	AMELookbackDays int
}

// NewPatient is a request to open a file. Validate checks and normalises
// it; the store takes only a validated one.
type NewPatient struct {
	LastName  string
	FirstName string
	BirthDate calendar.Date
	NIR       string // empty when unknown
	// CommuneCode is optional: ParseCommune's form.
	CommuneCode string
}

// Validate trims the names, checks them, bounds the birth date by today
// (in the past, at most MaxAgeYears ago) and turns the NIR, if any, into
// its canonical form. The error names the field at fault: the first of
// Problems.
func (np *NewPatient) Validate(today calendar.Date) error {
	return fault.First(np.Problems(today))
}

// Problems checks every field of the request, as Validate does, and
// returns each one's error, in Validate's order (last_name, first_name,
// birth_date, commune_code, nir): a form shows them all at once rather
// than one per attempt. A field has one error at most.
func (np *NewPatient) Problems(today calendar.Date) []error {
	var out []error
	keep := fault.Collect(&out)
	var err error
	np.LastName, err = text.Required("last_name", np.LastName, MaxNameLength)
	keep(err)
	np.FirstName, err = text.Required("first_name", np.FirstName, MaxNameLength)
	keep(err)
	switch {
	case np.BirthDate.IsZero():
		keep(fault.Field("birth_date", "birth_date is required"))
	case np.BirthDate.After(today) || np.BirthDate.Before(today.AddYears(-MaxAgeYears)):
		keep(fault.Field("birth_date", "birth_date must be in the past and plausible"))
	}
	np.CommuneCode, err = ParseCommune(np.CommuneCode)
	keep(err)
	if np.NIR, err = text.Clean("nir", np.NIR, MaxNIRInput); err != nil || np.NIR == "" {
		keep(err)
		return out
	}
	if np.NIR, err = ident.ParseNIR(np.NIR); err != nil {
		keep(fault.Field("nir", "nir is not a valid NIR: %s", strings.TrimPrefix(err.Error(), "ident: ")))
	}
	return out
}

// RightsRequest records that an application was filed with the CPAM.
type RightsRequest struct {
	Regime  string
	FiledOn calendar.Date
}

// Validate checks the regime (one of Regimes) and that a filing date is
// given; the store checks it is not in the future, by its clock. The
// error is the first of Problems.
func (r *RightsRequest) Validate() error {
	return fault.First(r.Problems())
}

// Problems checks both fields, as Validate does, and returns each one's
// error (regime, then filed_on): a form shows them all at once.
func (r *RightsRequest) Problems() []error {
	var out []error
	regime, err := text.OneOf("regime", r.Regime, Regimes...)
	if r.Regime = regime; err != nil {
		out = append(out, err)
	}
	if r.FiledOn.IsZero() {
		out = append(out, fault.Field("filed_on", "filed_on is required"))
	}
	return out
}

// RightsDecision is the CPAM's answer: opened with a regime and period, or
// refused with a reason.
type RightsDecision struct {
	Decision      rights.Status // rights.Opened or rights.Refused
	Regime        string
	EffectiveFrom calendar.Date
	EffectiveTo   calendar.Date // zero: no end
	Reference     string
	Caisse        string // optional: the CPAM's 3-digit code
	Reason        string
	// ImmediateAdmission is the CSS granted at once: its period starts on
	// the 1st of the month of filing rather than after the decision.
	ImmediateAdmission bool
}

// Validate checks a decision: an opening carries a regime, a start, an end
// not before it (or none) and a reference, and no reason; a refusal a
// reason and nothing of an opening. Which field is blamed first does not
// depend on anything but the decision: the first of Problems.
func (d *RightsDecision) Validate() error {
	return fault.First(d.Problems())
}

// Problems checks every field of a decision, as Validate does, and returns
// each one's error, in Validate's order (decision, caisse,
// immediate_admission, then the refusal's or the opening's fields): a form
// shows them all at once. A field has one error at most; a decision that
// is neither an opening nor a refusal says nothing of the fields that
// depend on it.
func (d *RightsDecision) Problems() []error {
	var out []error
	keep := fault.Collect(&out)
	decision, err := text.OneOf("decision", string(d.Decision), rights.Opened, rights.Refused)
	d.Decision = decision
	keep(err)
	keep(d.cleanCaisse())
	if err != nil {
		return out
	}
	if d.ImmediateAdmission && (d.Decision != rights.Opened || d.Regime != string(rights.PUMaCSS)) {
		keep(fault.Field("immediate_admission", "immediate_admission is only for an opened puma_css").WithCause(ErrImmediateNotCSS))
	}
	if d.Decision == rights.Refused {
		return append(out, d.refusalProblems()...)
	}
	return append(out, d.openingProblems()...)
}

// cleanCaisse puts the caisse code, if any, in its canonical form.
func (d *RightsDecision) cleanCaisse() error {
	var err error
	if d.Caisse, err = text.Clean("caisse", d.Caisse, maxCaisseInput); err != nil || d.Caisse == "" {
		return err
	}
	if d.Caisse, err = ident.ParseCaisse(d.Caisse); err != nil {
		return fault.Field("caisse", "caisse is the CPAM's code: %d digits", ident.CaisseLength)
	}
	return nil
}

// refusalProblems checks a refusal: no field of an opening, and a reason.
func (d *RightsDecision) refusalProblems() []error {
	var out []error
	for _, o := range []struct {
		field string
		given bool
	}{{"regime", d.Regime != ""}, {"effective_from", !d.EffectiveFrom.IsZero()}, {"effective_to", !d.EffectiveTo.IsZero()},
		{"reference", d.Reference != ""}} {
		if o.given {
			out = append(out, fault.Field(o.field, "%s is not part of a refusal", o.field))
		}
	}
	var err error
	if d.Reason, err = text.Required("reason", d.Reason, MaxReasonLength); err != nil {
		out = append(out, err)
	}
	return out
}

// openingProblems checks an opening: no reason, a regime, a start, an end
// not before it (or none) and a reference.
func (d *RightsDecision) openingProblems() []error {
	var out []error
	keep := fault.Collect(&out)
	if d.Reason != "" {
		keep(fault.Field("reason", "reason is only for a refusal"))
	}
	regime, err := text.OneOf("regime", d.Regime, Regimes...)
	d.Regime = regime
	keep(err)
	switch {
	case d.EffectiveFrom.IsZero():
		keep(fault.Field("effective_from", "effective_from is required"))
	case !d.EffectiveTo.IsZero() && d.EffectiveTo.Before(d.EffectiveFrom):
		keep(fault.Field("effective_to", "effective_to must not be before effective_from"))
	}
	d.Reference, err = text.Required("reference", d.Reference, MaxReferenceLength)
	keep(err)
	return out
}

// The ways a period breaks its regime's rules, as causes of CheckPeriod's
// errors, so that a page can explain each in its own words.
var (
	ErrPeriodTooOld    = errors.New("claims: the period starts more than two years before the decision")
	ErrCSSStart        = errors.New("claims: a CSS period starts on the 1st of a month")
	ErrImmediateStart  = errors.New("claims: an immediate CSS starts on the 1st of the month of filing")
	ErrCSSLength       = errors.New("claims: a CSS period lasts at most one year")
	ErrAMEStart        = errors.New("claims: an AME period starts no earlier than the filing less the look-back")
	ErrAMELength       = errors.New("claims: an AME period lasts at most one year from the filing")
	ErrImmediateNotCSS = errors.New("claims: immediate admission is for a CSS opening only")
)

// CheckPeriod checks an opened period against the application it answers
// (filed on filedOn) and the day of the decision (today), by regime:
//   - no period starts more than MaxPeriodAgeYears before its decision;
//   - puma_css starts on the 1st of a month (with immediate admission, the
//     1st of the month of filing) and lasts at most a year;
//   - ame ends at most a year after the filing and starts no earlier than
//     the filing less the AME look-back.
//
// Its errors name the field. A refusal has no period: nothing to check.
func (d *RightsDecision) CheckPeriod(filedOn, today calendar.Date, p RightsPolicy) error {
	if d.Decision != rights.Opened {
		return nil
	}
	from, to := d.EffectiveFrom, d.EffectiveTo
	if from.Before(today.AddYears(-MaxPeriodAgeYears)) {
		return fault.Field("effective_from", "effective_from is more than %d years before the decision", MaxPeriodAgeYears).WithCause(ErrPeriodTooOld)
	}
	switch rights.Regime(d.Regime) {
	case rights.PUMaCSS:
		if from.Day() != 1 {
			return fault.Field("effective_from", "a puma_css period starts on the 1st of a month").WithCause(ErrCSSStart)
		}
		if first := calendar.NewDate(filedOn.Year(), filedOn.Month(), 1); d.ImmediateAdmission && !from.Equal(first) {
			return fault.Field("effective_from", "with immediate admission, a puma_css period starts on %s, the 1st of the month of filing", first).
				WithCause(ErrImmediateStart)
		}
		return checkEnd(to, from.AddYears(MaxPeriodYears).AddDays(-1), "a puma_css period lasts at most one year", ErrCSSLength)
	case rights.AME:
		if earliest := filedOn.AddDays(-p.AMELookbackDays); from.Before(earliest) {
			return fault.Field("effective_from", "an ame period starts no earlier than %s: the filing (%s) less the %d-day look-back",
				earliest, filedOn, p.AMELookbackDays).WithCause(ErrAMEStart)
		}
		return checkEnd(to, filedOn.AddYears(MaxPeriodYears).AddDays(-1), "an ame period lasts at most one year from the filing", ErrAMELength)
	}
	return nil
}

// checkEnd requires an end no later than last; cause says which rule.
func checkEnd(to, last calendar.Date, rule string, cause error) error {
	if to.IsZero() {
		return fault.Field("effective_to", "effective_to is required: %s", rule).WithCause(cause)
	}
	if to.After(last) {
		return fault.Field("effective_to", "effective_to is after %s: %s", last, rule).WithCause(cause)
	}
	return nil
}

// maxCommuneInput bounds the commune code as typed, spaces included.
const maxCommuneInput = 16

// ParseCommune checks an optional commune code (the field commune_code):
// empty stays empty, anything else must be an INSEE code.
func ParseCommune(raw string) (string, error) {
	code, err := text.Clean("commune_code", raw, maxCommuneInput)
	if err != nil || code == "" {
		return "", err
	}
	if code, err = ident.ParseCommune(code); err != nil {
		return "", fault.Field("commune_code", "commune_code is not a commune's INSEE code: %s", strings.TrimPrefix(err.Error(), "ident: "))
	}
	return code, nil
}
