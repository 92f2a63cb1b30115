package settlement

import "testing"

// TestEveryValueHasAFrenchLabel: pages and spreadsheets never show a raw
// status or reason.
func TestEveryValueHasAFrenchLabel(t *testing.T) {
	check := func(value, label string) {
		if label == "" || label == value {
			t.Errorf("%q has no French label", value)
		}
	}
	for _, s := range PayoutStatuses {
		check(string(s), s.Label())
	}
	for _, r := range Reasons {
		check(string(r), r.Label())
	}
	for _, s := range ClaimStatuses {
		check(string(s), s.Label())
	}
	for _, s := range ClaimBatchMachine.States() {
		check(string(s), s.Label())
	}
}

func TestAClaimBatchIsOpenWhileAClaimAwaitsItsAnswer(t *testing.T) {
	if ClaimBatchStatusOf(1) != ClaimBatchOpen || ClaimBatchStatusOf(0) != ClaimBatchSettled {
		t.Fatal("ClaimBatchStatusOf is wrong")
	}
	if !ClaimBatchOpen.Allowed(ClaimBatchSettle) || ClaimBatchSettled.Allowed(ClaimBatchSettle) {
		t.Fatal("only an open batch can be settled")
	}
}
