package web

import (
	"testing"

	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/calendar"
)

func TestFormatAmountIsFrench(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0":          "0,00\u00a0€",
		"5":          "5,00\u00a0€",
		"55.5":       "55,50\u00a0€",
		"999.99":     "999,99\u00a0€",
		"1234.56":    "1\u202f234,56\u00a0€",
		"123456.7":   "123\u202f456,70\u00a0€",
		"1234567.89": "1\u202f234\u202f567,89\u00a0€",
		"-1234.5":    "-1\u202f234,50\u00a0€",
		"0.005":      "0,01\u00a0€",
	} {
		if got := FormatAmount(decimal.RequireFromString(in)); got != want {
			t.Errorf("FormatAmount(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatDateIsDayMonthYear(t *testing.T) {
	t.Parallel()
	if got := FormatDate(calendar.NewDate(2026, 11, 22)); got != "22/11/2026" {
		t.Errorf("FormatDate = %q, want 22/11/2026", got)
	}
	if got := FormatDate(calendar.NewDate(2027, 1, 3)); got != "03/01/2027" {
		t.Errorf("FormatDate = %q, want 03/01/2027", got)
	}
	if got := FormatDate(calendar.Date{}); got != "" {
		t.Errorf("FormatDate(zero) = %q, want empty", got)
	}
}

func TestInvoiceBadgeSaysWhereTheMoneyStands(t *testing.T) {
	t.Parallel()
	inv := func(status billing.InvoiceStatus) billing.Invoice { return billing.Invoice{Status: status} }
	cases := []struct {
		name   string
		inv    billing.Invoice
		st     billing.Settlement
		label  string
		reason string
	}{
		{"pending", inv(billing.StatusPending), billing.Settlement{}, "en attente", ""},
		{"claim queued", inv(billing.StatusReleased), billing.Settlement{ClaimStatus: "queued", Payouts: 1}, "transmise à la CPAM", ""},
		{"claim transmitted", inv(billing.StatusReleased), billing.Settlement{ClaimStatus: "transmitted"}, "transmise à la CPAM", ""},
		{"claim paid, city share due", inv(billing.StatusReleased), billing.Settlement{ClaimStatus: "paid", Payouts: 1}, "transmise à la CPAM", ""},
		{"claim paid in full", inv(billing.StatusReleased), billing.Settlement{ClaimStatus: "paid"}, "payée", ""},
		{"claim paid, city share paid", inv(billing.StatusReleased), billing.Settlement{ClaimStatus: "paid", Payouts: 1, PayoutsPaid: 1}, "payée", ""},
		{"claim rejected", inv(billing.StatusReleased), billing.Settlement{ClaimStatus: "rejected", ClaimRejection: "NIR inconnu", Payouts: 1}, "rejetée", "NIR inconnu"},
		{"city due", inv(billing.StatusCityDue), billing.Settlement{Payouts: 1}, "à payer par la ville", ""},
		{"city paid", inv(billing.StatusCityDue), billing.Settlement{Payouts: 1, PayoutsPaid: 1}, "payée", ""},
		{"cancelled", inv(billing.StatusCancelled), billing.Settlement{}, "annulée", ""},
	}
	for _, c := range cases {
		b := InvoiceBadge(c.inv, c.st)
		if b.Label != c.label || b.Reason != c.reason {
			t.Errorf("%s: badge %q (%q), want %q (%q)", c.name, b.Label, b.Reason, c.label, c.reason)
		}
	}
}
