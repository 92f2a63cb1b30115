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

// Status is where the batch stands: open while one of its claims awaits
// the CPAM's answer.
func (b ClaimBatch) Status() settlement.ClaimBatchStatus {
	return settlement.ClaimBatchStatusOf(b.Transmitted)
}

// BatchFilter narrows a list of claim batches; its zero value is every
// batch. A batch's state is read from its claims as they stand.
type BatchFilter struct {
	// Status: open while a claim of the batch still awaits the CPAM's
	// answer (transmitted); settled once none does, each paid (in full or
	// in part), rejected or cancelled since, a batch of cancellations only
	// included (settlement.ClaimBatchStatusOf); "" either.
	Status settlement.ClaimBatchStatus
	// Rejections: whether the CPAM rejected a claim of the batch; "" either.
	Rejections BatchRejections
	// CreatedFrom and CreatedTo bound the day the batch was created, in
	// Paris, both included (zero: unbounded).
	CreatedFrom, CreatedTo calendar.Date
}

// BatchRejections narrows claim batches by whether the CPAM rejected any
// of their claims.
type BatchRejections string

// The rejections a list of claim batches can ask for.
const (
	WithRejections    BatchRejections = "with"    // at least one claim rejected
	WithoutRejections BatchRejections = "without" // no claim rejected, so far
)

// BatchRejectionsChoices lists them, for filters.
var BatchRejectionsChoices = []BatchRejections{WithRejections, WithoutRejections}

// Label is the choice in French.
func (r BatchRejections) Label() string {
	switch r {
	case WithRejections:
		return "avec rejets"
	case WithoutRejections:
		return "sans rejet"
	}
	return string(r)
}
