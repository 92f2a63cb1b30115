package programme

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"

	"passd/fault"
)

func TestSmallCellsAreSuppressedAndSoAreTheSharesOfThem(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    People
		want any // as a JSON reader decodes it
	}{{0, 0.0}, {1, "< 5"}, {4, "< 5"}, {5, 5.0}, {1234, 1234.0}} {
		b, err := json.Marshal(c.n)
		var got any
		if err == nil {
			err = json.Unmarshal(b, &got)
		}
		if err != nil || got != c.want {
			t.Errorf("People(%d) = %s (%v), want %v", c.n, b, err, c.want)
		}
	}
	for _, c := range []struct {
		part, whole int64
		want        string
	}{{1, 2, ""}, {4, 4, ""}, {0, 0, ""}, {4, 5, "80.0"}, {2, 3 * SmallCell, "13.3"}, {5, 5, "100.0"}} {
		if got := peoplePercent(c.part, c.whole); got != c.want {
			t.Errorf("peoplePercent(%d, %d) = %q, want %q", c.part, c.whole, got, c.want)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	today := Year(2026).To
	for _, c := range []struct {
		year, from, to string
		want           string // "from to", or the field at fault
	}{
		{"", "", "", "2026-01-01 2026-12-31"},
		{"2025", "", "", "2025-01-01 2025-12-31"},
		{"", "2026-01-01", "2026-06-30", "2026-01-01 2026-06-30"},
		{"2025", "2026-01-01", "", "year"},
		{"25", "", "", "year"},
		{"02025", "", "", "year"},
		{"", "2026-06-30", "2026-01-01", "to"},
		{"", "2020-01-01", "2026-01-01", "to"},
		{"", "2026-01-32", "2026-02-01", "from"},
		{"", "2026-01-01", "", "to"},
	} {
		p, err := ParsePeriod(today, c.year, c.from, c.to)
		got := p.From.String() + " " + p.To.String()
		if err != nil {
			got = fieldOf(err)
		}
		if got != c.want {
			t.Errorf("ParsePeriod(%q, %q, %q) = %q, want %q", c.year, c.from, c.to, got, c.want)
		}
	}
}

func fieldOf(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Field
	}
	return err.Error()
}

func TestChangesFromTheYearBeforeHideWhatSuppressionHides(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		got, want string
	}{
		{PeopleChange(12, 7), "+5"}, {PeopleChange(7, 12), "-5"}, {PeopleChange(0, 0), "0"}, {PeopleChange(9, 0), "+9"},
		// 12 - "< 5" would tell the suppressed count.
		{PeopleChange(12, 3), ""}, {PeopleChange(4, 40), ""},
		{CountChange(3, 10), "-7"},
		{AmountChange(decimal.RequireFromString("150.00"), decimal.RequireFromString("29.50")), "+120.50"},
		{AmountChange(decimal.Zero, decimal.RequireFromString("0.01")), "-0.01"},
		{AmountChange(decimal.Zero, decimal.Zero), "0.00"},
		{PointsChange("80.0", "77.5"), "+2.5"}, {PointsChange("60.0", "100.0"), "-40.0"}, {PointsChange("", "50.0"), ""},
		{PointsChange("50.0", ""), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
