package settlement

import "passd/lifecycle"

// French words for what people read: the pages and the spreadsheets share
// them, so that a status or a reason reads the same everywhere. An unknown
// value reads as itself.
var (
	statusFR = lifecycle.Labels[PayoutStatus]{PayoutDue: "à payer", PayoutHeld: "suspendu", PayoutBatched: "dans un lot", PayoutApproved: "approuvé", PayoutPaid: "payé", PayoutCancelled: "annulé"}
	reasonFR = lifecycle.Labels[Reason]{
		RightsOpened: "droits ouverts", RightsRefused: "droits refusés", NotCovered: "soins hors de la période des droits",
		DeadlinePassed: "échéance dépassée", Prescribed: "prescription de deux ans", Withdrawn: "retirée par l'effecteur",
		Voided: "annulée par la coordination", TicketModerateur: "ticket modérateur", CPAMRejected: "rejet CPAM",
		CPAMPartial: "paiement partiel CPAM",
	}
)

// Label is the status in French.
func (s PayoutStatus) Label() string { return statusFR.Of(s) }

// Label is the reason in French.
func (r Reason) Label() string { return reasonFR.Of(r) }

var (
	claimStatusFR = lifecycle.Labels[ClaimStatus]{ClaimQueued: "en attente d'envoi", ClaimTransmitted: "transmise", ClaimPaid: "payée",
		ClaimRejected: "rejetée", ClaimCancelled: "annulée"}
	claimBatchStatusFR = lifecycle.Labels[ClaimBatchStatus]{ClaimBatchOpen: "en attente du retour", ClaimBatchSettled: "soldé"}
)

// Label is the claim status in French.
func (s ClaimStatus) Label() string { return claimStatusFR.Of(s) }

// Label is the claim batch status in French.
func (s ClaimBatchStatus) Label() string { return claimBatchStatusFR.Of(s) }
