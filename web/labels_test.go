package web

import "testing"

func TestActorsAreNamedAsPeopleReadThem(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"demo-finance":     "demo-finance",
		"job:payout-batch": "tâche automatique (Brouillon du lot de paiement des effecteurs)",
		"job:claim-batch":  "tâche automatique (Lot de demandes de remboursement à la CPAM)",
		"job:unknown":      "tâche automatique (unknown)",
	} {
		if got := ActorLabel(in); got != want {
			t.Errorf("ActorLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
