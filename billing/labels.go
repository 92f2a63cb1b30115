package billing

// French words for what finance staff read: the spreadsheets of this
// package and the web pages share them, so that a status reads the same
// in both. Payouts' statuses and reasons have theirs in package payout.
var (
	invoiceStatusFR = map[InvoiceStatus]string{StatusPending: "en attente", StatusReleased: "transmise à la CPAM",
		StatusCityDue: "à payer par la ville", StatusCancelled: "annulée"}
	batchStatusFR = map[BatchStatus]string{BatchDraft: "brouillon", BatchSubmitted: "soumis", BatchApproved: "approuvé",
		BatchPaid: "payé", BatchCancelled: "annulé"}
)

// Label is an invoice's status in French.
func (s InvoiceStatus) Label() string { return labelOr(invoiceStatusFR, s) }

// Label is a payout batch's status in French.
func (s BatchStatus) Label() string { return labelOr(batchStatusFR, s) }

func labelOr[K ~string](table map[K]string, k K) string {
	if fr, ok := table[k]; ok {
		return fr
	}
	return string(k)
}
