package claims

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/claims/cpamfile"
	"passd/journal"
	"passd/settlement"
)

// TestClassifyReturn covers what the lines of a CPAM return do to their
// claims (ImportReturn's rule) without a database.
func TestClassifyReturn(t *testing.T) {
	t.Parallel()
	amount := decimal.RequireFromString
	june := func(d int) calendar.Date { return calendar.NewDate(2026, time.June, d) }
	paidEarlier := amount("21.00")
	// The batch's claims as the return finds them.
	batch := map[int64]returnClaim{
		1: {invoiceID: 11, amount: amount("21.00"), status: settlement.ClaimTransmitted},
		2: {invoiceID: 12, amount: amount("0.03"), status: settlement.ClaimTransmitted},
		3: {invoiceID: 13, amount: amount("21.00"), status: settlement.ClaimPaid, paidAmount: &paidEarlier, paidOn: june(1)},
		4: {invoiceID: 14, amount: amount("21.00"), status: settlement.ClaimRejected, reason: "NIR inconnu"},
		// Cancelled by a rights correction: its cancellation waits for the
		// next batch (5), or went in batch 9 (6).
		5: {invoiceID: 15, amount: amount("21.00"), status: settlement.ClaimCancelled},
		6: {invoiceID: 16, amount: amount("21.00"), status: settlement.ClaimCancelled, cancelBatchID: 9},
	}
	paid := func(claim int64, amt string, on int) cpamfile.ReturnLine {
		return cpamfile.ReturnLine{ClaimID: claim, Outcome: settlement.ClaimPaid, PaidAmount: amount(amt), PaidOn: june(on)}
	}
	rejected := func(claim int64, reason string) cpamfile.ReturnLine {
		return cpamfile.ReturnLine{ClaimID: claim, Outcome: settlement.ClaimRejected, Reason: reason}
	}
	// posting is a journal posting on claim id, whose invoice is 10+id.
	posting := func(m journal.Movement, amt string, claim int64) journal.Posting {
		return journal.Posting{Movement: m, Amount: amount(amt), InvoiceID: 10 + claim, ClaimID: claim}
	}
	tests := []struct {
		name     string
		lines    []cpamfile.ReturnLine
		results  []string // "result owed" of each line
		settled  []string // "claim status" of each claim the return settles
		postings []journal.Posting
		owed     []string // "claim amount reason note"
	}{
		{name: "an empty return"},
		{
			name:     "paid in full",
			lines:    []cpamfile.ReturnLine{paid(1, "21.00", 20)},
			results:  []string{ReturnPaid + " 0"},
			settled:  []string{"1 " + string(settlement.ClaimPaid)},
			postings: []journal.Posting{posting(journal.ClaimPaid, "21", 1)},
		},
		{
			name:     "paid short, by a cent or by all: the city owes the rest",
			lines:    []cpamfile.ReturnLine{paid(1, "20.99", 20), paid(2, "0", 20)},
			results:  []string{ReturnPartial + " 0.01", ReturnPartial + " 0.03"},
			settled:  []string{"1 " + string(settlement.ClaimPaid), "2 " + string(settlement.ClaimPaid)},
			postings: []journal.Posting{posting(journal.ClaimPaid, "20.99", 1), posting(journal.ClaimShortfall, "0.01", 1), posting(journal.ClaimPaid, "0", 2), posting(journal.ClaimShortfall, "0.03", 2)},
			owed:     []string{"1 0.01 " + string(settlement.CPAMPartial) + " ", "2 0.03 " + string(settlement.CPAMPartial) + " "},
		},
		{
			name:    "paid one cent more than claimed: invalid, nothing written",
			lines:   []cpamfile.ReturnLine{paid(2, "0.04", 20)},
			results: []string{ReturnInvalid + " 0"},
		},
		{
			name:     "rejected: the city owes the claim, with the CPAM's reason",
			lines:    []cpamfile.ReturnLine{rejected(1, "hors délai")},
			results:  []string{ReturnRejected + " 21"},
			settled:  []string{"1 " + string(settlement.ClaimRejected)},
			postings: []journal.Posting{posting(journal.ClaimRejected, "21", 1)},
			owed:     []string{"1 21 " + string(settlement.CPAMRejected) + " hors délai"},
		},
		{
			name:    "a claim of another batch, or of none",
			lines:   []cpamfile.ReturnLine{paid(99, "1.00", 20)},
			results: []string{ReturnNotInBatch + " 0"},
		},
		{
			name:    "a cancelled claim, paid or rejected: reported, nothing written",
			lines:   []cpamfile.ReturnLine{paid(5, "21.00", 20), rejected(6, "hors droits"), paid(6, "1.00", 20), rejected(5, "x")},
			results: []string{ReturnCancelled + " 0", ReturnCancelled + " 0", ReturnCancelled + " 0", ReturnCancelled + " 0"},
		},
		{
			name:    "an earlier import's outcome repeated",
			lines:   []cpamfile.ReturnLine{paid(3, "21.00", 1), rejected(4, "another wording")},
			results: []string{ReturnUnchanged + " 0", ReturnUnchanged + " 0"},
		},
		{
			name: "an earlier import's outcome contradicted",
			lines: []cpamfile.ReturnLine{paid(3, "20.00", 1), paid(3, "21.00", 2),
				rejected(3, "x"), paid(4, "21.00", 1)},
			results: []string{ReturnConflict + " 0", ReturnConflict + " 0", ReturnConflict + " 0", ReturnConflict + " 0"},
		},
		{
			name:     "a line repeated in one return settles its claim once",
			lines:    []cpamfile.ReturnLine{paid(1, "20.00", 20), paid(1, "20.00", 20)},
			results:  []string{ReturnPartial + " 1", ReturnUnchanged + " 0"},
			settled:  []string{"1 " + string(settlement.ClaimPaid)},
			postings: []journal.Posting{posting(journal.ClaimPaid, "20", 1), posting(journal.ClaimShortfall, "1", 1)},
			owed:     []string{"1 1 " + string(settlement.CPAMPartial) + " "},
		},
		{
			name:     "lines contradicting each other in one return: the first settles",
			lines:    []cpamfile.ReturnLine{rejected(1, "hors délai"), paid(1, "21.00", 20), paid(2, "0.03", 20), rejected(2, "x")},
			results:  []string{ReturnRejected + " 21", ReturnConflict + " 0", ReturnPaid + " 0", ReturnConflict + " 0"},
			settled:  []string{"1 " + string(settlement.ClaimRejected), "2 " + string(settlement.ClaimPaid)},
			postings: []journal.Posting{posting(journal.ClaimRejected, "21", 1), posting(journal.ClaimPaid, "0.03", 2)},
			owed:     []string{"1 21 " + string(settlement.CPAMRejected) + " hors délai"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i := range tt.lines {
				tt.lines[i].Line = i + 1
			}
			results, set := classifyReturn(7, tt.lines, batch, audit.Job("test"))
			var got []string
			for i, r := range results {
				if r.Line != i+1 || r.ClaimID != tt.lines[i].ClaimID {
					t.Errorf("result %d is of line %d, claim %d", i, r.Line, r.ClaimID)
				}
				if (r.Result == ReturnConflict || r.Result == ReturnNotInBatch || r.Result == ReturnInvalid || r.Result == ReturnCancelled) != (r.Message != "") {
					t.Errorf("line %d: %s with message %q", r.Line, r.Result, r.Message)
				}
				if r.Result == ReturnCancelled {
					where := "in the next claim batch"
					if r.ClaimID == 6 {
						where = "in batch 9"
					}
					if !strings.Contains(r.Message, "cancelled after a rights correction") || !strings.Contains(r.Message, where) {
						t.Errorf("line %d: message %q does not say the claim was cancelled and where its cancellation is (%s)", r.Line, r.Message, where)
					}
				}
				got = append(got, fmt.Sprintf("%s %s", r.Result, r.Owed))
			}
			checkList(t, "results", got, tt.results)
			got = nil
			for i, id := range set.ids {
				got = append(got, fmt.Sprintf("%d %s", id, set.statuses[i]))
			}
			checkList(t, "settled", got, tt.settled)
			checkList(t, "postings", postingsText(set.postings), postingsText(tt.postings))
			got = nil
			for _, o := range set.owed {
				got = append(got, fmt.Sprintf("%d %s %s %s", o.ClaimID, o.Amount, o.Reason, o.Note))
			}
			checkList(t, "owed", got, tt.owed)
			if len(set.entries) != len(set.ids) || len(set.paid) != len(set.ids) || len(set.paidOn) != len(set.ids) || len(set.reasons) != len(set.ids) {
				t.Errorf("%d claims settled, with %d audit rows, %d paid amounts, %d dates, %d reasons",
					len(set.ids), len(set.entries), len(set.paid), len(set.paidOn), len(set.reasons))
			}
			if batch[1].status != settlement.ClaimTransmitted || batch[2].status != settlement.ClaimTransmitted {
				t.Errorf("classifyReturn changed the claims it was given")
			}
		})
	}
}

func checkList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func postingsText(ps []journal.Posting) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s invoice %d claim %d payout %d", p.Movement, p.Amount, p.InvoiceID, p.ClaimID, p.PayoutID))
	}
	return out
}
