package money

import (
	"errors"
	"strings"

	"github.com/shopspring/decimal"
)

var (
	errFormat   = errors.New(`money: amount must be a decimal string like "30.00"`)
	errDecimals = errors.New("money: amount has more than two decimals")
	errTooLarge = errors.New("money: amount is too large")

	errNegativeTotal = errors.New("money: total must not be negative")
	errTotalDecimals = errors.New("money: total has more than two decimals")
	errRate          = errors.New("money: rate must be between 0 and 1")
)

// maxIntDigits bounds amounts at 9,999,999,999.99 €: far above any PASS
// invoice or budget, and small enough that a typo of extra digits fails.
const maxIntDigits = 10

// ParseAmount reads an amount written as digits with an optional dot and one
// or two decimals ("30", "30.5", "30.00"). It is strict because amounts come
// from forms and files where "1,5", "1.5e3", "+3" or " 3" are more likely
// mistakes than intent. Leading zeros ("007.50") are rejected as ambiguous,
// except for the single zero of "0" or "0.xx". Zero is accepted: whether
// zero is allowed is the caller's business.
func ParseAmount(s string) (decimal.Decimal, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if !digits(intPart) || hasDot && !digits(frac) {
		return decimal.Zero, errFormat
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return decimal.Zero, errFormat
	}
	if len(intPart) > maxIntDigits {
		return decimal.Zero, errTooLarge
	}
	if len(frac) > 2 {
		return decimal.Zero, errDecimals
	}
	d, err := decimal.NewFromString(s)
	if err != nil { // cannot happen after the checks above; keep it an error, not a panic
		return decimal.Zero, errFormat
	}
	return d, nil
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format renders an amount with exactly two decimals ("30.00"), the form
// ParseAmount reads and exports carry. Amounts are expected to have at most
// two decimals; a value with more is rounded half away from zero rather than
// silently truncated.
func Format(d decimal.Decimal) string {
	return d.StringFixed(2)
}

// Share splits total into the part a payer covers at rate and the rest.
//
// part is total × rate rounded half-up to the cent; rest is total − part,
// exact, so part + rest == total always and no cent is lost or invented.
// shopspring's Round rounds half away from zero, which is half-up for the
// non-negative values allowed here (0.125 → 0.13).
//
// total must be ≥ 0 with at most two decimals (with more, the rounded part
// could exceed it), and rate must lie in [0, 1]; otherwise Share returns an
// error and zero values.
func Share(total, rate decimal.Decimal) (part, rest decimal.Decimal, err error) {
	if total.Sign() < 0 {
		return decimal.Zero, decimal.Zero, errNegativeTotal
	}
	if !total.Equal(total.Truncate(2)) {
		return decimal.Zero, decimal.Zero, errTotalDecimals
	}
	if rate.Sign() < 0 || rate.GreaterThan(one) {
		return decimal.Zero, decimal.Zero, errRate
	}
	part = total.Mul(rate).Round(2)
	return part, total.Sub(part), nil
}

var one = decimal.NewFromInt(1)

// LineTotal is quantity × unitPrice, exact: an integer times an amount in
// cents stays in cents, so no rounding happens here. Validating quantity
// (for example refusing zero or negative counts) is the caller's job.
func LineTotal(quantity int, unitPrice decimal.Decimal) decimal.Decimal {
	return unitPrice.Mul(decimal.NewFromInt(int64(quantity)))
}
