package settlement

import "passd/lifecycle"

// ClaimStatus is where a claim to the CPAM stands.
type ClaimStatus string

// Claim statuses.
const (
	ClaimQueued      ClaimStatus = "queued"      // waiting for the next claim batch
	ClaimTransmitted ClaimStatus = "transmitted" // sent in a batch, no answer yet
	ClaimPaid        ClaimStatus = "paid"        // the CPAM paid it, in full or in part
	ClaimRejected    ClaimStatus = "rejected"    // the CPAM refused it: the city pays
	ClaimCancelled   ClaimStatus = "cancelled"   // no longer owed after a rights correction (sent: a cancellation line follows)
)

// ClaimAction moves a claim.
type ClaimAction string

// Claim actions.
const (
	ClaimTransmit ClaimAction = "transmit" // put in a claim batch
	ClaimPay      ClaimAction = "pay"      // the CPAM's return pays it
	ClaimReject   ClaimAction = "reject"   // the CPAM's return rejects it
	ClaimCancel   ClaimAction = "cancel"   // a re-decision no longer owes it
)

// ClaimMachine is the life of a claim; the trigger claims_forward_only
// holds the same table.
var ClaimMachine = lifecycle.New([]ClaimStatus{ClaimQueued, ClaimTransmitted, ClaimPaid, ClaimRejected, ClaimCancelled},
	lifecycle.Edge[ClaimStatus, ClaimAction]{Action: ClaimTransmit, From: []ClaimStatus{ClaimQueued}, To: ClaimTransmitted},
	lifecycle.Edge[ClaimStatus, ClaimAction]{Action: ClaimPay, From: []ClaimStatus{ClaimTransmitted}, To: ClaimPaid},
	lifecycle.Edge[ClaimStatus, ClaimAction]{Action: ClaimReject, From: []ClaimStatus{ClaimTransmitted}, To: ClaimRejected},
	lifecycle.Edge[ClaimStatus, ClaimAction]{Action: ClaimCancel, From: []ClaimStatus{ClaimQueued, ClaimTransmitted}, To: ClaimCancelled},
)

// ClaimStatuses lists every claim status, for filters.
var ClaimStatuses = ClaimMachine.States()

// Answered reports whether the CPAM has answered the claim.
func (s ClaimStatus) Answered() bool { return s == ClaimPaid || s == ClaimRejected }

// ClaimBatchStatus is where a claim batch stands. It is not stored: a
// batch is open while one of its claims awaits the CPAM's answer.
type ClaimBatchStatus string

// Claim batch statuses.
const (
	ClaimBatchOpen    ClaimBatchStatus = "open"
	ClaimBatchSettled ClaimBatchStatus = "settled"
)

// ClaimBatchAction moves a claim batch.
type ClaimBatchAction string

// ClaimBatchSettle is the CPAM's return answering a batch's last claim.
const ClaimBatchSettle ClaimBatchAction = "settle"

// ClaimBatchMachine is the life of a claim batch. A return may be imported
// again into a settled batch (it changes nothing); what the database holds
// is each claim's own machine, ClaimMachine.
var ClaimBatchMachine = lifecycle.New([]ClaimBatchStatus{ClaimBatchOpen, ClaimBatchSettled},
	lifecycle.Edge[ClaimBatchStatus, ClaimBatchAction]{Action: ClaimBatchSettle, From: []ClaimBatchStatus{ClaimBatchOpen}, To: ClaimBatchSettled},
)

// ClaimBatchStatuses lists every claim batch status, for filters.
var ClaimBatchStatuses = ClaimBatchMachine.States()

// ClaimBatchStatusOf is the status of a batch with transmitted claims still
// awaiting an answer.
func ClaimBatchStatusOf(transmitted int) ClaimBatchStatus {
	if transmitted > 0 {
		return ClaimBatchOpen
	}
	return ClaimBatchSettled
}

// Allowed reports whether a claim batch in s may take action a.
func (s ClaimBatchStatus) Allowed(a ClaimBatchAction) bool { return ClaimBatchMachine.Allowed(s, a) }
