package billing

import (
	"time"

	"github.com/shopspring/decimal"
)

// Payout statuses.
const (
	PayoutDue      = "due"
	PayoutBatched  = "batched"
	PayoutApproved = "approved"
	PayoutPaid     = "paid"
)

// PayoutStatuses lists every payout status, for filters.
var PayoutStatuses = []string{PayoutDue, PayoutBatched, PayoutApproved, PayoutPaid}

// ReasonTicketModerateur is the payout reason for the city's share of a
// released invoice; the other payout reasons are the decision reasons.
const ReasonTicketModerateur = "ticket_moderateur"

// Payout is money the city owes a provider for one invoice.
type Payout struct {
	ID         int64
	InvoiceID  int64
	ProviderID int64
	Amount     decimal.Decimal
	Reason     string
	Status     string
	CreatedAt  time.Time
}
