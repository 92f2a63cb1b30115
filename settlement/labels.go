package settlement

// French words for what people read: the pages and the spreadsheets share
// them, so that a status or a reason reads the same everywhere. An unknown
// value reads as itself.
var (
	statusFR = map[PayoutStatus]string{PayoutDue: "à payer", PayoutBatched: "dans un lot", PayoutApproved: "approuvé", PayoutPaid: "payé"}
	reasonFR = map[Reason]string{
		RightsOpened: "droits ouverts", RightsRefused: "droits refusés", NotCovered: "soins hors de la période des droits",
		DeadlinePassed: "échéance dépassée", Prescribed: "prescription de deux ans", Withdrawn: "retirée par l'effecteur",
		Voided: "annulée par la coordination", TicketModerateur: "ticket modérateur", CPAMRejected: "rejet CPAM",
		CPAMPartial: "paiement partiel CPAM",
	}
)

// Label is the status in French.
func (s PayoutStatus) Label() string { return labelOr(statusFR, s) }

// Label is the reason in French.
func (r Reason) Label() string { return labelOr(reasonFR, r) }

func labelOr[K ~string](table map[K]string, k K) string {
	if fr, ok := table[k]; ok {
		return fr
	}
	return string(k)
}

var (
	claimStatusFR = map[ClaimStatus]string{ClaimQueued: "en attente d'envoi", ClaimTransmitted: "transmise", ClaimPaid: "payée",
		ClaimRejected: "rejetée"}
	claimBatchStatusFR = map[ClaimBatchStatus]string{ClaimBatchOpen: "en attente du retour", ClaimBatchSettled: "soldé"}
)

// Label is the claim status in French.
func (s ClaimStatus) Label() string { return labelOr(claimStatusFR, s) }

// Label is the claim batch status in French.
func (s ClaimBatchStatus) Label() string { return labelOr(claimBatchStatusFR, s) }
