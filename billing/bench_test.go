package billing_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"passd/billing"
	"passd/rights"
)

// The benchmarks of the pure paths an invoice goes through: its total, its
// split, the decision rule and the parsing of its body. They measure, they
// assert nothing about time: the targets live in make bench.

// benchLines returns n lines as a pharmacy or a health centre writes them:
// varied quantities and prices, so that the split rounds on some lines.
func benchLines(n int) []billing.Line {
	prices := []string{"25.00", "3.15", "21.28", "7.30", "0.35", "112.50", "2.75"}
	lines := make([]billing.Line, n)
	for i := range lines {
		lines[i] = billing.Line{Code: "AMI", Label: "Soin", Quantity: 1 + i%3, UnitPrice: amt(prices[i%len(prices)])}
	}
	return lines
}

var sinkSplit billing.Split

func BenchmarkSplitLines(b *testing.B) {
	for _, n := range []int{3, 20} {
		lines := benchLines(n)
		rates := make([]decimal.Decimal, n)
		for i := range rates {
			rates[i] = amt("0.65")
		}
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := billing.SplitLines(lines, rates)
				if err != nil {
					b.Fatal(err)
				}
				sinkSplit = s
			}
		})
	}
}

var sinkTotal decimal.Decimal

func BenchmarkTotalOf(b *testing.B) {
	for _, n := range []int{3, 20} {
		lines := benchLines(n)
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkTotal = billing.TotalOf(lines)
			}
		})
	}
}

var sinkOutcome billing.Outcome

// BenchmarkDecide runs the rule on the cases a sweep meets: rights opened
// in time, refused, none with the deadline passed, and still pending.
func BenchmarkDecide(b *testing.B) {
	care, deadline, today := d("2026-08-10"), d("2026-11-08"), d("2026-11-23")
	cases := []billing.Rights{
		{Status: "opened", DecidedOn: d("2026-10-01"), Periods: []rights.Period{period(1, rights.PUMa, "2026-05-01", "", "2026-10-01")}},
		{Status: "refused", DecidedOn: d("2026-10-01")},
		{Status: "requested"},
		{Status: "none"},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sinkOutcome = billing.Decide(care, deadline, cases[i%len(cases)], today, gpRates)
		i++
	}
}
