package programme

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// The change of a figure from the year before, as the report shows it
// beside both: signed, "" where either side is not shown (a suppressed
// count, a share of too few people), since a difference of a suppressed
// count would tell it.

// PeopleChange is cur - prev in people: "+3", "-2", "0".
func PeopleChange(cur, prev People) string {
	if cur.Suppressed() || prev.Suppressed() {
		return ""
	}
	return signed(int64(cur) - int64(prev))
}

// CountChange is cur - prev of a count that is not of people (invoices).
func CountChange(cur, prev int64) string { return signed(cur - prev) }

// AmountChange is cur - prev in euros, signed, to the cent: "+120.50".
func AmountChange(cur, prev decimal.Decimal) string {
	d := cur.Sub(prev)
	if d.IsPositive() {
		return "+" + d.StringFixed(2)
	}
	return d.StringFixed(2)
}

// PointsChange is cur - prev of two percentages to one decimal, in
// percentage points: "+2.5"; "" when either is "".
func PointsChange(cur, prev string) string {
	c, errC := decimal.NewFromString(cur)
	p, errP := decimal.NewFromString(prev)
	if cur == "" || prev == "" || errC != nil || errP != nil {
		return ""
	}
	d := c.Sub(p)
	if d.IsPositive() {
		return "+" + d.StringFixed(1)
	}
	return d.StringFixed(1)
}

func signed(n int64) string {
	if n > 0 {
		return "+" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
