package billing

// French words for what finance staff read: the spreadsheets of this
// package and the web pages share them, so that a status reads the same
// in both. An unknown value reads as "".
var (
	payoutReasonFR = map[string]string{
		ReasonTicketModerateur: "ticket modérateur", ReasonRightsRefused: "droits refusés", ReasonNotCovered: "soins hors droits",
		ReasonDeadlinePassed: "délai dépassé", ReasonPrescribed: "prescription", ReasonCPAMRejected: "rejet CPAM",
		ReasonCPAMPartial: "paiement partiel CPAM",
	}
	payoutStatusFR = map[string]string{PayoutDue: "à payer", PayoutBatched: "dans un lot", PayoutApproved: "approuvé", PayoutPaid: "payé"}
	batchStatusFR  = map[string]string{BatchDraft: "brouillon", BatchSubmitted: "soumis", BatchApproved: "approuvé", BatchPaid: "payé",
		BatchCancelled: "annulé"}
)

// PayoutReasonLabel is why the city owes a payout, in French.
func PayoutReasonLabel(reason string) string { return payoutReasonFR[reason] }

// PayoutStatusLabel is a payout's status in French.
func PayoutStatusLabel(status string) string { return payoutStatusFR[status] }

// BatchStatusLabel is a payout batch's status in French.
func BatchStatusLabel(status string) string { return batchStatusFR[status] }
