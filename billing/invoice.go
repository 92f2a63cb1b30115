package billing

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/money"
)

// Invoice statuses.
const (
	StatusPending   = "pending"
	StatusReleased  = "released"
	StatusCityDue   = "city_due"
	StatusCancelled = "cancelled"
)

// Statuses lists every invoice status, for filters.
var Statuses = []string{StatusPending, StatusReleased, StatusCityDue, StatusCancelled}

// Decision reasons.
const (
	ReasonRightsOpened   = "rights_opened"
	ReasonRightsRefused  = "rights_refused"
	ReasonNotCovered     = "not_covered"
	ReasonDeadlinePassed = "deadline_passed"
	ReasonPrescribed     = "prescribed"
	ReasonWithdrawn      = "withdrawn"
	ReasonVoided         = "voided"
)

// Invoice is a provider's invoice for one patient and one care date.
type Invoice struct {
	ID                int64
	ProviderID        int64
	PatientFileNumber string
	ExternalRef       string
	CareDate          calendar.Date
	Deadline          calendar.Date
	Status            string
	Total             decimal.Decimal
	Lines             []Line
	DecisionReason    string
	CPAMAmount        *decimal.Decimal // set once decided
	CityAmount        *decimal.Decimal
	DecidedAt         *time.Time
	CreatedAt         time.Time
}

// Line is one act or product on an invoice.
type Line struct {
	Code      string
	Label     string
	Quantity  int
	UnitPrice decimal.Decimal
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

// SplitLines shares each line by rate (CPAM share rounded half-up to the
// cent, the city's share the exact remainder) and adds the shares up, so
// CPAM + City equals the invoice total to the cent.
func SplitLines(lines []Line, rate decimal.Decimal) (Split, error) {
	s := Split{CPAM: decimal.Zero, City: decimal.Zero}
	for i, l := range lines {
		cpam, city, err := money.Share(l.Total(), rate)
		if err != nil {
			return Split{}, fmt.Errorf("billing: line %d: %w", i+1, err)
		}
		s.CPAM = s.CPAM.Add(cpam)
		s.City = s.City.Add(city)
	}
	return s, nil
}

// Rights is what billing needs to know of a patient's current rights.
type Rights struct {
	Status    string // none, requested, opened, refused
	Regime    string
	From, To  calendar.Date // To zero: no end
	DecidedOn calendar.Date // Paris date of the decision; zero when none
}

// Covers reports whether opened rights cover the care date.
func (r Rights) Covers(care calendar.Date) bool {
	return r.Status == "opened" && !care.Before(r.From) && (r.To.IsZero() || !care.After(r.To))
}

// Outcome is a decision for a pending invoice. A zero Outcome means the
// invoice stays pending.
type Outcome struct {
	Status string
	Reason string
}

// Prescribed reports whether, on day today, an invoice for care given on
// care can no longer be billed to the CPAM: it must be billed within two
// years counted from the first day of the quarter after the care, so from
// that day two years later it is the city's.
func Prescribed(care, today calendar.Date) bool {
	return !today.Before(care.QuarterAfterStart().AddYears(2))
}

// Decide is the one rule that settles a pending invoice, whichever job
// applies it. Rights decided on or before the deadline day settle the
// invoice by their content; once the deadline has passed without such a
// decision, the city pays (deadline_passed). Otherwise it stays pending.
func Decide(care, deadline calendar.Date, r Rights, today calendar.Date) Outcome {
	decided := r.Status == "opened" || r.Status == "refused"
	inTime := decided && !r.DecidedOn.After(deadline)
	pastDeadline := today.After(deadline)
	switch {
	case decided && (inTime || !pastDeadline):
		switch {
		case r.Status == "refused":
			return Outcome{StatusCityDue, ReasonRightsRefused}
		case !r.Covers(care):
			return Outcome{StatusCityDue, ReasonNotCovered}
		case Prescribed(care, today):
			return Outcome{StatusCityDue, ReasonPrescribed}
		default:
			return Outcome{StatusReleased, ReasonRightsOpened}
		}
	case pastDeadline:
		return Outcome{StatusCityDue, ReasonDeadlinePassed}
	}
	return Outcome{}
}
