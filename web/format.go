package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/calendar"
	"passd/fault"
	"passd/money"
	"passd/settlement"
)

// narrowNBSP separates thousands in French amounts (U+202F, as CLDR's fr
// locale does), so "1 234,56 €" never wraps inside the number.
const narrowNBSP = "\u202f"

// nbsp keeps the amount and its currency sign on one line.
const nbsp = "\u00a0"

// FormatAmount writes an amount the French way: "1 234,56 €", always two
// decimals, rounded half-up to the cent. It works on the decimal's digits:
// no float is involved.
func FormatAmount(d decimal.Decimal) string {
	s := d.StringFixed(2)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	units, cents, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteString(narrowNBSP)
		}
		b.WriteRune(r)
	}
	return sign + b.String() + "," + cents + nbsp + "€"
}

// inputAmount is an amount as a form shows it for editing, in the French
// form without the currency ("50 000,00"), which formFrenchAmount reads back.
func inputAmount(d decimal.Decimal) string {
	return strings.TrimSuffix(FormatAmount(d), nbsp+"€")
}

// FormatDate writes a civil date as dd/mm/yyyy; the zero date is "".
func FormatDate(d calendar.Date) string {
	if d.IsZero() {
		return ""
	}
	s := d.String() // YYYY-MM-DD
	return s[8:10] + "/" + s[5:7] + "/" + s[0:4]
}

// Badge is an invoice's status as its provider reads it: a French word, a
// CSS modifier for its colour, and the reason of a CPAM rejection.
type Badge struct {
	Label  string
	Class  string
	Reason string
}

// InvoiceBadge says where an invoice stands, from its status and, once it
// is decided, its settlement: pending is "en attente"; released is
// "transmise à la CPAM" until the CPAM pays (then "payée", once any
// payout of the rest is paid too) or rejects the claim ("rejetée" with
// the CPAM's reason, even after the city has paid the provider, so that the
// provider sees the rejection); city_due is "à payer par la ville" until
// every payout is paid; cancelled is "annulée".
func InvoiceBadge(inv billing.Invoice, st billing.Settlement) Badge {
	switch inv.Status {
	case billing.StatusPending:
		return Badge{Label: inv.Status.Label(), Class: "pending"}
	case billing.StatusReleased:
		switch st.ClaimStatus {
		case settlement.ClaimRejected:
			return Badge{Label: "rejetée", Class: "rejected", Reason: st.ClaimRejection}
		case settlement.ClaimPaid:
			if st.PayoutsPaid == st.Payouts {
				return Badge{Label: "payée", Class: "paid"}
			}
		}
		return Badge{Label: inv.Status.Label(), Class: "released"}
	case billing.StatusCityDue:
		if st.Payouts > 0 && st.PayoutsPaid == st.Payouts {
			return Badge{Label: "payée", Class: "paid"}
		}
		return Badge{Label: inv.Status.Label(), Class: "city-due"}
	case billing.StatusCancelled:
		return Badge{Label: inv.Status.Label(), Class: "cancelled"}
	}
	return Badge{Label: inv.Status.Label(), Class: "pending"}
}

// FormatDay writes the Paris day of an instant as dd/mm/yyyy.
func FormatDay(t time.Time) string { return FormatDate(calendar.Today(t)) }

// formAmount reads an amount in the plain form ("1234.50"); forms read
// what people type with formFrenchAmount, which ends here. An error names
// field.
func formAmount(field, raw string) (decimal.Decimal, error) {
	if raw == "" {
		return decimal.Decimal{}, fault.Field(field, "%s is required", field)
	}
	d, err := money.ParseAmount(raw)
	if err != nil {
		return decimal.Decimal{}, fault.Field(field, "%s: %s", field, strings.TrimPrefix(err.Error(), "money: "))
	}
	return d, nil
}

// formInt reads a whole number typed in a form; an error names field.
func formInt(field, raw string) (int, error) {
	n, err := strconv.Atoi(raw)
	if err != nil || strconv.Itoa(n) != raw {
		return 0, fault.Field(field, "%s must be a whole number", field)
	}
	return n, nil
}

// formDate reads a required date typed in a form (YYYY-MM-DD, as a date
// input sends it); an error names field.
func formDate(field, raw string) (calendar.Date, error) {
	if raw == "" {
		return calendar.Date{}, fault.Field(field, "%s is required", field)
	}
	d, err := calendar.Parse(raw)
	if err != nil {
		return calendar.Date{}, fault.Field(field, "%s must be a valid date YYYY-MM-DD", field)
	}
	return d, nil
}
