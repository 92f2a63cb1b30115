package settlement

import (
	"github.com/shopspring/decimal"

	"passd/rights"
)

// NewClaim is the CPAM's share of a released invoice, as billing hands it
// to claims: the amount, the rate applied to each of the invoice's lines
// (by position; 0 for a line the CPAM does not cover), and the
// rights period that released it, which the claim keeps for ever (exports
// and pages read it there, never the file's current rights).
type NewClaim struct {
	InvoiceID int64
	Amount    decimal.Decimal
	LineRates []decimal.Decimal
	Period    rights.Period
	Kind      ClaimKind // ClaimOrdinary when empty
	OutcomeNo int       // the invoice outcome that claims it; 1 when 0
}
