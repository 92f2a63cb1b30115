package billing

import (
	"fmt"
	"io"
	"iter"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/sepa"
)

// TestTransfersAddUpEachProvider: transfers makes one transfer per
// provider with the sum of its payouts and the remittance text of its
// invoices in order, as sepa.Remittance gives from the whole list.
func TestTransfersAddUpEachProvider(t *testing.T) {
	t.Parallel()
	counts := map[int64]int{3: 1, 8: 60, 9: 2}
	var payouts []sepaPayout
	refs := map[int64][]string{}
	sums := map[int64]decimal.Decimal{}
	for _, id := range []int64{3, 8, 9} {
		sums[id] = decimal.Zero
		for j := range counts[id] {
			p := sepaPayout{providerID: id, name: fmt.Sprintf("Cabinet %d", id), iban: "FR7630006000011234567890189", bic: "AGRIFRPP",
				amount: decimal.New(int64(1000+j*7), -2), ref: fmt.Sprintf("F-%d-%d", id, j)}
			payouts = append(payouts, p)
			refs[id] = append(refs[id], p.ref)
			sums[id] = sums[id].Add(p.amount)
		}
	}
	var got []sepa.Transfer
	for tr, err := range transfers(sliceSeq(payouts), 42) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tr)
	}
	if len(got) != 3 {
		t.Fatalf("%d transfers, want 3", len(got))
	}
	for i, id := range []int64{3, 8, 9} {
		want := sepa.Transfer{EndToEndID: fmt.Sprintf("PASSD-42-%d", id), CreditorName: fmt.Sprintf("Cabinet %d", id),
			IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP", Amount: sums[id], Remittance: sepa.Remittance("PASS lot 42 factures ", refs[id])}
		if g := got[i]; g.EndToEndID != want.EndToEndID || g.CreditorName != want.CreditorName || g.IBAN != want.IBAN ||
			g.BIC != want.BIC || !g.Amount.Equal(want.Amount) || g.Remittance != want.Remittance {
			t.Errorf("transfer %d = %+v, want %+v", i+1, g, want)
		}
	}
	if !strings.HasSuffix(got[1].Remittance, fmt.Sprintf(" +%d", 60-1-strings.Count(got[1].Remittance, ","))) {
		t.Errorf("provider 8's 60 invoices do not fit in 140 characters, yet its text is %q", got[1].Remittance)
	}
}

// TestTransfersHoldOneProviderAtATime feeds transfers 200,000 payouts of
// two providers, with 60-character references, and measures the live heap
// (after a collection) every 10,000 payouts: it must stay within 2 MiB of
// where it started, where holding the payouts' references alone would take
// 15 MiB. It also checks that the first provider's transfer is handed on
// as soon as the second provider's first payout shows it is complete.
//
// Not parallel: the heap is the process's, and parallel tests wait until
// the others are done.
func TestTransfersHoldOneProviderAtATime(t *testing.T) {
	const n, every = 200_000, 10_000
	pulled := 0
	var base, peak uint64
	payouts := func(yield func(sepaPayout, error) bool) {
		for i := range n {
			if i%every == 0 {
				if h := liveHeap(); i == 0 {
					base = h
				} else {
					peak = max(peak, h)
				}
			}
			pulled++
			provider := int64(1)
			if i >= n/2 {
				provider = 2
			}
			ref := fmt.Sprintf("%s-%08d", strings.Repeat("R", 51), i) // a fresh string each time, as a row scan gives
			if !yield(sepaPayout{providerID: provider, name: "Cabinet", iban: "FR7630006000011234567890189",
				amount: decimal.New(1234, -2), ref: ref}, nil) {
				return
			}
		}
	}
	var first, count int
	for tr, err := range transfers(payouts, 1) {
		if err != nil {
			t.Fatal(err)
		}
		if count++; count == 1 {
			first = pulled
		}
		if want := decimal.New(1234, -2).Mul(decimal.NewFromInt(n / 2)); !tr.Amount.Equal(want) {
			t.Errorf("transfer %s: %s, want %s", tr.EndToEndID, tr.Amount, want)
		}
	}
	if count != 2 || first != n/2+1 {
		t.Errorf("%d transfers, the first handed on after %d payouts were read; want 2, after %d", count, first, n/2+1)
	}
	if grown := int64(peak) - int64(base); grown > 2<<20 {
		t.Errorf("the live heap grew by %d KiB while transfers read %d payouts: it holds them", grown>>10, n)
	}
}

// liveHeap returns the bytes of the live heap, after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func sliceSeq(ps []sepaPayout) iter.Seq2[sepaPayout, error] {
	return func(yield func(sepaPayout, error) bool) {
		for _, p := range ps {
			if !yield(p, nil) {
				return
			}
		}
	}
}

// BenchmarkTransfers writes the SEPA file of batches of 1,000, 10,000 and
// 100,000 payouts of 50 providers, made on the fly, through transfers and
// sepa.Write to io.Discard, without the database: allocations and bytes
// per payout stay flat as the batch grows.
func BenchmarkTransfers(b *testing.B) {
	const providers = 50
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("payouts=%d", n), func(b *testing.B) {
			amount := decimal.New(1234, -2)
			payouts := func(yield func(sepaPayout, error) bool) {
				for i := range n {
					id := int64(1 + i*providers/n) // a provider's payouts together
					if !yield(sepaPayout{providerID: id, name: "Pharmacie de l'Église", iban: "FR7630006000011234567890189",
						bic: "AGRIFRPP", amount: amount, ref: "F-2026-" + strconv.Itoa(i)}, nil) {
						return
					}
				}
			}
			m := sepa.Message{MsgID: "PASSD-PAYOUTS-1", PaymentInfoID: "PASSD-PAYOUTS-1-1", CreatedAt: time.Now(),
				ExecutionDate: calendar.Today(time.Now()), NbOfTxs: providers, CtrlSum: amount.Mul(decimal.NewFromInt(int64(n))),
				Debtor: sepa.Debtor{Name: "Régie PASS", IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPPXXX"}}
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			files := 0
			for b.Loop() {
				if err := sepa.Write(io.Discard, m, transfers(payouts, 1)); err != nil {
					b.Fatal(err)
				}
				files++
			}
			runtime.ReadMemStats(&after)
			perPayout := float64(files * n)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/perPayout, "allocs/payout")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/perPayout, "B/payout")
		})
	}
}
