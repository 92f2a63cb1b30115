package claims

import (
	"time"

	"github.com/shopspring/decimal"
)

// Claim statuses.
const (
	ClaimQueued      = "queued"
	ClaimTransmitted = "transmitted"
	ClaimPaid        = "paid"
	ClaimRejected    = "rejected"
)

// ClaimStatuses lists every claim status, for filters.
var ClaimStatuses = []string{ClaimQueued, ClaimTransmitted, ClaimPaid, ClaimRejected}

// Claim is what the CPAM owes for one released invoice.
type Claim struct {
	ID        int64
	InvoiceID int64
	Amount    decimal.Decimal
	Status    string
	CreatedAt time.Time
}
