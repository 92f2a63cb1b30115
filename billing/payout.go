package billing

import (
	"time"

	"github.com/shopspring/decimal"

	"passd/calendar"
	"passd/settlement"
)

// Payout is money the city owes a provider for one invoice.
type Payout struct {
	ID         int64
	InvoiceID  int64
	ProviderID int64
	ClaimID    int64 // for cpam_rejected and cpam_partial
	Amount     decimal.Decimal
	Reason     settlement.Reason
	Note       string // the CPAM's reason for a rejected claim
	Status     settlement.PayoutStatus
	BatchID    int64
	PaidOn     calendar.Date
	CreatedAt  time.Time
}
