package billing

import "testing"

func TestEveryStatusHasAFrenchLabel(t *testing.T) {
	for _, s := range Statuses {
		if l := s.Label(); l == "" || l == string(s) {
			t.Errorf("invoice status %q has no French label", s)
		}
	}
	for _, s := range BatchStatuses {
		if l := s.Label(); l == "" || l == string(s) {
			t.Errorf("batch status %q has no French label", s)
		}
	}
}

// TestAnApprovedBatchCannotBeCancelled is the rule the payout-batch page
// once broke: it offered "Annuler le lot" on an approved batch.
func TestAnApprovedBatchCannotBeCancelled(t *testing.T) {
	for _, s := range []BatchStatus{BatchApproved, BatchPaid, BatchCancelled} {
		if s.Allowed(BatchCancel) {
			t.Errorf("a %s batch can be cancelled", s)
		}
	}
	for _, s := range []BatchStatus{BatchDraft, BatchSubmitted} {
		if next, ok := s.Next(BatchCancel); !ok || next != BatchCancelled {
			t.Errorf("a %s batch cannot be cancelled", s)
		}
	}
}
