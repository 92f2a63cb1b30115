package billing

import (
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/settlement"
)

// Payout is money the city owes a provider for one invoice.
type Payout struct {
	ID         int64                   `db:"id"`
	InvoiceID  int64                   `db:"invoice_id"`
	ProviderID int64                   `db:"provider_id"`
	ClaimID    int64                   `db:"claim_id"` // for cpam_rejected and cpam_partial
	Amount     decimal.Decimal         `db:"amount"`
	Reason     settlement.Reason       `db:"reason"`
	Note       string                  `db:"note"` // the CPAM's reason for a rejected claim
	Status     settlement.PayoutStatus `db:"status"`
	BatchID    int64                   `db:"batch_id"`
	PaidOn     calendar.Date           `db:"paid_on"`
	CreatedAt  time.Time               `db:"created_at"`
	HeldAt     *time.Time              `db:"held_at"`
	HoldReason string                  `db:"hold_reason"`
}
