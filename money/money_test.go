package money

import (
	"errors"
	"math/big"
	"regexp"
	"testing"

	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestParseAmountValid(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"0", "0.00"},
		{"0.0", "0.00"},
		{"0.00", "0.00"},
		{"0.5", "0.50"},
		{"0.05", "0.05"},
		{"1", "1.00"},
		{"30", "30.00"},
		{"30.00", "30.00"},
		{"3.15", "3.15"},
		{"2.75", "2.75"},
		{"21.28", "21.28"},
		{"100.10", "100.10"},
		{"9999999999.99", "9999999999.99"},
		{"1000000000", "1000000000.00"},
	}
	for _, tc := range cases {
		d, err := ParseAmount(tc.in)
		if err != nil {
			t.Errorf("ParseAmount(%q): %v", tc.in, err)
			continue
		}
		if got := Format(d); got != tc.want {
			t.Errorf("Format(ParseAmount(%q)) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseAmountInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want error
	}{
		{"", errFormat},
		{".", errFormat},
		{".50", errFormat},
		{"30.", errFormat},
		{"-1", errFormat},
		{"-0", errFormat},
		{"+1", errFormat},
		{"1e3", errFormat},
		{"1E3", errFormat},
		{"1,50", errFormat},
		{"1 000", errFormat},
		{" 30.00", errFormat},
		{"30.00 ", errFormat},
		{"30.00\n", errFormat},
		{"30.0.0", errFormat},
		{"0x1F", errFormat},
		{"NaN", errFormat},
		{"Inf", errFormat},
		{"３０", errFormat},
		{"30€", errFormat},
		{"007.50", errFormat},
		{"00", errFormat},
		{"00.50", errFormat},
		{"01", errFormat},
		{"1.2a", errFormat},
		{"1.-2", errFormat},
		{"30.001", errDecimals},
		{"0.125", errDecimals},
		{"30.000", errDecimals},
		{"10000000000", errTooLarge},
		{"10000000000.00", errTooLarge},
		{"99999999999999999999999999", errTooLarge},
	}
	for _, tc := range cases {
		d, err := ParseAmount(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseAmount(%q) = %v, %v; want error %v", tc.in, d, err, tc.want)
		}
		if err != nil && !d.IsZero() {
			t.Errorf("ParseAmount(%q) returned %v with an error", tc.in, d)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	want := map[error]string{
		errFormat:   `money: amount must be a decimal string like "30.00"`,
		errDecimals: "money: amount has more than two decimals",
		errTooLarge: "money: amount is too large",
	}
	for err, msg := range want {
		if err.Error() != msg {
			t.Errorf("got %q, want %q", err.Error(), msg)
		}
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   decimal.Decimal
		want string
	}{
		{decimal.Zero, "0.00"},
		{dec("30"), "30.00"},
		{dec("30.5"), "30.50"},
		{dec("3.15"), "3.15"},
		{dec("30.000"), "30.00"},
		{decimal.New(3000, -2), "30.00"},
		{decimal.New(3, 1), "30.00"},
		{dec("0.125"), "0.13"}, // more than two decimals: rounded, not truncated
		{dec("-1.5"), "-1.50"},
	}
	for _, tc := range cases {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRoundIsHalfUpForNonNegative pins the shopspring behaviour Share's
// documentation relies on, so a library upgrade that changes it fails here.
func TestRoundIsHalfUpForNonNegative(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"0.125", "0.13"},
		{"0.135", "0.14"},
		{"2.205", "2.21"},
		{"2.215", "2.22"},
		{"0.005", "0.01"},
		{"0.0049999", "0"},
		{"14.896", "14.9"},
		{"0.124999999999", "0.12"},
		{"1.995", "2"},
	}
	for _, tc := range cases {
		if got := dec(tc.in).Round(2); !got.Equal(dec(tc.want)) {
			t.Errorf("Round(%s, 2) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := dec("0.125").RoundBank(2); !got.Equal(dec("0.12")) {
		t.Errorf("sanity: banker's rounding of 0.125 = %s, want 0.12", got)
	}
}

func TestShare(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, total, rate, part, rest string
	}{
		{"gp consultation 70%", "30.00", "0.70", "21.00", "9.00"},
		{"nurse act 60%", "3.15", "0.60", "1.89", "1.26"},
		{"travel fee 60%", "2.75", "0.6", "1.65", "1.10"},
		{"x-ray 70% rounds up", "21.28", "0.7", "14.90", "6.38"},
		{"dispensing fee 65%", "1.02", "0.65", "0.66", "0.36"},
		{"half cent rounds up", "0.25", "0.5", "0.13", "0.12"},
		{"2.205 rounds up", "4.41", "0.5", "2.21", "2.20"},
		{"one cent half", "0.01", "0.5", "0.01", "0.00"},
		{"one cent 49%", "0.01", "0.49", "0.00", "0.01"},
		{"full rate", "30.00", "1", "30.00", "0.00"},
		{"zero rate", "30.00", "0", "0.00", "30.00"},
		{"zero total", "0", "0.7", "0.00", "0.00"},
		{"drug 15%", "7.99", "0.15", "1.20", "6.79"},
		{"third", "10.00", "0.333333333333333333", "3.33", "6.67"},
		{"two thirds", "10.00", "0.666666666666666667", "6.67", "3.33"},
		{"large", "9999999999.99", "0.7", "6999999999.99", "3000000000.00"},
		{"total with trailing zeros", "30.000", "0.7", "21.00", "9.00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			part, rest, err := Share(dec(tc.total), dec(tc.rate))
			if err != nil {
				t.Fatalf("Share(%s, %s): %v", tc.total, tc.rate, err)
			}
			if !part.Equal(dec(tc.part)) || !rest.Equal(dec(tc.rest)) {
				t.Fatalf("Share(%s, %s) = %s, %s; want %s, %s", tc.total, tc.rate, part, rest, tc.part, tc.rest)
			}
			checkShare(t, dec(tc.total), part, rest)
		})
	}
}

func TestShareInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		total, rate string
		want        error
	}{
		{"-0.01", "0.5", errNegativeTotal},
		{"-30", "0", errNegativeTotal},
		{"30.001", "0.5", errTotalDecimals},
		{"0.005", "1", errTotalDecimals},
		{"30", "-0.01", errRate},
		{"30", "1.0000001", errRate},
		{"30", "70", errRate},
	}
	for _, tc := range cases {
		part, rest, err := Share(dec(tc.total), dec(tc.rate))
		if !errors.Is(err, tc.want) {
			t.Errorf("Share(%s, %s) = %s, %s, %v; want error %v", tc.total, tc.rate, part, rest, err, tc.want)
		}
		if !part.IsZero() || !rest.IsZero() {
			t.Errorf("Share(%s, %s) returned %s, %s with an error", tc.total, tc.rate, part, rest)
		}
	}
}

// checkShare asserts the invariants every successful Share must keep.
func checkShare(t *testing.T, total, part, rest decimal.Decimal) {
	t.Helper()
	if !part.Add(rest).Equal(total) {
		t.Fatalf("part %s + rest %s != total %s", part, rest, total)
	}
	if part.Sign() < 0 || rest.Sign() < 0 {
		t.Fatalf("negative share: part %s, rest %s of %s", part, rest, total)
	}
	if !part.Equal(part.Truncate(2)) || !rest.Equal(rest.Truncate(2)) {
		t.Fatalf("share below the cent: part %s, rest %s", part, rest)
	}
}

func TestLineTotal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		q          int
		unit, want string
	}{
		{1, "30.00", "30.00"},
		{3, "3.15", "9.45"},
		{2, "2.75", "5.50"},
		{0, "1.02", "0"},
		{120, "0.27", "32.40"},
		{1000000, "9999.99", "9999990000"},
	}
	for _, tc := range cases {
		if got := LineTotal(tc.q, dec(tc.unit)); !got.Equal(dec(tc.want)) {
			t.Errorf("LineTotal(%d, %s) = %s, want %s", tc.q, tc.unit, got, tc.want)
		}
	}
}

// amountRE is the grammar from the spec, used as an oracle in the fuzz test.
var amountRE = regexp.MustCompile(`^[0-9]{1,10}(\.[0-9]{1,2})?$`)

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "0.00", "30", "30.00", "3.15", "9999999999.99", "10000000000", "007.50",
		"30.001", "-1", "+1", "1e3", "1,50", " 1", "", ".", "30.", "0.5", "00",
		"1e400", "1E2", "3.0e1", "99999999999999999999", "NaN", "Infinity", "0x1E", "３０.００", "٣٠", "30.00\x00", "30.00\n",
		"30.00' OR '1'='1", "<script>", "-0", "0.00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAmount(s)
		leadingZero := len(s) > 1 && s[0] == '0' && s[1] != '.'
		if wantOK := amountRE.MatchString(s) && !leadingZero; wantOK != (err == nil) {
			t.Fatalf("ParseAmount(%q) error %v, but the grammar says ok=%v", s, err, wantOK)
		}
		if err != nil {
			return
		}
		if d.Sign() < 0 || !d.Equal(d.Truncate(2)) {
			t.Fatalf("ParseAmount(%q) = %s: negative or below the cent", s, d)
		}
		canon := Format(d)
		back, err := ParseAmount(canon)
		if err != nil || !back.Equal(d) {
			t.Fatalf("Format(ParseAmount(%q)) = %q re-parses to %s, %v", s, canon, back, err)
		}
		if again := Format(back); again != canon {
			t.Fatalf("canonical form not stable: %q then %q", canon, again)
		}
	})
}

// refShare computes total × rate rounded half-up to the cent with big.Rat,
// independently of shopspring's rounding.
func refShare(total, rate decimal.Decimal) decimal.Decimal {
	p := new(big.Rat).Mul(total.Rat(), rate.Rat())
	p.Mul(p, big.NewRat(100, 1))
	p.Add(p, big.NewRat(1, 2))
	cents := new(big.Int).Quo(p.Num(), p.Denom()) // floor for non-negative values
	return decimal.NewFromBigInt(cents, -2)
}

func FuzzShare(f *testing.F) {
	f.Add(int64(3000), int64(70), uint8(2))
	f.Add(int64(25), int64(5), uint8(1))
	f.Add(int64(1), int64(5), uint8(1))
	f.Add(int64(315), int64(6), uint8(1))
	f.Add(int64(999999999999), int64(1), uint8(0))
	f.Add(int64(-1), int64(1), uint8(0))
	f.Add(int64(100), int64(101), uint8(2))
	f.Add(int64(1000), int64(333333333333333333), uint8(18))
	f.Fuzz(func(t *testing.T, cents, rateUnits int64, rateExp uint8) {
		total := decimal.New(cents, -2)
		rate := decimal.New(rateUnits, -int32(rateExp%30))
		part, rest, err := Share(total, rate)
		valid := total.Sign() >= 0 && rate.Sign() >= 0 && rate.LessThanOrEqual(one)
		if valid != (err == nil) {
			t.Fatalf("Share(%s, %s): error %v, valid inputs %v", total, rate, err, valid)
		}
		if err != nil {
			return
		}
		checkShare(t, total, part, rest)
		if want := refShare(total, rate); !part.Equal(want) {
			t.Fatalf("Share(%s, %s) part = %s, reference %s", total, rate, part, want)
		}
	})
}

func BenchmarkShare(b *testing.B) {
	total, rate := dec("21.28"), dec("0.70")
	for b.Loop() {
		if _, _, err := Share(total, rate); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAmount(b *testing.B) {
	for b.Loop() {
		if _, err := ParseAmount("9999.99"); err != nil {
			b.Fatal(err)
		}
	}
}
