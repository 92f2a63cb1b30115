package claims

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/calendar"
	"passd/claims/cpamfile"
)

// TestClassifyReturn covers what the lines of a CPAM return do to their
// claims (ImportReturn's rule) without a database.
func TestClassifyReturn(t *testing.T) {
	t.Parallel()
	amount := decimal.RequireFromString
	date := func(s string) calendar.Date {
		d, err := calendar.Parse(s)
		if err != nil {
			panic(err)
		}
		return d
	}
	paidEarlier := amount("21.00")
	// The batch's claims as the return finds them.
	batch := map[int64]returnClaim{
		1: {invoiceID: 11, amount: amount("21.00"), status: ClaimTransmitted},
		2: {invoiceID: 12, amount: amount("0.03"), status: ClaimTransmitted},
		3: {invoiceID: 13, amount: amount("21.00"), status: ClaimPaid, paidAmount: &paidEarlier, paidOn: date("2026-06-01")},
		4: {invoiceID: 14, amount: amount("21.00"), status: ClaimRejected, reason: "NIR inconnu"},
	}
	paid := func(claim int64, amt, on string) cpamfile.ReturnLine {
		return cpamfile.ReturnLine{ClaimID: claim, Outcome: cpamfile.OutcomePaid, PaidAmount: amount(amt), PaidOn: date(on)}
	}
	rejected := func(claim int64, reason string) cpamfile.ReturnLine {
		return cpamfile.ReturnLine{ClaimID: claim, Outcome: cpamfile.OutcomeRejected, Reason: reason}
	}
	tests := []struct {
		name     string
		lines    []cpamfile.ReturnLine
		results  []string // "result owed" of each line
		settled  []string // "claim status" of each claim the return settles
		postings []string // "movement amount invoice claim"
		owed     []string // "claim amount reason note"
	}{
		{name: "an empty return"},
		{
			name:     "paid in full",
			lines:    []cpamfile.ReturnLine{paid(1, "21.00", "2026-06-20")},
			results:  []string{ReturnPaid + " 0"},
			settled:  []string{"1 " + ClaimPaid},
			postings: []string{"claim_paid 21 11 1"},
		},
		{
			name:     "paid one cent short: the city owes the cent",
			lines:    []cpamfile.ReturnLine{paid(1, "20.99", "2026-06-20")},
			results:  []string{ReturnPartial + " 0.01"},
			settled:  []string{"1 " + ClaimPaid},
			postings: []string{"claim_paid 20.99 11 1", "claim_shortfall 0.01 11 1"},
			owed:     []string{"1 0.01 " + PayoutCPAMPartial + " "},
		},
		{
			name:     "paid nothing: the city owes all",
			lines:    []cpamfile.ReturnLine{paid(2, "0", "2026-06-20")},
			results:  []string{ReturnPartial + " 0.03"},
			settled:  []string{"2 " + ClaimPaid},
			postings: []string{"claim_paid 0 12 2", "claim_shortfall 0.03 12 2"},
			owed:     []string{"2 0.03 " + PayoutCPAMPartial + " "},
		},
		{
			name:    "paid one cent more than claimed: invalid, nothing written",
			lines:   []cpamfile.ReturnLine{paid(2, "0.04", "2026-06-20")},
			results: []string{ReturnInvalid + " 0"},
		},
		{
			name:     "rejected: the city owes the claim, with the CPAM's reason",
			lines:    []cpamfile.ReturnLine{rejected(1, "hors délai")},
			results:  []string{ReturnRejected + " 21"},
			settled:  []string{"1 " + ClaimRejected},
			postings: []string{"claim_rejected 21 11 1"},
			owed:     []string{"1 21 " + PayoutCPAMRejected + " hors délai"},
		},
		{
			name:    "a claim of another batch, or of none",
			lines:   []cpamfile.ReturnLine{paid(99, "1.00", "2026-06-20")},
			results: []string{ReturnNotInBatch + " 0"},
		},
		{
			name:    "an earlier import's outcome repeated",
			lines:   []cpamfile.ReturnLine{paid(3, "21.00", "2026-06-01"), rejected(4, "another wording")},
			results: []string{ReturnUnchanged + " 0", ReturnUnchanged + " 0"},
		},
		{
			name: "an earlier import's outcome contradicted",
			lines: []cpamfile.ReturnLine{paid(3, "20.00", "2026-06-01"), paid(3, "21.00", "2026-06-02"),
				rejected(3, "x"), paid(4, "21.00", "2026-06-01")},
			results: []string{ReturnConflict + " 0", ReturnConflict + " 0", ReturnConflict + " 0", ReturnConflict + " 0"},
		},
		{
			name:     "a line repeated in one return settles its claim once",
			lines:    []cpamfile.ReturnLine{paid(1, "20.00", "2026-06-20"), paid(1, "20.00", "2026-06-20")},
			results:  []string{ReturnPartial + " 1", ReturnUnchanged + " 0"},
			settled:  []string{"1 " + ClaimPaid},
			postings: []string{"claim_paid 20 11 1", "claim_shortfall 1 11 1"},
			owed:     []string{"1 1 " + PayoutCPAMPartial + " "},
		},
		{
			name:     "lines contradicting each other in one return: the first settles",
			lines:    []cpamfile.ReturnLine{rejected(1, "hors délai"), paid(1, "21.00", "2026-06-20"), paid(2, "0.03", "2026-06-20"), rejected(2, "x")},
			results:  []string{ReturnRejected + " 21", ReturnConflict + " 0", ReturnPaid + " 0", ReturnConflict + " 0"},
			settled:  []string{"1 " + ClaimRejected, "2 " + ClaimPaid},
			postings: []string{"claim_rejected 21 11 1", "claim_paid 0.03 12 2"},
			owed:     []string{"1 21 " + PayoutCPAMRejected + " hors délai"},
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
				if (r.Result == ReturnConflict || r.Result == ReturnNotInBatch || r.Result == ReturnInvalid) != (r.Message != "") {
					t.Errorf("line %d: %s with message %q", r.Line, r.Result, r.Message)
				}
				got = append(got, fmt.Sprintf("%s %s", r.Result, r.Owed))
			}
			checkList(t, "results", got, tt.results)
			got = nil
			for i, id := range set.ids {
				got = append(got, fmt.Sprintf("%d %s", id, set.statuses[i]))
			}
			checkList(t, "settled", got, tt.settled)
			got = nil
			for _, p := range set.postings {
				got = append(got, fmt.Sprintf("%s %s %d %d", p.Movement, p.Amount, p.InvoiceID, p.ClaimID))
			}
			checkList(t, "postings", got, tt.postings)
			got = nil
			for i, id := range set.owedIDs {
				got = append(got, fmt.Sprintf("%d %s %s %s", id, set.owedAmounts[i], set.owedReasons[i], set.owedNotes[i]))
			}
			checkList(t, "owed", got, tt.owed)
			if len(set.entries) != len(set.ids) || len(set.paid) != len(set.ids) || len(set.paidOn) != len(set.ids) || len(set.reasons) != len(set.ids) {
				t.Errorf("%d claims settled, with %d audit rows, %d paid amounts, %d dates, %d reasons",
					len(set.ids), len(set.entries), len(set.paid), len(set.paidOn), len(set.reasons))
			}
			if batch[1].status != ClaimTransmitted || batch[2].status != ClaimTransmitted {
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
