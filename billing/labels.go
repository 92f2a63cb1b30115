package billing

import "passd/lifecycle"

// French words for what finance staff read: the spreadsheets of this
// package and the web pages share them, so that a status reads the same
// in both. Payouts' and claims' statuses and the reasons have theirs in
// package settlement.
var (
	invoiceStatusFR = lifecycle.Labels[InvoiceStatus]{StatusPending: "en attente", StatusReleased: "transmise à la CPAM",
		StatusCityDue: "à payer par la ville", StatusCancelled: "annulée"}
	batchStatusFR = lifecycle.Labels[BatchStatus]{BatchDraft: "brouillon", BatchSubmitted: "soumis", BatchApproved: "approuvé",
		BatchPaid: "payé", BatchCancelled: "annulé"}
)

// Label is an invoice's status in French.
func (s InvoiceStatus) Label() string { return invoiceStatusFR.Of(s) }

// Label is a payout batch's status in French.
func (s BatchStatus) Label() string { return batchStatusFR.Of(s) }
