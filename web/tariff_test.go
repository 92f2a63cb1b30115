package web

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/money"
)

func TestFrenchAmountsReadAsTyped(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"30,00":           "30",
		"30":              "30",
		"30.5":            "30.5",
		"1 234,50":        "1234.5",
		"1\u00a0234,50":   "1234.5",
		"1\u202f234,50 €": "1234.5",
		"12 345 678,9":    "12345678.9",
		"  2 000  ":       "2000",
		"2 000,00\u00a0€": "2000",
		"1234567,89":      "1234567.89",
		"0,01":            "0.01",
		FormatAmount(decimal.RequireFromString("98765.43")): "98765.43",
	} {
		got, err := formFrenchAmount("max_unit_price", in)
		if err != nil || got.String() != want {
			t.Errorf("formFrenchAmount(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-5", "1 23,00", "12 3456", "30,", "30,001", "1,2,3", "1.234,50", "abc", "€", "0 123"} {
		if got, err := formFrenchAmount("max_unit_price", in); err == nil {
			t.Errorf("formFrenchAmount(%q) = %s, want an error", in, got)
		} else if fe, ok := fault.As(err); !ok || fe.Field != "max_unit_price" {
			t.Errorf("formFrenchAmount(%q): %v does not name the field", in, err)
		}
	}
}

// FuzzFrenchAmount: whatever is typed, an amount read is one money reads
// too, never negative, and never more precise than the cent.
func FuzzFrenchAmount(f *testing.F) {
	for _, s := range []string{"30,00", "1 234,50", "1\u202f234,50 €", "-1", "1 23", "9999999999,99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := formFrenchAmount("x", s)
		if err != nil {
			return
		}
		if d.IsNegative() || !d.Equal(d.Truncate(2)) {
			t.Fatalf("%q read as %s", s, d)
		}
		if again, err := money.ParseAmount(d.String()); err != nil || !again.Equal(d) {
			t.Fatalf("%q read as %s, which money does not read back (%v)", s, d, err)
		}
	})
}

func TestPercentagesReadAsRates(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"70": "0.7", "62,5": "0.625", "62.5": "0.625", "70 %": "0.7", "70%": "0.7", "100": "1",
		"0": "0", " 15 ": "0.15", "62,55": "0.6255"} {
		got, err := formPercent("rate", in)
		if err != nil || got.String() != want {
			t.Errorf("formPercent(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-5", "1000", "0,7,0", "70 pour cent", "%", ",5"} {
		if got, err := formPercent("rate", in); err == nil {
			t.Errorf("formPercent(%q) = %s, want an error", in, got)
		}
	}
	// Too precise or above 100 %: billing's Validate refuses the rate.
	for _, in := range []string{"62,55", "150"} {
		r, _ := formPercent("rate", in)
		rate := billing.Rate{Regime: "puma", Class: "nurse", EffectiveFrom: calendar.NewDate(2026, 1, 1), Rate: r, Reason: "x"}
		if err := rate.Validate(); err == nil {
			t.Errorf("%s %% passes billing's Validate", in)
		}
	}
}

func TestTariffWordsAreFrench(t *testing.T) {
	t.Parallel()
	for c, want := range map[billing.RateClass]string{"nurse": "Infirmier", "general_practitioner": "Médecin généraliste",
		billing.ClassDrug65: "Médicament 65\u00a0%", billing.ClassDrug100: "Médicament 100\u00a0%"} {
		if got := RateClassLabel(c); got != want {
			t.Errorf("RateClassLabel(%s) = %q, want %q", c, got, want)
		}
	}
	for in, want := range map[string]string{"0.700": "70\u00a0%", "0.625": "62,5\u00a0%", "1.000": "100\u00a0%", "0": "0\u00a0%"} {
		if got := FormatPercent(decimal.RequireFromString(in)); got != want {
			t.Errorf("FormatPercent(%s) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct {
		r    billing.ReviewReason
		want string
	}{
		{billing.ReviewReason{Field: "lines[1].unit_price", Code: "G", Value: "45.00", Ceiling: "30.00"},
			"Ligne 2 : prix unitaire 45,00\u00a0€ au-dessus du plafond 30,00\u00a0€ (G)"},
		{billing.ReviewReason{Field: "total", Value: "2500.00", Ceiling: "2000.00"},
			"Total 2\u202f500,00\u00a0€ au-dessus du plafond de la convention 2\u202f000,00\u00a0€"},
	} {
		if got := ReviewReasonText(c.r); got != c.want {
			t.Errorf("ReviewReasonText(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
	if got := (importOutcome{Created: 3, Updated: 1}).Summary(); got != "3 créés, 1 modifié" {
		t.Errorf("Summary = %q", got)
	}
	if got := (importOutcome{}).Summary(); got != "0 créé, 0 modifié" {
		t.Errorf("Summary = %q", got)
	}
}

func TestImportRefusalsNameTheLines(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{fault.Field("file", "1 of 3 rows are invalid").WithDetail("lines", "3"), "la ligne 3 n'est pas valide"},
		{fault.Field("file", "3 of 9 rows are invalid").WithDetail("lines", "3,5,8"), "les lignes 3, 5 et 8 ne sont pas valides"},
		{fault.Field("header", "unknown column"), "La ligne d'en-tête du fichier n'est pas valide : colonnes x."},
		{fault.Field("file", "the file has a header and no rows"), "ne contient que sa ligne d'en-tête"},
		{fault.Field("file", "the file is not valid CSV"), "n'a pas pu être lu comme un tableau CSV"},
	} {
		out, ok := importRefusal(c.err, "colonnes x.")
		if !ok || !strings.Contains(out.Err, c.want) {
			t.Errorf("%v: %q, %v; want %q", c.err, out.Err, ok, c.want)
		}
	}
	if _, ok := importRefusal(fault.New(fault.Unavailable, "down"), ""); ok {
		t.Error("an unavailable database is explained as a bad file")
	}
}
