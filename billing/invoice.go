package billing

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/lifecycle"
	"passd/money"
	"passd/rights"
	"passd/settlement"
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
)

// InvoiceMachine is the life of an invoice: it leaves pending once. The
// trigger invoices_decided_once holds the same table.
var InvoiceMachine = lifecycle.New([]InvoiceStatus{StatusPending, StatusReleased, StatusCityDue, StatusCancelled},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceRelease, From: []InvoiceStatus{StatusPending}, To: StatusReleased},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceOweCity, From: []InvoiceStatus{StatusPending}, To: StatusCityDue},
	lifecycle.Edge[InvoiceStatus, InvoiceAction]{Action: InvoiceCancel, From: []InvoiceStatus{StatusPending}, To: StatusCancelled},
)

// Statuses lists every invoice status, for filters.
var Statuses = InvoiceMachine.States()

// Allowed reports whether an invoice in s may take action a.
func (s InvoiceStatus) Allowed(a InvoiceAction) bool { return InvoiceMachine.Allowed(s, a) }

// Next is where action a takes an invoice in s.
func (s InvoiceStatus) Next(a InvoiceAction) (InvoiceStatus, bool) { return InvoiceMachine.Next(s, a) }

// Invoice is a provider's invoice for one patient and one care date.
type Invoice struct {
	ID                int64
	ProviderID        int64
	PatientFileNumber string
	ExternalRef       string
	CareDate          calendar.Date
	Deadline          calendar.Date
	Status            InvoiceStatus
	Total             decimal.Decimal
	Lines             []Line
	DecisionReason    settlement.Reason
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
	Status    rights.Status
	Regime    string
	From, To  calendar.Date // To zero: no end
	DecidedOn calendar.Date // Paris date of the decision; zero when none
}

// Covers reports whether opened rights cover the care date.
func (r Rights) Covers(care calendar.Date) bool {
	return r.Status == rights.Opened && !care.Before(r.From) && (r.To.IsZero() || !care.After(r.To))
}

// Outcome is a decision for a pending invoice. A zero Outcome means the
// invoice stays pending.
type Outcome struct {
	Status InvoiceStatus
	Reason settlement.Reason
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
	decided := r.Status.Decided()
	inTime := decided && !r.DecidedOn.After(deadline)
	pastDeadline := today.After(deadline)
	switch {
	case decided && (inTime || !pastDeadline):
		switch {
		case r.Status == rights.Refused:
			return Outcome{StatusCityDue, settlement.RightsRefused}
		case !r.Covers(care):
			return Outcome{StatusCityDue, settlement.NotCovered}
		case Prescribed(care, today):
			return Outcome{StatusCityDue, settlement.Prescribed}
		default:
			return Outcome{StatusReleased, settlement.RightsOpened}
		}
	case pastDeadline:
		return Outcome{StatusCityDue, settlement.DeadlinePassed}
	}
	return Outcome{}
}
