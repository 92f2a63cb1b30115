package programme

import (
	"encoding/json"
	"testing"

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
