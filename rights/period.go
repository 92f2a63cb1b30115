package rights

import (
	"github.com/shopspring/decimal"

	"passd/calendar"
)

// DefaultAMELookbackDays is the AME look-back when the settings leave it
// unset: care given up to 30 days before the filing is covered (decree
// 54-883, art. 44-1, per DOMAIN.md). It is a setting because a city's CPAM
// may read the rule otherwise.
const DefaultAMELookbackDays = 30

// Period is an opened decision as billing reads it: a regime in force from
// From to To (To zero: no end), recorded on DecidedOn (a Paris date).
type Period struct {
	DecisionID int64
	Regime     Regime
	From, To   calendar.Date
	Reference  string
	DecidedOn  calendar.Date
}

// Covers reports whether the period is in force on day d, its first and
// last days included.
func (p Period) Covers(d calendar.Date) bool {
	return !d.Before(p.From) && (p.To.IsZero() || !d.After(p.To))
}

// InForce picks, among periods, the one in force on day care that was
// recorded on or before day by, and whose CPAM share is the largest (rate
// gives each regime's share of the act at hand); on a tie, the latest
// decision. ok is false when no period qualifies.
func InForce(periods []Period, care, by calendar.Date, rate func(Regime) decimal.Decimal) (best Period, ok bool) {
	var bestRate decimal.Decimal
	for _, p := range periods {
		if !p.Covers(care) || p.DecidedOn.After(by) {
			continue
		}
		r := rate(p.Regime)
		if !ok || r.GreaterThan(bestRate) || (r.Equal(bestRate) && p.DecisionID > best.DecisionID) {
			best, bestRate, ok = p, r, true
		}
	}
	return best, ok
}
