package billing

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/lifecycle"
	"passd/money"
	"passd/rights"
	"passd/settlement"
	"passd/text"
)

// InvoiceStatus is where an invoice stands.
type InvoiceStatus string

// Invoice statuses.
const (
	StatusPending   InvoiceStatus = "pending"
	StatusReleased  InvoiceStatus = "released"
	StatusCityDue   InvoiceStatus = "city_due"
	StatusCancelled InvoiceStatus = "cancelled"
)

// InvoiceAction moves a pending invoice to its one outcome.
type InvoiceAction string

// Invoice actions.
const (
	InvoiceRelease InvoiceAction = "release"  // to the CPAM (its share), the city paying the rest
	InvoiceOweCity InvoiceAction = "owe_city" // the city pays it all
	InvoiceCancel  InvoiceAction = "cancel"   // withdrawn or voided
	// A decided invoice is decided again when the rights it was decided
	// on are corrected, or covering rights are recorded late: its outcome
	// number goes up by one and the outcome it replaces is kept.
	InvoiceRedecideRelease InvoiceAction = "redecide_release" // to the CPAM after all (a recovery, or another period)
	InvoiceRedecideCity    InvoiceAction = "redecide_city"    // to the city after all
)

// InvoiceMachine is the life of an invoice: it leaves pending once, and a
// released or city_due invoice may be decided again (never a cancelled
// one). The trigger invoices_decided_once holds the same table.
var InvoiceMachine = lifecycle.New([]InvoiceStatus{StatusPending, StatusReleased, StatusCityDue, StatusCancelled},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceRelease, From: []InvoiceStatus{StatusPending}, To: StatusReleased},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceOweCity, From: []InvoiceStatus{StatusPending}, To: StatusCityDue},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceCancel, From: []InvoiceStatus{StatusPending}, To: StatusCancelled},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceRedecideRelease, From: []InvoiceStatus{StatusReleased, StatusCityDue}, To: StatusReleased},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceRedecideCity, From: []InvoiceStatus{StatusReleased, StatusCityDue}, To: StatusCityDue},
)

// Statuses lists every invoice status, for filters.
var Statuses = InvoiceMachine.States()

// Invoice is a provider's invoice for one patient and one care date.
type Invoice struct {
	ID                int64             `db:"id"`
	ProviderID        int64             `db:"provider_id"`
	PatientFileNumber string            `db:"file_number"`
	ExternalRef       string            `db:"external_ref"`
	CareDate          calendar.Date     `db:"care_date"`
	Deadline          calendar.Date     `db:"deadline"`
	Status            InvoiceStatus     `db:"status"`
	Total             decimal.Decimal   `db:"total"`
	Lines             []Line            `db:"-"`
	DecisionReason    settlement.Reason `db:"decision_reason"`
	CPAMAmount        *decimal.Decimal  `db:"cpam_amount"` // set once decided
	CityAmount        *decimal.Decimal  `db:"city_amount"`
	DecidedAt         *time.Time        `db:"decided_at"`
	CreatedAt         time.Time         `db:"created_at"`
	ReviewStatus      string            `db:"review_status"`  // ReviewFlagged, ReviewAccepted or empty
	ReviewReasons     []ReviewReason    `db:"review_reasons"` // why it was flagged
	OutcomeNo         int               `db:"outcome_no"`     // above 1: decided again
	OutcomeCause      string            `db:"outcome_cause"`  // why it was decided again
	Timeline          []PastOutcome     `db:"-"`              // every outcome, filled by Store.Invoice only
}

// ForProvider is the invoice as its provider sees it: its lines, amounts
// and where it stands, but nothing that tells the patient's rights status
// (issue 15 §4): no decision reason (rights opened, refused, not covered,
// deadline passed…), and no reason or cause in its timeline. The CPAM's
// and the city's shares stay.
func (inv Invoice) ForProvider() Invoice {
	inv.DecisionReason, inv.OutcomeCause = "", ""
	if inv.Timeline != nil {
		timeline := make([]PastOutcome, len(inv.Timeline))
		for i, o := range inv.Timeline {
			o.Reason, o.Cause = "", ""
			timeline[i] = o
		}
		inv.Timeline = timeline
	}
	return inv
}

// Line is one act or product on an invoice. RateClass is set when the
// invoice is stored (Tariff.Price), never by the submitter.
type Line struct {
	Code      string
	Label     string
	Quantity  int
	UnitPrice decimal.Decimal
	RateClass RateClass
}

// Total is quantity × unit price, exact.
func (l Line) Total() decimal.Decimal { return money.LineTotal(l.Quantity, l.UnitPrice) }

// TotalOf adds up lines.
func TotalOf(lines []Line) decimal.Decimal {
	sum := decimal.Zero
	for _, l := range lines {
		sum = sum.Add(l.Total())
	}
	return sum
}

// Split is how an invoice's total is shared between the CPAM and the city.
type Split struct {
	CPAM decimal.Decimal
	City decimal.Decimal
}

// SplitLines shares each line by its rate (rates, one per line: the CPAM
// share rounded half-up to the cent, the city's share the exact remainder)
// and adds the shares up, so CPAM + City equals the invoice total to the
// cent.
func SplitLines(lines []Line, rates []decimal.Decimal) (Split, error) {
	if len(rates) != len(lines) {
		return Split{}, fmt.Errorf("billing: %d rates for %d lines", len(rates), len(lines))
	}
	s := Split{CPAM: decimal.Zero, City: decimal.Zero}
	for i, l := range lines {
		cpam, city, err := money.Share(l.Total(), rates[i])
		if err != nil {
			return Split{}, fmt.Errorf("billing: line %d: %w", i+1, err)
		}
		s.CPAM = s.CPAM.Add(cpam)
		s.City = s.City.Add(city)
	}
	return s, nil
}

// Rights is what billing needs to know of a patient's rights: the file's
// latest state and the day of its latest decision, and every opened period
// not superseded by a correction.
type Rights struct {
	Status    rights.Status
	DecidedOn calendar.Date // Paris date of the latest decision; zero when none
	Periods   []rights.Period
}

// Outcome is a decision for a pending invoice. A zero Outcome means the
// invoice stays pending. A released invoice carries the period that
// released it.
type Outcome struct {
	Status InvoiceStatus
	Reason settlement.Reason
	Period rights.Period
}

// Prescribed reports whether, on day today, an invoice for care given on
// care can no longer be billed to the CPAM: it must be billed within two
// years counted from the first day of the quarter after the care, so from
// that day two years later it is the city's.
func Prescribed(care, today calendar.Date) bool {
	return !today.Before(care.QuarterAfterStart().AddYears(2))
}

// Decide is the one rule that settles a pending invoice, whichever job
// applies it. Only what was decided on or before the deadline day counts.
// An opened period in force on the care date releases the invoice (where
// two overlap, the one whose CPAM share is larger: rate gives each
// regime's rate for the invoice's provider), unless the care is too old
// for the CPAM. Without one, the file's latest decision settles it for the
// city (refused, or opened for other dates); a file whose latest step is
// a new application waits. Once the deadline has passed with nothing
// settling it, the city pays (deadline_passed).
func Decide(care, deadline calendar.Date, r Rights, today calendar.Date, rate func(rights.Regime) decimal.Decimal) Outcome {
	if p, ok := rights.InForce(r.Periods, care, deadline, rate); ok {
		if Prescribed(care, today) {
			return Outcome{Status: StatusCityDue, Reason: settlement.Prescribed}
		}
		return Outcome{Status: StatusReleased, Reason: settlement.RightsOpened, Period: p}
	}
	if r.Status.Decided() && !r.DecidedOn.After(deadline) {
		if r.Status == rights.Refused {
			return Outcome{Status: StatusCityDue, Reason: settlement.RightsRefused}
		}
		return Outcome{Status: StatusCityDue, Reason: settlement.NotCovered}
	}
	if today.After(deadline) {
		return Outcome{Status: StatusCityDue, Reason: settlement.DeadlinePassed}
	}
	return Outcome{}
}

// The bounds of a submission. With quantities ≤ MaxQuantity and unit
// prices ≤ MaxUnitPrice, the total of MaxLines lines always fits
// NUMERIC(12,2).
const (
	MaxLines        = 100
	MaxQuantity     = 999
	MaxFileNumber   = 32  // characters of a patient file number
	MaxExternalRef  = 64  // characters of the provider's own reference
	MaxLineLabel    = 200 // characters of a line's label
	maxActCodeInput = 16  // an act code as typed
	minQuantity     = 1
	centDecimals    = 2
)

// MaxUnitPrice is the highest unit price of a line.
var MaxUnitPrice = decimal.RequireFromString("100000.00")

// NewInvoice is a submission: the JSON of POST /invoices and the web form
// both become one, which Validate checks. The patient is named by the
// file number and the birth date of the PASS attestation: both must match
// one file (Store.CreateInvoice), so that a provider bills only the
// patients it sees and cannot find out which file numbers exist.
type NewInvoice struct {
	PatientFileNumber string
	BirthDate         calendar.Date
	ExternalRef       string
	CareDate          calendar.Date
	Lines             []Line
}

// LineField names the fields of line i in errors ("lines[2].code").
type LineField struct{ Line, Code, Label, Quantity, UnitPrice string }

// lineFields spells the names of each line's fields once for all:
// validating a line would otherwise format its five names whether or not
// one is at fault.
var lineFields = func() (f [MaxLines]LineField) {
	for i := range f {
		f[i] = newLineField(i)
	}
	return f
}()

func newLineField(i int) LineField {
	line := fmt.Sprintf("lines[%d]", i)
	return LineField{line, line + ".code", line + ".label", line + ".quantity", line + ".unit_price"}
}

// LineFields returns the names of the fields of line i, as errors give
// them; the JSON decoder names a mistyped member with them.
func LineFields(i int) LineField {
	if i >= 0 && i < MaxLines {
		return lineFields[i]
	}
	return newLineField(i)
}

// Validate checks a submission received on day today and puts its text
// and act codes in their canonical form. Its errors name the field
// (patient_file_number, birth_date, external_ref, lines,
// lines[2].quantity…, care_date).
func (in *NewInvoice) Validate(today calendar.Date) error {
	return fault.First(in.Problems(today))
}

// Problems checks every field of a submission, as Validate does, and
// returns each one's error, in Validate's order: a form shows them all at
// once rather than one per attempt. A field has one error at most.
func (in *NewInvoice) Problems(today calendar.Date) []error {
	var out []error
	keep := fault.Collect(&out)
	var err error
	in.PatientFileNumber, err = text.Required("patient_file_number", in.PatientFileNumber, MaxFileNumber)
	keep(err)
	if in.BirthDate.IsZero() {
		keep(fault.Field("birth_date", "birth_date is required"))
	}
	in.ExternalRef, err = text.Required("external_ref", in.ExternalRef, MaxExternalRef)
	keep(err)
	if in.CareDate.IsZero() {
		keep(fault.Field("care_date", "care_date is required"))
	}
	switch {
	case len(in.Lines) == 0:
		keep(fault.Field("lines", "lines must hold at least one line"))
	case len(in.Lines) > MaxLines:
		keep(fault.Field("lines", "an invoice holds at most %d lines", MaxLines))
	default:
		for i := range in.Lines {
			out = append(out, in.Lines[i].problems(&lineFields[i])...)
		}
	}
	switch {
	case in.CareDate.IsZero():
	case in.CareDate.After(today):
		keep(fault.Field("care_date", "care_date cannot be in the future").WithCause(calendar.ErrFuture))
	case in.CareDate.Before(today.AddDays(-MaxSubmissionLimitDays)):
		// The settings' submission_limit_days is checked where the
		// invoice is stored; no setting reaches further back than this.
		keep(fault.Field("care_date", "care_date is more than %d days ago", MaxSubmissionLimitDays).WithCause(ErrCareTooOld))
	}
	return out
}

// problems checks one line, whose fields are named at: each field's error.
func (l *Line) problems(at *LineField) []error {
	var out []error
	code, err := text.Required(at.Code, l.Code, maxActCodeInput)
	if err == nil {
		if _, l.Code, err = ident.ParseActCode(code); err != nil {
			err = fault.Field(at.Code, "%s is not a CCAM, NGAP, NABM, LPP or CIP13 code", at.Code)
		}
	}
	if err != nil {
		out = append(out, err)
	}
	if l.Label, err = text.Required(at.Label, l.Label, MaxLineLabel); err != nil {
		out = append(out, err)
	}
	if l.Quantity < minQuantity || l.Quantity > MaxQuantity {
		out = append(out, fault.Field(at.Quantity, "%s must be between %d and %d", at.Quantity, minQuantity, MaxQuantity))
	}
	if err := checkAmount(at.UnitPrice, l.UnitPrice); err != nil {
		out = append(out, err)
	} else if l.UnitPrice.GreaterThan(MaxUnitPrice) {
		out = append(out, fault.Field(at.UnitPrice, "%s is above %s", at.UnitPrice, money.Format(MaxUnitPrice)))
	}
	return out
}

// checkAmount checks that an amount is positive and in cents.
func checkAmount(field string, d decimal.Decimal) error {
	switch {
	case !d.IsPositive():
		return fault.Field(field, "%s must be greater than zero", field)
	case !d.Equal(d.Truncate(centDecimals)):
		return fault.Field(field, "%s has more than two decimals", field)
	}
	return nil
}
