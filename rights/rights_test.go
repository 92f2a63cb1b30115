package rights

import "testing"

func TestEveryStatusHasAFrenchLabel(t *testing.T) {
	for _, s := range Statuses {
		if l := s.Label(); l == "" || l == string(s) {
			t.Errorf("%q has no French label", s)
		}
	}
}

func TestNothingGoesBackToNone(t *testing.T) {
	for _, s := range Statuses {
		for _, a := range Machine.Actions() {
			if next, ok := s.Next(a); ok && next == None {
				t.Errorf("%s --%s--> none", s, a)
			}
		}
	}
}
