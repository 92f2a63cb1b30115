package billing

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/fault"
	"passd/ident"
	"passd/money"
	"passd/rights"
)

// RateClass prices a line: the CPAM's share of it is the rate of the
// regime and class in force on the care date. A class is a provider kind
// (acts priced as that kind's: a GP's consultation, a nurse's act) or a
// drug's reimbursement class.
type RateClass string

// The drug classes (DOMAIN.md: 100 / 65 / 30 / 15 %).
const (
	ClassDrug100 RateClass = "drug_100"
	ClassDrug65  RateClass = "drug_65"
	ClassDrug30  RateClass = "drug_30"
	ClassDrug15  RateClass = "drug_15"
)

// DrugClasses are the reimbursement classes of a drug, in percent.
var DrugClasses = []int{100, 65, 30, 15}

// DefaultDrugClass is the class of a CIP13 the drug table does not list,
// when the settings leave it unset.
const DefaultDrugClass = 65

// DefaultInvoiceCeiling is the convention's ceiling on an invoice's total
// when the settings leave it unset.
var DefaultInvoiceCeiling = decimal.RequireFromString("2000.00")

// Over a ceiling, an invoice is refused or held for the coordinator.
const (
	OverCeilingRefuse = "refuse"
	OverCeilingReview = "review"
)

// AdultAge is the age from which AME leaves 15 % drugs uncovered.
const AdultAge = 18

// DrugRateClass is the rate class of a drug of class percent.
func DrugRateClass(percent int) RateClass { return RateClass(fmt.Sprintf("drug_%d", percent)) }

// RateClasses lists every rate class: the provider kinds, then the drug
// classes.
var RateClasses = func() []RateClass {
	out := make([]RateClass, 0, len(ProviderKinds)+len(DrugClasses))
	for _, k := range ProviderKinds {
		out = append(out, RateClass(k))
	}
	for _, c := range DrugClasses {
		out = append(out, DrugRateClass(c))
	}
	return out
}()

// IsDrug reports whether c is a drug class.
func (c RateClass) IsDrug() bool { return len(c) > 5 && c[:5] == "drug_" }

// Act is an entry of the acts catalogue.
type Act struct {
	Code          string
	Label         string
	ProviderKinds []string         // who may bill it
	RateClass     RateClass        // empty: the billing provider's kind
	MaxUnitPrice  *decimal.Decimal // the plausibility ceiling of a unit price, if any
	DispensingFee bool             // priced as the drug line it follows
	Source        string           // where its figures come from
	UpdatedAt     time.Time
	UpdatedBy     string
}

// Drug is an entry of the drug table: a CIP13's reimbursement class.
type Drug struct {
	CIP13     string
	Label     string
	Class     int // 100, 65, 30 or 15
	UpdatedAt time.Time
	UpdatedBy string
}

// Rate is one row of the rates' history: from EffectiveFrom on (care
// dates), the CPAM pays Rate of a line of class Class under Regime, until
// a later row of the same regime and class.
type Rate struct {
	Regime        rights.Regime
	Class         RateClass
	EffectiveFrom calendar.Date
	Rate          decimal.Decimal
	Reason        string
	CreatedAt     time.Time
	CreatedBy     string
}

// Tariff is what a submission is checked and priced against: the acts
// catalogue, the drug classes and the settings of the ceilings, as of
// Version (tariff_state.version).
type Tariff struct {
	Version          int64
	Acts             map[string]Act
	DrugClasses      map[string]int // CIP13 → class
	DefaultDrugClass int
	InvoiceCeiling   decimal.Decimal
	OverCeiling      string // OverCeilingRefuse or OverCeilingReview
}

// ReviewReason is why an invoice waits for the coordinator: a line's unit
// price over its act's ceiling (Field lines[i].unit_price, Code set), or
// the invoice's total over the convention's ceiling (Field total).
type ReviewReason struct {
	Field   string `json:"field"`
	Code    string `json:"code,omitempty"`
	Value   string `json:"value"`
	Ceiling string `json:"ceiling"`
}

// nomenclatureKinds are who may bill a code outside the catalogue, by its
// nomenclature (nil: anyone); a key outside it is unknown.
var nomenclatureKinds = map[ident.ActKind][]string{
	ident.ActCIP13: {KindPharmacy},   // drugs are dispensed by pharmacies
	ident.ActNABM:  {KindLaboratory}, // biology acts by laboratories
}

// Price checks the lines of a submission by a provider of kind against the
// tariff and gives each line its rate class, in order. It refuses (422,
// naming the line's field): a key the catalogue does not hold, a code the
// provider's kind may not bill, a dispensing fee with no drug line before
// it and, under OverCeilingRefuse, a unit price over its act's ceiling or
// a total over the invoice ceiling; under OverCeilingReview, those come
// back as reasons to hold the invoice for review. It is pure.
func (t *Tariff) Price(kind string, lines []Line) (classes []RateClass, review []ReviewReason, err error) {
	classes = make([]RateClass, len(lines))
	lastDrug := RateClass("")
	for i, l := range lines {
		at := LineFields(i)
		nomenclature, _, perr := ident.ParseActCode(l.Code)
		if perr != nil {
			return nil, nil, fault.Field(at.Code, "%s is not a CCAM, NGAP, NABM, LPP or CIP13 code", at.Code)
		}
		act, listed := t.Acts[l.Code]
		switch {
		case listed:
			if !slices.Contains(act.ProviderKinds, kind) {
				return nil, nil, fault.Field(at.Code, "%s: %s (%s) may not be billed by a provider of kind %s", at.Code, l.Code, act.Label, kind).
					WithKind(fault.KindActNotBillable)
			}
			switch {
			case act.DispensingFee && lastDrug == "":
				return nil, nil, fault.Field(at.Code, "%s: the dispensing fee %s must follow the drug line it is billed with", at.Code, l.Code).
					WithKind(fault.KindActNotBillable)
			case act.DispensingFee:
				classes[i] = lastDrug
			case act.RateClass != "":
				classes[i] = act.RateClass
			default:
				classes[i] = RateClass(kind)
			}
			if act.MaxUnitPrice != nil && l.UnitPrice.GreaterThan(*act.MaxUnitPrice) {
				r := ReviewReason{Field: at.UnitPrice, Code: l.Code, Value: money.Format(l.UnitPrice), Ceiling: money.Format(*act.MaxUnitPrice)}
				if t.OverCeiling != OverCeilingReview {
					return nil, nil, fault.Field(at.UnitPrice, "%s is above the ceiling of %s in the acts catalogue (%s)", at.UnitPrice, l.Code, r.Ceiling).
						WithKind(fault.KindOverCeiling)
				}
				review = append(review, r)
			}
		case nomenclature == ident.ActNGAP:
			return nil, nil, fault.Field(at.Code, "%s: %s is not in the acts catalogue", at.Code, l.Code).WithKind(fault.KindActNotBillable)
		default:
			if who := nomenclatureKinds[nomenclature]; who != nil && !slices.Contains(who, kind) {
				return nil, nil, fault.Field(at.Code, "%s: a %s code may not be billed by a provider of kind %s", at.Code, nomenclature, kind).
					WithKind(fault.KindActNotBillable)
			}
			classes[i] = RateClass(kind)
			switch nomenclature {
			case ident.ActCIP13:
				classes[i] = DrugRateClass(t.drugClass(l.Code))
				lastDrug = classes[i]
			case ident.ActNABM:
				classes[i] = RateClass(KindLaboratory)
			}
		}
	}
	if total := TotalOf(lines); total.GreaterThan(t.InvoiceCeiling) {
		r := ReviewReason{Field: "total", Value: money.Format(total), Ceiling: money.Format(t.InvoiceCeiling)}
		if t.OverCeiling != OverCeilingReview {
			return nil, nil, fault.Field("lines", "the invoice's total %s is above the convention's ceiling %s (invoice_ceiling)", r.Value, r.Ceiling).
				WithKind(fault.KindOverCeiling)
		}
		review = append(review, r)
	}
	return classes, review, nil
}

func (t *Tariff) drugClass(cip13 string) int {
	if c, ok := t.DrugClasses[cip13]; ok {
		return c
	}
	if t.DefaultDrugClass != 0 {
		return t.DefaultDrugClass
	}
	return DefaultDrugClass
}

// RateBook is the history of the rates: for each regime and class, its
// rows by EffectiveFrom.
type RateBook struct {
	rows map[rateKey][]datedRate // ascending by from
}

type rateKey struct {
	regime rights.Regime
	class  RateClass
}

type datedRate struct {
	from calendar.Date
	rate decimal.Decimal
}

// NewRateBook files rates by regime and class, in date order.
func NewRateBook(rates []Rate) RateBook {
	b := RateBook{rows: map[rateKey][]datedRate{}}
	for _, r := range rates {
		k := rateKey{r.Regime, r.Class}
		b.rows[k] = append(b.rows[k], datedRate{r.EffectiveFrom, r.Rate})
	}
	for _, rows := range b.rows {
		sort.Slice(rows, func(i, j int) bool { return rows[i].from.Before(rows[j].from) })
	}
	return b
}

// At is the rate of regime and class in force on care: the row with the
// latest EffectiveFrom on or before it. ok is false when there is none.
func (b RateBook) At(regime rights.Regime, class RateClass, care calendar.Date) (rate decimal.Decimal, ok bool) {
	rows := b.rows[rateKey{regime, class}]
	for i := len(rows) - 1; i >= 0; i-- {
		if !rows[i].from.After(care) {
			return rows[i].rate, true
		}
	}
	return decimal.Zero, false
}

// Adult reports whether someone born on birth is AdultAge or older on day.
// An unknown birth date (zero) counts as adult: the line is then the
// city's, which the CPAM cannot reject.
func Adult(birth, day calendar.Date) bool {
	return birth.IsZero() || !birth.AddYears(AdultAge).After(day)
}

// LineRates gives the rate the CPAM pays of each line (by its class) of an
// invoice for care on care released under regime: the rate in force that
// day, except that AME does not cover a 15 % drug for an adult (adult, on
// the care date), whose line is then the city's (rate 0). A class without
// a rate in force is an error.
func (b RateBook) LineRates(regime rights.Regime, care calendar.Date, classes []RateClass, adult bool) ([]decimal.Decimal, error) {
	out := make([]decimal.Decimal, len(classes))
	for i, c := range classes {
		if regime == rights.AME && c == ClassDrug15 && adult {
			out[i] = decimal.Zero
			continue
		}
		r, ok := b.At(regime, c, care)
		if !ok {
			return nil, fmt.Errorf("billing: no rate for regime %q and class %q on %s", regime, c, care)
		}
		out[i] = r
	}
	return out, nil
}

// KindRate is the rate of regime for the acts of a provider kind on care:
// what decides, between two periods in force, which one releases the
// invoice (rights.InForce). Zero when the book has none.
func (b RateBook) KindRate(kind string, care calendar.Date) func(rights.Regime) decimal.Decimal {
	return func(r rights.Regime) decimal.Decimal {
		rate, _ := b.At(r, RateClass(kind), care)
		return rate
	}
}
