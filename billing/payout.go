package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"passd/api"
	"passd/audit"
	"passd/calendar"
	"passd/journal"
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

// Payout reasons beyond the decision reasons: the city's share of a
// released invoice, and what the CPAM refused or did not pay of a claim.
const (
	ReasonTicketModerateur = "ticket_moderateur"
	ReasonCPAMRejected     = "cpam_rejected"
	ReasonCPAMPartial      = "cpam_partial"
)

// Payout is money the city owes a provider for one invoice.
type Payout struct {
	ID         int64
	InvoiceID  int64
	ProviderID int64
	ClaimID    int64 // for cpam_rejected and cpam_partial
	Amount     decimal.Decimal
	Reason     string
	Note       string // the CPAM's reason for a rejected claim
	Status     string
	BatchID    int64
	PaidOn     calendar.Date
	CreatedAt  time.Time
}

// newPayout is a payout about to be owed.
type newPayout struct {
	invoiceID, providerID, claimID int64
	amount                         decimal.Decimal
	reason, note                   string
}

// owe inserts payouts as due, posts each to the journal and audits it, in
// the caller's transaction.
func owe(ctx context.Context, tx pgx.Tx, actor audit.Actor, now time.Time, payouts []newPayout) error {
	if len(payouts) == 0 {
		return nil
	}
	n := len(payouts)
	invoices, providers, claimIDs := make([]int64, n), make([]int64, n), make([]int64, n)
	amounts := make([]decimal.Decimal, n)
	reasons, notes := make([]string, n), make([]string, n)
	for i, p := range payouts {
		invoices[i], providers[i], claimIDs[i] = p.invoiceID, p.providerID, p.claimID
		amounts[i], reasons[i], notes[i] = p.amount, p.reason, p.note
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO payouts (invoice_id, provider_id, claim_id, amount, reason, note, created_at)
		SELECT i, p, nullif(c, 0), a, r, nullif(n, ''), $7::timestamptz
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::numeric[], $5::text[], $6::text[]) AS u (i, p, c, a, r, n)
		RETURNING id, invoice_id, amount, reason`, invoices, providers, claimIDs, amounts, reasons, notes, now)
	if err != nil {
		return fmt.Errorf("billing: insert payouts: %w", err)
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
		return audit.Entry{Actor: actor, Action: "payout.create", Entity: "payout", EntityID: api.FormatID(id),
			After: map[string]any{"invoice_id": api.FormatID(invoiceID), "amount": amount.StringFixed(2), "reason": reason, "status": PayoutDue}}, nil
	})
	if err != nil {
		return fmt.Errorf("billing: insert payouts: %w", err)
	}
	if err := journal.Post(ctx, tx, now, postings...); err != nil {
		return err
	}
	return audit.Append(ctx, tx, entries...)
}

// OweForClaims makes the city owe what the CPAM refused (cpam_rejected) or
// did not pay (cpam_partial) of each claim, in the transaction that records
// the CPAM's return. notes keep the CPAM's reason.
func (s *Store) OweForClaims(ctx context.Context, tx pgx.Tx, actor audit.Actor, claimIDs []int64, amounts []decimal.Decimal, reasons, notes []string) error {
	if len(claimIDs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `
		SELECT c.id, i.id, i.provider_id FROM claims c JOIN invoices i ON i.id = c.invoice_id
		WHERE c.id = ANY($1)`, claimIDs)
	if err != nil {
		return fmt.Errorf("billing: claims' invoices: %w", err)
	}
	type ref struct{ invoice, provider int64 }
	refs := map[int64]ref{}
	for rows.Next() {
		var id int64
		var r ref
		if err := rows.Scan(&id, &r.invoice, &r.provider); err != nil {
			rows.Close()
			return fmt.Errorf("billing: claims' invoices: %w", err)
		}
		refs[id] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: claims' invoices: %w", err)
	}
	payouts := make([]newPayout, len(claimIDs))
	for i, id := range claimIDs {
		r, ok := refs[id]
		if !ok {
			return fmt.Errorf("billing: claim %d has no invoice", id)
		}
		payouts[i] = newPayout{invoiceID: r.invoice, providerID: r.provider, claimID: id, amount: amounts[i], reason: reasons[i], note: notes[i]}
	}
	return owe(ctx, tx, actor, s.now(), payouts)
}
