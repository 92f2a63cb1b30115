package claims

import (
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/rights"
	"passd/settlement"
)

// Claim is what the CPAM owes for one released invoice.
type Claim struct {
	ID              int64
	InvoiceID       int64
	Amount          decimal.Decimal
	Status          settlement.ClaimStatus
	BatchID         int64 // 0 until transmitted
	PaidAmount      *decimal.Decimal
	PaidOn          calendar.Date
	RejectionReason string
	CreatedAt       time.Time
	// The rights period that released the invoice (0 and empty for claims
	// queued before periods were kept).
	RightsDecisionID int64
	Regime           rights.Regime
	Reference        string
}

// ClaimBatch is one transmission of claims to the CPAM.
type ClaimBatch struct {
	ID         int64
	ClaimCount int
	Total      decimal.Decimal
	CreatedAt  time.Time
	Creator    string
	// What the CPAM's returns said so far.
	Transmitted, Paid, Rejected int
	PaidAmount                  decimal.Decimal
}
