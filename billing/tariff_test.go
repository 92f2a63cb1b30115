package billing_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/rights"
)

// These tests cover the pure rules of the tariff: which lines a kind of
// provider may bill and in which class (Tariff.Price), and what rate the
// CPAM pays of each (RateBook.LineRates), against a copy of the seeded
// catalogue and rates (TestTheSeededTariffIsDomainMd checks the copy).

func price(s string) *decimal.Decimal { d := amt(s); return &d }

var seedAct = map[string]billing.Act{
	"G":       {Code: "G", Label: "Consultation", ProviderKinds: []string{billing.KindGP, billing.KindHealthCentre}, MaxUnitPrice: price("30.00")},
	"AMI":     {Code: "AMI", Label: "Acte infirmier", ProviderKinds: []string{billing.KindNurse, billing.KindHealthCentre}, RateClass: billing.KindNurse, MaxUnitPrice: price("3.15")},
	"B":       {Code: "B", Label: "Biologie", ProviderKinds: []string{billing.KindLaboratory}, RateClass: billing.KindLaboratory},
	"ZBQK002": {Code: "ZBQK002", Label: "Radio", ProviderKinds: []string{billing.KindRadiology}, RateClass: billing.KindRadiology},
	"HD":      {Code: "HD", Label: "Dispensation", ProviderKinds: []string{billing.KindPharmacy}, MaxUnitPrice: price("1.02"), DispensingFee: true},
}

const (
	cipListed15 = "3400935955838" // in the drug table, class 15
	cipUnlisted = "3400930000007" // not in it: the default class
)

func seedTariff(over string) *billing.Tariff {
	return &billing.Tariff{Acts: seedAct, DrugClasses: map[string]int{cipListed15: 15}, DefaultDrugClass: 65,
		InvoiceCeiling: billing.DefaultInvoiceCeiling, OverCeiling: over}
}

func line(code, unit string, qty int) billing.Line {
	return billing.Line{Code: code, Label: "x", Quantity: qty, UnitPrice: amt(unit)}
}

func TestPriceChecksWhoBillsWhatAndClassesEachLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		kind    string
		lines   []billing.Line
		classes []billing.RateClass
		field   string // the field a refusal names ("" = accepted)
	}{
		{"a GP's consultation", billing.KindGP, []billing.Line{line("G", "30.00", 1)}, []billing.RateClass{billing.KindGP}, ""},
		{"a health centre's consultation and nurse act: each in its class", billing.KindHealthCentre,
			[]billing.Line{line("G", "30.00", 1), line("AMI", "3.15", 2)}, []billing.RateClass{billing.KindHealthCentre, billing.KindNurse}, ""},
		{"a GP may not bill a nurse act", billing.KindGP, []billing.Line{line("G", "30.00", 1), line("AMI", "3.15", 1)}, nil, "lines[1].code"},
		{"a GP may not bill a chest X-ray", billing.KindGP, []billing.Line{line("ZBQK002", "21.28", 1)}, nil, "lines[0].code"},
		{"a nurse may not bill a consultation", billing.KindNurse, []billing.Line{line("G", "30.00", 1)}, nil, "lines[0].code"},
		{"a radiologist's X-ray", billing.KindRadiology, []billing.Line{line("ZBQK002", "21.28", 1)}, []billing.RateClass{billing.KindRadiology}, ""},
		{"a CCAM act outside the catalogue, by anyone, in the provider's class", billing.KindGP, []billing.Line{line("DEQP003", "14.26", 1)},
			[]billing.RateClass{billing.KindGP}, ""},
		{"a NABM act is the laboratory's", billing.KindLaboratory, []billing.Line{line("1104", "7.02", 1)}, []billing.RateClass{billing.KindLaboratory}, ""},
		{"a GP may not bill a NABM act", billing.KindGP, []billing.Line{line("1104", "7.02", 1)}, nil, "lines[0].code"},
		{"a GP may not bill a drug", billing.KindGP, []billing.Line{line(cipUnlisted, "7.33", 1)}, nil, "lines[0].code"},
		{"a key outside the catalogue is unknown", billing.KindGP, []billing.Line{line("XYZ", "1.00", 1)}, nil, "lines[0].code"},
		{"a listed drug takes its class, an unlisted one the default; the dispensing fee follows its drug", billing.KindPharmacy,
			[]billing.Line{line(cipListed15, "2.10", 1), line("HD", "1.02", 1), line(cipUnlisted, "7.33", 2), line("HD", "1.02", 2)},
			[]billing.RateClass{billing.ClassDrug15, billing.ClassDrug15, billing.ClassDrug65, billing.ClassDrug65}, ""},
		{"a dispensing fee before any drug", billing.KindPharmacy, []billing.Line{line("HD", "1.02", 1), line(cipUnlisted, "7.33", 1)}, nil,
			"lines[0].code"},
		{"a unit price over its act's ceiling", billing.KindGP, []billing.Line{line("G", "30.01", 1)}, nil, "lines[0].unit_price"},
		{"a total over the convention's ceiling", billing.KindGP, []billing.Line{line("DEQP003", "1000.01", 2)}, nil, "lines"},
		{"a total at the ceiling", billing.KindGP, []billing.Line{line("DEQP003", "1000.00", 2)}, []billing.RateClass{billing.KindGP}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			classes, review, err := seedTariff(billing.OverCeilingRefuse).Price(tt.kind, tt.lines)
			if tt.field != "" {
				var fe *fault.Error
				if !errors.As(err, &fe) || fe.Code != fault.Invalid || fe.Field != tt.field {
					t.Fatalf("Price: %v, want a 422 naming %s", err, tt.field)
				}
				return
			}
			if err != nil || len(review) != 0 {
				t.Fatalf("Price: %v (review %v)", err, review)
			}
			if len(classes) != len(tt.classes) {
				t.Fatalf("classes %v, want %v", classes, tt.classes)
			}
			for i := range classes {
				if classes[i] != tt.classes[i] {
					t.Errorf("line %d: class %s, want %s", i, classes[i], tt.classes[i])
				}
			}
		})
	}
}

func TestPriceHoldsForReviewWhatItWouldRefuse(t *testing.T) {
	t.Parallel()
	tariff := seedTariff(billing.OverCeilingReview)
	_, review, err := tariff.Price(billing.KindGP, []billing.Line{line("G", "45.00", 1), line("DEQP003", "1000.00", 2)})
	if err != nil {
		t.Fatal(err)
	}
	want := []billing.ReviewReason{
		{Field: "lines[0].unit_price", Code: "G", Value: "45.00", Ceiling: "30.00"},
		{Field: "total", Value: "2045.00", Ceiling: "2000.00"},
	}
	if len(review) != len(want) || review[0] != want[0] || review[1] != want[1] {
		t.Fatalf("review %+v, want %+v", review, want)
	}
	// What no review can let through is still refused.
	if _, _, err := tariff.Price(billing.KindNurse, []billing.Line{line("G", "45.00", 1)}); fault.CodeOf(err) != fault.Invalid {
		t.Fatalf("a nurse's consultation under review: %v, want a 422", err)
	}
}

var (
	jan1      = calendar.NewDate(2000, 1, 1)
	rateDay   = calendar.NewDate(2026, 7, 1) // a rate change takes effect
	seedRates = func() []billing.Rate {
		var out []billing.Rate
		add := func(regime rights.Regime, class billing.RateClass, from calendar.Date, rate string) {
			out = append(out, billing.Rate{Regime: regime, Class: class, EffectiveFrom: from, Rate: amt(rate)})
		}
		kindRates := map[string]string{billing.KindGP: "0.70", billing.KindHealthCentre: "0.70", billing.KindRadiology: "0.70",
			billing.KindNurse: "0.60", billing.KindLaboratory: "0.60", billing.KindPharmacy: "0.65"}
		for kind, r := range kindRates {
			add(rights.PUMa, billing.RateClass(kind), jan1, r)
			add(rights.PUMaCSS, billing.RateClass(kind), jan1, "1")
			add(rights.AME, billing.RateClass(kind), jan1, "1")
		}
		for _, c := range billing.DrugClasses {
			add(rights.PUMa, billing.DrugRateClass(c), jan1, decimal.NewFromInt(int64(c)).Shift(-2).String())
			add(rights.PUMaCSS, billing.DrugRateClass(c), jan1, "1")
			add(rights.AME, billing.DrugRateClass(c), jan1, "1")
		}
		add(rights.PUMa, billing.KindNurse, rateDay, "0.55")
		return out
	}()
)

// TestLineRatesByRegimeKindAndClass: the CPAM's share of each line, split
// to the cent, for each regime, kind and drug class.
func TestLineRatesByRegimeKindAndClass(t *testing.T) {
	t.Parallel()
	book := billing.NewRateBook(seedRates)
	care := calendar.NewDate(2026, 3, 10)
	drugs := []billing.Line{line(cipListed15, "2.13", 3), line("HD", "1.02", 3), line(cipUnlisted, "7.33", 2),
		line("3400930000014", "4.99", 1), line("3400930000021", "19.99", 1)}
	drugClasses := []billing.RateClass{billing.ClassDrug15, billing.ClassDrug15, billing.ClassDrug65, billing.ClassDrug30, billing.ClassDrug100}
	tests := []struct {
		name       string
		regime     rights.Regime
		adult      bool
		lines      []billing.Line
		classes    []billing.RateClass
		cpam, city string
	}{
		// 30.00 × 0.70 = 21.00; 21.28 × 2 × 0.70 = 29.792 → 29.79.
		{"puma, GP", rights.PUMa, true, []billing.Line{line("G", "30.00", 1), line("DEQP003", "21.28", 2)},
			[]billing.RateClass{billing.KindGP, billing.KindGP}, "50.79", "21.77"},
		// 3.15 × 3 × 0.60 = 5.67; 2.75 × 0.60 = 1.65.
		{"puma, nurse", rights.PUMa, true, []billing.Line{line("AMI", "3.15", 3), line("IFD", "2.75", 1)},
			[]billing.RateClass{billing.KindNurse, billing.KindNurse}, "7.32", "4.88"},
		// 6.39 × 0.15 = 0.9585 → 0.96; 3.06 × 0.15 = 0.459 → 0.46; 14.66 × 0.65 = 9.529 → 9.53;
		// 4.99 × 0.30 = 1.497 → 1.50; 19.99 × 1 = 19.99.
		{"puma, drugs at their classes", rights.PUMa, true, drugs, drugClasses, "32.44", "16.65"},
		{"puma_css: all of it", rights.PUMaCSS, true, drugs, drugClasses, "49.09", "0.00"},
		{"ame, a minor: all of it", rights.AME, false, drugs, drugClasses, "49.09", "0.00"},
		// The 15 % drug and its fee (6.39 + 3.06) are the city's.
		{"ame, an adult: not the 15 % drug nor its fee", rights.AME, true, drugs, drugClasses, "39.64", "9.45"},
		{"ame, an adult's consultation: all of it", rights.AME, true, []billing.Line{line("G", "30.00", 1)},
			[]billing.RateClass{billing.KindGP}, "30.00", "0.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rates, err := book.LineRates(tt.regime, care, tt.classes, tt.adult)
			if err != nil {
				t.Fatal(err)
			}
			s, err := billing.SplitLines(tt.lines, rates)
			if err != nil {
				t.Fatal(err)
			}
			if !s.CPAM.Equal(amt(tt.cpam)) || !s.City.Equal(amt(tt.city)) {
				t.Fatalf("split %s / %s, want %s / %s", s.CPAM, s.City, tt.cpam, tt.city)
			}
			if !s.CPAM.Add(s.City).Equal(billing.TotalOf(tt.lines)) {
				t.Fatalf("%s + %s is not the total %s", s.CPAM, s.City, billing.TotalOf(tt.lines))
			}
		})
	}
}

// TestAdultOnTheEighteenthBirthday: AME leaves the 15 % drug to the city
// from the 18th birthday, not on its eve.
func TestAdultOnTheEighteenthBirthday(t *testing.T) {
	t.Parallel()
	book := billing.NewRateBook(seedRates)
	birth := calendar.NewDate(2008, 3, 10)
	for _, tt := range []struct {
		care calendar.Date
		rate string
	}{
		{calendar.NewDate(2026, 3, 9), "1"},  // the eve: still a minor
		{calendar.NewDate(2026, 3, 10), "0"}, // the birthday: an adult
	} {
		rates, err := book.LineRates(rights.AME, tt.care, []billing.RateClass{billing.ClassDrug15}, billing.Adult(birth, tt.care))
		if err != nil {
			t.Fatal(err)
		}
		if !rates[0].Equal(amt(tt.rate)) {
			t.Errorf("care on %s: rate %s, want %s", tt.care, rates[0], tt.rate)
		}
	}
	if !billing.Adult(calendar.Date{}, calendar.NewDate(2026, 3, 9)) {
		t.Error("an unknown birth date must count as an adult (the city pays the line, which the CPAM cannot reject)")
	}
}

// TestARateChangeAppliesFromItsDay: care the day before a change keeps the
// old rate, care on the day takes the new one.
func TestARateChangeAppliesFromItsDay(t *testing.T) {
	t.Parallel()
	book := billing.NewRateBook(seedRates)
	for _, tt := range []struct {
		care calendar.Date
		rate string
	}{
		{rateDay.AddDays(-1), "0.60"},
		{rateDay, "0.55"},
		{rateDay.AddDays(400), "0.55"},
	} {
		rates, err := book.LineRates(rights.PUMa, tt.care, []billing.RateClass{billing.KindNurse}, true)
		if err != nil {
			t.Fatal(err)
		}
		if !rates[0].Equal(amt(tt.rate)) {
			t.Errorf("care on %s: rate %s, want %s", tt.care, rates[0], tt.rate)
		}
	}
	if _, err := book.LineRates(rights.PUMa, calendar.NewDate(1999, 12, 31), []billing.RateClass{billing.KindNurse}, true); err == nil {
		t.Error("care before any rate: no error")
	}
}

// TestEveryRegimeAndClass: a line of 0.15 in each class under each regime,
// the CPAM's share rounded half-up to the cent (DOMAIN.md's rates).
func TestEveryRegimeAndClass(t *testing.T) {
	t.Parallel()
	book := billing.NewRateBook(seedRates)
	// The CPAM's share of 0.15 under puma, by class; puma_css and ame
	// (a minor's, for the 15 % drug) pay 0.15.
	puma := map[billing.RateClass]string{
		billing.KindGP: "0.11", billing.KindHealthCentre: "0.11", billing.KindRadiology: "0.11", // 0.105
		billing.KindNurse: "0.09", billing.KindLaboratory: "0.09", // 0.09
		billing.KindPharmacy: "0.10", billing.ClassDrug65: "0.10", // 0.0975
		billing.ClassDrug100: "0.15", billing.ClassDrug30: "0.05", billing.ClassDrug15: "0.02", // 0.045, 0.0225
	}
	if len(puma) != len(billing.RateClasses) {
		t.Fatalf("the table covers %d classes of %d", len(puma), len(billing.RateClasses))
	}
	for _, regime := range rights.Regimes {
		for _, class := range billing.RateClasses {
			rates, err := book.LineRates(regime, calendar.NewDate(2026, 3, 10), []billing.RateClass{class}, false)
			if err != nil {
				t.Fatalf("%s/%s: %v", regime, class, err)
			}
			s, err := billing.SplitLines([]billing.Line{line("X", "0.15", 1)}, rates)
			if err != nil {
				t.Fatal(err)
			}
			want := "0.15"
			if regime == rights.PUMa {
				want = puma[class]
			}
			if !s.CPAM.Equal(amt(want)) || !s.CPAM.Add(s.City).Equal(amt("0.15")) {
				t.Errorf("%s/%s: CPAM %s, city %s; want %s", regime, class, s.CPAM, s.City, want)
			}
		}
	}
}
