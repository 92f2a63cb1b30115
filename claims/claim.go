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
	Kind            settlement.ClaimKind
	Amount          decimal.Decimal
	Status          settlement.ClaimStatus
	BatchID         int64 // 0 until transmitted
	PaidAmount      *decimal.Decimal
	PaidOn          calendar.Date
	RejectionReason string
	CreatedAt       time.Time
	// Set once a rights correction cancelled the claim; CancelBatchID is
	// the batch that carried its cancellation to the CPAM (0 while none
	// has, and for ever if the claim was never sent).
	CancelledAt   *time.Time
	CancelBatchID int64
	// The rights period that released the invoice (0 and empty for claims
	// queued before periods were kept).
	RightsDecisionID int64
	Regime           rights.Regime
	Reference        string
}

// ClaimBatch is one transmission to the CPAM: of claims, and of
// cancellations of claims earlier batches sent.
type ClaimBatch struct {
	ID                int64
	ClaimCount        int
	CancellationCount int
	Total             decimal.Decimal
	CreatedAt         time.Time
	Creator           string
	// What became of its claims so far: the CPAM's returns, and the
	// claims a rights correction cancelled since.
	Transmitted, Paid, Rejected, Cancelled int
	PaidAmount                             decimal.Decimal
}
