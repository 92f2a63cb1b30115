package settlement

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/audit"
	"passd/ident"
	"passd/journal"
	"passd/lifecycle"
)

// PayoutStatus is where a payout stands.
type PayoutStatus string

// Payout statuses.
const (
	PayoutDue       PayoutStatus = "due"
	PayoutHeld      PayoutStatus = "held" // put aside by finance, with a reason: never batched until released
	PayoutBatched   PayoutStatus = "batched"
	PayoutApproved  PayoutStatus = "approved"
	PayoutPaid      PayoutStatus = "paid"
	PayoutCancelled PayoutStatus = "cancelled" // no longer owed after a re-decision, before any batch
)

// PayoutAction moves a payout.
type PayoutAction string

// Payout actions, each taken with its batch.
const (
	PayoutBatch   PayoutAction = "batch"   // drafted into a batch
	PayoutUnbatch PayoutAction = "unbatch" // its draft or submitted batch was cancelled
	PayoutApprove PayoutAction = "approve" // its batch was approved
	PayoutPay     PayoutAction = "pay"     // its batch was paid
	PayoutCancel  PayoutAction = "cancel"  // a re-decision no longer owes it, or a void was confirmed
	PayoutHold    PayoutAction = "hold"    // finance puts it aside
	PayoutRelease PayoutAction = "release" // finance takes it back
)

// PayoutMachine is the life of a payout; the trigger payouts_forward_only holds
// the same table.
var PayoutMachine = lifecycle.New([]PayoutStatus{PayoutDue, PayoutHeld, PayoutBatched, PayoutApproved, PayoutPaid, PayoutCancelled},
	lifecycle.Edge[PayoutStatus, PayoutAction]{Action: PayoutBatch, From: []PayoutStatus{PayoutDue}, To: PayoutBatched},
	lifecycle.Edge[PayoutStatus, PayoutAction]{Action: PayoutUnbatch, From: []PayoutStatus{PayoutBatched}, To: PayoutDue},
	lifecycle.Edge[PayoutStatus, PayoutAction]{Action: PayoutApprove, From: []PayoutStatus{PayoutBatched}, To: PayoutApproved},
	lifecycle.Edge[PayoutStatus, PayoutAction]{Action: PayoutPay, From: []PayoutStatus{PayoutApproved}, To: PayoutPaid},
	lifecycle.Edge[PayoutStatus, PayoutAction]{Action: PayoutCancel, From: []PayoutStatus{PayoutDue, PayoutHeld}, To: PayoutCancelled},
	lifecycle.Edge[PayoutStatus, PayoutAction]{Action: PayoutHold, From: []PayoutStatus{PayoutDue}, To: PayoutHeld},
	lifecycle.Edge[PayoutStatus, PayoutAction]{Action: PayoutRelease, From: []PayoutStatus{PayoutHeld}, To: PayoutDue},
)

// PayoutStatuses lists every payout status, for filters.
var PayoutStatuses = PayoutMachine.States()

// Reason is why money goes where it goes: an invoice's decision reason and
// a payout's reason share this one vocabulary.
type Reason string

// Reasons.
const (
	RightsOpened     Reason = "rights_opened"     // invoice released to the CPAM
	RightsRefused    Reason = "rights_refused"    // the city pays all
	NotCovered       Reason = "not_covered"       // rights opened, care date outside them: the city pays all
	DeadlinePassed   Reason = "deadline_passed"   // no covering rights in time: the city pays all
	Prescribed       Reason = "prescribed"        // past the CPAM's two-year limit: the city pays all
	Withdrawn        Reason = "withdrawn"         // cancelled by its provider
	Voided           Reason = "voided"            // cancelled by the coordinator
	TicketModerateur Reason = "ticket_moderateur" // the city's share of a released invoice
	CPAMRejected     Reason = "cpam_rejected"     // the CPAM refused the claim: the city pays it
	CPAMPartial      Reason = "cpam_partial"      // the CPAM paid part of the claim: the city pays the rest
)

// Reasons lists every reason, invoice decisions first.
var Reasons = []Reason{RightsOpened, RightsRefused, NotCovered, DeadlinePassed, Prescribed, Withdrawn, Voided,
	TicketModerateur, CPAMRejected, CPAMPartial}

// Owed is a payout about to be owed. ClaimID is set for CPAMRejected and
// CPAMPartial only.
type Owed struct {
	InvoiceID, ProviderID, ClaimID int64
	Amount                         decimal.Decimal
	Reason                         Reason
	Note                           string // the CPAM's reason for a rejected claim
	OutcomeNo                      int    // the invoice outcome that owes it; 1 when 0
}

// Owe inserts payouts as due, posts each to the journal and audits it, in
// the caller's transaction.
func Owe(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, payouts []Owed) error {
	if len(payouts) == 0 {
		return nil
	}
	n := len(payouts)
	invoices, providers, claimIDs := make([]int64, n), make([]int64, n), make([]int64, n)
	amounts := make([]decimal.Decimal, n)
	reasons, notes := make([]string, n), make([]string, n)
	outcomes := make([]int, n)
	for i, p := range payouts {
		invoices[i], providers[i], claimIDs[i] = p.InvoiceID, p.ProviderID, p.ClaimID
		amounts[i], reasons[i], notes[i], outcomes[i] = p.Amount, string(p.Reason), p.Note, max(p.OutcomeNo, 1)
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO payouts (invoice_id, provider_id, claim_id, amount, reason, note, created_at, outcome_no)
		SELECT i, p, nullif(c, 0), a, r, nullif(n, ''), $7::timestamptz, o
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::numeric[], $5::text[], $6::text[], $8::int[]) AS u (i, p, c, a, r, n, o)
		RETURNING id, invoice_id, amount, reason`, invoices, providers, claimIDs, amounts, reasons, notes, now, outcomes)
	if err != nil {
		return fmt.Errorf("payout: insert: %w", err)
	}
	postings := make([]journal.Posting, 0, n)
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Entry, error) {
		var id, invoiceID int64
		var amount decimal.Decimal
		var reason string
		if err := r.Scan(&id, &invoiceID, &amount, &reason); err != nil {
			return audit.Entry{}, err
		}
		postings = append(postings, journal.Posting{Movement: journal.PayoutDue, Amount: amount, InvoiceID: invoiceID, PayoutID: id})
		return audit.Entry{Actor: actor, Action: "payout.create", Entity: "payout", EntityID: ident.FormatID(id),
			After: map[string]any{"invoice_id": ident.FormatID(invoiceID), "amount": amount.StringFixed(2), "reason": reason, "status": string(PayoutDue)}}, nil
	})
	if err != nil {
		return fmt.Errorf("payout: insert: %w", err)
	}
	if err := journal.Post(ctx, tx, now, postings...); err != nil {
		return err
	}
	return audit.Append(ctx, tx, entries...)
}

// ShortClaim is what the CPAM did not pay of one claim: all of it
// (CPAMRejected) or the rest (CPAMPartial).
type ShortClaim struct {
	ClaimID int64
	Amount  decimal.Decimal
	Reason  Reason
	Note    string
}

// OweForClaims makes the city owe what the CPAM refused or did not pay of
// each claim, in the transaction that records the CPAM's return: the
// payout goes to the claim's invoice's provider.
func OweForClaims(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, short []ShortClaim) error {
	if len(short) == 0 {
		return nil
	}
	ids := make([]int64, len(short))
	for i, s := range short {
		ids[i] = s.ClaimID
	}
	rows, err := tx.Query(ctx, `
		SELECT c.id, i.id, i.provider_id FROM claims c JOIN invoices i ON i.id = c.invoice_id AND i.tenant_id = passd_tenant()
		WHERE c.id = ANY($1) AND c.tenant_id = passd_tenant()`, ids)
	if err != nil {
		return fmt.Errorf("payout: claims' invoices: %w", err)
	}
	type ref struct{ invoice, provider int64 }
	refs := map[int64]ref{}
	for rows.Next() {
		var id int64
		var r ref
		if err := rows.Scan(&id, &r.invoice, &r.provider); err != nil {
			rows.Close()
			return fmt.Errorf("payout: claims' invoices: %w", err)
		}
		refs[id] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("payout: claims' invoices: %w", err)
	}
	owed := make([]Owed, len(short))
	for i, s := range short {
		r, ok := refs[s.ClaimID]
		if !ok {
			return fmt.Errorf("payout: claim %d has no invoice", s.ClaimID)
		}
		owed[i] = Owed{InvoiceID: r.invoice, ProviderID: r.provider, ClaimID: s.ClaimID, Amount: s.Amount, Reason: s.Reason, Note: s.Note}
	}
	return Owe(ctx, tx, actor, now, owed)
}
